//! What real clients send that the specs do not spell, made canonical before the check: docker-py, the
//! docker CLI and plugins that send back what an inspect answered (`runtime/tests/client_bodies.rs` feeds
//! their bodies through). The daemon's Go decoder ignores keys that name no field, reads `null` as "leave
//! the zero value", and matches keys to fields ignoring case; tug keeps the meaning of each and never
//! forwards a key the daemon would read otherwise than tug:
//!
//! 1. **A key the daemon ignores is dropped.** A key that names no field (not even ignoring case) and is
//!    `null` (docker-py's `"NetworkingConfig": {NAME: null}`): for a struct, Go's decoder skips an unknown
//!    key, and `null` into a known one leaves its zero value, which is what an absent key gives, so
//!    whichever engine reads it, dropping it changes nothing. (The one place a `null` does more in moby's
//!    request types: a container create's top-level `HostConfig` field names, which engines before 27
//!    decode into the wrapper's embedded `*HostConfig`, allocating it; with no `HostConfig` in the body
//!    that makes a zero `HostConfig` instead of none, the same for API 1.41 and later, and for older API
//!    versions the router's legacy defaults (shareable IPC, host cgroup namespace on cgroup v1) instead of
//!    the daemon's own: dropping the key keeps the daemon's own.) Also the client-only fields of
//!    [`IGNORED_BY_DAEMON`], whatever their value.
//! 2. **A key the daemon obeys is checked.** A key that matches a field only ignoring ASCII case
//!    (docker-py's `Mode.replicated`, `detachKeys`, `CPURealtimePeriod`) is renamed to the field, so the
//!    rules check it under its own name and the daemon reads the same thing; two spellings of one field in
//!    one object (the daemon would read both, the last winning) are refused, and so is any non-ASCII
//!    key that folds onto a field (`HoſtConfig`): no client sends one. The top-level `HostConfig` fields
//!    of a container create body (docker-py's `create_container(runtime=...)`), which engines before 27
//!    read through the wrapper's deprecated embedded `HostConfig`, are moved where those engines apply
//!    them ([`LEGACY_MERGED`]).
//!
//! Everything else that names no field is left for the check to refuse (`canonical.unknown-field`).

use serde_json::{Map, Value};

use super::{
    path::{self, Seg},
    schema::{self, Schema, Shape, StructDef},
    BodyKind, CanonError,
};

/// Fields real clients send that the daemon does not act on, whatever their value: `(struct, key, why)`,
/// the struct named as in `schema/engine-schema.json`. Dropped wherever that struct is, in these exact
/// spellings only.
pub const IGNORED_BY_DAEMON: &[(&str, &str, &str)] = &[
    (
        "ExecConfig",
        "Container",
        "docker-py's exec_create sends the container's id in the body; the daemon takes it from the path \
         (its ExecConfig has no such field)",
    ),
    (
        "ExecConfig",
        "Detach",
        "the docker CLI sends it in every exec create; Engine 20.10's types.ExecConfig decodes it and \
         ContainerExecCreate never reads it (exec start's own Detach is what detaches), and later engines \
         have no such field",
    ),
    (
        "HostConfig",
        "LxcConf",
        "docker-py's create_host_config(lxc_conf=...); engines have had neither the LXC driver nor the field \
         since Engine 1.10 (API 1.22)",
    ),
];

/// The `HostConfig` fields engines before 27 (20.10 among them) take from the top level of a container
/// create body that has a `HostConfig` of its own, each only where that one's is zero (moby
/// `runconfig.ContainerConfigWrapper.getHostConfig`); they ignore every other top-level `HostConfig` field
/// then. A body without a `HostConfig` has all of them read as its `HostConfig`. Engine 27 and later read
/// none of them (moby 2954b05b03).
pub const LEGACY_MERGED: &[&str] = &["Memory", "MemorySwap", "CpuShares", "CpusetCpus", "VolumeDriver"];

/// Rewrites `value` as described in the module documentation. Errors only for two spellings of one field;
/// whatever else is wrong is left in place for [`super::check`] to refuse.
pub(super) fn normalize(kind: BodyKind, value: &mut Value) -> Result<(), CanonError> {
    let schema = schema::schema();
    let legacy_root = kind == BodyKind::ContainerCreate;
    walk(schema, schema.root(kind), value, &mut Vec::new(), legacy_root)
}

fn walk(
    schema: &Schema,
    shape: &Shape,
    value: &mut Value,
    at: &mut Vec<Seg<'static>>,
    legacy_root: bool,
) -> Result<(), CanonError> {
    match (shape, value) {
        // Nothing to rename or drop under scalars (`Labels`, `Env`, ...).
        (Shape::Array(inner) | Shape::Map(inner), _) if **inner == Shape::Scalar => {}
        (Shape::Array(item), Value::Array(items)) => {
            for (i, v) in items.iter_mut().enumerate() {
                at.push(Seg::Index(i));
                walk(schema, item, v, at, false)?;
                at.pop();
            }
        }
        (Shape::Map(inner), Value::Object(map)) => {
            for (k, v) in map.iter_mut() {
                at.push(Seg::Key(k.clone().into()));
                walk(schema, inner, v, at, false)?;
                at.pop();
            }
        }
        (Shape::Struct(id), Value::Object(map)) => {
            let def = schema.struct_def(*id);
            keys(def, map, at)?;
            if legacy_root {
                legacy_host_config(schema, def, map);
            }
            for (k, v) in map.iter_mut() {
                if let Some(field_shape) = def.field(k) {
                    at.push(Seg::Key(k.clone().into()));
                    walk(schema, field_shape, v, at, false)?;
                    at.pop();
                }
            }
        }
        // A shape the schema does not have there: the check's to refuse.
        _ => {}
    }
    Ok(())
}

/// One struct object's keys: unknown nulls and ignored fields dropped, ASCII case variants renamed.
fn keys(def: &StructDef, map: &mut Map<String, Value>, at: &[Seg<'static>]) -> Result<(), CanonError> {
    let mut drop = Vec::new();
    let mut rename: Vec<(String, &str)> = Vec::new();
    for (k, v) in map.iter() {
        if def.field(k).is_some() {
            continue;
        }
        match def.fold_match(k) {
            Some(field) if k.is_ascii() => rename.push((k.clone(), field)),
            // A non-ASCII key folding onto a field: refused by the check.
            Some(_) => {}
            None if v.is_null() || ignored(def.name(), k) => drop.push(k.clone()),
            None => {}
        }
    }
    for k in drop {
        map.remove(&k);
    }
    for (k, field) in &rename {
        let spellings = rename.iter().filter(|(_, f)| f == field).count();
        if map.contains_key(*field) || spellings > 1 {
            let mut full = at.to_vec();
            full.push(Seg::Key(k.clone().into()));
            return Err(CanonError::SecondSpelling {
                path: path::render(&full),
                key: k.clone(),
                field: (*field).to_owned(),
                within: def.name().to_owned(),
            });
        }
    }
    for (k, field) in rename {
        if let Some(v) = map.remove(&k) {
            map.insert(field.to_owned(), v);
        }
    }
    Ok(())
}

fn ignored(within: &str, key: &str) -> bool {
    IGNORED_BY_DAEMON
        .iter()
        .any(|(s, k, _)| *s == within && *k == key)
}

/// A container create body's top-level `HostConfig` fields (exact names, not `null`: those are dropped
/// already), moved as engines before 27 read them: the whole `HostConfig` when the body has none; else
/// [`LEGACY_MERGED`] into its zero fields, the rest dropped. Left in place (and refused by the check) if
/// `HostConfig` is not an object.
fn legacy_host_config(schema: &Schema, root: &StructDef, map: &mut Map<String, Value>) {
    let Some(host) = schema.struct_by_name("HostConfig") else {
        return;
    };
    let legacy: Vec<String> = map
        .keys()
        .filter(|k| root.field(k).is_none() && host.field(k).is_some())
        .cloned()
        .collect();
    if legacy.is_empty() {
        return;
    }
    match map.get("HostConfig") {
        None | Some(Value::Null) => {
            let moved: Map<String, Value> = legacy
                .iter()
                .filter_map(|k| map.remove(k).map(|v| (k.clone(), v)))
                .collect();
            map.insert("HostConfig".to_owned(), Value::Object(moved));
        }
        Some(Value::Object(_)) => {
            for k in legacy {
                let Some(v) = map.remove(&k) else { continue };
                let Some(Value::Object(hc)) = map.get_mut("HostConfig") else {
                    return;
                };
                if LEGACY_MERGED.contains(&k.as_str()) && !zero(&v) && hc.get(&k).is_none_or(zero) {
                    hc.insert(k, v);
                }
            }
        }
        Some(_) => {}
    }
}

/// Go's zero value as JSON gives it: `null`, `0`, `""`, `false`.
fn zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    }
}
