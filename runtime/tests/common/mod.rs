//! Shared helpers for the engine tests: a client for the local daemon, the test image, and containers
//! that are removed however the test ends.
#![allow(dead_code)]

use serde_json::{json, Value};
use tug::engine::{segment, Client, EngineConfig, Request};

/// The image `scripts/setup` builds from Debian's busybox-static.
pub const TEST_IMAGE: &str = "tug-test/busybox:latest";

/// A client for the daemon the tests run against (`DOCKER_HOST`, else the local socket).
pub fn client() -> Client {
    Client::new(EngineConfig::from_env().expect("engine configuration")).expect("client")
}

/// A container that is force-removed when dropped, even if the test panicked.
pub struct Container {
    pub id: String,
    client: Client,
}

impl Container {
    /// Takes charge of removing a container created some other way.
    pub fn adopt(client: &Client, id: &str) -> Self {
        Container {
            id: id.to_owned(),
            client: client.clone(),
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let client = self.client.clone();
        let id = self.id.clone();
        // Drop is synchronous and may run inside the test's runtime: remove from a thread of our own.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let fresh = Client::new(client.config().clone()).unwrap();
                let _ = fresh
                    .call(
                        Request::delete(format!("/containers/{}", segment(&id)))
                            .query("force", true)
                            .query("v", true),
                    )
                    .await;
            });
        })
        .join()
        .unwrap();
    }
}

/// Creates a container of the test image running `cmd`, with extra create-body fields merged in.
pub async fn create(client: &Client, cmd: &[&str], extra: Value) -> Container {
    let mut body = json!({ "Image": TEST_IMAGE, "Cmd": cmd, "Labels": { "tug.test": "engine" } });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let created: Value = client
        .json(Request::post("/containers/create").json(&body).unwrap())
        .await
        .expect("create container");
    Container {
        id: created["Id"].as_str().expect("Id").to_owned(),
        client: client.clone(),
    }
}

/// Starts a container.
pub async fn start(client: &Client, id: &str) {
    client
        .call(Request::post(format!("/containers/{}/start", segment(id))))
        .await
        .expect("start container");
}

/// Waits for a container to exit and returns its exit code.
pub async fn wait(client: &Client, id: &str) -> i64 {
    let v: Value = client
        .json(Request::post(format!("/containers/{}/wait", segment(id))))
        .await
        .expect("wait");
    v["StatusCode"].as_i64().expect("StatusCode")
}

/// A pseudo-random payload (xorshift), so byte comparisons catch reordering and truncation.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
