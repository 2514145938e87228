//! The gate every Engine API call of a plugin passes: area access, ownership of targets, canonical and
//! checked request bodies, labels and ceilings forced onto what the run creates, and what lists show.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::{
    canonical::{self, BodyKind, CanonError},
    config::{Access, Policy},
    denial::{Denial, GateError},
    operations, rules,
};
use crate::engine::{segment, Client, Request};

/// The label every object a run creates carries, with the run's id.
pub const RUN_LABEL: &str = "tug.run";
/// The prefix of the labels tug reserves: a plugin may not set them.
pub const RESERVED_PREFIX: &str = "tug.";

/// One run's gate: its policy, its identity (the labels it stamps), and its engine lookups.
pub struct Gate {
    /// The policy.
    pub policy: Arc<Policy>,
    /// The run's id (the value of `tug.run`).
    pub run_id: String,
    /// The labels stamped on everything the run creates (`tug.run`, `tug.plugin`, …).
    pub labels: Vec<(String, String)>,
    /// Full ids of the containers this run created (through this gate, so with its labels): an
    /// operation naming one of them exactly needs no lookup to know the run owns it.
    created: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Gate {
    /// A gate for a run.
    pub fn new(policy: Arc<Policy>, run_id: String, labels: Vec<(String, String)>) -> Self {
        Gate {
            policy,
            run_id,
            labels,
            created: Default::default(),
        }
    }

    /// Forgets a container the run removed.
    pub fn forget_container(&self, full_id: &str) {
        self.created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(full_id);
    }

    /// Checks a container name a plugin gives (create, rename): it may not look like a full container id,
    /// which would let it answer for another container's id once that one is gone.
    pub fn container_name(&self, name: &str, field: &str) -> Result<(), Denial> {
        let bare = name.trim_start_matches('/');
        if !self.unrestricted() && bare.len() == 64 && bare.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Denial::field(
                "containers.name",
                field,
                format!("container name {bare} looks like a full container id; choose another name"),
            ));
        }
        Ok(())
    }

    /// Records a container this run just created (its full id, from the create answer).
    pub fn remember_container(&self, full_id: &str) {
        self.created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(full_id.to_owned());
    }

    /// Whether the policy grants the operation's area at the access it needs.
    pub fn allow(&self, operation: &str) -> Result<(), Denial> {
        let Some((area, need)) = operations::requirement(operation) else {
            return Err(Denial::call(
                "operations",
                format!("{operation} is not an operation tug lets plugins call"),
            ));
        };
        let granted = self.policy.operations.get(area);
        if granted >= need {
            return Ok(());
        }
        Err(Denial::call(
            &format!("operations.{}", area.key()),
            format!(
                "{operation} needs {} access to {}; policy {} grants {}",
                access_word(need),
                area.key(),
                self.policy.name,
                access_word(granted)
            ),
        ))
    }

    fn unrestricted(&self) -> bool {
        self.policy.unrestricted
    }

    /// Whether labels mark an object as this run's.
    pub fn owns_labels(&self, labels: &Value) -> bool {
        labels.get(RUN_LABEL).and_then(Value::as_str) == Some(self.run_id.as_str())
    }

    /// Resolves a container name or id prefix and checks that the run owns it; returns the full id (the
    /// engine is then only ever asked about that id).
    pub async fn container(&self, client: &Client, id: &str, field: &str) -> Result<String, GateError> {
        // A full id the run's own create returned: owned (labels cannot change, ids are never reused),
        // so no lookup. The engine matches a full id before names, so while the container exists the
        // call reaches it; once it is gone, only a container *named* with that id could answer, and only
        // the run (whose containers carry its labels) or someone who holds the engine can name one: plugins
        // may not give such names (`container_name`), and the run forgets the ids it removes.
        if self
            .created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(id)
        {
            return Ok(id.to_owned());
        }
        let v: Value = client
            .json(Request::get(format!("/containers/{}/json", segment(id))))
            .await?;
        let full = v["Id"].as_str().unwrap_or_default().to_owned();
        if self.unrestricted() || self.owns_labels(&v["Config"]["Labels"]) {
            return Ok(full);
        }
        Err(Denial::field(
            "ownership",
            field,
            format!("container {id} was not created by this run; a plugin may only touch its own containers"),
        )
        .into())
    }

    /// Resolves an exec instance and checks that it runs in a container the run owns.
    pub async fn exec(&self, client: &Client, id: &str) -> Result<(), GateError> {
        let v: Value = client
            .json(Request::get(format!("/exec/{}/json", segment(id))))
            .await?;
        let container = v["ContainerID"].as_str().unwrap_or_default().to_owned();
        self.container(client, &container, "exec").await.map(|_| ())
    }

    /// Resolves a network and checks that the run owns it or the policy lists it.
    pub async fn network(&self, client: &Client, name: &str, field: &str) -> Result<(), GateError> {
        if self.unrestricted() || self.policy.containers.networks.iter().any(|n| n == name) {
            return Ok(());
        }
        let v: Value = client
            .json(Request::get(format!("/networks/{}", segment(name))))
            .await?;
        if self.owns_labels(&v["Labels"]) {
            return Ok(());
        }
        Err(Denial::field(
            "containers.networks",
            field,
            format!(
                "network {name} is neither the run's own nor one policy {} allows ({})",
                self.policy.name,
                self.policy.containers.networks.join(", ")
            ),
        )
        .into())
    }

    /// Resolves a named volume and checks that the run owns it.
    pub async fn volume(&self, client: &Client, name: &str, field: &str) -> Result<(), GateError> {
        if self.unrestricted() {
            return Ok(());
        }
        match client
            .json::<Value>(Request::get(format!("/volumes/{}", segment(name))))
            .await
        {
            Ok(v) if self.owns_labels(&v["Labels"]) => Ok(()),
            Ok(_) => Err(Denial::field(
                "ownership",
                field,
                format!("volume {name} was not created by this run"),
            )
            .into()),
            Err(crate::engine::Error::NotFound { .. }) => Err(Denial::field(
                "ownership",
                field,
                format!("volume {name} does not exist; create it first so that it belongs to the run"),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Resolves a network name, id or id prefix and checks that the run owns it; returns the full id (the
    /// engine is then only ever asked about that id). The built-in networks (`bridge`, `host`, `none`) are
    /// nobody's: a plugin may let containers join the ones its policy lists, but never change them.
    pub async fn own_network(&self, client: &Client, id: &str, field: &str) -> Result<String, GateError> {
        let v: Value = client
            .json(Request::get(format!("/networks/{}", segment(id))))
            .await?;
        let full = v["Id"].as_str().unwrap_or_default().to_owned();
        if self.unrestricted() || self.owns_labels(&v["Labels"]) {
            return Ok(full);
        }
        Err(Denial::field(
            "ownership",
            field,
            format!("network {id} was not created by this run; a plugin may only touch its own networks"),
        )
        .into())
    }

    /// A network create body: canonical, within the run's quota, checked against the network rules, and
    /// stamped with the run's labels. A name that is already another's network is refused.
    pub async fn network_create(&self, client: &Client, text: &str) -> Result<Bytes, GateError> {
        let mut body = self.canonical(BodyKind::NetworkCreate, text)?;
        self.quota(client, "/networks", self.policy.quota.networks, "networks")
            .await?;
        self.check_labels(&body["Labels"], "Labels")?;
        if !self.unrestricted() {
            rules::network_create(&body)?;
            if let Some(name) = body["Name"].as_str().filter(|n| !n.is_empty()) {
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
                        format!("a network named {name} exists and was not created by this run"),
                    )
                    .into());
                }
            }
        }
        self.stamp(&mut body, "Labels");
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
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
        let full = self.container(client, &container, "Container").await?;
        body["Container"] = Value::from(full);
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
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
            rules::volume_create(&body)?;
            if let Some(name) = body["Name"].as_str().filter(|n| !n.is_empty()) {
                match client
                    .json::<Value>(Request::get(format!("/volumes/{}", segment(name))))
                    .await
                {
                    Ok(v) if !self.owns_labels(&v["Labels"]) => {
                        return Err(Denial::field(
                            "ownership",
                            "Name",
                            format!("volume {name} exists and was not created by this run"),
                        )
                        .into());
                    }
                    Ok(_) | Err(crate::engine::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.stamp(&mut body, "Labels");
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
    }

    /// Checks that an image reference is one containers may be made from (or that may be pulled, pushed,
    /// tagged).
    pub fn image(&self, reference: &str, field: &str) -> Result<(), Denial> {
        if self.unrestricted()
            || self.policy.images.allows(reference)
            || self.policy.images.allows(&normalize(reference))
        {
            return Ok(());
        }
        Err(Denial::field(
            "images",
            field,
            format!(
                "image {reference} is not one policy {} allows ({})",
                self.policy.name,
                self.policy.images.allow.join(", ")
            ),
        ))
    }

    /// Checks that a reference's registry is one the policy allows.
    pub fn registry(&self, reference: &str, field: &str) -> Result<(), Denial> {
        let registry = registry_of(reference);
        if self.unrestricted() || self.policy.registries.allows(&registry) {
            return Ok(());
        }
        Err(Denial::field(
            "registries",
            field,
            format!(
                "registry {registry} (of {reference}) is not one policy {} allows ({})",
                self.policy.name,
                self.policy.registries.allow.join(", ")
            ),
        ))
    }

    /// Parses a plugin's body, checks it and returns the bytes the engine will see.
    fn canonical(&self, kind: BodyKind, text: &str) -> Result<Value, Denial> {
        canonical::canonicalize(kind, text.as_bytes()).map_err(canon_denial)
    }

    /// A container create body: canonical, checked against every container rule, stamped with the run's
    /// labels and the policy's ceilings.
    pub async fn container_create(&self, client: &Client, text: &str) -> Result<Bytes, GateError> {
        let mut body = self.canonical(BodyKind::ContainerCreate, text)?;
        self.quota(
            client,
            "/containers/json",
            self.policy.quota.containers,
            "containers",
        )
        .await?;
        self.check_labels(&body["Labels"], "Labels")?;
        if !self.unrestricted() {
            rules::container_create(self, client, &mut body).await?;
        }
        self.stamp(&mut body, "Labels");
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
    }

    /// A container update body.
    pub fn container_update(&self, text: &str) -> Result<Bytes, Denial> {
        let mut body = self.canonical(BodyKind::ContainerUpdate, text)?;
        if !self.unrestricted() {
            rules::container_update(self, &mut body)?;
        }
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
    }

    /// An exec create body.
    pub fn exec_create(&self, text: &str) -> Result<Bytes, Denial> {
        let body = self.canonical(BodyKind::ExecCreate, text)?;
        if !self.unrestricted() {
            rules::exec_create(&body)?;
        }
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
    }

    /// An image commit's container config (labels stamped, like everything the run creates).
    pub fn commit_config(&self, text: Option<&str>) -> Result<Bytes, Denial> {
        let mut body = match text {
            Some(t) => self.canonical(BodyKind::ImageCommit, t)?,
            None => Value::Object(Map::new()),
        };
        self.check_labels(&body["Labels"], "Labels")?;
        self.stamp(&mut body, "Labels");
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
    }

    /// Refuses a creation when the run already owns `limit` objects of a kind (`list_path` lists them).
    pub async fn quota(
        &self,
        client: &Client,
        list_path: &str,
        limit: u32,
        kind: &str,
    ) -> Result<(), GateError> {
        if self.unrestricted() || limit == u32::MAX {
            return Ok(());
        }
        let filters = serde_json::json!({ "label": [format!("{RUN_LABEL}={}", self.run_id)] }).to_string();
        let mut req = Request::get(list_path).query("filters", filters);
        if kind == "containers" {
            req = req.query("all", true);
        }
        let list: Value = client.json(req).await?;
        // Volume lists come as {"Volumes": [...]}, the others as arrays.
        let owned = list
            .as_array()
            .or_else(|| list["Volumes"].as_array())
            .map_or(0, Vec::len);
        if owned as u64 >= u64::from(limit) {
            return Err(Denial::call(
                &format!("quota.{kind}"),
                format!(
                    "this run already has {owned} {kind}, the most policy {} allows",
                    self.policy.name
                ),
            )
            .into());
        }
        Ok(())
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
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
    }

    /// Refuses plugin-supplied labels in the reserved `tug.` namespace.
    pub fn check_labels(&self, labels: &Value, field: &str) -> Result<(), Denial> {
        if let Some(map) = labels.as_object() {
            for key in map.keys() {
                if key.to_ascii_lowercase().starts_with(RESERVED_PREFIX) {
                    return Err(Denial::field(
                        "labels.reserved",
                        format!("{field}.{key}"),
                        "labels starting with `tug.` are tug's own (ownership); a plugin may not set them",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Adds the run's labels to an object's label map.
    pub fn stamp(&self, body: &mut Value, field: &str) {
        let Some(obj) = body.as_object_mut() else { return };
        let labels = obj.entry(field).or_insert_with(|| Value::Object(Map::new()));
        if !labels.is_object() {
            *labels = Value::Object(Map::new());
        }
        let map = labels.as_object_mut().expect("made an object above");
        for (k, v) in &self.labels {
            map.insert(k.clone(), Value::from(v.as_str()));
        }
    }

    /// The `filters` of a list, events or prune call: narrowed to the run's objects unless the policy
    /// lets the plugin see everything.
    pub fn scope_filters(
        &self,
        filters: Option<Vec<(String, Vec<String>)>>,
    ) -> Option<Vec<(String, Vec<String>)>> {
        if self.policy.visibility.all || self.unrestricted() {
            return filters;
        }
        let mut filters = filters.unwrap_or_default();
        let own = format!("{RUN_LABEL}={}", self.run_id);
        match filters.iter_mut().find(|(k, _)| k == "label") {
            Some((_, values)) => values.push(own),
            None => filters.push(("label".to_owned(), vec![own])),
        }
        Some(filters)
    }

    /// Whether the run may use an area at all (for read-only list paths).
    pub fn granted(&self, area: super::config::Area) -> Access {
        self.policy.operations.get(area)
    }
}

fn access_word(a: Access) -> &'static str {
    match a {
        Access::None => "no",
        Access::Read => "read",
        Access::Write => "write",
    }
}

fn canon_denial(e: CanonError) -> Denial {
    Denial::field(e.rule(), e.path().to_owned(), e.to_string())
}

/// `busybox` → `docker.io/library/busybox:latest`-style normalization, enough to match patterns written
/// either way.
pub fn normalize(reference: &str) -> String {
    let (name, tag) = split_tag(reference);
    let name = if registry_part(name).is_some() {
        name.to_owned()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{name}{}", tag.unwrap_or(":latest"))
}

fn split_tag(reference: &str) -> (&str, Option<&str>) {
    if let Some(at) = reference.find('@') {
        return (&reference[..at], Some(&reference[at..]));
    }
    match reference.rfind(':') {
        Some(i) if !reference[i..].contains('/') => (&reference[..i], Some(&reference[i..])),
        _ => (reference, None),
    }
}

fn registry_part(name: &str) -> Option<&str> {
    let first = name.split('/').next()?;
    (name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost"))
        .then_some(first)
}

/// The registry of an image reference (`docker.io` when it names none).
pub fn registry_of(reference: &str) -> String {
    registry_part(split_tag(reference).0)
        .unwrap_or("docker.io")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(registry_of("127.0.0.1:5000/a/b:c"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/x"), "localhost");
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("library/busybox:1"), "docker.io");
        assert_eq!(normalize("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(
            normalize("tug-test/busybox:latest"),
            "docker.io/tug-test/busybox:latest"
        );
        assert_eq!(
            normalize("127.0.0.1:5000/x@sha256:ab"),
            "127.0.0.1:5000/x@sha256:ab"
        );
    }

    fn gate(profile: &str) -> Gate {
        Gate::new(
            Arc::new(Policy::profile(profile).unwrap()),
            "r1".into(),
            vec![(RUN_LABEL.into(), "r1".into())],
        )
    }

    #[test]
    fn areas_and_scoping() {
        let g = gate("untrusted");
        assert!(g.allow("ContainerCreate").is_ok());
        let d = g.allow("ImageBuild").unwrap_err();
        assert_eq!(d.rule, "operations.build");
        assert!(g.allow("Whatever").is_err());
        let f = g
            .scope_filters(Some(vec![("status".into(), vec!["running".into()])]))
            .unwrap();
        assert!(f.contains(&("label".into(), vec!["tug.run=r1".into()])));
        assert!(gate("trusted").scope_filters(None).is_none());
    }

    #[test]
    fn reserved_labels_and_stamping() {
        let g = gate("untrusted");
        let d = g
            .check_labels(&serde_json::json!({"TUG.run": "x"}), "Labels")
            .unwrap_err();
        assert_eq!(d.rule, "labels.reserved");
        let mut body = serde_json::json!({"Image": "x"});
        g.stamp(&mut body, "Labels");
        assert_eq!(body["Labels"]["tug.run"], "r1");
    }

    #[test]
    fn names_that_look_like_ids_are_refused() {
        let g = gate("untrusted");
        let id = "a".repeat(64);
        let d = g.container_name(&format!("/{id}"), "name").unwrap_err();
        assert_eq!(d.rule, "containers.name");
        assert!(g.container_name("web-1", "name").is_ok());
        assert!(g.container_name(&"a".repeat(63), "name").is_ok());
        assert!(gate("trusted").container_name(&id, "name").is_ok());
    }
}
