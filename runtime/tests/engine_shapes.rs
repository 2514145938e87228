//! One test (at least) per transport shape of the Engine API, against the real daemon.

mod common;

use std::io::Read;

use base64::Engine as _;
use common::{client, create, payload, start, wait, TEST_IMAGE};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tug::engine::{segment, Error, FrameReader, Request, StreamKind};

/// json: create, start, wait, remove — and the typed errors along the way.
#[tokio::test]
async fn json_create_start_wait_remove() {
    let c = client();
    let name = format!("tug-json-{}", std::process::id());
    let created: Value = c
        .json(
            Request::post("/containers/create")
                .query("name", &name)
                .json(&json!({ "Image": TEST_IMAGE, "Cmd": ["sh", "-c", "exit 3"] }))
                .unwrap(),
        )
        .await
        .unwrap();
    let id = created["Id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 64);
    // Removed at the end by the test itself; the guard covers a failure on the way.
    let _guard = common::Container::adopt(&c, &id);

    // The same name again: a typed conflict with the daemon's message.
    let again = c
        .json::<Value>(
            Request::post("/containers/create")
                .query("name", &name)
                .json(&json!({ "Image": TEST_IMAGE }))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&again, Error::Conflict { message } if message.contains(&name)),
        "{again}"
    );

    start(&c, &id).await;
    assert_eq!(wait(&c, &id).await, 3);
    let inspect: Value = c
        .json(Request::get(format!("/containers/{}/json", segment(&name))))
        .await
        .unwrap();
    assert_eq!(inspect["State"]["ExitCode"], 3);
    assert_eq!(inspect["Id"], id.as_str());

    let removed = c
        .call(Request::delete(format!("/containers/{}", segment(&id))))
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let gone = c
        .call(Request::get(format!("/containers/{}/json", segment(&id))))
        .await
        .unwrap_err();
    assert!(
        matches!(&gone, Error::NotFound { message } if message.contains("No such container")),
        "{gone}"
    );
}

/// json: starting a running container answers 304, a typed NotModified.
#[tokio::test]
async fn json_not_modified() {
    let c = client();
    let ctr = create(&c, &["sleep", "30"], json!({})).await;
    start(&c, &ctr.id).await;
    let e = c
        .call(Request::post(format!("/containers/{}/start", ctr.id)))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotModified), "{e}");
}

/// json-stream: push the test image to the local registry and pull it back, with progress documents.
#[tokio::test]
async fn json_stream_pull_from_local_registry_with_progress() {
    let c = client();
    let repo = "127.0.0.1:5000/tug-test/shapes";
    let tag = format!("pull-{}", std::process::id());
    let reference = format!("{repo}:{tag}");
    c.call(
        Request::post(format!("/images/{}/tag", TEST_IMAGE))
            .query("repo", repo)
            .query("tag", &tag),
    )
    .await
    .unwrap();
    let auth = base64::engine::general_purpose::URL_SAFE.encode("{}");
    let mut push = c
        .json_stream(
            Request::post(format!("/images/{repo}/push"))
                .query("tag", &tag)
                .header("x-registry-auth".parse().unwrap(), auth.parse().unwrap()),
        )
        .await
        .unwrap();
    let mut pushed_digest = None;
    while let Some(doc) = push.next_value::<Value>().await.unwrap() {
        assert!(doc.get("error").is_none(), "push failed: {doc}");
        if let Some(d) = doc["aux"]["Digest"].as_str() {
            pushed_digest = Some(d.to_owned());
        }
    }
    let pushed_digest = pushed_digest.expect("push reports the manifest digest");

    c.call(Request::delete(format!("/images/{reference}")))
        .await
        .unwrap();
    let mut pull = c
        .json_stream(
            Request::post("/images/create")
                .query("fromImage", repo)
                .query("tag", &tag),
        )
        .await
        .unwrap();
    let mut statuses = Vec::new();
    while let Some(doc) = pull.next_value::<Value>().await.unwrap() {
        assert!(doc.get("error").is_none(), "pull failed: {doc}");
        statuses.push(doc["status"].as_str().unwrap_or_default().to_owned());
    }
    assert!(statuses.len() >= 2, "progress documents: {statuses:?}");
    assert!(
        statuses
            .iter()
            .any(|s| s.contains(&format!("Digest: {pushed_digest}"))),
        "the pull reports the pushed digest {pushed_digest}: {statuses:?}"
    );
    let image: Value = c
        .json(Request::get(format!("/images/{reference}/json")))
        .await
        .unwrap();
    assert!(image["RepoDigests"].to_string().contains(&pushed_digest));
    c.call(Request::delete(format!("/images/{reference}")))
        .await
        .unwrap();
}

/// raw-stream: export a container and find `bin/busybox` in the tar.
#[tokio::test]
async fn raw_stream_export_contains_busybox() {
    let c = client();
    let ctr = create(&c, &["true"], json!({})).await;
    let mut dl = c
        .download(Request::get(format!("/containers/{}/export", ctr.id)))
        .await
        .unwrap();
    let mut tar_bytes = Vec::new();
    dl.body.read_to_end(&mut tar_bytes).await.unwrap();
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    let mut busybox_size = None;
    let mut entries = 0;
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        entries += 1;
        if entry.path().unwrap().to_str() == Some("bin/busybox") {
            busybox_size = Some(entry.header().size().unwrap());
        }
    }
    assert!(
        entries > 100,
        "busybox applet links are in the export: {entries} entries"
    );
    assert!(
        busybox_size.unwrap_or(0) > 500_000,
        "bin/busybox is the static binary: {busybox_size:?}"
    );
}

/// upload: put a tar into a container and read the file back byte-identical with get-archive.
#[tokio::test]
async fn upload_put_archive_round_trips_bytes() {
    let c = client();
    let ctr = create(&c, &["true"], json!({})).await;
    let data = payload(3 * 1024 * 1024 + 17, 7);
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o640);
    builder
        .append_data(&mut header, "payload.bin", data.as_slice())
        .unwrap();
    let tar_bytes = builder.into_inner().unwrap();

    let upload = c
        .upload(
            Request::put(format!("/containers/{}/archive", ctr.id))
                .query("path", "/tmp")
                .content_type("application/x-tar"),
        )
        .await
        .unwrap();
    let answer = upload.send_all(tar_bytes.as_slice()).await.unwrap();
    assert!(answer.is_empty(), "PUT archive answers no body");

    let mut dl = c
        .download(Request::get(format!("/containers/{}/archive", ctr.id)).query("path", "/tmp/payload.bin"))
        .await
        .unwrap();
    let stat = dl.headers["x-docker-container-path-stat"]
        .to_str()
        .unwrap()
        .to_owned();
    let stat: Value =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(stat).unwrap()).unwrap();
    assert_eq!(stat["size"], data.len() as u64);
    let mut got = Vec::new();
    dl.body.read_to_end(&mut got).await.unwrap();
    let mut archive = tar::Archive::new(got.as_slice());
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.path().unwrap().to_str(), Some("payload.bin"));
    let mut content = Vec::new();
    entry.read_to_end(&mut content).unwrap();
    assert!(content == data, "the file came back byte-identical");
}

/// upload: when the daemon refuses the request, its error is returned, not a broken pipe.
#[tokio::test]
async fn upload_to_missing_container_reports_the_daemons_error() {
    let c = client();
    let upload = c
        .upload(Request::put("/containers/tug-no-such-container/archive").query("path", "/tmp"))
        .await
        .unwrap();
    let big = payload(4 * 1024 * 1024, 3);
    let e = upload.send_all(big.as_slice()).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { message } if message.contains("tug-no-such-container")),
        "{e}"
    );
}

async fn collect_frames<R: tokio::io::AsyncRead + Unpin>(mut frames: FrameReader<R>) -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while let Some(f) = frames.next_frame(64 * 1024).await.unwrap() {
        match f.stream {
            StreamKind::Stdout => out.extend_from_slice(&f.data),
            StreamKind::Stderr => err.extend_from_slice(&f.data),
            other => panic!("unexpected {other:?} frame"),
        }
    }
    (out, err)
}

/// multiplexed: logs of a container writing to stdout and stderr, every byte on its own stream.
#[tokio::test]
async fn multiplexed_logs_without_tty_keep_streams_apart() {
    let c = client();
    let script =
        "echo out1; echo err1 >&2; printf 'out2'; printf 'err2' >&2; head -c 100000 /dev/zero | tr '\\0' x";
    let ctr = create(&c, &["sh", "-c", script], json!({})).await;
    start(&c, &ctr.id).await;
    assert_eq!(wait(&c, &ctr.id).await, 0);
    let frames = c
        .multiplexed(
            Request::get(format!("/containers/{}/logs", ctr.id))
                .query("stdout", true)
                .query("stderr", true),
            false,
        )
        .await
        .unwrap();
    assert!(!frames.tty());
    let (out, err) = collect_frames(frames).await;
    let mut want_out = b"out1\nout2".to_vec();
    want_out.extend(std::iter::repeat_n(b'x', 100_000));
    assert!(
        out == want_out,
        "stdout: {} bytes, starts {:?}",
        out.len(),
        String::from_utf8_lossy(&out[..out.len().min(20)])
    );
    assert_eq!(String::from_utf8(err).unwrap(), "err1\nerr2");
}

/// multiplexed: with a TTY the output is raw, all of it on stdout.
#[tokio::test]
async fn multiplexed_logs_with_tty_are_raw() {
    let c = client();
    let ctr = create(
        &c,
        &["sh", "-c", "echo out1; echo err1 >&2"],
        json!({ "Tty": true }),
    )
    .await;
    start(&c, &ctr.id).await;
    assert_eq!(wait(&c, &ctr.id).await, 0);
    let frames = c
        .multiplexed(
            Request::get(format!("/containers/{}/logs", ctr.id))
                .query("stdout", true)
                .query("stderr", true),
            true,
        )
        .await
        .unwrap();
    let (out, err) = collect_frames(frames).await;
    assert_eq!(String::from_utf8(out).unwrap(), "out1\r\nerr1\r\n");
    assert!(err.is_empty());
}

/// hijack: exec `cat` with stdin written, half-closed, and echoed back; then the exit code.
#[tokio::test]
async fn hijack_exec_cat_sees_eof_after_half_close() {
    let c = client();
    let ctr = create(&c, &["sleep", "60"], json!({})).await;
    start(&c, &ctr.id).await;
    let exec: Value = c
        .json(
            Request::post(format!("/containers/{}/exec", ctr.id))
                .json(&json!({ "Cmd": ["cat"], "AttachStdin": true, "AttachStdout": true, "AttachStderr": true }))
                .unwrap(),
        )
        .await
        .unwrap();
    let exec_id = exec["Id"].as_str().unwrap().to_owned();
    let socket = c
        .hijack(
            Request::post(format!("/exec/{exec_id}/start"))
                .json(&json!({ "Detach": false, "Tty": false }))
                .unwrap(),
        )
        .await
        .unwrap();
    let (read, mut write) = socket.split();
    let input = payload(1024 * 1024, 11);
    let to_send = input.clone();
    // Write concurrently with reading: cat echoes while we send, and the pipes would fill otherwise.
    let writer = tokio::spawn(async move {
        write.write_all(b"hello\n").await.unwrap();
        write.write_all(&to_send).await.unwrap();
        write.shutdown().await.unwrap();
        write
    });
    let (out, err) = collect_frames(FrameReader::new(read, false)).await;
    let _write = writer.await.unwrap();
    assert!(err.is_empty(), "stderr: {}", String::from_utf8_lossy(&err));
    assert_eq!(&out[..6], b"hello\n");
    assert!(
        out[6..] == input[..],
        "echoed {} of {} bytes",
        out.len() - 6,
        input.len()
    );

    let inspect: Value = c
        .json(Request::get(format!("/exec/{exec_id}/json")))
        .await
        .unwrap();
    assert_eq!(inspect["ExitCode"], 0, "cat exits 0 on end of input: {inspect}");
    assert_eq!(inspect["Running"], false);
}

/// hijack: attach to a container's stdin and read its output, with a TTY.
#[tokio::test]
async fn hijack_attach_with_tty() {
    let c = client();
    let ctr = create(
        &c,
        &["sh", "-c", "read line; echo got:$line"],
        json!({ "Tty": true, "OpenStdin": true, "StdinOnce": true, "AttachStdin": true }),
    )
    .await;
    let socket = c
        .hijack(
            Request::post(format!("/containers/{}/attach", ctr.id))
                .query("stream", true)
                .query("stdin", true)
                .query("stdout", true)
                .query("stderr", true),
        )
        .await
        .unwrap();
    start(&c, &ctr.id).await;
    let (read, mut write) = socket.split();
    write.write_all(b"ping\n").await.unwrap();
    let (out, _) = collect_frames(FrameReader::new(read, true)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("got:ping"), "tty output: {text:?}");
    assert_eq!(wait(&c, &ctr.id).await, 0);
}
