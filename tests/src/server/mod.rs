//! The SSH servers a testbed can run, and what is common to running any of them:
//! processes with a log, a farm started until every address listens, and the
//! clean-up of servers leaked by killed test processes.

use std::path::Path;
use std::process::Command;

use crate::{HarnessError, Host};

pub(crate) mod farm;
pub(crate) mod process;
pub(crate) mod stale;

/// Prefix of every testbed directory; followed by the owner's process id and `-`.
pub(crate) const DIR_PREFIX: &str = "asyncjobs-testbed-";

/// Which SSH server implementation a [`Testbed`](crate::Testbed) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SshServer {
    /// OpenSSH's `sshd` (package `openssh-server`), 16 hosts per process,
    /// internal SFTP, X11 and extra `sshd_config` lines available.
    #[default]
    OpenSsh,
    /// Dropbear (`dropbear`, package `dropbear-bin`), 10 hosts per process.
    /// SFTP through OpenSSH's `sftp-server` (package `openssh-sftp-server`).
    /// Reads `authorized_keys` from the login account's real home, so it needs
    /// root (the harness edits only the dedicated account's file). Dropbear lets
    /// at most 5 unauthenticated connections per client address wait at once.
    Dropbear,
    /// tinysshd (package `tinysshd`), inetd-style under `socat` (package
    /// `socat`), one socat listener per host. ed25519 host key, curve25519 or
    /// sntrup761 key exchange, chacha20-poly1305 only; no SFTP subsystem.
    /// Reads `authorized_keys` from the login account's real home and refuses
    /// homes with a group- or world-writable component, so it needs root.
    Tinysshd,
}

/// A program the harness runs, and the Debian package that provides it.
pub(crate) struct Program {
    pub path: &'static str,
    pub package: &'static str,
}

impl SshServer {
    /// Short name, used in log file names and messages.
    pub fn name(self) -> &'static str {
        match self {
            SshServer::OpenSsh => "sshd",
            SshServer::Dropbear => "dropbear",
            SshServer::Tinysshd => "tinysshd",
        }
    }

    /// Most listen addresses one server process serves: OpenSSH's compile-time
    /// `MAX_LISTEN_SOCKS` (16), Dropbear's `-p` limit (10), one per socat.
    pub fn hosts_per_process(self) -> usize {
        match self {
            SshServer::OpenSsh => crate::LISTEN_PER_SSHD,
            SshServer::Dropbear => crate::dropbear::LISTEN_PER_DROPBEAR,
            SshServer::Tinysshd => 1,
        }
    }

    /// Every program this server's testbed runs (the sshd path is checked
    /// separately, with its own error).
    pub(crate) fn programs(self) -> &'static [Program] {
        match self {
            SshServer::OpenSsh => &[],
            SshServer::Dropbear => crate::dropbear::PROGRAMS,
            SshServer::Tinysshd => crate::tinysshd::PROGRAMS,
        }
    }
}

impl std::fmt::Display for SshServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How to start one server process of a farm.
pub(crate) trait Launch {
    /// The server started.
    fn server(&self) -> SshServer;

    /// The command that starts server number `index` listening on `hosts` (ports
    /// already chosen), logging to `log`; it may write files (a config) first.
    /// The caller sends stderr to `log` too.
    fn command(&self, index: usize, hosts: &[Host], log: &Path) -> Result<Command, HarnessError>;
}

/// The first of `programs` that is not installed, as the error to report.
pub(crate) fn check_installed(programs: &[Program]) -> Result<(), HarnessError> {
    match programs.iter().find(|p| !Path::new(p.path).exists()) {
        None => Ok(()),
        Some(p) => Err(HarnessError::ToolMissing {
            tool: p.path.into(),
            package: p.package.into(),
        }),
    }
}

/// Whether a process is one of the servers the harness runs (a listener or a
/// per-connection copy): what runs below it is remote, not a local client.
pub(crate) fn is_server_process(cmdline: &str) -> bool {
    cmdline.starts_with("sshd:")
        || SERVER_PATHS
            .iter()
            .any(|p| cmdline.split(' ').next() == Some(*p))
}

/// Absolute paths of every server program (and wrapper) the harness starts.
pub(crate) const SERVER_PATHS: &[&str] = &[
    crate::SSHD_PATH,
    crate::dropbear::DROPBEAR_PATH,
    crate::tinysshd::SOCAT_PATH,
    crate::tinysshd::TINYSSHD_PATH,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_processes_are_recognised_by_program_path() {
        assert!(is_server_process("/usr/sbin/sshd -D -f /tmp/x/sshd-0.conf"));
        assert!(is_server_process("sshd: ajtest [priv]"));
        assert!(is_server_process("/usr/sbin/dropbear -F -E -r /tmp/k"));
        assert!(is_server_process(
            "/usr/bin/socat TCP-LISTEN:1,fork EXEC:/usr/sbin/tinysshd -v /tmp/k"
        ));
        assert!(is_server_process("/usr/sbin/tinysshd -v /tmp/k"));
        assert!(!is_server_process("sleep 4242"));
        assert!(!is_server_process("/usr/sbin/dropbearkey -y -f k"));
    }

    #[test]
    fn missing_program_names_its_package() {
        let err = check_installed(&[Program {
            path: "/nonexistent/dropbear",
            package: "dropbear-bin",
        }])
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/nonexistent/dropbear")
                && text.contains("apt-get install -y dropbear-bin"),
            "{text}"
        );
    }
}
