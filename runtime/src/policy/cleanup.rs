//! Removing what a run created, in the manner of Testcontainers' Ryuk.
//!
//! Every object a run creates (container, network, volume, image; service, secret, config) carries the labels of its
//! [`RunIdentity`] (the gate adds them; an image carries them under `tug.image.` instead of `tug.`, so a
//! container made from it by anyone does not inherit the run's ownership):
//!
//! | label | value |
//! |---|---|
//! | `tug.run` | the run id, 16 random hex digits |
//! | `tug.plugin` | the plugin's name |
//! | `tug.owner-pid` | `<pid>:<start time>` of the tug process (start time in clock ticks, `/proc/<pid>/stat` field 22), so a reused pid is not taken for the live owner |
//! | `tug.host` | the hostname of the machine tug runs on |
//! | `tug.keep` | `1` when the run was started with `--keep`, else `0` (always set, so that an object never inherits another value from its image) |
//!
//! When a run ends, [`remove_run`] removes everything labelled with its id. When tug starts,
//! [`sweep_orphans`] removes what runs of earlier tug processes on this host left behind because the
//! process died (killed, crashed) before it could clean up — never objects of a live process, of
//! another host, or of a `--keep` run.

use std::{
    collections::BTreeMap,
    fmt,
    io::Read,
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use serde_json::{json, Value};

use crate::engine::{segment, Client, Error, Request};

/// The run id.
pub const LABEL_RUN: &str = "tug.run";
/// The plugin's name.
pub const LABEL_PLUGIN: &str = "tug.plugin";
/// `<pid>:<start time in clock ticks>` of the tug process that owns the run.
pub const LABEL_OWNER: &str = "tug.owner-pid";
/// The hostname of the machine the owner runs on.
pub const LABEL_HOST: &str = "tug.host";
/// `1`: the run was started with `--keep`; its objects are never removed by tug.
pub const LABEL_KEEP: &str = "tug.keep";

/// Who a run is: the labels on everything it creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunIdentity {
    /// The run id: 16 random hex digits.
    pub run_id: String,
    /// The plugin's name.
    pub plugin: String,
    /// `<pid>:<start time>` of this process.
    pub owner: String,
    /// This machine's hostname.
    pub host: String,
    /// Started with `--keep`: nothing of the run is removed.
    pub keep: bool,
}

impl RunIdentity {
    /// A new run of `plugin` by this process, with a fresh run id.
    pub fn new(plugin: &str, keep: bool) -> Self {
        RunIdentity {
            run_id: new_run_id(),
            plugin: plugin.to_owned(),
            owner: current_owner(),
            host: this_host().to_owned(),
            keep,
        }
    }

    /// The labels every object of the run carries. `tug.keep` is always among them (`0` unless `--keep`):
    /// a container inherits its image's labels, and an image may carry `tug.keep=1` from its Dockerfile.
    pub fn labels(&self) -> Vec<(String, String)> {
        vec![
            (LABEL_RUN.to_owned(), self.run_id.clone()),
            (LABEL_PLUGIN.to_owned(), self.plugin.clone()),
            (LABEL_OWNER.to_owned(), self.owner.clone()),
            (LABEL_HOST.to_owned(), self.host.clone()),
            (
                LABEL_KEEP.to_owned(),
                if self.keep { "1" } else { "0" }.to_owned(),
            ),
        ]
    }

    /// The Engine API `filters` value that selects the run's objects: `{"label":["tug.run=<id>"]}`.
    pub fn filter(&self) -> String {
        run_filter(&self.run_id)
    }
}

fn run_filter(run: &str) -> String {
    json!({ "label": [format!("{LABEL_RUN}={run}")] }).to_string()
}

/// 16 random hex digits (from `/dev/urandom`; failing that, from std's randomly keyed hasher, the time,
/// the pid and a counter).
pub fn new_run_id() -> String {
    let mut bytes = [0u8; 8];
    let random = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !random {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_u32(std::process::id());
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        bytes = h.finish().to_be_bytes();
    }
    hex::encode(bytes)
}

/// This machine's hostname (`/proc/sys/kernel/hostname`), read once.
pub fn this_host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "unknown-host".to_owned())
    })
}

/// When a process started, in clock ticks since boot (`/proc/<pid>/stat` field 22); `None` when there is
/// no such process.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22 of a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and may itself
/// contain spaces and parentheses, so fields are counted from the last `)`.
fn parse_start_time(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    // `after` begins with field 3 (state).
    after.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// This process as an owner: `<pid>:<start time>`.
pub fn current_owner() -> String {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER
        .get_or_init(|| {
            let pid = std::process::id();
            format!("{pid}:{}", process_start_time(pid).unwrap_or(0))
        })
        .clone()
}

/// Whether this system lets tug tell a live owner from a dead one (it reads `/proc/<pid>/stat`).
pub fn liveness_supported() -> bool {
    process_start_time(std::process::id()).is_some()
}

/// Splits an owner label into pid and start time.
pub fn parse_owner(owner: &str) -> Option<(u32, u64)> {
    let (pid, start) = owner.split_once(':')?;
    Some((pid.parse().ok()?, start.parse().ok()?))
}

/// Whether the process an owner label names is still running: there is a process with that pid and it
/// started at that time. A label that cannot be parsed counts as alive (tug never removes what it cannot
/// account for).
pub fn owner_alive(owner: &str) -> bool {
    match parse_owner(owner) {
        Some((pid, start)) => process_start_time(pid) == Some(start),
        None => true,
    }
}

/// Whether an object with these labels is an orphan on `host`: it belongs to a tug run (`tug.run`) of a
/// process on `host` that is gone, and the run was not started with `--keep`. Objects without a
/// `tug.owner-pid` or `tug.host` are not orphans.
pub fn is_orphan(labels: &BTreeMap<String, String>, host: &str) -> bool {
    let get = |k: &str| labels.get(k).map(String::as_str);
    match (get(LABEL_RUN), get(LABEL_HOST), get(LABEL_OWNER)) {
        (Some(_), Some(h), Some(owner)) => h == host && get(LABEL_KEEP) != Some("1") && !owner_alive(owner),
        _ => false,
    }
}

/// A kind of Engine object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A container (removed with its anonymous volumes).
    Container,
    /// A network.
    Network,
    /// A volume.
    Volume,
    /// An image.
    Image,
    /// A swarm service (removed with its tasks).
    Service,
    /// A swarm secret.
    Secret,
    /// A swarm config.
    Config,
}

impl Kind {
    /// In the order they must be removed: services before the secrets and configs they use and the
    /// containers of their tasks (which carry the run's labels too, and which the swarm would otherwise
    /// replace); containers before the networks and volumes they use and the images they run.
    pub const ALL: [Kind; 7] = [
        Kind::Service,
        Kind::Secret,
        Kind::Config,
        Kind::Container,
        Kind::Network,
        Kind::Volume,
        Kind::Image,
    ];

    /// Objects of swarm mode: they exist only on a swarm manager, and carry their labels in `Spec`.
    fn swarm(self) -> bool {
        matches!(self, Kind::Service | Kind::Secret | Kind::Config)
    }

    /// The kind's plural: `containers`, `networks`, ….
    pub(crate) fn plural(self) -> &'static str {
        match self {
            Kind::Container => "containers",
            Kind::Network => "networks",
            Kind::Volume => "volumes",
            Kind::Image => "images",
            Kind::Service => "services",
            Kind::Secret => "secrets",
            Kind::Config => "configs",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Container => "container",
            Kind::Network => "network",
            Kind::Volume => "volume",
            Kind::Image => "image",
            Kind::Service => "service",
            Kind::Secret => "secret",
            Kind::Config => "config",
        })
    }
}

/// An object that was removed (or was already gone).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Removed {
    /// What it was.
    pub kind: Kind,
    /// Its id (a volume's name).
    pub id: String,
    /// The run it belonged to.
    pub run: String,
}

/// Something that could not be listed or removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The kind of object.
    pub kind: Kind,
    /// The object, or `None` when listing failed.
    pub id: Option<String>,
    /// The engine's error.
    pub error: String,
}

/// What a cleanup did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Removed (or already gone), in the order of removal.
    pub removed: Vec<Removed>,
    /// What failed; the cleanup went on past each failure.
    pub failed: Vec<Failure>,
}

impl CleanupReport {
    /// Nothing failed.
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty()
    }

    /// The ids removed of one kind.
    pub fn removed_ids(&self, kind: Kind) -> Vec<&str> {
        self.removed
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.id.as_str())
            .collect()
    }
}

impl fmt::Display for CleanupReport {
    /// `removed 2 containers, 1 network; failed: volume v1: conflict: volume is in use`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts: Vec<String> = Kind::ALL
            .iter()
            .filter_map(|k| {
                let n = self.removed.iter().filter(|r| r.kind == *k).count();
                match n {
                    0 => None,
                    1 => Some(format!("1 {k}")),
                    n => Some(format!("{n} {}", k.plural())),
                }
            })
            .collect();
        if counts.is_empty() {
            f.write_str("removed nothing")?;
        } else {
            write!(f, "removed {}", counts.join(", "))?;
        }
        if !self.failed.is_empty() {
            let failed: Vec<String> = self
                .failed
                .iter()
                .map(|e| match &e.id {
                    Some(id) => format!("{} {id}: {}", e.kind, e.error),
                    None => format!("listing {}: {}", e.kind.plural(), e.error),
                })
                .collect();
            write!(f, "; failed: {}", failed.join("; "))?;
        }
        Ok(())
    }
}

/// An object found by a label filter.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    /// What it is.
    pub(crate) kind: Kind,
    /// Its id (a volume's name).
    pub(crate) id: String,
    /// Its labels (an image's `tug.image.*` read as `tug.*`).
    pub(crate) labels: BTreeMap<String, String>,
}

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v.get("Labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The objects of one kind whose labels match `label` (`tug.run=<id>`, or `tug.run` for any run). Images
/// carry the run's labels under `tug.image.` (a container inherits its image's labels, and must not
/// inherit a run's ownership): for them the filter and the labels read are translated.
pub(crate) async fn list(client: &Client, kind: Kind, label: &str) -> Result<Vec<Object>, Error> {
    let label = match (kind, label.strip_prefix("tug.")) {
        (Kind::Image, Some(rest)) => format!("tug.image.{rest}"),
        _ => label.to_owned(),
    };
    let filters = json!({ "label": [label] }).to_string();
    let (req, id_key) = match kind {
        Kind::Container => (Request::get("/containers/json").query("all", true), "Id"),
        Kind::Network => (Request::get("/networks"), "Id"),
        Kind::Volume => (Request::get("/volumes"), "Name"),
        Kind::Image => (Request::get("/images/json"), "Id"),
        Kind::Service => (Request::get("/services"), "ID"),
        Kind::Secret => (Request::get("/secrets"), "ID"),
        Kind::Config => (Request::get("/configs"), "ID"),
    };
    let answer: Value = match client.json(req.query("filters", &filters)).await {
        Ok(answer) => answer,
        // Not a swarm manager (never was, or the plugin left the swarm): there is nothing of the kind.
        Err(Error::Server { status, .. }) if kind.swarm() && status.as_u16() == 503 => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let items = match kind {
        Kind::Volume => answer.get("Volumes").cloned().unwrap_or(Value::Null),
        _ => answer,
    };
    Ok(items
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|o| {
            let mut labels = labels_of(if kind.swarm() { &o["Spec"] } else { o });
            if kind == Kind::Image {
                labels = labels
                    .into_iter()
                    .filter_map(|(k, v)| Some((format!("tug.{}", k.strip_prefix("tug.image.")?), v)))
                    .collect();
            }
            Some(Object {
                kind,
                id: o.get(id_key)?.as_str()?.to_owned(),
                labels,
            })
        })
        .collect())
}

/// Removes one object; an object already gone (or already being removed) counts as removed.
async fn remove(client: &Client, kind: Kind, id: &str) -> Result<(), Error> {
    let id = segment(id);
    let req = match kind {
        Kind::Container => Request::delete(format!("/containers/{id}"))
            .query("force", true)
            .query("v", true),
        Kind::Network => Request::delete(format!("/networks/{id}")),
        Kind::Volume => Request::delete(format!("/volumes/{id}")),
        Kind::Image => Request::delete(format!("/images/{id}")).query("force", true),
        Kind::Service => Request::delete(format!("/services/{id}")),
        Kind::Secret => Request::delete(format!("/secrets/{id}")),
        Kind::Config => Request::delete(format!("/configs/{id}")),
    };
    match client.call(req).await {
        Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
        Err(Error::Conflict { message }) if message.contains("already in progress") => Ok(()),
        Err(e) => Err(e),
    }
}

/// How long a removal that waits on another (a network with endpoints, a volume in use: the daemon is
/// still removing the container) is retried, doubling from the first pause.
const DEPENDENT_RETRY: [u64; 6] = [50, 100, 200, 400, 800, 1600];

/// Whether an error says the object is still used by one being removed (retrying helps).
fn in_use(e: &Error) -> bool {
    let text = e.to_string();
    [
        "active endpoints",
        "in use",
        "is being used",
        "removal of container",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// Whether an error says the engine cannot be reached (further calls would only repeat it).
fn unreachable(e: &Error) -> bool {
    matches!(e, Error::Transport { .. } | Error::Timeout { .. })
}

/// Records a failed list of `kind`; returns `false` when the engine cannot be reached (listing further
/// kinds would only repeat the error).
pub(crate) fn list_failed(report: &mut CleanupReport, kind: Kind, e: Error) -> bool {
    let go_on = !unreachable(&e);
    report.failed.push(Failure {
        kind,
        id: None,
        error: e.to_string(),
    });
    go_on
}

/// Removes objects, kind by kind in [`Kind::ALL`] order, recording each outcome. A network or volume
/// still in use (its container's removal is still going on) is retried with a bounded back-off; an
/// engine that cannot be reached ends the removals (the caller's report says so once): then it returns
/// `false`.
pub(crate) async fn remove_all(client: &Client, objects: Vec<Object>, report: &mut CleanupReport) -> bool {
    for kind in Kind::ALL {
        for o in objects.iter().filter(|o| o.kind == kind) {
            let mut result = remove(client, kind, &o.id).await;
            for pause in DEPENDENT_RETRY {
                match &result {
                    Err(e) if in_use(e) && matches!(kind, Kind::Network | Kind::Volume) => {
                        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                        result = remove(client, kind, &o.id).await;
                    }
                    _ => break,
                }
            }
            match result {
                Ok(()) => report.removed.push(Removed {
                    kind,
                    id: o.id.clone(),
                    run: o.labels.get(LABEL_RUN).cloned().unwrap_or_default(),
                }),
                Err(e) => {
                    let stop = unreachable(&e);
                    report.failed.push(Failure {
                        kind,
                        id: Some(o.id.clone()),
                        error: e.to_string(),
                    });
                    if stop {
                        return false;
                    }
                }
            }
        }
    }
    true
}

/// Removes everything labelled `tug.run=<run_id>`: services, secrets and configs (on a swarm manager),
/// containers (forcibly, with their anonymous volumes), then networks, volumes and images. Keeps going past errors and reports them; never panics. (It does
/// not look at `tug.keep`: the caller does not call it for a `--keep` run.)
pub async fn remove_run(client: &Client, run_id: &str) -> CleanupReport {
    let filters = format!("{LABEL_RUN}={run_id}");
    let mut report = CleanupReport::default();
    // Kind by kind, listing each after the previous kind is gone (removing a container also removes
    // its anonymous volumes).
    for kind in Kind::ALL {
        match list(client, kind, &filters).await {
            Ok(objects) => {
                if !remove_all(client, objects, &mut report).await {
                    break;
                }
            }
            // An engine that does not answer one list answers none: say it once.
            Err(e) => {
                if !list_failed(&mut report, kind, e) {
                    break;
                }
            }
        }
    }
    report
}

/// Takes off the names a run gave images it did not make (a tag on an image of someone else's): each
/// name that still names the image it named when the run made it. Names without a known image (a pull's)
/// stay, as after `docker pull`: another run may be using what it pulled too. Images the run made are
/// removed with their names by [`remove_run`].
pub async fn remove_names(client: &Client, names: &[(String, Option<String>)]) -> CleanupReport {
    let mut report = CleanupReport::default();
    for (name, id) in names {
        let Some(id) = id else { continue };
        let path = format!(
            "/images/{}",
            name.split('/').map(segment).collect::<Vec<_>>().join("/")
        );
        let current: Value = match client.json(Request::get(format!("{path}/json"))).await {
            Ok(v) => v,
            Err(Error::NotFound { .. }) => continue,
            Err(e) => {
                let stop = unreachable(&e);
                report.failed.push(Failure {
                    kind: Kind::Image,
                    id: Some(name.clone()),
                    error: e.to_string(),
                });
                if stop {
                    break;
                }
                continue;
            }
        };
        // Still the image it named; and never the name whose removal would remove the image.
        if current["Id"].as_str() != Some(id.as_str())
            || !super::image_names::untag_keeps_image(&current, name)
        {
            continue;
        }
        match client.call(Request::delete(path).query("noprune", true)).await {
            Ok(_) | Err(Error::NotFound { .. }) => report.removed.push(Removed {
                kind: Kind::Image,
                id: name.clone(),
                run: String::new(),
            }),
            Err(e) => report.failed.push(Failure {
                kind: Kind::Image,
                id: Some(name.clone()),
                error: e.to_string(),
            }),
        }
    }
    report
}

/// Removes what runs left whose cleanup did not finish and whose tug on this host is gone (killed, or
/// its cleanup failed): the objects [`is_orphan`] finds that belong to a run recorded as unfinished
/// ([`super::run_records`]). Run at start-up. Objects of live owners, of other hosts, of `--keep` runs,
/// of runs that finished (a pushed image pulled back carries its labels), and objects without the owner
/// labels are left alone; where liveness cannot be told ([`liveness_supported`]), nothing is removed. A
/// run's record goes once nothing of it is left.
pub async fn sweep_orphans(client: &Client) -> CleanupReport {
    if !liveness_supported() {
        tracing::warn!("cannot read /proc/self/stat: not sweeping what earlier runs left");
        return CleanupReport::default();
    }
    // The decision (`policy/leftovers.rs`) is the one `tug sweep` makes too.
    super::leftovers::find_orphans(client).await.remove(client).await
}

/// Labels from pairs, for tests.
#[cfg(test)]
pub(crate) fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids() {
        let a = new_run_id();
        let b = new_run_id();
        assert_eq!(a.len(), 16);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn identity_and_labels() {
        let id = RunIdentity::new("lifecycle", false);
        assert_eq!(id.run_id.len(), 16);
        assert_eq!(id.owner, current_owner());
        assert_eq!(id.host, this_host());
        let labels = id.labels();
        let keys: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [LABEL_RUN, LABEL_PLUGIN, LABEL_OWNER, LABEL_HOST, LABEL_KEEP]
        );
        assert_eq!(labels[4].1, "0");
        assert_eq!(labels[1].1, "lifecycle");
        assert_eq!(id.filter(), format!(r#"{{"label":["tug.run={}"]}}"#, id.run_id));
        let kept = RunIdentity::new("lifecycle", true);
        assert_ne!(kept.run_id, id.run_id);
        assert_eq!(
            kept.labels().last().unwrap(),
            &("tug.keep".to_owned(), "1".to_owned())
        );
        // The hostname is the kernel's.
        let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(this_host(), kernel.trim());
    }

    #[test]
    fn stat_parsing() {
        let line = "1234 (tug (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 987654 \
                    12345678 900 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_start_time(line), Some(987_654));
        assert_eq!(parse_start_time("1234 (short) S 1 2"), None);
        assert_eq!(parse_start_time("garbage"), None);
        assert_eq!(parse_owner("123:456"), Some((123, 456)));
        assert_eq!(parse_owner("123"), None);
        assert_eq!(parse_owner("x:1"), None);
        assert_eq!(parse_owner("1:"), None);
    }

    #[test]
    fn liveness() {
        let me = current_owner();
        assert!(liveness_supported());
        let (pid, start) = parse_owner(&me).unwrap();
        assert_eq!(pid, std::process::id());
        assert!(start > 0);
        assert!(owner_alive(&me));
        // No such process.
        assert_eq!(process_start_time(0x7fff_ffff), None);
        assert!(!owner_alive(&format!("{}:{start}", 0x7fff_ffff)));
        // A live pid with another start time: the pid was reused.
        assert!(!owner_alive(&format!("{pid}:{}", start + 1)));
        assert!(!owner_alive(&format!("{pid}:0")));
        // Unreadable labels are never taken for dead owners.
        assert!(owner_alive("nonsense"));
        assert!(owner_alive(""));
    }

    #[test]
    fn orphans() {
        let host = this_host();
        let dead = format!("{}:1", 0x7fff_ffff);
        let me = current_owner();
        let base = [
            (LABEL_RUN, "0123456789abcdef"),
            (LABEL_HOST, host),
            (LABEL_OWNER, dead.as_str()),
        ];
        assert!(is_orphan(&labels(&base), host));
        // Live owner.
        let mut l = labels(&base);
        l.insert(LABEL_OWNER.into(), me.clone());
        assert!(!is_orphan(&l, host));
        // Another host.
        assert!(!is_orphan(&labels(&base), "some-other-host"));
        // --keep.
        let mut l = labels(&base);
        l.insert(LABEL_KEEP.into(), "1".into());
        assert!(!is_orphan(&l, host));
        l.insert(LABEL_KEEP.into(), "0".into());
        assert!(is_orphan(&l, host));
        // Missing labels.
        for k in [LABEL_RUN, LABEL_HOST, LABEL_OWNER] {
            let mut l = labels(&base);
            l.remove(k);
            assert!(!is_orphan(&l, host), "without {k}");
        }
        // Unparseable owner.
        let mut l = labels(&base);
        l.insert(LABEL_OWNER.into(), "who knows".into());
        assert!(!is_orphan(&l, host));
    }

    #[test]
    fn labels_from_json() {
        let v = json!({ "Labels": { "tug.run": "x", "n": 1 } });
        assert_eq!(labels_of(&v), labels(&[("tug.run", "x")]));
        assert!(labels_of(&json!({ "Labels": null })).is_empty());
        assert!(labels_of(&json!({})).is_empty());
    }

    #[test]
    fn services_are_removed_first() {
        // A service's task containers carry the run's labels: removing them first would only make the
        // swarm start new ones; secrets and configs in use by a service cannot be removed.
        assert_eq!(&Kind::ALL[..3], &[Kind::Service, Kind::Secret, Kind::Config]);
        assert!(Kind::ALL.iter().position(|k| *k == Kind::Container) > Some(2));
        assert!(Kind::Service.swarm() && !Kind::Container.swarm());
        assert_eq!(Kind::Secret.to_string(), "secret");
        assert_eq!(Kind::Config.plural(), "configs");
    }

    #[test]
    fn report_display() {
        let mut r = CleanupReport::default();
        assert_eq!(r.to_string(), "removed nothing");
        assert!(r.is_clean());
        for (kind, id) in [
            (Kind::Container, "c1"),
            (Kind::Container, "c2"),
            (Kind::Network, "n1"),
        ] {
            r.removed.push(Removed {
                kind,
                id: id.into(),
                run: "r".into(),
            });
        }
        r.failed.push(Failure {
            kind: Kind::Volume,
            id: Some("v1".into()),
            error: "conflict: volume is in use".into(),
        });
        r.failed.push(Failure {
            kind: Kind::Image,
            id: None,
            error: "transport: boom".into(),
        });
        assert_eq!(
            r.to_string(),
            "removed 2 containers, 1 network; failed: volume v1: conflict: volume is in use; \
             listing images: transport: boom"
        );
        assert!(!r.is_clean());
        assert_eq!(r.removed_ids(Kind::Container), ["c1", "c2"]);
    }
}
