//! Networks and volumes: creates a network with a subnet of its own (IPAM config) and a volume, runs a
//! container on that network with the volume mounted that writes a file into it, reads the file back from
//! a second container, connects a third container to the network (at a fixed address) and disconnects it,
//! checks that the lists show only the run's own networks and volumes, prunes, removes everything, and
//! prints `ok`.
//!
//! `netvol [SUBNET-OCTET]`: the network is `172.30.<SUBNET-OCTET>.0/24` (default: from the clock).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use tug_sdk::containers::RemoveOptions;
use tug_sdk::docker::{Container, Docker, Network, RunOptions, Volume};
use tug_sdk::models::{
    EndpointIPAMConfig, EndpointSettings, IPAMConfig, NetworkCreateBody, VolumeCreateRequest, IPAM,
};

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const IMAGE: &str = "tug-test/busybox:latest";

fn main() {
    tug_sdk::main(|| {
        let docker = Docker::from_env()?;
        let mut made = Made::default();
        let outcome = run(&docker, &mut made);
        made.remove();
        outcome
    });
    println!("ok");
}

/// What the plugin made, removed at the end whatever happened (containers first).
#[derive(Default)]
struct Made {
    containers: Vec<Container>,
    networks: Vec<Network>,
    volumes: Vec<Volume>,
}

impl Made {
    fn remove(&mut self) {
        for container in self.containers.drain(..) {
            let force = RemoveOptions {
                force: Some(true),
                ..Default::default()
            };
            if let Err(e) = container.remove(force) {
                eprintln!("error: removing container {}: {e}", container.short_id());
            }
        }
        for network in self.networks.drain(..) {
            if let Err(e) = network.remove() {
                eprintln!("error: removing network {}: {e}", network.short_id());
            }
        }
        for volume in self.volumes.drain(..) {
            if let Err(e) = volume.remove(Default::default()) {
                eprintln!("error: removing volume {}: {e}", volume.name());
            }
        }
    }
}

/// `Err(what)` unless `ok`.
fn ensure(ok: bool, what: impl std::fmt::Display) -> Result {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected: {what}").into())
    }
}

type Labels = Option<BTreeMap<String, String>>;

/// The plugin's own label, on everything it makes.
fn labels() -> Labels {
    Some(BTreeMap::from([("org.example.plugin".into(), "netvol".into())]))
}

/// The label `key` of a document's `Labels`.
fn label<'a>(labels: &'a Labels, key: &str) -> Option<&'a str> {
    labels.as_ref()?.get(key).map(String::as_str)
}

fn run(docker: &Docker, made: &mut Made) -> Result {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
    let octet: u32 = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 20 + (now.as_secs() % 200) as u32,
    };
    let name = format!("tug-netvol-{}-{}", now.as_secs(), now.subsec_nanos());
    let subnet = format!("172.30.{octet}.0/24");

    // A network with a subnet of its own.
    let mut network = docker.networks().create(
        &name,
        NetworkCreateBody {
            driver: Some("bridge".into()),
            check_duplicate: Some(true),
            ipam: Some(IPAM {
                driver: Some("default".into()),
                config: Some(vec![IPAMConfig {
                    subnet: Some(subnet.clone()),
                    gateway: Some(format!("172.30.{octet}.1")),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            labels: labels(),
            ..Default::default()
        },
    )?;
    made.networks.push(network.clone());
    println!(
        "created network {name} ({}) with subnet {subnet}",
        network.short_id()
    );
    let subnets: Vec<_> = (network.attrs.ipam.iter())
        .flat_map(|ipam| ipam.config.iter().flatten())
        .filter_map(|config| config.subnet.as_deref())
        .collect();
    ensure(
        subnets == [subnet.as_str()],
        format!("the network's subnets: {subnets:?}"),
    )?;
    let run_id = label(&network.attrs.labels, "tug.run")
        .ok_or_else(|| format!("the network carries no tug.run label: {network:?}"))?
        .to_owned();
    ensure(
        label(&network.attrs.labels, "org.example.plugin") == Some("netvol"),
        "the network keeps the plugin's own label",
    )?;

    // A volume.
    let volume = docker.volumes().create(VolumeCreateRequest {
        name: Some(name.clone()),
        labels: labels(),
        ..Default::default()
    })?;
    made.volumes.push(volume.clone());
    ensure(
        volume.name() == name,
        format!("the volume's name: {}", volume.name()),
    )?;
    let inspected = docker.volumes().get(&name)?.attrs;
    ensure(
        label(&inspected.labels, "tug.run") == Some(&run_id) && inspected.driver.as_deref() == Some("local"),
        format!("the volume is local and the run's: {inspected:?}"),
    )?;
    println!("created volume {name}");

    // One container writes into the volume from the network; another reads it back.
    let on_the_network = RunOptions::new()
        .network(&name)
        .volume(&format!("{name}:/data"))
        .remove(true);
    let script = "echo hello-from-the-writer > /data/greeting && ip -4 addr show eth0";
    let out = output(docker, on_the_network.clone().command(["sh", "-c", script]))?;
    ensure(
        out.contains(&format!("inet 172.30.{octet}.")),
        format!("the writer's address is in {subnet}: {out}"),
    )?;
    println!("the writer wrote into the volume from an address in {subnet}");
    let out = output(docker, on_the_network.clone().command(["cat", "/data/greeting"]))?;
    ensure(
        out.trim() == "hello-from-the-writer",
        format!("the reader read {out:?}"),
    )?;
    println!("the reader read: {}", out.trim());

    // A container on the default network, connected to ours at a fixed address and disconnected again.
    let mut third = docker
        .containers()
        .create(IMAGE, &RunOptions::new().command(["sleep", "60"]))?;
    made.containers.push(third.clone());
    third.start()?;
    let address = format!("172.30.{octet}.20");
    let endpoint = EndpointSettings {
        ipam_config: Some(EndpointIPAMConfig {
            ipv4_address: Some(address.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    network.connect(&third.id, Some(endpoint))?;
    third.reload()?;
    let ip = third
        .attrs
        .network_settings
        .as_ref()
        .and_then(|s| s.networks.as_ref()?.get(&name)?.ip_address.clone());
    ensure(
        ip.as_ref() == Some(&address),
        format!("connected at {address}: {ip:?}"),
    )?;
    network.reload()?;
    let members = network.attrs.containers.as_ref();
    ensure(
        members.is_some_and(|m| m.contains_key(&third.id)),
        "the network lists the connected container",
    )?;
    println!("connected a container at {address}");
    network.disconnect(&third.id, false)?;
    network.reload()?;
    let members = network.attrs.containers.as_ref();
    ensure(
        !members.is_some_and(|m| m.contains_key(&third.id)),
        "the network no longer lists the container",
    )?;
    println!("disconnected it");

    // The lists show the run's own networks and volumes only.
    let networks = docker.networks().list_summaries(Default::default())?;
    let listed: Vec<_> = networks.iter().filter_map(|n| n.name.as_deref()).collect();
    ensure(listed == [name.as_str()], format!("network list: {listed:?}"))?;
    ensure(
        (networks.iter()).all(|n| label(&n.labels, "tug.run") == Some(&run_id)),
        "every listed network is the run's",
    )?;
    let volumes = docker.volumes().list(Default::default())?;
    let listed: Vec<_> = volumes.iter().map(Volume::name).collect();
    ensure(listed == [name.as_str()], format!("volume list: {listed:?}"))?;
    println!("the lists show only the run's own network and volume");

    // Prune takes only the run's unused ones.
    let spare_name = format!("{name}-spare");
    let spare = docker
        .networks()
        .create(&spare_name, NetworkCreateBody::default())?;
    made.networks.push(spare.clone());
    let spare_volume = docker.volumes().create(VolumeCreateRequest {
        name: Some(spare_name.clone()),
        ..Default::default()
    })?;
    made.volumes.push(spare_volume);
    // Keep the main network and volume in use (a network is unused without a running container on it).
    let holder = on_the_network.command(["sleep", "60"]);
    let holder = docker.containers().create(IMAGE, &holder)?;
    made.containers.push(holder.clone());
    holder.start()?;
    let pruned = docker.networks().prune(Default::default())?;
    ensure(
        pruned.networks_deleted == Some(vec![spare_name.clone()]),
        format!("networks pruned: {pruned:?}"),
    )?;
    made.networks.retain(|n| n.id != spare.id);
    let pruned = docker.volumes().prune(Default::default())?;
    ensure(
        pruned.volumes_deleted == Some(vec![spare_name.clone()]),
        format!("volumes pruned: {pruned:?}"),
    )?;
    made.volumes.retain(|v| v.name() != spare_name);
    println!("prune removed only the run's unused network and volume");

    // Remove everything, and see it gone.
    made.remove();
    let left = docker.networks().list_summaries(Default::default())?;
    ensure(left.is_empty(), format!("networks left: {left:?}"))?;
    let left = docker.volumes().list(Default::default())?;
    ensure(left.is_empty(), format!("volumes left: {left:?}"))?;
    println!("removed the containers, the network and the volume");
    Ok(())
}

/// Runs a container to the end with `options` and returns its stdout (an error if it exits non-zero).
fn output(docker: &Docker, options: RunOptions) -> Result<String> {
    let ran = docker.containers().run(IMAGE, options)?;
    Ok(String::from_utf8_lossy(&ran.into_output().unwrap_or_default()).into_owned())
}
