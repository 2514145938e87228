//! The rules of the plugin routes (row 26 of the escape checklist). A managed Docker plugin runs as a
//! host-level daemon, outside every container rule: what it may reach is what its config asks for, and the
//! daemon grants it once the client accepts the plugin's privileges (pull, upgrade) or simply enables it
//! (create, then enable). So every plugin write needs `plugins = "write"` (only the `trusted` profile has
//! it), and, unless the policy is `unrestricted`:
//!
//! - the privileges a pull or upgrade accepts may not grant more than an ordinary container has: no host
//!   network, no mounts, no devices, no capabilities, no host PID or IPC namespace (`plugins.privileges`,
//!   field `[i].Value`); the daemon installs a plugin only if the accepted privileges equal the ones its
//!   config needs, so this bounds what the installed plugin is;
//! - a plugin setting may not change a mount's source or a device's path (`mnt.source=/`, `dev.path=…`,
//!   or the bare `mnt=/` when `mnt` is a mount with one settable field) (`plugins.settings`, field `[i]`);
//! - enabling a plugin checks what the installed plugin would actually run with, the same privileges read
//!   from its config and settings, whatever installed it (a created plugin's `config.json` is only known
//!   once the daemon has unpacked it) (`plugins.privileges`, field e.g. `Config.Linux.Capabilities`);
//! - pull, upgrade, push and create name references whose registry the policy must allow (`registries`).

use bytes::Bytes;
use serde_json::Value;

use super::{
    canonical::{self, BodyKind, CanonError},
    denial::{Denial, GateError},
    gate::Gate,
};
use crate::engine::{segment, Client, Request};

/// `/plugins/{name}{rest}`, each `/`-separated part of the name percent-encoded as one segment.
pub fn plugin_path(name: &str, rest: &str) -> String {
    let encoded: Vec<String> = name.split('/').map(segment).collect();
    format!("/plugins/{}{rest}", encoded.join("/"))
}

/// The network types a plugin may use: its own namespace (`none`, `bridge`, or none at all).
const NETWORKS: &[&str] = &["", "none", "bridge", "null"];

fn privilege_denial(field: String, what: &str) -> Denial {
    Denial::field(
        "plugins.privileges",
        field,
        format!(
            "a plugin runs as a host-level daemon; {what} would give it the host (only an unrestricted policy \
             grants plugin privileges)"
        ),
    )
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The privileges a pull or upgrade accepts (the canonical `[{Name, Description, Value}]` body): only
/// `network` with a network of the plugin's own; every other privilege grants part of the host.
pub fn privileges(body: &Value) -> Result<(), Denial> {
    for (i, p) in body.as_array().into_iter().flatten().enumerate() {
        let name = p["Name"].as_str().unwrap_or_default();
        let values = strings(&p["Value"]);
        let field = format!("[{i}].Value");
        match name {
            "network" => {
                if let Some(v) = values
                    .iter()
                    .find(|v| !NETWORKS.contains(&v.trim().to_ascii_lowercase().as_str()))
                {
                    return Err(privilege_denial(field, &format!("network {v}")));
                }
            }
            "mount" => {
                return Err(privilege_denial(
                    field,
                    &format!("mounting {}", values.join(", ")),
                ))
            }
            "device" => return Err(privilege_denial(field, &format!("device {}", values.join(", ")))),
            "allow-all-devices" => return Err(privilege_denial(field, "access to every device")),
            "capabilities" => {
                return Err(privilege_denial(
                    field,
                    &format!("capabilities {}", values.join(", ")),
                ))
            }
            "host pid namespace" => return Err(privilege_denial(field, "the host PID namespace")),
            "host ipc namespace" => return Err(privilege_denial(field, "the host IPC namespace")),
            other => {
                return Err(Denial::field(
                    "plugins.privileges",
                    format!("[{i}].Name"),
                    format!("plugin privilege {other:?} is not one tug knows; refused"),
                ))
            }
        }
    }
    Ok(())
}

/// One `NAME[.FIELD][=VALUE]` setting, split as the daemon splits it (`plugin/v2/settable.go`): the name
/// ends at the first `=`, the field is what follows its last `.`.
fn setting(arg: &str) -> (&str, Option<&str>) {
    let name = arg.split_once('=').map_or(arg, |(n, _)| n);
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    }
}

fn settings_denial(i: usize, arg: &str, what: &str) -> Denial {
    Denial::field(
        "plugins.settings",
        format!("[{i}]"),
        format!("setting {arg:?} would change {what}: a plugin runs on the host, so only an unrestricted policy may"),
    )
}

/// Refuses settings that name a mount's `source` or a device's `path` by their field alone; returns
/// whether some setting has no field (then what its name refers to decides: see [`settings_of`]).
pub fn settings_fields(body: &Value) -> Result<bool, Denial> {
    let mut bare = false;
    for (i, arg) in body.as_array().into_iter().flatten().enumerate() {
        let arg = arg.as_str().unwrap_or_default();
        match setting(arg).1.map(str::to_ascii_lowercase).as_deref() {
            Some("source") => return Err(settings_denial(i, arg, "a host path mounted into the plugin")),
            Some("path") => return Err(settings_denial(i, arg, "a host device given to the plugin")),
            Some(_) => {}
            None => bare = true,
        }
    }
    Ok(bare)
}

/// Refuses settings whose name is one of the plugin's mounts or devices (`inspect` is the plugin's
/// inspect document), as the daemon resolves names: env variables first, then mounts, devices, args.
pub fn settings_of(body: &Value, inspect: &Value) -> Result<(), Denial> {
    settings_fields(body)?;
    let config = &inspect["Config"];
    let named = |list: &Value, name: &str| {
        list.as_array()
            .into_iter()
            .flatten()
            .any(|item| item["Name"].as_str() == Some(name))
    };
    for (i, arg) in body.as_array().into_iter().flatten().enumerate() {
        let arg = arg.as_str().unwrap_or_default();
        let (name, _) = setting(arg);
        if named(&config["Env"], name) {
            continue;
        }
        if named(&config["Mounts"], name) {
            return Err(settings_denial(i, arg, "a host path mounted into the plugin"));
        }
        if named(&config["Linux"]["Devices"], name) {
            return Err(settings_denial(i, arg, "a host device given to the plugin"));
        }
    }
    Ok(())
}

/// What an installed plugin would run with (its inspect document), read as the daemon computes a plugin's
/// privileges (`computePrivileges`) plus its settings: refused unless it is no more than a container.
pub fn installed(inspect: &Value) -> Result<(), Denial> {
    let config = &inspect["Config"];
    let settings = &inspect["Settings"];
    let network = config["Network"]["Type"].as_str().unwrap_or_default();
    if !NETWORKS.contains(&network.trim().to_ascii_lowercase().as_str()) {
        return Err(privilege_denial(
            "Config.Network.Type".into(),
            &format!("network {network}"),
        ));
    }
    if config["IpcHost"].as_bool() == Some(true) {
        return Err(privilege_denial(
            "Config.IpcHost".into(),
            "the host IPC namespace",
        ));
    }
    if config["PidHost"].as_bool() == Some(true) {
        return Err(privilege_denial(
            "Config.PidHost".into(),
            "the host PID namespace",
        ));
    }
    if config["Linux"]["AllowAllDevices"].as_bool() == Some(true) {
        return Err(privilege_denial(
            "Config.Linux.AllowAllDevices".into(),
            "access to every device",
        ));
    }
    let caps = strings(&config["Linux"]["Capabilities"]);
    if !caps.is_empty() {
        return Err(privilege_denial(
            "Config.Linux.Capabilities".into(),
            &format!("capabilities {}", caps.join(", ")),
        ));
    }
    for (field, list, what) in [
        ("Config.Mounts", &config["Mounts"], "a mount"),
        ("Settings.Mounts", &settings["Mounts"], "a mount"),
        ("Config.Linux.Devices", &config["Linux"]["Devices"], "a device"),
        ("Settings.Devices", &settings["Devices"], "a device"),
    ] {
        if let Some(first) = list.as_array().and_then(|l| l.first()) {
            let source = first["Source"]
                .as_str()
                .or_else(|| first["Path"].as_str())
                .unwrap_or("(not set)");
            return Err(privilege_denial(
                format!("{field}[0]"),
                &format!("{what} of host path {source}"),
            ));
        }
    }
    Ok(())
}

fn canon_denial(e: CanonError) -> Denial {
    Denial::field(e.rule(), e.path().to_owned(), e.to_string())
}

impl Gate {
    /// A pull or upgrade body: the canonical privileges, checked unless the policy is unrestricted.
    pub fn plugin_privileges(&self, text: &str) -> Result<Bytes, Denial> {
        let body =
            canonical::canonicalize(BodyKind::PluginPrivileges, text.as_bytes()).map_err(canon_denial)?;
        if !self.policy.unrestricted {
            privileges(&body)?;
        }
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
    }

    /// A set body: the canonical settings, checked unless the policy is unrestricted (looking the plugin
    /// up when a setting's name alone says what it sets).
    pub async fn plugin_set(&self, client: &Client, name: &str, text: &str) -> Result<Bytes, GateError> {
        let body = canonical::canonicalize(BodyKind::PluginSet, text.as_bytes()).map_err(canon_denial)?;
        if !self.policy.unrestricted && settings_fields(&body)? {
            let inspect: Value = client.json(Request::get(plugin_path(name, "/json"))).await?;
            settings_of(&body, &inspect)?;
        }
        Ok(Bytes::from(canonical::to_canonical_bytes(&body)))
    }

    /// Checks, before an enable, what the installed plugin would run with, unless the policy is
    /// unrestricted.
    pub async fn plugin_enable(&self, client: &Client, name: &str) -> Result<(), GateError> {
        if self.policy.unrestricted {
            return Ok(());
        }
        let inspect: Value = client.json(Request::get(plugin_path(name, "/json"))).await?;
        installed(&inspect)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::policy::Policy;

    fn gate(text: &str) -> Gate {
        Gate::new(
            Arc::new(Policy::parse(text).unwrap()),
            "r1".into(),
            vec![("tug.run".into(), "r1".into())],
        )
    }

    const WRITER: &str = "name = \"plugin-writer\"\n[operations]\nplugins = \"write\"\n\
                          [registries]\nallow = [\"127.0.0.1:5000\"]\n";

    fn denied(r: Result<(), Denial>) -> (String, String) {
        let d = r.unwrap_err();
        (d.rule, d.field.unwrap_or_default())
    }

    #[test]
    fn privileges_of_a_pull() {
        let ok = json!([{"Name": "network", "Description": "", "Value": ["none"]}]);
        assert!(privileges(&ok).is_ok());
        assert!(privileges(&json!([])).is_ok());
        for (body, field) in [
            (json!([{"Name": "network", "Value": ["host"]}]), "[0].Value"),
            (
                json!([{"Name": "network", "Value": ["none"]}, {"Name": "mount", "Value": ["/"]}]),
                "[1].Value",
            ),
            (json!([{"Name": "device", "Value": ["/dev/sda"]}]), "[0].Value"),
            (
                json!([{"Name": "allow-all-devices", "Value": ["true"]}]),
                "[0].Value",
            ),
            (
                json!([{"Name": "capabilities", "Value": ["CAP_SYS_ADMIN"]}]),
                "[0].Value",
            ),
            (
                json!([{"Name": "host pid namespace", "Value": ["true"]}]),
                "[0].Value",
            ),
            (
                json!([{"Name": "host ipc namespace", "Value": ["true"]}]),
                "[0].Value",
            ),
            (json!([{"Name": "Mount", "Value": ["/"]}]), "[0].Name"),
        ] {
            assert_eq!(
                denied(privileges(&body)),
                ("plugins.privileges".into(), field.into()),
                "{body}"
            );
        }
    }

    #[test]
    fn the_gate_checks_privileges_unless_unrestricted() {
        let body = r#"[{"Name":"mount","Description":"","Value":["/"]}]"#;
        let d = gate(WRITER).plugin_privileges(body).unwrap_err();
        assert_eq!(
            (d.rule.as_str(), d.field.as_deref()),
            ("plugins.privileges", Some("[0].Value"))
        );
        let trusted = Gate::new(Arc::new(Policy::profile("trusted").unwrap()), "r1".into(), vec![]);
        assert!(trusted.plugin_privileges(body).is_ok());
        // Canonical bodies hold for everyone: a case variant is checked as its field, and two spellings of
        // one field are refused.
        let d = gate(WRITER)
            .plugin_privileges(r#"[{"name":"mount","Value":["/"]}]"#)
            .unwrap_err();
        assert_eq!(
            (d.rule.as_str(), d.field.as_deref()),
            ("plugins.privileges", Some("[0].Value"))
        );
        let d = trusted
            .plugin_privileges(r#"[{"name":"mount","Name":"network","Value":["/"]}]"#)
            .unwrap_err();
        assert_eq!(d.rule, "canonical.case-variant");
    }

    #[test]
    fn settings_by_field_and_by_name() {
        assert!(!settings_fields(&json!(["GREETING.value=hi"])).unwrap());
        assert!(settings_fields(&json!(["GREETING=hi"])).unwrap());
        for arg in ["mnt.source=/", "dev.path=/dev/sda", "a.b.SOURCE=/etc"] {
            assert_eq!(
                denied(settings_fields(&json!(["X=1", arg])).map(|_| ())),
                ("plugins.settings".into(), "[1]".into()),
                "{arg}"
            );
        }
        let inspect = json!({"Config": {
            "Env": [{"Name": "DEBUG", "Settable": ["value"]}, {"Name": "data", "Settable": ["value"]}],
            "Mounts": [{"Name": "data", "Settable": ["source"]}, {"Name": "mnt", "Settable": ["source"]}],
            "Linux": {"Devices": [{"Name": "disk", "Settable": ["path"]}]},
            "Args": {"Name": "args", "Settable": ["value"]}
        }});
        // `data` is an env variable first (the daemon's order), `mnt` a mount, `disk` a device.
        assert!(settings_of(&json!(["DEBUG=1", "data=x", "args=a b"]), &inspect).is_ok());
        assert_eq!(
            denied(settings_of(&json!(["DEBUG=1", "mnt=/"]), &inspect)),
            ("plugins.settings".into(), "[1]".into())
        );
        assert_eq!(
            denied(settings_of(&json!(["disk=/dev/sda"]), &inspect)),
            ("plugins.settings".into(), "[0]".into())
        );
    }

    #[test]
    fn what_an_installed_plugin_runs_with() {
        let plain = json!({
            "Config": {"Network": {"Type": "none"}, "IpcHost": false, "PidHost": false, "Mounts": [],
                       "Linux": {"Capabilities": [], "AllowAllDevices": false, "Devices": []}},
            "Settings": {"Mounts": [], "Devices": [], "Env": ["GREETING=hi"], "Args": []}
        });
        assert!(installed(&plain).is_ok());
        let with = |path: &[&str], v: Value| {
            let mut p = plain.clone();
            let mut at = &mut p;
            for k in path {
                at = &mut at[*k];
            }
            *at = v;
            p
        };
        for (p, field) in [
            (
                with(&["Config", "Network", "Type"], json!("host")),
                "Config.Network.Type",
            ),
            (with(&["Config", "IpcHost"], json!(true)), "Config.IpcHost"),
            (with(&["Config", "PidHost"], json!(true)), "Config.PidHost"),
            (
                with(&["Config", "Linux", "AllowAllDevices"], json!(true)),
                "Config.Linux.AllowAllDevices",
            ),
            (
                with(&["Config", "Linux", "Capabilities"], json!(["CAP_SYS_ADMIN"])),
                "Config.Linux.Capabilities",
            ),
            (
                with(
                    &["Config", "Mounts"],
                    json!([{"Source": "/", "Destination": "/host"}]),
                ),
                "Config.Mounts[0]",
            ),
            (
                with(&["Settings", "Devices"], json!([{"Path": "/dev/sda"}])),
                "Settings.Devices[0]",
            ),
        ] {
            assert_eq!(denied(installed(&p)), ("plugins.privileges".into(), field.into()));
        }
    }

    #[test]
    fn paths() {
        assert_eq!(
            plugin_path("127.0.0.1:5000/a/b:c", "/json"),
            "/plugins/127.0.0.1%3A5000/a/b%3Ac/json"
        );
    }
}
