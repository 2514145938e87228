//! An interactive exec, as in docker-py's documentation: a shell in a running container, commands sent to
//! its stdin, its output read as it comes, and its exit code from the exec instance.

use tug_sdk::docker::{short_id, Container, Docker, Error, ExecOptions, RunOptions};
use tug_sdk::types::StreamKind;
use tug_sdk::{collect_output, frames, write_all};

const IMAGE: &str = "tug-test/busybox:latest";

fn main() {
    tug_sdk::main(run);
    println!("ok");
}

fn run() -> Result<(), Error> {
    let docker = Docker::from_env()?;
    // `run` with `detach`: created and started, then handed back.
    let container = docker
        .containers()
        .run(
            IMAGE,
            RunOptions::new()
                .command(["sleep", "60"])
                .label("org.example.plugin", "shell")
                .detach(true),
        )?
        .into_container()
        .ok_or_else(|| Error::InvalidArgument("a detached run returned no container".into()))?;
    let short = container.short_id().to_owned();
    println!("started `sleep 60` in container {short}");
    container.scoped(exercise)?;
    println!("removed container {short}");
    Ok(())
}

fn exercise(container: &Container) -> Result<(), Error> {
    let (exec_id, socket) = container.exec_socket(&["sh"], ExecOptions::default())?;
    println!("created exec instance {} (sh)", short_id(&exec_id));
    let stdin = socket.stdin()?;
    println!("attached (tty: {}); sending `ls -la /`", socket.tty());
    write_all(&stdin, b"ls -la /\n")?;

    let mut output = frames(&socket);
    let mut listing = String::new();
    while !(listing.contains("bin") && listing.contains("proc")) {
        let frame = output
            .next()
            .ok_or_else(|| Error::Transport("the output ended before the listing did".into()))??;
        match frame.stream {
            StreamKind::Stdout => listing.push_str(&String::from_utf8_lossy(&frame.data)),
            other => eprintln!("{other:?}: {}", String::from_utf8_lossy(&frame.data).trim_end()),
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

    let inspected = container.exec_wait(&exec_id)?;
    let (running, code) = (inspected.running.unwrap_or(true), inspected.exit_code);
    println!(
        "exec inspect: Running {running}, ExitCode {}",
        code.map_or("null".to_owned(), |c| c.to_string())
    );
    if code != Some(3) {
        return Err(Error::InvalidArgument(format!(
            "exec ExitCode: expected 3, got {code:?}"
        )));
    }
    Ok(())
}
