//! Tests of `policy::rules_swarm`.
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::policy::{Access, Area, Op, Policy};

fn gate(profile: &str) -> Gate {
    Gate::new(
        Arc::new(Policy::profile(profile).unwrap()),
        "r1".into(),
        vec![(RUN_LABEL.into(), "r1".into()), ("tug.plugin".into(), "p".into())],
    )
}

/// A client of no engine: the checks below must decide before asking one.
fn nowhere() -> Client {
    Client::new(crate::engine::EngineConfig::from_url("unix:///nonexistent/tug-test.sock").unwrap()).unwrap()
}

fn service(container_spec: Value) -> Value {
    json!({"Name": "s", "TaskTemplate": {"ContainerSpec": container_spec}, "Mode": {"Replicated": {"Replicas": 2}}})
}

async fn spec_rule(g: &Gate, body: Value) -> Result<Value, (String, String)> {
    match g
        .service_spec(&nowhere(), BodyKind::ServiceCreate, &body.to_string())
        .await
    {
        Ok(b) => Ok(serde_json::from_slice(&b).unwrap()),
        Err(GateError::Denied(d)) => Err((d.rule, d.field.unwrap_or_default())),
        Err(GateError::Engine(e)) => panic!("asked the engine: {e}"),
    }
}

#[test]
fn profiles_grant_the_swarm_areas() {
    let ops = |p: &str| Policy::profile(p).unwrap().operations;
    for area in [Area::Swarm, Area::Services, Area::Secrets, Area::Configs] {
        assert_eq!(ops("untrusted").get(area), Access::None, "{area:?}");
        assert_eq!(ops("trusted").get(area), Access::Write, "{area:?}");
    }
    assert_eq!(ops("ci").get(Area::Swarm), Access::Read);
    for area in [Area::Services, Area::Secrets, Area::Configs] {
        assert_eq!(ops("ci").get(area), Access::Write, "{area:?}");
    }
    let ci = gate("ci");
    assert!(ci.allow(Op::SwarmInspect).is_ok() && ci.allow(Op::NodeList).is_ok());
    for op in [
        Op::SwarmInit,
        Op::SwarmJoin,
        Op::SwarmUnlockkey,
        Op::NodeUpdate,
        Op::NodeDelete,
    ] {
        assert_eq!(ci.allow(op).unwrap_err().rule, "operations.swarm", "{op:?}");
    }
    assert!(ci.allow(Op::ServiceCreate).is_ok() && ci.allow(Op::TaskLogs).is_ok());
    let u = gate("untrusted");
    assert_eq!(u.allow(Op::ServiceList).unwrap_err().rule, "operations.services");
    assert_eq!(u.allow(Op::SecretCreate).unwrap_err().rule, "operations.secrets");
    assert_eq!(u.allow(Op::ConfigInspect).unwrap_err().rule, "operations.configs");
}

#[test]
fn swarm_addresses_stay_on_loopback() {
    for a in [
        "127.0.0.1",
        "127.0.0.1:2377",
        "[::1]:2377",
        "::1",
        "localhost:2377",
        "127.1.2.3",
    ] {
        assert!(loopback(a), "{a}");
    }
    for a in [
        "0.0.0.0:2377",
        "192.0.2.1",
        "eth0",
        "[2001:db8::1]:2377",
        "",
        "evil.example:2377",
    ] {
        assert!(!loopback(a), "{a}");
    }
    let g = gate("ci");
    let rule = |kind, b: Value| {
        g.swarm_request(kind, &b.to_string())
            .map(|_| ())
            .map_err(|d| (d.rule, d.field.unwrap_or_default()))
    };
    let denied = |r: &str, f: &str| Err((r.to_owned(), f.to_owned()));
    let ok = json!({"ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1"});
    assert_eq!(rule(BodyKind::SwarmInit, ok.clone()), Ok(()));
    assert_eq!(
        rule(
            BodyKind::SwarmInit,
            json!({"ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": "127.0.0.1"})
        ),
        denied("swarm.listen", "ListenAddr")
    );
    assert_eq!(
        rule(BodyKind::SwarmInit, json!({"ListenAddr": "127.0.0.1:2377"})),
        denied("swarm.listen", "AdvertiseAddr")
    );
    assert_eq!(
        rule(
            BodyKind::SwarmInit,
            json!({"ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1",
            "DataPathAddr": "192.0.2.7"})
        ),
        denied("swarm.listen", "DataPathAddr")
    );
    let mut join = ok.clone();
    join["RemoteAddrs"] = json!(["127.0.0.1:2377", "192.0.2.1:2377"]);
    join["JoinToken"] = json!("SWMTKN-1-x");
    assert_eq!(
        rule(BodyKind::SwarmJoin, join),
        denied("swarm.join", "RemoteAddrs[1]")
    );
    // Canonical bodies still apply (a case variant is checked as its field, two spellings are refused);
    // unrestricted skips the address rules.
    assert_eq!(
        rule(
            BodyKind::SwarmInit,
            json!({"listenAddr": "0.0.0.0:2377", "AdvertiseAddr": "127.0.0.1"})
        ),
        denied("swarm.listen", "ListenAddr")
    );
    assert_eq!(
        rule(
            BodyKind::SwarmInit,
            json!({"listenAddr": "0.0.0.0", "ListenAddr": "127.0.0.1"})
        ),
        denied("canonical.case-variant", "listenAddr")
    );
    assert!(gate("trusted")
        .swarm_request(BodyKind::SwarmJoin, r#"{"RemoteAddrs":["192.0.2.1:2377"]}"#)
        .is_ok());
}

#[tokio::test]
async fn service_rules_name_the_field() {
    let g = gate("ci");
    let img = "127.0.0.1:5000/tug-test/busybox:latest";
    let denied = |r: &str, f: &str| Err((r.to_owned(), f.to_owned()));
    let cs = |extra: Value| {
        let mut spec = json!({"Image": img});
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        service(spec)
    };
    let cases = [
        (
            cs(json!({"Mounts": [{"Type": "bind", "Source": "/", "Target": "/host"}]})),
            denied("containers.binds", "TaskTemplate.ContainerSpec.Mounts[0].Source"),
        ),
        (
            cs(json!({"Mounts": [{"Type": "volume", "Target": "/v",
                "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"o": "bind", "device": "/"}}}}]})),
            denied(
                "containers.volume-driver",
                "TaskTemplate.ContainerSpec.Mounts[0].VolumeOptions.DriverConfig",
            ),
        ),
        (
            cs(
                json!({"Mounts": [{"Type": "npipe", "Source": "\\\\.\\pipe\\docker_engine", "Target": "/p"}]}),
            ),
            denied("containers.mounts", "TaskTemplate.ContainerSpec.Mounts[0].Type"),
        ),
        (
            cs(json!({"CapabilityAdd": ["CAP_SYS_ADMIN"]})),
            denied(
                "containers.capabilities",
                "TaskTemplate.ContainerSpec.CapabilityAdd[0]",
            ),
        ),
        (
            cs(json!({"Privileges": {"Seccomp": {"Mode": "unconfined"}}})),
            denied(
                "services.privileges",
                "TaskTemplate.ContainerSpec.Privileges.Seccomp.Mode",
            ),
        ),
        (
            cs(json!({"Privileges": {"AppArmor": {"Mode": "disabled"}}})),
            denied(
                "services.privileges",
                "TaskTemplate.ContainerSpec.Privileges.AppArmor.Mode",
            ),
        ),
        (
            cs(json!({"Privileges": {"SELinuxContext": {"Disable": true}}})),
            denied(
                "services.privileges",
                "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Disable",
            ),
        ),
        (
            cs(json!({"Privileges": {"SELinuxContext": {"Type": "spc_t"}}})),
            denied(
                "services.privileges",
                "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Type",
            ),
        ),
        (
            cs(json!({"Sysctls": {"net.ipv4.ip_forward": "1"}})),
            denied("containers.sysctls", "TaskTemplate.ContainerSpec.Sysctls"),
        ),
        (
            cs(json!({"Isolation": "process"})),
            denied("services.runtime", "TaskTemplate.ContainerSpec.Isolation"),
        ),
        (
            cs(json!({"Dir": "/proc/self/fd/7"})),
            denied("containers.working-dir", "TaskTemplate.ContainerSpec.Dir"),
        ),
        (
            cs(json!({"Labels": {"tug.run": "someone-else"}})),
            denied("labels.reserved", "TaskTemplate.ContainerSpec.Labels.tug.run"),
        ),
        (
            service(json!({"Image": "192.0.2.9:5000/x:1"})),
            denied("registries", "TaskTemplate.ContainerSpec.Image"),
        ),
        (
            json!({"TaskTemplate": {"ContainerSpec": {}}}),
            denied("images", "TaskTemplate.ContainerSpec.Image"),
        ),
        (
            json!({"TaskTemplate": {"PluginSpec": {"Name": "evil"}}}),
            denied("services.runtime", "TaskTemplate.PluginSpec"),
        ),
        (
            json!({"TaskTemplate": {"Runtime": "plugin", "ContainerSpec": {"Image": img}}}),
            denied("services.runtime", "TaskTemplate.Runtime"),
        ),
        (
            json!({"TaskTemplate": {"ContainerSpec": {"Image": img}, "LogDriver": {"Name": "syslog"}}}),
            denied("containers.log-config", "TaskTemplate.LogDriver.Name"),
        ),
        (
            json!({"TaskTemplate": {"ContainerSpec": {"Image": img}},
                "EndpointSpec": {"Ports": [{"TargetPort": 80, "PublishedPort": 8080, "PublishMode": "host"}]}}),
            denied("services.ports", "EndpointSpec.Ports[0].PublishMode"),
        ),
        (
            json!({"TaskTemplate": {"ContainerSpec": {"Image": img}},
                "EndpointSpec": {"Ports": [{"TargetPort": 80}]}}),
            denied("services.ports", "EndpointSpec.Ports[0].PublishedPort"),
        ),
        (
            json!({"TaskTemplate": {"ContainerSpec": {"Image": img}}, "Mode": {"Replicated": {"Replicas": 1000}}}),
            denied("quota.containers", "Mode.Replicated.Replicas"),
        ),
        (
            json!({"Labels": {"TUG.run": "x"}, "TaskTemplate": {"ContainerSpec": {"Image": img}}}),
            denied("labels.reserved", "Labels.TUG.run"),
        ),
        (
            json!({"TaskTemplate": {"ContainerSpec": {"Image": img, "Privileged": true}}}),
            denied("canonical.unknown-field", "TaskTemplate.ContainerSpec.Privileged"),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(spec_rule(&g, body.clone()).await.map(|_| ()), want, "{body}");
    }
}

#[tokio::test]
async fn services_are_stamped_and_capped() {
    let g = gate("ci");
    let body = service(json!({"Image": "127.0.0.1:5000/x:1", "Labels": {"a": "b"},
        "Healthcheck": {"Test": ["NONE"]}, "Privileges": {"Seccomp": {"Mode": "default"}, "NoNewPrivileges": true},
        "CapabilityDrop": ["ALL"], "Init": true, "Isolation": "default"}));
    let mut with_limits = body.clone();
    with_limits["TaskTemplate"]["Resources"] = json!({"Limits": {"MemoryBytes": 8_i64 << 30, "Pids": 10}});
    let out = spec_rule(&g, with_limits).await.unwrap();
    assert_eq!(out["Labels"]["tug.run"], "r1");
    let cs = &out["TaskTemplate"]["ContainerSpec"];
    assert_eq!(
        (cs["Labels"]["tug.run"].as_str(), cs["Labels"]["a"].as_str()),
        (Some("r1"), Some("b"))
    );
    let limits = &out["TaskTemplate"]["Resources"]["Limits"];
    assert_eq!(limits["MemoryBytes"], 2_i64 << 30);
    assert_eq!(limits["NanoCPUs"], 2_000_000_000_i64);
    assert_eq!(limits["Pids"], 10);
    // An update may send back the run's own labels as inspect returned them, not forge others.
    let mut update = out.clone();
    update["Mode"]["Replicated"]["Replicas"] = json!(3);
    let sent = g
        .service_spec(&nowhere(), BodyKind::ServiceUpdate, &update.to_string())
        .await
        .unwrap();
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(sent["Mode"]["Replicated"]["Replicas"], 3);
    update["Labels"]["tug.run"] = json!("r2");
    let refused = g
        .service_spec(&nowhere(), BodyKind::ServiceUpdate, &update.to_string())
        .await;
    assert!(matches!(refused, Err(GateError::Denied(d)) if d.rule == "labels.reserved"));
    // Create refuses even the run's own labels (as for containers).
    assert_eq!(
        spec_rule(
            &g,
            json!({"Labels": {"tug.run": "r1"}, "TaskTemplate": {"ContainerSpec": {"Image": "x"}}})
        )
        .await
        .map(|_| ()),
        Err(("labels.reserved".to_owned(), "Labels.tug.run".to_owned()))
    );
    // Unrestricted: no rules, still stamped.
    let t = gate("trusted");
    let out = spec_rule(
        &t,
        service(json!({"Image": "alpine", "CapabilityAdd": ["SYS_ADMIN"]})),
    )
    .await
    .unwrap();
    assert_eq!(out["TaskTemplate"]["ContainerSpec"]["Labels"]["tug.run"], "r1");
}

#[test]
fn secrets_and_configs() {
    let g = gate("ci");
    let out: Value = serde_json::from_slice(
        &g.secret_spec(
            BodyKind::SecretCreate,
            r#"{"Name":"s","Data":"aGk=","Labels":{"a":"b"}}"#,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (out["Labels"]["a"].as_str(), out["Labels"]["tug.run"].as_str()),
        (Some("b"), Some("r1"))
    );
    let rule = |kind, text: &str| {
        g.secret_spec(kind, text)
            .map(|_| ())
            .map_err(|d| (d.rule, d.field))
    };
    assert_eq!(
        rule(
            BodyKind::SecretCreate,
            r#"{"Name":"s","Driver":{"Name":"vault"}}"#
        ),
        Err(("secrets.driver".into(), Some("Driver".into())))
    );
    assert_eq!(
        rule(
            BodyKind::ConfigCreate,
            r#"{"Name":"c","Labels":{"tug.plugin":"x"}}"#
        ),
        Err(("labels.reserved".into(), Some("Labels.tug.plugin".into())))
    );
    assert!(rule(
        BodyKind::ConfigUpdate,
        r#"{"Name":"c","Labels":{"tug.run":"r1","x":"y"}}"#
    )
    .is_ok());
    assert!(rule(
        BodyKind::SecretUpdate,
        r#"{"Name":"c","Labels":{"tug.run":"r0"}}"#
    )
    .is_err());
    assert!(rule(
        BodyKind::ConfigCreate,
        r#"{"Name":"c","Data":"aGk=","Templating":{"Name":"golang"}}"#
    )
    .is_ok());
}
