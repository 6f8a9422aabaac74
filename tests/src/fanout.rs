//! Running one OpenSSH command on many hosts of a testbed with a bounded number of threads.

use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::Testbed;

impl Testbed {
    /// Runs `ssh HOST remote_command` (see [`ssh_command`](Self::ssh_command)) on
    /// every host, at most `threads` at a time (at least one); results in host order.
    pub fn ssh_all(&self, remote_command: &str, threads: usize) -> Vec<std::io::Result<Output>> {
        let hosts = self.hosts();
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<std::io::Result<Output>>>> =
            Mutex::new((0..hosts.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..threads.clamp(1, hosts.len().max(1)) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(host) = hosts.get(i) else { break };
                    let out = self.ssh_command(host).arg(remote_command).output();
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(out);
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(std::io::Error::other("host was not visited"))))
            .collect()
    }
}
