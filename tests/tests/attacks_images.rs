//! The image attacks, from inside the `attack` plugin against the real daemon: images the policy does not
//! let the run see cannot be tagged, saved or pruned; no image write moves a name that is another's
//! (tag, build, commit, import, load); every image a run makes carries its labels, `tug.keep` included,
//! whatever its Dockerfile or tar says, and goes when the run ends; builds run under the container
//! ceilings; a registry image's config cannot smuggle `tug.*` labels by spelling.

use serde_json::{json, Value};
use tug::engine::{Client, Request};
use tug_e2e::attack::{attack, case, client, named, policy, rt};

fn tag() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}-{}", std::process::id(), now.subsec_nanos())
}

/// An image of nobody's run under `name`: a one-file import, so its id is its own.
fn victim_image(rt: &tokio::runtime::Runtime, c: &Client, name: &str) -> String {
    let mut tar = tar::Builder::new(Vec::new());
    let data = format!("victim {name}\n");
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    tar.append_data(&mut header, "victim.txt", data.as_bytes())
        .unwrap();
    let body = tar.into_inner().unwrap();
    let (repo, tag) = name.rsplit_once(':').unwrap();
    let req = Request::post("/images/create")
        .query("fromSrc", "-")
        .query("repo", repo)
        .query("tag", tag)
        .content_type("application/x-tar");
    rt.block_on(async {
        let upload = c.upload(req).await.unwrap();
        upload.send_all(&body[..]).await.unwrap()
    });
    image_id(rt, c, name).expect("the victim image was made")
}

/// An image of nobody's run with no name at all (an import without a repository): its id.
fn dangling_image(rt: &tokio::runtime::Runtime, c: &Client) -> String {
    let mut tar = tar::Builder::new(Vec::new());
    let data = format!("dangling {}\n", tag());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    tar.append_data(&mut header, "dangling.txt", data.as_bytes())
        .unwrap();
    let body = tar.into_inner().unwrap();
    let req = Request::post("/images/create")
        .query("fromSrc", "-")
        .content_type("application/x-tar");
    let answer = rt.block_on(async {
        let upload = c.upload(req).await.unwrap();
        upload.send_all(&body[..]).await.unwrap()
    });
    let last = serde_json::Deserializer::from_slice(&answer)
        .into_iter::<Value>()
        .filter_map(Result::ok)
        .last()
        .unwrap();
    last["status"].as_str().unwrap().to_owned()
}

fn image_id(rt: &tokio::runtime::Runtime, c: &Client, name: &str) -> Option<String> {
    let v: Value = rt
        .block_on(c.json(Request::get(format!("/images/{name}/json"))))
        .ok()?;
    v["Id"].as_str().map(str::to_owned)
}

fn remove_image(rt: &tokio::runtime::Runtime, c: &Client, name: &str) {
    let _ = rt.block_on(c.call(Request::delete(format!("/images/{name}")).query("force", true)));
}

/// A policy that writes images but sees only `tug-test/*`: images outside it cannot be tagged into it,
/// saved, pruned or removed.
#[test]
fn images_the_run_may_not_see_are_out_of_its_reach() {
    let (rt, c) = (rt(), client());
    let secret = format!("tug-victim/secret-{}:1", tag());
    let secret_id = victim_image(&rt, &c, &secret);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(
        dir.path(),
        "untrusted",
        "images-write",
        &[("images = \"read\"", "images = \"write\"")],
    );
    let stolen = format!("tug-test/stolen-{}:1", tag());
    let cases = vec![
        case("tag", format!("{secret}=>{stolen}")),
        case("save-all", &secret),
        case("prune-dup", "images"),
        case("remove-image", &secret),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), policy.display().to_string()],
        &cases,
    );
    let still = image_id(&rt, &c, &secret);
    let stolen_made = image_id(&rt, &c, &stolen);
    remove_image(&rt, &c, &secret);
    a.expect(&[
        ("retag an image the policy does not allow", "denied images name"),
        ("export it", "denied images name"),
        ("prune with a duplicate filter key", "allowed"),
        ("remove it", "denied ownership name"),
    ]);
    assert_eq!(still, Some(secret_id), "the image survived");
    assert_eq!(stolen_made, None, "no name was made for it");
}

/// Under `ci` (any image, image writes): a name that is another's is never moved — not by a tag, a
/// build, a commit, an import or a load — and the plugin may not remove it; a name the run made (a
/// build, an import, a load) carries the run's labels (as `tug.image.…`, `tug.image.keep=0`; the
/// run's container keys empty, so no container of the image is the run's), whatever the Dockerfile or
/// the tar said, and is gone when the run ends.
#[test]
fn image_writes_never_move_anothers_name_and_every_image_is_the_runs() {
    let (rt, c) = (rt(), client());
    let t = tag();
    let victim = format!("tug-test/victim-{t}:1");
    let victim_id = victim_image(&rt, &c, &victim);
    let built = format!("tug-test/built-{t}:1");
    let imported = format!("tug-test/imported-{t}:1");
    let loaded = format!("tug-test/loaded-{t}:1");
    let tagged = format!("tug-test/tagged-{t}:1");
    let from = "FROM tug-test/busybox:latest";
    let cases = vec![
        case("tag", format!("tug-test/busybox:latest=>{victim}")),
        case("build", format!("{victim}|{from}")),
        case("commit", &victim),
        case("import", &victim),
        case("load-as", format!("{victim}|{{}}")),
        case("import-drop", &victim),
        case("remove-image", &victim),
        // What the run may make, and what it carries.
        case(
            "build",
            format!("{built}|{from}\nLABEL tug.keep=1 tug.run=someone-else"),
        ),
        case("image-labels", &built),
        case("create-show", json!({ "Image": built }).to_string()),
        case("import", &imported),
        case("image-labels", &imported),
        case(
            "load-as",
            format!("{loaded}|{}", json!({"tug.keep": "1", "tug.run": "someone-else"})),
        ),
        case("image-labels", &loaded),
        case("remove-image", &loaded),
        // A name of the run's own on an image it did not make: taken off when the run ends.
        case("tag", format!("tug-test/busybox:latest=>{tagged}")),
        // A name that reads as the victim's short id, however spelled.
        case("tag", format!("tug-test/busybox:latest=>{}", &victim_id[7..19])),
        case(
            "tag",
            format!("tug-test/busybox:latest=>docker.io/{}", &victim_id[7..19]),
        ),
        case(
            "tag",
            format!(
                "tug-test/busybox:latest=>index.docker.io/library/{}:latest",
                &victim_id[7..19]
            ),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let name = format!("attack-images-{t}");
    let wasm = named(dir.path(), &name);
    let a = attack(&wasm, &["--policy".into(), "ci".into()], &cases);
    let victim_now = image_id(&rt, &c, &victim);
    let left: Vec<Option<String>> = [&built, &imported, &loaded, &tagged]
        .iter()
        .map(|n| image_id(&rt, &c, n))
        .collect();
    let base = image_id(&rt, &c, "tug-test/busybox:latest");
    remove_image(&rt, &c, &victim);
    a.expect(&[
        ("tag onto it", "denied images.overwrite repo"),
        ("build as it", "denied images.overwrite t[0]"),
        ("commit as it", "denied images.overwrite repo"),
        ("import as it", "denied images.overwrite repo"),
        ("load a tar naming it", "denied images.overwrite RepoTags[0]"),
        ("an import dropped half way", "denied images.overwrite repo"),
        ("remove it", "denied ownership name"),
        ("build one's own", "allowed"),
        ("its labels", "allowed"),
        ("a container of it", "allowed"),
        ("import one's own", "allowed"),
        ("its labels", "allowed"),
        ("load one's own", "allowed"),
        ("its labels", "allowed"),
        ("remove what the run loaded", "allowed"),
        ("tag a shared image", "allowed"),
        ("a name that is the victim's short id", "denied images.name repo"),
        ("the same under docker.io", "denied images.name repo"),
        (
            "the same under index.docker.io/library",
            "denied images.name repo",
        ),
    ]);
    assert_eq!(
        victim_now,
        Some(victim_id),
        "the victim's name still names its image"
    );
    for n in [8, 11, 13] {
        // The run's labels, as an image carries them: under `tug.image.`, and the run's own keys empty,
        // so that a container anyone makes of the image is not the run's.
        let labels: Value = serde_json::from_str(a.show(n)).unwrap();
        assert_eq!(labels["tug.image.keep"], "0", "case {n}: {labels}");
        assert!(
            labels["tug.image.run"]
                .as_str()
                .is_some_and(|r| r != "someone-else" && r.len() == 16),
            "case {n}: {labels}"
        );
        assert_eq!(labels["tug.image.plugin"], name.as_str(), "case {n}: {labels}");
        for key in ["tug.run", "tug.keep", "tug.plugin", "tug.owner-pid", "tug.host"] {
            assert_eq!(labels[key], "", "case {n}: {key} in {labels}");
        }
    }
    let container: Value = serde_json::from_str(a.show(9)).unwrap();
    assert_eq!(container["Keep"], "0", "{container}");
    assert_eq!(left, vec![None, None, None, None], "what the run made is gone");
    assert!(base.is_some(), "the image it tagged stays");
}

/// An image of someone else's that only a registry digest names (pulled by digest): a tag the run puts on
/// it in the same repository may not be taken off again, by the plugin or by the run's cleanup, since the
/// daemon then drops the repository's digests too, and with them the image.
#[test]
fn untagging_never_takes_a_digest_only_image_with_it() {
    let (rt, c) = (rt(), client());
    let t = tag();
    let repo = format!("127.0.0.1:5000/tug-e2e/digest-victim-{t}");
    victim_image(&rt, &c, &format!("{repo}:1"));
    tug_e2e::docker(&["push", &format!("{repo}:1")]);
    let digest = tug_e2e::docker(&[
        "inspect",
        "--format",
        "{{index .RepoDigests 0}}",
        &format!("{repo}:1"),
    ]);
    let digest = digest.trim().to_owned();
    tug_e2e::docker(&["rmi", &format!("{repo}:1")]);
    tug_e2e::docker(&["pull", &digest]);
    let victim_id = image_id(&rt, &c, &digest).expect("pulled by digest");
    let cases = vec![
        case("tag", format!("{digest}=>{repo}:rt")),
        case("remove-image", format!("{repo}:rt")),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    let after = image_id(&rt, &c, &digest);
    remove_image(&rt, &c, &victim_id);
    a.expect(&[
        ("tag it in its repository", "allowed"),
        ("take the tag off again", "denied ownership name"),
    ]);
    assert_eq!(after, Some(victim_id), "the victim's image outlived the run");
}

/// A build that asks to `pull` moves no local name of another's: the builder would point the name at
/// the registry's image; tug pulls the base by its digest and names it by its id, so the build runs on the
/// registry's image and the name stays the victim's. A build's cache sources are images it reads: one the
/// run may not see is refused.
#[test]
fn build_pulls_move_no_name_and_cache_sources_are_checked() {
    let (rt, c) = (rt(), client());
    let t = tag();
    let name = format!("127.0.0.1:5000/tug-e2e/pull-victim-{t}:1");
    tug_e2e::docker(&["tag", "tug-test/busybox:latest", &name]);
    tug_e2e::docker(&["push", &name]);
    let pushed = tug_e2e::docker(&["inspect", "--format", "{{json .RepoDigests}}", &name]);
    tug_e2e::docker(&["rmi", &name]);
    // Locally the name is the victim's image, which has no shell.
    let victim_id = victim_image(&rt, &c, &name);
    let secret = format!("tug-victim/cache-{t}:1");
    let secret_id = victim_image(&rt, &c, &secret);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(
        dir.path(),
        "ci",
        "narrow",
        &[(
            "allow = [\"*\"]",
            "allow = [\"tug-test/*\", \"127.0.0.1:5000/*\"]",
        )],
    );
    let cases = vec![
        case(
            "build-with",
            format!("{{\"pull\":true}}|FROM {name}\nRUN echo built on a shell"),
        ),
        case(
            "build-with",
            format!("{{\"cachefrom\":[\"{secret}\"]}}|FROM tug-test/busybox:latest\nRUN true"),
        ),
        case(
            "build-with",
            "{\"cachefrom\":[\"tug-test/busybox:latest\"]}|FROM tug-test/busybox:latest\nRUN true",
        ),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), policy.display().to_string()],
        &cases,
    );
    let after = image_id(&rt, &c, &name);
    remove_image(&rt, &c, &victim_id);
    remove_image(&rt, &c, &secret_id);
    let pushed: Vec<String> = serde_json::from_str(pushed.trim()).unwrap_or_default();
    for digest in pushed.iter().filter(|d| d.contains("pull-victim")) {
        let _ = rt.block_on(c.call(Request::delete(format!("/images/{digest}"))));
    }
    a.expect(&[
        ("a build pulling the victim's name", "allowed"),
        ("a hidden image as a cache source", "denied images cachefrom[0]"),
        ("a visible one", "allowed"),
    ]);
    assert!(
        a.show(0).contains("built on a shell"),
        "the registry's image: {}",
        a.show(0)
    );
    assert_eq!(after, Some(victim_id), "the victim's name still names its image");
}

/// A Dockerfile names images too: a build may only use those the policy allows (through variables and
/// `COPY --from` as well), and pull only from the registries it allows.
#[test]
fn builds_use_only_images_the_policy_allows() {
    let (rt, c) = (rt(), client());
    let secret = format!("tug-victim/secret-{}:1", tag());
    victim_image(&rt, &c, &secret);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(
        dir.path(),
        "untrusted",
        "builds",
        &[
            ("images = \"read\"", "images = \"write\""),
            ("build = \"none\"", "build = \"write\""),
        ],
    );
    let cases = vec![
        case("build", format!("|FROM {secret}\nRUN cat /victim.txt")),
        case("build", format!("|ARG BASE={secret}\nFROM $BASE")),
        case(
            "build",
            format!("|FROM tug-test/busybox:latest\nCOPY --from={secret} /victim.txt /x"),
        ),
        case("build", "|FROM tug-test/absent-base:1"),
        case("build-link", format!("FROM {secret}")),
        case("build", "|FROM tug-test/busybox:latest\nRUN true"),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), policy.display().to_string()],
        &cases,
    );
    remove_image(&rt, &c, &secret);
    a.expect(&[
        (
            "a base the policy does not allow",
            "denied images Dockerfile line 1",
        ),
        ("through a build argument", "denied images Dockerfile line 2"),
        ("copied from", "denied images Dockerfile line 2"),
        (
            "an allowed name the daemon would pull from Docker Hub",
            "denied registries Dockerfile line 1",
        ),
        ("a Dockerfile that is a link", "denied build.images Dockerfile"),
        ("an allowed base", "allowed"),
    ]);
}

/// Tars that read one way to tug and another to the daemon: an entry whose PAX size covers a hidden tar
/// (a Dockerfile, a manifest naming another's image) is passed on as one entry holding those bytes; one
/// image config given twice is refused. Commit `changes` that expand into `tug.*` labels, and ONBUILD
/// triggers that name other images, are refused; a Dockerfile flag spelled with an escape is not read
/// past.
#[test]
fn tar_and_dockerfile_tricks_are_read_as_the_daemon_reads_them() {
    let (rt, c) = (rt(), client());
    let t = tag();
    let victim = format!("tug-test/victim-{t}:1");
    let victim_id = victim_image(&rt, &c, &victim);
    let honest = format!("tug-test/honest-{t}:1");
    let onbuild = format!("tug-test/onbuild-{t}:1");
    let dangling = dangling_image(&rt, &c);
    let cases = vec![
        // If the daemon read the hidden Dockerfile, it would try to pull this and fail.
        case("build-smuggle", format!("127.0.0.1:5999/absent-{t}:1")),
        case("load-smuggle", format!("{honest}|{victim}")),
        case("load-dup", format!("tug-test/dup-{t}:1")),
        case("commit-changes", "LABEL tu\\g.keep=1"),
        case("commit-changes", "LABEL ${X:-tug}.keep=1"),
        case("commit-changes", "ONBUILD RUN true"),
        case(
            "commit-onbuild",
            format!("{onbuild}|COPY --from=127.0.0.1:5999/absent:1 / /"),
        ),
        case("build", format!("|FROM {onbuild}")),
        case(
            "build",
            format!("|FROM tug-test/busybox:latest\nCOPY --fr\\om={victim} /victim.txt /x"),
        ),
        case("build-device", format!("FROM {victim}")),
        case("build", "|FROM tug-test/busybox:latest\nFROB x"),
        case(
            "build",
            "|FROM tug-test/busybox:latest\nADD http://127.0.0.1:5000/v2/ /x",
        ),
        case("build", format!("|#\x0cescape=`\nRUN echo \\\nFROM {victim}")),
        case("build", "|FROM tug-test/busybox:latest\nENV onlyname"),
        case("commit-changes", "LABEL a=b\nLABEL tug.keep=1"),
        case("commit-changes", "ENV A=b \\"),
        case("tag", format!("{dangling}=>tug-test/named-{t}:1")),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    let victim_now = image_id(&rt, &c, &victim);
    remove_image(&rt, &c, &victim);
    a.expect(&[
        ("a Dockerfile hidden past a PAX size", "allowed"),
        ("a manifest hidden past a PAX size", "allowed"),
        ("an image config given twice", "error"),
        ("a label key with an escape", "denied labels.reserved changes[0]"),
        ("a label key with a variable", "denied labels.reserved changes[0]"),
        ("an ONBUILD change", "denied images.changes changes[0]"),
        ("an ONBUILD trigger in the config", "allowed"),
        (
            "building from it",
            &format!("denied build.images Dockerfile line 1 ({onbuild} OnBuild[0])"),
        ),
        ("an escaped flag", "denied build.images Dockerfile"),
        ("a Dockerfile that is a device", "error"),
        (
            "a Dockerfile the builder cannot parse",
            "denied build.images Dockerfile",
        ),
        ("a URL the daemon would fetch", "denied build.images Dockerfile"),
        ("a directive after a form feed", "denied build.images Dockerfile"),
        (
            "a parse error (the daemon would keep the context)",
            "denied build.images Dockerfile",
        ),
        ("a change with a line break", "denied images.changes changes[0]"),
        (
            "a change continued onto the next",
            "denied images.changes changes[0]",
        ),
        ("name an image nobody names", "denied images.name name"),
    ]);
    let dangling_now = image_id(&rt, &c, &dangling);
    remove_image(&rt, &c, &dangling);
    assert_eq!(
        dangling_now.as_deref(),
        Some(dangling.as_str()),
        "the unnamed image is still there"
    );
    assert!(a.outcomes[2].contains("twice"), "{}", a.outcomes[2]);
    assert_eq!(
        victim_now,
        Some(victim_id),
        "the victim's name still names its image"
    );
}

/// A build's `RUN` steps get the container ceilings: memory (and swap no larger) and CPUs.
#[test]
fn builds_run_under_the_container_ceilings() {
    let script = "RUN echo limit mem $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat \
                  /sys/fs/cgroup/memory.max) memsw $(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes \
                  2>/dev/null || echo unknown) cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us \
                  /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null | tr '\\n' ' ' || cat /sys/fs/cgroup/cpu.max)";
    let cases = vec![case("build", format!("|FROM tug-test/busybox:latest\n{script}"))];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    a.expect(&[("a build", "allowed")]);
    let shown = a.show(0);
    println!("{shown}");
    let words: Vec<&str> = shown.split_whitespace().collect();
    let after = |key: &str| words.iter().position(|w| *w == key).map(|i| words[i + 1]);
    assert_eq!(after("mem"), Some("2147483648"), "ci's memory ceiling: {shown}");
    assert!(
        matches!(after("memsw"), Some("2147483648") | Some("unknown")),
        "swap no larger: {shown}"
    );
    let cpu: Vec<&str> = words[words.iter().position(|w| *w == "cpu").unwrap() + 1..].to_vec();
    assert_eq!(cpu, ["200000", "100000"], "ci's 2 CPUs as a quota: {shown}");
}

/// What a container takes from its image where its body says nothing is checked as if the body said it:
/// an image's health check every millisecond is raised to a second also when the body gives a health
/// check of its own without an interval (the daemon fills each absent field from the image), and an
/// image's working directory in `/proc` is refused unless the body names another.
#[test]
fn containers_inherit_nothing_their_body_could_not_say() {
    let t = tag();
    let hc = format!("tug-test/hc-{t}:1");
    let wd = format!("tug-test/wd-{t}:1");
    let health = json!({"Healthcheck": {"Test": ["CMD", "true"], "Interval": 1_000_000, "Timeout": 1_000_000_000_i64}});
    let cases = vec![
        case("commit-config", format!("{hc}|{health}")),
        case(
            "commit-config",
            format!("{wd}|{}", json!({"WorkingDir": "/proc/self/fd/8"})),
        ),
        case("create-show", json!({ "Image": hc }).to_string()),
        case(
            "create-show",
            json!({ "Image": hc, "Healthcheck": {"Test": ["CMD", "true"]} }).to_string(),
        ),
        case(
            "create-show",
            json!({ "Image": hc, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 2_000_000_000_i64} })
                .to_string(),
        ),
        case("create-show", json!({ "Image": wd }).to_string()),
        case(
            "create-show",
            json!({ "Image": wd, "WorkingDir": "/tmp" }).to_string(),
        ),
        case("build", format!("|FROM {wd}\nRUN true")),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    let wd_build = format!("denied containers.working-dir Dockerfile line 1 ({wd} Config.WorkingDir)");
    a.expect(&[
        ("an image with a health check every millisecond", "allowed"),
        ("an image with its working directory in /proc", "allowed"),
        ("a container inheriting the health check", "allowed"),
        (
            "a container with its own test but the image's interval",
            "allowed",
        ),
        ("a container with its own interval", "allowed"),
        (
            "a container inheriting the working directory",
            "denied containers.working-dir Image Config.WorkingDir",
        ),
        ("a container with a working directory of its own", "allowed"),
        ("a build on the image", wd_build.as_str()),
    ]);
    for n in [2, 3] {
        let shown: Value = serde_json::from_str(a.show(n)).unwrap();
        assert_eq!(
            shown["Healthcheck"]["Interval"], 1_000_000_000_i64,
            "case {n}: {shown}"
        );
        assert_eq!(
            shown["Healthcheck"]["Test"],
            json!(["CMD", "true"]),
            "case {n}: {shown}"
        );
    }
    let shown: Value = serde_json::from_str(a.show(4)).unwrap();
    assert_eq!(shown["Healthcheck"]["Interval"], 2_000_000_000_i64, "{shown}");
    let shown: Value = serde_json::from_str(a.show(6)).unwrap();
    assert_eq!(shown["WorkingDir"], "/tmp", "{shown}");
}

/// Every volume the daemon makes for a run's container carries the run's labels — for the body's
/// `Volumes`, the image's `VOLUME`s and a `volume` mount alike — so that it goes with the run also when
/// the plugin removed the container without its volumes; a mount's volume labels may not be `tug.*`.
#[test]
fn volumes_made_for_containers_are_the_runs() {
    let (rt, c) = (rt(), client());
    let t = tag();
    let image = format!("tug-test/vol-{t}:1");
    let cases = vec![
        case("commit-config", format!("{image}|{}", json!({"Volumes": {"/from-image": {}}}))),
        case(
            "create-volumes",
            json!({
                "Image": image,
                "Volumes": {"/from-body": {}},
                "HostConfig": {"Mounts": [{"Type": "volume", "Target": "/mounted"}]},
            })
            .to_string(),
        ),
        case(
            "create-show",
            json!({
                "Image": "tug-test/busybox:latest",
                "HostConfig": {"Mounts": [{"Type": "volume", "Target": "/x", "VolumeOptions": {"Labels": {"tug.keep": "1"}}}]},
            })
            .to_string(),
        ),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    a.expect(&[
        ("an image with a volume", "allowed"),
        ("a container with three volumes, removed without them", "allowed"),
        (
            "a volume labelled tug.keep",
            "denied labels.reserved HostConfig.Mounts[0].VolumeOptions.Labels.tug.keep",
        ),
    ]);
    let shown: Value = serde_json::from_str(a.show(1)).unwrap();
    let volumes = shown.as_array().unwrap();
    let mut destinations: Vec<&str> = volumes
        .iter()
        .map(|v| v["Destination"].as_str().unwrap())
        .collect();
    destinations.sort();
    assert_eq!(destinations, ["/from-body", "/from-image", "/mounted"], "{shown}");
    for v in volumes {
        assert!(v["Run"].as_str().is_some_and(|r| r.len() == 16), "{v}");
        assert_eq!(v["Keep"], "0", "{v}");
        let name = v["Name"].as_str().unwrap();
        let left = rt
            .block_on(c.json::<Value>(Request::get(format!("/volumes/{name}"))))
            .is_ok();
        assert!(!left, "volume {name} outlived the run: {v}");
    }
}

/// An upload the plugin drops before `finish` is abandoned mid-body: the engine acts on nothing. An
/// import of half a tar, or of nothing, would otherwise be an image (the daemon reads a body that ends
/// cleanly at an entry's end as a whole tar) — one the run's cleanup may never see, if it lands after.
/// Run with `--keep`, so that anything the drops made would still be there.
#[test]
fn dropped_uploads_make_nothing() {
    let (rt, c) = (rt(), client());
    let t = tag();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("attack-drop-{t}");
    let wasm = named(dir.path(), &name);
    let cases = vec![
        case("import-drop", format!("tug-test/dropped-{t}:1")),
        case("import-drop", format!("tug-test/dropped-{t}:2")),
    ];
    let a = attack(&wasm, &["--keep".into(), "--policy".into(), "ci".into()], &cases);
    // Time for an import the daemon had been given to land.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let filters = json!({ "label": [format!("tug.image.plugin={name}")] }).to_string();
    let made: Value = rt
        .block_on(
            c.json(
                Request::get("/images/json")
                    .query("all", true)
                    .query("filters", filters),
            ),
        )
        .unwrap();
    for image in made.as_array().into_iter().flatten() {
        remove_image(&rt, &c, image["Id"].as_str().unwrap());
    }
    a.expect(&[("half an import, dropped", "allowed"), ("another", "allowed")]);
    assert_eq!(made, json!([]), "dropped imports made images");
}

/// Builds in flight count as containers (each runs its `RUN` steps in one): under a quota of 2, a
/// container and a build held open leave no room for another build or another container.
#[test]
fn builds_in_flight_count_in_the_container_quota() {
    let t = tag();
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(dir.path(), "ci", "two", &[("containers = 100", "containers = 2")]);
    let cases = vec![
        case("create-named", format!("quota-one-{t}")),
        case("build-open", ""),
        case("build-open", ""),
        case("create-named", format!("quota-two-{t}")),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), policy.display().to_string()],
        &cases,
    );
    a.expect(&[
        ("a container", "allowed"),
        ("a build", "allowed"),
        ("a second build", "denied quota.containers -"),
        ("a second container", "denied quota.containers -"),
    ]);
}

/// Uploads left unfinished side by side share one bound on what tug holds back to check: two loads of
/// 40 MiB of checked files each cannot both be held (the second is refused, naming the bound).
#[test]
fn unfinished_uploads_share_one_bound_on_held_bytes() {
    let cases = vec![case("load-hold", "40"), case("load-hold", "40")];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    a.expect(&[("a load holding 40 MiB", "allowed"), ("another", "error")]);
    assert!(
        a.outcomes[1].contains("unfinished uploads would hold back more than 67108864 bytes"),
        "{}",
        a.run.report()
    );
}

/// A registry image's config, as the daemon will decode it when it is loaded: a `tug.*` label spelled
/// `config.labels` or `Config.Labels` is the same label.
#[test]
fn registry_configs_cannot_smuggle_labels_by_spelling() {
    let cases = vec![
        case("set-config", r#"{"config":{"labels":{"tug.keep":"1"}}}"#),
        case("set-config", r#"{"Config":{"Labels":{"tug.keep":"1"}}}"#),
        case("set-config", r#"{"config":{"Labels":{"tug.keep":"1"}}}"#),
        case(
            "set-config",
            r#"{"config":{"Labels":{}},"config":{"Labels":{"tug.keep":"1"}}}"#,
        ),
        case("set-config", r#"{"config":{"Labels":{"app":"1"}}}"#),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    a.expect(&[
        ("lower-case labels", "denied canonical.case-variant config.labels"),
        ("upper-case config", "denied canonical.case-variant Config"),
        ("tug.keep itself", "denied labels.reserved config.Labels.tug.keep"),
        ("a duplicate config", "denied canonical.duplicate-key config"),
        ("a label of its own", "allowed"),
    ]);
}
