//! The rules of network and volume create bodies (rows 5 and 29 of `docs/policy.md`'s checklist).

use serde_json::Value;

use super::{
    denial::Denial,
    rules::{is_set, items},
};

/// Bridge driver options that stay inside the network. Every other option is refused: the bridge's host
/// interface name (`com.docker.network.bridge.name`: enslave a host bridge such as `docker0`), a parent
/// interface (`parent`, macvlan and ipvlan), the host address ports bind to by default, gateway modes that
/// route from outside without published ports, trusted host interfaces…
const BRIDGE_OPTIONS: &[&str] = &[
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
    "com.docker.network.driver.mtu",
    "com.docker.network.container_iface_prefix",
];

/// Checks a network create body: a plain local bridge network (internal, attachable, with IPAM config of
/// the default IPAM driver) and nothing that reaches the host's interfaces or the swarm.
pub fn network_create(body: &Value) -> Result<(), Denial> {
    if let Some(driver) = body["Driver"]
        .as_str()
        .filter(|d| !d.is_empty() && *d != "bridge")
    {
        return Err(Denial::field(
            "networks.driver",
            "Driver",
            format!("network driver {driver} is not allowed (only bridge)"),
        ));
    }
    if !body["Driver"].is_null() && !body["Driver"].is_string() {
        return Err(Denial::field(
            "networks.driver",
            "Driver",
            "Driver must be a string",
        ));
    }
    for key in ["ConfigFrom", "ConfigOnly", "Ingress"] {
        if is_set(&body[key]) {
            return Err(Denial::field(
                "networks.options",
                key,
                format!("{key} is not allowed (config-only networks and the swarm's ingress)"),
            ));
        }
    }
    if let Some(scope) = body["Scope"].as_str().filter(|s| !s.is_empty() && *s != "local") {
        return Err(Denial::field(
            "networks.options",
            "Scope",
            format!("scope {scope} is not allowed (only local)"),
        ));
    }
    if let Some(options) = body["Options"].as_object() {
        for (key, value) in options {
            if !BRIDGE_OPTIONS.contains(&key.as_str()) {
                return Err(Denial::field(
                    "networks.options",
                    format!("Options.{key}"),
                    format!(
                        "driver option {key} is not allowed (allowed: {})",
                        BRIDGE_OPTIONS.join(", ")
                    ),
                ));
            }
            if !value.is_string() {
                return Err(Denial::field(
                    "networks.options",
                    format!("Options.{key}"),
                    "driver options are strings",
                ));
            }
        }
    }
    if let Some(driver) = body["IPAM"]["Driver"]
        .as_str()
        .filter(|d| !d.is_empty() && *d != "default")
    {
        return Err(Denial::field(
            "networks.ipam",
            "IPAM.Driver",
            format!("IPAM driver {driver} is not allowed (only default)"),
        ));
    }
    let routes = super::subnets::HostNet::read();
    for (i, c) in items(&body["IPAM"]["Config"]) {
        for key in ["Subnet", "IPRange"] {
            if let Some(cidr) = c[key].as_str().filter(|s| !s.is_empty()) {
                super::subnets::check(cidr, &routes)
                    .map_err(|why| Denial::field("networks.ipam", format!("IPAM.Config[{i}].{key}"), why))?;
            }
        }
    }
    Ok(())
}

/// Checks a volume create body: the `local` driver without options. With options, `local` mounts whatever
/// they say (`type=none,o=bind,device=/` binds the host's root; `type=nfs`/`cifs` mount network shares);
/// other drivers are plugins running as root.
pub fn volume_create(body: &Value) -> Result<(), Denial> {
    if let Some(driver) = body["Driver"].as_str().filter(|d| !d.is_empty() && *d != "local") {
        return Err(Denial::field(
            "volumes.driver",
            "Driver",
            format!("volume driver {driver} is not allowed (only local)"),
        ));
    }
    if !body["Driver"].is_null() && !body["Driver"].is_string() {
        return Err(Denial::field(
            "volumes.driver",
            "Driver",
            "Driver must be a string",
        ));
    }
    if is_set(&body["ClusterVolumeSpec"]) {
        return Err(Denial::field(
            "volumes.driver",
            "ClusterVolumeSpec",
            "cluster (CSI) volumes are not allowed",
        ));
    }
    if let Some(key) = body["DriverOpts"].as_object().and_then(|o| o.keys().next()) {
        return Err(Denial::field(
            "volumes.driver-opts",
            format!("DriverOpts.{key}"),
            "volume driver options are not allowed (with the local driver they bind host paths or mount \
             network shares)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_rules() {
        use serde_json::json;
        let rule = |b: Value| network_create(&b).map_err(|d| (d.rule, d.field.unwrap_or_default()));
        assert!(rule(json!({"Name": "n"})).is_ok());
        assert!(rule(
            json!({"Name": "n", "Driver": "bridge", "Internal": true, "Attachable": true,
            "IPAM": {"Driver": "default", "Config": [{"Subnet": "172.30.9.0/24", "Gateway": "172.30.9.1"}]},
            "Options": {"com.docker.network.bridge.enable_icc": "false"}, "Scope": "local"})
        )
        .is_ok());
        let denied = |b: Value, r: &str, f: &str| assert_eq!(rule(b), Err((r.into(), f.into())));
        denied(json!({"Driver": "macvlan"}), "networks.driver", "Driver");
        denied(json!({"Driver": "host"}), "networks.driver", "Driver");
        denied(json!({"Driver": 1}), "networks.driver", "Driver");
        denied(
            json!({"Options": {"com.docker.network.bridge.name": "docker0"}}),
            "networks.options",
            "Options.com.docker.network.bridge.name",
        );
        denied(
            json!({"Options": {"parent": "eth0"}}),
            "networks.options",
            "Options.parent",
        );
        denied(
            json!({"Options": {"com.docker.network.bridge.gateway_mode_ipv4": "routed"}}),
            "networks.options",
            "Options.com.docker.network.bridge.gateway_mode_ipv4",
        );
        denied(
            json!({"ConfigFrom": {"Network": "cfg"}}),
            "networks.options",
            "ConfigFrom",
        );
        denied(json!({"ConfigOnly": true}), "networks.options", "ConfigOnly");
        denied(json!({"Ingress": true}), "networks.options", "Ingress");
        denied(json!({"Scope": "swarm"}), "networks.options", "Scope");
        denied(
            json!({"IPAM": {"Driver": "dhcp"}}),
            "networks.ipam",
            "IPAM.Driver",
        );
    }

    #[test]
    fn volume_rules() {
        use serde_json::json;
        let rule = |b: Value| volume_create(&b).map_err(|d| (d.rule, d.field.unwrap_or_default()));
        assert!(rule(json!({"Name": "v"})).is_ok());
        assert!(
            rule(json!({"Name": "v", "Driver": "local", "DriverOpts": {}, "Labels": {"a": "b"}})).is_ok()
        );
        let denied = |b: Value, r: &str, f: &str| assert_eq!(rule(b), Err((r.into(), f.into())));
        denied(json!({"Driver": "rexray"}), "volumes.driver", "Driver");
        denied(
            json!({"DriverOpts": {"type": "none", "o": "bind", "device": "/"}}),
            "volumes.driver-opts",
            "DriverOpts.device",
        );
        denied(
            json!({"Driver": "local", "DriverOpts": {"type": "nfs"}}),
            "volumes.driver-opts",
            "DriverOpts.type",
        );
        denied(
            json!({"ClusterVolumeSpec": {"Group": "g"}}),
            "volumes.driver",
            "ClusterVolumeSpec",
        );
    }
}
