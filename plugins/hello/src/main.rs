//! Says hello to the engine: its version (`system.version`), a line of what it holds (`system.info`) and
//! what it says in the headers of a ping (`system.ping`).

use serde_json::Value;
use tug_sdk::{engine, system};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("ok");
}

fn run() -> Result<()> {
    let docker = engine();
    println!(
        "engine {:?}, spoken to in API version {}",
        docker.name(),
        docker.api_version()
    );

    let version: Value = serde_json::from_str(&system::version(&docker)?)?;
    let (engine_version, api_version) = (text(&version, "Version")?, text(&version, "ApiVersion")?);
    println!(
        "Docker {engine_version} (ApiVersion {api_version}, MinAPIVersion {}, {}/{})",
        text(&version, "MinAPIVersion").unwrap_or("?"),
        text(&version, "Os").unwrap_or("?"),
        text(&version, "Arch").unwrap_or("?"),
    );
    check(api_version.starts_with("1."), || {
        format!("ApiVersion {api_version:?} is not 1.x")
    })?;

    let info: Value = serde_json::from_str(&system::info(&docker)?)?;
    let count = |field: &str| {
        info[field]
            .as_u64()
            .ok_or_else(|| format!("info has no number {field}"))
    };
    println!(
        "info: {} containers ({} running), {} images, storage driver {}",
        count("Containers")?,
        count("ContainersRunning")?,
        count("Images")?,
        text(&info, "Driver")?,
    );

    let ping = system::ping(&docker)?;
    println!(
        "ping: api-version {}, os-type {}, builder-version {}, experimental {}",
        ping.api_version,
        ping.os_type.as_deref().unwrap_or("-"),
        ping.builder_version.as_deref().unwrap_or("-"),
        ping.experimental,
    );
    check(ping.api_version == api_version, || {
        format!(
            "ping says api-version {}, version says {api_version}",
            ping.api_version
        )
    })
}

/// The string field `field` of `document`.
fn text<'a>(document: &'a Value, field: &str) -> Result<&'a str> {
    Ok(document[field]
        .as_str()
        .ok_or_else(|| format!("no string field {field} in {document}"))?)
}

/// Fails with `message()` unless `ok`.
fn check(ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(message().into())
    }
}
