//! The image attacks: names moved or taken, images made without the run's labels, labels smuggled in
//! configs, builds without ceilings.
//!
//! Kinds: `build-link` (a context whose `Dockerfile` is a symlink to a file holding ARG),
//! `tag` (`SRC=>REPO:TAG`), `remove-image`, `inspect-image`, `save-all` (a name), `image-labels` (a
//! name: its labels are shown), `build` (`TAG|DOCKERFILE`: the `RUN` output is shown), `commit` (a name
//! for the plugin's container), `import` and `import-drop` (a name; the second drops the upload before
//! `finish`), `load-as` (`TAG|LABELS`: `tug-test/busybox:latest` saved, renamed `TAG`, its config given
//! the JSON `LABELS`, loaded back), `set-config` (a registry image's config).

use serde_json::{json, Value};
use tug_sdk::{
    engines::Engine,
    image_streams, images, progress_upload_all, read_to_end, registry,
    types::{Error, JsonStream},
};

use crate::{parse, Own, Result};

/// `repo:tag` split as the API takes it.
fn repo_tag(reference: &str) -> (String, Option<String>) {
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_owned(), Some(tag.to_owned())),
        _ => (reference.to_owned(), None),
    }
}

/// A tar of files.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o755);
        let _ = tar.append_data(&mut header, path, *data);
    }
    tar.into_inner().unwrap_or_default()
}

/// The documents of a progress stream; an error document is the call's error.
fn follow(stream: &JsonStream) -> Result<Vec<Value>> {
    let mut all = Vec::new();
    for doc in tug_sdk::documents(stream) {
        let doc = parse(&doc?);
        if let Some(e) = doc.get("errorDetail").or_else(|| doc.get("error")) {
            return Err(Error::InvalidArgument(format!("the engine said: {e}")));
        }
        all.push(doc);
    }
    Ok(all)
}

pub(crate) fn attack(d: &Engine, own: &mut Own, n: usize, kind: &str, arg: &str) -> Result<()> {
    match kind {
        "tag" => {
            let (source, target) = arg.split_once("=>").unwrap_or((arg, ""));
            let (repo, tag) = repo_tag(target);
            images::tag(d, source, &repo, &images::TagOptions { tag })
        }
        "remove-image" => images::remove(
            d,
            arg,
            images::RemoveOptions {
                force: Some(true),
                ..Default::default()
            },
        )
        .map(|_| ()),
        "inspect-image" => images::inspect(d, arg).map(|_| ()),
        "save-all" => image_streams::save_all(d, &[arg.to_owned()]).map(|_| ()),
        "image-labels" => {
            let v = parse(&images::inspect(d, arg)?);
            println!("show {n}: {}", v["Config"]["Labels"]);
            Ok(())
        }
        "build" => {
            let (tag, dockerfile) = arg.split_once('|').unwrap_or(("", arg));
            let options = image_streams::BuildOptions {
                t: (!tag.is_empty()).then(|| vec![tag.to_owned()]),
                nocache: Some(true),
                ..Default::default()
            };
            let lines = build_output(d, &options, dockerfile)?;
            let limits: Vec<&str> = lines
                .iter()
                .map(String::as_str)
                .filter(|l| l.starts_with("limit "))
                .collect();
            println!("show {n}: {}", limits.join("; "));
            Ok(())
        }
        // A build started and left in flight until the plugin ends.
        "build-open" => {
            let upload = image_streams::build(d, &Default::default(), None)?;
            own.held.push(Box::new(upload));
            Ok(())
        }
        // A build with options (`{"pull": true, "cachefrom": [..]}|DOCKERFILE`); it shows the build's output.
        "build-with" => {
            let (options, dockerfile) = arg.split_once('|').unwrap_or(("{}", arg));
            let o = parse(options);
            let options = image_streams::BuildOptions {
                pull: o["pull"].as_bool(),
                cachefrom: o["cachefrom"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()),
                ..Default::default()
            };
            let lines = build_output(d, &options, dockerfile)?;
            println!("show {n}: {}", lines.join("; "));
            Ok(())
        }
        // A context whose Dockerfile is a link to another file of it.
        "build-link" => {
            let mut tar = tar::Builder::new(Vec::new());
            let mut header = tar::Header::new_gnu();
            header.set_size(arg.len() as u64);
            header.set_mode(0o644);
            let _ = tar.append_data(&mut header, "real.txt", arg.as_bytes());
            let mut link = tar::Header::new_gnu();
            link.set_entry_type(tar::EntryType::Symlink);
            link.set_size(0);
            let _ = tar.append_link(&mut link, "Dockerfile", "real.txt");
            let context = tar.into_inner().unwrap_or_default();
            let upload = image_streams::build(d, &Default::default(), None)?;
            follow(&progress_upload_all(upload, &context)?)?;
            Ok(())
        }
        // A tar whose PAX `size` says more than its header: a reader trusting the header reads the rest as
        // entries of their own (a smuggled Dockerfile, a smuggled manifest naming ARG).
        "build-smuggle" => {
            let context = smuggled(
                &[("Dockerfile", format!("FROM {arg}\n").as_bytes())],
                &[("Dockerfile", b"FROM tug-test/busybox:latest\n".as_slice())],
            );
            let upload = image_streams::build(d, &Default::default(), None)?;
            follow(&progress_upload_all(upload, &context)?)?;
            Ok(())
        }
        "load-smuggle" => {
            let (tag, victim) = arg.split_once('|').unwrap_or((arg, ""));
            let saved = read_to_end(&image_streams::save(d, "tug-test/busybox:latest")?)?;
            let honest = renamed(&saved, tag, &json!({}))
                .map_err(|e| Error::InvalidArgument(format!("rewriting the saved tar: {e}")))?;
            let evil = renamed(&saved, victim, &json!({"tug.keep": "1"}))
                .map_err(|e| Error::InvalidArgument(format!("rewriting the saved tar: {e}")))?;
            // The smuggled part: the evil tar's manifest and configs, hidden in a PAX-sized entry.
            let hidden = entries_of(&evil, |p| p.ends_with(".json"));
            let hidden: Vec<(&str, &[u8])> = hidden.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
            let visible = entries_of(&honest, |_| true);
            let visible: Vec<(&str, &[u8])> =
                visible.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
            let tar = smuggled(&hidden, &visible);
            let upload = image_streams::load(d, image_streams::LoadOptions { quiet: Some(true) })?;
            follow(&progress_upload_all(upload, &tar)?)?;
            Ok(())
        }
        // A load whose tar has one image config twice, the second with `tug.keep=1`.
        "load-dup" => {
            let saved = read_to_end(&image_streams::save(d, "tug-test/busybox:latest")?)?;
            let honest = renamed(&saved, arg, &json!({}))
                .map_err(|e| Error::InvalidArgument(format!("rewriting the saved tar: {e}")))?;
            let mut files = entries_of(&honest, |_| true);
            let config = files
                .iter()
                .find(|(p, _)| p.ends_with(".json") && p != "manifest.json")
                .cloned()
                .unwrap_or_default();
            let mut evil: Value = serde_json::from_slice(&config.1).unwrap_or_default();
            evil["config"]["Labels"] = json!({"tug.keep": "1"});
            files.push((
                format!("./{}", config.0),
                serde_json::to_vec(&evil).unwrap_or_default(),
            ));
            let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
            let upload = image_streams::load(d, image_streams::LoadOptions { quiet: Some(true) })?;
            follow(&progress_upload_all(upload, &tar_of(&refs))?)?;
            Ok(())
        }
        // A context whose Dockerfile is a character device (1:3, /dev/null on the daemon's host).
        "build-device" => {
            let mut tar = tar::Builder::new(Vec::new());
            let mut dev = tar::Header::new_ustar();
            dev.set_entry_type(tar::EntryType::Char);
            dev.set_device_major(1).ok();
            dev.set_device_minor(3).ok();
            dev.set_size(0);
            dev.set_mode(0o644);
            let _ = tar.append_data(&mut dev, "Dockerfile", std::io::empty());
            let mut h = tar::Header::new_gnu();
            h.set_size(arg.len() as u64);
            h.set_mode(0o644);
            let _ = tar.append_data(&mut h, "dockerfile", arg.as_bytes());
            let context = tar.into_inner().unwrap_or_default();
            let upload = image_streams::build(d, &Default::default(), None)?;
            follow(&progress_upload_all(upload, &context)?)?;
            Ok(())
        }
        "commit-changes" => {
            let (id, _) = own.container(d)?;
            let options = images::CommitOptions {
                changes: Some(vec![arg.to_owned()]),
                ..Default::default()
            };
            images::commit(d, &id, None, &options).map(|_| ())
        }
        // A commit whose config carries an ONBUILD trigger (`TAG|TRIGGER`).
        "commit-onbuild" => {
            let (id, _) = own.container(d)?;
            let (tag, trigger) = arg.split_once('|').unwrap_or((arg, ""));
            let (repo, tag) = repo_tag(tag);
            let options = images::CommitOptions {
                repo: Some(repo),
                tag,
                ..Default::default()
            };
            let config = json!({ "OnBuild": [trigger] }).to_string();
            images::commit(d, &id, Some(&config), &options).map(|_| ())
        }
        // A commit with a config of the plugin's (`TAG|CONFIG`).
        "commit-config" => {
            let (id, _) = own.container(d)?;
            let (tag, config) = arg.split_once('|').unwrap_or((arg, "{}"));
            let (repo, tag) = repo_tag(tag);
            let options = images::CommitOptions {
                repo: Some(repo),
                tag,
                ..Default::default()
            };
            images::commit(d, &id, Some(config), &options).map(|_| ())
        }
        "commit" => {
            let (id, _) = own.container(d)?;
            let (repo, tag) = repo_tag(arg);
            let options = images::CommitOptions {
                repo: Some(repo),
                tag,
                ..Default::default()
            };
            images::commit(d, &id, None, &options).map(|_| ())
        }
        "import" | "import-drop" => {
            let (repo, tag) = repo_tag(arg);
            let options = image_streams::ImportOptions {
                repo: Some(repo),
                tag,
                ..Default::default()
            };
            let upload = image_streams::import(d, &options)?;
            let rootfs = tar_of(&[("hello.txt", b"imported\n")]);
            if kind == "import-drop" {
                // Half the tar, then the handle is dropped: the import never finishes.
                let body = upload.body()?;
                tug_sdk::write_all(&body, &rootfs[..rootfs.len() / 2])?;
                drop(body);
                drop(upload);
                return Ok(());
            }
            follow(&progress_upload_all(upload, &rootfs)?)?;
            Ok(())
        }
        "load-as" => {
            let (tag, labels) = arg.split_once('|').unwrap_or((arg, "{}"));
            let saved = read_to_end(&image_streams::save(d, "tug-test/busybox:latest")?)?;
            let tar = renamed(&saved, tag, &parse(labels))
                .map_err(|e| Error::InvalidArgument(format!("rewriting the saved tar: {e}")))?;
            let upload = image_streams::load(d, image_streams::LoadOptions { quiet: Some(true) })?;
            follow(&progress_upload_all(upload, &tar)?)?;
            Ok(())
        }
        // A load left unfinished, holding `MIB` files of 1 MiB that tug checks (`.json`): kept open until
        // the plugin ends. When tug refuses part way, the load is finished to report its error.
        "load-hold" => {
            let mib: usize = arg.parse().unwrap_or(1);
            let upload = image_streams::load(d, image_streams::LoadOptions { quiet: Some(true) })?;
            let mut tar = tar::Builder::new(Vec::new());
            let data = vec![b' '; 1 << 20];
            for i in 0..mib {
                let mut header = tar::Header::new_gnu();
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                let _ = tar.append_data(&mut header, format!("held-{i}.json"), &data[..]);
            }
            let bytes = tar.into_inner().unwrap_or_default();
            let written = match upload.body() {
                Ok(body) => tug_sdk::write_all(&body, &bytes),
                Err(e) => Err(e),
            };
            match written {
                Ok(()) => {
                    own.held.push(Box::new(upload));
                    Ok(())
                }
                Err(_) => tug_sdk::types::ProgressUpload::finish(upload).map(|_| ()),
            }
        }
        "set-config" => registry::Image::scratch(&registry::Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        })
        .set_config(arg),
        other => Err(Error::InvalidArgument(format!("unknown kind {other:?}"))),
    }
}

/// Builds a context holding only `dockerfile` and returns the lines of the build's output.
fn build_output(d: &Engine, options: &image_streams::BuildOptions, dockerfile: &str) -> Result<Vec<String>> {
    let upload = image_streams::build(d, options, None)?;
    let docs = follow(&progress_upload_all(
        upload,
        &tar_of(&[("Dockerfile", dockerfile.as_bytes())]),
    )?)?;
    Ok(docs
        .iter()
        .filter_map(|d| d["stream"].as_str())
        .flat_map(str::lines)
        .map(str::to_owned)
        .collect())
}

/// The files of a tar whose path `keep` says, in order.
fn entries_of(tar: &[u8], keep: impl Fn(&str) -> bool) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(tar);
    let Ok(entries) = archive.entries() else {
        return out;
    };
    for mut entry in entries.flatten() {
        let Ok(path) = entry.path().map(|p| p.to_string_lossy().into_owned()) else {
            continue;
        };
        if entry.header().entry_type().is_file() && keep(&path) {
            let mut data = Vec::new();
            let _ = std::io::Read::read_to_end(&mut entry, &mut data);
            out.push((path, data));
        }
    }
    out
}

/// A tar that says one thing to a reader of PAX sizes and another to a reader of headers: an entry
/// `pad` whose PAX `size` covers a whole tar of `hidden` files (and its end), then `visible`.
fn smuggled(hidden: &[(&str, &[u8])], visible: &[(&str, &[u8])]) -> Vec<u8> {
    let inner = tar_of(hidden);
    let mut tar = tar::Builder::new(Vec::new());
    let _ = tar.append_pax_extensions([("size", inner.len().to_string().as_bytes())]);
    let mut header = tar::Header::new_ustar();
    header.set_path("pad").ok();
    header.set_size(0);
    header.set_mode(0o644);
    header.set_cksum();
    let _ = std::io::Write::write_all(tar.get_mut(), header.as_bytes());
    let _ = std::io::Write::write_all(tar.get_mut(), &inner);
    for (path, data) in visible {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        let _ = tar.append_data(&mut h, path, *data);
    }
    tar.into_inner().unwrap_or_default()
}

/// A `docker save` tar renamed `tag`, with `labels` added to its image's config.
fn renamed(saved: &[u8], tag: &str, labels: &Value) -> std::io::Result<Vec<u8>> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut archive = tar::Archive::new(saved);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data)?;
        if entry.header().entry_type().is_file() {
            files.push((path, data));
        }
    }
    let mut manifest: Value = files
        .iter()
        .find(|(p, _)| p == "manifest.json")
        .map(|(_, d)| serde_json::from_slice(d).unwrap_or_default())
        .unwrap_or_default();
    manifest[0]["RepoTags"] = json!([tag]);
    let config_path = manifest[0]["Config"].as_str().unwrap_or_default().to_owned();
    for (path, data) in files.iter_mut() {
        if *path == "manifest.json" {
            *data = serde_json::to_vec(&manifest)?;
        } else if *path == config_path {
            let mut config: Value = serde_json::from_slice(data).unwrap_or_default();
            for (k, v) in labels.as_object().into_iter().flatten() {
                config["config"]["Labels"][k] = v.clone();
            }
            *data = serde_json::to_vec(&config)?;
        }
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|(p, _)| p != "repositories")
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    Ok(tar_of(&refs))
}
