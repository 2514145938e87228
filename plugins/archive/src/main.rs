//! Files in and out of a container: a tar made here is streamed into it (`put-archive`), a file is copied
//! back out (`get-archive`) and compared, and the whole filesystem is exported and counted.

use serde_json::{json, Value};
use std::io::Read;
use tug_sdk::{container_streams, containers, engine, engines::Engine, read_to_end, upload_with};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const IMAGE: &str = "tug-test/busybox:latest";
/// The size of `hello.txt`.
const HELLO_SIZE: usize = 5000;
/// The content of `sub/nested.txt`.
const NESTED: &[u8] = b"nested file\n";

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
        "Cmd": ["true"],
        "Labels": {"org.example.plugin": "archive"},
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

/// `hello.txt`: `HELLO_SIZE` deterministic bytes, lines of the alphabet and digits.
fn hello_bytes() -> Vec<u8> {
    let line = b"abcdefghijklmnopqrstuvwxyz0123456789\n";
    (0..HELLO_SIZE).map(|i| line[i % line.len()]).collect()
}

fn exercise(docker: &Engine, id: &str) -> Result<()> {
    let hello = hello_bytes();

    // put-archive: the tar is written straight into the request body, never held in memory whole.
    let upload = container_streams::put_archive(docker, id, "/tmp", Default::default())?;
    upload_with(upload, |body| {
        let mut tar = tar::Builder::new(body);
        append_file(&mut tar, "hello.txt", &hello)?;
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_mtime(1_700_000_000);
        dir.set_size(0);
        tar.append_data(&mut dir, "sub/", std::io::empty())?;
        append_file(&mut tar, "sub/nested.txt", NESTED)?;
        tar.into_inner()?;
        Ok(())
    })?;
    println!("put-archive: hello.txt ({HELLO_SIZE} bytes), sub/ and sub/nested.txt into /tmp");

    let info: Value = serde_json::from_str(&containers::archive_info(docker, id, "/tmp/sub")?)?;
    println!("archive-info /tmp/sub: {info}");
    let mode = info["mode"]
        .as_u64()
        .ok_or_else(|| format!("archive-info has no mode: {info}"))?;
    if info["name"] != "sub" || mode & (1 << 31) == 0 {
        return Err(format!("/tmp/sub is not the directory sub: {info}").into());
    }

    let archive = container_streams::get_archive(docker, id, "/tmp/hello.txt")?;
    let stat: Value = serde_json::from_str(&archive.stat)?;
    println!("get-archive /tmp/hello.txt: stat {stat}");
    if stat["name"] != "hello.txt" || stat["size"] != json!(HELLO_SIZE) {
        return Err(format!("stat: expected name hello.txt and size {HELLO_SIZE}, got {stat}").into());
    }
    let tar_bytes = read_to_end(&archive.content)?;
    let mut copied = None;
    for entry in tar::Archive::new(&tar_bytes[..]).entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        println!("  entry {} ({} bytes)", path.display(), entry.size());
        if path.as_os_str() == "hello.txt" {
            let mut content = Vec::new();
            entry.read_to_end(&mut content)?;
            copied = Some(content);
        }
    }
    let copied = copied.ok_or("the archive of /tmp/hello.txt has no entry hello.txt")?;
    if copied != hello {
        let at = copied
            .iter()
            .zip(&hello)
            .position(|(a, b)| a != b)
            .unwrap_or(copied.len().min(hello.len()));
        return Err(format!(
            "hello.txt came back different: {} bytes instead of {HELLO_SIZE}, first difference at byte {at}",
            copied.len()
        )
        .into());
    }
    println!("hello.txt came back identical ({} bytes)", copied.len());

    // export: read as a stream, entry by entry.
    let mut entries = 0;
    let mut found = Vec::new();
    for entry in tar::Archive::new(container_streams::export(docker, id)?).entries()? {
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
        return Err(format!("export: expected more than 100 entries, got {entries}").into());
    }
    if found.len() != 3 {
        return Err(format!(
            "export: expected bin/sh, tmp/hello.txt and tmp/sub/nested.txt, found {found:?}"
        )
        .into());
    }
    Ok(())
}

/// Appends a regular file `path` with `content` to `tar`.
fn append_file<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    content: &[u8],
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(1_700_000_000);
    tar.append_data(&mut header, path, content)
}

/// The first 12 characters of an ID, as `docker ps` shows it.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
