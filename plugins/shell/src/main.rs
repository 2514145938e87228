//! An interactive exec, as in docker-py's documentation: a shell in a running container, commands sent to
//! its stdin, its output read as it comes, and its exit code from the exec instance.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tug_sdk::types::StreamKind;
use tug_sdk::{collect_output, containers, engine, engines::Engine, exec, exec_streams, frames, write_all};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const IMAGE: &str = "tug-test/busybox:latest";

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
        "Cmd": ["sleep", "60"],
        "Labels": {"org.example.plugin": "shell"},
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
    println!("started `sleep 60`");

    let config = json!({
        "Cmd": ["sh"],
        "AttachStdin": true,
        "AttachStdout": true,
        "AttachStderr": true,
        "Tty": false,
    });
    let instance: Value = serde_json::from_str(&exec::create(docker, id, &config.to_string())?)?;
    let exec_id = instance["Id"]
        .as_str()
        .ok_or_else(|| format!("exec create answered no Id: {instance}"))?;
    println!("created exec instance {} (sh)", short(exec_id));

    let socket = exec_streams::start(
        docker,
        exec_id,
        exec_streams::StartOptions {
            tty: Some(false),
            stdin: Some(true),
        },
    )?;
    let stdin = socket.stdin()?;
    println!("attached (tty: {}); sending `ls -la /`", socket.tty());
    write_all(&stdin, b"ls -la /\n")?;

    let mut output = frames(&socket);
    let mut listing = String::new();
    while !(listing.contains("bin") && listing.contains("proc")) {
        let frame = output.next().ok_or("the output ended before the listing did")??;
        match frame.stream {
            StreamKind::Stdout => listing.push_str(&String::from_utf8_lossy(&frame.data)),
            _ => eprintln!(
                "{:?}: {}",
                frame.stream,
                String::from_utf8_lossy(&frame.data).trim_end()
            ),
        }
    }
    println!("the listing of / contains bin and proc:");
    for line in listing.lines() {
        println!("  {line}");
    }

    println!("sending `exit 3`");
    write_all(&stdin, b"exit 3\n")?;
    drop(stdin);
    let (rest, errors) = collect_output(output)?;
    println!(
        "the output ended ({} more bytes of stdout, {} of stderr)",
        rest.len(),
        errors.len()
    );

    // The output ends when the process does; the daemon may record the exit a moment later.
    let deadline = Instant::now() + Duration::from_secs(10);
    let inspected = loop {
        let inspected: Value = serde_json::from_str(&exec::inspect(docker, exec_id)?)?;
        if inspected["Running"] == Value::Bool(false) || Instant::now() > deadline {
            break inspected;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let code = &inspected["ExitCode"];
    println!("exec inspect: Running {}, ExitCode {code}", inspected["Running"]);
    if code != &json!(3) {
        return Err(format!("exec ExitCode: expected 3, got {code}").into());
    }
    Ok(())
}

/// The first 12 characters of an ID, as `docker ps` shows it.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
