//! Who is told what a run does: each call as it ends (the audit log, `tug run`'s report) and what passes
//! through the streams worth showing progress of (pulls, pushes, builds, loads, imports, archive
//! transfers). Observers only watch: nothing they do changes what the plugin gets.

use std::sync::Arc;

use crate::policy::{
    audit::{AuditEntry, AuditLog},
    operations::Op,
};

/// Told about a run's calls and streams.
pub trait Observer: Send + Sync {
    /// A call ended: made (with its error, if it failed), denied, or cancelled.
    fn call(&self, entry: &AuditEntry<'_>);

    /// A call of `op` opened a stream: a tap to tell what passes through it, dropped when the stream
    /// ends (or is dropped); `None` when this observer does not watch such streams.
    fn stream(&self, op: Op, target: Option<&str>) -> Option<Box<dyn StreamTap>> {
        let _ = (op, target);
        None
    }
}

/// What passes through one watched stream.
pub trait StreamTap: Send {
    /// A JSON document of a progress stream (a pull's, push's, build's, load's or import's).
    fn document(&mut self, doc: &[u8]) {
        let _ = doc;
    }
    /// Bytes of a transfer (an archive, an export, an image tar).
    fn bytes(&mut self, n: u64) {
        let _ = n;
    }
}

/// The observers of a run.
pub type Observers = Arc<[Arc<dyn Observer>]>;

/// The taps of the observers that watch a stream, as one.
#[derive(Default)]
pub struct Tap(Vec<Box<dyn StreamTap>>);

impl Tap {
    /// The taps every observer in `observers` gives for a stream of `op`; `None` when none watches it.
    pub fn of(observers: &[Arc<dyn Observer>], op: Op, target: Option<&str>) -> Option<Tap> {
        let taps: Vec<_> = observers.iter().filter_map(|o| o.stream(op, target)).collect();
        (!taps.is_empty()).then_some(Tap(taps))
    }

    /// A progress document passed through.
    pub fn document(&mut self, doc: &[u8]) {
        for t in &mut self.0 {
            t.document(doc);
        }
    }

    /// Bytes passed through.
    pub fn bytes(&mut self, n: u64) {
        for t in &mut self.0 {
            t.bytes(n);
        }
    }
}

impl Observer for AuditLog {
    fn call(&self, entry: &AuditEntry<'_>) {
        if let Err(e) = self.record(entry) {
            tracing::warn!("writing the audit log {}: {e}", self.path().display());
        }
    }
}
