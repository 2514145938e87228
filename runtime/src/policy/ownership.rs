//! Ownership: every name, id or id prefix a plugin gives — in a path or inside a body — is resolved once
//! by the gate, checked, and the full id is what the host forwards ([`Gate::resolve`]). The kind of object
//! comes from the operation table (`Op::target`).

use serde_json::Value;

use super::{
    denial::{Denial, GateError},
    gate::{shorten, Gate, MAX_NAME},
    operations::{Op, Target},
    rules_swarm::SwarmObject,
};
use crate::engine::{segment, Client, Error, Request};

/// What the gate found for a name: the full id to forward, and the object's inspect document when the
/// check read one (`null` otherwise).
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The full id (a volume's or plugin's name; an image's `sha256:` id).
    pub id: String,
    /// The inspect document the gate read, or `null`.
    pub doc: Value,
}

impl Resolved {
    fn new(id: impl Into<String>, doc: Value) -> Self {
        Resolved { id: id.into(), doc }
    }
}

/// Refuses names too long to be any object's, before they reach the engine.
pub fn bounded(name: &str, field: &str) -> Result<(), GateError> {
    if name.is_empty() {
        return Err(Error::InvalidArgument(format!("{field}: an empty name names nothing")).into());
    }
    if name.len() > MAX_NAME {
        return Err(Error::InvalidArgument(format!(
            "{field}: {} is longer than any name or id ({MAX_NAME} bytes)",
            shorten(name)
        ))
        .into());
    }
    Ok(())
}

/// A plugin name or reference the host may put into a path: no empty, `.` or `..` parts. (Managed plugins
/// are nobody's: the `plugins` area's grant is the check.)
pub fn plugin_name(name: &str, field: &str) -> Result<(), GateError> {
    if name.is_empty() || name.split('/').any(|part| matches!(part, "" | "." | "..")) {
        return Err(
            Error::InvalidArgument(format!("{field}: {} is not a plugin name", shorten(name))).into(),
        );
    }
    bounded(name, field)
}

impl Gate {
    /// Resolves the object operation `op` addresses by `name` (a name, id or id prefix), checks that the
    /// run may use it that way, and returns its full id: a container, exec instance, network, volume,
    /// service, task, secret or config must be the run's own; an image must be visible to the run (the
    /// policy allows one of its names, or the run made it), or the run's own for a removal; plugins and
    /// nodes are nobody's (their area's grant is the check). `field` names the parameter in a denial.
    pub async fn resolve(
        &self,
        client: &Client,
        op: Op,
        name: &str,
        field: &str,
    ) -> Result<Resolved, GateError> {
        match op.target() {
            Target::None | Target::Node => Ok(Resolved::new(name, Value::Null)),
            Target::Plugin => {
                plugin_name(name, field)?;
                Ok(Resolved::new(name, Value::Null))
            }
            Target::Container => self.container(client, name, field).await,
            Target::Exec => self.exec(client, name, field).await,
            Target::Network => self.own_network(client, name, field).await,
            Target::Volume => self.own_volume(client, name, field).await,
            Target::Image if op == Op::ImageDelete => self.image_owned(client, name, field).await,
            Target::Image => self.image_visible(client, name, field).await,
            Target::Service => self.swarm_object(client, SwarmObject::Service, name, field).await,
            Target::Secret => self.swarm_object(client, SwarmObject::Secret, name, field).await,
            Target::Config => self.swarm_object(client, SwarmObject::Config, name, field).await,
            Target::Task => self.task(client, name, field).await,
        }
    }

    /// The filters of a container list, with what they name resolved as the gate resolves any name: the
    /// containers of `since` and `before` must be the run's own (rewritten to their full ids), the images
    /// of `ancestor` visible to the run. (The daemon answers "no such container" for a name that is not
    /// there, which would tell a plugin which names others use.)
    pub async fn container_list_filters(
        &self,
        client: &Client,
        filters: Option<Vec<(String, Vec<String>)>>,
    ) -> Result<Option<Vec<(String, Vec<String>)>>, GateError> {
        let Some(mut filters) = filters else {
            return Ok(None);
        };
        if self.sees_everything() {
            return Ok(Some(filters));
        }
        for (key, values) in filters.iter_mut() {
            for value in values.iter_mut() {
                let field = format!("filters.{key}");
                match key.as_str() {
                    "since" | "before" => *value = self.container(client, value, &field).await?.id,
                    "ancestor" => *value = self.image_visible(client, value, &field).await?.id,
                    _ => {}
                }
            }
        }
        Ok(Some(filters))
    }

    /// Resolves a container name or id prefix and checks that the run owns it.
    pub async fn container(&self, client: &Client, id: &str, field: &str) -> Result<Resolved, GateError> {
        // A full id the run's own create returned: owned (labels cannot change, ids are never reused),
        // so no lookup. The engine matches a full id before names, so while the container exists the
        // call reaches it; once it is gone, only a container *named* with that id could answer, and
        // plugins may not give such names (`Gate::object_name`), and the run forgets the ids it removes.
        if self
            .created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(id)
        {
            return Ok(Resolved::new(id, Value::Null));
        }
        bounded(id, field)?;
        let v: Value = client
            .json(Request::get(format!("/containers/{}/json", segment(id))))
            .await?;
        let full = v["Id"].as_str().unwrap_or_default().to_owned();
        if self.unrestricted() || self.owns_labels(&v["Config"]["Labels"]) {
            return Ok(Resolved::new(full, v));
        }
        Err(Denial::field(
            "ownership",
            field,
            format!(
                "container {} was not created by this run; a plugin may only touch its own containers",
                shorten(id)
            ),
        )
        .into())
    }

    /// Resolves an exec instance and checks that it runs in a container the run owns.
    pub async fn exec(&self, client: &Client, id: &str, field: &str) -> Result<Resolved, GateError> {
        bounded(id, field)?;
        let v: Value = client
            .json(Request::get(format!("/exec/{}/json", segment(id))))
            .await?;
        let container = v["ContainerID"].as_str().unwrap_or_default().to_owned();
        self.container(client, &container, field).await?;
        let full = v["ID"].as_str().unwrap_or(id).to_owned();
        Ok(Resolved::new(full, v))
    }

    /// Resolves a network a container may join (a create's `NetworkMode` or `EndpointsConfig` key): one
    /// the policy lists by name (kept as given: `bridge`, `none`, `default`), or the run's own (its full
    /// id).
    pub async fn network(&self, client: &Client, name: &str, field: &str) -> Result<String, GateError> {
        if self.unrestricted() || self.policy.containers.networks.iter().any(|n| n == name) {
            return Ok(name.to_owned());
        }
        bounded(name, field)?;
        let v: Value = client
            .json(Request::get(format!("/networks/{}", segment(name))))
            .await?;
        if self.owns_labels(&v["Labels"]) {
            return Ok(v["Id"].as_str().unwrap_or(name).to_owned());
        }
        Err(Denial::field(
            "containers.networks",
            field,
            format!(
                "network {} is neither the run's own nor one policy {} allows ({})",
                shorten(name),
                self.policy.name,
                self.policy.containers.networks.join(", ")
            ),
        )
        .into())
    }

    /// Resolves a network name, id or id prefix and checks that the run owns it. The built-in networks
    /// (`bridge`, `host`, `none`) are nobody's: a plugin may let containers join the ones its policy lists,
    /// but never change them.
    pub async fn own_network(&self, client: &Client, id: &str, field: &str) -> Result<Resolved, GateError> {
        bounded(id, field)?;
        let v: Value = client
            .json(Request::get(format!("/networks/{}", segment(id))))
            .await?;
        let full = v["Id"].as_str().unwrap_or_default().to_owned();
        if self.unrestricted() || self.owns_labels(&v["Labels"]) {
            return Ok(Resolved::new(full, v));
        }
        Err(Denial::field(
            "ownership",
            field,
            format!(
                "network {} was not created by this run; a plugin may only touch its own networks",
                shorten(id)
            ),
        )
        .into())
    }

    /// Resolves a named volume (volumes have no ids: the exact name) and checks that the run owns it.
    pub async fn own_volume(&self, client: &Client, name: &str, field: &str) -> Result<Resolved, GateError> {
        bounded(name, field)?;
        match client
            .json::<Value>(Request::get(format!("/volumes/{}", segment(name))))
            .await
        {
            Ok(v) if self.unrestricted() || self.owns_labels(&v["Labels"]) => Ok(Resolved::new(name, v)),
            Ok(_) => Err(Denial::field(
                "ownership",
                field,
                format!("volume {} was not created by this run", shorten(name)),
            )
            .into()),
            Err(Error::NotFound { .. }) if !self.unrestricted() => Err(Denial::field(
                "ownership",
                field,
                format!(
                    "volume {} does not exist; create it first so that it belongs to the run",
                    shorten(name)
                ),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Resolves a service, secret or config by name, id or id prefix and checks that the run owns it (its
    /// `Spec.Labels` carry the run's id).
    pub async fn swarm_object(
        &self,
        client: &Client,
        kind: SwarmObject,
        id: &str,
        field: &str,
    ) -> Result<Resolved, GateError> {
        bounded(id, field)?;
        let v: Value = client
            .json(Request::get(format!("/{}/{}", kind.path(), segment(id))))
            .await?;
        let full = v["ID"].as_str().unwrap_or_default().to_owned();
        if self.unrestricted() || self.owns_labels(&v["Spec"]["Labels"]) {
            return Ok(Resolved::new(full, v));
        }
        let noun = kind.noun();
        Err(Denial::field(
            "ownership",
            field,
            format!(
                "{noun} {} was not created by this run; a plugin may only touch its own {noun}s",
                shorten(id)
            ),
        )
        .into())
    }

    /// Resolves a task and checks that it belongs to a service the run owns (for a task whose service is
    /// gone: that its container spec carries the run's labels).
    pub async fn task(&self, client: &Client, id: &str, field: &str) -> Result<Resolved, GateError> {
        bounded(id, field)?;
        let v: Value = client
            .json(Request::get(format!("/tasks/{}", segment(id))))
            .await?;
        let full = v["ID"].as_str().unwrap_or_default().to_owned();
        if self.unrestricted() {
            return Ok(Resolved::new(full, v));
        }
        let service = v["ServiceID"].as_str().unwrap_or_default();
        let owned = match client
            .json::<Value>(Request::get(format!("/services/{}", segment(service))))
            .await
        {
            Ok(s) => self.owns_labels(&s["Spec"]["Labels"]),
            Err(Error::NotFound { .. }) => self.owns_labels(&v["Spec"]["ContainerSpec"]["Labels"]),
            Err(e) => return Err(e.into()),
        };
        if owned {
            return Ok(Resolved::new(full, v));
        }
        Err(Denial::field(
            "ownership",
            field,
            format!(
                "task {} belongs to service {service}, which this run did not create",
                shorten(id)
            ),
        )
        .into())
    }
}
