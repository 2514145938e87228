//! The precompiled component cache (`runtime/src/host/cache.rs`): `tug compile`, hits, misses on changed
//! bytes, corrupt or foreign artifacts compiled again, and the cache directory's permissions.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use tug::host::{
    cache::{CompileCache, Source, SETTLED},
    CacheMode, HostOptions, PluginHost,
};
use tug_e2e::{plugin, tug};

fn host(dir: &Path) -> PluginHost {
    PluginHost::with_options(HostOptions {
        cache: CacheMode::Dir(dir.to_owned()),
        ..Default::default()
    })
    .expect("a plugin host")
}

fn artifacts(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    v.sort();
    v
}

/// The component with a custom section appended: other bytes, the same program.
fn with_custom_section(bytes: &[u8], payload: &[u8]) -> Vec<u8> {
    let name = b"tug-test";
    let mut section = vec![name.len() as u8];
    section.extend_from_slice(name);
    section.extend_from_slice(payload);
    assert!(section.len() < 128, "a one-byte LEB128 size");
    let mut out = bytes.to_vec();
    out.push(0);
    out.push(section.len() as u8);
    out.extend(section);
    out
}

#[test]
fn a_second_load_maps_the_artifact_and_changed_bytes_miss() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let hello = plugin("hello");
    let first = host(&cache).load(&hello).unwrap();
    assert_eq!(first.source, Source::CompiledAndCached);
    assert_eq!(artifacts(&cache).len(), 1);
    // Another host (another process, as far as the cache knows) finds it.
    let second = host(&cache).load(&hello).unwrap();
    assert_eq!(second.source, Source::Cached);

    let changed = dir.path().join("hello-changed.wasm");
    std::fs::write(
        &changed,
        with_custom_section(&std::fs::read(&hello).unwrap(), b"x"),
    )
    .unwrap();
    let third = host(&cache).load(&changed).unwrap();
    assert_eq!(
        third.source,
        Source::CompiledAndCached,
        "changed bytes must not hit"
    );
    assert_eq!(artifacts(&cache).len(), 2);

    // Without a cache, nothing is written or read.
    let off = PluginHost::with_options(HostOptions {
        cache: CacheMode::Off,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(off.load(&hello).unwrap().source, Source::Compiled);
}

/// A file loaded once its times are settled is found again by its identity (device, inode, size, times)
/// without being hashed; rewriting it in place with other bytes of the same size, even with its old
/// modification time put back (as `cp -p` or `tar` do), changes its change time and misses.
#[test]
fn an_unchanged_file_is_found_by_identity_and_a_rewrite_in_place_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let hello = std::fs::read(plugin("hello")).unwrap();
    let (x, y) = (
        with_custom_section(&hello, b"x"),
        with_custom_section(&hello, b"y"),
    );
    assert_eq!(x.len(), y.len());
    let file = dir.path().join("p.wasm");
    std::fs::write(&file, &x).unwrap();
    let h = host(&cache);
    let c = CompileCache::open(&cache).unwrap();
    assert_eq!(h.load(&file).unwrap().source, Source::CompiledAndCached);
    assert_eq!(
        c.key_of_file(h.engine(), &file),
        None,
        "a file written just now is not remembered"
    );

    std::thread::sleep(SETTLED + std::time::Duration::from_millis(1100));
    assert_eq!(h.load(&file).unwrap().source, Source::Cached);
    let key_x = CompileCache::key(h.engine(), &x);
    assert_eq!(c.key_of_file(h.engine(), &file), Some(key_x.clone()));
    assert!(c.get_by_file(h.engine(), &file).is_some());

    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, &y).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), mtime);
    assert_eq!(c.key_of_file(h.engine(), &file), None, "rewritten in place");
    assert_eq!(
        h.load(&file).unwrap().source,
        Source::CompiledAndCached,
        "the new bytes are compiled, not the old artifact mapped"
    );
    assert_eq!(artifacts(&cache).len(), 2);
    assert!(
        std::fs::metadata(c.path(&CompileCache::key(h.engine(), &y))).is_ok(),
        "the artifact of the new bytes"
    );
    assert_ne!(key_x, CompileCache::key(h.engine(), &y));
}

#[test]
fn corrupt_and_foreign_artifacts_are_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let hello = plugin("hello");
    host(&cache).load(&hello).unwrap();
    let [artifact] = artifacts(&cache).try_into().unwrap();
    let good = std::fs::read(&artifact).unwrap();

    let cases: [(&str, Vec<u8>); 3] = [
        ("garbage", b"not an artifact at all".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        // A valid ELF header of the right kind, then nothing wasmtime would accept.
        ("header only", good[..64.min(good.len())].to_vec()),
    ];
    for (what, bytes) in cases {
        std::fs::write(&artifact, &bytes).unwrap();
        let loaded = host(&cache)
            .load(&hello)
            .unwrap_or_else(|e| panic!("{what}: {e:#}"));
        assert_eq!(loaded.source, Source::CompiledAndCached, "{what}");
        assert_eq!(
            std::fs::read(&artifact).unwrap(),
            good,
            "{what}: the artifact is replaced"
        );
        assert_eq!(
            host(&cache).load(&hello).unwrap().source,
            Source::Cached,
            "{what}"
        );
    }
}

#[test]
fn the_cache_directory_is_private_and_ours() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("a").join("cache");
    host(&fresh);
    assert_eq!(
        std::fs::metadata(&fresh).unwrap().mode() & 0o777,
        0o700,
        "created 0700"
    );

    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    host(&open);
    assert_eq!(
        std::fs::metadata(&open).unwrap().mode() & 0o777,
        0o700,
        "tightened to 0700"
    );

    // Someone else's directory is refused (needs root to make one).
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    if me == 0 {
        let theirs = dir.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let err = PluginHost::with_options(HostOptions {
            cache: CacheMode::Dir(theirs.clone()),
            ..Default::default()
        })
        .err()
        .expect("another user's cache directory is refused");
        assert!(format!("{err:#}").contains("belongs to uid 65534"), "{err:#}");
    }
}

#[test]
fn tug_compile_fills_the_cache_that_tug_run_uses() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let hello = plugin("hello");
    let compile = |expect: &str| {
        let out = Command::new(tug())
            .arg("compile")
            .arg(&hello)
            .arg("--cache-dir")
            .arg(&cache)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(expect), "{stdout}");
    };
    compile(": compiled: ");
    compile(": already compiled: ");
    assert_eq!(artifacts(&cache).len(), 1);
    // In-process loads with the same engine configuration as `tug run` hit it.
    assert_eq!(host(&cache).load(&hello).unwrap().source, Source::Cached);

    let run = Command::new(tug())
        .args(["run", "--policy", "trusted"])
        .arg(&hello)
        .env("TUG_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(
        artifacts(&cache).len(),
        1,
        "tug run found the artifact instead of writing another"
    );

    let bad = Command::new(tug())
        .arg("compile")
        .arg(dir.path().join("missing.wasm"))
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no such file"));
}
