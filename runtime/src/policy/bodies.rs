//! The create and update bodies of containers, exec instances, networks and volumes, and a commit's
//! config: each canonical, checked against its rules (`policy/rules.rs`), within the run's quotas, and
//! stamped with the run's labels.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::{
    canonical::{self, BodyKind},
    denial::{Denial, GateError},
    gate::{shorten, Gate},
    rules,
};
use crate::engine::{segment, Client, Error, Request};

fn bytes(body: &Value) -> Bytes {
    Bytes::from(canonical::to_canonical_bytes(body))
}

impl Gate {
    /// A container create body: canonical, checked against every container rule (every container,
    /// network and volume it names resolved to the run's own and rewritten to the full id), stamped with
    /// the run's labels and the policy's ceilings.
    pub async fn container_create(&self, client: &Client, text: &str) -> Result<Bytes, GateError> {
        let mut body = self.canonical(BodyKind::ContainerCreate, text)?;
        self.container_quota(client, 1, None, "").await?;
        self.check_labels(&body["Labels"], "Labels")?;
        if !self.unrestricted() {
            rules::container_create(self, client, &mut body).await?;
        }
        self.stamp(&mut body, "Labels");
        Ok(bytes(&body))
    }

    /// A container update body.
    pub fn container_update(&self, text: &str) -> Result<Bytes, Denial> {
        let mut body = self.canonical(BodyKind::ContainerUpdate, text)?;
        if !self.unrestricted() {
            rules::container_update(self, &mut body)?;
        }
        Ok(bytes(&body))
    }

    /// An exec create body for the run's container `container` (its full id), within the policy's quota
    /// of exec instances per container: the engine keeps every exec instance (finished or never started)
    /// until the container is removed.
    pub async fn exec_create(
        &self,
        client: &Client,
        container: &str,
        text: &str,
    ) -> Result<Bytes, GateError> {
        let body = self.canonical(BodyKind::ExecCreate, text)?;
        if !self.unrestricted() {
            rules::exec_create(&body)?;
            let limit = self.policy.quota.execs;
            if limit != u32::MAX {
                let v: Value = client
                    .json(Request::get(format!("/containers/{}/json", segment(container))))
                    .await?;
                let held = v["ExecIDs"].as_array().map_or(0, Vec::len);
                if held as u64 >= u64::from(limit) {
                    return Err(Denial::call(
                        "quota.execs",
                        format!(
                            "container {} already holds {held} exec instances, the most policy {} allows \
                             per container (they last until the container is removed)",
                            shorten(container),
                            self.policy.name
                        ),
                    )
                    .into());
                }
            }
        }
        Ok(bytes(&body))
    }

    /// An image commit's container config: labels stamped as an image's (the run's own keys set empty,
    /// which the daemon would otherwise copy from the container).
    pub fn commit_config(&self, text: Option<&str>) -> Result<Bytes, Denial> {
        let mut body = match text {
            Some(t) => self.canonical(BodyKind::ImageCommit, t)?,
            None => Value::Object(Map::new()),
        };
        if body.is_null() {
            body = Value::Object(Map::new());
        }
        self.check_labels(&body["Labels"], "Labels")?;
        self.stamp_image(&mut body, "Labels");
        Ok(bytes(&body))
    }

    /// A network create body: canonical, within the run's quota, checked against the network rules, and
    /// stamped with the run's labels. A name that is already another's network, or that reads as a
    /// network id, is refused.
    pub async fn network_create(&self, client: &Client, text: &str) -> Result<Bytes, GateError> {
        let mut body = self.canonical(BodyKind::NetworkCreate, text)?;
        self.quota(client, "/networks", self.policy.quota.networks, "networks")
            .await?;
        self.check_labels(&body["Labels"], "Labels")?;
        if !self.unrestricted() {
            super::rules_networks::network_create(&body)?;
            if let Some(name) = body["Name"].as_str().filter(|n| !n.is_empty()) {
                self.object_name("networks.name", name, "Name")?;
                // The daemon would make a second network of that name, and every lookup by the name
                // ambiguous: refuse to shadow another's network.
                let filters = serde_json::json!({ "name": [name] }).to_string();
                let same: Value = client
                    .json(Request::get("/networks").query("filters", filters))
                    .await?;
                let others = same
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|n| n["Name"].as_str() == Some(name) && !self.owns_labels(&n["Labels"]));
                if others {
                    return Err(Denial::field(
                        "ownership",
                        "Name",
                        format!(
                            "a network named {} exists and was not created by this run",
                            shorten(name)
                        ),
                    )
                    .into());
                }
            }
        }
        self.stamp(&mut body, "Labels");
        Ok(bytes(&body))
    }

    /// A network connect (`NetworkConnect`) or disconnect (`NetworkDisconnect`) body: canonical, and its
    /// `Container` one of the run's own, rewritten to the full id.
    pub async fn network_endpoint(
        &self,
        client: &Client,
        kind: BodyKind,
        text: &str,
    ) -> Result<Bytes, GateError> {
        let mut body = self.canonical(kind, text)?;
        let container = body["Container"].as_str().unwrap_or_default().to_owned();
        if container.is_empty() {
            return Err(Denial::field("ownership", "Container", "the body names no Container").into());
        }
        let full = self.container(client, &container, "Container").await?.id;
        body["Container"] = Value::from(full);
        if !self.unrestricted() {
            if let Some(e) = body.get_mut("EndpointConfig") {
                rules::endpoint(self, client, e, "EndpointConfig").await?;
            }
        }
        Ok(bytes(&body))
    }

    /// A volume create body: canonical, within the run's quota, checked against the volume rules, and
    /// stamped with the run's labels. A name that is already another's volume is refused: the daemon would
    /// answer with that volume instead of creating one.
    pub async fn volume_create(&self, client: &Client, text: &str) -> Result<Bytes, GateError> {
        let mut body = self.canonical(BodyKind::VolumeCreate, text)?;
        self.quota(client, "/volumes", self.policy.quota.volumes, "volumes")
            .await?;
        self.check_labels(&body["Labels"], "Labels")?;
        if !self.unrestricted() {
            super::rules_networks::volume_create(&body)?;
            if let Some(name) = body["Name"].as_str().filter(|n| !n.is_empty()) {
                super::ownership::bounded(name, "Name")?;
                match client
                    .json::<Value>(Request::get(format!("/volumes/{}", segment(name))))
                    .await
                {
                    Ok(v) if !self.owns_labels(&v["Labels"]) => {
                        return Err(Denial::field(
                            "ownership",
                            "Name",
                            format!("volume {} exists and was not created by this run", shorten(name)),
                        )
                        .into());
                    }
                    Ok(_) | Err(Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.stamp(&mut body, "Labels");
        Ok(bytes(&body))
    }

    /// A volume update body (cluster volumes): canonical; anything but an unrestricted policy is refused,
    /// since cluster volumes are swarm objects.
    pub fn volume_update(&self, text: &str) -> Result<Bytes, Denial> {
        let body = self.canonical(BodyKind::VolumeUpdate, text)?;
        if !self.unrestricted() {
            return Err(Denial::call(
                "volumes.update",
                "cluster volume updates need an unrestricted policy",
            ));
        }
        Ok(bytes(&body))
    }
}
