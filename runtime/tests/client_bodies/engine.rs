//! A stand-in engine for the lookups the gate makes while it checks a body: every container, network,
//! volume, service, secret and config a body names exists and is the run's own, images exist, lists are
//! empty. So only the rules on the body's values can refuse it. It speaks just enough HTTP/1.1 on a unix
//! socket of its own for tug's engine client (keep-alive, `Content-Length` bodies).

use std::path::PathBuf;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// The run id the stand-in's objects carry in `tug.run`.
pub const RUN: &str = "r1";

/// A stand-in engine listening until dropped (with the runtime that serves it).
pub struct FakeEngine {
    dir: tempfile::TempDir,
}

impl FakeEngine {
    /// Listens on a fresh socket; must be called inside a tokio runtime, which serves it.
    pub fn start() -> FakeEngine {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let listener = UnixListener::bind(dir.path().join("engine.sock")).expect("binding the socket");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream));
            }
        });
        FakeEngine { dir }
    }

    /// Its `unix://` URL.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("engine.sock")
    }
}

/// Answers each request of one connection in turn.
async fn serve(stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            head.push_str(&line);
        }
        let length = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let mut parts = head.split_whitespace();
        let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        let (status, value) = answer(method, target);
        let text = match &value {
            Value::String(s) if target == "/_ping" => s.clone(),
            v => v.to_string(),
        };
        let reason = if status == 200 { "OK" } else { "Not Found" };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n\
             Content-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if write.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// A 64-hex-digit id made from a name (stable, so a body's references resolve the same each time).
pub fn id64(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}").repeat(4)
}

fn owned() -> Value {
    json!({ "tug.run": RUN, "tug.plugin": "p" })
}

/// What the stand-in answers: `(status, JSON)`.
fn answer(method: &str, target: &str) -> (u16, Value) {
    let path = target.split('?').next().unwrap_or_default();
    let path = match path.strip_prefix("/v") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            rest.find('/').map_or(path, |i| &rest[i..])
        }
        _ => path,
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let name = |i: usize| percent_decode(segments.get(i).copied().unwrap_or_default());
    if method != "GET" {
        return (
            404,
            json!({"message": format!("the stand-in engine takes no {method}")}),
        );
    }
    match segments.as_slice() {
        ["_ping"] => (200, Value::from("OK")),
        ["version"] => (200, json!({"ApiVersion": "1.41", "Version": "20.10.24"})),
        ["info"] => (
            200,
            json!({"Driver": "overlay2", "NCPU": 2, "MemTotal": 8_589_934_592u64}),
        ),
        ["containers", "json"] | ["networks"] | ["services"] | ["secrets"] | ["configs"] => (200, json!([])),
        ["volumes"] => (200, json!({"Volumes": []})),
        ["containers", _, "json"] => {
            let n = name(1);
            (
                200,
                json!({
                    "Id": id64(&n), "Name": format!("/{n}"), "Config": {"Labels": owned(), "Image": "tug-test/busybox:latest"},
                    "State": {"Running": true}, "HostConfig": {}, "Mounts": [], "ExecIDs": [],
                }),
            )
        }
        ["images", ..] if segments.last() == Some(&"json") => {
            let reference = segments[1..segments.len() - 1].join("/");
            (
                200,
                json!({
                    "Id": format!("sha256:{}", id64(&reference)), "RepoTags": [reference],
                    "Config": {"Labels": {}, "WorkingDir": ""},
                }),
            )
        }
        ["networks", _] => {
            let n = name(1);
            (
                200,
                json!({"Id": id64(&n), "Name": n, "Labels": owned(), "Scope": "local", "Driver": "bridge"}),
            )
        }
        ["volumes", _] => (
            200,
            json!({"Name": name(1), "Driver": "local", "Labels": owned()}),
        ),
        ["services" | "secrets" | "configs", _] => {
            let n = name(1);
            (
                200,
                json!({"ID": id64(&n)[..25], "Spec": {"Name": n, "Labels": owned()}}),
            )
        }
        ["plugins", .., "json"] => (
            200,
            json!({
                "Name": segments[1..segments.len() - 1].join("/"),
                "Config": {"Env": [{"Name": "DEBUG"}], "Mounts": [{"Name": "mnt", "Source": "/x"}],
                           "Linux": {"Devices": []}},
                "Settings": {"Env": ["DEBUG=0"], "Mounts": [], "Devices": [], "Args": []},
            }),
        ),
        _ => (404, json!({"message": format!("no such object: {path}")})),
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
