//! An image's round trip through the local registry: build it from a context made here, tag and push it to
//! 127.0.0.1:5000, remove it, pull it back, run it, save it to a tar, remove it, load the tar, and inspect
//! it again. Everything it makes locally is removed at the end, whatever happens.
//!
//! Optional argument: the tag to use (by default a unique `e2e-<time>`).

use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use tug_sdk::types::JsonStream;
use tug_sdk::{
    collect_output, container_streams, containers, documents, engine, engines::Engine, frames, image_streams,
    images, progress_upload_all, read_to_end,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const BASE: &str = "tug-test/busybox:latest";
const REPOSITORY: &str = "127.0.0.1:5000/tug-plugins/images";

fn main() {
    let tag = std::env::args().nth(1).unwrap_or_else(|| {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        format!("e2e-{}-{:09}", now.as_secs(), now.subsec_nanos())
    });
    let docker = engine();
    let mut made = Made::default();
    let outcome = run(&docker, &tag, &mut made);
    let cleaned = made.clean_up(&docker);
    if let Err(e) = outcome.and(cleaned) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("ok");
}

/// What the plugin made and must remove at the end.
#[derive(Default)]
struct Made {
    containers: Vec<String>,
    images: Vec<String>,
}

impl Made {
    /// Removes the containers, then the images (those already gone are fine).
    fn clean_up(&self, docker: &Engine) -> Result<()> {
        let mut failed = Vec::new();
        for id in &self.containers {
            let options = containers::RemoveOptions {
                force: Some(true),
                ..Default::default()
            };
            match containers::remove(docker, id, options) {
                Ok(()) => println!("cleanup: removed container {}", short(id)),
                Err(tug_sdk::types::Error::NotFound(_)) => {}
                Err(e) => failed.push(format!("removing container {}: {e}", short(id))),
            }
        }
        for name in &self.images {
            let options = images::RemoveOptions {
                force: Some(true),
                ..Default::default()
            };
            match images::remove(docker, name, options) {
                Ok(_) => println!("cleanup: removed image {name}"),
                Err(tug_sdk::types::Error::NotFound(_)) => {}
                Err(e) => failed.push(format!("removing image {name}: {e}")),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(format!("cleanup failed: {}", failed.join("; ")).into())
        }
    }
}

fn run(docker: &Engine, tag: &str, made: &mut Made) -> Result<()> {
    let image = format!("{REPOSITORY}:{tag}");
    let greeting = format!("greetings from the images plugin, tag {tag}\n");
    made.images.push(image.clone());

    // Build, from a context tar made here.
    let dockerfile =
        format!("FROM {BASE}\nRUN echo built > /built.txt\nCOPY greeting.txt /greeting.txt\nCMD [\"cat\", \"/greeting.txt\"]\n");
    let context = tar_of(&[
        ("Dockerfile", dockerfile.as_bytes()),
        ("greeting.txt", greeting.as_bytes()),
    ])?;
    let options = image_streams::BuildOptions {
        t: Some(vec![image.clone()]),
        rm: Some(true),
        forcerm: Some(true),
        ..Default::default()
    };
    let upload = image_streams::build(docker, &options, None)?;
    println!("build {image} from a {}-byte context:", context.len());
    let progress = follow("build", &progress_upload_all(upload, &context)?)?;
    let built_id = progress
        .iter()
        .find_map(|document| document["aux"]["ID"].as_str())
        .ok_or("the build reported no image ID (aux.ID)")?
        .to_owned();
    println!("built image {built_id}");

    // Push it to the local registry.
    let options = image_streams::PushOptions {
        tag: Some(tag.to_owned()),
    };
    println!("push {image}:");
    let progress = follow("push", &image_streams::push(docker, REPOSITORY, &options, None)?)?;
    let digest = progress
        .iter()
        .find_map(|document| document["aux"]["Digest"].as_str())
        .ok_or("the push reported no digest (aux.Digest)")?
        .to_owned();
    println!("pushed: digest {digest}");

    // Remove it here, pull it back from the registry.
    remove_image(docker, &image)?;
    let options = image_streams::PullOptions {
        tag: Some(tag.to_owned()),
        ..Default::default()
    };
    println!("pull {image}:");
    follow("pull", &image_streams::pull(docker, REPOSITORY, &options, None)?)?;
    let pulled: Value = serde_json::from_str(&images::inspect(docker, &image)?)?;
    let repo_digest = format!("{REPOSITORY}@{digest}");
    if pulled["Id"] != built_id.as_str()
        || !pulled["RepoDigests"]
            .as_array()
            .is_some_and(|d| d.contains(&json!(repo_digest)))
    {
        return Err(format!(
            "the pulled image: expected Id {built_id} and RepoDigests with {repo_digest}, got Id {} and RepoDigests {}",
            pulled["Id"], pulled["RepoDigests"]
        )
        .into());
    }
    println!("pulled: Id {built_id}, RepoDigests has {repo_digest}");

    // Run it: its CMD prints the greeting.
    let logs = run_container(docker, &image, made)?;
    if logs != greeting {
        return Err(format!("the container's logs: expected {greeting:?}, got {logs:?}").into());
    }
    println!("the container from {image} said: {}", logs.trim_end());

    // Save it, remove it, load it back.
    let saved = read_to_end(&image_streams::save(docker, &image)?)?;
    let mut names = Vec::new();
    for entry in tar::Archive::new(&saved[..]).entries()? {
        names.push(entry?.path()?.to_string_lossy().into_owned());
    }
    println!("saved {image}: {} bytes, {} entries", saved.len(), names.len());
    if !names.iter().any(|name| name == "manifest.json") {
        return Err(format!("the saved tar has no manifest.json: {names:?}").into());
    }
    let layers =
        serde_json::from_str::<Value>(&images::inspect(docker, &image)?)?["RootFS"]["Layers"].clone();
    remove_image(docker, &image)?;
    let upload = image_streams::load(docker, image_streams::LoadOptions { quiet: Some(false) })?;
    println!("load {} bytes:", saved.len());
    let progress = follow("load", &progress_upload_all(upload, &saved)?)?;
    let expected = format!("Loaded image: {image}");
    if !progress
        .iter()
        .any(|document| document["stream"].as_str().is_some_and(|s| s.contains(&expected)))
    {
        return Err(format!("the load did not say {expected:?}").into());
    }
    // The same layers under the same name; its config carries this run's labels (tug stamps every image
    // a run loads), so its Id is new.
    let loaded: Value = serde_json::from_str(&images::inspect(docker, &image)?)?;
    if loaded["RootFS"]["Layers"] != layers || !loaded["Config"]["Labels"]["tug.image.run"].is_string() {
        return Err(format!(
            "the loaded image: expected layers {layers} and the run's labels, got {} and {}",
            loaded["RootFS"]["Layers"], loaded["Config"]["Labels"]
        )
        .into());
    }
    println!(
        "loaded: inspect says the same {} layers, RepoTags {}, labelled by the run (Id {} was {built_id})",
        layers.as_array().map_or(0, Vec::len),
        loaded["RepoTags"],
        loaded["Id"]
    );
    Ok(())
}

/// Prints a progress stream as it comes and returns its documents; an `error`/`errorDetail` document is
/// a failure.
fn follow(what: &str, stream: &JsonStream) -> Result<Vec<Value>> {
    let mut all = Vec::new();
    for document in documents(stream) {
        let document: Value = serde_json::from_str(&document?)?;
        if let Some(error) = document.get("errorDetail").or_else(|| document.get("error")) {
            return Err(format!("{what} failed: {error}").into());
        }
        if let Some(text) = document["stream"].as_str() {
            if !text.trim().is_empty() {
                println!("  {}", text.trim_end());
            }
        } else if let Some(status) = document["status"].as_str() {
            // Skip the progress bars, keep the steps.
            if document.get("progress").is_none() {
                match document["id"].as_str() {
                    Some(id) => println!("  {id}: {status}"),
                    None => println!("  {status}"),
                }
            }
        } else if let Some(aux) = document.get("aux") {
            println!("  aux: {aux}");
        }
        all.push(document);
    }
    Ok(all)
}

/// Runs a container from `image` to its end and returns its stdout.
fn run_container(docker: &Engine, image: &str, made: &mut Made) -> Result<String> {
    let config = json!({"Image": image, "Labels": {"org.example.plugin": "images"}});
    let created: Value = serde_json::from_str(&containers::create(
        docker,
        &config.to_string(),
        &Default::default(),
    )?)?;
    let id = created["Id"]
        .as_str()
        .ok_or_else(|| format!("create answered no Id: {created}"))?
        .to_owned();
    made.containers.push(id.clone());
    containers::start(docker, &id, &Default::default())?;
    let waited: Value = serde_json::from_str(&containers::wait(docker, &id, &Default::default())?)?;
    if waited["StatusCode"] != 0 {
        return Err(format!("the container from {image} failed: {waited}").into());
    }
    let options = container_streams::LogsOptions {
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    };
    let (stdout, stderr) = collect_output(frames(&container_streams::logs(docker, &id, &options)?))?;
    if !stderr.is_empty() {
        println!(
            "the container wrote to stderr: {}",
            String::from_utf8_lossy(&stderr).trim_end()
        );
    }
    let options = containers::RemoveOptions {
        force: Some(true),
        ..Default::default()
    };
    containers::remove(docker, &id, options)?;
    made.containers.retain(|c| c != &id);
    Ok(String::from_utf8(stdout)?)
}

/// Removes image `name` and prints what the daemon untagged and deleted.
fn remove_image(docker: &Engine, name: &str) -> Result<()> {
    let removed: Value = serde_json::from_str(&images::remove(docker, name, Default::default())?)?;
    let items: Vec<String> = removed
        .as_array()
        .map(|items| {
            items
                .iter()
                .flat_map(|item| item.as_object().into_iter().flatten())
                .map(|(what, which)| format!("{what} {}", which.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    println!("removed {name}: {}", items.join(", "));
    Ok(())
}

/// A tar of regular files.
fn tar_of(files: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        tar.append_data(&mut header, path, *content)?;
    }
    tar.into_inner()
}

/// The first 12 characters of an ID, as `docker ps` shows it.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
