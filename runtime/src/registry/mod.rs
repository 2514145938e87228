//! The daemonless registry backend: a Docker Registry HTTP API v2 / OCI distribution client and an image
//! model whose layers stay in their registry until needed.
//!
//! - [`reference`]: image references, normalized like docker (`busybox` → `docker.io/library/busybox:latest`);
//! - [`auth`]: credentials from docker's `config.json` and credential helpers; Basic and Bearer challenges;
//! - [`client`]: the HTTP client ([`Registry`]): https with rustls, plain http for loopback and insecure
//!   hosts, tokens cached per registry and scope, transfer counters;
//! - `blob`: manifests and blobs over the API, every byte verified against digest and size;
//! - [`manifest`]: the four manifest media types, platforms;
//! - [`image`]: [`Image`]: pull (lazy layers), config edits, layers added from tar streams, files or host
//!   directories; `archive` writes `docker save` and OCI layout tars, `import` reads `docker save` tars;
//!   `push` mounts, skips or streams;
//! - [`catalog`]: read-only listings, a registry's catalog and a repository's tags.
//!
//! Nothing here talks to a Docker daemon.

mod archive;
pub mod auth;
mod blob;
pub mod catalog;
pub mod client;
pub mod error;
pub mod image;
mod import;
mod layer;
pub mod manifest;
mod push;
pub mod reference;

pub use auth::Credentials;
pub use client::{Registry, RegistryOptions, TransferStats};
pub use error::RegistryError;
pub use image::{ConfigEdit, Image, LayerInfo, Platform, PushReport};
pub use reference::Reference;
