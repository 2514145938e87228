//! Small helpers of the test set-ups that start processes on this machine ([`crate::dockerd`],
//! [`crate::net`], [`crate::sshd`], [`crate::tls`], [`crate::swarm_pair`]): commands run with errors that
//! name them, names unique per process, free ports, and the processes, mounts and cgroups a daemon leaves.

use std::{
    ffi::OsStr,
    net::{TcpListener, TcpStream},
    path::Path,
    process::Command,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Once,
    },
    time::{Duration, Instant},
};

/// A tag no other set-up of this process, and no other process running now, uses: `PID-N` with a
/// counter shared by every set-up of the process. Interface names take it too, so it stays short.
pub fn next_tag() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A TCP port on 127.0.0.1 that nothing listens on now (bound to port 0, then released). Another process
/// may take it before the caller does; the set-ups then fail with an error naming the port.
pub fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("binding 127.0.0.1:0 for a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("the address of a listener on 127.0.0.1:0: {e}"))
}

/// Runs a command to its end: its standard output, or an error naming the command, its exit status and
/// its error output.
pub fn run(command: &mut Command) -> Result<String, String> {
    let printed = printed(command);
    let out = command
        .output()
        .map_err(|e| format!("cannot run `{printed}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{printed}` failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end(),
            if out.stderr.is_empty() {
                String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
            } else {
                String::new()
            }
        ))
    }
}

/// [`run`] of a program and its arguments.
pub fn run_args<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Result<String, String> {
    run(Command::new(program).args(args))
}

/// A command line as a shell would show it, for messages.
pub fn printed(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last `lines` lines of a log file, without the gRPC chatter of dockerd's containerd client; a note
/// when the file cannot be read.
pub fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let kept: Vec<&str> = text.lines().filter(|l| !l.contains("module=grpc")).collect();
            kept[kept.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(no log at {}: {e})", path.display()),
    }
}

/// Sends `sig` (`KILL`, `TERM`, `STOP`, `CONT`, …) to one process.
pub fn signal(pid: u32, sig: &str) {
    if pid != 0 {
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status();
    }
}

/// Whether a process exists (a zombie counts as gone).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: `pid (comm) S ppid …`.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// Waits until none of `pids` is alive; whether they all went within `timeout`.
pub fn wait_gone(pids: &[u32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !pids.iter().any(|&p| alive(p)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The command line of a process, its arguments joined by spaces (empty if it is gone).
pub fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// A process: its ID, its parent's and its command line (arguments joined by spaces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// Its process ID.
    pub pid: u32,
    /// Its parent's.
    pub ppid: u32,
    /// Its arguments, joined by spaces.
    pub cmdline: String,
}

/// Every live process of the machine.
pub fn processes() -> Vec<Process> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut all = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        if state == "Z" || state == "X" {
            continue;
        }
        let ppid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        all.push(Process {
            pid,
            ppid,
            cmdline: cmdline(pid),
        });
    }
    all
}

/// The processes whose command line contains `needle` (a directory no one else uses, with its trailing
/// slash), with their descendants (a containerd shim's container processes name no path of the daemon's).
pub fn processes_of(needle: &str) -> Vec<Process> {
    let me = std::process::id();
    let all = processes();
    let mut found: Vec<Process> = all
        .iter()
        .filter(|p| p.pid != me && p.cmdline.contains(needle))
        .cloned()
        .collect();
    let mut i = 0;
    while i < found.len() {
        let parent = found[i].pid;
        for p in &all {
            if p.ppid == parent && !found.iter().any(|f| f.pid == p.pid) {
                found.push(p.clone());
            }
        }
        i += 1;
    }
    found
}

/// Kills (SIGKILL) the processes of [`processes_of`] `needle`, the youngest generation first, and waits a
/// little for them to go; the processes that stayed.
pub fn kill_processes_of(needle: &str) -> Vec<Process> {
    let found = processes_of(needle);
    // `processes_of` lists parents before children: kill the containers before their shims.
    for p in found.iter().rev() {
        signal(p.pid, "KILL");
    }
    let pids: Vec<u32> = found.iter().map(|p| p.pid).collect();
    wait_gone(&pids, Duration::from_secs(10));
    found.into_iter().filter(|p| alive(p.pid)).collect()
}

/// Unmounts (lazily, deepest first) every mount point under `dir`: the overlay, shm and network-namespace
/// mounts a daemon that did not stop cleanly leaves, and the private bind mount of its data-root.
pub fn unmount_under(dir: &Path) {
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return;
    };
    let prefix = dir.to_string_lossy().into_owned();
    let mut points: Vec<String> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        // /proc/mounts escapes spaces and the like as octal; the set-ups' paths have none.
        .filter(|p| *p == prefix || p.starts_with(&format!("{prefix}/")))
        .map(str::to_owned)
        .collect();
    points.sort();
    points.dedup();
    for point in points.iter().rev() {
        let _ = Command::new("umount").args(["-l", point]).status();
    }
}

/// Removes the cgroup `name` (a top-level cgroup, as dockerd's `--cgroup-parent=/NAME` makes) and the
/// cgroups under it from every hierarchy (cgroup v1 controllers and the v2 tree); empty cgroups are
/// removed with `rmdir`, a busy one stays.
pub fn remove_cgroup(name: &str) {
    let root = Path::new("/sys/fs/cgroup");
    let mut candidates = vec![root.join(name)];
    if let Ok(dir) = std::fs::read_dir(root) {
        candidates.extend(dir.flatten().map(|e| e.path().join(name)));
    }
    for c in candidates {
        if c.is_dir() {
            rmdir_tree(&c);
        }
    }
}

fn rmdir_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                rmdir_tree(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// Whether an HTTP `GET /_ping` on the unix socket answers `OK`.
pub fn ping_unix(socket: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer.starts_with("HTTP/1.1 200") && answer.ends_with("OK")
}

/// Whether something accepts TCP connections at `addr` (`IP:PORT`).
pub fn accepts_tcp(addr: &str) -> bool {
    addr.parse()
        .ok()
        .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).ok())
        .is_some()
}

/// [`sweep_leftovers`], once per test process: the set-ups call it before they make anything.
pub fn sweep_leftovers_once() {
    static SWEPT: Once = Once::new();
    SWEPT.call_once(|| {
        for what in sweep_leftovers() {
            eprintln!("removed a leftover of a test process that is gone: {what}");
        }
    });
}

/// Removes what the set-ups of test processes that are gone left (a test binary killed before the
/// `Drop`s ran): daemons and sshds with their processes, mounts, directories and cgroups
/// (`$TMPDIR/tug-dockerd-PID-N`, `$TMPDIR/tug-sshd-PID-N`), network namespaces `tug-PID-N-…` and bridges
/// `tugPID-N`, subnet reservations of [`crate::net::HostBridge`]. Only what carries the PID of a process that no longer exists is touched. What it removed.
pub fn sweep_leftovers() -> Vec<String> {
    let gone = |tag: &str| {
        tag.split('-')
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|pid| pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists())
    };
    let mut removed = Vec::new();
    let tmp = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(tag) = name
                .strip_prefix("tug-dockerd-")
                .or_else(|| name.strip_prefix("tug-sshd-"))
            else {
                continue;
            };
            if !gone(tag) {
                continue;
            }
            let dir = entry.path();
            kill_processes_of(&format!("{}/", dir.display()));
            unmount_under(&dir);
            let _ = std::fs::remove_dir_all(&dir);
            if name.starts_with("tug-dockerd-") {
                remove_cgroup(&format!("tug-test-{tag}"));
            }
            removed.push(dir.display().to_string());
        }
    }
    if let Ok(list) = run_args("ip", &["netns", "list"]) {
        for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
            if ns.strip_prefix("tug-").is_some_and(gone) && run_args("ip", &["netns", "del", ns]).is_ok() {
                removed.push(format!("network namespace {ns}"));
            }
        }
    }
    if let Ok(links) = run_args("ip", &["-o", "link", "show", "type", "bridge"]) {
        for link in links.lines().filter_map(|l| l.split(": ").nth(1)) {
            if link.strip_prefix("tug").is_some_and(gone) && run_args("ip", &["link", "del", link]).is_ok() {
                removed.push(format!("bridge {link}"));
            }
        }
    }
    removed.extend(crate::net::sweep_reservations());
    removed
}
