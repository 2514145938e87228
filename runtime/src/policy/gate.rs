//! The gate every call of a plugin passes: area access by operation (`policy/operations.rs`), ownership
//! of targets resolved to full ids (`policy/ownership.rs`), canonical and checked request bodies
//! (`policy/bodies.rs`), names the run may give images (`policy/image_names.rs`), labels and ceilings
//! forced onto what the run creates, and what lists, events and prunes see.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
};

use serde_json::{Map, Value};

use super::{
    canonical::{self, BodyKind, CanonError},
    config::{Access, Policy},
    denial::{Denial, GateError},
    operations::Op,
};
use crate::engine::{Client, Request};

/// The label every object a run creates carries, with the run's id.
pub const RUN_LABEL: &str = "tug.run";
/// The prefix of the labels tug reserves: a plugin may not set them.
pub const RESERVED_PREFIX: &str = "tug.";
/// The prefix of the labels an image the run makes carries instead (`tug.image.run`, …).
pub const IMAGE_PREFIX: &str = "tug.image.";
/// The label an image the run makes carries, with the run's id.
pub const IMAGE_RUN_LABEL: &str = "tug.image.run";
/// The longest name, id or reference the gate looks up: longer ones are refused before any lookup.
pub const MAX_NAME: usize = 4096;
/// The shortest run of hex digits a name may not consist of: Docker prints ids shortened to 12 digits,
/// and a name that is all hex digits answers for the object whose id starts with them (`docker exec
/// <short id>` finds a container *named* so before it looks at id prefixes).
pub const ID_LIKE: usize = 12;

/// One run's gate: its policy, its identity (the labels it stamps), and what it knows the run made.
pub struct Gate {
    /// The policy.
    pub policy: Arc<Policy>,
    /// The run's id (the value of `tug.run`).
    pub run_id: String,
    /// The labels stamped on everything the run creates (`tug.run`, `tug.plugin`, …, `tug.keep`).
    pub labels: Vec<(String, String)>,
    /// Full ids of the containers this run created (through this gate, so with its labels): an
    /// operation naming one of them exactly needs no lookup to know the run owns it.
    pub(super) created: Mutex<HashSet<String>>,
    /// Image names (normalized references) the run made, with the image id each named when the engine
    /// confirmed it (`None`: a pull, whose id tug does not read).
    pub(super) images: Mutex<BTreeMap<String, Option<String>>>,
    /// Image names the run is about to give an image it did not make, with the image's id: recorded
    /// before the request goes, so cleanup takes the name off even if the run ends before the answer.
    pub(super) intended: Mutex<BTreeMap<String, String>>,
    /// What the gate read once about each engine, by endpoint (its storage driver, for the disk ceiling).
    pub(super) engine_facts: Mutex<BTreeMap<String, Value>>,
    /// Builds in flight (each counts as a container: `policy/quota.rs`).
    pub(super) builds: std::sync::atomic::AtomicU32,
    /// Bytes the run's upload filters hold back at once (`host/tar_filter.rs` bounds the total).
    pub held_bytes: std::sync::atomic::AtomicU64,
}

impl Gate {
    /// A gate for a run.
    pub fn new(policy: Arc<Policy>, run_id: String, labels: Vec<(String, String)>) -> Self {
        Gate {
            policy,
            run_id,
            labels,
            created: Default::default(),
            images: Default::default(),
            intended: Default::default(),
            engine_facts: Default::default(),
            builds: Default::default(),
            held_bytes: Default::default(),
        }
    }

    /// Whether the policy lifts every rule but canonical bodies (the `trusted` profile).
    pub fn unrestricted(&self) -> bool {
        self.policy.unrestricted
    }

    /// Whether lists, events and prunes may see objects the run does not own.
    pub fn sees_everything(&self) -> bool {
        self.policy.visibility.all || self.unrestricted()
    }

    /// Forgets a container the run removed.
    pub fn forget_container(&self, full_id: &str) {
        self.created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(full_id);
    }

    /// Records a container this run just created (its full id, from the create answer).
    pub fn remember_container(&self, full_id: &str) {
        self.created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(full_id.to_owned());
    }

    /// Checks a name a plugin gives an object that other clients of the engine address by name or id
    /// prefix (a container, a network, a service, a secret, a config): it may not consist of 12 or more
    /// hex digits, which would let it answer for another object whose id starts with them. `rule` is the
    /// area's, e.g. `containers.name`.
    pub fn object_name(&self, rule: &str, name: &str, field: &str) -> Result<(), Denial> {
        let bare = name.trim_start_matches('/');
        if !self.unrestricted() && id_like(bare) {
            return Err(Denial::field(
                rule,
                field,
                format!(
                    "the name {} is {} hex digits, so it would answer for any object whose id starts \
                     with them (as `docker inspect` resolves names before id prefixes); choose a name with \
                     a letter beyond f or a punctuation mark",
                    shorten(bare),
                    bare.len()
                ),
            ));
        }
        Ok(())
    }

    /// Checks a container name a plugin gives (create, rename).
    pub fn container_name(&self, name: &str, field: &str) -> Result<(), Denial> {
        self.object_name("containers.name", name, field)
    }

    /// Whether the policy grants the operation's area at the access it needs.
    pub fn allow(&self, op: Op) -> Result<(), Denial> {
        let (area, need) = (op.area(), op.access());
        let granted = self.policy.operations.get(area);
        if granted >= need {
            return Ok(());
        }
        Err(Denial::call(
            &format!("operations.{}", area.key()),
            format!(
                "{} needs {} access to {}; policy {} grants {}",
                op.id(),
                access_word(need),
                area.key(),
                self.policy.name,
                access_word(granted)
            ),
        ))
    }

    /// Whether labels mark an object as this run's (a container, network, volume, service, secret,
    /// config).
    pub fn owns_labels(&self, labels: &Value) -> bool {
        labels.get(RUN_LABEL).and_then(Value::as_str) == Some(self.run_id.as_str())
    }

    /// Whether an image's labels mark it as made by this run (`tug.image.run`). Images carry their own
    /// keys: a container inherits its image's labels, and must not inherit the run's ownership with them.
    pub fn owns_image_labels(&self, labels: &Value) -> bool {
        labels.get(IMAGE_RUN_LABEL).and_then(Value::as_str) == Some(self.run_id.as_str())
    }

    /// The labels stamped on an image the run makes: each of the run's labels under `tug.image.` instead
    /// of `tug.` (`tug.image.run`, … `tug.image.keep`), and the run's own keys set empty, so that neither
    /// an image nor a container made from it by anyone carries the run's ownership (a commit would
    /// otherwise copy the container's labels into the image).
    pub fn image_stamp(&self) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(self.labels.len() * 2);
        for (k, v) in &self.labels {
            if let Some(rest) = k.strip_prefix(RESERVED_PREFIX) {
                out.push((format!("{IMAGE_PREFIX}{rest}"), v.clone()));
                out.push((k.clone(), String::new()));
            }
        }
        out
    }

    /// Adds [`Gate::image_stamp`] to an image config's label map.
    pub fn stamp_image(&self, body: &mut Value, field: &str) {
        stamp_into(body, field, &self.image_stamp());
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
                "image {} is not one policy {} allows ({})",
                shorten(reference),
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
                "registry {} (of {}) is not one policy {} allows ({})",
                shorten(&registry),
                shorten(reference),
                self.policy.name,
                self.policy.registries.allow.join(", ")
            ),
        ))
    }

    /// Parses a plugin's body, checks it and returns the value the engine will see (re-serialized).
    pub fn canonical(&self, kind: BodyKind, text: &str) -> Result<Value, Denial> {
        canonical::canonicalize(kind, text.as_bytes()).map_err(canon_denial)
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

    /// Refuses plugin-supplied labels in the reserved `tug.` namespace.
    pub fn check_labels(&self, labels: &Value, field: &str) -> Result<(), Denial> {
        if let Some(map) = labels.as_object() {
            for key in map.keys() {
                if reserved(key) {
                    return Err(Denial::field(
                        "labels.reserved",
                        format!("{field}.{}", shorten(key)),
                        "labels starting with `tug.` are tug's own (ownership); a plugin may not set them",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Adds the run's labels to an object's label map (`tug.keep` among them, so that a label inherited
    /// from an image cannot keep the object from cleanup).
    pub fn stamp(&self, body: &mut Value, field: &str) {
        stamp_into(body, field, &self.labels);
    }

    /// The `filters` of a list, events or prune call: duplicate keys merged (the engine keeps only the
    /// last of them), then narrowed to the run's objects unless the policy lets the plugin see everything.
    pub fn scope_filters(
        &self,
        filters: Option<Vec<(String, Vec<String>)>>,
    ) -> Option<Vec<(String, Vec<String>)>> {
        let merged = filters.map(merge_filters);
        if self.sees_everything() {
            return merged;
        }
        let mut filters = merged.unwrap_or_default();
        let own = format!("{RUN_LABEL}={}", self.run_id);
        match filters.iter_mut().find(|(k, _)| k == "label") {
            Some((_, values)) => values.push(own),
            None => filters.push(("label".to_owned(), vec![own])),
        }
        Some(filters)
    }

    /// Keeps the objects of a list answer that the run owns (whatever filters the engine applied), unless
    /// the policy lets the plugin see everything. `labels` says where an item's labels are: `Labels`, or
    /// `Spec.Labels` for swarm objects. A volume list (`{"Volumes": [...]}`) keeps its other fields.
    pub fn keep_owned(&self, list: String, labels: &[&str]) -> String {
        if self.sees_everything() {
            return list;
        }
        let Ok(mut value) = serde_json::from_str::<Value>(&list) else {
            return "[]".to_owned();
        };
        let keep = |items: &mut Vec<Value>| {
            items.retain(|item| {
                let mut l = item;
                for key in labels {
                    l = &l[*key];
                }
                self.owns_labels(l)
            })
        };
        match &mut value {
            Value::Array(items) => keep(items),
            Value::Object(o) => match o.get_mut("Volumes") {
                Some(Value::Array(items)) => keep(items),
                _ => return "[]".to_owned(),
            },
            _ => return "[]".to_owned(),
        }
        value.to_string()
    }

    /// Whether the run may use an area at all (for read-only list paths).
    pub fn granted(&self, area: super::config::Area) -> Access {
        self.policy.operations.get(area)
    }
}

/// Sets `labels` in `body[field]` (made an object if it is not one).
fn stamp_into(body: &mut Value, field: &str, labels: &[(String, String)]) {
    let Some(obj) = body.as_object_mut() else { return };
    let slot = obj.entry(field).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Some(map) = slot.as_object_mut() {
        for (k, v) in labels {
            map.insert(k.clone(), Value::from(v.as_str()));
        }
    }
}

/// Merges filters that name the same key twice into one entry with both lists of values (in order of
/// first appearance), since the engine decodes them into a map where the last one wins.
pub fn merge_filters(filters: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::with_capacity(filters.len());
    for (key, values) in filters {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => existing.extend(values),
            None => out.push((key, values)),
        }
    }
    out
}

/// The `filters` query parameter, `{"key": ["value", …]}`, with duplicate keys merged.
pub fn filters_json(filters: &[(String, Vec<String>)]) -> String {
    let map: Map<String, Value> = merge_filters(filters.to_vec())
        .into_iter()
        .map(|(k, vs)| (k, Value::from(vs)))
        .collect();
    Value::Object(map).to_string()
}

/// Whether a label key is in tug's reserved namespace (any case).
pub fn reserved(key: &str) -> bool {
    key.len() >= RESERVED_PREFIX.len()
        && key.as_bytes()[..RESERVED_PREFIX.len()].eq_ignore_ascii_case(RESERVED_PREFIX.as_bytes())
}

/// Whether a name is all hex digits and long enough to be read as an id prefix.
pub fn id_like(name: &str) -> bool {
    name.len() >= ID_LIKE && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A name as a message quotes it: whole when short, else its first 64 characters and its length.
pub fn shorten(s: &str) -> String {
    if s.len() <= 80 {
        return s.to_owned();
    }
    let mut end = 64;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

fn access_word(a: Access) -> &'static str {
    match a {
        Access::None => "no",
        Access::Read => "read",
        Access::Write => "write",
    }
}

pub(super) fn canon_denial(e: CanonError) -> Denial {
    Denial::field(e.rule(), e.path().to_owned(), e.to_string())
}

/// `busybox` → `docker.io/library/busybox:latest`: a reference as the daemon reads it (its
/// `ParseNormalizedNamed`), so that patterns written either way match and two spellings of one name are
/// one name: `index.docker.io` is `docker.io`, and a one-part name there is in `library/`
/// (`docker.io/abc` is `abc`).
pub fn normalize(reference: &str) -> String {
    let (name, tag) = split_tag(reference);
    let (domain, rest) = match registry_part(name) {
        Some(domain) => (domain, &name[domain.len() + 1..]),
        None => ("docker.io", name),
    };
    let name = match domain {
        "docker.io" | "index.docker.io" if !rest.contains('/') => format!("docker.io/library/{rest}"),
        "docker.io" | "index.docker.io" => format!("docker.io/{rest}"),
        _ => name.to_owned(),
    };
    format!("{name}{}", tag.unwrap_or(":latest"))
}

pub(super) fn split_tag(reference: &str) -> (&str, Option<&str>) {
    if let Some(at) = reference.find('@') {
        return (&reference[..at], Some(&reference[at..]));
    }
    match reference.rfind(':') {
        Some(i) if !reference[i..].contains('/') => (&reference[..i], Some(&reference[i..])),
        _ => (reference, None),
    }
}

/// The registry a reference names, by the daemon's rule: a first part (of several) with a `.` or a `:`,
/// `localhost`, or any upper-case letter (a repository name has none, so the daemon reads it as a host).
fn registry_part(name: &str) -> Option<&str> {
    let first = name.split('/').next()?;
    (name.contains('/')
        && (first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_uppercase())))
    .then_some(first)
}

/// The registry of an image reference (`docker.io` when it names none, or names `index.docker.io`).
pub fn registry_of(reference: &str) -> String {
    match registry_part(split_tag(reference).0) {
        None | Some("index.docker.io") => "docker.io".to_owned(),
        Some(domain) => domain.to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(registry_of("127.0.0.1:5000/a/b:c"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/x"), "localhost");
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("library/busybox:1"), "docker.io");
        assert_eq!(normalize("busybox"), "docker.io/library/busybox:latest");
        // One name, however spelled.
        for spelling in [
            "79c67ea9ea00",
            "library/79c67ea9ea00",
            "docker.io/79c67ea9ea00",
            "index.docker.io/79c67ea9ea00:latest",
            "docker.io/library/79c67ea9ea00",
        ] {
            assert_eq!(
                normalize(spelling),
                "docker.io/library/79c67ea9ea00:latest",
                "{spelling}"
            );
        }
        assert_eq!(normalize("index.docker.io/a/b:1"), "docker.io/a/b:1");
        assert_eq!(registry_of("index.docker.io/a/b:1"), "docker.io");
        // An upper-case first part is a host to the daemon.
        assert_eq!(registry_of("Mirror/busybox"), "Mirror");
        assert_eq!(normalize("Mirror/busybox"), "Mirror/busybox:latest");
        assert_eq!(
            normalize("tug-test/busybox:latest"),
            "docker.io/tug-test/busybox:latest"
        );
        assert_eq!(
            normalize("127.0.0.1:5000/x@sha256:ab"),
            "127.0.0.1:5000/x@sha256:ab"
        );
    }

    pub(crate) fn gate(profile: &str) -> Gate {
        Gate::new(
            Arc::new(Policy::profile(profile).unwrap()),
            "r1".into(),
            vec![(RUN_LABEL.into(), "r1".into())],
        )
    }

    #[test]
    fn areas_and_scoping() {
        let g = gate("untrusted");
        assert!(g.allow(Op::ContainerCreate).is_ok());
        let d = g.allow(Op::ImageBuild).unwrap_err();
        assert_eq!(d.rule, "operations.build");
        let f = g
            .scope_filters(Some(vec![("status".into(), vec!["running".into()])]))
            .unwrap();
        assert!(f.contains(&("label".into(), vec!["tug.run=r1".into()])));
        assert!(gate("trusted").scope_filters(None).is_none());
    }

    /// `[["label",[]],["label",["X"]]]` must not lose the run's label: the engine keeps the last key.
    #[test]
    fn duplicate_filter_keys_are_merged_before_scoping() {
        let g = gate("untrusted");
        let f = g
            .scope_filters(Some(vec![
                ("label".into(), vec![]),
                ("label".into(), vec!["X".into()]),
                ("status".into(), vec!["exited".into()]),
                ("status".into(), vec!["created".into()]),
            ]))
            .unwrap();
        assert_eq!(
            f,
            vec![
                ("label".to_owned(), vec!["X".to_owned(), "tug.run=r1".to_owned()]),
                (
                    "status".to_owned(),
                    vec!["exited".to_owned(), "created".to_owned()]
                ),
            ]
        );
        let json = filters_json(&f);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["label"], serde_json::json!(["X", "tug.run=r1"]));
    }

    #[test]
    fn lists_keep_what_the_run_owns() {
        let g = gate("untrusted");
        let list =
            r#"[{"Id":"a","Labels":{"tug.run":"r1"}},{"Id":"b","Labels":{"tug.run":"r2"}},{"Id":"c"}]"#;
        assert_eq!(
            g.keep_owned(list.into(), &["Labels"]),
            r#"[{"Id":"a","Labels":{"tug.run":"r1"}}]"#
        );
        let volumes = r#"{"Volumes":[{"Name":"a","Labels":{"tug.run":"r1"}},{"Name":"b","Labels":null}],"Warnings":null}"#;
        let kept: Value = serde_json::from_str(&g.keep_owned(volumes.into(), &["Labels"])).unwrap();
        assert_eq!(kept["Volumes"].as_array().unwrap().len(), 1);
        let swarm = r#"[{"ID":"s","Spec":{"Labels":{"tug.run":"r1"}}},{"ID":"t","Spec":{}}]"#;
        assert!(g.keep_owned(swarm.into(), &["Spec", "Labels"]).contains("\"s\""));
        assert!(!g.keep_owned(swarm.into(), &["Spec", "Labels"]).contains("\"t\""));
        assert_eq!(gate("trusted").keep_owned(list.into(), &["Labels"]), list);
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
        assert!(reserved("Tug.keep") && !reserved("tu") && !reserved("tugboat"));
    }

    #[test]
    fn names_that_look_like_ids_are_refused() {
        let g = gate("untrusted");
        let id = "a".repeat(64);
        let d = g.container_name(&format!("/{id}"), "name").unwrap_err();
        assert_eq!(d.rule, "containers.name");
        // Docker's short ids are 12 hex digits: a name of 12 or more answers for such a prefix.
        assert!(g.container_name("3f4e5d6c7b8a", "name").is_err());
        assert!(g
            .object_name("networks.name", "ABCDEF0123456789", "Name")
            .is_err());
        assert!(g.container_name("3f4e5d6c7b8", "name").is_ok());
        assert!(g.container_name("web-1", "name").is_ok());
        assert!(g.container_name("3f4e5d6c7b8g", "name").is_ok());
        assert!(gate("trusted").container_name(&id, "name").is_ok());
    }

    /// Every string parameter of the gate's checks that take no engine, a megabyte long, on a thread with
    /// a 256 KiB stack (a plugin's host calls run on a fiber stack of 2 MiB): nothing recurses per byte
    /// of input, everything answers. (The checks that look things up refuse names over `MAX_NAME` before
    /// any lookup; `tests/tests/gate_table.rs` sends megabyte strings through every WIT function.)
    #[test]
    fn megabyte_inputs_on_a_small_stack() {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let g = gate("ci");
                let big = "a".repeat(1 << 20);
                let nested = "[".repeat(1 << 20);
                assert!(
                    g.image(&format!("tug-test/{big}"), "f").is_err(),
                    "longer than any reference"
                );
                let _ = g.registry(&big, "f");
                assert!(g
                    .object_name("containers.name", &"g".repeat(1 << 20), "f")
                    .is_ok());
                assert!(g.container_name(&big, "f").is_err(), "a megabyte of hex digits");
                let labels = serde_json::json!({ big.clone(): big.clone() });
                assert!(g.check_labels(&labels, "Labels").is_ok());
                let f = g
                    .scope_filters(Some(vec![(big.clone(), vec![big.clone()]); 3]))
                    .unwrap();
                assert_eq!(f.len(), 2);
                assert_eq!(g.keep_owned(nested.clone(), &["Labels"]), "[]");
                for kind in BodyKind::ALL {
                    assert!(g.canonical(kind, &nested).is_err(), "{kind}");
                    assert!(g.canonical(kind, &format!("{{\"{big}\":1}}")).is_err(), "{kind}");
                    let _ = g.canonical(kind, &format!("\"{big}\""));
                }
                assert!(g.image_config(&nested).is_err());
                let half = &big[..big.len() / 2];
                assert!(g
                    .image_config(&format!("{{\"config\":{{\"Labels\":{{\"{half}\":\"\"}}}}}}"))
                    .is_ok());
                assert!(g
                    .image_config(&format!("{{\"config\":{{\"Labels\":{{\"{big}\":\"\"}}}}}}"))
                    .is_err());
                assert!(super::super::rules::top_args(&g, Some(&big)).is_err());
                assert!(super::super::rules::image_changes(&g, std::slice::from_ref(&big)).is_ok());
                assert!(super::super::subnets::check(&big, &Default::default()).is_err());
                let dockerfile = format!("FROM {big}\nARG {big}\nFROM ${{{big}}}\nCOPY --from={big} / /\n");
                let _ = super::super::dockerfile::bases(&dockerfile, &[]);
                let _ = super::super::dockerfile::bases(&"${".repeat(1 << 19), &[]);
                let _ = super::super::ceilings::ram_in_bytes(&big);
                let _ = normalize(&big);
                let _ = registry_of(&big);
                let _ = filters_json(&[(big.clone(), vec![big.clone()])]);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn long_names_are_quoted_short() {
        let long = "é".repeat(100_000);
        let s = shorten(&long);
        assert!(s.len() < 120 && s.ends_with("(200000 bytes)"), "{s}");
    }
}
