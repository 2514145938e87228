//! The object layer: docker-py's collections and models over the WIT functions, with typed documents
//! ([`crate::models`]).
//!
//! [`Docker`] is an engine the host granted ([`Docker::from_env`]: the one `tug run` was given;
//! [`Docker::open`]: another by name). Its collections — [`Docker::containers`], [`Docker::images`],
//! [`Docker::networks`], [`Docker::volumes`], [`Docker::swarm`], [`Docker::nodes`], [`Docker::services`],
//! [`Docker::tasks`], [`Docker::secrets`], [`Docker::configs`], [`Docker::plugins`] — hold the functions
//! that take no ID (`list`, `create`, `get`, `prune`, and composites such as [`Containers::run`]); the
//! models they return ([`Container`], [`Image`], [`Network`], [`Volume`], [`Service`]…) hold the
//! functions that take one, under their WIT names (`logs`, `start`, `stop`, `remove`, `get_archive`,
//! `tag`, `history`…), with the engine's inspect document in `attrs`. A WIT function and its `*-streams`
//! twin (`containers.stats` and `container-streams.stats`) are two methods of one model
//! ([`Container::stats`], [`Container::stats_stream`]).
//!
//! Options are the WIT's own `*-options` records (every one implements `Default`) or, for the
//! composites, structs of this module with builder methods; they are always passed by value. Logs are
//! [`Logs`] (an iterator of frames); events, stats and progress are [`Docs`] (an iterator of typed
//! documents). Every method returns [`Error`]: docker-py's exceptions as cases, plus the policy's denial
//! with its rule, field and reason.
//!
//! ```no_run
//! use tug_sdk::docker::{Docker, RunOptions};
//!
//! fn main() -> Result<(), tug_sdk::docker::Error> {
//!     let docker = Docker::from_env()?;
//!     let output = docker
//!         .containers()
//!         .run("busybox", RunOptions::new().command(["echo", "hello"]).remove(true))?
//!         .into_output();
//!     print!("{}", String::from_utf8_lossy(&output.unwrap_or_default()));
//!     Ok(())
//! }
//! ```

mod containers;
mod error;
mod images;
mod netvol;
mod plugins;
mod streams;
mod swarm;

use std::rc::Rc;

use serde::{de::DeserializeOwned, Serialize};

pub use containers::{Archive, Container, Containers, ExecOptions, ExecOutput, PathStat, Ran, RunOptions};
pub use error::{Error, Result};
pub use images::{BuildOutput, Image, Images};
pub use netvol::{Network, Networks, Volume, Volumes};
pub use plugins::{Plugin, Plugins};
pub use streams::{ready, take_lines, Docs, Logs, Waitable};
pub use swarm::{Config, Configs, Node, Nodes, Secret, Secrets, Service, Services, Swarm, Task, Tasks};

use crate::engines::{self, Engine};
use crate::models;

/// An engine the host granted this plugin, with docker-py's collections. Cheap to clone: clones share
/// the engine handle.
#[derive(Clone)]
pub struct Docker {
    engine: Rc<Engine>,
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docker")
            .field("name", &self.engine.name())
            .finish()
    }
}

impl Docker {
    /// The engine `tug run` was given (`engines.default`): docker-py's `docker.from_env()`.
    pub fn from_env() -> Result<Self> {
        Ok(Self::from_engine(engines::default()?))
    }

    /// The engine the host knows as `name` (`engines.open`), if the run was granted it.
    pub fn open(name: &str) -> Result<Self> {
        Ok(Self::from_engine(engines::open(name)?))
    }

    /// The names of the engines the run was given (`engines.names`), `default` first: each opens with
    /// [`Docker::open`].
    pub fn engine_names() -> Vec<String> {
        engines::names()
    }

    /// Wraps an engine handle obtained from the WIT functions.
    pub fn from_engine(engine: Engine) -> Self {
        Docker {
            engine: Rc::new(engine),
        }
    }

    /// The engine handle, for the WIT functions themselves ([`crate::containers`] and the rest).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine's name in the host's configuration.
    pub fn name(&self) -> String {
        self.engine.name()
    }

    /// The Engine API version the host speaks to it.
    pub fn api_version(&self) -> String {
        self.engine.api_version()
    }

    /// The containers.
    pub fn containers(&self) -> Containers {
        Containers::new(self.clone())
    }

    /// The images.
    pub fn images(&self) -> Images {
        Images::new(self.clone())
    }

    /// The networks.
    pub fn networks(&self) -> Networks {
        Networks::new(self.clone())
    }

    /// The volumes.
    pub fn volumes(&self) -> Volumes {
        Volumes::new(self.clone())
    }

    /// The swarm this engine is part of (or can create or join).
    pub fn swarm(&self) -> Swarm {
        Swarm::new(self.clone())
    }

    /// The swarm's nodes.
    pub fn nodes(&self) -> Nodes {
        Nodes::new(self.clone())
    }

    /// The swarm's services.
    pub fn services(&self) -> Services {
        Services::new(self.clone())
    }

    /// The swarm's tasks.
    pub fn tasks(&self) -> Tasks {
        Tasks::new(self.clone())
    }

    /// The swarm's secrets.
    pub fn secrets(&self) -> Secrets {
        Secrets::new(self.clone())
    }

    /// The swarm's configs.
    pub fn configs(&self) -> Configs {
        Configs::new(self.clone())
    }

    /// The engine's plugins.
    pub fn plugins(&self) -> Plugins {
        Plugins::new(self.clone())
    }

    /// `system.ping`: the API version and what the engine says about itself in the ping's headers.
    pub fn ping(&self) -> Result<crate::system::PingInfo> {
        Ok(crate::system::ping(&self.engine)?)
    }

    /// `system.version`.
    pub fn version(&self) -> Result<models::SystemVersion> {
        parse("system.version", &crate::system::version(&self.engine)?)
    }

    /// `system.info`.
    pub fn info(&self) -> Result<models::SystemInfo> {
        parse("system.info", &crate::system::info(&self.engine)?)
    }

    /// `system.data-usage`: docker-py's `df()`.
    pub fn data_usage(&self) -> Result<models::SystemDataUsageResponse> {
        parse("system.data-usage", &crate::system::data_usage(&self.engine)?)
    }

    /// `system.auth`: checks credentials with a registry (docker-py's `login`).
    pub fn auth(&self, config: &crate::types::AuthConfig) -> Result<models::AuthResponse> {
        parse("system.auth", &crate::system::auth(&self.engine, config)?)
    }

    /// `system-streams.events`: the engine's events as they happen (bounded by `since`/`until` in the
    /// options, else until the iterator is dropped).
    pub fn events(
        &self,
        options: crate::system_streams::EventsOptions,
    ) -> Result<Docs<models::EventMessage>> {
        Ok(Docs::new(
            crate::system_streams::events(&self.engine, &options)?,
            "an event",
        ))
    }
}

/// Reads `json`, answered by `what`, as a `T`.
pub(crate) fn parse<T: DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::decode(what, e))
}

/// `value` as JSON text, for the WIT function `what`.
pub(crate) fn to_json<T: Serialize>(what: &str, value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::InvalidArgument(format!("{what}: the document cannot be written as JSON: {e}")))
}

/// Each of `ids` got with `get`, leaving out those removed between a listing and the inspect (docker-py's
/// `list()` does the same); `None` ids are skipped.
pub(crate) fn get_each<T>(
    ids: impl IntoIterator<Item = Option<String>>,
    get: impl Fn(&str) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for id in ids.into_iter().flatten() {
        match get(&id) {
            Ok(model) => out.push(model),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The `Id` (or `ID`) of a creation's answer.
pub(crate) fn id_of(what: &str, json: &str) -> Result<String> {
    let v: serde_json::Value = parse(what, json)?;
    v.get("Id")
        .or_else(|| v.get("ID"))
        .and_then(|id| id.as_str())
        .map(str::to_owned)
        .ok_or_else(|| Error::decode(what, format!("the answer has no Id: {json}")))
}

/// The first 12 characters of an ID, without a `sha256:` prefix, as `docker ps` shows it.
pub fn short_id(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    &id[..id.len().min(12)]
}

/// A filter set (`{"label": ["a=b"], "status": ["running"]}`) from pairs, as the WIT's `filters`
/// records it.
pub fn filters<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> crate::types::Filters {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|(key, _)| key == k) {
            Some((_, values)) => values.push(v.to_owned()),
            None => out.push((k.to_owned(), vec![v.to_owned()])),
        }
    }
    out
}
