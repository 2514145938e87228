//! The Rust SDK for tug plugins.
//!
//! A tug plugin is an ordinary WASI 0.2 command: a Rust binary with a `fn main()`, built with
//! `cargo build --target wasm32-wasip2`, and run with `tug run plugin.wasm`. The crate has three layers
//! (`docs/sdk-rust.md` in the tug repository walks through a first plugin):
//!
//! - [`docker`]: docker-py's collections and models — `Docker::from_env()?.containers().run(…)`,
//!   `container.logs(…)`, `image.tag(…)` — with one error enum and iterators for streams. Start here.
//! - [`models`]: every Engine API document as a Rust type, generated from the Engine API specs; unknown
//!   fields and enum values are kept, so documents survive a round trip.
//! - the `tug:engine` contract itself (`wit/`): one module per WIT interface, named as in the WIT
//!   ([`containers`], [`container_streams`], [`images`], …), with helpers for the stream handles
//!   ([`read_to_end`], [`documents`], [`frames`], [`collect_output`], [`upload_all`], …). Documents travel
//!   as JSON text ([`types::Json`]) and every function returns [`types::Error`].
//!
//! [`archive`] makes tars and build contexts. The contract, used directly:
//!
//! ```no_run
//! use serde_json::{json, Value};
//! use tug_sdk::{collect_output, container_streams, containers, engine, frames};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let docker = engine();
//!     let config = json!({"Image": "busybox", "Cmd": ["echo", "hello"]}).to_string();
//!     let created: Value = serde_json::from_str(&containers::create(&docker, &config, &Default::default())?)?;
//!     let id = created["Id"].as_str().ok_or("no Id")?;
//!     containers::start(&docker, id, &Default::default())?;
//!     containers::wait(&docker, id, &Default::default())?;
//!     let options = container_streams::LogsOptions { stdout: Some(true), ..Default::default() };
//!     let (stdout, _) = collect_output(frames(&container_streams::logs(&docker, id, &options)?))?;
//!     print!("{}", String::from_utf8_lossy(&stdout));
//!     containers::remove(&docker, id, containers::RemoveOptions { force: Some(true), ..Default::default() })?;
//!     Ok(())
//! }
//! ```
//!
//! Every `*-options` record implements [`Default`], so only the parameters that matter need spelling out:
//! `containers::ListOptions { all: Some(true), ..Default::default() }`. Functions take records by
//! reference, except records of only numbers and booleans (`containers::RemoveOptions`,
//! `exec_streams::StartOptions`…): those are `Copy`, and wit-bindgen passes them by value.
//!
//! The `wasi:*` types (streams, pollables) are those of the [`wasip2`] crate, re-exported here, so they
//! work with everything else built on it; `InputStream` implements [`std::io::Read`] and `OutputStream`
//! [`std::io::Write`].
//!
//! The SDK does not export anything: Rust's `wasm32-wasip2` target makes `fn main()` the component's
//! `wasi:cli/run` export by itself.

#![warn(missing_docs)]

#[allow(missing_docs, unused_imports)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        // Only what tug adds to a plugin's imports. The world `plugin` also exports `wasi:cli/run`,
        // which std's `fn main()` provides: a library declaring that export too would make the
        // component linker look for a second `run` in the module.
        world: "tug:engine/imports",
        // The WASI types the contract uses (streams, pollables) are the `wasip2` crate's, so that they
        // are one type across crates.
        with: {
            "wasi:io/error@0.2.12": wasip2::io::error,
            "wasi:io/poll@0.2.12": wasip2::io::poll,
            "wasi:io/streams@0.2.12": wasip2::io::streams,
            // Hand-written, for a readable `Display` (see `error.rs`).
            "tug:engine/types@0.1.0/error": crate::error::Error,
        },
        // `Default` for every record that can have it (all the `*-options`, `auth-config`…); not for the
        // types holding an enum or a resource.
        additional_derives: [Default],
        additional_derives_ignore: ["error", "stream-kind", "frame", "archive", "archive-format"],
    });
}

pub mod archive;
pub mod docker;
mod error;
pub mod io;
pub mod models;

pub use io::{
    collect_output, documents, frames, progress_upload_all, progress_upload_with, read_to_end, upload_all,
    upload_with, write_all, Documents, FrameSource, Frames, MAX_FRAME_BYTES,
};
pub use types::Error;
pub use wasip2;

/// Types every Engine API interface shares: errors, JSON text, filters, output frames, and the handle
/// resources through which the non-JSON transport shapes reach a plugin (WIT `tug:engine/types`).
pub mod types {
    pub use crate::bindings::tug::engine::types::*;
    pub use crate::error::Error;
}

pub use bindings::tug::engine::{
    container_streams, containers, distribution, engines, exec, exec_streams, image_streams, images,
    networks, system, system_streams, volumes,
};

pub use bindings::tug::engine::{plugin_streams, plugins};

pub use bindings::tug::engine::{
    configs, nodes, secrets, service_streams, services, swarm, task_streams, tasks,
};

pub use bindings::tug::engine::{registry, registry_streams};

/// The engine `tug run` was given (`engines::default()`).
///
/// # Panics
///
/// If the host gives the plugin no default engine (then the plugin cannot do anything useful); use
/// [`engines::default`] to handle that case.
pub fn engine() -> engines::Engine {
    match engines::default() {
        Ok(engine) => engine,
        Err(e) => panic!("tug: the plugin has no default engine: {e}"),
    }
}

/// Runs a plugin's body, and when it fails prints `error: ` and the error's one line to stderr and
/// ends the plugin with exit code 1.
///
/// ```no_run
/// tug_sdk::main(|| -> Result<(), tug_sdk::docker::Error> {
///     let docker = tug_sdk::docker::Docker::from_env()?;
///     println!("{}", docker.version()?.version.unwrap_or_default());
///     Ok(())
/// })
/// ```
pub fn main<E: std::fmt::Display>(body: impl FnOnce() -> Result<(), E>) {
    if let Err(e) = body() {
        eprintln!("error: {e}");
        exit(1);
    }
}

/// Ends the plugin with exit code `code`, which `tug run` passes through as its own, after flushing stdout
/// and stderr.
///
/// Use this for exit codes other than 0 and 1: on `wasm32-wasip2`, [`std::process::exit`] reports only
/// success or failure (`wasi:cli/exit.exit`), so any non-zero code arrives as 1. This calls
/// `wasi:cli/exit.exit-with-code` (WASI 0.2.12) instead.
pub fn exit(code: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    #[cfg(target_arch = "wasm32")]
    wasip2::cli::exit::exit_with_code(code);
    // Not reached on wasm32, where `exit-with-code` does not return; elsewhere (host builds, for tests and
    // lints) the ordinary exit.
    std::process::exit(i32::from(code))
}
