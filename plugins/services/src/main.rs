//! services: what Testcontainers users do. Starts a service container (busybox's `httpd`) with a
//! healthcheck on a network of the run's own, waits until the engine reports it healthy (events, no
//! sleeps), runs a client container against it by its network alias, checks the answer, and tears
//! everything down, also when something fails. See README.md.
//!
//! ```text
//! tug run services.wasm [-- IMAGE]
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tug_sdk::docker::{filters, Container, Docker, Error, Network, RunOptions};
use tug_sdk::models::{EndpointSettings, HealthConfig, NetworkCreateBody, NetworkingConfig};
use tug_sdk::{containers, system_streams};

const IMAGE: &str = "tug-test/busybox:latest";
/// What the service serves.
const PAGE: &str = "hello from the service";
/// The longest the service may take to become healthy.
const HEALTHY_WITHIN: Duration = Duration::from_secs(60);

fn main() {
    tug_sdk::main(run);
    println!("ok");
}

fn run() -> Result<(), Error> {
    let image = std::env::args().nth(1).unwrap_or_else(|| IMAGE.to_owned());
    let docker = Docker::from_env()?;
    let network = docker.networks().create(
        &format!("services-{}", unique()),
        NetworkCreateBody {
            driver: Some("bridge".into()),
            ..Default::default()
        },
    )?;
    println!(
        "network {} ({})",
        network.name().unwrap_or("?"),
        network.short_id()
    );
    let outcome = with_network(&docker, &network, &image);
    let removed = network.remove();
    outcome?;
    removed?;
    println!("removed the network");
    Ok(())
}

fn with_network(docker: &Docker, network: &Network, image: &str) -> Result<(), Error> {
    let net = network.name().unwrap_or(&network.id).to_owned();
    let mut service = RunOptions::new()
        .command([
            "sh",
            "-c",
            &format!("mkdir -p /www && echo '{PAGE}' > /www/index.html && exec httpd -f -p 8080 -h /www"),
        ])
        .network(&net)
        .healthcheck(HealthConfig {
            test: Some(strings(&[
                "CMD",
                "wget",
                "-q",
                "-O",
                "/dev/null",
                "http://127.0.0.1:8080/",
            ])),
            interval: Some(1_000_000_000),
            timeout: Some(2_000_000_000),
            retries: Some(50),
            ..Default::default()
        });
    service.config.networking_config = Some(NetworkingConfig {
        endpoints_config: Some(
            [(
                net.clone(),
                EndpointSettings {
                    aliases: Some(vec!["web".into()]),
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
        ),
        ..Default::default()
    });
    let web = docker.containers().create(image, &service)?;
    println!("service container {}", web.short_id());
    let outcome = serve_and_call(docker, &web, image, &net);
    let removed = web.remove(containers::RemoveOptions {
        force: Some(true),
        ..Default::default()
    });
    outcome?;
    removed?;
    println!("removed the service container");
    Ok(())
}

fn serve_and_call(docker: &Docker, web: &Container, image: &str, net: &str) -> Result<(), Error> {
    // Subscribe before starting, so no event can be missed; `until` bounds the wait.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let until = now + HEALTHY_WITHIN;
    let events = docker.events(system_streams::EventsOptions {
        since: Some(now.as_secs().to_string()),
        until: Some(until.as_secs().to_string()),
        filters: Some(filters([
            ("type", "container"),
            ("container", web.id.as_str()),
            ("event", "health_status"),
            ("event", "die"),
        ])),
    })?;
    web.start()?;
    println!("started; waiting for it to be healthy");
    let mut healthy = false;
    for event in events {
        let event = event?;
        let action = event.action.as_deref().unwrap_or_default().to_owned();
        println!("event: {action}");
        match action.as_str() {
            "health_status: healthy" => {
                healthy = true;
                break;
            }
            "die" => {
                return Err(Error::InvalidArgument(
                    "the service container exited before it was healthy".into(),
                ))
            }
            _ => {}
        }
    }
    if !healthy {
        return Err(Error::Timeout(format!(
            "the service was not healthy within {} s",
            HEALTHY_WITHIN.as_secs()
        )));
    }
    let mut web = web.clone();
    web.reload()?;
    println!("health: {}", web.health().unwrap_or_default());

    let output = docker
        .containers()
        .run(
            image,
            RunOptions::new()
                .command(["wget", "-q", "-O", "-", "http://web:8080/"])
                .network(net)
                .remove(true),
        )?
        .into_output()
        .unwrap_or_default();
    let answer = String::from_utf8_lossy(&output);
    println!("client got: {}", answer.trim_end());
    if answer.trim_end() != PAGE {
        return Err(Error::InvalidArgument(format!(
            "the client got {answer:?}, not {PAGE:?}"
        )));
    }
    Ok(())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A suffix for names that other runs on the host do not use.
fn unique() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{:x}{:05x}", t.as_secs(), t.subsec_micros())
}
