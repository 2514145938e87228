//! Swarm mode: [`Swarm`] over `swarm`; [`Nodes`]/[`Node`], [`Services`]/[`Service`],
//! [`Tasks`]/[`Task`], [`Secrets`]/[`Secret`] and [`Configs`]/[`Config`] over the interfaces of the
//! same names (and `service-streams`, `task-streams`).

use super::{filters, id_of, parse, short_id, streams::Logs, to_json, Docker, Result};
use crate::models::{
    Config as ConfigDoc, ConfigSpec, Node as NodeDoc, NodeSpec, ObjectVersion, Secret as SecretDoc,
    SecretSpec, Service as ServiceDoc, ServiceSpec, Swarm as SwarmDoc, SwarmInitBody, SwarmJoinBody,
    SwarmSpec, SwarmUnlockkeyResponse, Task as TaskDoc,
};
use crate::types::AuthConfig;
use crate::{configs, nodes, secrets, service_streams, services, swarm, task_streams, tasks};

/// The version an update must name (the object's `Version.Index`).
fn version(v: &Option<ObjectVersion>) -> i64 {
    v.as_ref().and_then(|v| v.index).unwrap_or(0) as i64
}

/// The swarm an engine is part of: [`crate::docker::Docker::swarm`].
#[derive(Clone, Debug)]
pub struct Swarm {
    docker: Docker,
}

impl Swarm {
    pub(crate) fn new(docker: Docker) -> Self {
        Swarm { docker }
    }

    /// `swarm.inspect` (a 503 `Api` error when the engine is not a manager).
    pub fn inspect(&self) -> Result<SwarmDoc> {
        parse("swarm.inspect", &swarm::inspect(self.docker.engine())?)
    }

    /// `swarm.init`: makes the engine the first manager of a new swarm; returns its node ID.
    pub fn init(&self, request: SwarmInitBody) -> Result<String> {
        parse(
            "swarm.init",
            &swarm::init(self.docker.engine(), &to_json("swarm.init", &request)?)?,
        )
    }

    /// `swarm.join`.
    pub fn join(&self, request: SwarmJoinBody) -> Result<()> {
        Ok(swarm::join(
            self.docker.engine(),
            &to_json("swarm.join", &request)?,
        )?)
    }

    /// `swarm.leave`.
    pub fn leave(&self, force: bool) -> Result<()> {
        Ok(swarm::leave(
            self.docker.engine(),
            swarm::LeaveOptions { force: Some(force) },
        )?)
    }

    /// `swarm.update` with `spec`, at the swarm's current version.
    pub fn update(
        &self,
        spec: &SwarmSpec,
        rotate_worker_token: bool,
        rotate_manager_token: bool,
    ) -> Result<()> {
        let current = self.inspect()?;
        let options = swarm::UpdateOptions {
            version: version(&current.version),
            rotate_worker_token: Some(rotate_worker_token),
            rotate_manager_token: Some(rotate_manager_token),
            ..Default::default()
        };
        Ok(swarm::update(
            self.docker.engine(),
            &to_json("swarm.update", spec)?,
            options,
        )?)
    }

    /// `swarm.unlock-key`.
    pub fn unlock_key(&self) -> Result<SwarmUnlockkeyResponse> {
        parse("swarm.unlock-key", &swarm::unlock_key(self.docker.engine())?)
    }

    /// `swarm.unlock` with the key.
    pub fn unlock(&self, key: &str) -> Result<()> {
        let request = serde_json::json!({ "UnlockKey": key }).to_string();
        Ok(swarm::unlock(self.docker.engine(), &request)?)
    }
}

/// Defines a collection and its model for a swarm object whose listing gives whole documents.
macro_rules! swarm_object {
    ($collection:ident, $model:ident, $doc:ty, $module:ident, $what:literal) => {
        #[doc = concat!("The swarm's ", $what, "s: [`crate::docker::Docker::", stringify!($module), "`].")]
        #[derive(Clone, Debug)]
        pub struct $collection {
            docker: Docker,
        }

        #[doc = concat!("A ", $what, ": its ID and its inspect document.")]
        #[derive(Clone, Debug)]
        pub struct $model {
            docker: Docker,
            /// The ID.
            pub id: String,
            /// The engine's inspect document.
            pub attrs: $doc,
        }

        impl $collection {
            pub(crate) fn new(docker: Docker) -> Self {
                $collection { docker }
            }

            fn model(&self, attrs: $doc) -> $model {
                $model {
                    docker: self.docker.clone(),
                    id: attrs.id.clone().unwrap_or_default(),
                    attrs,
                }
            }

            #[doc = concat!("`", stringify!($module), ".list` (each ", $what, "'s whole document).")]
            pub fn list(&self, options: $module::ListOptions) -> Result<Vec<$model>> {
                let docs: Vec<$doc> = parse(
                    concat!(stringify!($module), ".list"),
                    &$module::list(self.docker.engine(), &options)?,
                )?;
                Ok(docs.into_iter().map(|d| self.model(d)).collect())
            }
        }

        impl $model {
            /// The first 12 characters of the ID.
            pub fn short_id(&self) -> &str {
                short_id(&self.id)
            }

            /// Inspects it again.
            pub fn reload(&mut self) -> Result<()> {
                *self = self.docker.$module().get(&self.id)?;
                Ok(())
            }
        }
    };
}

swarm_object!(Nodes, Node, NodeDoc, nodes, "node");
swarm_object!(Services, Service, ServiceDoc, services, "service");
swarm_object!(Tasks, Task, TaskDoc, tasks, "task");
swarm_object!(Secrets, Secret, SecretDoc, secrets, "secret");
swarm_object!(Configs, Config, ConfigDoc, configs, "config");

impl Nodes {
    /// The node with this ID or name (`nodes.inspect`).
    pub fn get(&self, id: &str) -> Result<Node> {
        let doc = parse("nodes.inspect", &nodes::inspect(self.docker.engine(), id)?)?;
        Ok(self.model(doc))
    }
}

impl Node {
    /// `nodes.update` with `spec`, at the node's version as of the last reload.
    pub fn update(&self, spec: &NodeSpec) -> Result<()> {
        Ok(nodes::update(
            self.docker.engine(),
            &self.id,
            &to_json("nodes.update", spec)?,
            nodes::UpdateOptions {
                version: version(&self.attrs.version),
            },
        )?)
    }

    /// `nodes.remove`.
    pub fn remove(&self, force: bool) -> Result<()> {
        Ok(nodes::remove(
            self.docker.engine(),
            &self.id,
            nodes::RemoveOptions { force: Some(force) },
        )?)
    }
}

impl Services {
    /// The service with this ID or name (`services.inspect`).
    pub fn get(&self, id: &str) -> Result<Service> {
        let doc = parse(
            "services.inspect",
            &services::inspect(self.docker.engine(), id, Default::default())?,
        )?;
        Ok(self.model(doc))
    }

    /// `services.create` from `spec`.
    pub fn create(&self, spec: &ServiceSpec, auth: Option<AuthConfig>) -> Result<Service> {
        let answer = services::create(
            self.docker.engine(),
            &to_json("services.create", spec)?,
            auth.as_ref(),
        )?;
        self.get(&id_of("services.create", &answer)?)
    }
}

impl Service {
    /// The name.
    pub fn name(&self) -> Option<&str> {
        self.attrs.spec.as_ref().and_then(|s| s.name.as_deref())
    }

    /// `services.update` with `spec`, at the service's version as of the last reload.
    pub fn update(&self, spec: &ServiceSpec, auth: Option<AuthConfig>) -> Result<()> {
        services::update(
            self.docker.engine(),
            &self.id,
            &to_json("services.update", spec)?,
            &services::UpdateOptions {
                version: version(&self.attrs.version),
                ..Default::default()
            },
            auth.as_ref(),
        )?;
        Ok(())
    }

    /// docker-py's `scale`: sets the replicas of a replicated service.
    pub fn scale(&self, replicas: u64) -> Result<()> {
        let mut spec = self.attrs.spec.clone().unwrap_or_default();
        let mode = spec.mode.get_or_insert_with(Default::default);
        mode.replicated.get_or_insert_with(Default::default).replicas = Some(replicas as i64);
        self.update(&spec, None)
    }

    /// `services.remove`.
    pub fn remove(&self) -> Result<()> {
        Ok(services::remove(self.docker.engine(), &self.id)?)
    }

    /// `service-streams.logs`.
    pub fn logs(&self, options: service_streams::LogsOptions) -> Result<Logs> {
        Ok(Logs::new(service_streams::logs(
            self.docker.engine(),
            &self.id,
            &options,
        )?))
    }

    /// The service's tasks (`tasks.list` filtered by `service`).
    pub fn tasks(&self) -> Result<Vec<Task>> {
        self.docker.tasks().list(tasks::ListOptions {
            filters: Some(filters([("service", self.id.as_str())])),
        })
    }
}

impl Tasks {
    /// The task with this ID (`tasks.inspect`).
    pub fn get(&self, id: &str) -> Result<Task> {
        let doc = parse("tasks.inspect", &tasks::inspect(self.docker.engine(), id)?)?;
        Ok(self.model(doc))
    }
}

impl Task {
    /// `task-streams.logs`.
    pub fn logs(&self, options: task_streams::LogsOptions) -> Result<Logs> {
        Ok(Logs::new(task_streams::logs(
            self.docker.engine(),
            &self.id,
            &options,
        )?))
    }
}

impl Secrets {
    /// The secret with this ID or name (`secrets.inspect`).
    pub fn get(&self, id: &str) -> Result<Secret> {
        let doc = parse("secrets.inspect", &secrets::inspect(self.docker.engine(), id)?)?;
        Ok(self.model(doc))
    }

    /// `secrets.create` from `spec` (`Data` is base64).
    pub fn create(&self, spec: &SecretSpec) -> Result<Secret> {
        let answer = secrets::create(self.docker.engine(), &to_json("secrets.create", spec)?)?;
        self.get(&id_of("secrets.create", &answer)?)
    }
}

impl Secret {
    /// `secrets.update` (only its labels can change), at its version as of the last reload.
    pub fn update(&self, spec: &SecretSpec) -> Result<()> {
        Ok(secrets::update(
            self.docker.engine(),
            &self.id,
            &to_json("secrets.update", spec)?,
            secrets::UpdateOptions {
                version: version(&self.attrs.version),
            },
        )?)
    }

    /// `secrets.remove`.
    pub fn remove(&self) -> Result<()> {
        Ok(secrets::remove(self.docker.engine(), &self.id)?)
    }
}

impl Configs {
    /// The config with this ID or name (`configs.inspect`).
    pub fn get(&self, id: &str) -> Result<Config> {
        let doc = parse("configs.inspect", &configs::inspect(self.docker.engine(), id)?)?;
        Ok(self.model(doc))
    }

    /// `configs.create` from `spec` (`Data` is base64).
    pub fn create(&self, spec: &ConfigSpec) -> Result<Config> {
        let answer = configs::create(self.docker.engine(), &to_json("configs.create", spec)?)?;
        self.get(&id_of("configs.create", &answer)?)
    }
}

impl Config {
    /// `configs.update` (only its labels can change), at its version as of the last reload.
    pub fn update(&self, spec: &ConfigSpec) -> Result<()> {
        Ok(configs::update(
            self.docker.engine(),
            &self.id,
            &to_json("configs.update", spec)?,
            configs::UpdateOptions {
                version: version(&self.attrs.version),
            },
        )?)
    }

    /// `configs.remove`.
    pub fn remove(&self) -> Result<()> {
        Ok(configs::remove(self.docker.engine(), &self.id)?)
    }
}
