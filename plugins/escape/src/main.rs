//! Tries request bodies against the policy and reports, one line per case, what happened:
//! `case N: denied RULE FIELD`, `case N: allowed`, or `case N: error MESSAGE`.
//!
//! Arguments come in pairs, `KIND BODY`: `create` (a container create body), `create-show` (the same, and
//! the created container's memory and pids ceilings and whether it carries the run label are printed),
//! `update` (a container update body, applied to a container of the plugin's own), `exec` (an exec create
//! body, in a container of the plugin's own), `exec@ID` (an exec create body in container ID), `archive@ID`
//! (get-archive of the path BODY from container ID), `export@ID` (export container ID) or `pull` (pull the
//! image BODY). Networks and volumes: `network-create` and `volume-create` (a create body),
//! `network-connect@NET` and `network-disconnect@NET` (BODY is a container id, or `own` for a container of
//! the plugin's own; NET may be `own` for a network of the plugin's own), `network-inspect@NET`,
//! `network-delete@NET`, `volume-inspect@NAME`, `volume-delete@NAME` (BODY ignored). Whatever a case
//! creates is removed at once, but for `create-keep`, `network-create-keep` and `volume-create-keep` (left
//! for tug's cleanup).

use serde_json::{json, Value};
use tug_sdk::{
    container_streams, containers, engine, engines::Engine, exec, image_streams, networks, types::Error,
    volumes,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() % 2 != 0 {
        eprintln!("error: arguments come in pairs: KIND BODY");
        std::process::exit(2);
    }
    let docker = engine();
    let mut own: Option<String> = None;
    let mut own_network: Option<String> = None;
    for (n, pair) in args.chunks(2).enumerate() {
        let (kind, body) = (pair[0].as_str(), pair[1].as_str());
        let target = kind
            .split_once('@')
            .map(|(_, id)| id.to_owned())
            .unwrap_or_default();
        let outcome = match kind.split('@').next().unwrap_or_default() {
            "create-keep" => containers::create(&docker, body, &Default::default()).map(|_| ()),
            "create" | "create-show" => {
                containers::create(&docker, body, &Default::default()).map(|answer| {
                    let created: Value = serde_json::from_str(&answer).unwrap_or_default();
                    if let Some(id) = created["Id"].as_str() {
                        if kind == "create-show" {
                            show(&docker, n, id);
                        }
                        remove(&docker, id);
                    }
                })
            }
            "exec" if !target.is_empty() => exec::create(&docker, &target, body).map(|_| ()),
            "archive" => container_streams::get_archive(&docker, &target, body).map(|_| ()),
            "export" => container_streams::export(&docker, &target).map(|_| ()),
            "pull" => image_streams::pull(&docker, body, &Default::default(), None).map(|_| ()),
            // Swarm mode (the policy must refuse these before anything reaches the engine: nothing is
            // removed): `swarm-init`, `swarm-join`, `service-create`, `secret-create`, `config-create`,
            // each with its body.
            "swarm-init" => tug_sdk::swarm::init(&docker, body).map(|_| ()),
            "swarm-join" => tug_sdk::swarm::join(&docker, body),
            "service-create" => tug_sdk::services::create(&docker, body, None).map(|_| ()),
            "secret-create" => tug_sdk::secrets::create(&docker, body).map(|_| ()),
            "config-create" => tug_sdk::configs::create(&docker, body).map(|_| ()),
            "network-create" | "network-create-keep" => networks::create(&docker, body).map(|answer| {
                let created: Value = serde_json::from_str(&answer).unwrap_or_default();
                if let (Some(id), "network-create") = (created["Id"].as_str(), kind) {
                    if let Err(e) = networks::remove(&docker, id) {
                        eprintln!("error: removing network {id}: {e}");
                    }
                }
            }),
            "volume-create" | "volume-create-keep" => volumes::create(&docker, body).map(|answer| {
                let created: Value = serde_json::from_str(&answer).unwrap_or_default();
                if let (Some(name), "volume-create") = (created["Name"].as_str(), kind) {
                    if let Err(e) = volumes::remove(&docker, name, Default::default()) {
                        eprintln!("error: removing volume {name}: {e}");
                    }
                }
            }),
            "network-inspect" => networks::inspect(&docker, &target, &Default::default()).map(|_| ()),
            "network-delete" => networks::remove(&docker, &target),
            "volume-inspect" => volumes::inspect(&docker, &target).map(|_| ()),
            "volume-delete" => volumes::remove(&docker, &target, Default::default()),
            "network-connect" | "network-disconnect" => {
                let network = if target == "own" {
                    match own_network.clone() {
                        Some(id) => id,
                        None => match make_own_network(&docker) {
                            Ok(id) => {
                                own_network = Some(id.clone());
                                id
                            }
                            Err(e) => {
                                println!("case {n}: error making a network of our own: {e}");
                                continue;
                            }
                        },
                    }
                } else {
                    target.clone()
                };
                let container = if body == "own" {
                    match own.clone() {
                        Some(id) => id,
                        None => match make_own(&docker) {
                            Ok(id) => {
                                own = Some(id.clone());
                                id
                            }
                            Err(e) => {
                                println!("case {n}: error making a container of our own: {e}");
                                continue;
                            }
                        },
                    }
                } else {
                    body.to_owned()
                };
                let request = json!({ "Container": container }).to_string();
                if kind.starts_with("network-connect") {
                    networks::connect(&docker, &network, &request)
                } else {
                    networks::disconnect(&docker, &network, &request)
                }
            }
            "update" | "exec" => {
                let target = match own.clone() {
                    Some(id) => id,
                    None => match make_own(&docker) {
                        Ok(id) => {
                            own = Some(id.clone());
                            id
                        }
                        Err(e) => {
                            println!("case {n}: error making a container of our own: {e}");
                            continue;
                        }
                    },
                };
                if kind == "update" {
                    containers::update(&docker, &target, body).map(|_| ())
                } else {
                    exec::create(&docker, &target, body).map(|_| ())
                }
            }
            other => {
                println!("case {n}: error unknown kind {other:?}");
                continue;
            }
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
    if let Some(id) = own {
        remove(&docker, &id);
    }
    if let Some(id) = own_network {
        if let Err(e) = networks::remove(&docker, &id) {
            eprintln!("error: removing network {id}: {e}");
        }
    }
}

fn make_own_network(docker: &Engine) -> Result<String, Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let name = format!("tug-escape-own-{}-{}", now.as_secs(), now.subsec_nanos());
    let answer = networks::create(docker, &json!({ "Name": name }).to_string())?;
    let created: Value = serde_json::from_str(&answer).unwrap_or_default();
    Ok(created["Id"].as_str().unwrap_or_default().to_owned())
}

/// Prints what the policy forced onto a created container.
fn show(docker: &Engine, n: usize, id: &str) {
    match containers::inspect(docker, id, Default::default()) {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text).unwrap_or_default();
            println!(
                "show {n}: memory={} pids={} labelled={}",
                v["HostConfig"]["Memory"],
                v["HostConfig"]["PidsLimit"],
                v["Config"]["Labels"]["tug.run"].is_string()
            );
        }
        Err(e) => println!("case {n}: error inspecting {id}: {e}"),
    }
}

fn make_own(docker: &Engine) -> Result<String, Error> {
    let body = json!({ "Image": "tug-test/busybox:latest", "Cmd": ["sleep", "60"] });
    let answer = containers::create(docker, &body.to_string(), &Default::default())?;
    let created: Value = serde_json::from_str(&answer).unwrap_or_default();
    let id = created["Id"].as_str().unwrap_or_default().to_owned();
    containers::start(docker, &id, &Default::default())?;
    Ok(id)
}

fn remove(docker: &Engine, id: &str) {
    let options = containers::RemoveOptions {
        force: Some(true),
        ..Default::default()
    };
    if let Err(e) = containers::remove(docker, id, options) {
        eprintln!("error: removing {id}: {e}");
    }
}
