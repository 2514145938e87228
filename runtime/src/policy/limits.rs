//! Limits on the plugin itself (`[wasm]` in the policy): linear memory summed over every memory of a run's
//! store, the CPU time of running wasm, the run's wall-clock time, and open handles.
//!
//! - [`MemoryLimiter`] is the store's [`wasmtime::ResourceLimiter`]: it caps the *sum* of all linear
//!   memories (a componentize-py component has several), caps table elements the same way, and bounds the
//!   number of core instances, tables and memories. A denied growth makes `memory.grow` return -1 (as the
//!   spec says; the plugin's allocator then fails its own way) and is recorded, so the host can say why
//!   the plugin died: [`MemoryLimiter::exceeded`].
//! - [`CpuBudget`] measures the time the run's future spends being polled — wasm running, plus the
//!   synchronous part of host calls, never the time a host call waits — and traps the plugin from the
//!   epoch-deadline callback once the budget is spent. The callback also yields to the executor every
//!   tick, which is what lets the wall-clock timeout fire while the plugin spins.
//! - [`LimitExceeded`] is what the host reports: `plugin X {error}` reads "plugin X exceeded its memory
//!   limit of 256 MiB (asked for 300 MiB)".

use std::{
    fmt,
    future::Future,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    task::Poll,
    time::{Duration, Instant},
};

use wasmtime::{ResourceLimiter, StoreContextMut, UpdateDeadline};

/// Core instances a store may create by default (componentize-py components have many).
pub const DEFAULT_INSTANCES: usize = 1000;
/// Tables a store may create by default.
pub const DEFAULT_TABLES: usize = 1000;
/// Linear memories a store may create by default.
pub const DEFAULT_MEMORIES: usize = 100;
/// Table elements, summed over all of a store's tables, by default (each costs a pointer or two).
pub const DEFAULT_TABLE_ELEMENTS: u64 = 10_000_000;

/// A limit a plugin ran into. `Display` reads as the end of a sentence that starts with the plugin's
/// name: "plugin X " + "exceeded its memory limit of 512 MiB (asked for 600 MiB)".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    /// Linear memory, summed over the plugin's memories.
    #[error("exceeded its memory limit of {} (asked for {})", Size(*.limit), Size(*.requested))]
    Memory {
        /// The limit, in bytes.
        limit: u64,
        /// The total the plugin asked for, in bytes.
        requested: u64,
    },
    /// Table elements, summed over the plugin's tables.
    #[error("exceeded its table limit of {limit} elements (asked for {requested})")]
    TableElements {
        /// The limit, in elements.
        limit: u64,
        /// The total the plugin asked for.
        requested: u64,
    },
    /// CPU time of running wasm.
    #[error("exceeded its CPU time limit of {}", Time(*.limit))]
    CpuTime {
        /// The budget.
        limit: Duration,
    },
    /// Wall-clock time of the whole run.
    #[error("exceeded its wall-clock time limit of {}", Time(*.limit))]
    WallTime {
        /// The limit.
        limit: Duration,
    },
    /// Open handles (resources) at once.
    #[error("exceeded its limit of {limit} open handles")]
    Handles {
        /// The limit.
        limit: u32,
    },
}

/// Whether one more handle may be opened when `open` are open already: `Err` once `open` reaches `limit`.
pub fn handle_limit_check(open: usize, limit: u32) -> Result<(), LimitExceeded> {
    if open >= limit as usize {
        Err(LimitExceeded::Handles { limit })
    } else {
        Ok(())
    }
}

/// A byte count for people: `512 MiB`, `1 GiB`, `300.06 MiB`, `64 KiB`.
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: u64 = 1 << 10;
        const MIB: u64 = 1 << 20;
        const GIB: u64 = 1 << 30;
        let n = self.0;
        if n >= GIB && n % GIB == 0 {
            write!(f, "{} GiB", n / GIB)
        } else if n >= MIB {
            if n % MIB == 0 {
                write!(f, "{} MiB", n / MIB)
            } else {
                write!(f, "{:.2} MiB", n as f64 / MIB as f64)
            }
        } else if n >= KIB && n % KIB == 0 {
            write!(f, "{} KiB", n / KIB)
        } else {
            write!(f, "{n} bytes")
        }
    }
}

/// A duration for people: `60 s`, `1.5 s`, `250 ms`.
struct Time(Duration);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{} s", d.as_secs())
        } else if d >= Duration::from_secs(1) {
            let s = format!("{:.3}", d.as_secs_f64());
            write!(f, "{} s", s.trim_end_matches('0').trim_end_matches('.'))
        } else {
            write!(f, "{} ms", d.as_millis())
        }
    }
}

/// The store's resource limiter: linear memory and table elements summed over the whole store, and
/// counts of instances, tables and memories.
///
/// Install it with `Store::limiter` (the synchronous limiter also serves async stores; wasmtime's
/// `limiter_async` is only for limiters that must await): `store.limiter(|s| &mut s.limiter)`.
///
/// Growth beyond a limit is refused with `Ok(false)`: `memory.grow`/`table.grow` return -1, and
/// instantiation fails if a memory's initial size alone is too much. The first refusal is kept for
/// [`MemoryLimiter::exceeded`]. Growth beyond a memory's or table's own declared maximum is refused too,
/// but that is the plugin's own limit, not recorded.
#[derive(Clone, Debug)]
pub struct MemoryLimiter {
    memory_limit: Option<u64>,
    table_elements_limit: Option<u64>,
    instances: usize,
    tables: usize,
    memories: usize,
    memory_used: u64,
    table_elements_used: u64,
    /// What the last granted growth added, taken back if wasmtime then fails to grow.
    pending_memory: u64,
    pending_table: u64,
    exceeded: Option<LimitExceeded>,
}

impl MemoryLimiter {
    /// A limiter with a total linear-memory limit in bytes (`None`: unlimited) and the default counts
    /// ([`DEFAULT_INSTANCES`], [`DEFAULT_TABLES`], [`DEFAULT_MEMORIES`], [`DEFAULT_TABLE_ELEMENTS`]).
    pub fn new(memory_bytes: Option<u64>) -> Self {
        MemoryLimiter {
            memory_limit: memory_bytes,
            table_elements_limit: Some(DEFAULT_TABLE_ELEMENTS),
            instances: DEFAULT_INSTANCES,
            tables: DEFAULT_TABLES,
            memories: DEFAULT_MEMORIES,
            memory_used: 0,
            table_elements_used: 0,
            pending_memory: 0,
            pending_table: 0,
            exceeded: None,
        }
    }

    /// Sets the limit on table elements summed over all tables (`None`: unlimited).
    pub fn table_elements(mut self, limit: Option<u64>) -> Self {
        self.table_elements_limit = limit;
        self
    }

    /// Sets how many core instances the store may create.
    pub fn instances(mut self, n: usize) -> Self {
        self.instances = n;
        self
    }

    /// Sets how many tables the store may create.
    pub fn tables(mut self, n: usize) -> Self {
        self.tables = n;
        self
    }

    /// Sets how many linear memories the store may create.
    pub fn memories(mut self, n: usize) -> Self {
        self.memories = n;
        self
    }

    /// The total linear memory limit, in bytes.
    pub fn memory_limit(&self) -> Option<u64> {
        self.memory_limit
    }

    /// The linear memory of all the store's memories together, in bytes.
    pub fn memory_used(&self) -> u64 {
        self.memory_used
    }

    /// The elements of all the store's tables together.
    pub fn table_elements_used(&self) -> u64 {
        self.table_elements_used
    }

    /// The first growth this limiter refused, if any.
    pub fn exceeded(&self) -> Option<LimitExceeded> {
        self.exceeded.clone()
    }

    fn record(&mut self, e: LimitExceeded) {
        if self.exceeded.is_none() {
            tracing::debug!("plugin limit: {e}");
            self.exceeded = Some(e);
        }
    }
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::new(None)
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Accounts a growth from `current` to `desired` (memory bytes or table elements) against `used` and
/// `limit`: `Ok(delta)` when granted (and added to `used`), `Err(Some((limit, requested)))` past the
/// limit, `Err(None)` past the item's own `maximum`.
fn grow(
    used: &mut u64,
    limit: Option<u64>,
    current: usize,
    desired: usize,
    maximum: Option<usize>,
) -> Result<u64, Option<(u64, u64)>> {
    if maximum.is_some_and(|max| desired > max) {
        return Err(None);
    }
    let delta = to_u64(desired.saturating_sub(current));
    let wanted = used.saturating_add(delta);
    if let Some(limit) = limit.filter(|&l| wanted > l) {
        return Err(Some((limit, wanted)));
    }
    *used = wanted;
    Ok(delta)
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Past the memory's own maximum wasmtime would refuse anyway: not ours to record.
        match grow(
            &mut self.memory_used,
            self.memory_limit,
            current,
            desired,
            maximum,
        ) {
            Ok(delta) => {
                self.pending_memory = delta;
                Ok(true)
            }
            Err(Some((limit, requested))) => {
                self.record(LimitExceeded::Memory { limit, requested });
                Ok(false)
            }
            Err(None) => Ok(false),
        }
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // Wasmtime reports a growth past what the memory type can represent without asking us first;
        // every other failure follows a growth we granted (and counted): take it back.
        if !error.to_string().contains("memory type's limits") {
            self.memory_used = self.memory_used.saturating_sub(self.pending_memory);
        }
        self.pending_memory = 0;
        tracing::debug!("plugin memory growth failed: {error}");
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        match grow(
            &mut self.table_elements_used,
            self.table_elements_limit,
            current,
            desired,
            maximum,
        ) {
            Ok(delta) => {
                self.pending_table = delta;
                Ok(true)
            }
            Err(Some((limit, requested))) => {
                self.record(LimitExceeded::TableElements { limit, requested });
                Ok(false)
            }
            Err(None) => Ok(false),
        }
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // As for memories: an overflowing size is reported without asking us first.
        if !error.to_string().contains("overflow") {
            self.table_elements_used = self.table_elements_used.saturating_sub(self.pending_table);
        }
        self.pending_table = 0;
        tracing::debug!("plugin table growth failed: {error}");
        Ok(())
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// The CPU-time budget of one run.
///
/// Time is counted while the run's future is being polled ([`CpuBudget::measure`]): that is wasm running
/// (wasmtime runs it inside `poll`, on a fiber) plus the synchronous part of host calls, and never the
/// time a host call waits for the engine, a sleep, or the executor. It is wall time inside `poll`, so an
/// overloaded machine counts a little more than the CPU really gave.
///
/// The check happens in the epoch-deadline callback ([`CpuBudget::deadline_callback`]), which runs at
/// every epoch tick while wasm runs; once the budget is spent it traps with
/// [`LimitExceeded::CpuTime`] (find it with `error.downcast_ref::<LimitExceeded>()`), at most about one
/// tick late. Without `measure` the callback falls back to counting one tick per call.
///
/// Clones share the count.
#[derive(Clone, Debug)]
pub struct CpuBudget {
    limit: Option<Duration>,
    tick: Duration,
    shared: Arc<CpuShared>,
}

#[derive(Debug)]
struct CpuShared {
    base: Instant,
    /// Nanoseconds counted in finished polls (and fallback ticks).
    used_ns: AtomicU64,
    /// When the current poll began, in nanoseconds since `base`, plus one; 0 when not being polled.
    entered: AtomicU64,
    exceeded: AtomicBool,
}

impl CpuShared {
    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    fn used(&self) -> Duration {
        let mut ns = self.used_ns.load(Ordering::Acquire);
        let entered = self.entered.load(Ordering::Acquire);
        if entered != 0 {
            ns = ns.saturating_add(self.now().saturating_sub(entered - 1));
        }
        Duration::from_nanos(ns)
    }
}

/// Counts the time between its creation and its drop (one poll).
struct PollGuard<'a> {
    shared: &'a CpuShared,
    start: Option<u64>,
}

impl<'a> PollGuard<'a> {
    fn enter(shared: &'a CpuShared) -> Self {
        let start = shared.now();
        // Nested `measure`s of the same budget count once.
        let start = shared
            .entered
            .compare_exchange(0, start + 1, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| start);
        PollGuard { shared, start }
    }
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            let spent = self.shared.now().saturating_sub(start);
            self.shared.used_ns.fetch_add(spent, Ordering::AcqRel);
            self.shared.entered.store(0, Ordering::Release);
        }
    }
}

impl CpuBudget {
    /// A budget (`None`: unlimited, only counted) for epoch ticks of `tick` (the fallback's unit).
    pub fn new(limit: Option<Duration>, tick: Duration) -> Self {
        CpuBudget {
            limit,
            tick,
            shared: Arc::new(CpuShared {
                base: Instant::now(),
                used_ns: AtomicU64::new(0),
                entered: AtomicU64::new(0),
                exceeded: AtomicBool::new(false),
            }),
        }
    }

    /// The budget.
    pub fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// The time counted so far (including the poll under way, if any).
    pub fn cpu_used(&self) -> Duration {
        self.shared.used()
    }

    /// Whether the callback trapped the plugin for spending its budget.
    pub fn exceeded(&self) -> Option<LimitExceeded> {
        match (self.shared.exceeded.load(Ordering::Acquire), self.limit) {
            (true, Some(limit)) => Some(LimitExceeded::CpuTime { limit }),
            _ => None,
        }
    }

    /// Runs `fut` (the run: instantiation and the call of `run`), counting the time spent polling it.
    pub async fn measure<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(move |cx| {
            let _guard = PollGuard::enter(&self.shared);
            match fut.as_mut().poll(cx) {
                Poll::Ready(v) => Poll::Ready(v),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// The store's epoch-deadline callback (`Store::epoch_deadline_callback`): traps once the budget is
    /// spent, otherwise yields to the executor and sets the next deadline one tick on.
    pub fn deadline_callback<T: 'static>(
        &self,
    ) -> impl FnMut(StoreContextMut<'_, T>) -> wasmtime::Result<UpdateDeadline> + Send + Sync + 'static {
        let shared = self.shared.clone();
        let limit = self.limit;
        let tick = u64::try_from(self.tick.as_nanos()).unwrap_or(u64::MAX);
        move |_store| {
            if shared.entered.load(Ordering::Acquire) == 0 {
                // Not measured: count the tick that brought us here.
                shared.used_ns.fetch_add(tick, Ordering::AcqRel);
            }
            if let Some(limit) = limit {
                if shared.used() >= limit {
                    shared.exceeded.store(true, Ordering::Release);
                    return Err(wasmtime::Error::new(LimitExceeded::CpuTime { limit }));
                }
            }
            Ok(UpdateDeadline::Yield(1))
        }
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
