//! Which engines a command is given: `--engine [NAME=]URL`, `--context [NAME=]CONTEXT`, TLS material per
//! engine (`--tls-dir`, `--tls-ca`, `--tls-cert`, `--tls-key`, each `[NAME=]PATH`), and the policy's
//! `[engines]` table. Without a name a flag is about the default engine (`default`), which is otherwise
//! the environment's (`DOCKER_HOST`, `DOCKER_CONTEXT`, `~/.docker`, as docker-py's `from_env`).

use std::{collections::BTreeMap, path::PathBuf};

use anyhow::{bail, Context};

use crate::{
    engine::{Endpoint, EngineConfig, TlsConfig},
    host::DEFAULT_ENGINE,
    policy::{engines::valid_name, Policy},
};

/// The engine flags (global: every command that reaches an engine reads them).
#[derive(Debug, Default, clap::Args)]
pub struct EngineArgs {
    /// An engine, as a DOCKER_HOST URL (unix://, tcp://, https://, ssh://user@host): without NAME= the
    /// default one (what a plugin's `from_env()` reaches), with it one more that the plugin opens by
    /// name. Repeatable. Default: the environment (DOCKER_HOST, DOCKER_CONTEXT, ~/.docker).
    #[arg(long = "engine", global = true, value_name = "[NAME=]URL")]
    pub engines: Vec<String>,
    /// An engine from a docker CLI context (~/.docker/contexts): `--context CTX` names the engine CTX,
    /// `--context NAME=CTX` names it NAME (`default=CTX`: the default engine). Repeatable.
    #[arg(long = "context", global = true, value_name = "[NAME=]CONTEXT")]
    pub contexts: Vec<String>,
    /// TLS material of an engine from a directory in DOCKER_CERT_PATH layout (ca.pem, cert.pem,
    /// key.pem); turns TLS on for a tcp:// engine. Without NAME=, the default engine.
    #[arg(long = "tls-dir", global = true, value_name = "[NAME=]DIR")]
    pub tls_dirs: Vec<String>,
    /// The CA that signed an engine's certificate (PEM). Without NAME=, the default engine.
    #[arg(long = "tls-ca", global = true, value_name = "[NAME=]FILE")]
    pub tls_ca: Vec<String>,
    /// The client certificate for an engine (PEM). Without NAME=, the default engine.
    #[arg(long = "tls-cert", global = true, value_name = "[NAME=]FILE")]
    pub tls_cert: Vec<String>,
    /// The client key for an engine (PEM). Without NAME=, the default engine.
    #[arg(long = "tls-key", global = true, value_name = "[NAME=]FILE")]
    pub tls_key: Vec<String>,
}

/// `NAME=REST` when what precedes the first `=` is an engine name (a URL, a path or a context name
/// never holds `=` before its scheme or first `/`), else the default engine's `REST`.
fn named(value: &str) -> (String, &str) {
    if let Some((name, rest)) = value.split_once('=') {
        if valid_name(name).is_ok() {
            return (name.to_owned(), rest);
        }
    }
    (DEFAULT_ENGINE.to_owned(), value)
}

/// Where each engine came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The environment (the default engine when no flag gives it).
    Environment,
    /// A flag (`--engine`, `--context`).
    Flag(String),
    /// The policy's `[engines.NAME]`.
    Policy,
}

/// The engines of a command, by name; `default` is always among them.
#[derive(Debug)]
pub struct EngineSet {
    /// Each engine's configuration and where it came from.
    pub engines: BTreeMap<String, (EngineConfig, Source)>,
    /// Engines the policy names that no flag or table entry says where to find.
    pub missing: Vec<String>,
}

impl EngineArgs {
    /// The engines the flags and (for `tug run`) the policy give.
    pub fn resolve(&self, policy: Option<&Policy>) -> anyhow::Result<EngineSet> {
        let mut engines: BTreeMap<String, (EngineConfig, Source)> = BTreeMap::new();
        let mut from_flags: BTreeMap<String, String> = BTreeMap::new();
        let mut add = |name: String, flag: String, cfg: EngineConfig| -> anyhow::Result<()> {
            if let Some(earlier) = from_flags.get(&name) {
                bail!("{flag}: engine {name} is already given by {earlier}");
            }
            from_flags.insert(name.clone(), flag.clone());
            engines.insert(name, (cfg, Source::Flag(flag)));
            Ok(())
        };
        for value in &self.engines {
            let (name, url) = named(value);
            let flag = format!("--engine {value}");
            let cfg = EngineConfig::from_url(url).with_context(|| flag.clone())?;
            add(name, flag, cfg)?;
        }
        for value in &self.contexts {
            let (name, ctx) = match value.split_once('=') {
                Some(_) => named(value),
                None => {
                    valid_name(value)
                        .map_err(anyhow::Error::msg)
                        .context("--context")?;
                    (value.clone(), value.as_str())
                }
            };
            let flag = format!("--context {value}");
            let cfg = EngineConfig::from_context(ctx).with_context(|| flag.clone())?;
            add(name, flag, cfg)?;
        }
        let mut missing = Vec::new();
        if let Some(policy) = policy {
            for (name, entry) in &policy.engines {
                let what = |e: String| anyhow::anyhow!("policy {}: {e}", policy.name);
                match engines.get_mut(name) {
                    // A flag gives it: the table's TLS material and ssh options still apply to it.
                    Some((cfg, _)) if entry.url.is_none() && entry.context.is_none() => {
                        entry.apply(name, cfg).map_err(what)?
                    }
                    Some((_, Source::Flag(flag))) => {
                        let flag = flag.clone();
                        tracing::info!("{flag} replaces [engines.{name}] of policy {}", policy.name);
                    }
                    Some(_) => {}
                    None => match entry.config(name).map_err(what)? {
                        Some(cfg) => {
                            engines.insert(name.clone(), (cfg, Source::Policy));
                        }
                        None => missing.push(name.clone()),
                    },
                }
            }
        }
        if !engines.contains_key(DEFAULT_ENGINE) {
            engines.insert(
                DEFAULT_ENGINE.to_owned(),
                (EngineConfig::from_env()?, Source::Environment),
            );
        }
        let tls_flags = [
            ("--tls-dir", &self.tls_dirs),
            ("--tls-ca", &self.tls_ca),
            ("--tls-cert", &self.tls_cert),
            ("--tls-key", &self.tls_key),
        ];
        for (flag, values) in tls_flags {
            for value in values {
                let (name, path) = named(value);
                let Some((cfg, _)) = engines.get_mut(&name) else {
                    let given: Vec<&str> = engines.keys().map(String::as_str).collect();
                    bail!(
                        "{flag} {value}: no engine named {name} is given (given: {})",
                        given.join(", ")
                    );
                };
                tls_file(cfg, flag, &name, PathBuf::from(path))?;
            }
        }
        Ok(EngineSet { engines, missing })
    }
}

/// Sets one piece of an engine's TLS material (turning TLS on, with verification).
fn tls_file(cfg: &mut EngineConfig, flag: &str, name: &str, path: PathBuf) -> anyhow::Result<()> {
    if !matches!(cfg.endpoint, Endpoint::Tcp { .. }) {
        bail!(
            "{flag}: engine {name} is {}: TLS is for tcp:// and https:// engines",
            cfg.endpoint
        );
    }
    if !path.exists() {
        bail!(
            "{flag}: engine {name}: {}: no such file or directory",
            path.display()
        );
    }
    let tls = cfg.tls.get_or_insert_with(|| TlsConfig {
        verify: true,
        ..TlsConfig::default()
    });
    match flag {
        "--tls-dir" => {
            let dir = TlsConfig::from_dir(&path, tls.verify);
            if dir.ca.is_none() && dir.cert.is_none() && dir.key.is_none() {
                bail!(
                    "{flag}: engine {name}: {} holds none of ca.pem, cert.pem, key.pem",
                    path.display()
                );
            }
            tls.ca = dir.ca.or(tls.ca.take());
            tls.cert = dir.cert.or(tls.cert.take());
            tls.key = dir.key.or(tls.key.take());
        }
        "--tls-ca" => tls.ca = Some(path),
        "--tls-cert" => tls.cert = Some(path),
        _ => tls.key = Some(path),
    }
    Ok(())
}

impl EngineSet {
    /// The default engine's configuration.
    pub fn default_config(&self) -> &EngineConfig {
        &self.engines[DEFAULT_ENGINE].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(engines: &[&str]) -> EngineArgs {
        EngineArgs {
            engines: engines.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn names_urls_and_the_default() {
        let set = args(&["unix:///a.sock", "b=tcp://127.0.0.1:2375", "c=ssh://me@box:22"])
            .resolve(None)
            .unwrap();
        let names: Vec<&str> = set.engines.keys().map(String::as_str).collect();
        assert_eq!(names, ["b", "c", "default"]);
        assert_eq!(set.default_config().endpoint, Endpoint::Unix("/a.sock".into()));
        let err = args(&["b=unix:///x", "b=unix:///y"]).resolve(None).unwrap_err();
        assert!(format!("{err:#}").contains("engine b is already given by --engine b=unix:///x"));
        let err = args(&["b=ftp://x"]).resolve(None).unwrap_err();
        assert!(format!("{err:#}").starts_with("--engine b=ftp://x"), "{err:#}");
    }

    #[test]
    fn tls_flags_name_their_engine() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), "x").unwrap();
        let mut a = args(&["b=tcp://127.0.0.1:2376", "unix:///d.sock"]);
        a.tls_dirs = vec![format!("b={}", dir.path().display())];
        let set = a.resolve(None).unwrap();
        let tls = set.engines["b"].0.tls.clone().unwrap();
        assert!(tls.verify && tls.ca.is_some() && tls.cert.is_none());
        a.tls_ca = vec![format!("{}/ca.pem", dir.path().display())];
        let err = format!("{:#}", a.resolve(None).unwrap_err());
        assert!(err.contains("engine default is unix:///d.sock"), "{err}");
        a.tls_ca = vec![format!("zz={}/ca.pem", dir.path().display())];
        let err = format!("{:#}", a.resolve(None).unwrap_err());
        assert!(err.contains("no engine named zz"), "{err}");
    }

    #[test]
    fn the_policy_table_gives_engines_and_flags_win() {
        let p = Policy::parse(
            "name = \"p\"\n[engines.b]\nurl = \"tcp://127.0.0.1:2375\"\n[engines.c]\n[engines.d]\nurl = \"unix:///d.sock\"\n[engines.d.policy.quota]\ncontainers = 1\n",
        )
        .unwrap();
        let set = args(&["unix:///a.sock", "d=unix:///flag.sock"])
            .resolve(Some(&p))
            .unwrap();
        assert_eq!(set.missing, ["c"]);
        assert_eq!(set.engines["b"].1, Source::Policy);
        assert_eq!(set.engines["d"].0.endpoint, Endpoint::Unix("/flag.sock".into()));
        let p = std::sync::Arc::new(p);
        assert_eq!(p.for_engine("d").quota.containers, 1);
        assert_eq!(p.for_engine("d").name, "p[engines.d]");
        assert_eq!(p.for_engine("b").name, "p");
    }
}
