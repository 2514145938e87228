//! Rules of the daemonless `registry` interface: which host directories may become image layers, and how
//! many bytes of new layers a run may stage on the host's disk.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

use serde_json::Value;

use super::{
    canonical::{self, schema::fold},
    gate::{canon_denial, shorten},
    Denial, Gate,
};

/// The largest image config a plugin may set.
pub const MAX_IMAGE_CONFIG: usize = 1 << 20;

/// The keys of an image config (and of its `config`) that matter to ownership, as the daemon's Go decoder
/// matches them: case-insensitively, with Unicode folding, the last duplicate winning.
const CONFIG_KEYS: &[&str] = &["config", "container_config"];
const LABELS_KEY: &str = "Labels";

impl Gate {
    /// Parses and checks an image config a plugin gives (`registry` `set-config`): valid JSON with no
    /// duplicate keys, `config`, `container_config` and their `Labels` spelled exactly (the daemon would
    /// read `Config`, `CONFIG` or `labels` as the same fields), and no `tug.*` label in either.
    pub fn image_config(&self, text: &str) -> Result<Value, Denial> {
        let value = self.image_config_value(text)?;
        for key in CONFIG_KEYS {
            self.check_labels(&value[*key][LABELS_KEY], &format!("{key}.{LABELS_KEY}"))?;
        }
        Ok(value)
    }

    /// Parses an image config as the daemon's decoder would read it, refusing what it would read
    /// otherwise than tug: duplicate keys, and `config`, `container_config` or their `Labels` spelled in
    /// another case. (Labels are not checked: `image_config` does, an image load replaces them.)
    pub fn image_config_value(&self, text: &str) -> Result<Value, Denial> {
        let value = canonical::parse_strict(text.as_bytes(), MAX_IMAGE_CONFIG).map_err(canon_denial)?;
        let Some(top) = value.as_object() else {
            return Err(Denial::field(
                "canonical.wrong-type",
                "",
                "an image config is a JSON object",
            ));
        };
        let variant = |key: &str, exact: &str, at: String| -> Result<(), Denial> {
            if key != exact && fold(key) == fold(exact) {
                return Err(Denial::field(
                    "canonical.case-variant",
                    at,
                    format!(
                        "{} matches {exact} only case-insensitively; the daemon would read it as {exact}",
                        shorten(key)
                    ),
                ));
            }
            Ok(())
        };
        for (key, inner) in top {
            for exact in CONFIG_KEYS {
                variant(key, exact, shorten(key))?;
            }
            if CONFIG_KEYS.contains(&key.as_str()) {
                for inner_key in inner.as_object().into_iter().flatten().map(|(k, _)| k) {
                    variant(inner_key, LABELS_KEY, format!("{key}.{}", shorten(inner_key)))?;
                }
            }
        }
        Ok(value)
    }

    /// Checks that host directory `dir` (symlinks resolved) lies in one the policy lets become a layer
    /// (`registry.layer_dirs`), and returns its real path.
    pub fn layer_dir(&self, dir: &str, field: &str) -> Result<PathBuf, Denial> {
        let refuse = |why: String| Denial::field("registry.layer-dirs", field, why);
        let allowed = &self.policy.registry.layer_dirs;
        if allowed.is_empty() && !self.policy.unrestricted {
            return Err(refuse(format!(
                "host directory {dir}: policy {} lets no host directory become a layer",
                self.policy.name
            )));
        }
        // Resolve symlinks: a granted directory's symlink to / must not pass as the granted directory.
        let real = std::fs::canonicalize(dir)
            .map_err(|e| refuse(format!("host directory {dir}: {e} (it must exist)")))?;
        if !real.is_dir() {
            return Err(refuse(format!("host path {dir} is not a directory")));
        }
        if self.policy.unrestricted {
            return Ok(real);
        }
        for a in allowed {
            if let Ok(base) = std::fs::canonicalize(a) {
                if real.starts_with(&base) {
                    return Ok(real);
                }
            }
        }
        Err(refuse(format!(
            "host directory {dir} (really {}) is outside the directories policy {} grants ({})",
            real.display(),
            self.policy.name,
            allowed
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// The bytes of new layers a run has staged, against `registry.staging`.
#[derive(Debug)]
pub struct StagingBudget {
    limit: u64,
    used: AtomicU64,
}

impl StagingBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        StagingBudget {
            limit,
            used: AtomicU64::new(0),
        }
    }

    /// Charges `bytes`; refuses (charging nothing) when they would pass the limit.
    pub fn charge(&self, bytes: u64) -> Result<(), Denial> {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let next = used.saturating_add(bytes);
            if next > self.limit {
                return Err(Denial::call(
                    "registry.staging",
                    format!(
                        "new layers would take {next} bytes of the host's disk; the policy allows {} in a run",
                        self.limit
                    ),
                ));
            }
            match self
                .used
                .compare_exchange_weak(used, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(now) => used = now,
            }
        }
    }

    /// Returns `bytes` to the budget (a staged layer was dropped).
    pub fn refund(&self, bytes: u64) {
        let _ = self.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
            Some(u.saturating_sub(bytes))
        });
    }

    /// Bytes charged so far.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod config_tests {
    use crate::policy::gate::tests::gate;

    #[test]
    fn image_configs_are_read_as_the_daemon_reads_them() {
        let g = gate("ci");
        let ok = r#"{"architecture":"amd64","os":"linux","config":{"Labels":{"a":"b"},"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        assert!(g.image_config(ok).is_ok());
        for (text, rule, field) in [
            (
                r#"{"config":{"Labels":{"tug.keep":"1"}}}"#,
                "labels.reserved",
                "config.Labels.tug.keep",
            ),
            (
                r#"{"config":{"labels":{"tug.keep":"1"}}}"#,
                "canonical.case-variant",
                "config.labels",
            ),
            (
                r#"{"Config":{"Labels":{"tug.keep":"1"}}}"#,
                "canonical.case-variant",
                "Config",
            ),
            (
                "{\"config\":{\"Label\u{17f}\":{}}}",
                "canonical.case-variant",
                "config.Label\u{17f}",
            ),
            (
                r#"{"container_config":{"Labels":{"TUG.run":"x"}}}"#,
                "labels.reserved",
                "container_config.Labels.TUG.run",
            ),
            (
                r#"{"config":{"Labels":{}},"config":{"Labels":{"tug.keep":"1"}}}"#,
                "canonical.duplicate-key",
                "config",
            ),
        ] {
            let d = g.image_config(text).unwrap_err();
            assert_eq!(
                (d.rule.as_str(), d.field.as_deref()),
                (rule, Some(field)),
                "{text}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::config::Policy;

    fn gate(policy: &str) -> Gate {
        Gate::new(
            std::sync::Arc::new(Policy::parse(policy).unwrap()),
            "run-test".into(),
            Vec::new(),
        )
    }

    #[test]
    fn layer_dirs_are_granted_by_real_path() {
        let granted = tempfile::tempdir().unwrap();
        let inside = granted.path().join("sub");
        std::fs::create_dir(&inside).unwrap();
        let outside = tempfile::tempdir().unwrap();
        let sneaky = granted.path().join("escape");
        std::os::unix::fs::symlink(outside.path(), &sneaky).unwrap();
        let g = gate(&format!(
            "name = \"t\"\n[registry]\nlayer_dirs = [{:?}]\n",
            granted.path().display().to_string()
        ));
        assert!(g.layer_dir(inside.to_str().unwrap(), "host-dir").is_ok());
        let d = g.layer_dir(sneaky.to_str().unwrap(), "host-dir").unwrap_err();
        assert_eq!(d.rule, "registry.layer-dirs");
        assert!(d.reason.contains("really"), "{}", d.reason);
        let d = g.layer_dir("/etc", "host-dir").unwrap_err();
        assert!(d.reason.contains("outside"), "{}", d.reason);
        let none = gate("name = \"u\"\n");
        let d = none.layer_dir(inside.to_str().unwrap(), "host-dir").unwrap_err();
        assert!(d.reason.contains("no host directory"), "{}", d.reason);
    }

    #[test]
    fn staging_budget_refuses_past_the_limit() {
        let b = StagingBudget::new(100);
        b.charge(60).unwrap();
        let d = b.charge(41).unwrap_err();
        assert_eq!(d.rule, "registry.staging");
        assert_eq!(b.used(), 60);
        b.refund(60);
        b.charge(100).unwrap();
    }
}
