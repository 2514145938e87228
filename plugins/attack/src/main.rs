//! Tries attacks on the sandbox, one per argument pair `KIND ARG`, and reports each as
//! `case N: allowed`, `case N: denied RULE FIELD` or `case N: error KIND`, with `show N: …` lines where a
//! test needs to see more (what a list, a prune, an inspect or a build answered).
//!
//! `{own}` in an argument is the id of a running container of the plugin's own (made on first use),
//! `{own-name}` its name. The kinds are listed in [`attack`]; the image ones are in `images.rs`.

mod images;

use serde_json::{json, Value};
use tug_sdk::{
    containers, engine, engines::Engine, exec, networks, system, system_streams, types::Error, volumes,
};

pub(crate) type Result<T> = std::result::Result<T, Error>;

/// The state a run's cases share: a container of the plugin's own, made on first use.
#[derive(Default)]
pub(crate) struct Own {
    container: Option<(String, String)>,
    network: Option<String>,
    /// Handles kept open until the plugin ends (builds in flight).
    pub held: Vec<Box<dyn std::any::Any>>,
}

impl Own {
    /// A running container of the plugin's own: (id, name).
    pub fn container(&mut self, d: &Engine) -> Result<(String, String)> {
        if let Some(c) = &self.container {
            return Ok(c.clone());
        }
        let name = format!("attack-own-{}", now_nanos());
        let body = json!({ "Image": "tug-test/busybox:latest", "Cmd": ["sleep", "120"] });
        let options = containers::CreateOptions {
            name: Some(name.clone()),
            ..Default::default()
        };
        let created: Value = parse(&containers::create(d, &body.to_string(), &options)?);
        let id = created["Id"].as_str().unwrap_or_default().to_owned();
        containers::start(d, &id, &Default::default())?;
        self.container = Some((id, name));
        Ok(self.container.clone().unwrap_or_default())
    }

    /// A network of the plugin's own: its name.
    pub fn network(&mut self, d: &Engine) -> Result<String> {
        if let Some(n) = &self.network {
            return Ok(n.clone());
        }
        let name = format!("attack-net-{}", now_nanos());
        networks::create(d, &json!({ "Name": name }).to_string())?;
        self.network = Some(name.clone());
        Ok(name)
    }

    /// `arg` with `{own}`, `{own-name}` and `{own-net}` filled in.
    pub fn fill(&mut self, d: &Engine, arg: &str) -> Result<String> {
        let mut out = arg.to_owned();
        if out.contains("{own-net}") {
            let net = self.network(d)?;
            out = out.replace("{own-net}", &net);
        }
        if out.contains("{own") {
            let (id, name) = self.container(d)?;
            out = out.replace("{own}", &id).replace("{own-name}", &name);
        }
        Ok(out)
    }
}

pub(crate) fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

pub(crate) fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_default()
}

/// The filters of the attack on scoping: the same key twice, the second one last.
fn duplicate_label_filters() -> Option<Vec<(String, Vec<String>)>> {
    Some(vec![
        ("label".into(), vec![]),
        ("label".into(), vec!["tug-attack-victim".into()]),
    ])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let d = engine();
    let mut own = Own::default();
    for (n, pair) in args.chunks(2).enumerate() {
        let (kind, arg) = (
            pair[0].as_str(),
            pair.get(1).map(String::as_str).unwrap_or_default(),
        );
        let outcome = match own.fill(&d, arg) {
            Ok(arg) => attack(&d, &mut own, n, kind, &arg),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => println!("case {n}: allowed"),
            Err(Error::Denied(d)) => {
                println!(
                    "case {n}: denied {} {}",
                    d.rule,
                    d.field.unwrap_or_else(|| "-".into())
                )
            }
            Err(e) => println!("case {n}: error {e}"),
        }
    }
    if let Some((id, _)) = own.container {
        let options = containers::RemoveOptions {
            force: Some(true),
            ..Default::default()
        };
        let _ = containers::remove(&d, &id, options);
    }
}

/// One attack.
fn attack(d: &Engine, own: &mut Own, n: usize, kind: &str, arg: &str) -> Result<()> {
    match kind {
        // Scoping undone by a filter key given twice: what a list, a prune or the events show.
        "list-dup" => {
            let list = match arg {
                "containers" => containers::list(
                    d,
                    &containers::ListOptions {
                        all: Some(true),
                        filters: duplicate_label_filters(),
                        ..Default::default()
                    },
                )?,
                "networks" => networks::list(
                    d,
                    &networks::ListOptions {
                        filters: duplicate_label_filters(),
                    },
                )?,
                _ => volumes::list(
                    d,
                    &volumes::ListOptions {
                        filters: duplicate_label_filters(),
                    },
                )?,
            };
            println!("show {n}: {list}");
            Ok(())
        }
        "prune-dup" => {
            let answer = match arg {
                "containers" => containers::prune(
                    d,
                    &containers::PruneOptions {
                        filters: duplicate_label_filters(),
                    },
                )?,
                "networks" => networks::prune(
                    d,
                    &networks::PruneOptions {
                        filters: duplicate_label_filters(),
                    },
                )?,
                "images" => tug_sdk::images::prune(
                    d,
                    &tug_sdk::images::PruneOptions {
                        filters: duplicate_label_filters(),
                    },
                )?,
                _ => volumes::prune(
                    d,
                    &volumes::PruneOptions {
                        filters: duplicate_label_filters(),
                    },
                )?,
            };
            println!("show {n}: {answer}");
            Ok(())
        }
        "events-dup" => {
            let until = (now_nanos() / 1_000_000_000 + 1).to_string();
            let options = system_streams::EventsOptions {
                since: Some(arg.to_owned()),
                until: Some(until),
                filters: duplicate_label_filters(),
            };
            let stream = system_streams::events(d, &options)?;
            let mut seen = Vec::new();
            for doc in tug_sdk::documents(&stream) {
                seen.push(doc?);
            }
            println!("show {n}: {}", Value::from(seen));
            Ok(())
        }
        // A container or network named like another's short id, a rename to one.
        // A container list whose filters name a container (`since`, `before`).
        "list-since" => containers::list(
            d,
            &containers::ListOptions {
                all: Some(true),
                filters: Some(vec![("since".into(), vec![arg.to_owned()])]),
                ..Default::default()
            },
        )
        .map(|_| ()),
        "create-named" => {
            let body = json!({ "Image": "tug-test/busybox:latest", "Cmd": ["true"] }).to_string();
            let options = containers::CreateOptions {
                name: Some(arg.to_owned()),
                ..Default::default()
            };
            containers::create(d, &body, &options).map(|_| ())
        }
        "rename-own" => {
            let (id, _) = own.container(d)?;
            containers::rename(d, &id, arg)
        }
        "network-named" => networks::create(d, &json!({ "Name": arg }).to_string()).map(|created| {
            let id = parse(&created)["Id"].as_str().unwrap_or_default().to_owned();
            let _ = networks::remove(d, &id);
        }),
        // A container create body; what the policy made of it is shown from inspect.
        "create-show" => {
            let created = parse(&containers::create(d, arg, &Default::default())?);
            let id = created["Id"].as_str().unwrap_or_default().to_owned();
            let v = parse(&containers::inspect(d, &id, Default::default())?);
            let h = &v["HostConfig"];
            let shown = json!({
                "VolumesFrom": h["VolumesFrom"], "Links": h["Links"], "NetworkMode": h["NetworkMode"],
                "Memory": h["Memory"], "MemorySwap": h["MemorySwap"], "LogConfig": h["LogConfig"],
                "PortBindings": h["PortBindings"], "Keep": v["Config"]["Labels"]["tug.keep"],
                "Healthcheck": v["Config"]["Healthcheck"], "WorkingDir": v["Config"]["WorkingDir"],
                "Networks": v["NetworkSettings"]["Networks"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
            });
            println!("show {n}: {shown}");
            let options = containers::RemoveOptions {
                force: Some(true),
                ..Default::default()
            };
            containers::remove(d, &id, options)
        }
        // A container whose volumes are shown (name and `tug.run` label each), then removed without
        // its volumes (`v=false`): what the daemon made for it must still go when the run ends.
        "create-volumes" => {
            let created = parse(&containers::create(d, arg, &Default::default())?);
            let id = created["Id"].as_str().unwrap_or_default().to_owned();
            let v = parse(&containers::inspect(d, &id, Default::default())?);
            let mut shown = Vec::new();
            for m in v["Mounts"].as_array().into_iter().flatten() {
                if m["Type"] != "volume" {
                    continue;
                }
                let name = m["Name"].as_str().unwrap_or_default();
                let vol = parse(&volumes::inspect(d, name)?);
                shown.push(json!({
                    "Name": name, "Destination": m["Destination"],
                    "Run": vol["Labels"]["tug.run"], "Keep": vol["Labels"]["tug.keep"],
                }));
            }
            println!("show {n}: {}", json!(shown));
            let options = containers::RemoveOptions {
                force: Some(true),
                v: Some(false),
                ..Default::default()
            };
            containers::remove(d, &id, options)
        }
        // `ps` options reaching the host.
        "top" => {
            let (id, _) = own.container(d)?;
            let options = containers::TopOptions {
                ps_args: Some(arg.to_owned()),
            };
            containers::top(d, &id, &options).map(|_| ())
        }
        // Exec instances in one container: how many the policy lets it hold.
        "exec-many" => {
            let (id, _) = own.container(d)?;
            let count: usize = arg.parse().unwrap_or(1);
            let mut made = 0;
            let body = json!({ "Cmd": ["true"] }).to_string();
            let result = (0..count).try_for_each(|_| exec::create(d, &id, &body).map(|_| made += 1));
            println!("show {n}: created {made}");
            result
        }
        // An error after the gate let the call through, for the audit log.
        "archive-info" => {
            let (id, _) = own.container(d)?;
            containers::archive_info(d, &id, arg).map(|_| ())
        }
        // What the engine says about itself and everyone else.
        "data-usage" => system::data_usage(d).map(|df| println!("show {n}: {df}")),
        "info" => system::info(d).map(|info| println!("show {n}: {info}")),
        other => images::attack(d, own, n, other, arg),
    }
}
