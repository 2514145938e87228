//! The runs of this host whose cleanup has not finished: a file for each under tug's state directory,
//! written before the run makes anything and removed once its cleanup removed all it made. The start-up
//! sweep removes only what such runs left whose tug is gone (killed with SIGKILL, or whose cleanup
//! failed): an object that merely carries the labels of a run that finished — an image the run pushed
//! and someone pulled back, with the labels in its config — is nobody's leftover and stays.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use super::cleanup::RunIdentity;

/// The directory of tug's state on this host: `$TUG_STATE_DIR`, else `$XDG_STATE_HOME/tug`, else
/// `$HOME/.local/state/tug`, else `/tmp/tug-state-<uid>`.
pub fn state_dir() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("TUG_STATE_DIR") {
        return dir;
    }
    if let Some(dir) = var("XDG_STATE_HOME") {
        return dir.join("tug");
    }
    if let Some(home) = var("HOME") {
        return home.join(".local/state/tug");
    }
    use std::os::unix::fs::MetadataExt;
    let uid = fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
    PathBuf::from(format!("/tmp/tug-state-{uid}"))
}

fn runs_dir() -> PathBuf {
    state_dir().join("runs")
}

/// A run that has not finished its cleanup (what the start-up sweep reads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unfinished {
    /// The run id.
    pub run_id: String,
    /// `<pid>:<start time>` of the tug that ran it.
    pub owner: String,
    /// The host it ran on.
    pub host: String,
}

/// The record of this process's run, removed by [`RunRecord::finish`].
#[derive(Debug)]
pub struct RunRecord {
    path: Option<PathBuf>,
}

impl RunRecord {
    /// Records that the run has begun. When the record cannot be written (no writable state directory)
    /// the run goes on with a warning: what it leaves if tug is killed will not be swept.
    pub fn begin(identity: &RunIdentity) -> RunRecord {
        let dir = runs_dir();
        let path = dir.join(&identity.run_id);
        let written = (|| -> std::io::Result<()> {
            fs::create_dir_all(&dir)?;
            let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
            writeln!(f, "{} {}", identity.owner, identity.host)?;
            f.sync_all()
        })();
        match written {
            Ok(()) => RunRecord { path: Some(path) },
            Err(e) => {
                tracing::warn!(
                    "cannot record run {} in {}: {e}; if tug is killed, what the run made will not be \
                     swept",
                    identity.run_id,
                    dir.display()
                );
                RunRecord { path: None }
            }
        }
    }

    /// The run's cleanup removed everything (or the run keeps what it made, `--keep`): nothing of it is
    /// left to sweep.
    pub fn finish(self) {
        if let Some(path) = &self.path {
            let _ = fs::remove_file(path);
        }
    }
}

/// The runs recorded on this host that have not finished their cleanup (their tug may still be running).
pub fn unfinished() -> Vec<Unfinished> {
    read_dir(&runs_dir())
}

fn read_dir(dir: &Path) -> Vec<Unfinished> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let run_id = e.file_name().to_str()?.to_owned();
            if run_id.len() != 16 || !run_id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            // A record is a few dozen bytes; anything larger is not one.
            if e.metadata().ok()?.len() > 4096 {
                return None;
            }
            let text = fs::read_to_string(e.path()).ok()?;
            let (owner, host) = text.trim().split_once(' ')?;
            Some(Unfinished {
                run_id,
                owner: owner.to_owned(),
                host: host.to_owned(),
            })
        })
        .collect()
}

/// Forgets a run whose leftovers the sweep removed.
pub fn forget(run_id: &str) {
    let _ = fs::remove_file(runs_dir().join(run_id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_back_and_junk_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("0123456789abcdef"), "42:7 host-a\n").unwrap();
        fs::write(dir.path().join("not-a-run"), "1:1 h\n").unwrap();
        fs::write(dir.path().join("fedcba9876543210"), "no-space-here").unwrap();
        fs::write(dir.path().join("00000000000000aa"), "x".repeat(5000)).unwrap();
        assert_eq!(
            read_dir(dir.path()),
            vec![Unfinished {
                run_id: "0123456789abcdef".into(),
                owner: "42:7".into(),
                host: "host-a".into(),
            }]
        );
        assert!(read_dir(&dir.path().join("absent")).is_empty());
    }
}
