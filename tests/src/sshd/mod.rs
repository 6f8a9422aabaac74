//! Running private OpenSSH servers: config text, processes, start-up of a farm,
//! and clean-up of servers leaked by killed test processes.

pub(crate) mod config;
pub(crate) mod farm;
pub(crate) mod process;
pub(crate) mod stale;

/// Absolute path of the OpenSSH server (sshd refuses to start from a relative path).
pub const SSHD_PATH: &str = "/usr/sbin/sshd";
/// Compile-time limit of OpenSSH (`MAX_LISTEN_SOCKS`): listen addresses per sshd.
pub const LISTEN_PER_SSHD: usize = 16;
/// Prefix of every testbed directory; followed by the owner's process id and `-`.
pub(crate) const DIR_PREFIX: &str = "asyncjobs-testbed-";
