//! A Docker daemon of a test's own: its own data-root, exec-root, pidfile, socket, containerd namespaces
//! and cgroup parent, loaded with the test image (`docker save` from the shared daemon, loaded into it).
//! Where it runs is a [`Network`]: by default in a network namespace of its own (`unshare --net`), so
//! that its bridge and iptables rules never touch the host's (a daemon in the host's namespace could
//! delete the host's `docker0`); with a TCP or TLS listener on 127.0.0.1, in the host's namespace with a
//! bridge of its own and `--iptables=false`; as a swarm node, in a named namespace of the caller's.
//!
//! [`Dockerd::kill`] kills it hard (SIGKILL: its containerd follows it, the shims and containers stay)
//! and [`Dockerd::restart`] starts it again on the same directories. Dropping it removes its containers,
//! stops it (thawed first, if a test froze it), kills what a killed daemon left, unmounts and deletes its
//! directory, removes its cgroups and its bridge.
//!
//! Every flag it gets, and why:
//! - `--data-root`, `--exec-root`, `--pidfile`, `-H unix://DIR/sock`: nothing shared with another daemon
//!   (the exec-root also holds the network namespaces of its containers and its own containerd);
//! - `--containerd-namespace tug-test-TAG`, `--containerd-plugins-namespace tug-test-TAG-plugins`: its
//!   containers are apart from any other daemon's, should one share a containerd;
//! - `--cgroup-parent /tug-test-TAG`: its containers' cgroups are its own and removed with it;
//! - in the host's namespace: `--bridge tugPID-N` (a bridge made for it: never `docker0`, never `none`),
//!   `--iptables=false --ip6tables=false` (no rule of the host's changes), `--ip-forward=false`
//!   (no sysctl changes) and `--ip-masq=false` (no NAT without iptables anyway);
//! - TLS: `--tlsverify --tlscacert --tlscert --tlskey` with certificates made for the test
//!   ([`TlsCerts`]) and `-H tcp://127.0.0.1:PORT` on a free port; plain TCP: only the `-H`.
//!
//! The environment has `DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1`: a swarm task of such a daemon uses the
//! local image instead of pulling it first (the tests never pull).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{
    host::{self, alive, log_tail, ping_unix, signal, wait_gone, Process},
    net::HostBridge,
    tls::TlsCerts,
};

mod options;

pub use options::{DockerdOptions, Network};

/// How long a daemon may take to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A private daemon; see the module documentation.
pub struct Dockerd {
    dir: PathBuf,
    tag: String,
    options: DockerdOptions,
    child: Option<Child>,
    /// dockerd's PID while it runs; 0 once killed.
    pid: u32,
    port: Option<u16>,
    tls: Option<TlsCerts>,
    bridge: Option<HostBridge>,
}

impl Dockerd {
    /// Starts a daemon with the defaults of [`DockerdOptions::new`] and waits until it answers `/_ping`
    /// and holds the test image.
    pub fn start() -> Result<Dockerd, String> {
        DockerdOptions::new().start()
    }

    /// Starts a daemon in the host's namespace ([`Network::HostBridge`]) with a TLS listener on
    /// 127.0.0.1 ([`DockerdOptions::tls`]).
    pub fn start_tls() -> Result<Dockerd, String> {
        DockerdOptions::new().network(Network::HostBridge).tls().start()
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("sock")
    }

    /// Its `--engine` / `DOCKER_HOST` URL.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The address of its TCP or TLS listener, `127.0.0.1:PORT`.
    pub fn tcp_addr(&self) -> Option<String> {
        self.port.map(|p| format!("127.0.0.1:{p}"))
    }

    /// `tcp://127.0.0.1:PORT` of its TCP or TLS listener (with TLS, also set `DOCKER_TLS_VERIFY` and
    /// `DOCKER_CERT_PATH`).
    pub fn tcp_url(&self) -> Option<String> {
        self.tcp_addr().map(|a| format!("tcp://{a}"))
    }

    /// `https://127.0.0.1:PORT` of its TLS listener.
    pub fn https_url(&self) -> Option<String> {
        self.tls
            .as_ref()
            .and(self.tcp_addr())
            .map(|a| format!("https://{a}"))
    }

    /// Its certificates, if it has a TLS listener.
    pub fn tls(&self) -> Option<&TlsCerts> {
        self.tls.as_ref()
    }

    /// Its bridge in the host's namespace ([`Network::HostBridge`]).
    pub fn bridge(&self) -> Option<&HostBridge> {
        self.bridge.as_ref()
    }

    /// Runs the docker CLI against this daemon; its standard output, or its error output as the error.
    pub fn docker(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("docker")
            .args(["-H", &self.url()])
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Runs the docker CLI against its TLS listener with the client certificates of `client_dir`
    /// (`docker --tlsverify --tlscacert … --tlscert … --tlskey … -H tcp://127.0.0.1:PORT ARGS`); its
    /// standard output, or an error naming the command with its error output.
    pub fn docker_tls(&self, client_dir: &Path, args: &[&str]) -> Result<String, String> {
        let url = self
            .tls
            .as_ref()
            .and(self.tcp_url())
            .ok_or("this daemon has no TLS listener")?;
        host::run(
            Command::new("docker")
                .args(TlsCerts::cli_flags(client_dir))
                .args(["-H", &url])
                .args(args),
        )
    }

    /// Freezes the daemon (SIGSTOP): its socket accepts connections and answers nothing.
    pub fn freeze(&self) {
        signal(self.pid, "STOP");
    }

    /// Thaws it (SIGCONT).
    pub fn thaw(&self) {
        signal(self.pid, "CONT");
    }

    /// Where its files are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// dockerd's PID while it runs (checked against the process's command line, so a PID the system
    /// gave to another process since is not taken for it).
    pub fn pid(&self) -> Option<u32> {
        Some(self.pid).filter(|&p| p != 0 && alive(p) && host::cmdline(p).contains(&self.needle()))
    }

    /// Whether dockerd runs (it may be frozen).
    pub fn is_running(&self) -> bool {
        self.pid().is_some()
    }

    /// The last `lines` lines of its log (without the gRPC chatter).
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.dir.join("log"), lines)
    }

    /// The processes of this daemon: dockerd and its containerd while it runs, the containerd shims and
    /// their container processes (which outlive a killed daemon).
    pub fn processes(&self) -> Vec<Process> {
        host::processes_of(&self.needle())
    }

    /// Kills dockerd hard (SIGKILL, thawed or not) and waits until it and its containerd are gone: the
    /// socket stays, refusing connections; the shims keep the containers running. See
    /// [`Dockerd::restart`].
    pub fn kill(&mut self) -> Result<(), String> {
        let pid = self.pid().ok_or("the test's dockerd is not running")?;
        signal(pid, "KILL");
        if !wait_gone(&[pid], Duration::from_secs(10)) {
            return Err(format!("dockerd {pid} outlived SIGKILL for 10 s"));
        }
        self.pid = 0;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Its containerd dies with it (dockerd starts it with a parent-death signal); wait for that, so
        // that a restart finds its socket free.
        let config = self.dir.join("exec").join("containerd").join("containerd.toml");
        let containerd: Vec<u32> = host::processes()
            .into_iter()
            .filter(|p| p.cmdline.contains(&*config.to_string_lossy()))
            .map(|p| p.pid)
            .collect();
        if !wait_gone(&containerd, Duration::from_secs(10)) {
            return Err(format!(
                "the containerd of the killed dockerd ({containerd:?}) is still running after 10 s"
            ));
        }
        // Dead, it may stay a zombie for a while (until init reaps it), and a restarted dockerd that
        // finds its PID in this file takes it for a running containerd and waits for it in vain.
        let _ = std::fs::remove_file(self.dir.join("exec").join("containerd").join("containerd.pid"));
        Ok(())
    }

    /// Starts the killed daemon again on the same data-root, exec-root, socket, network and listener
    /// and waits until it answers. Without live-restore it stops the containers it finds running (with
    /// their stop signal and timeout: a container whose PID 1 ignores SIGTERM costs 10 s, unless it has
    /// `--stop-signal KILL` or `--init`), and a swarm node rejoins its swarm.
    pub fn restart(&mut self) -> Result<(), String> {
        if self.is_running() {
            return Err("the test's dockerd still runs: kill it first".into());
        }
        self.spawn()
    }

    /// Loads the test image into it (`docker save` from the shared daemon | `docker load`).
    pub fn load_test_image(&self) -> Result<(), String> {
        let mut save = Command::new("docker")
            .args(["save", crate::TEST_IMAGE])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run docker save: {e}"))?;
        let stdout = save.stdout.take().expect("piped stdout");
        let load = Command::new("docker")
            .args(["-H", &self.url(), "load", "-q"])
            .stdin(stdout)
            .output()
            .map_err(|e| format!("cannot run docker load: {e}"))?;
        let saved = save
            .wait_with_output()
            .map_err(|e| format!("waiting for docker save: {e}"))?;
        if !saved.status.success() || !load.status.success() {
            return Err(format!(
                "loading {} into the test's dockerd: docker save ({}): {}; docker load ({}): {}",
                crate::TEST_IMAGE,
                saved.status,
                String::from_utf8_lossy(&saved.stderr).trim(),
                load.status,
                String::from_utf8_lossy(&load.stderr).trim()
            ));
        }
        Ok(())
    }

    /// What the command line of each of its processes holds: its directory, with the slash that keeps
    /// `…-1/` from matching `…-10/`.
    fn needle(&self) -> String {
        format!("{}/", self.dir.display())
    }

    /// The name of its cgroup parent.
    fn cgroup(&self) -> String {
        format!("tug-test-{}", self.tag)
    }

    /// Starts dockerd and waits until it answers on its socket (and its TCP listener accepts).
    fn spawn(&mut self) -> Result<(), String> {
        let _ = std::fs::remove_file(self.dir.join("pid"));
        let log_path = self.dir.join("log");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("opening {}: {e}", log_path.display()))?;
        let mut cmd = self.command();
        {
            use std::io::Write;
            let _ = writeln!(log, "--- tug-e2e: {}", host::printed(&cmd));
        }
        let printed = host::printed(&cmd);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start `{printed}`: {e}"))?;
        self.child = Some(child);
        let fail = |d: &Dockerd, what: String| {
            format!(
                "the test's dockerd {what}\n$ {printed}\n--- the end of {} ---\n{}",
                log_path.display(),
                d.log_tail(40)
            )
        };
        let started = Instant::now();
        loop {
            if ping_unix(&self.socket()) {
                break;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(fail(self, format!("exited ({status}) before answering")));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(fail(
                    self,
                    format!("did not answer within {} s", START_TIMEOUT.as_secs()),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.pid = std::fs::read_to_string(self.dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| fail(self, "answered but wrote no pidfile".into()))?;
        if let Some(addr) = self.tcp_addr() {
            while !host::accepts_tcp(&addr) {
                if started.elapsed() > START_TIMEOUT {
                    return Err(fail(self, format!("does not accept connections on {addr}")));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.teardown();
    }
}

impl Dockerd {
    /// What dropping it does (see the module documentation); a second call finds nothing left to do.
    /// [`crate::swarm_pair::SwarmPair`] tears its two nodes down at once with it.
    pub(crate) fn teardown(&mut self) {
        if self.pid == 0 && self.child.is_some() {
            // A start that failed half way: the daemon may have written its pidfile since.
            self.pid = std::fs::read_to_string(self.dir.join("pid"))
                .ok()
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(0);
        }
        if let Some(pid) = self.pid() {
            // Its containers go with it: nothing of the test's daemon outlives the test.
            self.thaw();
            if let Ok(ids) = self.docker(&["ps", "-aq"]) {
                let ids: Vec<&str> = ids.split_whitespace().collect();
                if !ids.is_empty() {
                    let mut args = vec!["rm", "-f", "-v"];
                    args.extend(ids);
                    let _ = self.docker(&args);
                }
            }
            signal(pid, "TERM");
            if !wait_gone(&[pid], Duration::from_secs(30)) {
                signal(pid, "KILL");
            }
        }
        // Never signalled again: the PID may soon be another process's.
        self.pid = 0;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // What a killed daemon left (shims and their containers), or one that would not stop.
        host::kill_processes_of(&self.needle());
        // Mounts a killed daemon left would keep its directories busy.
        host::unmount_under(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
        host::remove_cgroup(&self.cgroup());
        // The bridge goes after: no container is attached to it any more.
        self.bridge = None;
    }
}
