//! Transports and client behaviour against real daemons: API version negotiation, timeouts, a second
//! dockerd with `--tlsverify` (certificates made here), and ssh through a real sshd on loopback.

mod common;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{client, create, payload, start};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    SanType,
};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tug::engine::{
    ApiVersion, Client, Endpoint, EngineConfig, Error, FrameReader, Request, StreamKind, TlsConfig,
    VersionPolicy,
};

#[tokio::test]
async fn auto_version_is_the_daemons_capped_at_ours() {
    let c = client();
    let ping = c.ping().await.unwrap();
    let daemon = ping.api_version.expect("the daemon sends Api-Version");
    assert_eq!(
        c.api_version().await.unwrap(),
        daemon.min(tug::engine::config::MAX_API_VERSION)
    );
    let v: Value = c.json(Request::get("/version")).await.unwrap();
    assert_eq!(v["ApiVersion"].as_str().unwrap(), daemon.to_string());
}

#[tokio::test]
async fn pinned_versions_old_and_too_new() {
    let mut cfg = client().config().clone();
    cfg.version = VersionPolicy::Pinned(ApiVersion::new(1, 30));
    let old = Client::new(cfg.clone()).unwrap();
    let info: Value = old.json(Request::get("/info")).await.unwrap();
    assert!(info["ID"].is_string());

    cfg.version = VersionPolicy::Pinned(ApiVersion::new(1, 99));
    let new = Client::new(cfg).unwrap();
    let e = new.json::<Value>(Request::get("/info")).await.unwrap_err();
    assert!(
        matches!(&e, Error::VersionTooNew { message } if message.contains("1.99")),
        "{e}"
    );
}

#[tokio::test]
async fn calls_time_out_and_missing_sockets_are_transport_errors() {
    let c = client();
    let ctr = create(&c, &["sleep", "30"], json!({})).await;
    start(&c, &ctr.id).await;
    let mut cfg = c.config().clone();
    cfg.timeout = Duration::from_millis(300);
    let impatient = Client::new(cfg).unwrap();
    let t0 = Instant::now();
    let e = impatient
        .call(Request::post(format!("/containers/{}/wait", ctr.id)))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(5));

    let nowhere = Client::new(EngineConfig::new(Endpoint::Unix(
        "/nonexistent/docker.sock".into(),
    )))
    .unwrap();
    let e = nowhere.ping().await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e}");
    assert!(
        format!("{e}").contains("/nonexistent/docker.sock"),
        "names the endpoint: {e}"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process killed (TERM, then KILL) when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Linux bridge of the test's own, deleted when dropped.
struct Bridge {
    name: String,
}

impl Bridge {
    fn new(name: &str, cidr: &str) -> Self {
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("run ip (iproute2)");
            assert!(
                out.status.success(),
                "ip {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let _ = Command::new("ip").args(["link", "del", name]).output();
        ip(&["link", "add", "name", name, "type", "bridge"]);
        let bridge = Bridge {
            name: name.to_owned(),
        };
        ip(&["addr", "add", cidr, "dev", name]);
        ip(&["link", "set", name, "up"]);
        bridge
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.name]).output();
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A CA, a server certificate for 127.0.0.1, and client certificates from the CA and from a stranger.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client: TlsConfig,
    stranger: TlsConfig,
}

fn make_pki(dir: &Path) -> Pki {
    let ca = |cn: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, cn);
        CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
    };
    let leaf = |issuer: &CertifiedIssuer<'_, KeyPair>, server: bool| {
        let mut p = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        p.subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        p.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let good_ca = ca("tug test CA");
    let other_ca = ca("somebody else's CA");
    let (server_cert, server_key) = leaf(&good_ca, true);
    let (client_cert, client_key) = leaf(&good_ca, false);
    let (stranger_cert, stranger_key) = leaf(&other_ca, false);
    let ca_path = write(dir, "ca.pem", &good_ca.pem());
    Pki {
        server_cert: write(dir, "server.pem", &server_cert),
        server_key: write(dir, "server-key.pem", &server_key),
        client: TlsConfig {
            ca: Some(ca_path.clone()),
            cert: Some(write(dir, "cert.pem", &client_cert)),
            key: Some(write(dir, "key.pem", &client_key)),
            verify: true,
        },
        stranger: TlsConfig {
            ca: Some(ca_path.clone()),
            cert: Some(write(dir, "stranger.pem", &stranger_cert)),
            key: Some(write(dir, "stranger-key.pem", &stranger_key)),
            verify: true,
        },
        ca: ca_path,
    }
}

fn tls_client(port: u16, tls: TlsConfig) -> Client {
    let mut cfg = EngineConfig::new(Endpoint::Tcp {
        host: "127.0.0.1".into(),
        port,
    });
    cfg.tls = Some(tls);
    cfg.timeout = Duration::from_secs(10);
    Client::new(cfg).unwrap()
}

/// A second dockerd with `--tlsverify` on a loopback port, with its own data root, exec root, pid file and
/// unix socket: the right client certificate gets in, a stranger's and none are refused.
#[tokio::test]
async fn tls_daemon_accepts_its_clients_and_refuses_strangers() {
    let dir = tempfile::Builder::new()
        .prefix("tug-tls")
        .tempdir_in("/tmp")
        .unwrap();
    let pki = make_pki(dir.path());
    let port = free_port();
    let sock = dir.path().join("docker.sock");
    let log = dir.path().join("dockerd.log");
    let bridge = Bridge::new(&format!("tugtls{}", port % 10000), "172.31.254.1/24");
    let child = Command::new("dockerd")
        .arg("--tlsverify")
        .arg("--tlscacert")
        .arg(&pki.ca)
        .arg("--tlscert")
        .arg(&pki.server_cert)
        .arg("--tlskey")
        .arg(&pki.server_key)
        .arg("-H")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("-H")
        .arg(format!("unix://{}", sock.display()))
        .arg("--data-root")
        .arg(dir.path().join("data"))
        .arg("--exec-root")
        .arg(dir.path().join("exec"))
        .arg("--pidfile")
        .arg(dir.path().join("docker.pid"))
        // Its own bridge: `--bridge none` would delete the first daemon's docker0.
        .arg("--bridge")
        .arg(&bridge.name)
        .args(["--iptables=false", "--ip-masq=false"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start a second dockerd (tests run as root)");
    let daemon = Daemon { child, log };

    let local = Client::new(EngineConfig::new(Endpoint::Unix(sock))).unwrap();
    let t0 = Instant::now();
    while local.ping().await.is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "second dockerd did not start:\n{}",
            daemon.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let good = tls_client(port, pki.client.clone());
    let version: Value = good.json(Request::get("/version")).await.unwrap();
    assert!(version["ApiVersion"].is_string(), "{version}");
    // Unverified TLS (DOCKER_TLS_VERIFY unset) with the right client certificate also works.
    let unverified = tls_client(
        port,
        TlsConfig {
            ca: None,
            verify: false,
            ..pki.client.clone()
        },
    );
    unverified.ping().await.unwrap();

    let stranger = tls_client(port, pki.stranger.clone());
    let e = stranger.ping().await.unwrap_err();
    assert!(
        matches!(e, Error::Transport { .. }),
        "a stranger's certificate is refused: {e}"
    );
    let anonymous = tls_client(
        port,
        TlsConfig {
            cert: None,
            key: None,
            ..pki.client.clone()
        },
    );
    let e = anonymous.ping().await.unwrap_err();
    assert!(
        matches!(e, Error::Transport { .. }),
        "no certificate is refused: {e}"
    );
    // And the daemon must be verified: a client trusting another CA refuses it.
    let wary = tls_client(
        port,
        TlsConfig {
            ca: pki.stranger.cert.clone(),
            ..pki.client.clone()
        },
    );
    let e = wary.ping().await.unwrap_err();
    assert!(
        format!("{e:?}").contains("Certificate") || format!("{e:?}").contains("certificate"),
        "{e:?}"
    );
    drop(daemon);
    drop(bridge);
    let docker0 = Command::new("ip")
        .args(["link", "show", "docker0"])
        .output()
        .unwrap();
    assert!(
        docker0.status.success(),
        "the first daemon's docker0 bridge is untouched"
    );
}

/// `ssh://` through a real sshd on loopback running `docker system dial-stdio`: json and hijack with
/// half-close.
#[tokio::test]
async fn ssh_transport_runs_dial_stdio() {
    let dir = tempfile::Builder::new()
        .prefix("tug-ssh")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    for (name, _) in [("host_key", ()), ("id", ())] {
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(d.join(name))
            .status()
            .unwrap();
        assert!(ok.success());
    }
    std::fs::copy(d.join("id.pub"), d.join("authorized_keys")).unwrap();
    let port = free_port();
    let config = write(
        d,
        "sshd_config",
        &format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {h}\nAuthorizedKeysFile {a}\nPidFile {p}\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\nUsePAM no\n",
            h = d.join("host_key").display(),
            a = d.join("authorized_keys").display(),
            p = d.join("sshd.pid").display(),
        ),
    );
    std::fs::create_dir_all("/run/sshd").unwrap();
    let log = d.join("sshd.log");
    let child = Command::new("/usr/sbin/sshd")
        .arg("-D")
        .arg("-f")
        .arg(&config)
        .arg("-E")
        .arg(&log)
        .stdin(Stdio::null())
        .spawn()
        .expect("start sshd");
    let sshd = Daemon { child, log };
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "sshd did not start:\n{}",
            sshd.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut cfg = EngineConfig::from_url(&format!("ssh://root@127.0.0.1:{port}")).unwrap();
    cfg.ssh_options = [
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-i",
    ]
    .into_iter()
    .map(String::from)
    .chain([d.join("id").display().to_string()])
    .collect();
    let c = Client::new(cfg).unwrap();
    let info: Value = c
        .json(Request::get("/info"))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log_tail()));
    let local: Value = client().json(Request::get("/info")).await.unwrap();
    assert_eq!(info["ID"], local["ID"], "the same daemon, reached over ssh");

    let ctr = create(&c, &["sleep", "60"], json!({})).await;
    start(&c, &ctr.id).await;
    let exec: Value = c
        .json(
            Request::post(format!("/containers/{}/exec", ctr.id))
                .json(&json!({ "Cmd": ["wc", "-c"], "AttachStdin": true, "AttachStdout": true }))
                .unwrap(),
        )
        .await
        .unwrap();
    let socket = c
        .hijack(
            Request::post(format!("/exec/{}/start", exec["Id"].as_str().unwrap()))
                .json(&json!({ "Detach": false, "Tty": false }))
                .unwrap(),
        )
        .await
        .unwrap();
    let (read, mut write) = socket.split();
    write.write_all(&payload(200_000, 5)).await.unwrap();
    write.shutdown().await.unwrap();
    let mut frames = FrameReader::new(read, false);
    let mut out = Vec::new();
    while let Some(f) = frames.next_frame(1 << 16).await.unwrap() {
        assert_eq!(f.stream, StreamKind::Stdout);
        out.extend_from_slice(&f.data);
    }
    assert_eq!(
        String::from_utf8(out).unwrap().trim(),
        "200000",
        "wc saw every byte, then end of input"
    );
    drop(ctr);
    drop(sshd);
}

/// Sequential calls reuse one pooled connection; a follow stream dropped mid-read, or never read, gives
/// its connection back to nobody: it is closed.
#[tokio::test]
async fn connections_are_reused_and_abandoned_streams_closed() {
    let c = Client::new(client().config().clone()).unwrap();
    for _ in 0..20 {
        c.call(Request::get("/version")).await.unwrap();
    }
    assert_eq!(
        c.open_connections(),
        1,
        "20 sequential calls share one connection"
    );

    let ctr = create(&c, &["sh", "-c", "while true; do echo tick; done"], json!({})).await;
    start(&c, &ctr.id).await;
    let logs = |follow: bool| {
        Request::get(format!("/containers/{}/logs", ctr.id))
            .query("stdout", true)
            .query("follow", follow)
    };
    let mut read_some = c.multiplexed(logs(true), false).await.unwrap();
    assert!(read_some.next_frame(1024).await.unwrap().is_some());
    let never_read = c.multiplexed(logs(true), false).await.unwrap();
    assert!(c.open_connections() >= 2);
    drop(read_some);
    drop(never_read);
    let t0 = Instant::now();
    while c.open_connections() > 1 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "{} connections still open",
            c.open_connections()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.call(Request::get("/version")).await.unwrap();
    assert!(c.open_connections() <= 1);
}
