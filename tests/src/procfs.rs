//! Reading `/proc`: TCP socket states and the process table.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::MetadataExt;

/// TCP state numbers as printed in `/proc/net/tcp`.
pub(crate) const TCP_ESTABLISHED: u8 = 0x01;
pub(crate) const TCP_LISTEN: u8 = 0x0A;

/// One TCP socket (IPv4 or IPv6): its local address and state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TcpSocket {
    pub local: SocketAddr,
    pub state: u8,
}

/// Every TCP socket of this network namespace: `/proc/net/tcp`, then
/// `/proc/net/tcp6` when the kernel has IPv6 (the file is absent otherwise).
pub(crate) fn tcp_sockets() -> std::io::Result<Vec<TcpSocket>> {
    let mut text = std::fs::read_to_string("/proc/net/tcp")?;
    match std::fs::read_to_string("/proc/net/tcp6") {
        Ok(v6) => text.push_str(&v6),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    // Header lines (`sl local_address ...`) do not parse and are skipped.
    Ok(text.lines().filter_map(parse_tcp_line).collect())
}

/// Parses `  0: 0100007F:1F90 00000000:0000 0A ...` (IPv4) or the same with a
/// 32-digit address (IPv6). The address is raw network-order 32-bit words, each
/// printed as a native integer; the port is in host order.
fn parse_tcp_line(line: &str) -> Option<TcpSocket> {
    let mut fields = line.split_whitespace();
    let local = fields.nth(1)?;
    let state = u8::from_str_radix(fields.nth(1)?, 16).ok()?;
    let (ip, port) = local.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(ip)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&word(ip.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(TcpSocket {
        local: SocketAddr::new(ip, port),
        state,
    })
}

/// Bytes of one 8-digit hex word as the kernel stored them.
fn word(hex: &str) -> Option<[u8; 4]> {
    Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
}

/// Local addresses among `wanted` that have a socket in `state`, with their count.
pub(crate) fn count_in_state(
    sockets: &[TcpSocket],
    wanted: &HashSet<SocketAddr>,
    state: u8,
) -> HashMap<SocketAddr, usize> {
    let mut counts = HashMap::new();
    for s in sockets
        .iter()
        .filter(|s| s.state == state && wanted.contains(&s.local))
    {
        *counts.entry(s.local).or_insert(0) += 1;
    }
    counts
}

/// One process: id, parent, owner and command line (arguments joined by spaces).
#[derive(Debug, Clone)]
pub(crate) struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub cmdline: String,
}

/// Every process visible in `/proc`; processes that vanish while scanning are skipped.
pub(crate) fn processes() -> std::io::Result<Vec<Process>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(p) = read_process(pid) {
            out.push(p);
        }
    }
    Ok(out)
}

fn read_process(pid: u32) -> Option<Process> {
    let dir = format!("/proc/{pid}");
    let uid = std::fs::metadata(&dir).ok()?.uid();
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses.
    let ppid = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let raw = std::fs::read(format!("{dir}/cmdline")).ok()?;
    let cmdline = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ");
    Some(Process {
        pid,
        ppid,
        uid,
        cmdline,
    })
}

/// `root` and every process descending from it, not looking below processes
/// for which `prune` is true.
pub(crate) fn descendants(
    procs: &[Process],
    root: u32,
    prune: impl Fn(&Process) -> bool,
) -> HashSet<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for p in procs.iter().filter(|p| !prune(p)) {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut seen = HashSet::from([root]);
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        for &c in children.get(&pid).into_iter().flatten() {
            if seen.insert(c) {
                todo.push(c);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_line_yields_local_address_and_state() {
        let word = u32::from_ne_bytes([127, 101, 3, 7]);
        let line = format!(
            "   3: {word:08X}:9C4B 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000  1000 0 1 1"
        );
        let s = parse_tcp_line(&line).expect("parses");
        assert_eq!(s.local, "127.101.3.7:40011".parse().unwrap());
        assert_eq!(s.state, TCP_ESTABLISHED);
    }

    #[test]
    fn tcp6_line_yields_local_address_and_state() {
        let words: String = [[0u8, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
            .iter()
            .map(|w| format!("{:08X}", u32::from_ne_bytes(*w)))
            .collect();
        let line = format!(
            "   0: {words}:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0 0 1 1"
        );
        let s = parse_tcp_line(&line).expect("parses");
        assert_eq!(s.local, "[::1]:8080".parse().unwrap());
        assert_eq!(s.state, TCP_LISTEN);
    }

    #[test]
    fn header_and_garbage_lines_are_skipped() {
        assert!(parse_tcp_line("  sl  local_address rem_address   st tx_queue").is_none());
        assert!(parse_tcp_line("   0: 0100:1F90 x 0A").is_none());
        assert!(parse_tcp_line("").is_none());
    }

    #[test]
    fn our_own_listener_shows_up_as_listen() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let wanted = HashSet::from([addr]);
        let counts = count_in_state(&tcp_sockets().unwrap(), &wanted, TCP_LISTEN);
        assert_eq!(counts.get(&addr), Some(&1));
    }

    #[test]
    fn our_own_ipv6_listener_shows_up_as_listen() {
        let l = std::net::TcpListener::bind("[::1]:0")
            .unwrap_or_else(|e| panic!("IPv6 loopback unusable here: binding [::1]:0: {e}"));
        let addr = l.local_addr().unwrap();
        let wanted = HashSet::from([addr]);
        let counts = count_in_state(&tcp_sockets().unwrap(), &wanted, TCP_LISTEN);
        assert_eq!(counts.get(&addr), Some(&1));
    }

    #[test]
    fn descendants_include_grandchildren_only() {
        let p = |pid, ppid| Process {
            pid,
            ppid,
            uid: 0,
            cmdline: String::new(),
        };
        let procs = vec![
            p(10, 1),
            p(11, 10),
            p(12, 11),
            p(13, 1),
            p(14, 10),
            p(15, 14),
        ];
        assert_eq!(
            descendants(&procs, 10, |p| p.pid == 14),
            HashSet::from([10, 11, 12])
        );
    }
}
