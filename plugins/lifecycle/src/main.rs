//! A container's whole life: create it, start it, follow its logs (stdout and stderr apart) while it
//! runs, wait for it, check its exit code and output, and remove it (always, even after a failure).

use tug_sdk::container_streams::LogsOptions;
use tug_sdk::docker::{Container, Docker, Error, RunOptions};
use tug_sdk::types::StreamKind;

const IMAGE: &str = "tug-test/busybox:latest";
const SCRIPT: &str = "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done; exit 7";

fn main() {
    tug_sdk::main(run);
    println!("ok");
}

fn run() -> Result<(), Error> {
    let docker = Docker::from_env()?;
    let options = RunOptions::new()
        .command(["sh", "-c", SCRIPT])
        .label("org.example.plugin", "lifecycle");
    let container = docker.containers().create(IMAGE, &options)?;
    let short = container.short_id().to_owned();
    println!("created container {short}");
    // The container goes when `exercise` is done with it, whatever happened.
    container.scoped(exercise)?;
    println!("removed container {short}");
    Ok(())
}

fn exercise(container: &Container) -> Result<(), Error> {
    container.start()?;
    println!("started");

    let logs = container.logs(LogsOptions {
        follow: Some(true),
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    })?;
    println!("following the logs (tty: {})", logs.tty());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for frame in logs {
        let frame = frame?;
        let text = String::from_utf8_lossy(&frame.data);
        match frame.stream {
            StreamKind::Stdout => stdout.extend_from_slice(&frame.data),
            StreamKind::Stderr => stderr.extend_from_slice(&frame.data),
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unexpected {other:?} frame {text:?}"
                )))
            }
        }
        println!("{:?} frame: {text:?}", frame.stream);
    }
    println!("the logs ended");

    let code = container.wait(Default::default())?.status_code.unwrap_or(-1);
    println!("exit code {code}");
    let got = (
        code,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    );
    let want = (
        7,
        "out1\nout2\nout3\n".to_owned(),
        "err1\nerr2\nerr3\n".to_owned(),
    );
    if got != want {
        return Err(Error::InvalidArgument(format!(
            "exit code, stdout, stderr: expected {want:?}, got {got:?}"
        )));
    }
    println!("exit code, stdout and stderr are as expected");
    Ok(())
}
