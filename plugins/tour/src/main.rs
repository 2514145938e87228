//! A tour of the Engine API operations the other example plugins do not call, each checked: container
//! list/top/changes/resize/stop/restart/kill/rename/pause/unpause/prune/stats/attach, exec resize, image
//! list/history/tag/search/prune/commit/save-all, build-cache prune, data usage, registry auth, distribution
//! inspect, and checkpoint create/delete (error path: they need an experimental engine).
//!
//! Run it with `--policy trusted` (registry auth needs `system` write) or a policy granting as much.

use serde_json::{json, Value};
use tug_sdk::engines::Engine;
use tug_sdk::types::{AuthConfig, Error};
use tug_sdk::{
    container_streams, containers, distribution, documents, engine, exec, exec_streams, frames,
    image_streams, images, read_to_end, system, write_all,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const IMAGE: &str = "tug-test/busybox:latest";

fn main() {
    let docker = engine();
    let mut made: Vec<String> = Vec::new();
    let outcome = run(&docker, &mut made);
    for id in made {
        let _ = containers::remove(
            &docker,
            &id,
            containers::RemoveOptions {
                force: Some(true),
                ..Default::default()
            },
        );
    }
    if let Err(e) = outcome {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("ok");
}

/// The label of everything the tour makes, so that its prunes touch nothing else (under `trusted`,
/// prunes are not narrowed to the run).
const LABEL: &str = "org.example.tour";

fn create(docker: &Engine, mut body: Value, made: &mut Vec<String>) -> Result<String> {
    body["Labels"] = json!({ LABEL: "1" });
    let v: Value = serde_json::from_str(&containers::create(
        docker,
        &body.to_string(),
        &Default::default(),
    )?)?;
    let id = v["Id"].as_str().ok_or("no Id")?.to_owned();
    made.push(id.clone());
    Ok(id)
}

fn run(docker: &Engine, made: &mut Vec<String>) -> Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let tag = format!("tour-{}", nanos % 1_000_000_000);
    // A running container with a TTY: top, changes, resize, stats, pause, restart, kill, rename.
    let id = create(
        docker,
        json!({"Image": IMAGE, "Cmd": ["sh", "-c", "touch /tour; sleep 300"], "Tty": true}),
        made,
    )?;
    containers::start(docker, &id, &Default::default())?;
    let list: Value = serde_json::from_str(&containers::list(docker, &Default::default())?)?;
    let listed = list.as_array().map_or(0, Vec::len);
    if !list.to_string().contains(&id) {
        return Err("list does not show the running container".into());
    }
    println!("list: {listed} container(s), ours among them");
    let top: Value = serde_json::from_str(&containers::top(docker, &id, &Default::default())?)?;
    println!(
        "top: {} process(es)",
        top["Processes"].as_array().map_or(0, Vec::len)
    );
    let changes = containers::changes(docker, &id)?;
    if !changes.contains("/tour") {
        return Err(format!("changes miss /tour: {changes}").into());
    }
    println!("changes: include /tour");
    containers::resize(docker, &id, 40, 100)?;
    println!("resize: 40x100");
    let stats = container_streams::stats(docker, &id)?;
    let first = documents(&stats).next().ok_or("no stats")??;
    let first: Value = serde_json::from_str(&first)?;
    println!(
        "stats: a document with memory_stats: {}",
        first.get("memory_stats").is_some()
    );
    drop(stats);
    containers::pause(docker, &id)?;
    containers::unpause(docker, &id)?;
    println!("pause, unpause: done");
    containers::restart(docker, &id, containers::RestartOptions { t: Some(1) })?;
    println!("restart: done");
    let new_name = format!("tug-{tag}");
    containers::rename(docker, &id, &new_name)?;
    println!("rename: now {new_name}");
    containers::kill(
        docker,
        &id,
        &containers::KillOptions {
            signal: Some("SIGKILL".into()),
        },
    )?;
    println!("kill: done");

    // Exec with a TTY, resized while it runs.
    containers::restart(docker, &id, containers::RestartOptions { t: Some(0) })?;
    let created: Value = serde_json::from_str(&exec::create(
        docker,
        &id,
        &json!({"Cmd": ["sh"], "Tty": true, "AttachStdin": true, "AttachStdout": true}).to_string(),
    )?)?;
    let exec_id = created["Id"].as_str().ok_or("no exec Id")?.to_owned();
    let socket = exec_streams::start(
        docker,
        &exec_id,
        exec_streams::StartOptions {
            tty: Some(true),
            stdin: Some(true),
        },
    )?;
    exec::resize(docker, &exec_id, 30, 90)?;
    let stdin = socket.stdin()?;
    write_all(&stdin, b"stty size; exit\n")?;
    let mut out = Vec::new();
    for f in frames(&socket) {
        out.extend_from_slice(&f?.data);
    }
    let text = String::from_utf8_lossy(&out);
    if !text.contains("30 90") {
        return Err(format!("the exec's TTY is not 30x90: {text:?}").into());
    }
    println!("exec resize: stty says 30 90");
    containers::stop(docker, &id, containers::StopOptions { t: Some(1) })?;
    println!("stop: done");

    // Attach (hijacked, no TTY) to a container that reads a line.
    let reader = create(
        docker,
        json!({"Image": IMAGE, "Cmd": ["sh", "-c", "read l; echo got:$l; echo err >&2"], "OpenStdin": true, "StdinOnce": true}),
        made,
    )?;
    let attached = container_streams::attach(
        docker,
        &reader,
        &container_streams::AttachOptions {
            stream: Some(true),
            stdin: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        },
    )?;
    containers::start(docker, &reader, &Default::default())?;
    write_all(&attached.stdin()?, b"hello\n")?;
    attached.close_stdin()?;
    let (o, e) = tug_sdk::collect_output(frames(&attached))?;
    if String::from_utf8_lossy(&o) != "got:hello\n" || String::from_utf8_lossy(&e) != "err\n" {
        return Err(format!(
            "attach: stdout {:?}, stderr {:?}",
            String::from_utf8_lossy(&o),
            String::from_utf8_lossy(&e)
        )
        .into());
    }
    println!("attach: stdout got:hello, stderr err");

    // A BuildKit session: the daemon upgrades the connection for its gRPC (tug passes the bytes through).
    let headers = [
        ("X-Docker-Expose-Session-Uuid".to_owned(), format!("tour{tag}")),
        ("X-Docker-Expose-Session-Name".to_owned(), "tour".to_owned()),
        ("X-Docker-Expose-Session-Sharedkey".to_owned(), "tour".to_owned()),
    ];
    match system::session(docker, &headers) {
        Ok(socket) => {
            println!("session: opened (tty {})", socket.tty());
            drop(socket);
        }
        Err(e) => return Err(format!("session: {e}").into()),
    }

    // Checkpoints exist only on experimental engines.
    for (what, result) in [
        (
            "checkpoint create",
            containers::checkpoint_create(docker, &id, r#"{"CheckpointID":"c1"}"#),
        ),
        (
            "checkpoint delete",
            containers::checkpoint_delete(docker, &id, "c1"),
        ),
    ] {
        match result {
            Err(Error::ApiVersion(m)) => println!("{what}: {m}"),
            other => return Err(format!("{what} on a non-experimental engine: {other:?}").into()),
        }
    }
    // Images: commit, tag, history, list, save-all, push for distribution inspect, search, prune.
    let committed_repo = "127.0.0.1:5000/tug-tour/committed";
    let commit: Value = serde_json::from_str(&images::commit(
        docker,
        &id,
        None,
        &images::CommitOptions {
            repo: Some(committed_repo.into()),
            tag: Some(tag.clone()),
            comment: Some("tour".into()),
            ..Default::default()
        },
    )?)?;
    println!("commit: {}", commit["Id"].as_str().unwrap_or("?"));
    let committed = format!("{committed_repo}:{tag}");
    let extra = format!("127.0.0.1:5000/tug-tour/tagged:{tag}");
    images::tag(
        docker,
        &committed,
        "127.0.0.1:5000/tug-tour/tagged",
        &images::TagOptions {
            tag: Some(tag.clone()),
        },
    )?;
    let history: Value = serde_json::from_str(&images::history(docker, &committed)?)?;
    println!(
        "history: {} layer(s), newest comment {:?}",
        history.as_array().map_or(0, Vec::len),
        history[0]["Comment"]
    );
    let list = images::list(docker, &Default::default())?;
    if !list.contains(&extra) {
        return Err("image list misses the tagged image".into());
    }
    println!("image list: shows the tagged image");
    let tar = read_to_end(&image_streams::save_all(
        docker,
        &[committed.clone(), extra.clone()],
    )?)?;
    println!("save-all: {} bytes", tar.len());
    for doc in documents(&image_streams::push(docker, &extra, &Default::default(), None)?) {
        let doc: Value = serde_json::from_str(&doc?)?;
        if doc.get("error").is_some() {
            return Err(format!("push: {doc}").into());
        }
    }
    let described: Value = serde_json::from_str(&distribution::inspect(docker, &extra, None)?)?;
    println!(
        "distribution inspect: {}",
        described["Descriptor"]["mediaType"].as_str().unwrap_or("?")
    );
    match images::search(docker, "127.0.0.1:5000/tug-tour", &Default::default()) {
        Ok(found) => println!("search: {found}"),
        // The local registry (distribution v2) has no v1 search API: the daemon's error comes back.
        Err(e) => println!("search: the registry has no search API ({})", short(&e)),
    }
    for name in [&committed, &extra] {
        images::remove(
            docker,
            name,
            images::RemoveOptions {
                force: Some(true),
                noprune: None,
            },
        )?;
    }
    let ours = Some(vec![("label".to_owned(), vec![LABEL.to_owned()])]);
    let pruned: Value = serde_json::from_str(&images::prune(
        docker,
        &images::PruneOptions {
            filters: ours.clone(),
        },
    )?)?;
    println!("image prune: reclaimed {}", pruned["SpaceReclaimed"]);
    let pruned: Value = serde_json::from_str(&images::build_prune(docker, &Default::default())?)?;
    println!("build prune: reclaimed {}", pruned["SpaceReclaimed"]);

    // Containers prune (the stopped reader), data usage, registry auth.
    let pruned: Value = serde_json::from_str(&containers::prune(
        docker,
        &containers::PruneOptions { filters: ours },
    )?)?;
    println!(
        "container prune: {} removed",
        pruned["ContainersDeleted"].as_array().map_or(0, Vec::len)
    );
    let df: Value = serde_json::from_str(&system::data_usage(docker)?)?;
    println!(
        "data usage: {} image(s)",
        df["Images"].as_array().map_or(0, Vec::len)
    );
    let auth = AuthConfig {
        username: Some("tug".into()),
        password: Some("tug-secret".into()),
        server_address: Some("127.0.0.1:5001".into()),
        identity_token: None,
        registry_token: None,
    };
    let answer: Value = serde_json::from_str(&system::auth(docker, &auth)?)?;
    println!("auth: {}", answer["Status"].as_str().unwrap_or("?"));

    Ok(())
}

fn short(e: &Error) -> String {
    let text = e.to_string();
    text.chars().take(120).collect()
}
