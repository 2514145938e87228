//! matrix: runs one test command against several images at once — one container each, all started
//! together, their output interleaved as it comes with each line prefixed by its image — then prints a
//! table of exit codes and times and exits non-zero if any failed. See README.md.
//!
//! ```text
//! tug run matrix.wasm -- --image IMAGE [--image IMAGE...] -- COMMAND...
//! ```

use std::time::Instant;

use tug_sdk::docker::{ready, take_lines, Container, Docker, Error, Logs, RunOptions};
use tug_sdk::types::StreamKind;
use tug_sdk::{container_streams, containers};

/// One cell of the matrix.
struct Job {
    image: String,
    container: Container,
    /// The output, until it ends.
    logs: Option<Logs>,
    /// The start of a line not ended yet, per stream (stdout, stderr).
    partial: [Vec<u8>; 2],
    started: Instant,
    /// The exit code and the seconds it took, once it has ended.
    result: Option<(i64, f64)>,
}

fn main() {
    let mut failed = 0;
    tug_sdk::main(|| -> Result<(), Error> {
        failed = run()?;
        Ok(())
    });
    if failed > 0 {
        eprintln!("matrix: {failed} failed");
        tug_sdk::exit(1);
    }
    println!("ok");
}

fn args() -> Result<(Vec<String>, Vec<String>), Error> {
    let (mut images, mut command) = (Vec::new(), Vec::new());
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--image" => images.push(
                it.next()
                    .ok_or_else(|| Error::InvalidArgument("--image needs a value".into()))?,
            ),
            "--" => {
                command = it.collect();
                break;
            }
            other => return Err(Error::InvalidArgument(format!("unknown argument {other:?}"))),
        }
    }
    if images.is_empty() || command.is_empty() {
        return Err(Error::InvalidArgument(
            "usage: matrix --image IMAGE [--image IMAGE...] -- COMMAND...".into(),
        ));
    }
    Ok((images, command))
}

/// Runs the matrix; how many cells failed.
fn run() -> Result<usize, Error> {
    let (images, command) = args()?;
    let docker = Docker::from_env()?;
    let mut jobs = Vec::new();
    let outcome = start_all(&docker, &images, &command, &mut jobs).and_then(|()| follow(&mut jobs));
    // Whatever happened, no container is left behind.
    for job in &jobs {
        let _ = job.container.remove(containers::RemoveOptions {
            force: Some(true),
            ..Default::default()
        });
    }
    outcome?;
    println!("{:<40} {:>4} {:>8}", "IMAGE", "EXIT", "SECONDS");
    let mut failed = 0;
    for job in &jobs {
        let (code, secs) = job.result.unwrap_or((-1, 0.0));
        println!("{:<40} {:>4} {:>8.2}", job.image, code, secs);
        failed += usize::from(code != 0);
    }
    Ok(failed)
}

fn start_all(
    docker: &Docker,
    images: &[String],
    command: &[String],
    jobs: &mut Vec<Job>,
) -> Result<(), Error> {
    for image in images {
        let options = RunOptions::new()
            .command(command.iter().map(String::as_str))
            .label("org.example.matrix", "cell");
        let container = docker.containers().create(image, &options)?;
        jobs.push(Job {
            image: image.clone(),
            container,
            logs: None,
            partial: [Vec::new(), Vec::new()],
            started: Instant::now(),
            result: None,
        });
    }
    // Start them together, then follow each one's output.
    for job in jobs.iter_mut() {
        job.container.start()?;
        job.started = Instant::now();
        job.logs = Some(job.container.logs(container_streams::LogsOptions {
            follow: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })?);
    }
    Ok(())
}

/// Reads whichever output is ready until all have ended, printing whole lines prefixed by the image.
fn follow(jobs: &mut [Job]) -> Result<(), Error> {
    loop {
        let open: Vec<usize> = (0..jobs.len()).filter(|&i| jobs[i].logs.is_some()).collect();
        if open.is_empty() {
            return Ok(());
        }
        let streams: Vec<&Logs> = open.iter().filter_map(|&i| jobs[i].logs.as_ref()).collect();
        for i in ready(&streams) {
            let job = &mut jobs[open[i]];
            let next = job.logs.as_mut().and_then(Iterator::next);
            match next {
                Some(frame) => {
                    let frame = frame?;
                    let which = usize::from(frame.stream == StreamKind::Stderr);
                    job.partial[which].extend_from_slice(&frame.data);
                    print_lines(&job.image, which, &mut job.partial[which], false);
                }
                None => {
                    job.logs = None;
                    for which in 0..2 {
                        print_lines(&job.image, which, &mut job.partial[which], true);
                    }
                    let code = job.container.wait(Default::default())?.status_code.unwrap_or(-1);
                    job.result = Some((code, job.started.elapsed().as_secs_f64()));
                    println!("[{}] exited with {code}", job.image);
                }
            }
        }
    }
}

/// Prints the whole lines of `buf` (all of it when `end`), each prefixed by `[image]`, to stdout or
/// stderr; keeps the unfinished rest.
fn print_lines(image: &str, which: usize, buf: &mut Vec<u8>, end: bool) {
    for line in take_lines(buf, end) {
        if which == 1 {
            eprintln!("[{image}] {line}");
        } else {
            println!("[{image}] {line}");
        }
    }
}
