//! Starting all server processes of a testbed and waiting until every address listens.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::process::ServerProcess;
use super::Launch;
use crate::addr::{free_ports, Blocks};
use crate::procfs::{count_in_state, tcp_sockets, TCP_LISTEN};
use crate::{HarnessError, Host};

/// Bound on the whole start-up wait.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(3);
/// A probed port can be taken by someone else before the server binds it: retry a few times.
const MAX_ATTEMPTS: usize = 3;
/// What sshd, dropbear and socat all log when a port is taken.
const PORT_CLASH: &str = "Address already in use";

/// Starts ceil(hosts / per-process) servers and returns once all listen; on
/// failure every server started so far is killed (by dropping it) and the error
/// carries the logs.
pub(crate) fn start(
    launch: &dyn Launch,
    dir: &Path,
    blocks: Blocks,
    hosts: usize,
) -> Result<Vec<ServerProcess>, HarnessError> {
    let started = Instant::now();
    let per_process = launch.server().hosts_per_process();
    let ips: Vec<IpAddr> = (0..hosts).map(|i| blocks.host_ip(i)).collect();
    // All ports probed at once: hosts sharing `::1` must not get the same one.
    let all = with_ports(&ips)?;
    let mut servers = Vec::new();
    for (index, group) in all.chunks(per_process).enumerate() {
        servers.push(ServerProcess::spawn(
            launch,
            index,
            dir,
            group.to_vec(),
            Vec::new(),
        )?);
    }
    let mut ready = vec![false; servers.len()];
    loop {
        let listening = listening(&servers, &ready)?;
        for i in 0..servers.len() {
            if ready[i] {
                continue;
            }
            if servers[i]
                .hosts
                .iter()
                .all(|h| listening.contains(&socket(h)))
            {
                ready[i] = true;
                continue;
            }
            let exited = servers[i].exited();
            let clash = servers[i].current_log().contains(PORT_CLASH);
            if clash && servers[i].log_files().len() < MAX_ATTEMPTS {
                servers[i] = respawn(launch, dir, &mut servers[i])?;
            } else if let Some(status) = exited {
                return Err(HarnessError::ServerExited {
                    server: launch.server().name().into(),
                    index: i,
                    status: status.to_string(),
                    log: logs(&servers),
                });
            }
        }
        if ready.iter().all(|r| *r) {
            return Ok(servers);
        }
        if started.elapsed() > READY_TIMEOUT {
            let pending = servers
                .iter()
                .flat_map(|s| &s.hosts)
                .filter(|h| !listening.contains(&socket(h)))
                .map(Host::address)
                .collect();
            return Err(HarnessError::NotReady {
                server: launch.server().name().into(),
                waited_ms: started.elapsed().as_millis(),
                pending,
                log: logs(&servers),
            });
        }
        std::thread::sleep(POLL);
    }
}

/// A host per address, each with a port probed free.
fn with_ports(ips: &[IpAddr]) -> Result<Vec<Host>, HarnessError> {
    let ports = free_ports(ips).map_err(|e| {
        HarnessError::io(
            format!(
                "finding free ports on {}",
                ips.first().map_or(String::new(), IpAddr::to_string)
            ),
            e,
        )
    })?;
    Ok(ips
        .iter()
        .zip(ports)
        .map(|(ip, port)| Host {
            ip: ip.to_string(),
            port,
        })
        .collect())
}

/// Replaces a server that lost a port race with one on fresh ports.
fn respawn(
    launch: &dyn Launch,
    dir: &Path,
    old: &mut ServerProcess,
) -> Result<ServerProcess, HarnessError> {
    old.kill();
    old.reap();
    let ips: Vec<IpAddr> = old.hosts.iter().filter_map(|h| h.ip.parse().ok()).collect();
    let earlier: Vec<PathBuf> = old.log_files();
    ServerProcess::spawn(launch, old.index, dir, with_ports(&ips)?, earlier)
}

/// The `ip:port` of the not-yet-ready servers that have a listening socket.
fn listening(
    servers: &[ServerProcess],
    ready: &[bool],
) -> Result<HashSet<SocketAddr>, HarnessError> {
    let wanted: HashSet<SocketAddr> = servers
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

/// The socket address of a host (hosts are made by the harness: the IP parses).
pub(crate) fn socket(h: &Host) -> SocketAddr {
    let ip =
        h.ip.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    SocketAddr::new(ip, h.port)
}

/// Every log of the farm, for error messages.
pub(crate) fn logs(servers: &[ServerProcess]) -> String {
    servers.iter().map(ServerProcess::log_text).collect()
}
