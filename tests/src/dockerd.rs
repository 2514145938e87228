//! A Docker daemon of a test's own: its own data-root, exec-root, pidfile, socket and containerd
//! namespace, started in a network namespace of its own (`unshare --net`), so that its bridge and
//! iptables rules never touch the host's (a daemon in the host's namespace could delete the host's
//! `docker0`). It has the test image (`docker save` from the shared daemon, loaded into it). Dropping it
//! stops the daemon (thawed first, if a test froze it) and removes its directories.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

/// A private daemon; see the module documentation.
pub struct Dockerd {
    dir: PathBuf,
    child: Child,
    pid: u32,
}

impl Dockerd {
    /// Starts a daemon and waits until it answers `/_ping` and holds the test image.
    pub fn start() -> Result<Dockerd, String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("tug-dockerd-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let log = std::fs::File::create(dir.join("log")).map_err(|e| e.to_string())?;
        let socket = dir.join("sock");
        let child = Command::new("unshare")
            .args(["--net", "--fork", "--", "dockerd"])
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .args(["--containerd-namespace", &format!("tug-test-{tag}")])
            .args([
                "--containerd-plugins-namespace",
                &format!("tug-test-{tag}-plugins"),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting dockerd under unshare: {e}"))?;
        let mut d = Dockerd { dir, child, pid: 0 };
        let started = Instant::now();
        loop {
            let pinged = Command::new("docker")
                .args(["-H", &d.url(), "version", "--format", "{{.Server.Version}}"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if pinged {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "the test's dockerd did not answer within 60 s: {}",
                    std::fs::read_to_string(d.dir.join("log")).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        d.pid = std::fs::read_to_string(d.dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .ok_or("the test's dockerd wrote no pidfile")?;
        let loaded = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker save {} | docker -H {} load",
                crate::TEST_IMAGE,
                d.url()
            ))
            .output()
            .map_err(|e| e.to_string())?;
        if !loaded.status.success() {
            return Err(format!(
                "loading {} into the test's dockerd: {}",
                crate::TEST_IMAGE,
                String::from_utf8_lossy(&loaded.stderr)
            ));
        }
        Ok(d)
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("sock")
    }

    /// Its `--engine` / `DOCKER_HOST` URL.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket().display())
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
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status();
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if self.pid == 0 {
            // A start that failed half way: the daemon may have written its pidfile since.
            self.pid = std::fs::read_to_string(self.dir.join("pid"))
                .ok()
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(0);
        }
        if self.pid != 0 {
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
            signal(self.pid, "TERM");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            if self.pid != 0 {
                signal(self.pid, "KILL");
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Mounts a killed daemon left would keep its directories busy.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "grep -o ' {0}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l",
                self.dir.display()
            ))
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
