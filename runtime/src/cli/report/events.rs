//! `tug run --json`: one JSON object per line, each with `event` (its kind) and `time` (RFC 3339, UTC):
//!
//! | event | when | fields |
//! |---|---|---|
//! | `start` | the plugin is about to start | `run`, `plugin`, `policy`, `engine`, `tug` (version) |
//! | `call` | a call ended | `operation`, `area`, `target`, `decision` (`allow`/`deny`); on a denial `rule`, `field`, `reason`; `duration_ms`, `bytes`; `error` when it failed |
//! | `object` | a call made or removed an object, or the cleanup removed (or could not remove) one | `action` (`created`/`removed`/`left`), `kind`, `id`, `by` (`plugin`/`cleanup`), `error` |
//! | `limit` | a limit ended the run | `limit` (`memory`, `cpu_time`, `handles`, `wall_time`), `message` |
//! | `message` | one of tug's own lines (with `--json` on stderr only) | `level` (`error`/`warning`/`note`), `text` |
//! | `exit` | tug is about to exit | `code`, `outcome`, `plugin_code`, `duration_ms`, `calls`, `denied`, `message` |
//!
//! `event` and `time` come first. Every string is masked with the run's secrets. On stderr the events go through the same queue as the
//! plugin's forwarded output (whose lines, not being a terminal's, start with `[plugin] `), so a line
//! that starts with `{` is an event.

use std::{
    borrow::Cow,
    fs::File,
    io::Write,
    os::unix::fs::OpenOptionsExt,
    sync::Mutex,
    time::{Duration, SystemTime},
};

use serde::Serialize;
use serde_json::json;

use super::{JsonTo, Outcome, Tally};
use crate::policy::{
    audit::{rfc3339, AuditEntry, CallFields, Masker},
    operations::Op,
};

/// Writes events where `--json` said.
pub struct Writer {
    file: Option<Mutex<File>>,
    masker: Masker,
}

impl Writer {
    /// Opens the destination (a file is created or truncated, mode 0600).
    pub fn open(to: &JsonTo, masker: Masker) -> anyhow::Result<Self> {
        let file = match to {
            JsonTo::Stderr => None,
            JsonTo::File(path) => {
                let fail = |e: std::io::Error| anyhow::anyhow!("--json {}: {e}", path.display());
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(fail)?;
                // An existing file others may read is made private first, as `--audit`'s is.
                let meta = file.metadata().map_err(fail)?;
                if meta.is_file() && std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o077 != 0
                {
                    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
                        .map_err(fail)?;
                }
                Some(Mutex::new(file))
            }
        };
        Ok(Writer { file, masker })
    }

    fn m<'a>(&self, s: &'a str) -> Cow<'a, str> {
        self.masker.mask(s)
    }

    /// Writes one event: `event` and `time` first, then `fields` (a serialized object), as one line.
    fn write(&self, event: &str, fields: impl Serialize) {
        let head = format!(
            "{{\"event\":{},\"time\":{}",
            serde_json::Value::from(event),
            serde_json::Value::from(rfc3339(SystemTime::now()))
        );
        let rest = serde_json::to_string(&fields).unwrap_or_default();
        let text = match rest.strip_prefix('{').filter(|r| *r != "}") {
            Some(r) => format!("{head},{r}"),
            None => format!("{head}}}"),
        };
        match &self.file {
            None => crate::host::output::say(&text),
            Some(file) => {
                let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = f.write_all(format!("{text}\n").as_bytes()) {
                    tracing::warn!("writing a --json event: {e}");
                }
            }
        }
    }

    /// `start`.
    pub fn start(&self, run: &str, plugin: &str, policy: &str, engine: &str) {
        self.write(
            "start",
            json!({
                "run": run,
                "plugin": self.m(plugin),
                "policy": self.m(policy),
                "engine": self.m(engine),
                "tug": env!("CARGO_PKG_VERSION"),
            }),
        );
    }

    /// `call`: the audit line's fields, and the call's policy area.
    pub fn call(&self, e: &AuditEntry<'_>) {
        #[derive(Serialize)]
        struct Call<'a> {
            area: &'static str,
            #[serde(flatten)]
            fields: CallFields<'a>,
        }
        let call = Call {
            area: Op::from_id(e.operation).map_or("other", |op| op.area().key()),
            fields: CallFields::of(&self.masker, e),
        };
        self.write("call", call);
    }

    /// `object`.
    pub fn object(&self, o: Object<'_>) {
        let mut fields = json!({
            "action": o.action,
            "kind": o.kind,
            "id": o.id.map(|i| self.m(i)),
            "by": o.by,
        });
        if let Some(engine) = o.engine {
            fields["engine"] = engine.into();
        }
        let error = o.error;
        if let Some(error) = error {
            fields["error"] = self.m(error).into();
        }
        self.write("object", fields);
    }

    /// `limit`.
    pub fn limit(&self, limit: &str, message: &str) {
        self.write("limit", json!({ "limit": limit, "message": self.m(message) }));
    }

    /// `message`.
    pub fn message(&self, level: &str, text: &str) {
        self.write("message", json!({ "level": level, "text": self.m(text) }));
    }

    /// `exit`.
    pub fn exit(
        &self,
        outcome: Outcome,
        plugin_code: Option<i32>,
        elapsed: Duration,
        tally: &Tally,
        message: Option<&str>,
    ) {
        self.write(
            "exit",
            json!({
                "code": outcome.code(),
                "outcome": outcome.name(),
                "plugin_code": plugin_code,
                "duration_ms": millis(elapsed),
                "calls": tally.calls,
                "denied": tally.denied,
                "message": message.map(|m| self.m(m)),
            }),
        );
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// An `object` event: `action` (`made`, `removed`, `left`) on an object of `kind` (its `id`) by
/// `by` (`plugin`, `cleanup`), on `engine`, with the `error` of a removal that failed.
pub struct Object<'a> {
    /// `made`, `removed` or `left`.
    pub action: &'a str,
    /// `container`, `network`, `volume`, `image`, …
    pub kind: &'a str,
    /// Its id or name.
    pub id: Option<&'a str>,
    /// `plugin` or `cleanup`.
    pub by: &'a str,
    /// The engine it is on, by the name the run knows it by.
    pub engine: Option<&'a str>,
    /// Why a removal failed.
    pub error: Option<&'a str>,
}
