//! Which subnets a plugin's network may take: none that shadows a route of the host (its LAN, its default
//! gateway's network) or a special range (loopback, link-local with cloud metadata at 169.254.169.254,
//! multicast). A bridge on such a subnet would capture the host's traffic to those addresses.

use std::net::{Ipv4Addr, Ipv6Addr};

/// IPv4 ranges no plugin network may overlap.
const RESERVED_V4: &[(&str, [u8; 4], u8)] = &[
    ("this network", [0, 0, 0, 0], 8),
    ("loopback", [127, 0, 0, 0], 8),
    ("link-local (cloud metadata)", [169, 254, 0, 0], 16),
    ("multicast", [224, 0, 0, 0], 4),
    ("reserved", [240, 0, 0, 0], 4),
];

/// An IPv4 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net4 {
    /// The address (host bits cleared).
    pub addr: u32,
    /// The prefix length.
    pub prefix: u8,
}

impl Net4 {
    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    /// A network from an address and prefix.
    pub fn new(addr: u32, prefix: u8) -> Self {
        Net4 {
            addr: addr & Self::mask(prefix),
            prefix,
        }
    }

    /// Whether two networks share an address.
    pub fn overlaps(&self, other: &Net4) -> bool {
        let p = self.prefix.min(other.prefix);
        (self.addr & Self::mask(p)) == (other.addr & Self::mask(p))
    }
}

impl std::fmt::Display for Net4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.prefix)
    }
}

/// The host's IPv4 routes but the default one, from `/proc/net/route` text, with their interfaces;
/// Docker's own bridges (`docker0`, `br-…`) are left out (the daemon refuses overlaps with them itself).
pub fn host_routes(proc_net_route: &str) -> Vec<(String, Net4)> {
    proc_net_route
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (iface, dest, mask) = (*cols.first()?, cols.get(1)?, cols.get(7)?);
            // Little-endian hex, as the kernel prints them.
            let dest = u32::from_str_radix(dest, 16).ok()?.swap_bytes();
            let mask = u32::from_str_radix(mask, 16).ok()?.swap_bytes();
            let prefix = mask.count_ones() as u8;
            let docker = iface == "docker0" || iface.starts_with("br-") || iface == "docker_gwbridge";
            (prefix > 0 && !docker).then(|| (iface.to_owned(), Net4::new(dest, prefix)))
        })
        .collect()
}

/// Checks a subnet a plugin asks for (`IPAM.Config[].Subnet` or `IPRange`) against the special ranges and
/// the host's routes; `Err` says what it would shadow.
pub fn check(cidr: &str, routes: &[(String, Net4)]) -> Result<(), String> {
    let (addr, prefix) = cidr
        .split_once('/')
        .ok_or_else(|| format!("{cidr:?} is not a CIDR subnet"))?;
    if let Ok(v6) = addr.parse::<Ipv6Addr>() {
        // Only unique local addresses (fd00::/8): anything else may be routed.
        return if v6.octets()[0] == 0xfd {
            Ok(())
        } else {
            Err(format!("IPv6 subnet {cidr} is not a unique local one (fd00::/8)"))
        };
    }
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| format!("{cidr:?} is not a CIDR subnet"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or_else(|| format!("{cidr:?}: bad prefix"))?;
    let net = Net4::new(u32::from(addr), prefix);
    for (what, a, p) in RESERVED_V4 {
        let reserved = Net4::new(u32::from(Ipv4Addr::from(*a)), *p);
        if net.overlaps(&reserved) {
            return Err(format!("subnet {net} overlaps the {what} range {reserved}"));
        }
    }
    for (iface, route) in routes {
        if net.overlaps(route) {
            return Err(format!(
                "subnet {net} overlaps the host's route {route} on {iface}"
            ));
        }
    }
    Ok(())
}

/// The host's routes, read now (none when `/proc/net/route` cannot be read).
pub fn current_host_routes() -> Vec<(String, Net4)> {
    std::fs::read_to_string("/proc/net/route")
        .map(|t| host_routes(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
        eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
        docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
        eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";

    #[test]
    fn routes_are_parsed_without_default_and_docker_bridges() {
        let r = host_routes(ROUTES);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, "eth0");
        assert_eq!(r[0].1.to_string(), "192.0.2.0/24");
    }

    #[test]
    fn shadowing_subnets_are_refused() {
        let r = host_routes(ROUTES);
        assert!(check("192.0.2.0/24", &r)
            .unwrap_err()
            .contains("host's route 192.0.2.0/24 on eth0"));
        assert!(check("192.0.0.0/16", &r).is_err(), "a supernet of the LAN");
        assert!(check("192.0.2.128/25", &r).is_err(), "a part of the LAN");
        assert!(check("169.254.169.0/24", &r).unwrap_err().contains("link-local"));
        assert!(check("127.1.0.0/16", &r).is_err());
        assert!(check("2001:db8::/64", &r).is_err());
        assert!(check("172.30.5.0/24", &r).is_ok());
        assert!(check("10.99.0.0/16", &r).is_ok());
        assert!(check("fd00:1::/64", &r).is_ok());
        assert!(check("nonsense", &r).is_err());
    }
}
