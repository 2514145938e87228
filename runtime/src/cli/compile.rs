//! `tug compile PLUGIN.wasm…`: compiles plugins ahead of time into the compile cache, so that `tug run`
//! maps the native code instead of compiling it (see `host/cache.rs`).

use std::{path::PathBuf, process::ExitCode};

use crate::host::{cache::Source, CacheMode, HostOptions, PluginHost};

/// `tug compile …`.
#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// The plugins: `.wasm` WebAssembly components.
    #[arg(required = true)]
    pub plugins: Vec<PathBuf>,
    /// The cache directory (default: $TUG_CACHE_DIR, else $XDG_CACHE_HOME/tug, else ~/.cache/tug).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Compiles each plugin into the cache and prints where its artifact is; exit code 125 when a plugin
/// cannot be compiled (as `tug run` when it cannot run one).
pub fn compile(args: CompileArgs) -> anyhow::Result<ExitCode> {
    let cache = match args.cache_dir {
        Some(dir) => CacheMode::Dir(dir),
        None => match crate::host::cache::CompileCache::default_dir() {
            Some(dir) => CacheMode::Dir(dir),
            None => anyhow::bail!("no cache directory: set TUG_CACHE_DIR, XDG_CACHE_HOME or HOME"),
        },
    };
    let host = PluginHost::with_options(HostOptions {
        cache,
        ..Default::default()
    })?;
    let mut code = ExitCode::SUCCESS;
    for plugin in &args.plugins {
        match host.compile(plugin) {
            Ok((artifact, source)) => {
                let how = match source {
                    Source::Cached => "already compiled",
                    _ => "compiled",
                };
                println!("{}: {how}: {}", plugin.display(), artifact.display());
            }
            Err(e) => {
                eprintln!("tug: {e:#}");
                code = ExitCode::from(125);
            }
        }
    }
    Ok(code)
}
