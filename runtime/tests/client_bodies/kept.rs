//! The check that canonicalization never loses what the daemon would act on: every key of a body sent is
//! in the canonical body under its field's name with the same content, but for the documented changes,
//! each counted. Written against the schema and the documented tables, independently of `clients.rs`.

use std::collections::BTreeMap;

use serde_json::Value;
use tug::policy::canonical::{
    schema::{schema, Shape},
    BodyKind, IGNORED_BY_DAEMON, LEGACY_MERGED,
};

/// How many keys each documented change touched, by change.
pub type Changes = BTreeMap<&'static str, usize>;

/// Checks `output` (the canonical body) against `input` (the body sent); counts the changes into `changes`.
pub fn check(kind: BodyKind, input: &Value, output: &Value, changes: &mut Changes) -> Result<(), String> {
    walk(
        schema().root(kind),
        input,
        output,
        "",
        kind == BodyKind::ContainerCreate,
        changes,
    )
}

fn walk(
    shape: &Shape,
    input: &Value,
    output: &Value,
    at: &str,
    create_root: bool,
    changes: &mut Changes,
) -> Result<(), String> {
    let s = schema();
    match (shape, input) {
        (Shape::Array(item), Value::Array(items)) => {
            let out = output.as_array().ok_or(format!("{at}: no longer an array"))?;
            if out.len() != items.len() {
                return Err(format!("{at}: {} items became {}", items.len(), out.len()));
            }
            for (i, (a, b)) in items.iter().zip(out).enumerate() {
                walk(item, a, b, &format!("{at}[{i}]"), false, changes)?;
            }
            Ok(())
        }
        (Shape::Map(inner), Value::Object(map)) => {
            let out = output.as_object().ok_or(format!("{at}: no longer an object"))?;
            if out.len() != map.len() {
                return Err(format!("{at}: a free-form map lost or gained keys"));
            }
            for (k, v) in map {
                let o = out
                    .get(k)
                    .ok_or(format!("{at}[{k:?}]: dropped from a free-form map"))?;
                walk(inner, v, o, &format!("{at}[{k:?}]"), false, changes)?;
            }
            Ok(())
        }
        (Shape::Struct(id), Value::Object(map)) => {
            let def = s.struct_def(*id);
            let out = output.as_object().ok_or(format!("{at}: no longer an object"))?;
            let mut expected_out = Vec::new();
            for (k, v) in map {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                let (field, change) = match (def.field(k), def.fold_match(k)) {
                    (Some(_), _) => (k.as_str(), None),
                    (None, Some(f)) if k.is_ascii() => (f, Some("renamed (ASCII case variant)")),
                    (None, Some(_)) => return Err(format!("{here}: a non-ASCII variant was accepted")),
                    (None, None) => {
                        let change = if v.is_null() {
                            "dropped (unknown key, null)"
                        } else if IGNORED_BY_DAEMON
                            .iter()
                            .any(|(st, key, _)| *st == def.name() && key == k)
                        {
                            "dropped (IGNORED_BY_DAEMON)"
                        } else if create_root && legacy(k) {
                            moved(map, out, k, v, &here)?
                        } else {
                            return Err(format!(
                                "{here}: gone from the canonical body, and no rule drops it"
                            ));
                        };
                        if change.starts_with("dropped") && out.contains_key(k) {
                            return Err(format!("{here}: should be dropped, and is forwarded"));
                        }
                        *changes.entry(change).or_default() += 1;
                        continue;
                    }
                };
                if let Some(change) = change {
                    *changes.entry(change).or_default() += 1;
                }
                let o = out
                    .get(field)
                    .ok_or(format!("{here}: gone from the canonical body (field {field})"))?;
                let inner = def.field(field).expect("a field of the struct");
                if create_root && field == "HostConfig" {
                    if !v.is_null() {
                        walk(inner, v, &unmerged(map, v, o), &here, false, changes)?;
                    }
                } else {
                    walk(inner, v, o, &here, false, changes)?;
                }
                expected_out.push(field.to_owned());
            }
            for k in out.keys() {
                if !expected_out.contains(k) && (!create_root || k != "HostConfig") {
                    return Err(format!("{at}.{k}: in the canonical body, not sent"));
                }
            }
            Ok(())
        }
        (_, v) if v == output => Ok(()),
        (_, v) => Err(format!("{at}: {v} became {output}")),
    }
}

/// Whether a container create's top-level key is a `HostConfig` field (and no field of the body itself).
fn legacy(k: &str) -> bool {
    let s = schema();
    s.struct_by_name("HostConfig")
        .is_some_and(|h| h.field(k).is_some())
        && s.struct_by_name("ContainerCreateRequest")
            .is_some_and(|r| r.field(k).is_none())
}

/// A top-level `HostConfig` field: the whole `HostConfig` of a body without one, else merged (the
/// [`LEGACY_MERGED`] ones) or dropped (engines before 27 ignore the others then, later ones all).
fn moved(
    sent: &serde_json::Map<String, Value>,
    out: &serde_json::Map<String, Value>,
    k: &str,
    v: &Value,
    here: &str,
) -> Result<&'static str, String> {
    let host_sent = sent.get("HostConfig").filter(|h| !h.is_null());
    let host_out = &out.get("HostConfig").cloned().unwrap_or(Value::Null);
    match host_sent {
        None if host_out.get(k) == Some(v) => Ok("moved into HostConfig (top-level HostConfig field)"),
        None => Err(format!("{here}: not moved into HostConfig")),
        Some(_) if LEGACY_MERGED.contains(&k) && host_out.get(k).is_some() => {
            Ok("merged into HostConfig (top-level HostConfig field)")
        }
        Some(_) if LEGACY_MERGED.contains(&k) => Err(format!("{here}: not merged into HostConfig")),
        Some(_) => Ok("dropped (top-level HostConfig field beside a HostConfig)"),
    }
}

/// The canonical `HostConfig` without what was merged into it from the top level (a [`LEGACY_MERGED`]
/// field sent at the top level, non-zero, where the `HostConfig` sent had it zero or not at all).
fn unmerged(top: &serde_json::Map<String, Value>, sent: &Value, out: &Value) -> Value {
    let mut out = out.clone();
    for k in LEGACY_MERGED {
        let Some(v) = top.get(*k).filter(|v| !zero(v)) else {
            continue;
        };
        let had = sent.get(*k);
        if out.get(*k) == Some(v) && had.is_none_or(zero) {
            match (had, out.as_object_mut()) {
                (Some(h), Some(o)) => o.insert((*k).to_owned(), h.clone()),
                (None, Some(o)) => o.remove(*k),
                _ => None,
            };
        }
    }
    out
}

fn zero(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Bool(false)) || v.as_f64() == Some(0.0) || v.as_str() == Some("")
}
