//! A tour of the Engine API operations the other example plugins do not call, each checked: container
//! list/top/changes/resize/stop/restart/kill/rename/pause/unpause/prune/stats/attach, exec resize, image
//! list/history/tag/search/prune/commit/save-all, build-cache prune, data usage, registry auth, distribution
//! inspect, and checkpoint create/delete (error path: they need an experimental engine).
//!
//! Run it with `--policy trusted` (registry auth needs `system` write) or a policy granting as much.

use tug_sdk::container_streams::AttachOptions;
use tug_sdk::containers::{KillOptions, RemoveOptions, RestartOptions, StopOptions};
use tug_sdk::docker::{filters, Container, Docker, ExecOptions, RunOptions};
use tug_sdk::images::{CommitOptions, TagOptions};
use tug_sdk::types::{AuthConfig, Error};
use tug_sdk::{collect_output, containers, exec, frames, images, read_to_end, system, write_all};

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const IMAGE: &str = "tug-test/busybox:latest";
/// The label of everything the tour makes, so that its prunes touch nothing else (under `trusted`,
/// prunes are not narrowed to the run).
const LABEL: &str = "org.example.tour";
const COMMITTED: &str = "127.0.0.1:5000/tug-tour/committed";
const TAGGED: &str = "127.0.0.1:5000/tug-tour/tagged";

fn main() {
    tug_sdk::main(|| {
        let docker = Docker::from_env()?;
        let mut made = Vec::new();
        let outcome = run(&docker, &mut made);
        for container in made {
            let _ = container.remove(RemoveOptions {
                force: Some(true),
                ..Default::default()
            });
        }
        outcome
    });
    println!("ok");
}

fn run(docker: &Docker, made: &mut Vec<Container>) -> Result {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let tag = format!("tour-{}", nanos % 1_000_000_000);

    // A running container with a TTY: top, changes, resize, stats, pause, restart, kill, rename.
    let options = RunOptions::new()
        .command(["sh", "-c", "touch /tour; sleep 300"])
        .tty(true)
        .label(LABEL, "1");
    let container = docker.containers().create(IMAGE, &options)?;
    made.push(container.clone());
    container.start()?;
    let listed = docker.containers().list_summaries(Default::default())?;
    if !listed.iter().any(|c| c.id.as_ref() == Some(&container.id)) {
        return Err("list does not show the running container".into());
    }
    println!("list: {} container(s), ours among them", listed.len());
    let top = container.top(Default::default())?;
    println!("top: {} process(es)", top.processes.map_or(0, |p| p.len()));
    let changes = container.changes()?;
    if !changes.iter().any(|c| c.path.as_deref() == Some("/tour")) {
        return Err(format!("changes miss /tour: {changes:?}").into());
    }
    println!("changes: include /tour");
    container.resize(40, 100)?;
    println!("resize: 40x100");
    let first = container.stats_stream()?.next().ok_or("no stats")??;
    println!(
        "stats: a document with memory_stats: {}",
        first.memory_stats.is_some()
    );
    container.pause()?;
    container.unpause()?;
    println!("pause, unpause: done");
    container.restart(RestartOptions { t: Some(1) })?;
    println!("restart: done");
    let new_name = format!("tug-{tag}");
    container.rename(&new_name)?;
    println!("rename: now {new_name}");
    container.kill(KillOptions {
        signal: Some("SIGKILL".into()),
    })?;
    println!("kill: done");

    // Exec with a TTY, resized while it runs (`exec.resize` itself: the object layer does not wrap it).
    container.restart(RestartOptions { t: Some(0) })?;
    let tty = ExecOptions {
        tty: true,
        ..Default::default()
    };
    let (exec_id, socket) = container.exec_socket(&["sh"], tty)?;
    exec::resize(docker.engine(), &exec_id, 30, 90)?;
    write_all(&socket.stdin()?, b"stty size; exit\n")?;
    let (out, _) = collect_output(frames(&socket))?;
    let text = String::from_utf8_lossy(&out);
    if !text.contains("30 90") {
        return Err(format!("the exec's TTY is not 30x90: {text:?}").into());
    }
    println!("exec resize: stty says 30 90");
    container.stop(StopOptions { t: Some(1) })?;
    println!("stop: done");

    // Attach (hijacked, no TTY) to a container that reads a line.
    let mut options = RunOptions::new()
        .command(["sh", "-c", "read l; echo got:$l; echo err >&2"])
        .label(LABEL, "1");
    options.config.open_stdin = Some(true);
    options.config.stdin_once = Some(true);
    let reader = docker.containers().create(IMAGE, &options)?;
    made.push(reader.clone());
    let attached = reader.attach(AttachOptions {
        stream: Some(true),
        stdin: Some(true),
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    })?;
    reader.start()?;
    write_all(&attached.stdin()?, b"hello\n")?;
    attached.close_stdin()?;
    let (stdout, stderr) = collect_output(frames(&attached))?;
    let (stdout, stderr) = (String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    if stdout != "got:hello\n" || stderr != "err\n" {
        return Err(format!("attach: stdout {stdout:?}, stderr {stderr:?}").into());
    }
    println!("attach: stdout got:hello, stderr err");

    // A BuildKit session: the daemon upgrades the connection for its gRPC (tug passes the bytes through).
    let headers = [
        ("X-Docker-Expose-Session-Uuid".to_owned(), format!("tour{tag}")),
        ("X-Docker-Expose-Session-Name".to_owned(), "tour".to_owned()),
        ("X-Docker-Expose-Session-Sharedkey".to_owned(), "tour".to_owned()),
    ];
    let socket = system::session(docker.engine(), &headers).map_err(|e| format!("session: {e}"))?;
    println!("session: opened (tty {})", socket.tty());
    drop(socket);

    // Checkpoints exist only on experimental engines (the WIT functions themselves: the object layer does
    // not wrap them).
    let id = &container.id;
    for (what, result) in [
        (
            "checkpoint create",
            containers::checkpoint_create(docker.engine(), id, r#"{"CheckpointID":"c1"}"#),
        ),
        (
            "checkpoint delete",
            containers::checkpoint_delete(docker.engine(), id, "c1"),
        ),
    ] {
        match result {
            Err(Error::ApiVersion(m)) => println!("{what}: {m}"),
            other => return Err(format!("{what} on a non-experimental engine: {other:?}").into()),
        }
    }

    // Images: commit, tag, history, list, save-all, push for distribution inspect, search, prune.
    let image = container.commit(CommitOptions {
        repo: Some(COMMITTED.into()),
        tag: Some(tag.clone()),
        comment: Some("tour".into()),
        ..Default::default()
    })?;
    println!("commit: {}", image.id);
    let committed = format!("{COMMITTED}:{tag}");
    let tagged = format!("{TAGGED}:{tag}");
    image.tag(
        TAGGED,
        TagOptions {
            tag: Some(tag.clone()),
        },
    )?;
    let history = image.history()?;
    println!(
        "history: {} layer(s), newest comment {:?}",
        history.len(),
        history
            .first()
            .and_then(|h| h.comment.as_deref())
            .unwrap_or_default()
    );
    let listed = docker.images().list_summaries(Default::default())?;
    if !listed
        .iter()
        .any(|i| i.repo_tags.iter().flatten().any(|t| *t == tagged))
    {
        return Err("image list misses the tagged image".into());
    }
    println!("image list: shows the tagged image");
    let tar = read_to_end(&docker.images().save_all(&[committed.clone(), tagged.clone()])?)?;
    println!("save-all: {} bytes", tar.len());
    for message in docker.images().push(&tagged, Default::default(), None)? {
        if let Some(error) = message?.error {
            return Err(format!("push: {error}").into());
        }
    }
    let described = docker.images().get_registry_data(&tagged, None)?;
    println!(
        "distribution inspect: {}",
        described
            .descriptor
            .and_then(|d| d.media_type)
            .unwrap_or_else(|| "?".into())
    );
    match docker
        .images()
        .search("127.0.0.1:5000/tug-tour", Default::default())
    {
        Ok(found) => println!("search: {} result(s)", found.len()),
        // The local registry (distribution v2) has no v1 search API: the daemon's error comes back.
        Err(e) => {
            let e: String = e.to_string().chars().take(120).collect();
            println!("search: the registry has no search API ({e})");
        }
    }
    for name in [&committed, &tagged] {
        let force = images::RemoveOptions {
            force: Some(true),
            noprune: None,
        };
        docker.images().remove(name, force)?;
    }
    let ours = Some(filters([("label", LABEL)]));
    let pruned = docker.images().prune(images::PruneOptions {
        filters: ours.clone(),
    })?;
    println!("image prune: reclaimed {}", pruned.space_reclaimed.unwrap_or(0));
    let pruned = docker.images().build_prune(Default::default())?;
    println!("build prune: reclaimed {}", pruned.space_reclaimed.unwrap_or(0));

    // Containers prune (the stopped reader), data usage, registry auth.
    let pruned = docker
        .containers()
        .prune(containers::PruneOptions { filters: ours })?;
    println!(
        "container prune: {} removed",
        pruned.containers_deleted.map_or(0, |d| d.len())
    );
    let usage = docker.data_usage()?;
    println!("data usage: {} image(s)", usage.images.map_or(0, |i| i.len()));
    let answer = docker.auth(&AuthConfig {
        username: Some("tug".into()),
        password: Some("tug-secret".into()),
        server_address: Some("127.0.0.1:5001".into()),
        identity_token: None,
        registry_token: None,
    })?;
    println!("auth: {}", answer.status.unwrap_or_else(|| "?".into()));
    Ok(())
}
