//! Host bindings generated from `wit/` (world `tug:engine/imports`). WASI comes from wasmtime-wasi; each
//! tug resource is backed by a `Host*` type of [`super::resources`].

wasmtime::component::bindgen!({
    path: "../wit",
    world: "tug:engine/imports",
    imports: { default: async | trappable },
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "tug:engine/engines.engine": super::call::HostEngine,
        "tug:engine/types.json-stream": super::resources::HostJsonStream,
        "tug:engine/types.frame-reader": super::resources::HostFrameReader,
        "tug:engine/types.upload": super::resources::HostUpload,
        "tug:engine/types.progress-upload": super::resources::HostProgressUpload,
        "tug:engine/types.attached-socket": super::resources::HostAttachedSocket,
        "tug:engine/registry.image": super::registry::HostImage,
        "tug:engine/registry-streams.layer-upload": super::registry_streams::HostLayerUpload,
    },
});

pub use self::tug::engine::*;
