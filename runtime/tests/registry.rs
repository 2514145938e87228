//! The registry backend against real registries (run `scripts/setup` first): 127.0.0.1:5000 (anonymous)
//! and dockerd for `docker load`, plus a fake registry in this process for what a real one will not do
//! (redirects, short and altered bodies). Authentication is in `registry_auth.rs`. Never the internet.

#[path = "registry/common.rs"]
mod common;
#[path = "registry/fake.rs"]
mod fake;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use bytes::Bytes;
use common::*;
use serde_json::{json, Value};
use tug::registry::{
    manifest, ConfigEdit, Credentials, Image, Platform, Registry, RegistryError, RegistryOptions,
};

#[tokio::test]
async fn pull_edit_push_and_pull_back() {
    let registry = anonymous();
    let mut image = Image::pull(&registry, &base(), None).await.unwrap();
    let base_layers = image.layers();
    assert!(!base_layers.is_empty() && base_layers.iter().all(|l| !l.local));
    assert_eq!(image.media_type(), manifest::DOCKER_MANIFEST);
    let files = image
        .add_layer_files(
            &[
                ("/tug/hello.txt".into(), b"hello from tug\n".to_vec(), 0o644),
                ("/tug/bin/run".into(), b"#!/bin/sh\necho run\n".to_vec(), 0o755),
            ],
            "files",
        )
        .await
        .unwrap();
    let dir = host_dir();
    let dir_layer = image
        .add_layer_dir(dir.path(), "/opt/tugdir", "dir")
        .await
        .unwrap();
    image
        .edit(&ConfigEdit {
            env: vec!["TUG_TEST=1".into()],
            labels: vec![("org.tug.test".into(), Some("yes".into()))],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(image.layers().len(), base_layers.len() + 2);
    let dest = reference(&format!("127.0.0.1:5000/tug-test/edited-{}:t", unique("r")));
    let report = image.push(&registry, &dest).await.unwrap();
    assert_eq!(report.manifest_digest, image.manifest_digest());
    assert_eq!(report.blobs_uploaded, 3, "{report:?}"); // two layers and the config
    assert_eq!(report.blobs_mounted as usize, base_layers.len(), "{report:?}");

    let back = Image::pull(&registry, &dest, None).await.unwrap();
    assert_eq!(back.manifest_digest(), report.manifest_digest);
    let digests = |i: &Image| {
        i.layers()
            .into_iter()
            .map(|l| (l.digest, l.diff_id, l.size))
            .collect::<Vec<_>>()
    };
    assert_eq!(digests(&back), digests(&image));
    assert_eq!(back.config(), image.config());
    let env = back.config()["config"]["Env"].as_array().unwrap();
    assert!(env.contains(&json!("TUG_TEST=1")), "{env:?}");
    assert!(env.iter().any(|e| e.as_str().unwrap().starts_with("PATH=")));
    assert_eq!(back.config()["config"]["Labels"]["org.tug.test"], "yes");
    assert_eq!(back.layers()[base_layers.len()].digest, files.digest);
    assert_eq!(back.layers()[base_layers.len() + 1].digest, dir_layer.digest);

    // Pinned by digest, the same manifest; a changed image that is pushed again is all skipped.
    let pinned = dest.with_digest(&report.manifest_digest).unwrap();
    let again = Image::pull(&registry, &pinned, None).await.unwrap();
    assert_eq!(again.manifest_digest(), report.manifest_digest);
    let second = image.push(&registry, &dest).await.unwrap();
    assert_eq!(
        (second.blobs_uploaded, second.blobs_mounted, second.bytes_uploaded),
        (0, 0, 0)
    );
    assert_eq!(second.manifest_digest, report.manifest_digest);
}

#[tokio::test]
async fn lazy_push_on_the_same_registry_moves_no_layer_bytes() {
    let registry = anonymous();
    let mut image = Image::pull(&registry, &base(), None).await.unwrap();
    let base_bytes: u64 = image.layers().iter().map(|l| l.size).sum();
    let unchanged_digest = image.manifest_digest();

    // Unchanged, under a new name: same digest, everything mounted, nothing uploaded.
    let copy = reference(&format!("127.0.0.1:5000/tug-test/copy-{}:t", unique("r")));
    let report = image.push(&registry, &copy).await.unwrap();
    assert_eq!(report.manifest_digest, unchanged_digest);
    assert_eq!(report.bytes_uploaded, 0, "{report:?}");
    assert_eq!(
        report.blobs_mounted as usize,
        image.layers().len() + 1,
        "{report:?}"
    );

    // One layer added: only it and the new config are uploaded.
    let added = image
        .add_layer_files(
            &[("/lazy.txt".into(), unique("lazy").into_bytes(), 0o644)],
            "lazy",
        )
        .await
        .unwrap();
    let dest = reference(&format!("127.0.0.1:5000/tug-test/lazy-{}:t", unique("r")));
    let report = image.push(&registry, &dest).await.unwrap();
    let stats = registry.stats();
    let config_len = serde_json::to_vec(image.config()).unwrap().len() as u64;
    assert_eq!(
        stats.blob_bytes_downloaded, stats.config_bytes_downloaded,
        "{stats:?}"
    );
    assert_eq!(report.bytes_uploaded, added.size + config_len, "{report:?}");
    assert_eq!(report.blobs_uploaded, 2, "{report:?}");
    assert_eq!(
        report.blobs_mounted as usize + report.blobs_skipped as usize,
        image.layers().len() - 1
    );
    eprintln!(
        "lazy push: image layers {base_bytes} B + new layer {} B; uploaded {} B; layer bytes downloaded {}",
        added.size,
        report.bytes_uploaded,
        stats.blob_bytes_downloaded - stats.config_bytes_downloaded
    );
}

#[tokio::test]
async fn docker_archive_loads_and_runs() {
    let registry = anonymous();
    let mut image = Image::pull(&registry, &base(), None).await.unwrap();
    let content = format!("loaded {}\n", unique("c"));
    image
        .add_layer_files(
            &[("/tug/added.txt".into(), content.clone().into_bytes(), 0o644)],
            "added",
        )
        .await
        .unwrap();
    let tag = format!("tug-test/loaded:{}", unique("t"));
    image.set_name(reference(&tag));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let file = tokio::fs::File::create(&path).await.unwrap();
    let mut writer = tokio::io::BufWriter::new(file);
    image.write_docker_archive(&registry, &mut writer).await.unwrap();
    tokio::io::AsyncWriteExt::flush(&mut writer).await.unwrap();

    let _cleanup = DockerImage(tag.clone());
    let loaded = docker(&["load", "-i", path.to_str().unwrap()]);
    assert!(loaded.contains(&tag), "{loaded}");
    let out = docker(&["run", "--rm", &tag, "cat", "/tug/added.txt"]);
    assert_eq!(out, content);
    // The image ID docker computed is the config digest tug wrote.
    let id = docker(&["image", "inspect", "--format", "{{.Id}}", &tag]);
    let config_digest = json_digest(image.config());
    assert_eq!(id.trim(), config_digest);
}

fn json_digest(v: &Value) -> String {
    use sha2::Digest;
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(serde_json::to_vec(v).unwrap()))
    )
}

#[tokio::test]
async fn oci_manifests_and_index_pick_the_platform() {
    let registry = anonymous();
    let repo = format!("127.0.0.1:5000/tug-test/oci-{}", unique("r"));
    let mut entries = Vec::new();
    let mut layer_of = std::collections::HashMap::new();
    for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
        let platform = Platform::new("linux", arch, variant);
        let mut image = Image::scratch(platform.clone());
        let layer = image
            .add_layer_files(
                &[("/platform".into(), arch.as_bytes().to_vec(), 0o644)],
                "platform",
            )
            .await
            .unwrap();
        assert_eq!(image.media_type(), manifest::OCI_MANIFEST);
        let report = image
            .push(&registry, &reference(&format!("{repo}:{arch}")))
            .await
            .unwrap();
        entries.push(json!({
            "mediaType": manifest::OCI_MANIFEST,
            "digest": report.manifest_digest,
            "size": report.manifest_size,
            "platform": platform,
        }));
        layer_of.insert(arch, layer.digest);
    }
    let index = json!({"schemaVersion": 2, "mediaType": manifest::OCI_INDEX, "manifests": entries});
    let multi = reference(&format!("{repo}:multi"));
    registry
        .push_manifest(
            &multi,
            Bytes::from(serde_json::to_vec(&index).unwrap()),
            manifest::OCI_INDEX,
        )
        .await
        .unwrap();

    let arm = Image::pull(&registry, &multi, Some(&Platform::parse("linux/arm64").unwrap()))
        .await
        .unwrap();
    assert_eq!(arm.config()["architecture"], "arm64");
    assert_eq!(arm.layers()[0].digest, layer_of["arm64"]);
    assert_eq!(arm.media_type(), manifest::OCI_MANIFEST);
    let default = Image::pull(&registry, &multi, None).await.unwrap();
    assert_eq!(
        default.config()["architecture"],
        Platform::host().architecture.as_str()
    );

    let err = Image::pull(&registry, &multi, Some(&Platform::parse("linux/s390x").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::NoMatchingPlatform { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("linux/s390x") && text.contains("linux/amd64") && text.contains("linux/arm64/v8"),
        "{text}"
    );

    // The OCI layout archive holds the manifest, config and layer blobs, and index.json names the tag.
    let mut out = Vec::new();
    arm.write_oci_archive(&registry, &mut out).await.unwrap();
    let mut archive = tar::Archive::new(&out[..]);
    let mut names = Vec::new();
    let mut index_json = Value::Null;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if name == "index.json" {
            index_json = serde_json::from_reader(&mut entry).unwrap();
        }
        names.push(name);
    }
    assert!(names.contains(&"oci-layout".to_owned()));
    assert!(names.contains(&format!(
        "blobs/sha256/{}",
        layer_of["arm64"].trim_start_matches("sha256:")
    )));
    assert_eq!(index_json["manifests"][0]["digest"], json!(arm.manifest_digest()));
    assert_eq!(
        index_json["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "multi"
    );
}

/// The path of a blob in the 127.0.0.1:5000 registry's storage.
fn blob_file(digest: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    dev_dir().join(format!(
        "registry-5000/data/docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ))
}

fn corrupt(path: &Path) {
    let mut data = std::fs::read(path).unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0xff;
    std::fs::write(path, data).unwrap();
}

#[tokio::test]
async fn corrupted_blobs_fail_and_leave_nothing() {
    let registry = anonymous();
    let mut image = Image::pull(&registry, &base(), None).await.unwrap();
    // A layer only this test has (random content, so its blob is this test's alone).
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ std::process::id() as u8)
        .collect();
    let layer = image
        .add_layer_files(
            &[
                ("/noise.bin".into(), noise, 0o644),
                ("/id".into(), unique("corrupt").into_bytes(), 0o644),
            ],
            "noise",
        )
        .await
        .unwrap();
    let dest = reference(&format!("127.0.0.1:5000/tug-test/corrupt-{}:t", unique("r")));
    image.push(&registry, &dest).await.unwrap();
    corrupt(&blob_file(&layer.digest));

    let pulled = Image::pull(&registry, &dest, None).await.unwrap();
    let err = pulled
        .write_docker_archive(&registry, tokio::io::sink())
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("expected {}", layer.digest)) && text.contains("got sha256:"),
        "{text}"
    );

    // The CLI exits non-zero naming the blob, and leaves no file (nor temporary file) behind.
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("corrupt.tar");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .args(["image", "save", &dest.to_string(), "-o", target.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&layer.digest) && stderr.contains("digest mismatch"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(out_dir.path()).unwrap().count(),
        0,
        "files left behind"
    );
    // Pushing it elsewhere streams and verifies it too: the copy fails rather than spreading it.
    let elsewhere = reference(&format!("127.0.0.1:5001/tug-test/corrupt-{}:t", unique("r")));
    let mut creds = Credentials::none();
    creds.insert("127.0.0.1:5001", "tug", "tug-secret");
    let both = Registry::new(RegistryOptions {
        credentials: creds,
        ..Default::default()
    });
    let err = pulled.push(&both, &elsewhere).await.unwrap_err().to_string();
    assert!(
        err.contains(&layer.digest) && err.contains("digest mismatch"),
        "{err}"
    );
}

fn tug(args: &[&str], docker_config: Option<&Path>) -> (bool, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tug"));
    cmd.args(args);
    if let Some(dir) = docker_config {
        cmd.env("DOCKER_CONFIG", dir);
    }
    let out = cmd.output().expect("running tug");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (out.status.success(), json, format!("{stdout}{stderr}"))
}

#[tokio::test]
async fn cli_add_layer_and_save() {
    let base = base().to_string();
    let dir = host_dir();
    let file = dir.path().join("top.txt");
    let dest = format!("127.0.0.1:5000/tug-test/cli-{}:t", unique("r"));
    let empty_config = tempfile::tempdir().unwrap();
    let file_spec = format!("{}:/cli/top.txt", file.display());
    let dir_spec = format!("{}:/cli/dir", dir.path().display());
    let (ok, answer, output) = tug(
        &[
            "image",
            "add-layer",
            &base,
            &dest,
            "--file",
            &file_spec,
            "--dir",
            &dir_spec,
            "--env",
            "CLI=1",
            "--label",
            "cli=yes",
            "--cmd",
            r#"["cat","/cli/top.txt"]"#,
            "--json",
        ],
        Some(empty_config.path()),
    );
    assert!(ok, "{output}");
    let stats = &answer["stats"];
    let push = &answer["push"];
    assert_eq!(
        stats["blob_bytes_downloaded"], stats["config_bytes_downloaded"],
        "{answer}"
    );
    assert_eq!(push["blobs_uploaded"], 3, "{answer}");
    assert!(push["blobs_mounted"].as_u64().unwrap() >= 1, "{answer}");
    let digest = answer["digest"].as_str().unwrap().to_owned();
    assert!(digest.starts_with("sha256:"));

    let registry = anonymous();
    let image = Image::pull(&registry, &reference(&dest), None).await.unwrap();
    assert_eq!(image.manifest_digest(), digest);
    assert_eq!(image.config()["config"]["Cmd"], json!(["cat", "/cli/top.txt"]));
    assert_eq!(image.config()["config"]["Labels"]["cli"], "yes");

    let out_dir = tempfile::tempdir().unwrap();
    for format in ["docker", "oci"] {
        let target = out_dir.path().join(format!("{format}.tar"));
        let (ok, answer, output) = tug(
            &[
                "image",
                "save",
                &dest,
                "-o",
                target.to_str().unwrap(),
                "--format",
                format,
                "--json",
            ],
            Some(empty_config.path()),
        );
        assert!(ok, "{output}");
        assert_eq!(answer["digest"], json!(digest));
        let mut archive = tar::Archive::new(std::fs::File::open(&target).unwrap());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        let marker = if format == "docker" {
            "manifest.json"
        } else {
            "index.json"
        };
        assert!(names.iter().any(|n| n == marker), "{names:?}");
    }
    // `tug image push` copies lazily; `pull` without -o only resolves.
    let copy = format!("127.0.0.1:5000/tug-test/cli-copy-{}:t", unique("r"));
    let (ok, answer, output) = tug(
        &["image", "push", &dest, &copy, "--json"],
        Some(empty_config.path()),
    );
    assert!(ok, "{output}");
    assert_eq!(answer["digest"], json!(digest));
    assert_eq!(answer["push"]["bytes_uploaded"], 0, "{answer}");
    let (ok, _, output) = tug(&["image", "pull", &copy], Some(empty_config.path()));
    assert!(ok && output.contains(&digest), "{output}");
    // A `docker save` tar pushed as it is: the image keeps its ID (the config's exact bytes) and layers.
    let saved = out_dir.path().join("saved.tar");
    docker(&["save", "-o", saved.to_str().unwrap(), BASE_SOURCE]);
    let from_tar = format!("127.0.0.1:5000/tug-test/from-tar-{}:t", unique("r"));
    let (ok, answer, output) = tug(
        &["image", "push", saved.to_str().unwrap(), &from_tar, "--json"],
        Some(empty_config.path()),
    );
    assert!(ok, "{output}");
    assert_eq!(answer["push"]["blobs_uploaded"], 2, "{answer}");
    let pushed = Image::pull(&registry, &reference(&from_tar), None).await.unwrap();
    assert_eq!(pushed.manifest_digest(), answer["digest"].as_str().unwrap());
    let id = docker(&["image", "inspect", "--format", "{{.Id}}", BASE_SOURCE]);
    let (m, _, _) = registry.fetch_manifest(&reference(&from_tar)).await.unwrap();
    let m: Value = serde_json::from_slice(&m).unwrap();
    assert_eq!(m["config"]["digest"], json!(id.trim()));
    let layers: Value = serde_json::from_str(&docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .RootFS.Layers}}",
        BASE_SOURCE,
    ]))
    .unwrap();
    let diff_ids: Vec<String> = pushed.layers().into_iter().map(|l| l.diff_id).collect();
    assert_eq!(layers, json!(diff_ids));
    // Errors exit non-zero with the chain.
    let (ok, _, output) = tug(
        &["image", "pull", "127.0.0.1:5000/tug-test/does-not-exist:x"],
        Some(empty_config.path()),
    );
    assert!(
        !ok && output.contains("MANIFEST_UNKNOWN") && output.contains("127.0.0.1:5000"),
        "{output}"
    );
}

fn sha(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

#[tokio::test]
async fn redirects_to_storage_without_credentials_and_bad_bodies() {
    use std::io::Write;
    let tar_bytes = {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        b.append_data(&mut h, "hello", &b"hello"[..]).unwrap();
        b.into_inner().unwrap()
    };
    let layer = {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar_bytes).unwrap();
        gz.finish().unwrap()
    };
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [sha(&tar_bytes)]},
    }))
    .unwrap();
    let (layer_digest, config_digest) = (sha(&layer), sha(&config));
    let manifest_doc = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_MANIFEST,
        "config": {"mediaType": manifest::OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": manifest::OCI_LAYER_GZIP, "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap();
    let port_cell = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(0));
    let port_in = port_cell.clone();
    let basic = {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("u:p")
        )
    };
    let (ld, cd) = (layer_digest.clone(), config_digest.clone());
    let (port, log) = fake::serve(move |req| {
        use fake::Reply;
        if req.path.starts_with("/v2/") && req.authorization.as_deref() != Some(basic.as_str()) {
            return Reply::status("401 Unauthorized").header("WWW-Authenticate", r#"Basic realm="fake""#);
        }
        let repo = req.path.split('/').nth(2).unwrap_or("");
        if req.path.ends_with("/manifests/t") {
            return Reply::ok(manifest::OCI_MANIFEST, manifest_doc.clone());
        }
        if req.path.ends_with(&format!("/blobs/{cd}")) {
            return Reply::ok("application/octet-stream", config.clone());
        }
        if req.path.ends_with(&format!("/blobs/{ld}")) {
            return match repo {
                // To "another host" (same server, other name): the credentials must not follow.
                "fake" => {
                    let port = port_in.load(std::sync::atomic::Ordering::SeqCst);
                    Reply::status("307 Temporary Redirect").header(
                        "Location",
                        &format!("http://localhost:{port}/storage/layer?sig=1"),
                    )
                }
                "short" => Reply::ok("application/octet-stream", layer[..layer.len() - 7].to_vec()),
                _ => {
                    let mut altered = layer.clone();
                    let last = altered.len() - 1;
                    altered[last] ^= 1;
                    Reply::ok("application/octet-stream", altered)
                }
            };
        }
        if req.path == "/storage/layer?sig=1" {
            return Reply::ok("application/octet-stream", layer.clone());
        }
        Reply::status("404 Not Found")
    });
    port_cell.store(port, std::sync::atomic::Ordering::SeqCst);
    let mut credentials = Credentials::none();
    credentials.insert(&format!("127.0.0.1:{port}"), "u", "p");
    let registry = Registry::new(RegistryOptions {
        credentials,
        ..Default::default()
    });

    let image = Image::pull(&registry, &reference(&format!("127.0.0.1:{port}/fake:t")), None)
        .await
        .unwrap();
    let mut out = Vec::new();
    image.write_oci_archive(&registry, &mut out).await.unwrap();
    let storage: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path.starts_with("/storage/"))
        .cloned()
        .collect();
    assert_eq!(storage.len(), 1, "{storage:?}");
    assert_eq!(
        storage[0].authorization, None,
        "credentials followed the redirect"
    );

    let short = Image::pull(&registry, &reference(&format!("127.0.0.1:{port}/short:t")), None)
        .await
        .unwrap();
    let err = short
        .write_docker_archive(&registry, tokio::io::sink())
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::SizeMismatch { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&layer_digest) && text.contains(&format!("expected {} bytes", layer_len(&image))),
        "{text}"
    );

    let altered = Image::pull(
        &registry,
        &reference(&format!("127.0.0.1:{port}/altered:t")),
        None,
    )
    .await
    .unwrap();
    let err = altered
        .write_oci_archive(&registry, tokio::io::sink())
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("expected {layer_digest}")),
        "{err}"
    );
}

fn layer_len(image: &Image) -> u64 {
    image.layers()[0].size
}
