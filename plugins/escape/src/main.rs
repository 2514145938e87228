//! Tries request bodies against the policy and reports, one line per case, what happened:
//! `case N: denied RULE FIELD`, `case N: allowed`, or `case N: error MESSAGE`.
//!
//! Arguments come in pairs, `KIND BODY`: `create` (a container create body), `create-show` (the same, and
//! the created container's memory and pids ceilings and whether it carries the run label are printed),
//! `update` (a container update body, applied to a container of the plugin's own), `exec` (an exec create
//! body, in a container of the plugin's own), `exec@ID` (an exec create body in container ID), `archive@ID`
//! (get-archive of the path BODY from container ID), `export@ID` (export container ID) or `pull` (pull the
//! image BODY). Whatever a case creates is removed at once, but for `create-keep` (left for tug's cleanup).

use serde_json::{json, Value};
use tug_sdk::{container_streams, containers, engine, engines::Engine, exec, image_streams, types::Error};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() % 2 != 0 {
        eprintln!("error: arguments come in pairs: KIND BODY");
        std::process::exit(2);
    }
    let docker = engine();
    let mut own: Option<String> = None;
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
