//! The harness of the end-to-end tests: builds the example plugins (once per test binary), finds the `tug`
//! binary, and runs `tug run` as a subprocess with its output captured and a time limit.
//!
//! The plugins are built with `cargo build --target wasm32-wasip2` into their own target directory,
//! `target/plugins`, so that the build does not wait for the lock on `target/` that the `cargo test`
//! running the tests holds. `tug` is the one `cargo test --workspace` builds next to the test binaries
//! (`target/debug/tug`).

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod attack;
pub mod dockerd;
pub mod engines;
pub mod host;
pub mod net;
pub mod proxy;
pub mod sshd;
pub mod swarm_pair;
pub mod tls;

/// The image the setup script builds locally (a busybox-static rootfs): tests never pull.
pub const TEST_IMAGE: &str = "tug-test/busybox:latest";

/// The example plugins: (package, binary). The binary `NAME` is built as `NAME.wasm`.
pub const PLUGINS: &[(&str, &str)] = &[
    ("plugin-hello", "hello"),
    ("plugin-lifecycle", "lifecycle"),
    ("plugin-shell", "shell"),
    ("plugin-archive", "archive"),
    ("plugin-images", "images"),
    ("plugin-exit-code", "exit-code"),
    ("plugin-abandon", "abandon"),
    ("plugin-escape", "escape"),
    ("plugin-netvol", "netvol"),
    ("plugin-extras", "extras"),
    ("plugin-tour", "tour"),
    ("plugin-dockerplugin", "dockerplugin"),
    ("plugin-swarm", "swarm"),
    ("plugin-registry", "registry"),
    ("plugin-probe", "probe"),
    ("plugin-attack", "attack"),
    ("plugin-ci-run", "ci-run"),
    ("plugin-services", "services"),
    ("plugin-matrix", "matrix"),
    ("plugin-fleet", "fleet"),
    ("plugin-swarm-deploy", "swarm-deploy"),
];

/// How long one `tug run` may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// The workspace's root directory.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
}

/// Builds every plugin (the first call; later calls wait for it or reuse its result) and returns the
/// directory holding the `.wasm` files. Panics with cargo's output if the build fails.
pub fn plugins_dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build_plugins) {
        Ok(dir) => dir,
        Err(message) => panic!("{message}"),
    }
}

fn build_plugins() -> Result<PathBuf, String> {
    let target_dir = workspace_root().join("target").join("plugins");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target_dir);
    for (package, _) in PLUGINS {
        command.args(["-p", package]);
    }
    eprintln!("building the plugins: {command:?}");
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {cargo:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building the plugins failed ({}): {command:?}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    eprintln!("built the plugins in {:.1} s", started.elapsed().as_secs_f64());
    Ok(target_dir.join("wasm32-wasip2").join("debug"))
}

/// The path of the built plugin `name` (a binary name of [`PLUGINS`]), building the plugins first if
/// needed.
pub fn plugin(name: &str) -> PathBuf {
    assert!(
        PLUGINS.iter().any(|(_, bin)| *bin == name),
        "{name} is not one of the example plugins"
    );
    let path = plugins_dir().join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "the plugin build did not produce {}",
        path.display()
    );
    path
}

/// `tug build SOURCE` (the output beside it): its exit code and what it said on stderr.
pub fn tug_build(source: &Path) -> (Option<i32>, String) {
    let out = Command::new(tug()).arg("build").arg(source).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The Python plugin `plugins/python/NAME.py` built with `tug build` into `target/python/NAME.wasm`,
/// once per test binary (tug's build cache makes a rebuild of unchanged inputs a copy).
pub fn python_plugin(name: &str) -> PathBuf {
    script_plugin(&format!("plugins/python/{name}.py"), "python")
}

/// The JavaScript or TypeScript plugin `plugins/js/FILE` (`tour.ts`) built with `tug build` into
/// `target/js/FILE.wasm`, once per test binary.
pub fn js_plugin(file: &str) -> PathBuf {
    script_plugin(&format!("plugins/js/{file}"), "js")
}

/// `tug build` of the script at `rel` (from the workspace root) into `target/OUT_DIR/`, once per test
/// binary; a failed build fails the test with tug's message.
fn script_plugin(rel: &str, out_dir: &str) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<std::collections::BTreeMap<String, PathBuf>>> = OnceLock::new();
    let map = BUILT.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = map.get(rel) {
        return p.clone();
    }
    let out_dir = workspace_root().join("target").join(out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let source = workspace_root().join(rel);
    let stem = source.file_stem().unwrap().to_string_lossy().into_owned();
    let ext = source.extension().unwrap().to_string_lossy().into_owned();
    let name = if ext == "py" {
        stem
    } else {
        format!("{stem}-{ext}")
    };
    let out = out_dir.join(format!("{name}.wasm"));
    let build = Command::new(tug())
        .arg("build")
        .arg(&source)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "tug build {}: {}",
        source.display(),
        String::from_utf8_lossy(&build.stderr)
    );
    map.insert(rel.to_owned(), out.clone());
    out
}

/// The `tug` binary that `cargo test --workspace` built next to the test binaries: the test executable is
/// `target/debug/deps/NAME-HASH`, `tug` is `target/debug/tug`.
pub fn tug() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the test executable");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable is in target/<profile>/deps");
    let tug = dir.join(format!("tug{}", std::env::consts::EXE_SUFFIX));
    assert!(
        tug.is_file(),
        "no tug binary at {}: run the tests with `cargo test --workspace`, or build it first with \
         `cargo build -p tug`",
        tug.display()
    );
    tug
}

/// What a finished `tug run` did.
#[derive(Debug)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// How it exited.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

impl Run {
    /// The exit code (`None` if it was killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The run's command, exit status and output, to print when a check fails.
    pub fn report(&self) -> String {
        format!(
            "$ {}\nexit status: {}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.command, self.status, self.stdout, self.stderr
        )
    }

    /// Panics with the report unless it exited with code 0.
    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code(), Some(0), "tug run failed\n{}", self.report());
        self
    }

    /// Panics with the report unless stdout has a line containing `text`.
    pub fn assert_stdout_line(&self, text: &str) -> &Self {
        assert!(
            self.stdout.lines().any(|line| line.contains(text)),
            "no line of stdout contains {text:?}\n{}",
            self.report()
        );
        self
    }
}

/// Runs `tug run ARGS…` with stdout and stderr captured; kills it and panics with what it wrote if it
/// takes longer than [`RUN_TIMEOUT`]. Prints the output (shown for failing tests).
pub fn tug_run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    tug_run_with(args, &[])
}

/// [`tug_run`] with extra environment variables for `tug`.
pub fn tug_run_with<I, S>(args: I, env: &[(&str, &OsStr)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(tug());
    command
        .arg("run")
        .args(args)
        // Tests that want GitHub Actions' annotations and summary ask for them.
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let printed = format!("{command:?}");
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {printed}: {e}"));
    let stdout = reader(child.stdout.take().expect("piped stdout"));
    let stderr = reader(child.stderr.take().expect("piped stderr"));

    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        match child.try_wait().expect("waiting for tug") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let (stdout, stderr) = (
        stdout.join().expect("stdout reader"),
        stderr.join().expect("stderr reader"),
    );
    println!("$ {printed}\n{stdout}");
    eprintln!("{stderr}");
    match status {
        Some(status) => Run {
            command: printed,
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{printed} did not finish within {} s\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}",
            RUN_TIMEOUT.as_secs()
        ),
    }
}

/// Reads `pipe` to its end on a thread, so neither pipe of the child fills up.
fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs the `docker` CLI against the test engine (setting up what a test needs from outside tug);
/// panics with its error output unless it succeeds. Its standard output.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("running docker");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A suffix for names that no other test, and no other run of the tests on this host, uses: the
/// process ID and the time to the nanosecond.
pub fn unique() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}-{}-{:09}",
        std::process::id(),
        now.as_secs(),
        now.subsec_nanos()
    )
}
