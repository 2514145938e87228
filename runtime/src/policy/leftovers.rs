//! What tug runs left on an engine: the objects labelled `tug.run`, grouped by run, each run with what
//! this host knows of it (live, orphaned, kept, finished, another host's) — `tug runs` — and the orphans
//! the sweep removes: the one decision both the start-up sweep ([`super::cleanup::sweep_orphans`]) and
//! `tug sweep` make.
//!
//! An object is an orphan when it belongs to a run recorded on this host as unfinished
//! ([`super::run_records`]) whose tug is gone, and [`is_orphan`] says so of its labels (this host, not
//! `--keep`, an owner that is not alive). An object that merely carries the labels of a run that finished
//! (an image pushed and pulled back) is nobody's leftover; a live run's objects are its own to remove.

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use super::{
    cleanup::{
        is_orphan, list, list_failed, owner_alive, parse_owner, remove_all, this_host, CleanupReport,
        Failure, Kind, Object, LABEL_HOST, LABEL_KEEP, LABEL_OWNER, LABEL_PLUGIN, LABEL_RUN,
    },
    run_records,
};
use crate::engine::Client;

/// What this host knows of a run that owns objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Its tug is still running on this host: it removes what the run made when it ends.
    Live,
    /// Its tug on this host is gone and its cleanup never finished: the sweep removes its objects.
    Orphaned,
    /// Started with `--keep`: tug never removes its objects.
    Kept,
    /// Its tug is gone, but the run is not recorded as unfinished: what carries its labels is not a
    /// leftover (an image it pushed, pulled back), and the sweep leaves it.
    Finished,
    /// Run by a tug on another host: only that host can tell whether it is live.
    OtherHost,
    /// Its labels do not say who owns it (no or unreadable `tug.owner-pid` or `tug.host`).
    Unknown,
}

impl RunState {
    /// The word `tug runs` prints.
    pub fn word(self) -> &'static str {
        match self {
            RunState::Live => "live",
            RunState::Orphaned => "orphaned",
            RunState::Kept => "kept",
            RunState::Finished => "finished",
            RunState::OtherHost => "other-host",
            RunState::Unknown => "unknown",
        }
    }
}

/// One run that owns objects on the engine.
#[derive(Clone, Debug)]
pub struct RunObjects {
    /// The run id (`tug.run`).
    pub run_id: String,
    /// The plugin's name (`tug.plugin`).
    pub plugin: Option<String>,
    /// `<pid>:<start time>` of its tug (`tug.owner-pid`).
    pub owner: Option<String>,
    /// The host its tug ran on (`tug.host`).
    pub host: Option<String>,
    /// What this host knows of it.
    pub state: RunState,
    /// Its objects: kind and id (a volume's name), in [`Kind::ALL`] order.
    pub objects: Vec<(Kind, String)>,
}

impl RunObjects {
    /// The pid of its tug, if its owner label can be read.
    pub fn pid(&self) -> Option<u32> {
        parse_owner(self.owner.as_deref()?).map(|(pid, _)| pid)
    }

    /// When its tug started (from the start time in `tug.owner-pid` and this host's boot time), for a
    /// run of this host.
    pub fn started(&self) -> Option<SystemTime> {
        if self.host.as_deref() != Some(this_host()) {
            return None;
        }
        let (_, ticks) = parse_owner(self.owner.as_deref()?)?;
        started_at(ticks)
    }

    /// How many objects of each kind it owns, in [`Kind::ALL`] order.
    pub fn counts(&self) -> Vec<(Kind, usize)> {
        Kind::ALL
            .iter()
            .map(|k| (*k, self.objects.iter().filter(|(o, _)| o == k).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times: `USER_HZ`, 100 on every Linux architecture.
const USER_HZ: u64 = 100;

/// The wall time of a process start time in clock ticks since boot (`btime` of `/proc/stat`).
fn started_at(ticks: u64) -> Option<SystemTime> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let boot: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // A label anyone with engine access can set: no arithmetic on it may overflow.
    let since_boot = Duration::from_millis(ticks.checked_mul(1000)? / USER_HZ);
    UNIX_EPOCH
        .checked_add(Duration::from_secs(boot))?
        .checked_add(since_boot)
}

/// The runs that own objects on the engine, and the lists that failed.
#[derive(Debug, Default)]
pub struct Listing {
    /// The runs, by run id.
    pub runs: Vec<RunObjects>,
    /// The kinds that could not be listed.
    pub failed: Vec<Failure>,
}

/// The run ids recorded on this host as unfinished whose tug is gone.
fn dead_runs() -> Vec<String> {
    let host = this_host();
    run_records::unfinished()
        .into_iter()
        .filter(|r| r.host == host && !owner_alive(&r.owner))
        .map(|r| r.run_id)
        .collect()
}

/// The state of a run from one of its objects' labels.
fn state_of(labels: &BTreeMap<String, String>, dead: &[String]) -> RunState {
    let host = this_host();
    let get = |k: &str| labels.get(k).map(String::as_str);
    let run = get(LABEL_RUN).unwrap_or_default();
    if is_orphan(labels, host) && dead.iter().any(|d| d == run) {
        return RunState::Orphaned;
    }
    match (get(LABEL_HOST), get(LABEL_OWNER)) {
        (Some(h), _) if h != host => RunState::OtherHost,
        _ if get(LABEL_KEEP) == Some("1") => RunState::Kept,
        (Some(_), Some(owner)) if parse_owner(owner).is_some() => {
            if owner_alive(owner) {
                RunState::Live
            } else {
                RunState::Finished
            }
        }
        _ => RunState::Unknown,
    }
}

/// Lists every object labelled `tug.run` on the engine, grouped by run (`tug runs`).
pub async fn list_runs(client: &Client) -> Listing {
    let dead = dead_runs();
    let mut report = CleanupReport::default();
    let mut runs: BTreeMap<String, RunObjects> = BTreeMap::new();
    for kind in Kind::ALL {
        let objects = match list(client, kind, LABEL_RUN).await {
            Ok(objects) => objects,
            Err(e) => {
                if list_failed(&mut report, kind, e) {
                    continue;
                }
                break;
            }
        };
        for o in objects {
            let Some(run) = o.labels.get(LABEL_RUN).filter(|r| !r.is_empty()) else {
                continue;
            };
            let entry = runs.entry(run.clone()).or_insert_with(|| RunObjects {
                run_id: run.clone(),
                plugin: o.labels.get(LABEL_PLUGIN).cloned(),
                owner: o.labels.get(LABEL_OWNER).cloned(),
                host: o.labels.get(LABEL_HOST).cloned(),
                state: state_of(&o.labels, &dead),
                objects: Vec::new(),
            });
            entry.objects.push((kind, o.id));
        }
    }
    Listing {
        runs: runs.into_values().collect(),
        failed: report.failed,
    }
}

/// What the sweep removes now: the objects of runs recorded on this host as unfinished whose tug is
/// gone.
#[derive(Debug, Default)]
pub struct Orphans {
    /// The runs recorded as unfinished whose tug is gone.
    pub dead: Vec<String>,
    /// Their objects the sweep removes.
    pub(crate) objects: Vec<Object>,
    /// The lists that failed.
    pub report: CleanupReport,
    /// Whether the engine answered every list (otherwise nothing is removed).
    pub reachable: bool,
}

/// Finds the orphans: lists nothing when no unfinished run of this host has lost its tug.
pub async fn find_orphans(client: &Client) -> Orphans {
    let host = this_host();
    let mut found = Orphans {
        dead: dead_runs(),
        reachable: true,
        ..Default::default()
    };
    if found.dead.is_empty() {
        return found;
    }
    for kind in Kind::ALL {
        match list(client, kind, LABEL_RUN).await {
            Ok(objects) => {
                let dead = &found.dead;
                found.objects.extend(objects.into_iter().filter(|o| {
                    is_orphan(&o.labels, host) && o.labels.get(LABEL_RUN).is_some_and(|r| dead.contains(r))
                }))
            }
            Err(e) => {
                if !list_failed(&mut found.report, kind, e) {
                    found.reachable = false;
                    return found;
                }
            }
        }
    }
    found
}

impl Orphans {
    /// Only the orphans of run `run_id`.
    pub fn only(mut self, run_id: &str) -> Self {
        self.dead.retain(|r| r == run_id);
        self.objects
            .retain(|o| o.labels.get(LABEL_RUN).map(String::as_str) == Some(run_id));
        self
    }

    /// The orphans: kind, id and run, in the order the sweep removes them.
    pub fn list(&self) -> Vec<(Kind, &str, &str)> {
        let mut out = Vec::new();
        for kind in Kind::ALL {
            for o in self.objects.iter().filter(|o| o.kind == kind) {
                let run = o.labels.get(LABEL_RUN).map(String::as_str).unwrap_or_default();
                out.push((kind, o.id.as_str(), run));
            }
        }
        out
    }

    /// Removes them (unless a list could not reach the engine); once nothing failed, this engine is
    /// crossed off the dead runs' records (a record goes with the last of its run's engines).
    pub async fn remove(self, client: &Client) -> CleanupReport {
        let mut report = self.report;
        if !self.reachable {
            return report;
        }
        remove_all(client, self.objects, &mut report).await;
        if report.failed.is_empty() {
            let endpoint = client.config().endpoint.to_string();
            for run in &self.dead {
                run_records::swept(run, &endpoint);
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::cleanup::{current_owner, labels};

    #[test]
    fn states() {
        let host = this_host();
        let dead_owner = format!("{}:1", 0x7fff_ffff);
        let me = current_owner();
        let run = "0123456789abcdef";
        let dead = vec![run.to_owned()];
        let of = |owner: &str, h: &str, keep: &str, dead: &[String]| {
            state_of(
                &labels(&[
                    (LABEL_RUN, run),
                    (LABEL_OWNER, owner),
                    (LABEL_HOST, h),
                    (LABEL_KEEP, keep),
                ]),
                dead,
            )
        };
        assert_eq!(of(&dead_owner, host, "0", &dead), RunState::Orphaned);
        assert_eq!(of(&dead_owner, host, "0", &[]), RunState::Finished);
        assert_eq!(of(&me, host, "0", &dead), RunState::Live);
        assert_eq!(of(&dead_owner, host, "1", &dead), RunState::Kept);
        assert_eq!(of(&dead_owner, "elsewhere", "0", &dead), RunState::OtherHost);
        assert_eq!(of("junk", host, "0", &dead), RunState::Unknown);
        assert_eq!(state_of(&labels(&[(LABEL_RUN, run)]), &dead), RunState::Unknown);
    }

    #[test]
    fn start_times() {
        let me = RunObjects {
            run_id: "r".into(),
            plugin: None,
            owner: Some(current_owner()),
            host: Some(this_host().to_owned()),
            state: RunState::Live,
            objects: vec![(Kind::Volume, "v".into()), (Kind::Container, "c".into())],
        };
        assert_eq!(me.pid(), Some(std::process::id()));
        let started = me.started().expect("this process's start time");
        let age = SystemTime::now().duration_since(started).unwrap_or_default();
        assert!(age < Duration::from_secs(3600), "{age:?}");
        assert_eq!(me.counts(), vec![(Kind::Container, 1), (Kind::Volume, 1)]);
    }
}
