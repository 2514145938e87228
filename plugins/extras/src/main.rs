//! The operations outside the main areas, each checked: HEAD ping, attaching to a container over a
//! WebSocket (stdin in, output out), build cancel, image attestations and checkpoints (which this engine
//! answers with a clear API-version error: they need API 1.55 and experimental features; so does a
//! volume update, which needs 1.42), and a session
//! (refused by every policy but an unrestricted one).

use tug_sdk::docker::{Docker, RunOptions};
use tug_sdk::types::Error;
use tug_sdk::{container_streams, containers, frames, images, system, volumes, write_all};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn main() {
    tug_sdk::main(run);
    println!("ok");
}

fn run() -> Result<()> {
    let client = Docker::from_env()?;
    let docker = client.engine();
    let head = system::ping_head(docker)?;
    println!("ping-head: api-version {}", head.api_version);

    // WebSocket attach: the container reads a line and answers.
    let mut options = RunOptions::new().command(["sh", "-c", "read line; echo got:$line"]);
    options.config.open_stdin = Some(true);
    options.config.stdin_once = Some(true);
    options.config.attach_stdin = Some(true);
    options.config.attach_stdout = Some(true);
    let container = client.containers().create("tug-test/busybox:latest", &options)?;
    let id = container.id.clone();
    let outcome = websocket(docker, &id);
    let checkpoints = containers::checkpoint_list(docker, &id);
    container.remove(containers::RemoveOptions {
        force: Some(true),
        ..Default::default()
    })?;
    outcome?;
    match checkpoints {
        Err(Error::ApiVersion(m)) => println!("checkpoints: {m}"),
        other => return Err(format!("checkpoints on a non-experimental engine: {other:?}").into()),
    }

    images::build_cancel(docker, "tug-no-such-build")?;
    println!("build-cancel: accepted");
    match images::attestations(docker, "tug-test/busybox:latest", None) {
        Err(Error::ApiVersion(m)) => println!("attestations: {m}"),
        Ok(list) => println!("attestations: {list}"),
        Err(e) => return Err(format!("attestations: {e}").into()),
    }
    match volumes::update(docker, "tug-extras-volume", 1, "{\"Spec\":{}}") {
        Err(Error::ApiVersion(m)) => println!("volume-update: {m}"),
        other => return Err(format!("volume update on API 1.41: {other:?}").into()),
    }
    match system::session(docker, &[]) {
        Err(Error::Denied(d)) => println!("session: denied by {}", d.rule),
        Ok(_) => println!("session: opened"),
        Err(e) => println!("session: {e}"),
    }
    Ok(())
}

fn websocket(docker: &tug_sdk::engines::Engine, id: &str) -> Result<()> {
    let options = container_streams::AttachOptions {
        stream: Some(true),
        stdin: Some(true),
        stdout: Some(true),
        ..Default::default()
    };
    let socket = container_streams::attach_websocket(docker, id, &options)?;
    containers::start(docker, id, &Default::default())?;
    let stdin = socket.stdin()?;
    write_all(&stdin, b"over the websocket\n")?;
    let mut out = Vec::new();
    for frame in frames(&socket) {
        out.extend_from_slice(&frame?.data);
        if String::from_utf8_lossy(&out).contains("got:over the websocket") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&out);
    if !text.contains("got:over the websocket") {
        return Err(format!("the container answered {text:?}").into());
    }
    println!("attach-websocket: the container answered {:?}", text.trim());
    Ok(())
}
