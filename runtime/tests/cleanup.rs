//! Cleanup of what runs created (`tug::policy::cleanup`) against the real daemon: `remove_run` removes
//! exactly a run's objects; `sweep_orphans` removes those of recorded runs of dead owners on this host
//! and nothing else.

mod common;

use std::collections::BTreeSet;

use serde_json::{json, Value};
use tug::engine::{segment, Client, Request};
use tug::policy::cleanup::{
    self, current_owner, new_run_id, remove_run, sweep_orphans, this_host, Kind, LABEL_HOST, LABEL_KEEP,
    LABEL_OWNER, LABEL_PLUGIN, LABEL_RUN,
};
use tug::policy::run_records::RunRecord;

use common::{client, create, start, Container, TEST_IMAGE};

/// Marks every object these tests create, so the guard can find what a failed test left.
const TEST_LABEL: &str = "tug.test";

/// Removes, when dropped, every container, network, volume and image labelled `tug.test=<marker>`.
struct Leftovers {
    client: Client,
    marker: String,
}

impl Leftovers {
    fn new(client: &Client) -> Self {
        Leftovers {
            client: client.clone(),
            marker: format!("cleanup-{}", new_run_id()),
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let config = self.client.config().clone();
        let filters = json!({ "label": [format!("{TEST_LABEL}={}", self.marker)] }).to_string();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let c = Client::new(config).unwrap();
                let q = |r: Request| r.query("filters", &filters);
                let ids = |v: Value, key: &str| -> Vec<String> {
                    v.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|o| Some(o[key].as_str()?.to_owned()))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                if let Ok(v) = c
                    .json(q(Request::get("/containers/json").query("all", true)))
                    .await
                {
                    for id in ids(v, "Id") {
                        let _ = c
                            .call(
                                Request::delete(format!("/containers/{}", segment(&id)))
                                    .query("force", true)
                                    .query("v", true),
                            )
                            .await;
                    }
                }
                if let Ok(v) = c.json(q(Request::get("/networks"))).await {
                    for id in ids(v, "Id") {
                        let _ = c
                            .call(Request::delete(format!("/networks/{}", segment(&id))))
                            .await;
                    }
                }
                if let Ok(v) = c.json::<Value>(q(Request::get("/volumes"))).await {
                    for id in ids(v["Volumes"].clone(), "Name") {
                        let _ = c
                            .call(Request::delete(format!("/volumes/{}", segment(&id))))
                            .await;
                    }
                }
                if let Ok(v) = c.json(q(Request::get("/images/json"))).await {
                    for id in ids(v, "Id") {
                        let _ = c
                            .call(Request::delete(format!("/images/{}", segment(&id))).query("force", true))
                            .await;
                    }
                }
            });
        })
        .join()
        .unwrap();
    }
}

/// The labels of a fake run.
fn run_labels(marker: &str, run: &str, owner: &str, host: &str, keep: bool) -> Value {
    let mut l = json!({
        LABEL_RUN: run,
        LABEL_PLUGIN: "cleanup-test",
        LABEL_OWNER: owner,
        LABEL_HOST: host,
        TEST_LABEL: marker,
    });
    if keep {
        l[LABEL_KEEP] = json!("1");
    }
    l
}

/// A dead owner: no process has pid 0x7fffffff.
fn dead_owner() -> String {
    format!("{}:12345", 0x7fff_ffff)
}

async fn network(client: &Client, name: &str, labels: &Value) -> String {
    let v: Value = client
        .json(
            Request::post("/networks/create")
                .json(&json!({ "Name": name, "Labels": labels }))
                .unwrap(),
        )
        .await
        .expect("create network");
    v["Id"].as_str().expect("Id").to_owned()
}

async fn volume(client: &Client, name: &str, labels: &Value) -> String {
    let v: Value = client
        .json(
            Request::post("/volumes/create")
                .json(&json!({ "Name": name, "Labels": labels }))
                .unwrap(),
        )
        .await
        .expect("create volume");
    v["Name"].as_str().expect("Name").to_owned()
}

/// An image committed from a container, with a run's labels as an image carries them (`tug.image.…`,
/// the container's own `tug.…` keys emptied).
async fn image(client: &Client, container: &str, repo: &str, labels: &Value) -> String {
    let mut image_labels = serde_json::Map::new();
    for (k, v) in labels.as_object().unwrap() {
        match k.strip_prefix("tug.") {
            Some(rest) => {
                image_labels.insert(format!("tug.image.{rest}"), v.clone());
                image_labels.insert(k.clone(), json!(""));
            }
            None => {
                image_labels.insert(k.clone(), v.clone());
            }
        }
    }
    let labels = &Value::Object(image_labels);
    let v: Value = client
        .json(
            Request::post("/commit")
                .query("container", container)
                .query("repo", repo)
                .query("tag", "latest")
                .json(&json!({ "Image": TEST_IMAGE, "Labels": labels }))
                .unwrap(),
        )
        .await
        .expect("commit image");
    v["Id"].as_str().expect("Id").to_owned()
}

/// A run's objects: a running container, a created one, a network and a volume.
struct RunObjects {
    running: Container,
    created: Container,
    network: String,
    volume: String,
}

async fn make_run(client: &Client, labels: &Value, name: &str) -> RunObjects {
    let running = create(client, &["sleep", "60"], json!({ "Labels": labels })).await;
    start(client, &running.id).await;
    let created = create(client, &["true"], json!({ "Labels": labels })).await;
    RunObjects {
        running,
        created,
        network: network(client, &format!("{name}-net"), labels).await,
        volume: volume(client, &format!("{name}-vol"), labels).await,
    }
}

async fn exists(client: &Client, kind: Kind, id: &str) -> bool {
    let path = match kind {
        Kind::Container => format!("/containers/{}/json", segment(id)),
        Kind::Network => format!("/networks/{}", segment(id)),
        Kind::Volume => format!("/volumes/{}", segment(id)),
        Kind::Image => format!("/images/{}/json", segment(id)),
        Kind::Service => format!("/services/{}", segment(id)),
        Kind::Secret => format!("/secrets/{}", segment(id)),
        Kind::Config => format!("/configs/{}", segment(id)),
    };
    match client.call(Request::get(path)).await {
        Ok(_) => true,
        Err(tug::engine::Error::NotFound { .. }) => false,
        Err(e) => panic!("inspect {kind} {id}: {e}"),
    }
}

async fn all_exist(client: &Client, objects: &RunObjects) -> bool {
    exists(client, Kind::Container, &objects.running.id).await
        && exists(client, Kind::Container, &objects.created.id).await
        && exists(client, Kind::Network, &objects.network).await
        && exists(client, Kind::Volume, &objects.volume).await
}

async fn none_exist(client: &Client, objects: &RunObjects) -> bool {
    !exists(client, Kind::Container, &objects.running.id).await
        && !exists(client, Kind::Container, &objects.created.id).await
        && !exists(client, Kind::Network, &objects.network).await
        && !exists(client, Kind::Volume, &objects.volume).await
}

fn set<'a>(ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    ids.into_iter().map(str::to_owned).collect()
}

#[tokio::test]
async fn remove_run_removes_exactly_the_runs_objects() {
    let client = client();
    let leftovers = Leftovers::new(&client);
    let marker = leftovers.marker.clone();
    let run = new_run_id();
    // Owned by this (live) process, so a concurrent sweep leaves it alone.
    let labels = run_labels(&marker, &run, &current_owner(), this_host(), false);
    let objects = make_run(&client, &labels, &format!("tug-cleanup-{run}")).await;
    let image = image(
        &client,
        &objects.created.id,
        &format!("tug-test/cleanup-{run}"),
        &labels,
    )
    .await;
    // Another run's container, and one with no run at all.
    let other = create(
        &client,
        &["true"],
        json!({ "Labels": run_labels(&marker, &new_run_id(), &current_owner(), this_host(), false) }),
    )
    .await;
    let unlabelled = create(&client, &["true"], json!({ "Labels": { TEST_LABEL: marker } })).await;
    assert!(all_exist(&client, &objects).await);

    let report = remove_run(&client, &run).await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(
        set(report.removed_ids(Kind::Container)),
        set([objects.running.id.as_str(), objects.created.id.as_str()])
    );
    assert_eq!(
        set(report.removed_ids(Kind::Network)),
        set([objects.network.as_str()])
    );
    assert_eq!(
        set(report.removed_ids(Kind::Volume)),
        set([objects.volume.as_str()])
    );
    assert_eq!(set(report.removed_ids(Kind::Image)), set([image.as_str()]));
    assert!(report.removed.iter().all(|r| r.run == run));
    assert_eq!(
        report.to_string(),
        "removed 2 containers, 1 network, 1 volume, 1 image"
    );
    assert!(none_exist(&client, &objects).await);
    assert!(!exists(&client, Kind::Image, &image).await);
    assert!(exists(&client, Kind::Container, &other.id).await);
    assert!(exists(&client, Kind::Container, &unlabelled.id).await);

    // Again: nothing left to do.
    let again = remove_run(&client, &run).await;
    assert!(again.is_clean() && again.removed.is_empty(), "{again}");
}

#[tokio::test]
async fn sweep_removes_only_orphans_of_this_host() {
    let client = client();
    let leftovers = Leftovers::new(&client);
    let marker = leftovers.marker.clone();
    let (host, dead, live) = (this_host(), dead_owner(), current_owner());

    let orphan_run = new_run_id();
    let orphan = make_run(
        &client,
        &run_labels(&marker, &orphan_run, &dead, host, false),
        &format!("tug-cleanup-{orphan_run}"),
    )
    .await;
    // A reused pid: this process's pid with another start time is a dead owner too.
    let (pid, start) = cleanup::parse_owner(&live).unwrap();
    let reused_run = new_run_id();
    let reused = create(
        &client,
        &["true"],
        json!({ "Labels": run_labels(&marker, &reused_run, &format!("{pid}:{}", start + 1), host, false) }),
    )
    .await;

    let live_run = new_run_id();
    let alive = make_run(
        &client,
        &run_labels(&marker, &live_run, &live, host, false),
        &format!("tug-cleanup-{live_run}"),
    )
    .await;
    let kept_run = new_run_id();
    let kept = make_run(
        &client,
        &run_labels(&marker, &kept_run, &dead, host, true),
        &format!("tug-cleanup-{kept_run}"),
    )
    .await;
    let remote_run = new_run_id();
    let remote = make_run(
        &client,
        &run_labels(&marker, &remote_run, &dead, "some-other-host.example", false),
        &format!("tug-cleanup-{remote_run}"),
    )
    .await;

    // Each run was recorded as begun, as `tug run` records its own (the sweep takes only recorded runs).
    let engines = [client.config().endpoint.to_string()];
    let record = |run: &str, owner: &str, host: &str| {
        RunRecord::begin(
            &cleanup::RunIdentity {
                run_id: run.to_owned(),
                plugin: "cleanup-test".into(),
                owner: owner.to_owned(),
                host: host.to_owned(),
                keep: false,
            },
            &engines,
        )
    };
    let records = vec![
        record(&orphan_run, &dead, host),
        record(&reused_run, &format!("{pid}:{}", start + 1), host),
        record(&live_run, &live, host),
        record(&kept_run, &dead, host),
        record(&remote_run, &dead, "some-other-host.example"),
    ];
    let report = sweep_orphans(&client).await;
    // Asserted on what remains, not on who removed it: another tug on this host may sweep the same
    // orphans first (and other orphans of this host may be in this report).
    for r in &report.removed {
        assert!(
            r.run != live_run && r.run != kept_run && r.run != remote_run,
            "{r:?}"
        );
    }
    assert!(none_exist(&client, &orphan).await);
    assert!(!exists(&client, Kind::Container, &reused.id).await);
    assert!(all_exist(&client, &alive).await, "a live owner's objects stay");
    assert!(all_exist(&client, &kept).await, "--keep objects stay");
    assert!(all_exist(&client, &remote).await, "another host's objects stay");

    // What the sweep left is removed by run id (as `tug` would for its own runs).
    for run in [&live_run, &kept_run, &remote_run] {
        let r = remove_run(&client, run).await;
        assert!(r.is_clean(), "{r}");
        assert_eq!(r.removed.len(), 4, "{r}");
    }
    assert!(none_exist(&client, &alive).await);
    assert!(none_exist(&client, &kept).await);
    assert!(none_exist(&client, &remote).await);
    for r in records {
        r.finish();
    }
}
