//! Linker glue: WASI 0.2 from wasmtime-wasi, then each tug interface, and nothing else.

use wasmtime::component::{HasSelf, Linker};

use super::{bindings, state::HostState};

fn get(s: &mut HostState) -> &mut HostState {
    s
}

/// Adds WASI and every `tug:engine` interface to a linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    bindings::types::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::engines::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::system::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::system_streams::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::containers::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::container_streams::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::exec::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::exec_streams::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::images::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::image_streams::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::distribution::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::plugins::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::plugin_streams::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::networks::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::volumes::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::swarm::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::nodes::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::services::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::service_streams::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::tasks::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::task_streams::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::secrets::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::configs::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::registry::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    bindings::registry_streams::add_to_linker::<HostState, HasSelf<HostState>>(linker, get)?;
    Ok(())
}
