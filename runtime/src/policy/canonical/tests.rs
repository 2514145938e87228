//! Tests of strict parsing and schema checks: the daemon's bypasses, nested cases, realistic bodies.

use serde_json::{json, Value};

use super::schema::{schema, Shape};
use super::*;

fn canon(kind: BodyKind, body: &str) -> Result<Value, CanonError> {
    canonicalize(kind, body.as_bytes())
}

fn create(body: &str) -> Result<Value, CanonError> {
    canon(BodyKind::ContainerCreate, body)
}

/// Accepts `body`, checks the value is what serde_json reads, and that the canonical bytes read back the same.
fn accepts(kind: BodyKind, body: &str) -> Value {
    let value = canon(kind, body).unwrap_or_else(|e| panic!("{kind} body refused: {e}\n{body}"));
    assert_eq!(value, serde_json::from_str::<Value>(body).unwrap());
    let bytes = to_canonical_bytes(&value);
    assert_eq!(canonicalize(kind, &bytes).unwrap(), value);
    value
}

// ---- the three bypasses seen on the test daemon -------------------------------------------------------------

/// The daemon reads `privileged` as `Privileged`: tug renames it, so the rules see it (and the daemon gets
/// `Privileged`); a second spelling of a field the object already has is refused.
#[test]
fn bypass_lowercase_field_is_renamed_and_a_second_spelling_refused() {
    for key in ["privileged", "PRIVILEGED", "pRiViLeGeD"] {
        let v = create(&format!(r#"{{"Image":"x","HostConfig":{{"{key}":true}}}}"#)).unwrap();
        assert_eq!(v, json!({"Image": "x", "HostConfig": {"Privileged": true}}));
    }
    let err = create(r#"{"Image":"x","HostConfig":{"Privileged":false,"privileged":true}}"#).unwrap_err();
    assert_eq!(
        err,
        CanonError::SecondSpelling {
            path: "HostConfig.privileged".into(),
            key: "privileged".into(),
            field: "Privileged".into(),
            within: "HostConfig".into(),
        }
    );
    assert_eq!(err.rule(), "canonical.case-variant");
    assert_eq!(err.path(), "HostConfig.privileged");
    assert_eq!(
        err.to_string(),
        "field `HostConfig.privileged` is another spelling of `Privileged`, which HostConfig already has \
         here (each field may appear once)"
    );
    // Two variants, neither the field's own spelling.
    let err = create(r#"{"Image":"x","HostConfig":{"PRIVILEGED":false,"privileged":true}}"#).unwrap_err();
    assert!(
        matches!(&err, CanonError::SecondSpelling { field, .. } if field == "Privileged"),
        "{err}"
    );
    // Nested objects of the same body are their own objects.
    let v = create(r#"{"image":"x","hostconfig":{"logconfig":{"type":"none"}}}"#).unwrap();
    assert_eq!(
        v,
        json!({"Image": "x", "HostConfig": {"LogConfig": {"Type": "none"}}})
    );
    // Free-form maps keep their keys.
    let v = create(r#"{"Labels":{"privileged":"1"},"HostConfig":{"sysctls":{"Net.X":"1"}}}"#).unwrap();
    assert_eq!(
        v,
        json!({"Labels": {"privileged": "1"}, "HostConfig": {"Sysctls": {"Net.X": "1"}}})
    );
}

#[test]
fn bypass_duplicate_key_is_refused() {
    let err = create(r#"{"HostConfig":{"Privileged":false,"Privileged":true}}"#).unwrap_err();
    assert_eq!(
        err,
        CanonError::DuplicateKey {
            path: "HostConfig.Privileged".into(),
            key: "Privileged".into(),
            object: "HostConfig".into(),
        }
    );
    assert_eq!(err.rule(), "canonical.duplicate-key");
    assert_eq!(
        err.to_string(),
        "duplicate key `Privileged` in `HostConfig` (each key may appear once)"
    );
    // Keys are compared after unescaping.
    let err = create(r#"{"HostConfig":{"Privileged":false,"Privil\u0065ged":true}}"#).unwrap_err();
    assert_eq!(err.rule(), "canonical.duplicate-key");
    let err = create(r#"{"Image":"x","Image":"y"}"#).unwrap_err();
    assert_eq!(err.path(), "Image");
    assert!(err.to_string().contains("in the top-level object"), "{err}");
}

#[test]
fn bypass_long_s_key_is_a_case_variant() {
    let err = create(r#"{"Image":"x","HoſtConfig":{"Privileged":true}}"#).unwrap_err();
    assert_eq!(
        err,
        CanonError::CaseVariant {
            path: "HoſtConfig".into(),
            key: "HoſtConfig".into(),
            field: "HostConfig".into(),
            within: "ContainerCreateRequest".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "field `HoſtConfig` is not a field of ContainerCreateRequest; the daemon would read it as \
         `HostConfig` (tug refuses non-ASCII keys that fold onto a field)"
    );
    // Also when null (the daemon would set HostConfig to nil), and beside an ASCII variant.
    let err = create(r#"{"Image":"x","HostConfig":{},"HoſtConfig":null}"#).unwrap_err();
    assert_eq!(err.rule(), "canonical.case-variant");
    let err = create(r#"{"Image":"x","hostconfig":{},"HoſtConfig":null}"#).unwrap_err();
    assert_eq!(err.rule(), "canonical.case-variant");
    // The same key written with a JSON escape.
    let err = create(r#"{"Image":"x","Ho\u017ftConfig":{"Privileged":true}}"#).unwrap_err();
    assert_eq!(err.rule(), "canonical.case-variant");
}

#[test]
fn kelvin_and_angstrom_keys() {
    // U+212A KELVIN SIGN folds to `k`.
    let err = create("{\"HostConfig\":{\"\u{212A}ernelMemory\":1}}").unwrap_err();
    assert_eq!(err.rule(), "canonical.case-variant");
    assert_eq!(err.path(), "HostConfig.\u{212A}ernelMemory");
    assert!(matches!(&err, CanonError::CaseVariant { field, .. } if field == "KernelMemory"));
    let err = create("{\"HostConfig\":{\"Lin\u{212A}s\":[]}}").unwrap_err();
    assert!(
        matches!(&err, CanonError::CaseVariant { field, .. } if field == "Links"),
        "{err}"
    );
    let err = create(r#"{"Labels":{},"Hostname":"h","NetworkDisabled":false,"\u212Aey":1}"#).unwrap_err();
    assert_eq!(err.rule(), "canonical.unknown-field");
    // U+212B ANGSTROM SIGN folds to å, which no field has: an unknown (non-ASCII) field.
    let err = create("{\"\u{212B}\":1}").unwrap_err();
    assert_eq!(err.rule(), "canonical.unknown-field");
    assert!(err.to_string().contains("non-ASCII"), "{err}");
    // Any other non-ASCII key in a struct object is refused too.
    let err = create(r#"{"HostConfig":{"Privilegéd":true}}"#).unwrap_err();
    assert_eq!(err.rule(), "canonical.unknown-field");
    assert_eq!(err.path(), "HostConfig.Privilegéd");
}

// ---- nested objects, maps and arrays -------------------------------------------------------------------------

#[test]
fn nested_case_variants_are_renamed() {
    let v = create(
        r#"{"Image":"x","HostConfig":{"Mounts":[{"Type":"bind","Source":"/","Target":"/h","bindOptions":{"propagation":"rshared"}}]}}"#,
    )
    .unwrap();
    assert_eq!(
        v["HostConfig"]["Mounts"][0]["BindOptions"],
        json!({"Propagation": "rshared"})
    );

    let v = create(
        r#"{"NetworkingConfig":{"EndpointsConfig":{"mynet":{"ipamconfig":{"IPv4Address":"10.0.0.2"}}}}}"#,
    )
    .unwrap();
    assert_eq!(
        v["NetworkingConfig"]["EndpointsConfig"]["mynet"]["IPAMConfig"]["IPv4Address"],
        "10.0.0.2"
    );

    let v = canon(
        BodyKind::ServiceCreate,
        r#"{"TaskTemplate":{"ContainerSpec":{"Privileges":{"seccomp":{"Mode":"unconfined"}}}},"Mode":{"replicated":{"Replicas":2}}}"#,
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"TaskTemplate": {"ContainerSpec": {"Privileges": {"Seccomp": {"Mode": "unconfined"}}}},
               "Mode": {"Replicated": {"Replicas": 2}}})
    );

    let err = create(r#"{"HostConfig":{"PortBindings":{"80/tcp":[{"hostPort":"8080","HostPort":"8081"}]}}}"#)
        .unwrap_err();
    assert_eq!(err.path(), r#"HostConfig.PortBindings["80/tcp"][0].hostPort"#);
    assert_eq!(err.rule(), "canonical.case-variant");
    // Renamed, then checked like the field: a variant holding an unknown field is refused under its field.
    let err = create(r#"{"HostConfig":{"logconfig":{"Foo":1}}}"#).unwrap_err();
    assert_eq!(err.path(), "HostConfig.LogConfig.Foo");
    assert_eq!(err.rule(), "canonical.unknown-field");
}

#[test]
fn free_form_maps_take_any_key_but_not_duplicates() {
    let v = accepts(
        BodyKind::ContainerCreate,
        r#"{"Labels":{"a":"1","A":"2","privileged":"x","ſ":"y","":"z"},"HostConfig":{"Sysctls":{"net.ipv4.ip_forward":"1"}}}"#,
    );
    assert_eq!(v["Labels"]["A"], "2");
    let err = create(r#"{"Labels":{"a":"1","a":"2"}}"#).unwrap_err();
    assert_eq!(
        err,
        CanonError::DuplicateKey {
            path: "Labels.a".into(),
            key: "a".into(),
            object: "Labels".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "duplicate key `a` in `Labels` (each key may appear once)"
    );
    let err = create(
        r#"{"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"1m","max-size":"2m"}}}}"#,
    )
    .unwrap_err();
    assert_eq!(err.path(), "HostConfig.LogConfig.Config.max-size");
    let err = create(r#"{"HostConfig":{"Mounts":[{"Type":"volume"},{"Type":"bind","Type":"volume"}]}}"#)
        .unwrap_err();
    assert_eq!(err.path(), "HostConfig.Mounts[1].Type");
    // Duplicates are refused even where the schema would not look (unknown content is refused anyway).
    let err = parse_strict(br#"[{"x":{"y":1,"y":2}}]"#, 100).unwrap_err();
    assert_eq!(err.path(), "[0].x.y");
}

#[test]
fn unknown_fields_are_refused() {
    let err = create(r#"{"Image":"x","HostConfig":{"Foo":1}}"#).unwrap_err();
    assert_eq!(
        err,
        CanonError::Unknown {
            path: "HostConfig.Foo".into(),
            key: "Foo".into(),
            within: "HostConfig".into()
        }
    );
    assert_eq!(err.rule(), "canonical.unknown-field");
    assert_eq!(
        err.to_string(),
        "unknown field `HostConfig.Foo` (HostConfig has no field `Foo`)"
    );
    // Empty structs (Go `struct{}`) take no keys.
    let err = create(r#"{"ExposedPorts":{"80/tcp":{"x":1}}}"#).unwrap_err();
    assert_eq!(err.path(), r#"ExposedPorts["80/tcp"].x"#);
    let err = canon(
        BodyKind::ServiceCreate,
        r#"{"Mode":{"Global":{"Privileged":true}}}"#,
    )
    .unwrap_err();
    assert_eq!(err.rule(), "canonical.unknown-field");
    // A field of another body kind is unknown here.
    let err = canon(BodyKind::ContainerUpdate, r#"{"Privileged":true}"#).unwrap_err();
    assert_eq!(err.path(), "Privileged");
}

#[test]
fn wrong_types_are_refused() {
    let err = create(r#"{"HostConfig":{"Binds":"/:/host"}}"#).unwrap_err();
    assert_eq!(
        err,
        CanonError::WrongType {
            path: "HostConfig.Binds".into(),
            expected: "an array",
            found: "a string"
        }
    );
    assert_eq!(err.rule(), "canonical.wrong-type");
    assert_eq!(
        err.to_string(),
        "`HostConfig.Binds` must be an array, not a string"
    );
    assert_eq!(create(r#"{"HostConfig":"x"}"#).unwrap_err().path(), "HostConfig");
    assert_eq!(
        create(r#"{"Image":{"Privileged":true}}"#).unwrap_err().rule(),
        "canonical.wrong-type"
    );
    assert_eq!(create(r#"{"Cmd":[["sh"]]}"#).unwrap_err().path(), "Cmd[0]");
    let err = create("[]").unwrap_err();
    assert_eq!(err.to_string(), "the body must be an object, not an array");
    assert_eq!(
        canon(BodyKind::PluginSet, r#"{"a":"b"}"#).unwrap_err().rule(),
        "canonical.wrong-type"
    );
}

#[test]
fn nulls_pass_through() {
    let v = accepts(
        BodyKind::ContainerCreate,
        r#"{"Image":null,"Cmd":null,"Env":[null],"Labels":{"a":null},"HostConfig":{"Binds":null,"RestartPolicy":null}}"#,
    );
    assert_eq!(v["HostConfig"]["Binds"], Value::Null);
    accepts(BodyKind::ContainerCreate, "null");
}

// ---- realistic bodies ------------------------------------------------------------------------------------------

#[test]
fn docker_py_container_create_is_accepted() {
    let body = r#"{
      "Image": "tug-test/busybox:latest", "Cmd": ["sh", "-c", "echo hi"], "Env": ["A=1", "B=two"],
      "Hostname": "web", "User": "1000:1000", "WorkingDir": "/srv", "Tty": false, "OpenStdin": false,
      "AttachStdout": true, "AttachStderr": true, "StopSignal": "SIGTERM", "StopTimeout": 10,
      "Labels": {"com.example.app": "web", "tug.owner": "plugin-a"},
      "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
      "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000, "Retries": 3},
      "HostConfig": {
        "Binds": ["/var/tmp/tug/stage:/stage:ro"],
        "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
        "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
        "Mounts": [
          {"Type": "volume", "Source": "data", "Target": "/data",
           "VolumeOptions": {"NoCopy": true, "Labels": {"a": "b"}, "DriverConfig": {"Name": "local", "Options": {}}}},
          {"Type": "tmpfs", "Target": "/tmp", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 1023}},
          {"Type": "bind", "Source": "/var/tmp/tug/x", "Target": "/x", "ReadOnly": true,
           "BindOptions": {"Propagation": "rprivate"}}
        ],
        "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
        "Memory": 268435456, "NanoCpus": 500000000, "PidsLimit": 100, "CapDrop": ["ALL"],
        "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
        "Devices": [], "DeviceRequests": [{"Driver": "", "Count": 0, "Capabilities": [["gpu"]]}],
        "SecurityOpt": ["no-new-privileges"], "Init": true, "AutoRemove": false, "NetworkMode": "mynet"
      },
      "NetworkingConfig": {"EndpointsConfig": {"mynet": {"Aliases": ["web", "www"]}}}
    }"#;
    let v = accepts(BodyKind::ContainerCreate, body);
    assert_eq!(v["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
    // The same body is a valid image-commit config minus the create-only parts.
    accepts(
        BodyKind::ImageCommit,
        r#"{"Cmd":["sh"],"Env":["A=1"],"Labels":{"x":"y"},"ExposedPorts":{"80/tcp":{}}}"#,
    );
}

/// The spec calls a service container's health check `HealthCheck`; the daemon's Go type (what inspect
/// returns, what docker-py and the CLI send) calls it `Healthcheck`. The schema carries the Go name.
#[test]
fn service_health_check_has_the_daemons_name() {
    let spec = r#"{"TaskTemplate":{"ContainerSpec":{"Image":"busybox",
        "Healthcheck":{"Test":["CMD","true"],"Interval":1000000000,"Retries":3}}}}"#;
    for kind in [BodyKind::ServiceCreate, BodyKind::ServiceUpdate] {
        let v = accepts(kind, spec);
        assert_eq!(v["TaskTemplate"]["ContainerSpec"]["Healthcheck"]["Retries"], 3);
    }
    // The spec's spelling is a case variant of it: renamed, checked (and forwarded) as `Healthcheck`.
    let v = canon(
        BodyKind::ServiceCreate,
        r#"{"TaskTemplate":{"ContainerSpec":{"HealthCheck":{"Test":["NONE"]}}}}"#,
    )
    .unwrap();
    assert_eq!(
        v["TaskTemplate"]["ContainerSpec"],
        json!({"Healthcheck": {"Test": ["NONE"]}})
    );
}

#[test]
fn other_realistic_bodies_are_accepted() {
    accepts(
        BodyKind::ExecCreate,
        r#"{"AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"Cmd":["sh","-c","id"],
            "Env":["X=1"],"User":"1000","WorkingDir":"/","Privileged":false,"DetachKeys":"ctrl-p,ctrl-q","ConsoleSize":[24,80]}"#,
    );
    accepts(BodyKind::ExecStart, r#"{"Detach":false,"Tty":false}"#);
    accepts(
        BodyKind::ServiceCreate,
        r#"{"Name":"web","Labels":{"tug.owner":"p"},
            "TaskTemplate":{
              "ContainerSpec":{"Image":"busybox","Args":["top"],"Env":["A=1"],
                "Mounts":[{"Type":"volume","Source":"data","Target":"/data","ReadOnly":false}],
                "Privileges":{"NoNewPrivileges":true},"CapabilityDrop":["ALL"],"Sysctls":{"net.core.somaxconn":"1024"},
                "Healthcheck":{"Test":["NONE"]},"DNSConfig":{"Nameservers":["1.1.1.1"]}},
              "Resources":{"Limits":{"NanoCPUs":500000000,"MemoryBytes":104857600,"Pids":100},
                           "Reservations":{"NanoCPUs":100000000,"GenericResources":[{"DiscreteResourceSpec":{"Kind":"gpu","Value":1}}]}},
              "RestartPolicy":{"Condition":"on-failure","Delay":10000000000,"MaxAttempts":3},
              "Placement":{"Constraints":["node.role==worker"],"Preferences":[{"Spread":{"SpreadDescriptor":"node.labels.dc"}}],
                           "Platforms":[{"Architecture":"amd64","OS":"linux"}]},
              "Networks":[{"Target":"overlay1","Aliases":["web"]}],"LogDriver":{"Name":"json-file","Options":{}}},
            "Mode":{"Replicated":{"Replicas":2}},
            "UpdateConfig":{"Parallelism":1,"Delay":1000000000,"FailureAction":"rollback","Order":"start-first"},
            "EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"ingress"}]}}"#,
    );
    accepts(
        BodyKind::SwarmInit,
        r#"{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"192.168.1.1:2377","DataPathPort":4789,
            "DefaultAddrPool":["10.10.0.0/8"],"SubnetSize":24,"ForceNewCluster":false,
            "Spec":{"Orchestration":{},"Raft":{},"Dispatcher":{},"CAConfig":{},"EncryptionConfig":{"AutoLockManagers":false}}}"#,
    );
    accepts(
        BodyKind::SwarmJoin,
        r#"{"ListenAddr":"0.0.0.0:2377","RemoteAddrs":["node1:2377"],"JoinToken":"SWMTKN-1-x"}"#,
    );
    accepts(
        BodyKind::VolumeCreate,
        r#"{"Name":"data","Driver":"local","DriverOpts":{"type":"tmpfs","device":"tmpfs","o":"size=100m,uid=1000"},
            "Labels":{"tug.owner":"p"}}"#,
    );
    accepts(
        BodyKind::NetworkCreate,
        r#"{"Name":"net1","CheckDuplicate":true,"Driver":"bridge","Internal":false,"Attachable":true,"EnableIPv6":false,
            "IPAM":{"Driver":"default","Config":[{"Subnet":"172.20.0.0/16","IPRange":"172.20.10.0/24","Gateway":"172.20.10.11",
                    "AuxiliaryAddresses":{"host1":"172.20.1.5"}}],"Options":{}},
            "Options":{"com.docker.network.bridge.enable_icc":"true"},"Labels":{"tug.owner":"p"}}"#,
    );
    accepts(
        BodyKind::NetworkConnect,
        r#"{"Container":"abc","EndpointConfig":{"Aliases":["db"],"IPAMConfig":{"IPv4Address":"172.20.0.5"}}}"#,
    );
    accepts(
        BodyKind::NetworkDisconnect,
        r#"{"Container":"abc","Force":false}"#,
    );
    accepts(
        BodyKind::ContainerUpdate,
        r#"{"Memory":314572800,"CpuShares":512,"RestartPolicy":{"Name":"no"}}"#,
    );
    accepts(
        BodyKind::PluginPrivileges,
        r#"[{"Name":"network","Description":"","Value":["host"]}]"#,
    );
    accepts(BodyKind::PluginSet, r#"["DEBUG=1"]"#);
    accepts(
        BodyKind::Auth,
        r#"{"username":"u","password":"p","serveraddress":"127.0.0.1:5001"}"#,
    );
    accepts(
        BodyKind::RegistryConfig,
        r#"{"127.0.0.1:5001":{"username":"u","password":"p"}}"#,
    );
    accepts(
        BodyKind::SecretCreate,
        r#"{"Name":"s","Data":"aGVsbG8=","Labels":{},"Driver":{"Name":"d","Options":{}}}"#,
    );
    accepts(
        BodyKind::ConfigCreate,
        r#"{"Name":"c","Data":"aGVsbG8=","Templating":{"Name":"golang"}}"#,
    );
    accepts(
        BodyKind::NodeUpdate,
        r#"{"Availability":"active","Role":"worker","Labels":{}}"#,
    );
    accepts(BodyKind::SwarmUnlock, r#"{"UnlockKey":"SWMKEY-1-x"}"#);
}

// ---- size, syntax, depth ----------------------------------------------------------------------------------------

#[test]
fn size_cap() {
    let padded = |len: usize| {
        let overhead = r#"{"Image":""}"#.len();
        format!(r#"{{"Image":"{}"}}"#, "x".repeat(len - overhead))
    };
    let at_limit = padded(MAX_BODY_BYTES);
    assert_eq!(at_limit.len(), MAX_BODY_BYTES);
    assert!(create(&at_limit).is_ok());
    let err = create(&padded(MAX_BODY_BYTES + 1)).unwrap_err();
    assert_eq!(
        err,
        CanonError::TooLarge {
            size: MAX_BODY_BYTES + 1,
            limit: MAX_BODY_BYTES
        }
    );
    assert_eq!(err.rule(), "canonical.too-large");
    assert_eq!(err.path(), "");
    let err = create(&padded(2 * MAX_BODY_BYTES)).unwrap_err();
    assert_eq!(err.to_string(), "body is 2 MiB, over the 1 MiB limit");
    // Secrets and configs get the larger cap.
    assert!(canon(
        BodyKind::SecretCreate,
        &format!(r#"{{"Data":"{}"}}"#, "A".repeat(1_400_000))
    )
    .is_ok());
    assert_eq!(
        parse_strict(b"[1, 2]", 5).unwrap_err().to_string(),
        "body is 6 bytes, over the 5 bytes limit"
    );
    assert_eq!(human_size(1536), "1.5 KiB");
    assert_eq!(human_size(3 << 19), "1.5 MiB");
}

#[test]
fn syntax_errors() {
    for bad in [
        &b""[..],
        b"{} x",
        b"{}{}",
        b"{\"Image\":\"x\",}",
        b"{'Image':'x'}",
        b"{\"Image\":\"\xff\"}",
        b"\xef\xbb\xbf{}",
        br#"{"Image":"\ud800"}"#,
        b"{\"Image\":1e999}",
        b"[NaN]",
    ] {
        let err = parse_strict(bad, MAX_BODY_BYTES).unwrap_err();
        assert_eq!(
            err.rule(),
            "canonical.syntax",
            "{:?}: {err}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(parse_strict(b" {} \n\t", 100).is_ok());
    let err = create(r#"{"HostConfig":{"Binds":["a",}}"#).unwrap_err();
    assert_eq!(err.path(), "HostConfig.Binds[1]");
    assert!(
        err.to_string()
            .starts_with("body is not valid JSON (at `HostConfig.Binds[1]`): "),
        "{err}"
    );
    // Numbers stay numbers (a `serde_json` feature such as `arbitrary_precision` would change that).
    assert_eq!(
        parse_strict(b"[1,-2,1.5,18446744073709551615]", 100).unwrap(),
        json!([1, -2, 1.5, u64::MAX])
    );
}

#[test]
fn nesting_depth_is_bounded() {
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse_strict(nested(100).as_bytes(), MAX_BODY_BYTES).is_ok());
    let err = parse_strict(nested(200).as_bytes(), MAX_BODY_BYTES).unwrap_err();
    assert_eq!(err.rule(), "canonical.syntax");
    assert!(err.to_string().contains("recursion limit"), "{err}");
    let deep_labels = format!(
        r#"{{"Labels":{}}}"#,
        "{\"a\":".repeat(300) + "1" + &"}".repeat(300)
    );
    assert_eq!(create(&deep_labels).unwrap_err().rule(), "canonical.syntax");
}

#[test]
fn canonical_bytes_are_compact_and_sorted() {
    let v = parse_strict(
        br#" { "b" : 1 , "a" : [ { "d" : null , "c" : "\u0078\n" } ] } "#,
        100,
    )
    .unwrap();
    assert_eq!(to_canonical_bytes(&v), br#"{"a":[{"c":"x\n","d":null}],"b":1}"#);
    let v = create(r#"{"Image":"x","Labels":{"é":"ſ"}}"#).unwrap();
    assert_eq!(
        String::from_utf8(to_canonical_bytes(&v)).unwrap(),
        r#"{"Image":"x","Labels":{"é":"ſ"}}"#
    );
}

// ---- the schema itself -------------------------------------------------------------------------------------------

#[test]
fn every_body_kind_root_resolves() {
    let s = schema();
    let doc: Value = serde_json::from_str(schema::SCHEMA_JSON).unwrap();
    assert_eq!(
        doc["_generated_by"],
        "scripts/gen-policy-schema from v1.41.yaml + v1.55.yaml"
    );
    let mut json_roots: Vec<&String> = doc["roots"].as_object().unwrap().keys().collect();
    json_roots.sort();
    let mut kinds: Vec<&str> = BodyKind::ALL.iter().map(|k| k.name()).collect();
    kinds.sort();
    assert_eq!(
        json_roots, kinds,
        "roots in engine-schema.json and BodyKind::ALL differ"
    );
    for kind in BodyKind::ALL {
        let expect_struct = |name: &str| match s.root(kind) {
            Shape::Struct(id) => assert_eq!(s.struct_def(*id).name(), name, "{kind}"),
            other => panic!("{kind}: root {other:?}"),
        };
        match kind {
            BodyKind::ContainerCreate => expect_struct("ContainerCreateRequest"),
            BodyKind::ServiceCreate | BodyKind::ServiceUpdate => expect_struct("ServiceSpec"),
            BodyKind::ImageCommit => expect_struct("ContainerConfig"),
            BodyKind::PluginSet => assert_eq!(s.root(kind), &Shape::Array(Box::new(Shape::Scalar))),
            BodyKind::PluginPrivileges => {
                let Shape::Array(item) = s.root(kind) else {
                    panic!("PluginPrivileges")
                };
                let Shape::Struct(id) = **item else {
                    panic!("PluginPrivileges item")
                };
                assert_eq!(s.struct_def(id).name(), "PluginPrivilege");
            }
            BodyKind::RegistryConfig => assert!(matches!(s.root(kind), Shape::Map(_))),
            _ => assert!(matches!(s.root(kind), Shape::Struct(_)), "{kind}"),
        }
        // Empty bodies of every kind but the arrays and maps are `{}`-shaped.
        let empty = if matches!(s.root(kind), Shape::Array(_)) {
            "[]"
        } else {
            "{}"
        };
        accepts(kind, empty);
    }
}

#[test]
fn schema_is_the_union_of_both_specs_and_well_formed() {
    let s = schema();
    let has = |st: &str, f: &str| s.struct_by_name(st).is_some_and(|d| d.field(f).is_some());
    // Security-relevant fields are known, in both specs.
    for (st, f) in [
        ("HostConfig", "Privileged"),
        ("HostConfig", "CapAdd"),
        ("HostConfig", "Binds"),
        ("HostConfig", "Mounts"),
        ("HostConfig", "Memory"), // from Resources (allOf)
        ("HostConfig", "Ulimits"),
        ("Mount", "BindOptions"),
        ("Mount.BindOptions", "Propagation"),
        ("Mount.VolumeOptions.DriverConfig", "Options"),
        ("TaskSpec.ContainerSpec.Privileges.Seccomp", "Mode"),
        ("ContainerCreateRequest", "Image"),
        ("ContainerCreateRequest", "HostConfig"),
        ("ContainerUpdateRequest", "RestartPolicy"),
        ("ContainerUpdateRequest", "Devices"),
    ] {
        assert!(has(st, f), "{st}.{f} missing");
    }
    // Only in v1.41 (removed later) and only in v1.55.
    assert!(has("NetworkCreateRequest", "CheckDuplicate"));
    assert!(has("NetworkCreateRequest", "EnableIPv4"));
    assert!(has("EndpointSettings", "GwPriority"));
    assert!(has("Mount", "ImageOptions"));
    assert!(has("ExecConfig", "Privileged") && has("ExecConfig", "ConsoleSize"));
    assert!(has("VolumeCreateRequest", "DriverOpts") && has("VolumeCreateRequest", "ClusterVolumeSpec"));
    // v1.41's network connect/disconnect bodies carry each other's title; they must not be merged.
    assert!(has("NetworkConnectRequest", "EndpointConfig") && !has("NetworkConnectRequest", "Force"));
    assert!(has("NetworkDisconnectRequest", "Force") && !has("NetworkDisconnectRequest", "EndpointConfig"));
    // `Mount.Type` is `allOf: [MountType]`, a string.
    assert_eq!(
        s.struct_by_name("Mount").unwrap().field("Type"),
        Some(&Shape::Scalar)
    );
    let mut fields = 0;
    for def in s.structs() {
        for (name, _) in def.fields() {
            fields += 1;
            assert!(name.is_ascii(), "{}.{name}", def.name());
            assert_eq!(
                def.fold_match(name),
                Some(name),
                "{}.{name} folds onto another field",
                def.name()
            );
        }
    }
    assert!(
        s.structs().count() > 90 && fields > 450,
        "{} structs, {fields} fields",
        s.structs().count()
    );
}
