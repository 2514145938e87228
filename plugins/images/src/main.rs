//! An image's round trip through the local registry: build it from a context made here, push it to
//! 127.0.0.1:5000, remove it, run it (which pulls it back), save it to a tar, remove it, load the tar, and
//! inspect it again. Everything it makes locally is removed at the end, whatever happens.
//!
//! Optional argument: the tag to use (by default a unique `e2e-<time>`).

use std::time::{SystemTime, UNIX_EPOCH};

use tug_sdk::archive::{self, Tar};
use tug_sdk::docker::{Docker, Error, Image, RunOptions};
use tug_sdk::{image_streams, images};

const BASE: &str = "tug-test/busybox:latest";
const REPOSITORY: &str = "127.0.0.1:5000/tug-plugins/images";

fn main() {
    let tag = std::env::args().nth(1).unwrap_or_else(|| {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        format!("e2e-{}-{:09}", now.as_secs(), now.subsec_nanos())
    });
    tug_sdk::main(|| {
        let docker = Docker::from_env()?;
        let image = format!("{REPOSITORY}:{tag}");
        let outcome = run(&docker, &tag, &image);
        // Whatever happened, the image goes (the containers went with `run`'s `remove`).
        let cleaned = match docker.images().remove(
            &image,
            images::RemoveOptions {
                force: Some(true),
                ..Default::default()
            },
        ) {
            Ok(_) => {
                println!("cleanup: removed image {image}");
                Ok(())
            }
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        };
        outcome.and(cleaned)
    });
    println!("ok");
}

fn fail(message: String) -> Error {
    Error::InvalidArgument(message)
}

fn run(docker: &Docker, tag: &str, image: &str) -> Result<(), Error> {
    let greeting = format!("greetings from the images plugin, tag {tag}\n");

    // Build, from a context made here.
    let dockerfile = format!(
        "FROM {BASE}\nRUN echo built > /built.txt\nCOPY greeting.txt /greeting.txt\nCMD [\"cat\", \"/greeting.txt\"]\n"
    );
    let context = Tar::new()
        .file("Dockerfile", &dockerfile)?
        .file("greeting.txt", &greeting)?
        .into_bytes()?;
    println!("build {image} from a {}-byte context:", context.len());
    let built = docker.images().build_with(
        &context,
        image_streams::BuildOptions {
            t: Some(vec![image.to_owned()]),
            rm: Some(true),
            forcerm: Some(true),
            ..Default::default()
        },
        |line| {
            if !line.trim().is_empty() {
                println!("  {}", line.trim_end());
            }
        },
    )?;
    let built_id = built.image.id.clone();
    println!("built image {built_id}");

    // Push it to the local registry; the digest comes in the last message's `aux`.
    println!("push {image}:");
    let mut digest = None;
    for message in docker.images().push(
        REPOSITORY,
        image_streams::PushOptions {
            tag: Some(tag.to_owned()),
        },
        None,
    )? {
        let message = message?;
        if let Some(found) = message.extra.get("aux").and_then(|aux| aux["Digest"].as_str()) {
            digest = Some(found.to_owned());
        } else if let (Some(status), None) = (&message.status, &message.progress) {
            println!("  {status}");
        }
    }
    let digest = digest.ok_or_else(|| fail("the push reported no digest (aux.Digest)".into()))?;
    println!("pushed: digest {digest}");

    // Remove it here and run it: `run` pulls it back from the registry first, as docker-py's does. Its
    // CMD prints the greeting.
    remove_image(docker, image)?;
    let output = docker
        .containers()
        .run(
            image,
            RunOptions::new()
                .label("org.example.plugin", "images")
                .remove(true),
        )?
        .into_output()
        .unwrap_or_default();
    let said = String::from_utf8_lossy(&output);
    if said != greeting {
        return Err(fail(format!(
            "the container's output: expected {greeting:?}, got {said:?}"
        )));
    }
    println!("the container from {image} said: {}", said.trim_end());

    // The image `run` pulled is the one built, under the digest the push reported.
    let pulled = docker.images().get(image)?;
    let repo_digest = format!("{REPOSITORY}@{digest}");
    let digests = pulled.attrs.repo_digests.clone().unwrap_or_default();
    if pulled.id != built_id || !digests.contains(&repo_digest) {
        return Err(fail(format!(
            "the pulled image: expected Id {built_id} and RepoDigests with {repo_digest}, got Id {} and RepoDigests {digests:?}",
            pulled.id
        )));
    }
    println!("pulled: Id {built_id}, RepoDigests has {repo_digest}");

    // Save it, remove it, load it back.
    let saved = tug_sdk::read_to_end(&docker.images().save(image)?)?;
    let names: Vec<String> = archive::files(&saved)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    println!("saved {image}: {} bytes, {} files", saved.len(), names.len());
    if !names.iter().any(|name| name == "manifest.json") {
        return Err(fail(format!("the saved tar has no manifest.json: {names:?}")));
    }
    let layers = layers_of(&pulled);
    remove_image(docker, image)?;
    println!("load {} bytes:", saved.len());
    let loaded = docker.images().load(&saved)?;
    let Some(loaded) = loaded.into_iter().find(|i| i.tags().iter().any(|t| t == image)) else {
        return Err(fail(format!("the load did not load {image}")));
    };
    // The same layers under the same name; its config carries this run's labels (tug stamps every image
    // a run loads), so its Id is new.
    let labelled = loaded.labels().any(|(k, _)| k == "tug.image.run");
    if layers_of(&loaded) != layers || !labelled {
        return Err(fail(format!(
            "the loaded image: expected layers {layers:?} and the run's labels, got {:?} and {:?}",
            layers_of(&loaded),
            loaded.labels().collect::<Vec<_>>()
        )));
    }
    println!(
        "loaded: inspect says the same {} layers, RepoTags {:?}, labelled by the run (Id {} was {built_id})",
        layers.len(),
        loaded.tags(),
        loaded.id
    );
    Ok(())
}

/// `RootFS.Layers`.
fn layers_of(image: &Image) -> Vec<String> {
    image
        .attrs
        .root_fs
        .as_ref()
        .and_then(|r| r.layers.clone())
        .unwrap_or_default()
}

/// Removes image `name` and prints what the engine untagged and deleted.
fn remove_image(docker: &Docker, name: &str) -> Result<(), Error> {
    let removed = docker.images().remove(name, Default::default())?;
    let items: Vec<String> = removed
        .iter()
        .flat_map(|item| {
            let untagged = item.untagged.as_ref().map(|t| format!("untagged {t}"));
            let deleted = item.deleted.as_ref().map(|d| format!("deleted {d}"));
            untagged.into_iter().chain(deleted)
        })
        .collect();
    println!("removed {name}: {}", items.join(", "));
    Ok(())
}
