//! What a testbed should look like.

use crate::SshServer;

/// Options of [`Testbed::start_with`](crate::Testbed::start_with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestbedConfig {
    /// Number of distinct loopback hosts (1 ..= [`MAX_HOSTS`](crate::MAX_HOSTS)).
    /// With [`ipv6`](Self::ipv6) they share `::1` and differ by port.
    pub hosts: usize,
    /// Which server implementation to run (OpenSSH by default).
    pub server: SshServer,
    /// Listen on the IPv6 loopback `::1` instead of `127.A.B.C`. Start-up fails
    /// with [`HarnessError::Ipv6Unavailable`](crate::HarnessError::Ipv6Unavailable)
    /// where `::1` cannot be bound.
    pub ipv6: bool,
    /// Enable X11 forwarding on the sshd (needs `/usr/bin/xauth`; OpenSSH only).
    pub x11: bool,
    /// Extra `sshd_config` lines. Lines before the first `Match` come first in the
    /// generated config, so (sshd keeping the first value of a keyword) they replace
    /// the harness defaults with the same keyword; a `Match` block goes last.
    /// Do not set `ListenAddress` here. OpenSSH only.
    pub extra_sshd_config: Vec<String>,
}

impl Default for TestbedConfig {
    fn default() -> Self {
        TestbedConfig {
            hosts: 1,
            server: SshServer::OpenSsh,
            ipv6: false,
            x11: false,
            extra_sshd_config: Vec::new(),
        }
    }
}
