//! The native clients: tug's own engine client (what the host uses underneath) and bollard. Each times
//! the same calls the plugin makes, the same way (from the request to the last byte).

use std::{sync::Arc, time::Instant};

use anyhow::Context;
use serde_json::{json, Value};
use tug::engine::{Client, Request};

/// `n` × `GET /version` (the body as text, as the plugin gets it): per-call ns.
pub async fn version(client: &Client, n: usize) -> anyhow::Result<Vec<u64>> {
    let mut ns = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let body = client.call(Request::get("/version")).await?.into_body();
        let text = String::from_utf8(body.to_vec())?;
        ns.push(t.elapsed().as_nanos() as u64);
        anyhow::ensure!(!text.is_empty());
    }
    Ok(ns)
}

/// `n` × bollard's `version()`: per-call ns.
pub async fn bollard_version(n: usize) -> anyhow::Result<Vec<u64>> {
    let docker = bollard::Docker::connect_with_local_defaults()?;
    let mut ns = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let v = docker.version().await?;
        ns.push(t.elapsed().as_nanos() as u64);
        anyhow::ensure!(v.version.is_some());
    }
    Ok(ns)
}

/// Reads container `id`'s stdout logs (following them, after starting the container, with `follow`) as
/// frames: (bytes, frames, seconds).
pub async fn logs(client: &Client, id: &str, follow: bool) -> anyhow::Result<(u64, u64, f64)> {
    let t = Instant::now();
    if follow {
        client
            .call(Request::post(format!("/containers/{id}/start")))
            .await?;
    }
    let req = Request::get(format!("/containers/{id}/logs"))
        .query("stdout", true)
        .query("follow", follow);
    let mut frames = client.multiplexed(req, false).await?;
    let (mut bytes, mut count) = (0u64, 0u64);
    while let Some(f) = frames.next_frame(1 << 20).await? {
        bytes += f.data.len() as u64;
        count += 1;
    }
    Ok((bytes, count, t.elapsed().as_secs_f64()))
}

/// Reads `get-archive` of `path` in container `id` chunk by chunk: (bytes, chunks, seconds).
pub async fn archive(client: &Client, id: &str, path: &str) -> anyhow::Result<(u64, u64, f64)> {
    let t = Instant::now();
    let mut dl = client
        .download(Request::get(format!("/containers/{id}/archive")).query("path", path))
        .await?;
    let (mut bytes, mut count) = (0u64, 0u64);
    while let Some(chunk) = dl.body.chunk().await? {
        bytes += chunk.len() as u64;
        count += 1;
    }
    Ok((bytes, count, t.elapsed().as_secs_f64()))
}

/// One create, start, wait, remove of `image true`.
pub async fn lifecycle_once(client: &Client, image: &str) -> anyhow::Result<()> {
    let created: Value = client
        .json(Request::post("/containers/create").json(&json!({"Image": image, "Cmd": ["true"]}))?)
        .await?;
    let id = created["Id"]
        .as_str()
        .context("create answered no Id")?
        .to_owned();
    client
        .call(Request::post(format!("/containers/{id}/start")))
        .await?;
    let waited: Value = client
        .json(Request::post(format!("/containers/{id}/wait")))
        .await?;
    client.call(Request::delete(format!("/containers/{id}"))).await?;
    anyhow::ensure!(waited["StatusCode"] == 0, "the container failed: {waited}");
    Ok(())
}

/// `n` lifecycles, `concurrency` at a time: (total seconds, per-round ns).
pub async fn lifecycle(
    client: &Client,
    image: &str,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<(f64, Vec<u64>)> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, image, next) = (client.clone(), image.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut ns = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                let r = Instant::now();
                lifecycle_once(&client, &image).await?;
                ns.push(r.elapsed().as_nanos() as u64);
            }
            anyhow::Ok(ns)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok((t.elapsed().as_secs_f64(), all))
}
