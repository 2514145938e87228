//! Tests of what real clients send that the specs do not spell (`clients.rs`): dropped only where the
//! daemon ignores it, moved where the daemon reads it.

use serde_json::{json, Value};

use super::schema::{self, Shape};
use super::*;

fn canon(kind: BodyKind, body: &str) -> Result<Value, CanonError> {
    canonicalize(kind, body.as_bytes())
}

fn create(body: &str) -> Result<Value, CanonError> {
    canon(BodyKind::ContainerCreate, body)
}

/// A key naming no field whose value is `null` is what the daemon reads as nothing: dropped, at any depth
/// and in every body; the same key with a value is refused.
#[test]
fn unknown_null_keys_are_dropped() {
    // docker-py's `containers.run(network=NAME)`.
    let v = create(r#"{"Image":"x","HostConfig":{"NetworkMode":"net"},"NetworkingConfig":{"net":null}}"#)
        .unwrap();
    assert_eq!(v["NetworkingConfig"], json!({}));
    let v = create(
        r#"{"Image":"x","Foo":null,"HostConfig":{"Bar":null,"Mounts":[{"Target":"/t","Baz":null}]},
            "NetworkingConfig":{"EndpointsConfig":{"n":{"Qux":null}}}}"#,
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"Image": "x", "HostConfig": {"Mounts": [{"Target": "/t"}]},
               "NetworkingConfig": {"EndpointsConfig": {"n": {}}}})
    );
    for kind in BodyKind::ALL {
        if let Shape::Struct(_) = schema::schema().root(kind) {
            assert_eq!(
                canon(kind, r#"{"NoSuchField":null}"#).unwrap(),
                json!({}),
                "{kind}"
            );
        }
    }
    // Go's struct{} (a global service's mode) skips unknown keys too.
    let v = canon(BodyKind::ServiceCreate, r#"{"Mode":{"Global":{"x":null}}}"#).unwrap();
    assert_eq!(v, json!({"Mode": {"Global": {}}}));
    for body in [
        r#"{"Image":"x","NetworkingConfig":{"net":{"Aliases":["a"]}}}"#,
        r#"{"Image":"x","Foo":false}"#,
        r#"{"Image":"x","Foo":{}}"#,
        r#"{"Image":"x","HostConfig":{"Bar":0}}"#,
    ] {
        let e = create(body).unwrap_err();
        assert_eq!(e.rule(), "canonical.unknown-field", "{body}: {e}");
    }
    // Null in a free-form map is a key with an empty value, not nothing: kept.
    let v = create(r#"{"Labels":{"a":null}}"#).unwrap();
    assert_eq!(v, json!({"Labels": {"a": null}}));
    // A known field's null is kept as sent (the daemon's zero value).
    let v = create(r#"{"Image":"x","Cmd":null,"HostConfig":null}"#).unwrap();
    assert_eq!(v, json!({"Image": "x", "Cmd": null, "HostConfig": null}));
}

/// The client-only fields of `IGNORED_BY_DAEMON`: dropped whatever their value, in their struct only,
/// in their exact spelling only.
#[test]
fn fields_real_clients_send_and_the_daemon_ignores_are_dropped() {
    let v = canon(
        BodyKind::ExecCreate,
        r#"{"AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Cmd":["id"],"Container":"abc123",
            "Privileged":false,"Tty":false,"User":"","Env":null,"WorkingDir":null,"DetachKeys":null,
            "Detach":true}"#,
    )
    .unwrap();
    assert!(v.get("Container").is_none() && v.get("Detach").is_none(), "{v}");
    assert_eq!(v["Cmd"], json!(["id"]));
    let v = create(r#"{"Image":"x","HostConfig":{"LxcConf":[{"Key":"lxc.utsname","Value":"x"}]}}"#).unwrap();
    assert_eq!(v, json!({"Image": "x", "HostConfig": {}}));
    for (kind, body) in [
        (BodyKind::ExecCreate, r#"{"Cmd":["id"],"container":"abc123"}"#),
        (BodyKind::ExecStart, r#"{"Detach":false,"Container":"abc"}"#),
        (BodyKind::ContainerCreate, r#"{"Container":"abc"}"#),
        (BodyKind::ContainerCreate, r#"{"LxcConf":[]}"#),
    ] {
        let e = canon(kind, body).unwrap_err();
        assert_eq!(e.rule(), "canonical.unknown-field", "{kind} {body}: {e}");
    }
    // Every entry names a struct of the schema, and a key that is not one of its fields.
    for (within, key, why) in IGNORED_BY_DAEMON {
        let def = schema::schema()
            .struct_by_name(within)
            .unwrap_or_else(|| panic!("no struct {within}"));
        assert!(
            def.field(key).is_none() && def.fold_match(key).is_none(),
            "{within}.{key}"
        );
        assert!(!why.is_empty());
    }
}

/// What real clients spell in another case: docker-py's service modes, exec detach keys and realtime CPU
/// fields. Renamed, so the rules see them, and forwarded under the field's own name.
#[test]
fn case_variants_real_clients_send_are_renamed() {
    let v = canon(
        BodyKind::ServiceCreate,
        r#"{"Mode":{"replicated":{"Replicas":3}}}"#,
    )
    .unwrap();
    assert_eq!(v, json!({"Mode": {"Replicated": {"Replicas": 3}}}));
    let v = canon(BodyKind::ServiceUpdate, r#"{"Mode":{"global":{}}}"#).unwrap();
    assert_eq!(v, json!({"Mode": {"Global": {}}}));
    let v = canon(BodyKind::ExecCreate, r#"{"Cmd":["sh"],"detachKeys":"ctrl-x"}"#).unwrap();
    assert_eq!(v, json!({"Cmd": ["sh"], "DetachKeys": "ctrl-x"}));
    let v = create(r#"{"HostConfig":{"CPURealtimePeriod":1000000,"CPURealtimeRuntime":950000}}"#).unwrap();
    assert_eq!(
        v["HostConfig"],
        json!({"CpuRealtimePeriod": 1000000, "CpuRealtimeRuntime": 950000})
    );
    assert_eq!(
        to_canonical_bytes(&v),
        br#"{"HostConfig":{"CpuRealtimePeriod":1000000,"CpuRealtimeRuntime":950000}}"#
    );
    // The renamed field is checked like the field: a wrong shape is refused at its canonical path.
    let e = canon(BodyKind::ServiceCreate, r#"{"Mode":{"replicated":[1]}}"#).unwrap_err();
    assert_eq!((e.rule(), e.path()), ("canonical.wrong-type", "Mode.Replicated"));
    let e = canon(
        BodyKind::ServiceCreate,
        r#"{"Mode":{"replicated":{},"Replicated":{}}}"#,
    )
    .unwrap_err();
    assert_eq!(
        (e.rule(), e.path()),
        ("canonical.case-variant", "Mode.replicated")
    );
}

/// A container create body's top-level `HostConfig` fields, which engines before 27 read: the whole
/// `HostConfig` of a body that has none; else only the merged fields, into zero ones.
#[test]
fn top_level_host_config_fields_go_where_the_daemon_reads_them() {
    // docker-py's `create_container(image, runtime="runc")`.
    let v = create(r#"{"Image":"x","Runtime":"runc","Privileged":true}"#).unwrap();
    assert_eq!(
        v,
        json!({"Image": "x", "HostConfig": {"Runtime": "runc", "Privileged": true}})
    );
    let v = create(r#"{"Image":"x","HostConfig":null,"Binds":["/:/h"]}"#).unwrap();
    assert_eq!(v, json!({"Image": "x", "HostConfig": {"Binds": ["/:/h"]}}));
    // With a HostConfig: merged where it has zero, and nothing else.
    let v = create(
        r#"{"Image":"x","Runtime":"runc","Privileged":true,"Memory":1024,"MemorySwap":2048,"CpuShares":0,
            "VolumeDriver":"local","CpusetCpus":"0",
            "HostConfig":{"Memory":0,"MemorySwap":4096,"CpuShares":512}}"#,
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"Image": "x", "HostConfig": {"Memory": 1024, "MemorySwap": 4096, "CpuShares": 512,
               "VolumeDriver": "local", "CpusetCpus": "0"}})
    );
    // Only in a container create, only in exact spellings, never over a field of the body itself.
    let e = canon(BodyKind::ImageCommit, r#"{"Runtime":"runc"}"#).unwrap_err();
    assert_eq!(e.rule(), "canonical.unknown-field");
    let e = create(r#"{"Image":"x","runtime":"runc"}"#).unwrap_err();
    assert_eq!((e.rule(), e.path()), ("canonical.unknown-field", "runtime"));
    let v = create(r#"{"Image":"x","Labels":{"a":"b"}}"#).unwrap();
    assert_eq!(v, json!({"Image": "x", "Labels": {"a": "b"}}));
    // A HostConfig that is not an object: left, and refused.
    let e = create(r#"{"Image":"x","Runtime":"runc","HostConfig":[]}"#).unwrap_err();
    assert_eq!(e.rule(), "canonical.wrong-type");
    // The moved fields are checked as HostConfig's.
    let e = create(r#"{"Image":"x","Mounts":[{"bogus":1}]}"#).unwrap_err();
    assert_eq!(
        (e.rule(), e.path()),
        ("canonical.unknown-field", "HostConfig.Mounts[0].bogus")
    );
    for key in LEGACY_MERGED {
        let def = schema::schema().struct_by_name("HostConfig").unwrap();
        assert!(def.field(key).is_some(), "{key}");
    }
}

/// Canonical output is a fixed point: what tug forwards reads back the same.
#[test]
fn normalized_bodies_are_idempotent() {
    for (kind, body) in [
        (
            BodyKind::ContainerCreate,
            r#"{"Image":"x","Runtime":"runc","hostconfig":null,"NetworkingConfig":{"n":null}}"#,
        ),
        (
            BodyKind::ExecCreate,
            r#"{"Container":"c","detachKeys":"ctrl-x","Detach":false}"#,
        ),
        (
            BodyKind::ServiceCreate,
            r#"{"Mode":{"replicated":{"replicas":1}},"x":null}"#,
        ),
    ] {
        let first = canon(kind, body).unwrap();
        let again = canonicalize(kind, &to_canonical_bytes(&first)).unwrap();
        assert_eq!(first, again, "{kind} {body}");
    }
    let v = create(r#"{"Image":"x","Runtime":"runc","hostconfig":null}"#).unwrap();
    assert_eq!(v, json!({"Image": "x", "HostConfig": {"Runtime": "runc"}}));
}
