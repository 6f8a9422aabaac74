//! Shared helpers of the asyncjobs-ssh integration tests (the loopback sshd testbed).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use asyncjobs_ssh::{Formatter, HostFormatter, SharedBuffer, SshNode, SshNodeBuilder};
use asyncjobs_tests::{Host, Testbed};

/// Starts a testbed of `n` hosts, or fails the test with the harness's reason.
pub fn testbed(n: usize) -> Testbed {
    Testbed::start(n).unwrap_or_else(|e| panic!("cannot start the loopback sshd testbed: {e}"))
}

/// A node for `host` of `bed`: its user and key, its known_hosts, no agent, output into `out`.
pub fn node_builder(bed: &Testbed, host: &Host, out: &Output) -> SshNodeBuilder {
    SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(bed.user())
        .identity(bed.identity())
        .agent(false)
        .known_hosts_file(bed.known_hosts())
        .connect_timeout(Duration::from_secs(20))
        .formatter(out.formatter())
}

/// Same as [`node_builder`], built.
pub fn node(bed: &Testbed, host: &Host, out: &Output) -> SshNode {
    node_builder(bed, host, out).build()
}

/// Captured formatter output: stdout and stderr buffers of a host-prefixed formatter.
#[derive(Clone, Default)]
pub struct Output {
    pub out: SharedBuffer,
    pub err: SharedBuffer,
}

impl Output {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn formatter(&self) -> Arc<dyn Formatter> {
        Arc::new(HostFormatter::with_writers(
            self.out.clone(),
            self.err.clone(),
        ))
    }
    pub fn stdout(&self) -> String {
        self.out.contents_lossy()
    }
    pub fn stderr(&self) -> String {
        self.err.contents_lossy()
    }
}

/// Polls `cond` every 50 ms for at most `limit`; true as soon as it holds.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A pattern unique to this process and call site, for remote process counting.
pub fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{tag}{}{}",
        std::process::id() % 10000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}
