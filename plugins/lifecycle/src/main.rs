//! A container's whole life: create it, start it, follow its logs (stdout and stderr apart) while it
//! runs, wait for it, check its exit code and output, and remove it (always, even after a failure).

use serde_json::{json, Value};
use tug_sdk::types::StreamKind;
use tug_sdk::{container_streams, containers, engine, engines::Engine, frames};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const IMAGE: &str = "tug-test/busybox:latest";
const SCRIPT: &str = "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done; exit 7";

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("ok");
}

fn run() -> Result<()> {
    let docker = engine();
    let config = json!({
        "Image": IMAGE,
        "Cmd": ["sh", "-c", SCRIPT],
        "Labels": {"org.example.plugin": "lifecycle"},
    });
    let created: Value = serde_json::from_str(&containers::create(
        &docker,
        &config.to_string(),
        &Default::default(),
    )?)?;
    let id = created["Id"]
        .as_str()
        .ok_or_else(|| format!("create answered no Id: {created}"))?
        .to_owned();
    println!("created container {}", short(&id));

    let outcome = exercise(&docker, &id);

    let remove = containers::RemoveOptions {
        force: Some(true),
        ..Default::default()
    };
    let removed = containers::remove(&docker, &id, remove);
    match &removed {
        Ok(()) => println!("removed container {}", short(&id)),
        Err(e) => eprintln!("error: removing container {}: {e}", short(&id)),
    }
    outcome?;
    Ok(removed?)
}

fn exercise(docker: &Engine, id: &str) -> Result<()> {
    containers::start(docker, id, &Default::default())?;
    println!("started");

    let options = container_streams::LogsOptions {
        follow: Some(true),
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    };
    let logs = container_streams::logs(docker, id, &options)?;
    println!("following the logs (tty: {})", logs.tty());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for frame in frames(&logs) {
        let frame = frame?;
        let text = String::from_utf8_lossy(&frame.data);
        let kind = match frame.stream {
            StreamKind::Stdout => {
                stdout.extend_from_slice(&frame.data);
                "stdout"
            }
            StreamKind::Stderr => {
                stderr.extend_from_slice(&frame.data);
                "stderr"
            }
            other => return Err(format!("unexpected {other:?} frame {text:?}").into()),
        };
        println!("{kind} frame: {text:?}");
    }
    println!("the logs ended");

    let waited: Value = serde_json::from_str(&containers::wait(docker, id, &Default::default())?)?;
    let code = waited["StatusCode"]
        .as_i64()
        .ok_or_else(|| format!("wait answered no StatusCode: {waited}"))?;
    println!("exit code {code}");

    check_eq("exit code", &7, &code)?;
    check_eq("stdout", "out1\nout2\nout3\n", &String::from_utf8_lossy(&stdout))?;
    check_eq("stderr", "err1\nerr2\nerr3\n", &String::from_utf8_lossy(&stderr))?;
    println!("exit code, stdout and stderr are as expected");
    Ok(())
}

/// The first 12 characters of an ID, as `docker ps` shows it.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Fails, saying what differed, unless `actual` is `expected`.
fn check_eq<T: PartialEq + std::fmt::Debug + ?Sized>(what: &str, expected: &T, actual: &T) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, got {actual:?}").into())
    }
}
