//! fleet: runs one job on several engines at once — a container on each engine the run was given, all
//! started together, their output followed together (one `wasi:io/poll` over log streams of different
//! engines), each line prefixed with its engine — then prints a table per engine: exit code, seconds,
//! the engine's host name and its last line of output, or the error that engine gave. An engine that
//! fails (refuses, cannot be reached, dies mid-run) fails only its own row; the others finish. Exits 1
//! if any row failed. See README.md.
//!
//! ```text
//! tug run --engine b=URL --engine c=URL fleet.wasm -- \
//!     [--engine NAME...] [--image IMAGE] -- COMMAND...
//! ```

use std::time::Instant;

use tug_sdk::docker::{ready, take_lines, Container, Docker, Error, Logs, RunOptions};
use tug_sdk::types::StreamKind;
use tug_sdk::{container_streams, containers};

/// The job on one engine.
struct Job {
    engine: String,
    docker: Option<Docker>,
    container: Option<Container>,
    /// The output, until it ends.
    logs: Option<Logs>,
    /// The start of a line not ended yet, per stream (stdout, stderr).
    partial: [Vec<u8>; 2],
    /// The last whole line of stdout.
    last: String,
    started: Instant,
    /// The engine's host name (`info`'s `Name`).
    host: String,
    /// How it ended: the exit code and seconds, or the error the engine gave.
    result: Option<Result<(i64, f64), String>>,
}

impl Job {
    fn fail(&mut self, e: &Error) {
        eprintln!("[{}] failed: {e}", self.engine);
        self.logs = None;
        self.result = Some(Err(e.to_string()));
    }
}

struct Args {
    engines: Vec<String>,
    image: String,
    command: Vec<String>,
}

fn main() {
    let mut failed = 0;
    tug_sdk::main(|| -> Result<(), Error> {
        failed = run()?;
        Ok(())
    });
    if failed > 0 {
        eprintln!("fleet: {failed} engine(s) failed");
        tug_sdk::exit(1);
    }
}

fn args() -> Result<Args, Error> {
    let mut a = Args {
        engines: Vec::new(),
        image: "tug-test/busybox:latest".into(),
        command: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    let value = |it: &mut dyn Iterator<Item = String>, flag: &str| {
        it.next()
            .ok_or_else(|| Error::InvalidArgument(format!("{flag} needs a value")))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--engine" => a.engines.push(value(&mut it, "--engine")?),
            "--image" => a.image = value(&mut it, "--image")?,
            "--" => {
                a.command = it.collect();
                break;
            }
            other => return Err(Error::InvalidArgument(format!("unknown argument {other:?}"))),
        }
    }
    if a.engines.is_empty() {
        // Every engine the run was given.
        a.engines = Docker::engine_names();
    }
    if a.command.is_empty() {
        return Err(Error::InvalidArgument(
            "usage: fleet [--engine NAME...] [--image IMAGE] -- COMMAND...".into(),
        ));
    }
    Ok(a)
}

/// Runs the job everywhere; how many engines failed.
fn run() -> Result<usize, Error> {
    let a = args()?;
    let started = Instant::now();
    let mut jobs: Vec<Job> = a
        .engines
        .iter()
        .map(|name| Job {
            engine: name.clone(),
            docker: None,
            container: None,
            logs: None,
            partial: [Vec::new(), Vec::new()],
            last: String::new(),
            started: Instant::now(),
            host: String::new(),
            result: None,
        })
        .collect();
    for job in &mut jobs {
        if let Err(e) = start(job, &a) {
            job.fail(&e);
        }
    }
    follow(&mut jobs);
    // Whatever happened, no container is left behind (tug removes what an engine that died keeps).
    for job in &jobs {
        if let Some(c) = &job.container {
            let _ = c.remove(containers::RemoveOptions {
                force: Some(true),
                ..Default::default()
            });
        }
    }
    println!(
        "{:<12} {:>4} {:>8}  {:<14} RESULT",
        "ENGINE", "EXIT", "SECONDS", "HOST"
    );
    let mut failed = 0;
    for job in &jobs {
        let (exit, secs, result) = match &job.result {
            Some(Ok((code, secs))) => (code.to_string(), format!("{secs:.2}"), job.last.clone()),
            Some(Err(e)) => ("-".into(), "-".into(), format!("error: {e}")),
            None => ("-".into(), "-".into(), "error: did not finish".into()),
        };
        failed += usize::from(!matches!(job.result, Some(Ok((0, _)))));
        println!(
            "{:<12} {:>4} {:>8}  {:<14} {result}",
            job.engine, exit, secs, job.host
        );
    }
    println!(
        "fleet: {} engine(s) in {:.2} s",
        jobs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(failed)
}

/// Opens the engine, creates and starts the job's container on it and follows its output.
fn start(job: &mut Job, a: &Args) -> Result<(), Error> {
    let docker = Docker::open(&job.engine)?;
    job.host = docker.info()?.name.unwrap_or_else(|| "?".into());
    let options = RunOptions::new()
        .command(a.command.iter().map(String::as_str))
        .label("org.example.fleet", "job");
    let container = docker.containers().create(&a.image, &options)?;
    job.docker = Some(docker);
    let container = job.container.insert(container);
    container.start()?;
    job.started = Instant::now();
    job.logs = Some(container.logs(container_streams::LogsOptions {
        follow: Some(true),
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    })?);
    Ok(())
}

/// Reads whichever engine's output is ready until all have ended, printing whole lines prefixed by the
/// engine; an engine whose stream breaks fails its own row.
fn follow(jobs: &mut [Job]) {
    loop {
        let open: Vec<usize> = (0..jobs.len()).filter(|&i| jobs[i].logs.is_some()).collect();
        if open.is_empty() {
            return;
        }
        let streams: Vec<&Logs> = open.iter().filter_map(|&i| jobs[i].logs.as_ref()).collect();
        for i in ready(&streams) {
            let job = &mut jobs[open[i]];
            let next = job.logs.as_mut().and_then(Iterator::next);
            match next {
                Some(Ok(frame)) => {
                    let which = usize::from(frame.stream == StreamKind::Stderr);
                    job.partial[which].extend_from_slice(&frame.data);
                    print_lines(job, which, false);
                }
                Some(Err(e)) => job.fail(&e),
                None => {
                    job.logs = None;
                    for which in 0..2 {
                        print_lines(job, which, true);
                    }
                    let waited = job
                        .container
                        .as_ref()
                        .map(|c| c.wait(Default::default()))
                        .transpose();
                    match waited {
                        Ok(w) => {
                            let code = w.and_then(|w| w.status_code).unwrap_or(-1);
                            job.result = Some(Ok((code, job.started.elapsed().as_secs_f64())));
                            println!("[{}] exited with {code}", job.engine);
                        }
                        Err(e) => job.fail(&e),
                    }
                }
            }
        }
    }
}

/// Prints the whole lines of a job's buffer (all of it when `end`), each prefixed by `[engine]`;
/// keeps the unfinished rest and the last stdout line.
fn print_lines(job: &mut Job, which: usize, end: bool) {
    for line in take_lines(&mut job.partial[which], end) {
        if which == 1 {
            eprintln!("[{}] {line}", job.engine);
        } else {
            println!("[{}] {line}", job.engine);
            job.last = line;
        }
    }
}
