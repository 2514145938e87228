//! The runs of this host whose cleanup has not finished: a file for each under tug's state directory,
//! written before the run makes anything and removed once its cleanup removed all it made. The start-up
//! sweep removes only what such runs left whose tug is gone (killed with SIGKILL, or whose cleanup
//! failed): an object that merely carries the labels of a run that finished — an image the run pushed
//! and someone pulled back, with the labels in its config — is nobody's leftover and stays.
//!
//! A record names the engines of its run (their endpoints) and stays until each of them is clean: the
//! run's own cleanup or a later sweep of an engine crosses that engine off, so a sweep of one engine never
//! forgets what the run left on another. The file: `OWNER HOST`, then a line `engine ENDPOINT` per engine
//! (a record without them, as tug wrote before it had named engines, is forgotten by the first sweep).

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
    /// The endpoints of its engines not yet known to be clean (none: any engine's sweep finishes it).
    pub engines: Vec<String>,
}

/// The most a record may hold: an owner, a host and a few hundred engines' endpoints.
const MAX_RECORD: u64 = 64 * 1024;

/// A record's text.
fn render(owner: &str, host: &str, engines: &[String]) -> String {
    let mut text = format!("{owner} {host}\n");
    for e in engines {
        text.push_str(&format!("engine {e}\n"));
    }
    text
}

/// Reads a record's text: `None` when it is not one.
fn parse(run_id: String, text: &str) -> Option<Unfinished> {
    let mut lines = text.lines();
    let (owner, host) = lines.next()?.trim().split_once(' ')?;
    let engines = lines
        .filter_map(|l| l.strip_prefix("engine "))
        .map(str::to_owned)
        .collect();
    Some(Unfinished {
        run_id,
        owner: owner.to_owned(),
        host: host.to_owned(),
        engines,
    })
}

/// Replaces the file at `path` with `text` at once (a reader sees the old record or the new one).
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// The record of this process's run, removed by [`RunRecord::finish`].
#[derive(Debug)]
pub struct RunRecord {
    path: Option<PathBuf>,
    run_id: String,
}

impl RunRecord {
    /// Records that the run has begun on `engines` (their endpoints). When the record cannot be written
    /// (no writable state directory) the run goes on with a warning: what it leaves if tug is killed
    /// will not be swept.
    pub fn begin(identity: &RunIdentity, engines: &[String]) -> RunRecord {
        let dir = runs_dir();
        let path = dir.join(&identity.run_id);
        // An endpoint is one line of the record (a URL has no line break; a name that had one is left out
        // and its engine not waited for).
        let engines: Vec<String> = engines
            .iter()
            .filter(|e| !e.contains(['\n', '\r']))
            .cloned()
            .collect();
        let written = (|| -> std::io::Result<()> {
            fs::create_dir_all(&dir)?;
            let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
            f.write_all(render(&identity.owner, &identity.host, &engines).as_bytes())?;
            f.sync_all()
        })();
        let run_id = identity.run_id.clone();
        match written {
            Ok(()) => RunRecord {
                path: Some(path),
                run_id,
            },
            Err(e) => {
                tracing::warn!(
                    "cannot record run {} in {}: {e}; if tug is killed, what the run made will not be \
                     swept",
                    identity.run_id,
                    dir.display()
                );
                RunRecord { path: None, run_id }
            }
        }
    }

    /// The run's cleanup left nothing on the engine at `endpoint`: a later sweep need not wait for it.
    pub fn clean_on(&self, endpoint: &str) {
        if self.path.is_some() {
            swept(&self.run_id, endpoint);
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
            // A record is a few dozen bytes per engine; anything larger is not one.
            if e.metadata().ok()?.len() > MAX_RECORD {
                return None;
            }
            parse(run_id, &fs::read_to_string(e.path()).ok()?)
        })
        .collect()
}

/// The engine at `endpoint` holds nothing more of run `run_id` (a sweep removed what it left there):
/// crosses the engine off the run's record, and forgets the run once no engine is left to wait for.
///
/// Two tugs sweeping two engines of one run at once may each rewrite the record from what it read: an
/// engine one of them crossed off may then stay listed, and be crossed off again by a later sweep, but
/// an engine is only ever crossed off by a sweep of that engine.
pub fn swept(run_id: &str, endpoint: &str) {
    swept_in(&runs_dir(), run_id, endpoint);
}

fn swept_in(dir: &Path, run_id: &str, endpoint: &str) {
    let path = dir.join(run_id);
    let Some(record) = fs::read_to_string(&path)
        .ok()
        .and_then(|text| parse(run_id.to_owned(), &text))
    else {
        return;
    };
    let rest: Vec<String> = record.engines.into_iter().filter(|e| e != endpoint).collect();
    if rest.is_empty() {
        let _ = fs::remove_file(&path);
    } else if let Err(e) = replace(&path, &render(&record.owner, &record.host, &rest)) {
        tracing::warn!(
            "cannot update the record of run {run_id} in {}: {e}",
            path.display()
        );
    }
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
        fs::write(
            dir.path().join("00000000000000aa"),
            format!("1:1 h\n{}", "engine x\n".repeat(8000)),
        )
        .unwrap();
        fs::write(
            dir.path().join("0123456789abcdee"),
            "43:8 host-b\nengine unix:///var/run/docker.sock\nengine tcp://127.0.0.1:2376\n",
        )
        .unwrap();
        let mut got = read_dir(dir.path());
        got.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        assert_eq!(
            got,
            vec![
                Unfinished {
                    run_id: "0123456789abcdee".into(),
                    owner: "43:8".into(),
                    host: "host-b".into(),
                    engines: vec![
                        "unix:///var/run/docker.sock".into(),
                        "tcp://127.0.0.1:2376".into()
                    ],
                },
                Unfinished {
                    run_id: "0123456789abcdef".into(),
                    owner: "42:7".into(),
                    host: "host-a".into(),
                    engines: vec![],
                }
            ]
        );
        assert!(read_dir(&dir.path().join("absent")).is_empty());
    }

    /// Each engine's sweep crosses that engine off; the record goes with the last one; a record without
    /// engines goes with the first sweep; the owner and host stay as they were.
    #[test]
    fn engines_are_crossed_off_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let id = "00000000000000ab";
        let engines = ["unix:///a.sock".to_owned(), "tcp://127.0.0.1:1".to_owned()];
        fs::write(dir.path().join(id), render("5:6", "h", &engines)).unwrap();
        swept_in(dir.path(), id, "ssh://elsewhere");
        assert_eq!(read_dir(dir.path())[0].engines, engines);
        swept_in(dir.path(), id, "unix:///a.sock");
        let left = read_dir(dir.path());
        assert_eq!(
            (
                left[0].owner.as_str(),
                left[0].host.as_str(),
                &left[0].engines[..]
            ),
            ("5:6", "h", &engines[1..])
        );
        swept_in(dir.path(), id, "tcp://127.0.0.1:1");
        assert!(read_dir(dir.path()).is_empty());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temporary file is left"
        );

        fs::write(dir.path().join(id), "5:6 h\n").unwrap();
        swept_in(dir.path(), id, "unix:///a.sock");
        assert!(read_dir(dir.path()).is_empty());
        // A run that is not recorded: nothing to do.
        swept_in(dir.path(), "00000000000000ac", "unix:///a.sock");
    }
}
