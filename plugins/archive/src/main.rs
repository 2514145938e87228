//! Files in and out of a container: a tar made here is put into it (`put_archive`), a file is copied
//! back out (`get_archive`) and compared, and the whole filesystem is exported and counted.

use tug_sdk::archive::Tar;
use tug_sdk::docker::{Container, Docker, Error, RunOptions};

const IMAGE: &str = "tug-test/busybox:latest";
/// The size of `hello.txt`.
const HELLO_SIZE: usize = 5000;
/// The content of `sub/nested.txt`.
const NESTED: &[u8] = b"nested file\n";

fn main() {
    tug_sdk::main(run);
    println!("ok");
}

fn run() -> Result<(), Error> {
    // A container that never runs: its filesystem takes and gives archives all the same. It is removed
    // when the work is done, whatever happened.
    let short = Docker::from_env()?
        .containers()
        .create(IMAGE, &RunOptions::new().label("org.example.plugin", "archive"))?
        .scoped(|container| {
            println!("created container {}", container.short_id());
            exercise(container)?;
            Ok(container.short_id().to_owned())
        })?;
    println!("removed container {short}");
    Ok(())
}

fn fail(message: String) -> Error {
    Error::InvalidArgument(message)
}

/// `hello.txt`: `HELLO_SIZE` deterministic bytes, lines of the alphabet and digits.
fn hello_bytes() -> Vec<u8> {
    let line = b"abcdefghijklmnopqrstuvwxyz0123456789\n";
    (0..HELLO_SIZE).map(|i| line[i % line.len()]).collect()
}

fn exercise(container: &Container) -> Result<(), Error> {
    let hello = hello_bytes();

    let tar = Tar::new()
        .file("hello.txt", &hello)?
        .dir("sub")?
        .file("sub/nested.txt", NESTED)?
        .into_bytes()?;
    container.put_archive("/tmp", &tar)?;
    println!("put-archive: hello.txt ({HELLO_SIZE} bytes), sub/ and sub/nested.txt into /tmp");

    let info = container.archive_info("/tmp/sub")?;
    println!("archive-info /tmp/sub: {info:?}");
    if info.name != "sub" || info.mode & (1 << 31) == 0 {
        return Err(fail(format!("/tmp/sub is not the directory sub: {info:?}")));
    }

    let archive = container.get_archive("/tmp/hello.txt")?;
    println!("get-archive /tmp/hello.txt: stat {:?}", archive.stat);
    if archive.stat.name != "hello.txt" || archive.stat.size != HELLO_SIZE as i64 {
        return Err(fail(format!(
            "stat: expected name hello.txt and size {HELLO_SIZE}, got {:?}",
            archive.stat
        )));
    }
    let copied = archive.file()?;
    if copied != hello {
        let at = copied
            .iter()
            .zip(&hello)
            .position(|(a, b)| a != b)
            .unwrap_or(copied.len().min(hello.len()));
        return Err(fail(format!(
            "hello.txt came back different: {} bytes instead of {HELLO_SIZE}, first difference at byte {at}",
            copied.len()
        )));
    }
    println!("hello.txt came back identical ({} bytes)", copied.len());

    // export: read as a stream, entry by entry.
    let mut entries = 0;
    let mut found = Vec::new();
    for entry in tar::Archive::new(container.export()?).entries()? {
        let entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if ["tmp/hello.txt", "tmp/sub/nested.txt", "bin/sh"].contains(&path.as_str()) {
            found.push(path);
        }
        entries += 1;
    }
    found.sort();
    println!("export: {entries} entries, among them {}", found.join(", "));
    if entries <= 100 {
        return Err(fail(format!(
            "export: expected more than 100 entries, got {entries}"
        )));
    }
    if found.len() != 3 {
        return Err(fail(format!(
            "export: expected bin/sh, tmp/hello.txt and tmp/sub/nested.txt, found {found:?}"
        )));
    }
    Ok(())
}
