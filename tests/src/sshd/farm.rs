//! Starting all sshd processes of a testbed and waiting until every address listens.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::config::{render, ConfigSpec};
use super::process::Sshd;
use super::LISTEN_PER_SSHD;
use crate::addr::{free_port, Blocks};
use crate::procfs::{count_in_state, tcp_sockets, TCP_LISTEN};
use crate::{HarnessError, Host};

/// Bound on the whole start-up wait.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(3);
/// A probed port can be taken by someone else before sshd binds it: retry a few times.
const MAX_ATTEMPTS: usize = 3;
const PORT_CLASH: &str = "Address already in use";

/// What every sshd of the farm shares.
pub(crate) struct FarmSpec<'a> {
    pub dir: &'a Path,
    pub blocks: Blocks,
    pub hosts: usize,
    pub host_key: &'a Path,
    pub authorized_keys: &'a Path,
    pub user: &'a str,
    pub x11: bool,
    pub extra: &'a [String],
}

/// Starts ceil(hosts / 16) servers and returns once all listen; on failure every
/// server started so far is killed (by dropping it) and the error carries the logs.
pub(crate) fn start(spec: &FarmSpec) -> Result<Vec<Sshd>, HarnessError> {
    let started = Instant::now();
    let mut sshds = Vec::new();
    for (index, first) in (0..spec.hosts).step_by(LISTEN_PER_SSHD).enumerate() {
        let ips = (first..spec.hosts.min(first + LISTEN_PER_SSHD))
            .map(|i| spec.blocks.host_ip(i))
            .collect();
        sshds.push(spawn(spec, index, ips, Vec::new())?);
    }
    let mut ready = vec![false; sshds.len()];
    loop {
        let listening = listening(&sshds, &ready)?;
        for i in 0..sshds.len() {
            if ready[i] {
                continue;
            }
            if sshds[i]
                .hosts
                .iter()
                .all(|h| listening.contains(&socket(h)))
            {
                ready[i] = true;
                continue;
            }
            let exited = sshds[i].exited();
            let clash = sshds[i].current_log().contains(PORT_CLASH);
            if clash && sshds[i].log_files().len() < MAX_ATTEMPTS {
                sshds[i] = respawn(spec, &mut sshds[i])?;
            } else if let Some(status) = exited {
                return Err(HarnessError::SshdExited {
                    index: i,
                    status: status.to_string(),
                    log: logs(&sshds),
                });
            }
        }
        if ready.iter().all(|r| *r) {
            return Ok(sshds);
        }
        if started.elapsed() > READY_TIMEOUT {
            let pending = sshds
                .iter()
                .flat_map(|s| &s.hosts)
                .filter(|h| !listening.contains(&socket(h)))
                .map(Host::address)
                .collect();
            return Err(HarnessError::NotReady {
                waited_ms: started.elapsed().as_millis(),
                pending,
                log: logs(&sshds),
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Probes a port per address, writes the config and starts the server.
fn spawn(
    spec: &FarmSpec,
    index: usize,
    ips: Vec<Ipv4Addr>,
    earlier: Vec<PathBuf>,
) -> Result<Sshd, HarnessError> {
    let mut hosts = Vec::with_capacity(ips.len());
    for ip in ips {
        let port = free_port(ip)
            .map_err(|e| HarnessError::io(format!("finding a free port on {ip}"), e))?;
        hosts.push(Host {
            ip: ip.to_string(),
            port,
        });
    }
    let text = render(&ConfigSpec {
        listen: &hosts,
        host_key: spec.host_key,
        authorized_keys: spec.authorized_keys,
        user: spec.user,
        x11: spec.x11,
        extra: spec.extra,
    });
    Sshd::spawn(index, spec.dir, hosts, &text, earlier)
}

/// Replaces a server that lost a port race with one on fresh ports.
fn respawn(spec: &FarmSpec, old: &mut Sshd) -> Result<Sshd, HarnessError> {
    old.kill();
    old.reap();
    let ips = old.hosts.iter().filter_map(|h| h.ip.parse().ok()).collect();
    spawn(spec, old.index, ips, old.log_files())
}

/// The `ip:port` of the not-yet-ready servers that have a listening socket.
fn listening(sshds: &[Sshd], ready: &[bool]) -> Result<HashSet<SocketAddrV4>, HarnessError> {
    let wanted: HashSet<SocketAddrV4> = sshds
        .iter()
        .zip(ready)
        .filter(|(_, r)| !**r)
        .flat_map(|(s, _)| s.hosts.iter().map(socket))
        .collect();
    let sockets = tcp_sockets().map_err(|e| HarnessError::io("reading /proc/net/tcp", e))?;
    Ok(count_in_state(&sockets, &wanted, TCP_LISTEN)
        .into_keys()
        .collect())
}

fn socket(h: &Host) -> SocketAddrV4 {
    SocketAddrV4::new(h.ip.parse().unwrap_or(Ipv4Addr::UNSPECIFIED), h.port)
}

/// Every log of the farm, for error messages.
pub(crate) fn logs(sshds: &[Sshd]) -> String {
    sshds.iter().map(Sshd::log_text).collect()
}
