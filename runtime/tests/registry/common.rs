//! Helpers shared by the registry tests.

#![allow(dead_code)]

use std::{path::PathBuf, process::Command, sync::OnceLock};

use tug::registry::{Reference, Registry, RegistryOptions};

pub const BASE_SOURCE: &str = "tug-test/busybox:latest";

pub fn dev_dir() -> PathBuf {
    PathBuf::from(std::env::var("TUG_DEV_DIR").unwrap_or_else(|_| "/var/tmp/tug-dev".into()))
}

/// A name no other run or test uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("running docker");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Removes a docker image (tag) when dropped.
pub struct DockerImage(pub String);

impl Drop for DockerImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

/// The test image, pushed once per process to 127.0.0.1:5000 by docker (so it has real layers).
pub fn base() -> Reference {
    static BASE: OnceLock<String> = OnceLock::new();
    let name = BASE.get_or_init(|| {
        let name = format!("127.0.0.1:5000/tug-test/base:{}", unique("t"));
        let _tag = DockerImage(name.clone());
        docker(&["tag", BASE_SOURCE, &name]);
        docker(&["push", &name]);
        name
    });
    Reference::parse(name).unwrap()
}

pub fn anonymous() -> Registry {
    Registry::new(RegistryOptions::default())
}

pub fn reference(s: &str) -> Reference {
    Reference::parse(s).unwrap()
}

/// A host directory with a file, a nested file and a symlink.
pub fn host_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("top.txt"), b"top\n").unwrap();
    std::fs::write(dir.path().join("sub/nested.txt"), b"nested\n").unwrap();
    std::os::unix::fs::symlink("top.txt", dir.path().join("link")).unwrap();
    dir
}
