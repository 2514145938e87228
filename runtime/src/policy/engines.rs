//! The policy's `[engines]`: the engines a run is given besides its default one, where each is and how
//! to reach it (TLS material, ssh options — which the plugin never sees), and the policy each is held
//! to (the file's own, with the engine's `policy` table laid over it).
//!
//! ```toml
//! [engines.build]
//! url = "https://10.0.0.5:2376"
//! cert_path = "/etc/tug/build"        # ca.pem, cert.pem, key.pem (DOCKER_CERT_PATH layout)
//! [engines.build.policy.quota]
//! containers = 4                      # this engine's quota; every other rule is the file's
//!
//! [engines.edge]
//! context = "edge"                    # a docker CLI context
//! ```
//!
//! The older form `engines = ["build"]` names engines the command line gives (`--engine build=URL`).

use std::{collections::BTreeMap, path::PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::engine::{Endpoint, EngineConfig, TlsConfig};

/// Keys of a policy that hold for the whole run, never for one engine: an engine's `policy` table may
/// not set them.
const RUN_WIDE: &[&str] = &[
    "name",
    "engines",
    "wasm",
    "preopens",
    "env",
    "registry",
    "require_engine",
];

/// One engine of the policy's `[engines]` table.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EngineEntry {
    /// Where it is: `unix://`, `tcp://`, `https://` or `ssh://` (none: the command line gives it, by
    /// `--engine NAME=URL` or `--context`).
    #[serde(default)]
    pub url: Option<String>,
    /// A docker CLI context to read the URL and TLS material from, instead of `url`.
    #[serde(default)]
    pub context: Option<String>,
    /// A directory in `DOCKER_CERT_PATH` layout (`ca.pem`, `cert.pem`, `key.pem`).
    #[serde(default)]
    pub cert_path: Option<PathBuf>,
    /// The CA to verify the daemon with (beats `cert_path`'s).
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// The client certificate (beats `cert_path`'s).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The client key (beats `cert_path`'s).
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Verify the daemon's certificate (default true when TLS is used).
    #[serde(default)]
    pub tls_verify: Option<bool>,
    /// Extra arguments for `ssh` on an `ssh://` engine (e.g. `["-i", "/etc/tug/id_ed25519"]`).
    #[serde(default)]
    pub ssh_options: Vec<String>,
    /// The API version to speak (`auto` by default).
    #[serde(default)]
    pub api_version: Option<String>,
    /// The policy this engine is held to: these keys laid over the file's own (a table replaces only
    /// the keys it names, at every depth).
    #[serde(default)]
    pub policy: Option<toml::Table>,
}

/// The `engines` key: a list of names (the older form) or a table of [`EngineEntry`].
pub(super) fn deserialize<'de, D>(d: D) -> Result<BTreeMap<String, EngineEntry>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Names(Vec<String>),
        Table(BTreeMap<String, EngineEntry>),
    }
    let map = match Form::deserialize(d)? {
        Form::Names(names) => names.into_iter().map(|n| (n, EngineEntry::default())).collect(),
        Form::Table(t) => t,
    };
    for name in map.keys() {
        valid_name(name).map_err(serde::de::Error::custom)?;
    }
    Ok(map)
}

/// Checks an engine's name: 1–64 of letters, digits, `_`, `.`, `-`, starting with a letter or digit.
pub fn valid_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "engine name {name:?}: expected 1–64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        ))
    }
}

impl EngineEntry {
    /// How to reach the engine, if the entry says where it is (`url` or `context`); `None` when the
    /// command line must give it.
    pub fn config(&self, name: &str) -> Result<Option<EngineConfig>, String> {
        let what = |e: crate::engine::Error| format!("[engines.{name}]: {e}");
        let mut cfg = match (&self.url, &self.context) {
            (Some(_), Some(_)) => return Err(format!("[engines.{name}]: give url or context, not both")),
            (Some(url), None) => EngineConfig::from_url(url).map_err(what)?,
            (None, Some(ctx)) => EngineConfig::from_context(ctx).map_err(what)?,
            (None, None) => return Ok(None),
        };
        self.apply(name, &mut cfg)?;
        Ok(Some(cfg))
    }

    /// Lays the entry's TLS material, ssh options and API version over a configuration.
    pub fn apply(&self, name: &str, cfg: &mut EngineConfig) -> Result<(), String> {
        let tls_given = self.cert_path.is_some()
            || self.tls_ca.is_some()
            || self.tls_cert.is_some()
            || self.tls_key.is_some()
            || self.tls_verify.is_some();
        if tls_given {
            if !matches!(cfg.endpoint, Endpoint::Tcp { .. }) {
                return Err(format!(
                    "[engines.{name}]: TLS settings are for tcp:// and https:// engines, not {}",
                    cfg.endpoint
                ));
            }
            let mut tls = cfg.tls.take().unwrap_or(TlsConfig {
                verify: true,
                ..TlsConfig::default()
            });
            if let Some(dir) = &self.cert_path {
                if !dir.is_dir() {
                    return Err(format!(
                        "[engines.{name}] cert_path {}: not a directory",
                        dir.display()
                    ));
                }
                let from = TlsConfig::from_dir(dir, tls.verify);
                tls.ca = from.ca.or(tls.ca);
                tls.cert = from.cert.or(tls.cert);
                tls.key = from.key.or(tls.key);
            }
            for (slot, given) in [
                (&mut tls.ca, &self.tls_ca),
                (&mut tls.cert, &self.tls_cert),
                (&mut tls.key, &self.tls_key),
            ] {
                if let Some(p) = given {
                    *slot = Some(p.clone());
                }
            }
            if let Some(v) = self.tls_verify {
                tls.verify = v;
            }
            cfg.tls = Some(tls);
        }
        if !self.ssh_options.is_empty() {
            if !matches!(cfg.endpoint, Endpoint::Ssh { .. }) {
                return Err(format!(
                    "[engines.{name}]: ssh_options are for ssh:// engines, not {}",
                    cfg.endpoint
                ));
            }
            cfg.ssh_options = self.ssh_options.clone();
        }
        if let Some(v) = &self.api_version {
            cfg.version = v
                .parse()
                .map_err(|e| format!("[engines.{name}] api_version: {e}"))?;
        }
        Ok(())
    }
}

/// The policy table an engine is held to: `base` (the whole file, parsed) with the engine's `policy`
/// table laid over it, without `engines`. An override may not set a run-wide key.
pub(super) fn overlay(base: &toml::Table, engine: &str, over: &toml::Table) -> Result<toml::Table, String> {
    if let Some(key) = over.keys().find(|k| RUN_WIDE.contains(&k.as_str())) {
        return Err(format!(
            "[engines.{engine}.policy] {key}: holds for the whole run, not for one engine"
        ));
    }
    let mut merged = base.clone();
    merged.remove("engines");
    lay_over(&mut merged, over);
    Ok(merged)
}

fn lay_over(into: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (into.get_mut(k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => lay_over(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for ok in ["b", "build-2", "eu.west_1"] {
            valid_name(ok).unwrap();
        }
        for bad in ["", "-x", "a b", "a=b", "a/b", &"x".repeat(65)] {
            assert!(valid_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_overlay_replaces_only_what_it_names() {
        let base: toml::Table = toml::from_str(
            "name = \"p\"\nengines = [\"b\"]\n[quota]\ncontainers = 10\nvolumes = 5\n[images]\nallow = [\"*\"]\n",
        )
        .unwrap();
        let over: toml::Table = toml::from_str("[quota]\ncontainers = 2\n").unwrap();
        let m = overlay(&base, "b", &over).unwrap();
        assert_eq!(m["quota"]["containers"].as_integer(), Some(2));
        assert_eq!(m["quota"]["volumes"].as_integer(), Some(5));
        assert!(m.get("engines").is_none());
        let over: toml::Table = toml::from_str("[wasm]\nmemory = \"1GiB\"\n").unwrap();
        let err = overlay(&base, "b", &over).unwrap_err();
        assert!(err.contains("[engines.b.policy] wasm"), "{err}");
    }

    #[test]
    fn tls_settings_need_a_tcp_engine() {
        let e = EngineEntry {
            url: Some("unix:///x.sock".into()),
            tls_ca: Some("/ca.pem".into()),
            ..Default::default()
        };
        assert!(e.config("b").unwrap_err().contains("tcp://"));
        let e = EngineEntry {
            url: Some("tcp://127.0.0.1:2376".into()),
            tls_ca: Some("/ca.pem".into()),
            tls_cert: Some("/cert.pem".into()),
            tls_key: Some("/key.pem".into()),
            ..Default::default()
        };
        let cfg = e.config("b").unwrap().unwrap();
        let tls = cfg.tls.unwrap();
        assert!(tls.verify && tls.ca.is_some() && tls.key.is_some());
        assert_eq!(
            EngineEntry::default().config("b").unwrap().map(|c| c.endpoint),
            None
        );
    }
}
