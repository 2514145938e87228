//! Which subnets a plugin's network may take. A bridge network on a subnet the host reaches otherwise
//! captures the host's own traffic to it: its LAN, a route, its resolver, and — through the default route
//! — any public range (`8.8.8.0/24`) or documentation range. So a subnet must lie inside Docker's own
//! private address pools (`172.17.0.0/16` to `172.31.0.0/16`, and `192.168.0.0/16`: where the daemon
//! puts networks it addresses itself), and still overlap none of the host's routes and contain none of
//! its gateways or resolvers; IPv6 only unique local `fd00::/8`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// Docker's default local address pools (moby `ipamutils`): `172.17.0.0/16` … `172.31.0.0/16`, and
/// `192.168.0.0/16`, with the size of the network the daemon takes from each for a network it addresses
/// itself (`/16` and `/20`): a plugin's network may be no larger, so that it uses up no more of the pools
/// everyone's networks are addressed from than any network does.
const DOCKER_POOLS: &[([u8; 4], u8, u8)] = &[
    ([172, 17, 0, 0], 16, 16),
    ([172, 18, 0, 0], 15, 16),
    ([172, 20, 0, 0], 14, 16),
    ([172, 24, 0, 0], 13, 16),
    ([192, 168, 0, 0], 16, 20),
];

/// What of the host's own networking a plugin's subnet must leave alone.
#[derive(Clone, Debug, Default)]
pub struct HostNet {
    /// The host's routes but the default one (Docker's own bridges left out), with their interfaces.
    pub routes: Vec<(String, Net4)>,
    /// Gateways of the host's routes (the default one's among them).
    pub gateways: Vec<Ipv4Addr>,
    /// The host's DNS resolvers (`/etc/resolv.conf`).
    pub resolvers: Vec<IpAddr>,
    /// The host's IPv6 routes but the default one, with their interfaces: (interface, address, prefix).
    pub routes6: Vec<(String, u128, u8)>,
}

impl HostNet {
    /// Reads the host's routes (`/proc/net/route`) and resolvers (`/etc/resolv.conf`) now; what cannot be
    /// read is left empty (the pools still hold).
    pub fn read() -> Self {
        let route = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
        let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let mut net = HostNet::parse(&route, &resolv);
        net.routes6 = routes6(&std::fs::read_to_string("/proc/net/ipv6_route").unwrap_or_default());
        net
    }

    /// From the texts of `/proc/net/route` and `/etc/resolv.conf`.
    pub fn parse(proc_net_route: &str, resolv_conf: &str) -> Self {
        HostNet {
            routes: host_routes(proc_net_route),
            gateways: gateways(proc_net_route),
            resolvers: resolv_conf
                .lines()
                .filter_map(|l| l.trim().strip_prefix("nameserver"))
                .filter_map(|a| a.trim().split('%').next()?.parse().ok())
                .collect(),
            routes6: Vec::new(),
        }
    }
}

/// The host's IPv6 routes from `/proc/net/ipv6_route` text (destination, prefix, …, interface), but the
/// default route, loopback's and Docker's own bridges.
pub fn routes6(text: &str) -> Vec<(String, u128, u8)> {
    text.lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (dest, prefix, iface) = (cols.first()?, cols.get(1)?, *cols.last()?);
            let addr = u128::from_str_radix(dest, 16).ok()?;
            let prefix = u8::from_str_radix(prefix, 16).ok()?;
            let docker = iface == "docker0" || iface.starts_with("br-") || iface == "docker_gwbridge";
            (prefix > 0 && prefix <= 128 && iface != "lo" && !docker)
                .then(|| (iface.to_owned(), addr, prefix))
        })
        .collect()
}

/// The gateways of the routes in `/proc/net/route` text.
fn gateways(proc_net_route: &str) -> Vec<Ipv4Addr> {
    proc_net_route
        .lines()
        .skip(1)
        .filter_map(|line| {
            let gw = line.split_whitespace().nth(2)?;
            let gw = u32::from_str_radix(gw, 16).ok()?.swap_bytes();
            (gw != 0).then(|| Ipv4Addr::from(gw))
        })
        .collect()
}

/// Checks a subnet a plugin asks for (`IPAM.Config[].Subnet` or `IPRange`): inside Docker's pools, clear
/// of the host's routes, gateways and resolvers; `Err` says what is wrong.
pub fn check(cidr: &str, host: &HostNet) -> Result<(), String> {
    let routes = &host.routes;
    let (addr, prefix) = cidr
        .split_once('/')
        .ok_or_else(|| format!("{cidr:?} is not a CIDR subnet"))?;
    if let Ok(v6) = addr.parse::<Ipv6Addr>() {
        // Only unique local addresses (fd00::/8): anything else may be routed.
        if v6.octets()[0] != 0xfd {
            return Err(format!("IPv6 subnet {cidr} is not a unique local one (fd00::/8)"));
        }
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (8..=128).contains(p))
            .ok_or_else(|| format!("{cidr:?}: bad prefix"))?;
        let mask = |a: Ipv6Addr| u128::from(a) >> (128 - u32::from(prefix));
        let net = u128::from(v6);
        for (iface, route, p) in &host.routes6 {
            let shift = 128 - u32::from(prefix.min(*p));
            let same = |a: u128| if shift >= 128 { 0 } else { a >> shift };
            if same(net) == same(*route) {
                return Err(format!(
                    "subnet {cidr} overlaps the host's route {}/{p} on {iface}",
                    Ipv6Addr::from(*route)
                ));
            }
        }
        for r in &host.resolvers {
            if let IpAddr::V6(r) = r {
                if mask(*r) == mask(v6) {
                    return Err(format!("subnet {cidr} contains the host's resolver {r}"));
                }
            }
        }
        return Ok(());
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
    let pool = DOCKER_POOLS.iter().find(|(a, p, _)| {
        let pool = Net4::new(u32::from(Ipv4Addr::from(*a)), *p);
        net.prefix >= pool.prefix && net.overlaps(&pool)
    });
    let Some((_, _, size)) = pool else {
        return Err(format!(
            "subnet {net} is outside Docker's private address pools (172.17.0.0/16 to 172.31.0.0/16, \
             192.168.0.0/16): the host may reach it through its routes"
        ));
    };
    if net.prefix < *size {
        return Err(format!(
            "subnet {net} is larger than a /{size}, the most the daemon gives a network from that pool: \
             it would take address space every other network is addressed from"
        ));
    }
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
    let addresses =
        host.gateways
            .iter()
            .copied()
            .map(|g| ("gateway", g))
            .chain(host.resolvers.iter().filter_map(|r| match r {
                IpAddr::V4(r) => Some(("resolver", *r)),
                IpAddr::V6(_) => None,
            }));
    for (what, a) in addresses {
        if net.overlaps(&Net4::new(u32::from(a), 32)) {
            return Err(format!("subnet {net} contains the host's {what} {a}"));
        }
    }
    Ok(())
}

/// The host's routes, read now (none when `/proc/net/route` cannot be read).
pub fn current_host_routes() -> Vec<(String, Net4)> {
    HostNet::read().routes
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
        let h = HostNet::parse(
            ROUTES,
            "search x\nnameserver 172.30.9.53\nnameserver fd00:53::1\n",
        );
        assert_eq!(h.gateways, vec![Ipv4Addr::new(192, 0, 2, 1)]);
        assert!(check("192.0.2.0/24", &h).is_err(), "the LAN");
        assert!(check("192.0.0.0/16", &h).is_err(), "a supernet of the LAN");
        assert!(check("192.0.2.128/25", &h).is_err(), "a part of the LAN");
        assert!(check("169.254.169.0/24", &h).is_err(), "link-local");
        assert!(check("127.1.0.0/16", &h).is_err());
        assert!(check("2001:db8::/64", &h).is_err());
        // Reached through the default route: public and documentation ranges, other private ones.
        for public in [
            "8.8.8.0/24",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "10.99.0.0/16",
            "100.64.0.0/10",
        ] {
            assert!(check(public, &h).unwrap_err().contains("pools"), "{public}");
        }
        assert!(check("172.16.0.0/12", &h).is_err(), "larger than the pools");
        assert!(check("172.30.9.0/24", &h)
            .unwrap_err()
            .contains("resolver 172.30.9.53"));
        assert!(check("fd00:53::/64", &h).unwrap_err().contains("resolver"));
        // No larger than a network the daemon addresses itself from that pool.
        for whole in ["172.24.0.0/13", "172.26.0.0/15", "172.20.0.0/14"] {
            assert!(
                check(whole, &h).unwrap_err().contains("larger than a /16"),
                "{whole}"
            );
        }
        assert!(check("192.168.0.0/16", &h)
            .unwrap_err()
            .contains("larger than a /20"));
        assert!(check("192.168.0.0/19", &h).is_err());
        assert!(check("172.26.0.0/16", &h).is_ok());
        assert!(check("192.168.16.0/20", &h).is_ok());
        assert!(check("172.30.5.0/24", &h).is_ok());
        assert!(check("192.168.77.0/24", &h).is_ok());
        assert!(check("fd00:1::/64", &h).is_ok());
        assert!(check("nonsense", &h).is_err());
        let lan6 = HostNet {
            routes6: routes6(
                "fd123456789000000000000000000000 30 00000000000000000000000000000000 00 \
             00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n\
             00000000000000000000000000000000 00 00000000000000000000000000000000 00 \
             fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n",
            ),
            ..Default::default()
        };
        assert_eq!(lan6.routes6.len(), 1);
        assert!(check("fd12:3456:7890::/48", &lan6).unwrap_err().contains("eth0"));
        assert!(check("fd12:3456:7890:0:1::/80", &lan6).is_err());
        assert!(check("fd99::/64", &lan6).is_ok());
        let lan = HostNet::parse(
            "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
             wlan0\t0000A8C0\t00000000\t0001\t0\t0\t0\t0000FFFF\n",
            "",
        );
        assert!(check("192.168.5.0/24", &lan)
            .unwrap_err()
            .contains("route 192.168.0.0/16 on wlan0"));
    }
}
