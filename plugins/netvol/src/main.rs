//! Networks and volumes: creates a network with a subnet of its own (IPAM config) and a volume, runs a
//! container on that network with the volume mounted that writes a file into it, reads the file back from
//! a second container, connects a third container to the network (at a fixed address) and disconnects it,
//! checks that the lists show only the run's own networks and volumes, prunes, removes everything, and
//! prints `ok`.
//!
//! `netvol [SUBNET-OCTET]`: the network is `172.30.<SUBNET-OCTET>.0/24` (default: from the clock).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tug_sdk::{
    collect_output, container_streams, containers, engine, engines::Engine, frames, networks, volumes,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const IMAGE: &str = "tug-test/busybox:latest";

fn main() {
    let docker = engine();
    let mut made = Made::default();
    let outcome = run(&docker, &mut made);
    made.remove(&docker);
    if let Err(e) = outcome {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("ok");
}

/// What the plugin made, removed at the end whatever happened (containers first).
#[derive(Default)]
struct Made {
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Made {
    fn remove(&mut self, docker: &Engine) {
        for id in self.containers.drain(..) {
            let options = containers::RemoveOptions {
                force: Some(true),
                ..Default::default()
            };
            if let Err(e) = containers::remove(docker, &id, options) {
                eprintln!("error: removing container {id}: {e}");
            }
        }
        for id in self.networks.drain(..) {
            if let Err(e) = networks::remove(docker, &id) {
                eprintln!("error: removing network {id}: {e}");
            }
        }
        for name in self.volumes.drain(..) {
            if let Err(e) = volumes::remove(docker, &name, Default::default()) {
                eprintln!("error: removing volume {name}: {e}");
            }
        }
    }
}

fn run(docker: &Engine, made: &mut Made) -> Result<()> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
    let octet: u32 = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 20 + (now.as_secs() % 200) as u32,
    };
    let suffix = format!("{}-{}", now.as_secs(), now.subsec_nanos());
    let net_name = format!("tug-netvol-{suffix}");
    let vol_name = format!("tug-netvol-{suffix}");
    let subnet = format!("172.30.{octet}.0/24");

    // A network with a subnet of its own.
    let config = json!({
        "Name": net_name,
        "Driver": "bridge",
        "CheckDuplicate": true,
        "IPAM": {"Driver": "default", "Config": [{"Subnet": subnet, "Gateway": format!("172.30.{octet}.1")}]},
        "Labels": {"org.example.plugin": "netvol"},
    });
    let created = parse(&networks::create(docker, &config.to_string())?)?;
    let net_id = field(&created, "Id")?;
    made.networks.push(net_id.clone());
    println!(
        "created network {net_name} ({}) with subnet {subnet}",
        short(&net_id)
    );
    let net = parse(&networks::inspect(docker, &net_name, &Default::default())?)?;
    expect(
        net["IPAM"]["Config"][0]["Subnet"] == json!(subnet),
        format!("the network's subnet: {}", net["IPAM"]["Config"]),
    )?;
    let run_id = net["Labels"]["tug.run"]
        .as_str()
        .ok_or_else(|| format!("the network carries no tug.run label: {}", net["Labels"]))?
        .to_owned();
    expect(
        net["Labels"]["org.example.plugin"] == "netvol",
        "the network keeps the plugin's own label",
    )?;

    // A volume.
    let config = json!({"Name": vol_name, "Labels": {"org.example.plugin": "netvol"}});
    let created = parse(&volumes::create(docker, &config.to_string())?)?;
    made.volumes.push(vol_name.clone());
    expect(
        created["Name"] == json!(vol_name),
        format!("the volume's name: {created}"),
    )?;
    let vol = parse(&volumes::inspect(docker, &vol_name)?)?;
    expect(
        vol["Labels"]["tug.run"] == json!(run_id) && vol["Driver"] == "local",
        format!("the volume is local and the run's: {vol}"),
    )?;
    println!("created volume {vol_name}");

    // One container writes into the volume from the network; another reads it back.
    let mounts = json!([{"Type": "volume", "Source": vol_name, "Target": "/data"}]);
    let script = "echo hello-from-the-writer > /data/greeting && ip -4 addr show eth0";
    let (code, out) = run_container(docker, made, &net_name, &mounts, script)?;
    expect(code == 0, format!("the writer exited {code}: {out}"))?;
    expect(
        out.contains(&format!("inet 172.30.{octet}.")),
        format!("the writer's address is in {subnet}: {out}"),
    )?;
    println!("the writer wrote into the volume from an address in {subnet}");
    let (code, out) = run_container(docker, made, &net_name, &mounts, "cat /data/greeting")?;
    expect(
        code == 0 && out.trim() == "hello-from-the-writer",
        format!("the reader exited {code} and read {out:?}"),
    )?;
    println!("the reader read: {}", out.trim());

    // A container on the default network, connected to ours at a fixed address and disconnected again.
    let config = json!({"Image": IMAGE, "Cmd": ["sleep", "60"]});
    let third = field(
        &parse(&containers::create(
            docker,
            &config.to_string(),
            &Default::default(),
        )?)?,
        "Id",
    )?;
    made.containers.push(third.clone());
    containers::start(docker, &third, &Default::default())?;
    let address = format!("172.30.{octet}.20");
    let request = json!({"Container": third, "EndpointConfig": {"IPAMConfig": {"IPv4Address": address}}});
    networks::connect(docker, &net_name, &request.to_string())?;
    let inspected = parse(&containers::inspect(docker, &third, Default::default())?)?;
    let ip = &inspected["NetworkSettings"]["Networks"][&net_name]["IPAddress"];
    expect(*ip == json!(address), format!("connected at {address}: {ip}"))?;
    let members = parse(&networks::inspect(docker, &net_id, &Default::default())?)?;
    expect(
        members["Containers"].get(&third).is_some(),
        "the network lists the connected container",
    )?;
    println!("connected a container at {address}");
    networks::disconnect(docker, &net_name, &json!({"Container": third}).to_string())?;
    let members = parse(&networks::inspect(docker, &net_id, &Default::default())?)?;
    expect(
        members["Containers"].get(&third).is_none(),
        "the network no longer lists the container",
    )?;
    println!("disconnected it");

    // The lists show the run's own networks and volumes only.
    let list = parse(&networks::list(docker, &Default::default())?)?;
    let listed = names(list.as_array(), "Name");
    expect(listed == [net_name.clone()], format!("network list: {listed:?}"))?;
    expect(
        list.as_array()
            .into_iter()
            .flatten()
            .all(|n| n["Labels"]["tug.run"] == json!(run_id)),
        "every listed network is the run's",
    )?;
    let list = parse(&volumes::list(docker, &Default::default())?)?;
    let listed = names(list["Volumes"].as_array(), "Name");
    expect(listed == [vol_name.clone()], format!("volume list: {listed:?}"))?;
    println!("the lists show only the run's own network and volume");

    // Prune takes only the run's unused ones.
    let config = json!({"Name": format!("{net_name}-spare")});
    let spare = field(&parse(&networks::create(docker, &config.to_string())?)?, "Id")?;
    made.networks.push(spare.clone());
    let config = json!({"Name": format!("{vol_name}-spare")});
    volumes::create(docker, &config.to_string())?;
    made.volumes.push(format!("{vol_name}-spare"));
    // Keep the main network and volume in use (a network is unused without a running container on it).
    let holder = json!({
        "Image": IMAGE, "Cmd": ["sleep", "60"],
        "HostConfig": {"NetworkMode": net_name, "Mounts": mounts},
    });
    let holder = field(
        &parse(&containers::create(
            docker,
            &holder.to_string(),
            &Default::default(),
        )?)?,
        "Id",
    )?;
    made.containers.push(holder.clone());
    containers::start(docker, &holder, &Default::default())?;
    let pruned = parse(&networks::prune(docker, &Default::default())?)?;
    let deleted = strings(&pruned["NetworksDeleted"]);
    expect(
        deleted == [format!("{net_name}-spare")],
        format!("networks pruned: {pruned}"),
    )?;
    made.networks.retain(|n| *n != spare);
    let pruned = parse(&volumes::prune(docker, &Default::default())?)?;
    let deleted = strings(&pruned["VolumesDeleted"]);
    expect(
        deleted == [format!("{vol_name}-spare")],
        format!("volumes pruned: {pruned}"),
    )?;
    made.volumes.retain(|v| *v != format!("{vol_name}-spare"));
    println!("prune removed only the run's unused network and volume");

    // Remove everything, and see it gone.
    made.remove(docker);
    let left = parse(&networks::list(docker, &Default::default())?)?;
    expect(
        left.as_array().is_some_and(Vec::is_empty),
        format!("networks left: {left}"),
    )?;
    let left = parse(&volumes::list(docker, &Default::default())?)?;
    expect(
        left["Volumes"].as_array().is_none_or(Vec::is_empty),
        format!("volumes left: {left}"),
    )?;
    println!("removed the containers, the network and the volume");
    Ok(())
}

/// Runs `script` in a container on `network` with `mounts`, waits for it and returns its exit code and
/// output (stdout and stderr).
fn run_container(
    docker: &Engine,
    made: &mut Made,
    network: &str,
    mounts: &Value,
    script: &str,
) -> Result<(i64, String)> {
    let config = json!({
        "Image": IMAGE,
        "Cmd": ["sh", "-c", script],
        "HostConfig": {"NetworkMode": network, "Mounts": mounts},
    });
    let id = field(
        &parse(&containers::create(
            docker,
            &config.to_string(),
            &Default::default(),
        )?)?,
        "Id",
    )?;
    made.containers.push(id.clone());
    containers::start(docker, &id, &Default::default())?;
    let waited = parse(&containers::wait(docker, &id, &Default::default())?)?;
    let options = container_streams::LogsOptions {
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    };
    let (stdout, stderr) = collect_output(frames(&container_streams::logs(docker, &id, &options)?))?;
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    Ok((waited["StatusCode"].as_i64().unwrap_or(-1), out))
}

fn parse(text: &str) -> Result<Value> {
    Ok(serde_json::from_str(text)?)
}

fn field(v: &Value, key: &str) -> Result<String> {
    Ok(v[key]
        .as_str()
        .ok_or_else(|| format!("no {key} in {v}"))?
        .to_owned())
}

fn names(list: Option<&Vec<Value>>, key: &str) -> Vec<String> {
    list.into_iter()
        .flatten()
        .filter_map(|v| v[key].as_str().map(str::to_owned))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn expect(ok: bool, what: impl Into<String>) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected: {}", what.into()).into())
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
