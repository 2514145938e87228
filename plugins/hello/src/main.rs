//! Says hello to the engine: its version, a line of what it holds and what it says in the headers of a
//! ping.

use tug_sdk::docker::{Docker, Error};

fn main() {
    tug_sdk::main(run);
    println!("ok");
}

fn run() -> Result<(), Error> {
    let docker = Docker::from_env()?;
    println!(
        "engine {:?}, spoken to in API version {}",
        docker.name(),
        docker.api_version()
    );

    let version = docker.version()?;
    let api_version = version.api_version.clone().unwrap_or_default();
    println!(
        "Docker {} (ApiVersion {api_version}, MinAPIVersion {}, {}/{})",
        version.version.as_deref().unwrap_or("?"),
        version.min_api_version.as_deref().unwrap_or("?"),
        version.os.as_deref().unwrap_or("?"),
        version.arch.as_deref().unwrap_or("?"),
    );
    if !api_version.starts_with("1.") {
        return Err(Error::InvalidArgument(format!(
            "ApiVersion {api_version:?} is not 1.x"
        )));
    }

    let info = docker.info()?;
    println!(
        "info: {} containers ({} running), {} images, storage driver {}",
        info.containers.unwrap_or(0),
        info.containers_running.unwrap_or(0),
        info.images.unwrap_or(0),
        info.driver.as_deref().unwrap_or("?"),
    );

    let ping = docker.ping()?;
    println!(
        "ping: api-version {}, os-type {}, builder-version {}, experimental {}",
        ping.api_version,
        ping.os_type.as_deref().unwrap_or("-"),
        ping.builder_version.as_deref().unwrap_or("-"),
        ping.experimental,
    );
    if ping.api_version != api_version {
        return Err(Error::InvalidArgument(format!(
            "ping says api-version {}, version says {api_version}",
            ping.api_version
        )));
    }
    Ok(())
}
