//! Walks away from what it opened, to show that the host neither hangs nor leaks connections.
//!
//! `abandon streams NAME` starts a container NAME that prints forever, reads a little of a follow stream
//! and drops it mid-read, opens a second follow stream, an events stream and an export and never reads
//! them to the end, then exits while still holding them. `abandon wait NAME` starts a container NAME that
//! sleeps and waits for it: the host call blocks until the run's deadline cancels it (or tug is killed).
//! `abandon leave NAME` starts the container and exits without removing it; `abandon trap NAME` starts it
//! and then panics (a trap). In every mode the container is left behind: removing it is the host's job.
//! `abandon spin`, `abandon alloc` and `abandon handles` run away with CPU, memory and handles.
//! `abandon flood` prints without end (for a reader that stops reading). `abandon churn NAME` creates and
//! removes networks, volumes and containers named `NAME-<i>` as fast as it can, for ever: wherever the
//! run is stopped, a create or a removal is on its way.

use serde_json::{json, Value};
use tug_sdk::{container_streams, containers, engine, system_streams};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("streams");
    let name = args.get(2).cloned().unwrap_or_else(|| "tug-abandon".to_owned());
    if let Err(e) = run(mode, &name) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(mode: &str, name: &str) -> Result<()> {
    let docker = engine();
    match mode {
        // Runaways, for the limit tests: CPU, memory, handles.
        "spin" => {
            println!("spinning");
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        "alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 16 << 20]);
                println!("holding {} MiB", hoard.len() * 16);
            }
        }
        "handles" => {
            let mut held = Vec::new();
            loop {
                held.push(tug_sdk::engines::default()?);
                if held.len() % 100 == 0 {
                    println!("holding {} handles", held.len());
                }
            }
        }
        "flood" => {
            let line = "x".repeat(200);
            for i in 0u64.. {
                println!("{i} {line}");
            }
        }
        "churn" => return churn(&docker, name),
        // For the preopen test: read a file, then try to write next to it.
        "read" => {
            let text = std::fs::read_to_string(name)?;
            println!("read {name}: {}", text.trim());
            let written = std::fs::write(format!("{name}.new"), "x");
            println!(
                "write next to it: {}",
                if written.is_ok() { "allowed" } else { "refused" }
            );
            let outside = std::fs::read_to_string("/etc/hostname");
            println!(
                "read /etc/hostname: {}",
                if outside.is_ok() { "allowed" } else { "refused" }
            );
            return Ok(());
        }
        // For the audit and secret tests: print a secret, use it as a target, and try a denied call.
        "secret" => {
            let token = std::env::var("TOKEN").map_err(|_| "no TOKEN in the environment")?;
            println!("token is {token}, split: {}|{}", &token[..3], &token[3..]);
            let looked = containers::inspect(&docker, &token, Default::default());
            println!(
                "inspect {token}: {}",
                if looked.is_err() { "not found" } else { "found" }
            );
            let privileged = json!({"Image": "tug-test/busybox:latest", "HostConfig": {"Privileged": true}});
            let denied = containers::create(&docker, &privileged.to_string(), &Default::default());
            println!(
                "privileged create: {}",
                if denied.is_err() { "refused" } else { "allowed" }
            );
            return Ok(());
        }
        _ => {}
    }
    let cmd = match mode {
        "streams" => "while true; do echo tick; done",
        "wait" | "leave" | "trap" => "sleep 600",
        other => return Err(format!("unknown mode {other:?}: streams or wait").into()),
    };
    let config = json!({ "Image": "tug-test/busybox:latest", "Cmd": ["sh", "-c", cmd] });
    let options = containers::CreateOptions {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    let created: Value = serde_json::from_str(&containers::create(&docker, &config.to_string(), &options)?)?;
    let id = created["Id"].as_str().ok_or("create answered no Id")?.to_owned();
    containers::start(&docker, &id, &Default::default())?;
    println!("started {name}");

    if mode == "leave" {
        return Ok(());
    }
    if mode == "trap" {
        panic!("trapping on purpose with container {name} running");
    }
    if mode == "wait" {
        println!("waiting for a container that sleeps for ten minutes");
        containers::wait(&docker, &id, &Default::default())?;
        return Err("wait returned, but the container should still be sleeping".into());
    }

    let follow = container_streams::LogsOptions {
        follow: Some(true),
        stdout: Some(true),
        ..Default::default()
    };
    {
        let logs = container_streams::logs(&docker, &id, &follow)?;
        let frame = logs.next(16)?.ok_or("the follow stream ended at once")?;
        println!("read {} bytes of a follow stream, dropping it", frame.data.len());
    }
    let never_read = container_streams::logs(&docker, &id, &follow)?;
    let events = system_streams::events(&docker, &Default::default())?;
    let export = container_streams::export(&docker, &id)?;
    let head = export.blocking_read(1024)?;
    println!("read {} bytes of an export, leaving the rest", head.len());
    println!("exiting with a follow stream, an events stream and an export open");
    // Never dropped on purpose (as if the plugin exited abruptly): the host must close them when the run
    // ends.
    std::mem::forget((never_read, events, export));
    Ok(())
}

/// See the module documentation: create a network, a volume and a container using both, then remove
/// them in the order the engine needs (container, network, volume), for ever.
fn churn(docker: &tug_sdk::engines::Engine, name: &str) -> Result<()> {
    use tug_sdk::{networks, volumes};
    for i in 0u64.. {
        let n = format!("{name}-{i}");
        let net: Value = serde_json::from_str(&networks::create(docker, &json!({ "Name": n }).to_string())?)?;
        let net = net["Id"]
            .as_str()
            .ok_or("network create answered no Id")?
            .to_owned();
        volumes::create(docker, &json!({ "Name": n }).to_string())?;
        let config = json!({
            "Image": "tug-test/busybox:latest",
            "Cmd": ["true"],
            "HostConfig": {
                "NetworkMode": n,
                "Mounts": [{"Type": "volume", "Source": n, "Target": "/data"}],
            },
        });
        let options = containers::CreateOptions {
            name: Some(n.clone()),
            ..Default::default()
        };
        let created: Value =
            serde_json::from_str(&containers::create(docker, &config.to_string(), &options)?)?;
        let id = created["Id"].as_str().ok_or("create answered no Id")?.to_owned();
        let force = containers::RemoveOptions {
            force: Some(true),
            ..Default::default()
        };
        containers::remove(docker, &id, force)?;
        networks::remove(docker, &net)?;
        volumes::remove(docker, &n, Default::default())?;
        println!("churned {n}");
    }
    Ok(())
}
