//! What a testbed should look like.

/// Options of [`Testbed::start_with`](crate::Testbed::start_with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestbedConfig {
    /// Number of distinct loopback hosts (1 ..= [`MAX_HOSTS`](crate::MAX_HOSTS)).
    pub hosts: usize,
    /// Enable X11 forwarding on the sshd (needs `/usr/bin/xauth`).
    pub x11: bool,
    /// Extra `sshd_config` lines. Lines before the first `Match` come first in the
    /// generated config, so (sshd keeping the first value of a keyword) they replace
    /// the harness defaults with the same keyword; a `Match` block goes last.
    /// Do not set `ListenAddress` here.
    pub extra_sshd_config: Vec<String>,
}

impl Default for TestbedConfig {
    fn default() -> Self {
        TestbedConfig {
            hosts: 1,
            x11: false,
            extra_sshd_config: Vec::new(),
        }
    }
}
