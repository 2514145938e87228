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

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The memory's own maximum: wasmtime would refuse anyway; not ours to record.
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let delta = to_u64(desired.saturating_sub(current));
        let wanted = self.memory_used.saturating_add(delta);
        if let Some(limit) = self.memory_limit {
            if wanted > limit {
                self.record(LimitExceeded::Memory {
                    limit,
                    requested: wanted,
                });
                return Ok(false);
            }
        }
        self.memory_used = wanted;
        self.pending_memory = delta;
        Ok(true)
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
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let delta = to_u64(desired.saturating_sub(current));
        let wanted = self.table_elements_used.saturating_add(delta);
        if let Some(limit) = self.table_elements_limit {
            if wanted > limit {
                self.record(LimitExceeded::TableElements {
                    limit,
                    requested: wanted,
                });
                return Ok(false);
            }
        }
        self.table_elements_used = wanted;
        self.pending_table = delta;
        Ok(true)
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
mod tests {
    use super::*;
    use wasmtime::{Config, Engine, Instance, Module, Store};

    const PAGE: u64 = 64 << 10;

    // A few helpers to write core wasm modules by hand (the `wat` feature is not enabled).

    fn leb(mut n: u32, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn section(id: u8, items: &[Vec<u8>], out: &mut Vec<u8>) {
        let mut payload = Vec::new();
        leb(items.len() as u32, &mut payload);
        for i in items {
            payload.extend_from_slice(i);
        }
        out.push(id);
        leb(payload.len() as u32, out);
        out.extend(payload);
    }

    fn name(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        leb(s.len() as u32, &mut v);
        v.extend_from_slice(s.as_bytes());
        v
    }

    fn body(code: &[u8]) -> Vec<u8> {
        let mut b = vec![0x00]; // no locals
        b.extend_from_slice(code);
        b.push(0x0b); // end
        let mut v = Vec::new();
        leb(b.len() as u32, &mut v);
        v.extend(b);
        v
    }

    fn export_func(n: &str, index: u32) -> Vec<u8> {
        let mut v = name(n);
        v.push(0x00); // func
        leb(index, &mut v);
        v
    }

    /// `(memory 1) (memory 1)`, `grow_a`/`grow_b (param i32) (result i32)`: `memory.grow` on each, and
    /// `size_a`/`size_b (result i32)`.
    fn two_memories() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        section(1, &[vec![0x60, 1, 0x7f, 1, 0x7f], vec![0x60, 0, 1, 0x7f]], &mut m);
        section(3, &[vec![0], vec![0], vec![1], vec![1]], &mut m);
        section(5, &[vec![0x00, 1], vec![0x00, 1]], &mut m);
        section(
            7,
            &[
                export_func("grow_a", 0),
                export_func("grow_b", 1),
                export_func("size_a", 2),
                export_func("size_b", 3),
            ],
            &mut m,
        );
        section(
            10,
            &[
                body(&[0x20, 0, 0x40, 0]), // local.get 0; memory.grow 0
                body(&[0x20, 0, 0x40, 1]), // local.get 0; memory.grow 1
                body(&[0x3f, 0]),          // memory.size 0
                body(&[0x3f, 1]),          // memory.size 1
            ],
            &mut m,
        );
        m
    }

    /// `(memory $m <min_pages>)` and nothing else.
    fn one_memory(min_pages: u32) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        let mut limits = vec![0x00];
        leb(min_pages, &mut limits);
        section(5, &[limits], &mut m);
        m
    }

    /// `(func (export "spin") (loop (br 0)))`.
    fn spin() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        section(1, &[vec![0x60, 0, 0]], &mut m);
        section(3, &[vec![0]], &mut m);
        section(7, &[export_func("spin", 0)], &mut m);
        section(10, &[body(&[0x03, 0x40, 0x0c, 0x00, 0x0b])], &mut m);
        m
    }

    fn engine(epochs: bool) -> Engine {
        let mut config = Config::new();
        config.wasm_multi_memory(true).epoch_interruption(epochs);
        Engine::new(&config).unwrap()
    }

    fn store(engine: &Engine, limiter: MemoryLimiter) -> Store<MemoryLimiter> {
        let mut store = Store::new(engine, limiter);
        store.limiter(|l| l);
        store
    }

    #[test]
    fn messages() {
        let e = LimitExceeded::Memory {
            limit: 512 << 20,
            requested: 600 << 20,
        };
        assert_eq!(
            e.to_string(),
            "exceeded its memory limit of 512 MiB (asked for 600 MiB)"
        );
        let e = LimitExceeded::Memory {
            limit: 1 << 30,
            requested: (300 << 20) + PAGE,
        };
        assert_eq!(
            e.to_string(),
            "exceeded its memory limit of 1 GiB (asked for 300.06 MiB)"
        );
        let e = LimitExceeded::Memory {
            limit: 4 * PAGE,
            requested: 5 * PAGE,
        };
        assert_eq!(
            e.to_string(),
            "exceeded its memory limit of 256 KiB (asked for 320 KiB)"
        );
        assert_eq!(
            LimitExceeded::CpuTime {
                limit: Duration::from_secs(60)
            }
            .to_string(),
            "exceeded its CPU time limit of 60 s"
        );
        assert_eq!(
            LimitExceeded::WallTime {
                limit: Duration::from_millis(1500)
            }
            .to_string(),
            "exceeded its wall-clock time limit of 1.5 s"
        );
        assert_eq!(
            LimitExceeded::CpuTime {
                limit: Duration::from_millis(250)
            }
            .to_string(),
            "exceeded its CPU time limit of 250 ms"
        );
        assert_eq!(
            LimitExceeded::Handles { limit: 10 }.to_string(),
            "exceeded its limit of 10 open handles"
        );
        assert_eq!(
            LimitExceeded::TableElements {
                limit: 100,
                requested: 101
            }
            .to_string(),
            "exceeded its table limit of 100 elements (asked for 101)"
        );
    }

    #[test]
    fn handle_limit() {
        assert!(handle_limit_check(0, 1).is_ok());
        assert!(handle_limit_check(9, 10).is_ok());
        assert_eq!(
            handle_limit_check(10, 10),
            Err(LimitExceeded::Handles { limit: 10 })
        );
        assert!(handle_limit_check(11, 10).is_err());
        assert!(handle_limit_check(0, 0).is_err());
    }

    #[test]
    fn limiter_trait_methods() {
        let mut l = MemoryLimiter::new(Some(10 * PAGE));
        let p = PAGE as usize;
        assert!(l.memory_growing(0, 4 * p, None).unwrap());
        assert!(l.memory_growing(0, 4 * p, None).unwrap());
        assert_eq!(l.memory_used(), 8 * PAGE);
        // 8 + 3 > 10.
        assert!(!l.memory_growing(4 * p, 7 * p, None).unwrap());
        assert_eq!(
            l.exceeded(),
            Some(LimitExceeded::Memory {
                limit: 10 * PAGE,
                requested: 11 * PAGE
            })
        );
        // A failed growth we granted is taken back.
        assert!(l.memory_growing(4 * p, 6 * p, None).unwrap());
        assert_eq!(l.memory_used(), 10 * PAGE);
        l.memory_grow_failed(wasmtime::Error::msg("mmap failed")).unwrap();
        assert_eq!(l.memory_used(), 8 * PAGE);
        // A growth past what the memory type represents is reported without asking first.
        l.memory_grow_failed(wasmtime::Error::msg("memory growth exceeds memory type's limits"))
            .unwrap();
        assert_eq!(l.memory_used(), 8 * PAGE);
        // The memory's own maximum: refused, not recorded as ours.
        let mut l = MemoryLimiter::new(Some(10 * PAGE));
        assert!(!l.memory_growing(p, 3 * p, Some(2 * p)).unwrap());
        assert_eq!(l.exceeded(), None);
        // The first refusal is the one kept.
        let mut l = MemoryLimiter::new(Some(PAGE));
        assert!(!l.memory_growing(0, 2 * p, None).unwrap());
        assert!(!l.memory_growing(0, 3 * p, None).unwrap());
        assert_eq!(
            l.exceeded(),
            Some(LimitExceeded::Memory {
                limit: PAGE,
                requested: 2 * PAGE
            })
        );
        // Unlimited.
        let mut l = MemoryLimiter::new(None);
        assert!(l.memory_growing(0, 1 << 40, None).unwrap());
        // Tables, summed.
        let mut l = MemoryLimiter::new(None).table_elements(Some(100));
        assert!(l.table_growing(0, 60, None).unwrap());
        assert!(!l.table_growing(0, 41, None).unwrap());
        assert_eq!(
            l.exceeded(),
            Some(LimitExceeded::TableElements {
                limit: 100,
                requested: 101
            })
        );
        assert!(l.table_growing(60, 100, None).unwrap());
        l.table_grow_failed(wasmtime::Error::msg("out of memory"))
            .unwrap();
        assert_eq!(l.table_elements_used(), 60);
        // Counts.
        let l = MemoryLimiter::default();
        assert_eq!(
            (
                ResourceLimiter::instances(&l),
                ResourceLimiter::tables(&l),
                ResourceLimiter::memories(&l)
            ),
            (1000, 1000, 100)
        );
        let l = MemoryLimiter::default().instances(1).tables(2).memories(3);
        assert_eq!(
            (
                ResourceLimiter::instances(&l),
                ResourceLimiter::tables(&l),
                ResourceLimiter::memories(&l)
            ),
            (1, 2, 3)
        );
    }

    #[test]
    fn the_sum_of_two_memories_is_capped() {
        let engine = engine(false);
        let module = Module::new(&engine, two_memories()).unwrap();
        // 64 pages (4 MiB) for both memories together; each starts with one.
        let mut store = store(&engine, MemoryLimiter::new(Some(64 * PAGE)));
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        assert_eq!(store.data().memory_used(), 2 * PAGE);
        let grow_a = instance.get_typed_func::<i32, i32>(&mut store, "grow_a").unwrap();
        let grow_b = instance.get_typed_func::<i32, i32>(&mut store, "grow_b").unwrap();
        let size_b = instance.get_typed_func::<(), i32>(&mut store, "size_b").unwrap();
        // Each alone is well under the limit…
        assert_eq!(grow_a.call(&mut store, 40).unwrap(), 1);
        assert_eq!(store.data().exceeded(), None);
        // …but not together: -1, not a trap, and recorded.
        assert_eq!(grow_b.call(&mut store, 40).unwrap(), -1);
        assert_eq!(size_b.call(&mut store, ()).unwrap(), 1);
        assert_eq!(
            store.data().exceeded(),
            Some(LimitExceeded::Memory {
                limit: 64 * PAGE,
                requested: 82 * PAGE
            })
        );
        // What is left is still there.
        assert_eq!(grow_b.call(&mut store, 22).unwrap(), 1);
        assert_eq!(store.data().memory_used(), 64 * PAGE);
        assert_eq!(grow_a.call(&mut store, 1).unwrap(), -1);
        assert_eq!(grow_b.call(&mut store, 0).unwrap(), 23);
    }

    #[test]
    fn a_single_memory_is_capped() {
        let engine = engine(false);
        let module = Module::new(&engine, two_memories()).unwrap();
        let mut store = store(&engine, MemoryLimiter::new(Some(16 * PAGE)));
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let grow_a = instance.get_typed_func::<i32, i32>(&mut store, "grow_a").unwrap();
        assert_eq!(grow_a.call(&mut store, 99).unwrap(), -1);
        assert_eq!(grow_a.call(&mut store, 14).unwrap(), 1);
        assert_eq!(grow_a.call(&mut store, 1).unwrap(), -1);
        let e = store.data().exceeded().unwrap();
        assert_eq!(
            e.to_string(),
            "exceeded its memory limit of 1 MiB (asked for 6.31 MiB)"
        );
    }

    #[test]
    fn too_large_an_initial_memory_fails_instantiation() {
        let engine = engine(false);
        let module = Module::new(&engine, one_memory(20)).unwrap();
        let mut store = store(&engine, MemoryLimiter::new(Some(16 * PAGE)));
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert!(err.to_string().contains("exceeds memory limits"), "{err:?}");
        assert_eq!(
            store.data().exceeded(),
            Some(LimitExceeded::Memory {
                limit: 16 * PAGE,
                requested: 20 * PAGE
            })
        );
        // Instances with memories count against the limits of the store too.
        let module = Module::new(&engine, one_memory(1)).unwrap();
        let mut store = self::store(&engine, MemoryLimiter::new(None).instances(2));
        Instance::new(&mut store, &module, &[]).unwrap();
        Instance::new(&mut store, &module, &[]).unwrap();
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert!(err.to_string().contains("instance count"), "{err:?}");
    }

    /// Increments the engine's epoch every `tick` until dropped.
    struct Ticker(Arc<AtomicBool>);

    impl Ticker {
        fn start(engine: &Engine, tick: Duration) -> Self {
            let stop = Arc::new(AtomicBool::new(false));
            let (e, s) = (engine.clone(), stop.clone());
            std::thread::spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    e.increment_epoch();
                }
            });
            Ticker(stop)
        }
    }

    impl Drop for Ticker {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    const TICK: Duration = Duration::from_millis(10);

    async fn spin_with(budget: &CpuBudget, measured: bool) -> (wasmtime::Error, Duration) {
        let engine = engine(true);
        let _ticker = Ticker::start(&engine, TICK);
        let module = Module::new(&engine, spin()).unwrap();
        let mut store = Store::new(&engine, ());
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(budget.deadline_callback());
        let started = Instant::now();
        let run = async {
            let instance = Instance::new_async(&mut store, &module, &[]).await?;
            let f = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
            f.call_async(&mut store, ()).await
        };
        let result = if measured {
            budget.measure(run).await
        } else {
            run.await
        };
        (result.unwrap_err(), started.elapsed())
    }

    #[tokio::test]
    async fn a_spinning_plugin_is_trapped_by_its_cpu_budget() {
        let limit = Duration::from_millis(300);
        let budget = CpuBudget::new(Some(limit), TICK);
        let (err, elapsed) = spin_with(&budget, true).await;
        assert_eq!(
            err.downcast_ref::<LimitExceeded>(),
            Some(&LimitExceeded::CpuTime { limit }),
            "{err:?}"
        );
        assert!(
            format!("{err:?}").contains("exceeded its CPU time limit of 300 ms"),
            "{err:?}"
        );
        assert!(elapsed >= limit, "{elapsed:?}");
        assert!(elapsed < 2 * limit, "{elapsed:?}");
        let used = budget.cpu_used();
        assert!(used >= limit && used < 2 * limit, "{used:?}");
        assert_eq!(budget.exceeded(), Some(LimitExceeded::CpuTime { limit }));
    }

    #[tokio::test]
    async fn without_measure_the_callback_counts_ticks() {
        let limit = Duration::from_millis(200);
        let budget = CpuBudget::new(Some(limit), TICK);
        let (err, elapsed) = spin_with(&budget, false).await;
        assert!(err.downcast_ref::<LimitExceeded>().is_some(), "{err:?}");
        // Ticks are at least 10 ms apart (the ticker sleeps), so the 20 that spend the budget take at
        // least 19 ticks (the first may come at once); on a loaded machine they can take much longer.
        assert!(elapsed >= limit - TICK, "{elapsed:?}");
        assert!(elapsed < 10 * limit, "{elapsed:?}");
        assert!(budget.cpu_used() >= limit);
    }

    #[tokio::test]
    async fn waiting_is_not_counted_and_spinning_yields() {
        // The executor keeps control while wasm spins: a timer on the same (current-thread) runtime
        // fires, and the time the run is parked is not counted.
        let budget = CpuBudget::new(None, TICK);
        let b = budget.clone();
        let waited = budget
            .measure(async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                b.cpu_used()
            })
            .await;
        assert!(waited < Duration::from_millis(50), "{waited:?}");

        let budget = CpuBudget::new(None, TICK);
        let spun = tokio::time::timeout(Duration::from_millis(300), spin_with(&budget, true)).await;
        assert!(spun.is_err(), "the spin ends only by the timeout");
        // Most of the 300 ms were spent spinning (compiling the module came first), and none after.
        let used = budget.cpu_used();
        assert!(
            used > Duration::from_millis(50) && used < Duration::from_millis(400),
            "{used:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(budget.cpu_used(), used);
        assert_eq!(budget.exceeded(), None);
    }
}
