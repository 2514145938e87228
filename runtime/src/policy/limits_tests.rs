//! Tests of `policy::limits`.
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
