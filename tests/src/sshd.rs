//! An `sshd` of a test's own on 127.0.0.1 (a free port) through which `ssh://` engine URLs reach a test
//! daemon: its host key and the client's key are made at start with `ssh-keygen`, and the one
//! `authorized_keys` line sets `DOCKER_HOST` (`environment="DOCKER_HOST=…"`, with `PermitUserEnvironment
//! yes`), so that `docker system dial-stdio`, run by the system `ssh` as tug runs it, connects to that
//! daemon. Dropping it stops sshd (and the sessions it forked) and deletes its directory with the keys.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::host::{self, log_tail, run, signal, wait_gone};

/// sshd itself: it re-executes itself by its absolute path.
const SSHD: &str = "/usr/sbin/sshd";

/// The user the client logs in as.
pub const SSH_USER: &str = "root";

/// A private sshd; see the module documentation.
pub struct Sshd {
    dir: PathBuf,
    child: Child,
    port: u16,
}

impl Sshd {
    /// Starts sshd on 127.0.0.1 for a client whose `docker` reaches `docker_host` (a `DOCKER_HOST` URL,
    /// e.g. [`crate::dockerd::Dockerd::url`]) and waits until it listens. The error names what failed,
    /// with the end of sshd's log.
    pub fn start(docker_host: &str) -> Result<Sshd, String> {
        host::sweep_leftovers_once();
        let dir = std::env::temp_dir().join(format!("tug-sshd-{}", host::next_tag()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        // sshd will not start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").map_err(|e| format!("creating /run/sshd: {e}"))?;
        let keygen = |name: &str, comment: &str| {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
                .arg(dir.join(name)))
            .map_err(|e| format!("making the ssh key {name}: {e}"))
        };
        let cleanup = |e: String| {
            let _ = std::fs::remove_dir_all(&dir);
            e
        };
        keygen("host_key", "tug-test-host").map_err(cleanup)?;
        keygen("client_key", "tug-test-client").map_err(cleanup)?;
        let public = |name: &str| {
            std::fs::read_to_string(dir.join(format!("{name}.pub")))
                .map(|k| k.trim().to_owned())
                .map_err(|e| format!("reading the ssh key {name}.pub: {e}"))
        };
        let port = host::free_port().map_err(cleanup)?;
        let host_key = public("host_key").map_err(cleanup)?;
        let client_key = public("client_key").map_err(cleanup)?;
        let files = [
            (
                "authorized_keys",
                format!("environment=\"DOCKER_HOST={docker_host}\" {client_key}\n"),
            ),
            // Only the key type and the key: the comment has no place in known_hosts.
            (
                "known_hosts",
                format!(
                    "[127.0.0.1]:{port} {}\n",
                    host_key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
                ),
            ),
            (
                "sshd_config",
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nPidFile {dir}/sshd.pid\n\
                     AuthorizedKeysFile {dir}/authorized_keys\nUsePAM no\nStrictModes no\n\
                     PermitRootLogin prohibit-password\nPubkeyAuthentication yes\nPasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\nPermitUserEnvironment yes\nAllowUsers {SSH_USER}\n\
                     X11Forwarding no\nLogLevel VERBOSE\n",
                    dir = dir.display()
                ),
            ),
        ];
        for (name, text) in files {
            std::fs::write(dir.join(name), text)
                .map_err(|e| cleanup(format!("writing {}: {e}", dir.join(name).display())))?;
        }
        let log = std::fs::File::create(dir.join("log")).map_err(|e| cleanup(e.to_string()))?;
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| cleanup(e.to_string()))?)
            .stderr(log)
            .spawn()
            .map_err(|e| cleanup(format!("cannot start {SSHD}: {e}")))?;
        let mut sshd = Sshd { dir, child, port };
        let started = Instant::now();
        loop {
            let log = std::fs::read_to_string(sshd.dir.join("log")).unwrap_or_default();
            if log.contains("Server listening on 127.0.0.1") {
                return Ok(sshd);
            }
            let why = match sshd.child.try_wait() {
                Ok(Some(status)) => format!("exited ({status})"),
                _ if started.elapsed() > Duration::from_secs(20) => "did not listen within 20 s".into(),
                _ => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            return Err(format!(
                "the test's sshd on 127.0.0.1:{port} {why}: {}",
                sshd.log_tail(20)
            ));
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The engine URL, `ssh://root@127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ssh://{SSH_USER}@127.0.0.1:{}", self.port)
    }

    /// The client's private key.
    pub fn key(&self) -> PathBuf {
        self.dir.join("client_key")
    }

    /// The known-hosts file holding sshd's host key.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    /// What a client adds to its `ssh` command line (tug's `ssh_options`): no configuration file, the
    /// client key only, the host key checked against [`Sshd::known_hosts`] alone.
    pub fn options(&self) -> Vec<String> {
        let file = |p: &Path| p.display().to_string();
        vec![
            "-F".into(),
            "/dev/null".into(),
            "-i".into(),
            file(&self.key()),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", file(&self.known_hosts())),
            "-o".into(),
            "GlobalKnownHostsFile=/dev/null".into(),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
        ]
    }

    /// The command line tug's ssh transport runs, with `remote` in place of `docker system dial-stdio`:
    /// `ssh -o ConnectTimeout=10 -o BatchMode=yes -l root -p PORT OPTIONS -- 127.0.0.1 REMOTE…`.
    pub fn command(&self, remote: &[&str]) -> Command {
        let mut c = Command::new("ssh");
        c.args([
            "-o",
            "ConnectTimeout=10",
            "-o",
            "BatchMode=yes",
            "-l",
            SSH_USER,
            "-p",
        ])
        .arg(self.port.to_string())
        .args(self.options())
        .args(["--", "127.0.0.1"])
        .args(remote);
        c
    }

    /// The last `lines` lines of sshd's log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.dir.join("log"), lines)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // The sessions it forked would outlive it: they go first, by their PIDs.
        let sessions: Vec<u32> = host::processes()
            .into_iter()
            .filter(|p| p.ppid == self.child.id())
            .map(|p| p.pid)
            .collect();
        for &pid in &sessions {
            signal(pid, "TERM");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !wait_gone(&sessions, Duration::from_secs(5)) {
            for &pid in &sessions {
                signal(pid, "KILL");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
