//! Loopback address allocation: every testbed gets addresses no other testbed uses.
//!
//! Addresses are `127.A.B.C`: `A` comes from the process id (so concurrent test
//! binaries differ), `B` from a per-process counter (so testbeds of one binary
//! differ), `C` is 1..=250 for hosts; 251..=254 are kept for "nothing listens here".
//! Ports are probed per address, so even a rare `A`/`B` clash cannot share an `ip:port`.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Hosts per `127.A.B.x` block.
pub(crate) const HOSTS_PER_BLOCK: usize = 250;
/// First `C` that is never given to a host (used for closed ports).
const SPARE_C: u8 = 251;

static NEXT_BLOCK: AtomicUsize = AtomicUsize::new(0);

/// A run of consecutive `127.A.B.*` blocks reserved by one testbed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blocks {
    a: u8,
    first_b: usize,
}

impl Blocks {
    /// Reserves enough blocks for `hosts` addresses.
    pub(crate) fn reserve(hosts: usize) -> Blocks {
        let pid = std::process::id() as usize;
        let count = hosts.div_ceil(HOSTS_PER_BLOCK).max(1);
        let first = NEXT_BLOCK.fetch_add(count, Ordering::Relaxed);
        Blocks {
            a: (1 + pid % 254) as u8,
            first_b: pid / 254 + first,
        }
    }

    fn ip(&self, block: usize, c: u8) -> Ipv4Addr {
        Ipv4Addr::new(127, self.a, ((self.first_b + block) % 256) as u8, c)
    }

    /// The address of host number `i` (0-based).
    pub(crate) fn host_ip(&self, i: usize) -> Ipv4Addr {
        self.ip(i / HOSTS_PER_BLOCK, (1 + i % HOSTS_PER_BLOCK) as u8)
    }

    /// An address of this testbed that no host uses.
    pub(crate) fn spare_ip(&self) -> Ipv4Addr {
        self.ip(0, SPARE_C)
    }
}

/// A port on `ip` that was free a moment ago (bind to port 0, read it, release it).
pub(crate) fn free_port(ip: Ipv4Addr) -> std::io::Result<u16> {
    let listener = TcpListener::bind((ip, 0))?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_one_testbed_are_distinct_and_skip_spares() {
        let b = Blocks::reserve(600);
        let ips: std::collections::HashSet<_> = (0..600).map(|i| b.host_ip(i)).collect();
        assert_eq!(ips.len(), 600);
        assert!(ips.iter().all(|ip| (1..=250).contains(&ip.octets()[3])));
        assert!(!ips.contains(&b.spare_ip()));
    }

    #[test]
    fn two_testbeds_of_one_process_get_different_blocks() {
        let (x, y) = (Blocks::reserve(10), Blocks::reserve(10));
        assert_ne!(x.host_ip(0), y.host_ip(0));
    }
}
