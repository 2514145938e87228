//! Images without a daemon, through the `registry` interface.
//!
//! - `roundtrip BASE DEST LAYER-DIR`: pulls BASE lazily, adds three layers (files given here, a tar
//!   streamed from here, and host directory LAYER-DIR), edits the config, pushes it to DEST, pulls DEST
//!   back and compares, writes it out as a `docker save` tar and as an OCI layout, loads it into the engine
//!   and runs it.
//! - `lazy SRC DEST`: pulls SRC and pushes it unchanged under DEST; prints the push report and the bytes
//!   moved (`report: {…}`, `stats: {…}`).
//! - `save REF`: pulls REF and reads its `docker save` tar to the end (a corrupt blob ends it with an
//!   error naming the blob).
//! - `denials SRC OUTSIDE-DIR`: what the policy refuses, one `denied <rule>` line each, and the image busy
//!   while a layer upload is under way.
//!
//! The registry calls are the `registry` and `registry-streams` WIT interfaces themselves
//! ([`tug_sdk::registry`]; the object layer does not wrap them); running the result in the engine goes
//! through the object layer ([`tug_sdk::docker`]).

use serde_json::{json, Value};
use tug_sdk::archive::{self, Tar};
use tug_sdk::docker::{Docker, RunOptions};
use tug_sdk::models::ImageConfig;
use tug_sdk::registry::{self, ConfigEdit, FileEntry, Image, PullOptions};
use tug_sdk::registry_streams::{self, ArchiveFormat, LayerUpload};
use tug_sdk::types::Error;
use tug_sdk::{images, read_to_end, write_all};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    tug_sdk::main(|| match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["roundtrip", base, dest, dir] => roundtrip(base, dest, dir),
        ["lazy", src, dest] => lazy(src, dest),
        ["save", reference] => save(reference),
        ["denials", src, outside] => denials(src, outside),
        _ => Err(
            "usage: registry roundtrip BASE DEST LAYER-DIR | lazy SRC DEST | save REF | denials SRC DIR"
                .into(),
        ),
    });
    println!("ok");
}

const HELLO: &str = "hello from a layer tug added\n";
const STREAMED: &str = "streamed into a layer, chunk by chunk\n";

fn roundtrip(base: &str, dest: &str, dir: &str) -> Result<()> {
    let image = Image::pull(base, &PullOptions::default())?;
    let before = image.layers()?;
    println!(
        "pulled {base}: {} layers, manifest {}",
        before.len(),
        image.manifest_digest()?
    );
    if before.iter().any(|l| l.local) {
        return Err("a freshly pulled layer is already local: layers must stay in the registry".into());
    }

    // Three new layers: files given here, a tar streamed from here, a host directory.
    let files = [FileEntry {
        path: "/tug/hello.txt".into(),
        contents: HELLO.as_bytes().to_vec(),
        mode: 0o644,
    }];
    let l1 = image.add_layer_files(&files, "tug: hello.txt")?;
    println!("added layer {} ({} bytes) from files", l1.digest, l1.size);

    let upload = registry_streams::add_layer_tar(&image, "tug: streamed.txt")?;
    let body = upload.body()?;
    let tar = Tar::new().file("tug/streamed.txt", STREAMED)?.into_bytes()?;
    for chunk in tar.chunks(1000) {
        write_all(&body, chunk)?;
    }
    drop(body);
    let l2 = LayerUpload::finish(upload)?;
    println!(
        "added layer {} ({} bytes) from a streamed tar",
        l2.digest, l2.size
    );

    let l3 = image.add_layer_dir(dir, "/tug/dir", "tug: a host directory")?;
    println!("added layer {} ({} bytes) from {dir}", l3.digest, l3.size);

    image.edit(&ConfigEdit {
        env: vec!["TUG_GREETING=hello".into()],
        cmd: Some(vec![
            "cat".into(),
            "/tug/hello.txt".into(),
            "/tug/streamed.txt".into(),
            "/tug/dir/file.txt".into(),
        ]),
        labels: vec![("org.example.edited-by".into(), Some("tug".into()))],
        ..Default::default()
    })?;
    let layers = image.layers()?;
    if layers.len() != before.len() + 3 || !layers[before.len()..].iter().all(|l| l.local) {
        return Err(format!(
            "expected {} layers with the last three local, got {layers:?}",
            before.len() + 3
        )
        .into());
    }

    // Push; pull back and compare.
    let report = image.push(Some(dest))?;
    println!("report: {}", report_json(&report));
    let back = Image::pull(dest, &PullOptions::default())?;
    let digest = back.manifest_digest()?;
    if digest != report.manifest_digest {
        return Err(format!("pulled back {digest}, pushed {}", report.manifest_digest).into());
    }
    let digests = |ls: &[registry::LayerInfo]| ls.iter().map(|l| l.digest.clone()).collect::<Vec<_>>();
    if digests(&back.layers()?) != digests(&layers) {
        return Err("the layers pulled back differ from the ones pushed".into());
    }
    // The image config document (OCI): its `config` is what the Engine API calls an image's config.
    let mut document: Value = serde_json::from_str(&back.config()?)?;
    let config: ImageConfig = serde_json::from_value(document["config"].take())?;
    let env = config.env.unwrap_or_default();
    if !env.iter().any(|e| e == "TUG_GREETING=hello") {
        return Err(format!("the config pulled back lacks TUG_GREETING: {env:?}").into());
    }
    println!(
        "pulled back {dest}: manifest {digest}, {} layers, env has TUG_GREETING",
        layers.len()
    );

    // Written out: a docker save tar and an OCI layout.
    let saved = read_to_end(&registry_streams::save(&back, ArchiveFormat::Docker)?)?;
    let names = file_names(&saved)?;
    let layer_tars = names.iter().filter(|n| n.ends_with("layer.tar")).count();
    if !names.iter().any(|n| n == "manifest.json") || layer_tars != layers.len() {
        return Err(format!(
            "docker save tar: expected manifest.json and {} layer.tar, got {names:?}",
            layers.len()
        )
        .into());
    }
    println!(
        "docker save tar: {} bytes, {} files, {layer_tars} layers",
        saved.len(),
        names.len()
    );
    let oci = read_to_end(&registry_streams::save(&back, ArchiveFormat::Oci)?)?;
    let names = file_names(&oci)?;
    if !["oci-layout", "index.json"]
        .iter()
        .all(|f| names.iter().any(|n| n == f))
    {
        return Err(format!("OCI layout: expected oci-layout and index.json, got {names:?}").into());
    }
    println!("OCI layout tar: {} bytes, {} files", oci.len(), names.len());

    // Loaded into the engine and run; the image goes whatever the run did (`remove` took the container).
    let docker = Docker::from_env()?;
    let messages = back.load(docker.engine())?;
    println!("loaded: {messages}");
    let ran = docker.containers().run(dest, RunOptions::new().remove(true));
    let removed = docker.images().remove(
        dest,
        images::RemoveOptions {
            force: Some(true),
            ..Default::default()
        },
    );
    let output = String::from_utf8(ran?.into_output().unwrap_or_default())?;
    removed?;
    print!("the container said:\n{output}");
    let dir_file = std::env::var("TUG_DIR_FILE").unwrap_or_default();
    let want = format!("{HELLO}{STREAMED}{dir_file}");
    if output != want {
        return Err(format!("expected {want:?}, got {output:?}").into());
    }
    println!("stats: {}", stats_json());
    Ok(())
}

fn lazy(src: &str, dest: &str) -> Result<()> {
    let image = Image::pull(src, &PullOptions::default())?;
    let layers = image.layers()?;
    let size: u64 = layers.iter().map(|l| l.size).sum();
    println!(
        "pulled {src}: {} layers, {size} bytes of layers left in the registry",
        layers.len()
    );
    let report = image.push(Some(dest))?;
    println!("report: {}", report_json(&report));
    println!("stats: {}", stats_json());
    println!("image-size: {size}");
    Ok(())
}

fn save(reference: &str) -> Result<()> {
    let image = Image::pull(reference, &PullOptions::default())?;
    let stream = registry_streams::save(&image, ArchiveFormat::Docker)?;
    match read_to_end(&stream) {
        Ok(bytes) => println!("saved {} bytes", bytes.len()),
        Err(e) => {
            println!("save failed: {e}");
            return Err(e.into());
        }
    }
    Ok(())
}

fn denials(src: &str, outside: &str) -> Result<()> {
    let report = |what: &str, r: std::result::Result<(), Error>| match r {
        Err(Error::Denied(d)) => println!("denied {} ({what}): {}", d.rule, d.reason),
        Err(e) => println!("error ({what}): {e}"),
        Ok(()) => println!("allowed ({what})"),
    };
    report(
        "pull from a registry the policy does not name",
        Image::pull("registry.example.com/x:1", &PullOptions::default()).map(drop),
    );
    let image = Image::pull(src, &PullOptions::default())?;
    report("push", image.push(Some(src)).map(drop));
    report(
        "layer from a host directory",
        image.add_layer_dir(outside, "/x", "").map(drop),
    );
    report(
        "forged ownership label",
        image.edit(&ConfigEdit {
            labels: vec![("tug.run".into(), Some("someone-else".into()))],
            ..Default::default()
        }),
    );
    // While a layer upload holds the image, it is busy; dropping the upload adds nothing.
    let layers = image.layers()?.len();
    let upload = registry_streams::add_layer_tar(&image, "abandoned")?;
    let body = upload.body()?;
    write_all(&body, &Tar::new().file("x", "x")?.into_bytes()?)?;
    match image.edit(&ConfigEdit {
        user: Some("nobody".into()),
        ..Default::default()
    }) {
        Err(Error::Conflict(m)) => println!("busy: {m}"),
        other => return Err(format!("edit during an upload: expected a conflict, got {other:?}").into()),
    }
    drop(body);
    drop(upload);
    let after = image.layers()?.len();
    if after != layers {
        return Err(format!("a dropped upload changed the layers: {layers} → {after}").into());
    }
    println!("a dropped upload added nothing ({after} layers)");
    Ok(())
}

/// The push report as a JSON line (the end-to-end test reads it).
fn report_json(r: &registry::PushReport) -> Value {
    json!({
        "reference": r.reference, "manifest_digest": r.manifest_digest, "manifest_size": r.manifest_size,
        "blobs_uploaded": r.blobs_uploaded, "blobs_mounted": r.blobs_mounted, "blobs_skipped": r.blobs_skipped,
        "bytes_uploaded": r.bytes_uploaded,
    })
}

/// What the run moved to and from registries, as a JSON line (the end-to-end test reads it).
fn stats_json() -> Value {
    let s = registry::stats();
    json!({
        "blob_bytes_downloaded": s.blob_bytes_downloaded, "blob_bytes_uploaded": s.blob_bytes_uploaded,
        "manifest_bytes_downloaded": s.manifest_bytes_downloaded, "blobs_mounted": s.blobs_mounted,
        "blobs_skipped": s.blobs_skipped, "blobs_uploaded": s.blobs_uploaded,
    })
}

/// The paths of a tar's regular files.
fn file_names(tar: &[u8]) -> Result<Vec<String>> {
    Ok(archive::files(tar)?.into_iter().map(|(path, _)| path).collect())
}
