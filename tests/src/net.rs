//! Network plumbing of the test daemons: named network namespaces joined by veth pairs (the swarm nodes),
//! and a Linux bridge of a daemon's own in the host's namespace (the daemon with a TCP listener on
//! 127.0.0.1), on a private /24 that no route of the host overlaps and no other test process holds.
//!
//! Interface names are at most 15 characters: `tug` and the [`crate::host::next_tag`] (`PID-N`), with a
//! one-letter suffix for the two ends of a veth pair.

use std::{
    net::Ipv4Addr,
    path::{Path, PathBuf},
    process::Command,
};

use crate::host::{run, run_args};

/// The /16 the set-ups take their subnets from: 10.213.X.0/24.
pub const SUBNETS: [u8; 2] = [10, 213];

/// Where a test process holds the subnet of a [`HostBridge`]: one file per subnet, holding its PID.
const RESERVATIONS: &str = "/tmp/tug-e2e-subnets";

/// The name of an interface for a set-up with the tag `tag` (`PID-N`) and a suffix, checked against the
/// kernel's limit of 15 characters.
pub fn interface_name(tag: &str, suffix: &str) -> Result<String, String> {
    let name = format!("tug{tag}{suffix}");
    if name.len() > 15 {
        return Err(format!(
            "the interface name {name:?} is longer than 15 characters"
        ));
    }
    Ok(name)
}

/// A named network namespace (`ip netns add`, at `/run/netns/NAME`) with its loopback up. Dropping it
/// deletes it (`ip netns del`); the kernel frees it, with the interfaces in it, once no process is in it.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace `name` (callers make it unique with [`crate::host::next_tag`]) and brings
    /// its loopback up.
    pub fn create(name: &str) -> Result<Netns, String> {
        run_args("ip", &["netns", "add", name])
            .map_err(|e| format!("creating the network namespace {name}: {e}"))?;
        let ns = Netns {
            name: name.to_owned(),
        };
        ns.ip(&["link", "set", "lo", "up"])
            .map_err(|e| format!("bringing up loopback in the network namespace {name}: {e}"))?;
        Ok(ns)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its file, for `nsenter --net=PATH`.
    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// `ip -n NAME ARGS…`: its standard output, or an error naming the command.
    pub fn ip(&self, args: &[&str]) -> Result<String, String> {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }

    /// A command that runs `program` in the namespace (`nsenter --net=PATH -- program`), in the host's
    /// mount namespace (unlike `ip netns exec`, which makes one of its own).
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net={}", self.path().display()))
            .arg("--")
            .arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run_args("ip", &["netns", "del", &self.name]);
    }
}

/// Joins two namespaces with a veth pair: the end `a_name` in `a` with the address `a_cidr`
/// (`10.213.0.2/24`), the end `b_name` in `b` with `b_cidr`, both up. The pair never appears in the
/// host's namespace and goes with the namespaces.
pub fn veth_pair(
    (a, a_name, a_cidr): (&Netns, &str, &str),
    (b, b_name, b_cidr): (&Netns, &str, &str),
) -> Result<(), String> {
    run_args(
        "ip",
        &[
            "link",
            "add",
            a_name,
            "netns",
            a.name(),
            "type",
            "veth",
            "peer",
            "name",
            b_name,
            "netns",
            b.name(),
        ],
    )
    .map_err(|e| format!("creating the veth pair {a_name}/{b_name}: {e}"))?;
    for (ns, name, cidr) in [(a, a_name, a_cidr), (b, b_name, b_cidr)] {
        ns.ip(&["addr", "add", cidr, "dev", name])
            .and_then(|_| ns.ip(&["link", "set", name, "up"]))
            .map_err(|e| format!("configuring {name} in {}: {e}", ns.name()))?;
    }
    Ok(())
}

/// A Linux bridge in the host's network namespace, `tugPID-N`, with the address 10.213.X.1/24 on a /24 no
/// route of the host overlaps and no other test process holds: the `--bridge` of a daemon that runs in
/// the host's namespace (with `--iptables=false`, so it never touches the host's rules or `docker0`).
/// Dropping it deletes the bridge and releases the subnet.
pub struct HostBridge {
    name: String,
    third: u8,
    reservation: PathBuf,
}

impl HostBridge {
    /// Creates the bridge for the set-up tagged `tag` (see [`crate::host::next_tag`]).
    pub fn create(tag: &str) -> Result<HostBridge, String> {
        let name = interface_name(tag, "")?;
        let (third, reservation) = reserve_subnet()?;
        // From here on, dropping `bridge` releases the subnet and deletes whatever was made.
        let bridge = HostBridge {
            name,
            third,
            reservation,
        };
        run_args("ip", &["link", "add", &bridge.name, "type", "bridge"])
            .map_err(|e| format!("creating the bridge {}: {e}", bridge.name))?;
        let cidr = format!("{}/24", bridge.gateway());
        run_args("ip", &["addr", "add", &cidr, "dev", &bridge.name])
            .and_then(|_| run_args("ip", &["link", "set", &bridge.name, "up"]))
            .map_err(|e| format!("configuring the bridge {} with {cidr}: {e}", bridge.name))?;
        Ok(bridge)
    }

    /// Its interface name (dockerd's `--bridge`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its address, 10.213.X.1: the gateway of the daemon's containers.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(SUBNETS[0], SUBNETS[1], self.third, 1)
    }

    /// Its subnet, `10.213.X.0/24`.
    pub fn subnet(&self) -> String {
        format!("{}.{}.{}.0/24", SUBNETS[0], SUBNETS[1], self.third)
    }
}

impl Drop for HostBridge {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.name])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_file(&self.reservation);
    }
}

/// Removes the subnet reservations of test processes that are gone; the subnets it released.
pub fn sweep_reservations() -> Vec<String> {
    let mut released = Vec::new();
    let Ok(entries) = std::fs::read_dir(RESERVATIONS) else {
        return released;
    };
    for entry in entries.flatten() {
        let holder: Option<u32> = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|p| p.trim().parse().ok());
        if holder.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            released.push(format!("subnet {}/24", entry.file_name().to_string_lossy()));
        }
    }
    released
}

/// Picks a third octet X such that 10.213.X.0/24 overlaps no IPv4 route of the host (any table) and holds
/// it with a file in [`RESERVATIONS`] created exclusively (a file of a process that is gone is taken
/// over). The search starts at a place derived from the PID, so concurrent test processes rarely meet.
fn reserve_subnet() -> Result<(u8, PathBuf), String> {
    std::fs::create_dir_all(RESERVATIONS).map_err(|e| format!("creating {RESERVATIONS}: {e}"))?;
    let routes = run_args("ip", &["-4", "-o", "route", "show", "table", "all"])
        .map_err(|e| format!("listing the host's routes: {e}"))?;
    let taken: Vec<(u32, u32)> = routes.lines().filter_map(route_range).collect();
    let start = (std::process::id() % 251) as usize;
    for i in 0..256 {
        // 10.213.0.0/24 is the swarm pairs' subnet inside their own namespaces; the host never needs it.
        let third = ((start + i) % 255 + 1) as u8;
        let (lo, hi) = range([SUBNETS[0], SUBNETS[1], third, 0], 24);
        if taken.iter().any(|&(a, b)| a <= hi && lo <= b) {
            continue;
        }
        let path = Path::new(RESERVATIONS).join(format!("{}.{}.{third}.0", SUBNETS[0], SUBNETS[1]));
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = write!(f, "{}", std::process::id());
                    return Ok((third, path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder: Option<u32> = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|p| p.trim().parse().ok());
                    match holder {
                        Some(pid) if Path::new(&format!("/proc/{pid}")).exists() => break,
                        // Held by a test process that is gone (or being written right now: the next
                        // subnet will do).
                        Some(_) => {
                            let _ = std::fs::remove_file(&path);
                        }
                        None => break,
                    }
                }
                Err(e) => return Err(format!("reserving {}: {e}", path.display())),
            }
        }
    }
    Err(format!(
        "no free /24 in {}.{}.0.0/16: every one overlaps a route of the host or is held in {RESERVATIONS}",
        SUBNETS[0], SUBNETS[1]
    ))
}

/// The addresses (as a closed range of u32) of the destination of one line of `ip -4 -o route show table
/// all`; `None` for `default` routes and lines without one.
fn route_range(line: &str) -> Option<(u32, u32)> {
    const TYPES: [&str; 10] = [
        "unicast",
        "local",
        "broadcast",
        "multicast",
        "unreachable",
        "prohibit",
        "blackhole",
        "throw",
        "nat",
        "anycast",
    ];
    let mut words = line.split_whitespace();
    let mut dest = words.next()?;
    if TYPES.contains(&dest) {
        dest = words.next()?;
    }
    let (addr, len) = match dest.split_once('/') {
        Some((a, l)) => (a, l.parse().ok()?),
        None => (dest, 32),
    };
    let addr: Ipv4Addr = addr.parse().ok()?;
    Some(range(addr.octets(), len))
}

fn range(octets: [u8; 4], len: u32) -> (u32, u32) {
    let addr = u32::from_be_bytes(octets);
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    };
    (addr & mask, (addr & mask) | !mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_lines_give_their_ranges() {
        assert_eq!(route_range("default via 192.0.2.1 dev eth0"), None);
        assert_eq!(
            route_range("172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1"),
            Some(range([172, 17, 0, 0], 16))
        );
        assert_eq!(
            route_range("local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1"),
            Some((0x7f00_0001, 0x7f00_0001))
        );
        assert_eq!(range([10, 213, 7, 9], 24), (0x0ad5_0700, 0x0ad5_07ff));
        assert!(interface_name("4194303-999", "a").is_ok());
    }
}
