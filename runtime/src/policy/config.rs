//! The policy file (TOML) and the built-in profiles `untrusted` (the default of `tug run`), `ci` and
//! `trusted`. See `docs/policy.md` for every key.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

/// How much of an Engine API area a plugin may use.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Nothing.
    #[default]
    None,
    /// Inspect, list, read streams.
    Read,
    /// Everything the other rules allow.
    Write,
}

/// The Engine API areas access is granted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// Ping, version, info, events, data usage, auth.
    System,
    /// Containers.
    Containers,
    /// Exec instances.
    Exec,
    /// Images (not builds).
    Images,
    /// Image builds and the build cache.
    Build,
    /// Registry manifests through the daemon.
    Distribution,
    /// Managed Docker plugins (host-level daemons: write only for trusted plugins).
    Plugins,
    /// Networks (creating them, connecting containers).
    Networks,
    /// Volumes.
    Volumes,
    /// The swarm itself and its nodes (init, join, leave, update, unlock; node updates and removal).
    Swarm,
    /// Swarm services and their tasks.
    Services,
    /// Swarm secrets.
    Secrets,
    /// Swarm configs.
    Configs,
    /// Registries reached by tug itself, without a daemon (pull, edit, save: read; push: write).
    Registry,
}

impl Area {
    /// The key in `[operations]`.
    pub fn key(self) -> &'static str {
        match self {
            Area::System => "system",
            Area::Containers => "containers",
            Area::Exec => "exec",
            Area::Images => "images",
            Area::Build => "build",
            Area::Distribution => "distribution",
            Area::Plugins => "plugins",
            Area::Networks => "networks",
            Area::Volumes => "volumes",
            Area::Swarm => "swarm",
            Area::Services => "services",
            Area::Secrets => "secrets",
            Area::Configs => "configs",
            Area::Registry => "registry",
        }
    }
}

/// `[operations]`: access per area.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    /// System.
    #[serde(default)]
    pub system: Access,
    /// Containers.
    #[serde(default)]
    pub containers: Access,
    /// Exec.
    #[serde(default)]
    pub exec: Access,
    /// Images.
    #[serde(default)]
    pub images: Access,
    /// Build.
    #[serde(default)]
    pub build: Access,
    /// Distribution.
    #[serde(default)]
    pub distribution: Access,
    /// Plugins.
    #[serde(default)]
    pub plugins: Access,
    /// Networks.
    #[serde(default)]
    pub networks: Access,
    /// Volumes.
    #[serde(default)]
    pub volumes: Access,
    /// Swarm and nodes.
    #[serde(default)]
    pub swarm: Access,
    /// Services and tasks.
    #[serde(default)]
    pub services: Access,
    /// Secrets.
    #[serde(default)]
    pub secrets: Access,
    /// Configs.
    #[serde(default)]
    pub configs: Access,
    /// Registries reached without a daemon.
    #[serde(default)]
    pub registry: Access,
}

impl Operations {
    /// The access granted to an area.
    pub fn get(&self, area: Area) -> Access {
        match area {
            Area::System => self.system,
            Area::Containers => self.containers,
            Area::Exec => self.exec,
            Area::Images => self.images,
            Area::Build => self.build,
            Area::Distribution => self.distribution,
            Area::Plugins => self.plugins,
            Area::Networks => self.networks,
            Area::Volumes => self.volumes,
            Area::Swarm => self.swarm,
            Area::Services => self.services,
            Area::Secrets => self.secrets,
            Area::Configs => self.configs,
            Area::Registry => self.registry,
        }
    }
}

/// A list of glob patterns (`*` matches any run of characters, `?` one character).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Patterns {
    /// The patterns.
    #[serde(default)]
    pub allow: Vec<String>,
}

impl Patterns {
    /// Whether any pattern matches.
    pub fn allows(&self, s: &str) -> bool {
        self.allow.iter().any(|p| glob(p.as_bytes(), s.as_bytes()))
    }
}

/// The longest text a pattern is matched against: longer references match nothing (and no reference
/// is that long).
pub const MAX_GLOB_SUBJECT: usize = 4096;

/// Whether `s` matches the glob pattern `p` (`*`: any run of bytes, `?`: one byte). Iterative, with one
/// backtracking point (the last `*`): time O(|p|·|s|) at worst, no recursion, whatever the input.
fn glob(p: &[u8], s: &[u8]) -> bool {
    if s.len() > MAX_GLOB_SUBJECT || p.len() > MAX_GLOB_SUBJECT {
        return false;
    }
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

pub use super::units::{Bytes, Seconds};

/// `[containers]`: what containers may be.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Containers {
    /// Host paths that may be bind-mounted (and anything below them).
    #[serde(default)]
    pub binds: Vec<PathBuf>,
    /// Networks a container may join besides the ones the run owns.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Memory ceiling forced on every container.
    pub memory: Option<Bytes>,
    /// CPU ceiling (in CPUs) forced on every container.
    pub cpus: Option<f64>,
    /// Process-count ceiling forced on every container.
    pub pids: Option<i64>,
    /// Capabilities a container may add (`CAP_` prefix optional, case-insensitive).
    #[serde(default)]
    pub cap_add: Vec<String>,
    /// Whether a published port may name its host port (`HostPort`); otherwise the daemon picks one.
    #[serde(default)]
    pub fixed_host_ports: bool,
    /// The most published ports (`PortBindings` entries) one container may have: each is a proxy process
    /// on the host and a host port out of a shared pool.
    pub ports: Option<u32>,
    /// The largest log file of a container on the host's disk (`json-file`/`local` `max-size`).
    pub log_size: Option<Bytes>,
    /// The most log files a container keeps (`max-file`).
    pub log_files: Option<u32>,
    /// A container's writable layer, where the storage driver can bound it (`StorageOpt.size`).
    pub disk: Option<Bytes>,
}

/// `[quota]`: how many objects one run may own at once.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Containers.
    #[serde(default = "unlimited")]
    pub containers: u32,
    /// Volumes.
    #[serde(default = "unlimited")]
    pub volumes: u32,
    /// Networks.
    #[serde(default = "unlimited")]
    pub networks: u32,
    /// Exec instances one container may hold (the engine keeps each until the container is removed).
    #[serde(default = "unlimited")]
    pub execs: u32,
}

fn unlimited() -> u32 {
    u32::MAX
}

impl Default for Quota {
    fn default() -> Self {
        Quota {
            containers: u32::MAX,
            volumes: u32::MAX,
            networks: u32::MAX,
            execs: u32::MAX,
        }
    }
}

/// `[visibility]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Visibility {
    /// Lists, events and prune see objects the run does not own.
    #[serde(default)]
    pub all: bool,
}

/// `[wasm]`: limits on the plugin itself.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Wasm {
    /// Linear memory, summed over all of the plugin's memories.
    pub memory: Option<Bytes>,
    /// CPU time of running wasm, in seconds.
    pub cpu_time: Option<Seconds>,
    /// Wall-clock time of the whole run, host calls included, in seconds.
    pub wall_time: Option<Seconds>,
    /// Open handles (resources) at once.
    pub handles: Option<u32>,
}

impl Default for Wasm {
    fn default() -> Self {
        Wasm {
            memory: Some(Bytes(1 << 30)),
            cpu_time: None,
            wall_time: None,
            handles: Some(10_000),
        }
    }
}

impl Wasm {
    /// The CPU-time limit.
    pub fn cpu(&self) -> Option<Duration> {
        self.cpu_time.map(|s| s.0)
    }
    /// The wall-time limit.
    pub fn wall(&self) -> Option<Duration> {
        self.wall_time.map(|s| s.0)
    }
}

/// A host directory preopened into the plugin.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Preopen {
    /// The host directory.
    pub host: PathBuf,
    /// Where the plugin sees it.
    pub guest: String,
    /// Read-only (the default) or read-write.
    #[serde(default = "yes")]
    pub read_only: bool,
}

fn yes() -> bool {
    true
}

/// A whole policy.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The policy's name, for messages and the audit log.
    pub name: String,
    /// Skip every rule but canonical bodies and audit (the `trusted` profile).
    #[serde(default)]
    pub unrestricted: bool,
    /// Access per area.
    #[serde(default)]
    pub operations: Operations,
    /// Images containers may be created from, and that may be pulled, pushed or tagged.
    #[serde(default)]
    pub images: Patterns,
    /// Registries images may come from or go to.
    #[serde(default)]
    pub registries: Patterns,
    /// Container rules.
    #[serde(default)]
    pub containers: Containers,
    /// Object quotas.
    #[serde(default)]
    pub quota: Quota,
    /// What lists show.
    #[serde(default)]
    pub visibility: Visibility,
    /// `[engines]`: engines the run is given besides its default one, by name (where each is, how to
    /// reach it, the policy it is held to: `policy/engines.rs`). The older form, a list of names, names
    /// engines the command line gives.
    #[serde(default, deserialize_with = "super::engines::deserialize")]
    pub engines: BTreeMap<String, super::engines::EngineEntry>,
    /// Plugin limits.
    #[serde(default)]
    pub wasm: Wasm,
    /// Host directories preopened into the plugin (none by default).
    #[serde(default)]
    pub preopens: Vec<Preopen>,
    /// Images edited without a daemon (the `registry` interface).
    #[serde(default)]
    pub registry: RegistryRules,
    /// Host environment variables passed to the plugin (none by default).
    #[serde(default)]
    pub env: Vec<String>,
    /// Whether `tug run` refuses to start the plugin when the engine does not answer `/_ping` (the
    /// default); `false` lets a plugin that may do without the engine start anyway.
    #[serde(default = "yes")]
    pub require_engine: bool,
    /// Extra key/value settings, reserved for later rules (ignored).
    #[serde(default, skip)]
    pub extra: BTreeMap<String, String>,
    /// The policy each engine of `[engines]` with a `policy` table is held to (the others are held to
    /// this one), made when the file is read.
    #[serde(skip)]
    pub engine_policies: BTreeMap<String, std::sync::Arc<Policy>>,
}

/// `[registry]`: what the daemonless image functions may read from the host and stage on its disk.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryRules {
    /// Host directories whose contents may become image layers (canonicalized, symlinks resolved).
    /// None by default.
    #[serde(default)]
    pub layer_dirs: Vec<PathBuf>,
    /// Bytes of new layers (compressed, as staged on the host's disk) a run may add in all. Default 1 GiB.
    #[serde(default = "default_staging")]
    pub staging: Bytes,
}

fn default_staging() -> Bytes {
    Bytes(1 << 30)
}

impl Default for RegistryRules {
    fn default() -> Self {
        RegistryRules {
            layer_dirs: Vec::new(),
            staging: default_staging(),
        }
    }
}

/// A TOML error as one line: where (line and column), then what (toml's own text spans several lines,
/// with a drawing of the spot).
fn one_line(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before.len() - start + 1;
            let source: String = text[start..]
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .chars()
                .take(80)
                .collect();
            format!("line {line}, column {column} (`{source}`): {message}")
        }
        None => message,
    }
}

/// The built-in profiles, by name.
pub const PROFILES: &[(&str, &str)] = &[
    ("untrusted", include_str!("profiles/untrusted.toml")),
    ("ci", include_str!("profiles/ci.toml")),
    ("trusted", include_str!("profiles/trusted.toml")),
];

impl Policy {
    /// Parses a policy file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut policy: Policy = toml::from_str(text).map_err(|e| one_line(text, &e))?;
        policy.check_numbers()?;
        let overrides: Vec<(&String, &toml::Table)> = policy
            .engines
            .iter()
            .filter_map(|(n, e)| e.policy.as_ref().map(|t| (n, t)))
            .collect();
        if !overrides.is_empty() {
            let base: toml::Table = toml::from_str(text).map_err(|e| one_line(text, &e))?;
            let mut made = BTreeMap::new();
            for (engine, over) in overrides {
                let table = super::engines::overlay(&base, engine, over)?;
                let mut p: Policy = toml::Value::Table(table)
                    .try_into()
                    .map_err(|e: toml::de::Error| format!("[engines.{engine}.policy]: {}", e.message()))?;
                p.check_numbers()
                    .map_err(|e| format!("[engines.{engine}.policy]: {e}"))?;
                p.name = format!("{}[engines.{engine}]", policy.name);
                made.insert(engine.clone(), std::sync::Arc::new(p));
            }
            policy.engine_policies = made;
        }
        Ok(policy)
    }

    /// The policy engine `name` is held to: its own (`[engines.NAME.policy]` laid over this one), or
    /// this one.
    pub fn for_engine(self: &std::sync::Arc<Self>, name: &str) -> std::sync::Arc<Policy> {
        self.engine_policies
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.clone())
    }

    /// Numbers the types let through that mean nothing as a ceiling: CPUs that are not a positive finite
    /// count, a process ceiling of zero or less (the daemon reads -1 as no limit).
    fn check_numbers(&self) -> Result<(), String> {
        if let Some(cpus) = self.containers.cpus {
            if !(cpus.is_finite() && cpus > 0.0 && cpus <= 1024.0) {
                return Err(format!(
                    "[containers] cpus = {cpus}: expected a number of CPUs above 0, at most 1024"
                ));
            }
        }
        if let Some(pids) = self.containers.pids {
            if pids <= 0 {
                return Err(format!(
                    "[containers] pids = {pids}: expected a positive process count (the daemon reads 0 and \
                     -1 as no limit)"
                ));
            }
        }
        Ok(())
    }

    /// A built-in profile.
    pub fn profile(name: &str) -> Result<Self, String> {
        let (_, text) = PROFILES
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("no built-in policy {name:?} (untrusted, ci, trusted)"))?;
        Self::parse(text).map_err(|e| format!("built-in policy {name}: {e}"))
    }

    /// A profile name or a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Self, String> {
        if PROFILES.iter().any(|(n, _)| *n == name_or_path) {
            return Self::profile(name_or_path);
        }
        let text =
            std::fs::read_to_string(name_or_path).map_err(|e| format!("policy file {name_or_path}: {e}"))?;
        Self::parse(&text).map_err(|e| format!("policy file {name_or_path}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse() {
        for (name, _) in PROFILES {
            let p = Policy::profile(name).unwrap();
            assert_eq!(&p.name, name);
        }
        let u = Policy::profile("untrusted").unwrap();
        assert_eq!(u.operations.get(Area::Build), Access::None);
        for p in ["untrusted", "ci", "trusted"] {
            let ops = Policy::profile(p).unwrap().operations;
            assert_eq!(ops.get(Area::Networks), Access::Write, "{p}");
            assert_eq!(ops.get(Area::Volumes), Access::Write, "{p}");
        }
        assert_eq!(u.containers.memory, Some(Bytes(512 << 20)));
        assert!(u.containers.binds.is_empty() && !u.unrestricted);
        assert!(Policy::profile("trusted").unwrap().unrestricted);
        let plugins = [
            ("untrusted", Access::None),
            ("ci", Access::None),
            ("trusted", Access::Write),
        ];
        for (p, want) in plugins {
            let ops = Policy::profile(p).unwrap().operations;
            assert_eq!(ops.get(Area::Plugins), want, "{p}");
        }
        assert!(Policy::profile("nope").is_err());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = Policy::parse("name = \"x\"\n[containers]\nprivileged = true\n").unwrap_err();
        assert!(e.contains("privileged"), "{e}");
    }

    #[test]
    fn bad_numbers_are_refused_by_name() {
        for (section, line, names) in [
            ("wasm", "cpu_time = -1.0", "cpu_time"),
            ("wasm", "cpu_time = inf", "cpu_time"),
            ("wasm", "cpu_time = 1e20", "cpu_time"),
            ("wasm", "wall_time = nan", "wall_time"),
            ("wasm", "wall_time = 1e20", "wall_time"),
            ("wasm", "wall_time = 0", "wall_time"),
            ("wasm", "memory = 5", "memory"),
            ("wasm", "memory = \"5\"", "memory"),
            ("containers", "cpus = nan", "cpus"),
            ("containers", "cpus = -2.0", "cpus"),
            ("containers", "pids = -1", "pids"),
            ("containers", "log_size = 10", "log_size"),
        ] {
            let text = format!("name = \"x\"\n[{section}]\n{line}\n");
            let e = Policy::parse(&text).expect_err(line);
            assert!(e.contains(names), "{line}: {e}");
            // One line, saying where (toml's errors) or which section (the checks after parsing).
            assert!(!e.contains('\n'), "{line}: {e}");
            assert!(
                e.starts_with("line 3,") || e.starts_with(&format!("[{section}]")),
                "{line}: {e}"
            );
        }
        let ok =
            Policy::parse("name = \"x\"\n[wasm]\ncpu_time = 60\nwall_time = 0.5\nmemory = \"5B\"\n").unwrap();
        assert_eq!(ok.wasm.cpu(), Some(Duration::from_secs(60)));
        assert_eq!(ok.wasm.wall(), Some(Duration::from_millis(500)));
        assert_eq!(ok.wasm.memory, Some(Bytes(5)));
        assert!(ok.require_engine);
    }

    #[test]
    fn sizes_and_globs() {
        assert_eq!("2GiB".parse::<Bytes>().unwrap(), Bytes(2 << 30));
        assert_eq!("100MB".parse::<Bytes>().unwrap(), Bytes(100_000_000));
        assert!("12 parsecs".parse::<Bytes>().is_err());
        let p = Patterns {
            allow: vec!["tug-test/*".into(), "127.0.0.1:5000/*".into()],
        };
        assert!(p.allows("tug-test/busybox:latest"));
        assert!(p.allows("127.0.0.1:5000/a/b:c"));
        assert!(!p.allows("docker.io/library/alpine"));
        assert!(!p.allows("tug-test"));
        for (pat, text, want) in [
            ("*", "", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*x", "yyyx", true),
            ("**a", "a", true),
            ("", "", true),
            ("", "a", false),
        ] {
            assert_eq!(glob(pat.as_bytes(), text.as_bytes()), want, "{pat} {text}");
        }
    }

    /// A megabyte of input neither recurses nor takes long (the old matcher recursed once per byte).
    #[test]
    fn globs_of_huge_input_are_bounded() {
        let p = Patterns {
            allow: vec!["tug-test/*".into(), "*a*a*a*a*b".into()],
        };
        let huge = format!("tug-test/{}", "a".repeat(1 << 20));
        let started = std::time::Instant::now();
        let matched = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || p.allows(&huge))
            .unwrap()
            .join()
            .unwrap();
        assert!(!matched, "longer than any reference: matches nothing");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let near = "a".repeat(MAX_GLOB_SUBJECT);
        assert!(!glob(b"*a*a*a*a*b", near.as_bytes()));
    }
}
