//! The clients outside this process: docker-py (installed by the harness into a venv under `target/`),
//! `curl --unix-socket` (the daemon's limit for streams) and the `docker` CLI.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{bail, Context};
use serde_json::Value;

/// The daemon's socket.
pub const SOCKET: &str = "/var/run/docker.sock";

/// docker-py in a venv of its own.
pub struct DockerPy {
    python: PathBuf,
    script: PathBuf,
}

impl DockerPy {
    /// Creates `target/bench-venv` and installs docker-py into it with pip, unless it is there already.
    pub fn install(root: &Path) -> anyhow::Result<Self> {
        let venv = root.join("target").join("bench-venv");
        let python = venv.join("bin").join("python");
        if !python.is_file() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
        let has = Command::new(&python)
            .args(["-c", "import docker"])
            .status()
            .is_ok_and(|s| s.success());
        if !has {
            eprintln!("installing docker-py into {}", venv.display());
            run(Command::new(&python).args(["-m", "pip", "install", "-q", "docker"]))?;
        }
        Ok(DockerPy {
            python,
            script: root.join("bench").join("py").join("docker_py_bench.py"),
        })
    }

    /// Runs the script in `mode` with `args` and returns its JSON.
    pub fn call(&self, args: &[&str]) -> anyhow::Result<Value> {
        let out = output(Command::new(&self.python).arg(&self.script).args(args))?;
        serde_json::from_str(&out).with_context(|| format!("docker-py {args:?} printed {out:?}"))
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?}: {status}");
    }
    Ok(())
}

/// Runs a command and returns its stdout; an error with its stderr unless it succeeds.
pub fn output(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `curl --unix-socket` of `GET path` (after a `POST /containers/{start}/start` in the same process when
/// given) with the body thrown away: (bytes, seconds, wall-clock of the whole process).
pub fn curl(api: &str, path: &str, start: Option<&str>) -> anyhow::Result<(u64, f64)> {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--fail", "--unix-socket", SOCKET]);
    if let Some(id) = start {
        cmd.args(["-X", "POST", "-o", "/dev/null"])
            .arg(format!("http://localhost/v{api}/containers/{id}/start"))
            .args(["--next", "--unix-socket", SOCKET]);
    }
    cmd.args(["-o", "/dev/null", "-w", "%{size_download}\n"])
        .arg(format!("http://localhost/v{api}{path}"));
    let t = Instant::now();
    let out = output(&mut cmd)?;
    let secs = t.elapsed().as_secs_f64();
    let bytes = out
        .lines()
        .last()
        .context("curl printed nothing")?
        .trim()
        .parse()
        .context("curl's size_download")?;
    Ok((bytes, secs))
}

/// `n` × `docker version` (a process each): per-call ns.
pub fn docker_cli_version(n: usize) -> anyhow::Result<Vec<u64>> {
    let mut ns = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        output(Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]))?;
        ns.push(t.elapsed().as_nanos() as u64);
    }
    Ok(ns)
}

/// The first line a command prints, or `?`.
pub fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "?".into())
}
