//! ci-run: builds the project in a granted directory into an image, runs its test command in a container
//! with the output streamed live, copies the test report (JUnit XML) out, and exits with the tests' exit
//! code. See README.md for the grants it needs.
//!
//! ```text
//! tug run --policy ci --dir ./project:/project --dir ./out:/out:rw ci-run.wasm -- \
//!     [--project /project] [--out /out] [--report /work/report.xml] [-- COMMAND...]
//! ```

use std::path::PathBuf;

use tug_sdk::archive;
use tug_sdk::docker::{Docker, Error, RunOptions};
use tug_sdk::types::StreamKind;
use tug_sdk::{container_streams, containers, image_streams};

/// What the command line asks for.
struct Args {
    project: PathBuf,
    out: PathBuf,
    report: String,
    command: Vec<String>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        project: "/project".into(),
        out: "/out".into(),
        report: "/work/report.xml".into(),
        command: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--project" => args.project = value("--project")?.into(),
            "--out" => args.out = value("--out")?.into(),
            "--report" => args.report = value("--report")?,
            "--" => {
                args.command = it.collect();
                break;
            }
            other => return Err(format!("unknown argument {other:?} (see README.md)")),
        }
    }
    Ok(args)
}

fn main() {
    let code = match args().map_err(Error::InvalidArgument).and_then(|a| run(&a)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ci-run: error: {e}");
            1
        }
    };
    tug_sdk::exit(code);
}

/// Builds, tests, copies the report; the tests' exit code.
fn run(args: &Args) -> Result<u8, Error> {
    let docker = Docker::from_env()?;

    println!("ci-run: building {}", args.project.display());
    let context = archive::build_context(&args.project)?;
    // The builder's messages split lines anywhere: print whole lines as they complete.
    let mut pending = String::new();
    let built = docker.images().build_with(
        &context,
        image_streams::BuildOptions {
            rm: Some(true),
            ..Default::default()
        },
        |text| {
            pending.push_str(text);
            while let Some(end) = pending.find('\n') {
                println!("build: {}", &pending[..end]);
                pending.drain(..=end);
            }
        },
    )?;
    if !pending.is_empty() {
        println!("build: {pending}");
    }
    println!("ci-run: built image {}", built.image.short_id());

    let mut options = RunOptions::new().label("org.example.ci-run", "test");
    if !args.command.is_empty() {
        options = options.command(args.command.iter().map(String::as_str));
    }
    let container = docker.containers().create(&built.image.id, &options)?;
    let outcome = test(&container, args);
    let removed = container.remove(containers::RemoveOptions {
        force: Some(true),
        ..Default::default()
    });
    let removed_image = built.image.remove(Default::default());
    let code = outcome?;
    removed?;
    removed_image?;
    println!("ci-run: exit code {code}");
    Ok(code)
}

/// Starts the test container, streams its output, waits, copies the report; the exit code.
fn test(container: &tug_sdk::docker::Container, args: &Args) -> Result<u8, Error> {
    container.start()?;
    println!("ci-run: running tests in {}", container.short_id());
    let logs = container.logs(container_streams::LogsOptions {
        follow: Some(true),
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    })?;
    for frame in logs {
        let frame = frame?;
        let text = String::from_utf8_lossy(&frame.data);
        match frame.stream {
            StreamKind::Stderr => eprint!("{text}"),
            _ => print!("{text}"),
        }
    }
    let status = container.wait(Default::default())?.status_code.unwrap_or(-1);

    match container.get_archive(&args.report) {
        Ok(archive) => {
            let name = archive.stat.name.clone();
            let xml = archive.file()?;
            let dest = args.out.join(&name);
            write_atomically(&dest, &xml)?;
            println!(
                "ci-run: copied {} ({} bytes) to {}",
                args.report,
                xml.len(),
                dest.display()
            );
            summarize(&xml);
        }
        Err(e) if e.is_not_found() => eprintln!("ci-run: no report at {}", args.report),
        Err(e) => return Err(e),
    }
    Ok(u8::try_from(status).unwrap_or(1))
}

/// Writes `data` to `dest` through a temporary file renamed into place, so a half-written report is
/// never left.
fn write_atomically(dest: &std::path::Path, data: &[u8]) -> Result<(), Error> {
    let tmp = dest.with_extension("tmp");
    let failed = |e: std::io::Error| {
        Error::InvalidArgument(format!(
            "writing {} (is the output directory granted read-write?): {e}",
            dest.display()
        ))
    };
    std::fs::write(&tmp, data).map_err(failed)?;
    std::fs::rename(&tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        failed(e)
    })
}

/// Prints the counts of a JUnit report's first `<testsuite>` (tests, failures, errors), if it has them.
fn summarize(xml: &[u8]) {
    let text = String::from_utf8_lossy(xml);
    let Some(start) = text.find("<testsuite ") else {
        return;
    };
    let tag = &text[start..text[start..].find('>').map_or(text.len(), |e| start + e)];
    let attr = |name: &str| {
        let key = format!("{name}=\"");
        tag.find(&key)
            .map(|i| &tag[i + key.len()..])
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("?")
            .to_owned()
    };
    println!(
        "ci-run: report: {} tests, {} failures, {} errors",
        attr("tests"),
        attr("failures"),
        attr("errors")
    );
}
