//! An ssh config file naming the testbed's hosts, for programs that read
//! their nodes from an ssh config (the examples of `asyncjobs-ssh`).

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::Testbed;

impl Testbed {
    /// Writes an ssh config in [`dir`](Self::dir) that gives `aliases[i]` the
    /// address, port, user and key of host `i`, checked against this
    /// testbed's [`known_hosts`](Self::known_hosts) only (no agent, no global
    /// file, strict host key checking); returns its path.
    ///
    /// # Panics
    /// With more aliases than hosts, or if the file cannot be written.
    pub fn write_ssh_config(&self, aliases: &[&str]) -> PathBuf {
        assert!(
            aliases.len() <= self.hosts().len(),
            "write_ssh_config: {} aliases for {} hosts",
            aliases.len(),
            self.hosts().len()
        );
        let mut text = String::new();
        for (alias, host) in aliases.iter().zip(self.hosts()) {
            let _ = write!(
                text,
                "Host {alias}\n    HostName {}\n    Port {}\n    User {}\n    IdentityFile {}\n    \
                 IdentitiesOnly yes\n    UserKnownHostsFile {}\n    GlobalKnownHostsFile none\n    \
                 StrictHostKeyChecking yes\n    ConnectTimeout 20\n",
                host.ip,
                host.port,
                self.user(),
                self.identity().display(),
                self.known_hosts().display()
            );
        }
        let path = self.dir().join("ssh_config");
        if let Err(e) = std::fs::write(&path, text) {
            panic!("write_ssh_config: writing {}: {e}", path.display());
        }
        path
    }
}
