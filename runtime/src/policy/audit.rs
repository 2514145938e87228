//! The audit log — one JSON line per Engine API call a plugin made, allowed or denied — and the masking
//! of secrets in it and in the plugin's forwarded output.
//!
//! A line:
//!
//! ```json
//! {"time":"2024-02-29T12:34:56.123Z","plugin":"lifecycle","run":"3f9c0a1b2c3d4e5f",
//!  "operation":"ContainerCreate","target":null,"decision":"deny","rule":"containers.binds",
//!  "field":"HostConfig.Binds[0]","reason":"bind mount of /etc is not allowed","duration_ms":0,"bytes":0}
//! ```
//!
//! `rule`, `field` and `reason` appear on denials only (`field` may be null); `error` only when the engine
//! call failed. Every string is masked with the run's [`Masker`] before it is written.

use std::{
    borrow::Cow,
    fs::{File, OpenOptions},
    io::{self, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

/// What a masked secret is replaced with.
pub const MASK: &str = "***";

/// Secrets shorter than this are not masked (they would mask ordinary text).
pub const MIN_SECRET_LEN: usize = 4;

/// What the gate decided about one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision<'a> {
    /// The call was allowed (and made).
    Allow,
    /// The call was denied.
    Deny {
        /// The policy rule that denied it, e.g. `containers.binds`.
        rule: &'a str,
        /// The request field at fault, e.g. `HostConfig.Binds[0]`, if there is one.
        field: Option<&'a str>,
        /// Why, in words.
        reason: &'a str,
    },
}

/// One call, as the audit log records it.
#[derive(Clone, Copy, Debug)]
pub struct AuditEntry<'a> {
    /// The plugin's name.
    pub plugin: &'a str,
    /// The run id (`tug.run`).
    pub run: &'a str,
    /// The Engine API operationId, e.g. `ContainerCreate`.
    pub operation: &'a str,
    /// The engine the call went to, by the name the run knows it by (none for a call that reaches no
    /// engine: the daemonless registry, an image being edited).
    pub engine: Option<&'a str>,
    /// The object the call is about (id or name), if any.
    pub target: Option<&'a str>,
    /// Allowed or denied, and why.
    pub decision: Decision<'a>,
    /// How long the call took (0 for a denial).
    pub duration: Duration,
    /// Bytes streamed (0 for JSON calls).
    pub bytes: u64,
    /// The engine's error, if the call failed.
    pub error: Option<&'a str>,
}

/// The serialized form, fields in this order.
#[derive(Serialize)]
struct Line<'a> {
    time: String,
    plugin: Cow<'a, str>,
    run: Cow<'a, str>,
    #[serde(flatten)]
    call: CallFields<'a>,
}

/// A call as tug writes it (the audit line's and `tug run --json`'s `call` event's fields, in this
/// order), every string masked: `operation`, `engine` (for an engine's call), `target`, `decision`; on a
/// denial `rule`, `field`,
/// `reason`; `duration_ms`, `bytes`; `error` when an allowed call failed.
#[derive(Serialize)]
pub struct CallFields<'a> {
    operation: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    engine: Option<&'a str>,
    target: Option<Cow<'a, str>>,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<Option<Cow<'a, str>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Cow<'a, str>>,
    duration_ms: u64,
    bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Cow<'a, str>>,
}

impl<'a> CallFields<'a> {
    /// The fields of `entry`, masked with `masker`.
    pub fn of(masker: &Masker, entry: &AuditEntry<'a>) -> Self {
        let m = |s: &'a str| masker.mask(s);
        let (decision, rule, field, reason) = match entry.decision {
            Decision::Allow => ("allow", None, None, None),
            Decision::Deny { rule, field, reason } => {
                ("deny", Some(m(rule)), Some(field.map(m)), Some(m(reason)))
            }
        };
        CallFields {
            operation: m(entry.operation),
            engine: entry.engine,
            target: entry.target.map(m),
            decision,
            rule,
            field,
            reason,
            duration_ms: u64::try_from(entry.duration.as_millis()).unwrap_or(u64::MAX),
            bytes: entry.bytes,
            error: entry.error.map(m),
        }
    }
}

/// An append-only JSON-lines audit file, shared by every call of a run (or of several runs).
///
/// Each line goes to the file in one `write` on an `O_APPEND` descriptor as soon as it is recorded, so a
/// crash of tug loses none (nothing is buffered in the process) and lines from several processes do not
/// interleave. A record is one small write under a mutex: fine to do from async code.
#[derive(Debug)]
pub struct AuditLog {
    file: Mutex<File>,
    masker: Masker,
    path: PathBuf,
}

impl AuditLog {
    /// Opens (creating it with mode 0600 if it does not exist) `path` for appending. An existing regular
    /// file that others may read or write is made private (0600) first: the log names what plugins did,
    /// with their targets. Every string written is masked with `masker`.
    pub fn open(path: impl AsRef<Path>, masker: Masker) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| io::Error::new(e.kind(), format!("making it private (mode 0600): {e}")))?;
        }
        Ok(AuditLog {
            file: Mutex::new(file),
            masker: masker.stream(),
            path: path.to_owned(),
        })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a call made (or refused) now.
    pub fn record(&self, entry: &AuditEntry<'_>) -> io::Result<()> {
        self.record_at(SystemTime::now(), entry)
    }

    /// Records a call with an explicit time.
    pub fn record_at(&self, time: SystemTime, entry: &AuditEntry<'_>) -> io::Result<()> {
        let mut line = self.line(time, entry);
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(line.as_bytes())
    }

    /// The JSON line (without its newline) an entry becomes.
    pub fn line(&self, time: SystemTime, entry: &AuditEntry<'_>) -> String {
        let line = Line {
            time: rfc3339(time),
            plugin: self.masker.mask(entry.plugin),
            run: self.masker.mask(entry.run),
            call: CallFields::of(&self.masker, entry),
        };
        // Strings, integers and a &'static str: serializing cannot fail.
        serde_json::to_string(&line).unwrap_or_default()
    }
}

/// Formats a time as RFC 3339 in UTC with milliseconds: `2024-02-29T12:34:56.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let ms: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    };
    let secs = ms.div_euclid(1000) as i64;
    let millis = ms.rem_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Byte tables of a set of secrets.
#[derive(Debug)]
struct ByteSets {
    /// Bytes a secret starts with.
    first: [bool; 256],
    /// Bytes that occur in a secret.
    any: [bool; 256],
}

/// Replaces every occurrence of a secret with [`MASK`], in text ([`Masker::mask`]) or in a stream of
/// chunks ([`Masker::mask_stream`] then [`Masker::finish`]).
///
/// Overlapping or adjacent occurrences (of one secret or several) become a single `***`, so no part of a
/// secret is left showing. Secrets shorter than [`MIN_SECRET_LEN`] are ignored.
///
/// One `Masker` per stream: [`Masker::stream`] gives a fresh one with the same secrets (cheap: the
/// secrets are shared).
#[derive(Clone, Debug)]
pub struct Masker {
    secrets: Arc<[Box<[u8]>]>,
    /// Which bytes start a secret, and which occur in one.
    bytes: Arc<ByteSets>,
    max_len: usize,
    // Stream state.
    /// Bytes held back: a secret may continue in the next chunk.
    tail: Vec<u8>,
    /// How many of `tail`'s first bytes are covered by an occurrence that began before it.
    carry: usize,
    /// Whether the last byte written out was masked (the next masked byte continues the same `***`).
    in_mask: bool,
}

impl Default for Masker {
    /// A masker with no secrets: masks nothing.
    fn default() -> Self {
        Masker::new(std::iter::empty::<&str>())
    }
}

impl Masker {
    /// A masker for these secrets (shorter than [`MIN_SECRET_LEN`] are left out; duplicates merged).
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list: Vec<Box<[u8]>> = secrets
            .into_iter()
            .filter(|s| s.as_ref().len() >= MIN_SECRET_LEN)
            .map(|s| s.as_ref().as_bytes().into())
            .collect();
        list.sort();
        list.dedup();
        let mut bytes = ByteSets {
            first: [false; 256],
            any: [false; 256],
        };
        for s in &list {
            bytes.first[s[0] as usize] = true;
            for b in s.iter() {
                bytes.any[*b as usize] = true;
            }
        }
        Masker {
            max_len: list.iter().map(|s| s.len()).max().unwrap_or(0),
            secrets: list.into(),
            bytes: Arc::new(bytes),
            tail: Vec::new(),
            carry: 0,
            in_mask: false,
        }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// A masker with the same secrets and a fresh stream state.
    pub fn stream(&self) -> Masker {
        Masker {
            secrets: self.secrets.clone(),
            bytes: self.bytes.clone(),
            max_len: self.max_len,
            tail: Vec::new(),
            carry: 0,
            in_mask: false,
        }
    }

    /// Every occurrence `(start, end)` of a secret in `buf`, in order of start.
    fn occurrences<'b>(&'b self, buf: &'b [u8]) -> impl Iterator<Item = (usize, usize)> + 'b {
        buf.iter().enumerate().flat_map(move |(i, b)| {
            let candidates: &[Box<[u8]>] = if self.bytes.first[*b as usize] {
                &self.secrets
            } else {
                &[]
            };
            candidates
                .iter()
                .filter(move |s| buf[i..].starts_with(s))
                .map(move |s| (i, i + s.len()))
        })
    }

    /// Writes `buf[..upto]` to `out`, masking covered bytes; `in_mask` carries across calls.
    fn emit(buf: &[u8], covered: &[bool], upto: usize, in_mask: &mut bool, out: &mut Vec<u8>) {
        for (b, c) in buf[..upto].iter().zip(covered) {
            if *c {
                if !*in_mask {
                    out.extend_from_slice(MASK.as_bytes());
                    *in_mask = true;
                }
            } else {
                out.push(*b);
                *in_mask = false;
            }
        }
    }

    /// `buf`'s bytes covered by an occurrence (or by the first `carry` bytes).
    fn coverage(&self, buf: &[u8], carry: usize) -> Vec<bool> {
        let mut covered = vec![false; buf.len()];
        covered[..carry.min(buf.len())].fill(true);
        for (s, e) in self.occurrences(buf) {
            covered[s..e].fill(true);
        }
        covered
    }

    /// `data` with every secret masked (borrowed when there is none).
    pub fn mask_bytes<'a>(&self, data: &'a [u8]) -> Cow<'a, [u8]> {
        if self.occurrences(data).next().is_none() {
            return Cow::Borrowed(data);
        }
        let covered = self.coverage(data, 0);
        let mut out = Vec::with_capacity(data.len());
        Self::emit(data, &covered, data.len(), &mut false, &mut out);
        Cow::Owned(out)
    }

    /// `text` with every secret masked (borrowed when there is none).
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.mask_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Secrets are whole UTF-8 strings, so what remains is still UTF-8.
            Cow::Owned(v) => Cow::Owned(
                String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()),
            ),
        }
    }

    /// Masks the next chunk of a stream. What could be the start of a secret that continues in the next
    /// chunk is held back until the next call or [`Masker::finish`]: at most the longest secret's length
    /// minus one bytes, and nothing up to the last byte that occurs in no secret (a newline, usually),
    /// so line-by-line output is never held back.
    pub fn mask_stream(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.secrets.is_empty() {
            return chunk.to_vec();
        }
        let mut buf = std::mem::take(&mut self.tail);
        buf.extend_from_slice(chunk);
        // Everything before `cut` is final: an occurrence covering it starts early enough to be whole,
        // or ends before a byte no secret contains.
        let cut = buf.len().saturating_sub(self.max_len - 1);
        let cut = buf
            .iter()
            .rposition(|b| !self.bytes.any[*b as usize])
            .map_or(cut, |i| cut.max(i + 1));
        let covered = self.coverage(&buf, self.carry);
        let mut out = Vec::with_capacity(cut + MASK.len());
        Self::emit(&buf, &covered, cut, &mut self.in_mask, &mut out);
        // Occurrences that began before the cut and reach past it cover the start of the new tail; the
        // ones that begin after it will be found again.
        let reach = self
            .occurrences(&buf)
            .filter(|(s, _)| *s < cut)
            .map(|(_, e)| e)
            .max()
            .unwrap_or(0)
            .max(self.carry);
        self.carry = reach.saturating_sub(cut);
        self.tail = buf.split_off(cut);
        out
    }

    /// Ends the stream: the bytes held back, masked. The masker is then ready for a new stream.
    pub fn finish(&mut self) -> Vec<u8> {
        let tail = std::mem::take(&mut self.tail);
        let covered = self.coverage(&tail, self.carry);
        let mut out = Vec::with_capacity(tail.len());
        Self::emit(&tail, &covered, tail.len(), &mut self.in_mask, &mut out);
        self.carry = 0;
        self.in_mask = false;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis)
    }

    #[test]
    fn rfc3339_known_times() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(at(951_782_400, 0)), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(at(1_709_210_096, 123)), "2024-02-29T12:34:56.123Z");
        assert_eq!(rfc3339(at(1_234_567_890, 7)), "2009-02-13T23:31:30.007Z");
        assert_eq!(rfc3339(at(4_102_444_799, 999)), "2099-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(at(253_402_300_799, 0)), "9999-12-31T23:59:59.000Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
            "1969-12-31T23:59:59.000Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(86_400)),
            "1969-12-31T00:00:00.000Z"
        );
        // Sub-millisecond parts are truncated.
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_micros(1_999)),
            "1970-01-01T00:00:00.001Z"
        );
        // Every day boundary of four centuries round-trips through the calendar.
        let mut expected = (1970i64, 1u32, 1u32);
        for day in 0..146_097 {
            assert_eq!(civil_from_days(day), expected, "day {day}");
            let (y, m, d) = expected;
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            expected = if d < len {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        let now = rfc3339(SystemTime::now());
        assert_eq!(now.len(), 24, "{now}");
    }

    fn lines(path: &Path) -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect()
    }

    #[test]
    fn audit_lines() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path, Masker::new(["hunter22", "s3cr3t-token"])).unwrap();
        assert_eq!(log.path(), path);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // An existing file others could read is made private.
        let shared = dir.path().join("shared.jsonl");
        std::fs::write(&shared, "").unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
        AuditLog::open(&shared, Masker::new([""; 0])).unwrap();
        assert_eq!(
            std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777,
            0o600
        );
        log.record_at(
            at(1_709_210_096, 123),
            &AuditEntry {
                plugin: "lifecycle",
                run: "0123456789abcdef",
                operation: "ContainerCreate",
                engine: None,
                target: None,
                decision: Decision::Allow,
                duration: Duration::from_micros(12_345),
                bytes: 0,
                error: None,
            },
        )
        .unwrap();
        log.record(&AuditEntry {
            plugin: "lifecycle",
            run: "0123456789abcdef",
            operation: "ContainerCreate",
            engine: None,
            target: Some("web"),
            decision: Decision::Deny {
                rule: "containers.env",
                field: Some("Env[0]"),
                reason: "PASSWORD=hunter22 is not allowed",
            },
            duration: Duration::ZERO,
            bytes: 0,
            error: None,
        })
        .unwrap();
        log.record(&AuditEntry {
            plugin: "images",
            run: "0123456789abcdef",
            operation: "ImageCreate",
            engine: None,
            target: Some("tug-test/busybox:latest"),
            decision: Decision::Deny {
                rule: "images",
                field: None,
                reason: "not allowed",
            },
            duration: Duration::ZERO,
            bytes: 0,
            error: None,
        })
        .unwrap();
        log.record(&AuditEntry {
            plugin: "images",
            run: "0123456789abcdef",
            operation: "ImagePush",
            engine: None,
            target: Some("127.0.0.1:5000/x"),
            decision: Decision::Allow,
            duration: Duration::from_millis(1500),
            bytes: 4096,
            error: Some("unauthorized: token s3cr3t-token rejected \"quoted\""),
        })
        .unwrap();
        drop(log);
        // Reopening appends.
        let log = AuditLog::open(&path, Masker::default()).unwrap();
        log.record(&AuditEntry {
            plugin: "p",
            run: "r",
            operation: "SystemPing",
            engine: None,
            target: None,
            decision: Decision::Allow,
            duration: Duration::ZERO,
            bytes: 0,
            error: None,
        })
        .unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("hunter22") && !text.contains("s3cr3t-token"),
            "{text}"
        );
        let l = lines(&path);
        assert_eq!(l.len(), 5);

        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            r#"{"time":"2024-02-29T12:34:56.123Z","plugin":"lifecycle","run":"0123456789abcdef","operation":"ContainerCreate","target":null,"decision":"allow","duration_ms":12,"bytes":0}"#
        );
        assert_eq!(l[1]["decision"], "deny");
        assert_eq!(l[1]["target"], "web");
        assert_eq!(l[1]["rule"], "containers.env");
        assert_eq!(l[1]["field"], "Env[0]");
        assert_eq!(l[1]["reason"], "PASSWORD=*** is not allowed");
        assert!(l[1].get("error").is_none());
        assert!(l[1]["time"].as_str().unwrap().ends_with('Z'));
        // A denial without a field has `"field": null`.
        assert_eq!(l[2]["field"], Value::Null);
        assert!(l[2].as_object().unwrap().contains_key("field"));
        // An allowed call has no rule, field or reason; a failed one has the engine's error, masked.
        let o = l[3].as_object().unwrap();
        assert!(!o.contains_key("rule") && !o.contains_key("field") && !o.contains_key("reason"));
        assert_eq!(l[3]["duration_ms"], 1500);
        assert_eq!(l[3]["bytes"], 4096);
        assert_eq!(l[3]["error"], "unauthorized: token *** rejected \"quoted\"");
        assert_eq!(l[4]["operation"], "SystemPing");
    }

    #[test]
    fn concurrent_records_are_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = Arc::new(AuditLog::open(&path, Masker::default()).unwrap());
        let reason = "x".repeat(3000);
        std::thread::scope(|s| {
            for t in 0..8 {
                let (log, reason) = (log.clone(), reason.as_str());
                s.spawn(move || {
                    let run = format!("run{t}");
                    for _ in 0..50 {
                        log.record(&AuditEntry {
                            plugin: "p",
                            run: &run,
                            operation: "ContainerList",
                            engine: None,
                            target: None,
                            decision: Decision::Deny {
                                rule: "r",
                                field: None,
                                reason,
                            },
                            duration: Duration::ZERO,
                            bytes: 0,
                            error: None,
                        })
                        .unwrap();
                    }
                });
            }
        });
        let l = lines(&path);
        assert_eq!(l.len(), 400);
        assert!(l.iter().all(|v| v["reason"].as_str().unwrap().len() == 3000));
    }

    #[test]
    fn masking_text() {
        let m = Masker::new(["hunter22", "abc", "", "token-XYZ", "hunter22"]);
        assert_eq!(
            m.mask("pw=hunter22, t=token-XYZ; abc stays"),
            "pw=***, t=***; abc stays"
        );
        assert!(matches!(m.mask("nothing here"), Cow::Borrowed(_)));
        assert!(matches!(m.mask("hunter2 token-XY"), Cow::Borrowed(_)));
        assert_eq!(m.mask("hunter22hunter22"), "***");
        assert_eq!(m.mask("ahunter22b"), "a***b");
        assert_eq!(m.mask("ü hunter22 ü"), "ü *** ü");
        assert!(Masker::new(["abc"]).is_empty());
        assert_eq!(Masker::default().mask("hunter22"), "hunter22");
        // Overlapping secrets: nothing of either is left.
        let m = Masker::new(["abcd", "cdef"]);
        assert_eq!(m.mask("xabcdefx"), "x***x");
        assert_eq!(m.mask("xabcdx cdefx"), "x***x ***x");
        let m = Masker::new(["aaaa"]);
        assert_eq!(m.mask("baaaaaab"), "b***b");
        assert_eq!(m.mask("baaab"), "baaab");
        let m = Masker::new(["secret", "secretive"]);
        assert_eq!(m.mask("so secretive"), "so ***");
        assert_eq!(
            m.mask_bytes(b"\xff secret \xfe").as_ref(),
            b"\xff *** \xfe".as_slice()
        );
    }

    /// Streams `chunks` through a fresh stream of `m`.
    fn stream(m: &Masker, chunks: &[&[u8]]) -> Vec<u8> {
        let mut s = m.stream();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(s.mask_stream(c));
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn masking_a_stream_split_anywhere() {
        let m = Masker::new(["correct-horse-battery", "abcd", "cdef"]);
        let text = b"user correct-horse-battery, xabcdefx, abc, cde, correct-horse-batter!";
        let whole = m.mask_bytes(text).into_owned();
        assert_eq!(
            String::from_utf8(whole.clone()).unwrap(),
            "user ***, x***x, abc, cde, correct-horse-batter!"
        );
        // Every split into two chunks, and every split into three.
        for i in 0..=text.len() {
            assert_eq!(stream(&m, &[&text[..i], &text[i..]]), whole, "split at {i}");
            for j in i..=text.len() {
                assert_eq!(
                    stream(&m, &[&text[..i], &text[i..j], &text[j..]]),
                    whole,
                    "split at {i}, {j}"
                );
            }
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(stream(&m, &bytes), whole);
    }

    #[test]
    fn masking_a_stream_holds_back_only_a_possible_secret() {
        let m = Masker::new(["hunter22"]);
        let mut s = m.stream();
        // A possible start of the secret at the end of a chunk is held back…
        assert_eq!(s.mask_stream(b"pw: hunt"), b"pw: ");
        // …and released when the stream shows it is not the secret: no false positive.
        assert_eq!(s.mask_stream(b"ing"), b"hunting");
        // At most the secret's length minus one bytes are held back.
        assert_eq!(s.mask_stream(b"nununununu"), b"nun");
        assert_eq!(s.finish(), b"unununu");
        // Nothing is held back up to a byte that is in no secret, such as a newline.
        assert_eq!(s.mask_stream(b"hunter2\n"), b"hunter2\n");
        assert_eq!(s.finish(), b"");
        // The masker is ready for another stream; the mask is written as soon as the secret is whole.
        assert_eq!(s.mask_stream(b"hunter2"), b"");
        assert_eq!(s.mask_stream(b"2"), b"***");
        assert_eq!(s.finish(), b"");
        assert_eq!(s.mask_stream(b"12345678 hunter22"), b"12345678 ***");
        assert_eq!(s.finish(), b"");
        // A short secret within the held-back bytes at the end is masked by `finish`.
        let mut s = Masker::new(["hunter22", "abcd"]).stream();
        assert_eq!(s.mask_stream(b"xx abcd"), b"xx ");
        assert_eq!(s.finish(), b"***");
        // A mask spanning chunks is one `***`.
        assert_eq!(stream(&m, &[b"hunter22hun", b"ter22."]), b"***.");
        // No secrets: passes through, nothing held back.
        let mut none = Masker::default();
        assert_eq!(none.mask_stream(b"abc"), b"abc");
        assert_eq!(none.finish(), b"");
    }

    #[test]
    fn masking_a_stream_matches_masking_the_whole() {
        // Random text over a tiny alphabet, so secrets occur, overlap and nearly occur all the time.
        let m = Masker::new(["abab", "baab", "aaaaa", "abbbba"]);
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..300 {
            let len = (next() % 64) as usize;
            // `c` is in no secret: a point where the stream need not hold anything back.
            let text: Vec<u8> = (0..len)
                .map(|_| match next() % 10 {
                    0..=2 => b'b',
                    3 => b'c',
                    _ => b'a',
                })
                .collect();
            let whole = m.mask_bytes(&text).into_owned();
            let mut chunks = Vec::new();
            let mut rest = text.as_slice();
            while !rest.is_empty() {
                let n = ((next() % 7) as usize).min(rest.len());
                chunks.push(&rest[..n]);
                rest = &rest[n..];
            }
            assert_eq!(stream(&m, &chunks), whole, "{:?}", String::from_utf8_lossy(&text));
        }
    }
}
