//! Loopback address allocation: every testbed gets addresses no other testbed uses.
//!
//! Addresses are `127.A.B.C`: `A` comes from the process id (so concurrent test
//! binaries differ), `B` from a per-process counter (so testbeds of one binary
//! differ), `C` is 1..=250 for hosts; 251..=254 are kept for "nothing listens here".
//! Ports are probed per address, so even a rare `A`/`B` clash cannot share an `ip:port`.
//! IPv6 has a single loopback address, `::1`: an IPv6 testbed puts every host
//! there, on distinct ports.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Hosts per `127.A.B.x` block.
pub(crate) const HOSTS_PER_BLOCK: usize = 250;
/// First `C` that is never given to a host (used for closed ports).
const SPARE_C: u8 = 251;

static NEXT_BLOCK: AtomicUsize = AtomicUsize::new(0);

/// The addresses of one testbed: a run of consecutive `127.A.B.*` blocks, or `::1`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Blocks {
    /// `127.A.B.C` addresses, blocks `first_b`, `first_b + 1`, ...
    V4 { a: u8, first_b: usize },
    /// Every host on `::1`.
    V6,
}

impl Blocks {
    /// Reserves enough blocks for `hosts` IPv4 addresses.
    pub(crate) fn reserve(hosts: usize) -> Blocks {
        let pid = std::process::id() as usize;
        let count = hosts.div_ceil(HOSTS_PER_BLOCK).max(1);
        let first = NEXT_BLOCK.fetch_add(count, Ordering::Relaxed);
        Blocks::V4 {
            a: (1 + pid % 254) as u8,
            first_b: pid / 254 + first,
        }
    }

    fn ip(&self, block: usize, c: u8) -> IpAddr {
        match *self {
            Blocks::V4 { a, first_b } => {
                Ipv4Addr::new(127, a, ((first_b + block) % 256) as u8, c).into()
            }
            Blocks::V6 => Ipv6Addr::LOCALHOST.into(),
        }
    }

    /// The address of host number `i` (0-based).
    pub(crate) fn host_ip(&self, i: usize) -> IpAddr {
        self.ip(i / HOSTS_PER_BLOCK, (1 + i % HOSTS_PER_BLOCK) as u8)
    }

    /// An address of this testbed that no host uses (`::1` for IPv6: there the
    /// port, probed free, is what no host uses).
    pub(crate) fn spare_ip(&self) -> IpAddr {
        self.ip(0, SPARE_C)
    }
}

/// A port on `ip` that was free a moment ago (bind to port 0, read it, release it).
pub(crate) fn free_port(ip: IpAddr) -> std::io::Result<u16> {
    Ok(free_ports(&[ip])?[0])
}

/// One free port per address, all probed while the earlier probes are still
/// bound: hosts sharing an address (`::1`) get distinct ports.
pub(crate) fn free_ports(ips: &[IpAddr]) -> std::io::Result<Vec<u16>> {
    let mut held = Vec::with_capacity(ips.len());
    for ip in ips {
        held.push(TcpListener::bind((*ip, 0))?);
    }
    held.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// Checks that `::1` can be bound, or says why not (with the kernel's IPv6 switch).
pub(crate) fn check_ipv6_loopback() -> Result<(), String> {
    match TcpListener::bind((Ipv6Addr::LOCALHOST, 0)) {
        Ok(_) => Ok(()),
        Err(e) => {
            let switch = "/proc/sys/net/ipv6/conf/lo/disable_ipv6";
            let state = std::fs::read_to_string(switch)
                .map(|v| format!("{switch} = {}", v.trim()))
                .unwrap_or_else(|r| format!("{switch} unreadable: {r}"));
            Err(format!("binding [::1]:0 failed: {e} ({state})"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_one_testbed_are_distinct_and_skip_spares() {
        let b = Blocks::reserve(600);
        let ips: std::collections::HashSet<_> = (0..600).map(|i| b.host_ip(i)).collect();
        assert_eq!(ips.len(), 600);
        let last = |ip: &IpAddr| match ip {
            IpAddr::V4(v4) => v4.octets()[3],
            IpAddr::V6(_) => panic!("IPv4 blocks gave {ip}"),
        };
        assert!(ips.iter().all(|ip| (1..=250).contains(&last(ip))));
        assert!(!ips.contains(&b.spare_ip()));
    }

    #[test]
    fn two_testbeds_of_one_process_get_different_blocks() {
        let (x, y) = (Blocks::reserve(10), Blocks::reserve(10));
        assert_ne!(x.host_ip(0), y.host_ip(0));
    }

    #[test]
    fn ipv6_hosts_share_the_loopback_address_on_distinct_ports() {
        let b = Blocks::V6;
        let ips: Vec<IpAddr> = (0..20).map(|i| b.host_ip(i)).collect();
        assert!(ips.iter().all(|ip| *ip == IpAddr::V6(Ipv6Addr::LOCALHOST)));
        let ports = free_ports(&ips).expect("::1 can be bound (is IPv6 disabled?)");
        let distinct: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), 20);
    }
}
