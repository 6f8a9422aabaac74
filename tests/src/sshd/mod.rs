//! Running private OpenSSH servers: the config text and the command line.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::server::{Launch, SshServer};
use crate::{HarnessError, Host};

pub(crate) mod config;

/// Absolute path of the OpenSSH server (sshd refuses to start from a relative path).
pub const SSHD_PATH: &str = "/usr/sbin/sshd";
/// Compile-time limit of OpenSSH (`MAX_LISTEN_SOCKS`): listen addresses per sshd.
pub const LISTEN_PER_SSHD: usize = 16;

/// What every sshd of a testbed shares.
pub(crate) struct SshdLaunch {
    pub dir: PathBuf,
    pub host_key: PathBuf,
    pub authorized_keys: PathBuf,
    pub user: String,
    pub x11: bool,
    pub extra: Vec<String>,
}

impl Launch for SshdLaunch {
    fn server(&self) -> SshServer {
        SshServer::OpenSsh
    }

    /// Writes `dir/sshd-INDEX.conf`, then `sshd -D -f CONFIG -E LOG`.
    fn command(&self, index: usize, hosts: &[Host], log: &Path) -> Result<Command, HarnessError> {
        let text = config::render(&config::ConfigSpec {
            listen: hosts,
            host_key: &self.host_key,
            authorized_keys: &self.authorized_keys,
            user: &self.user,
            x11: self.x11,
            extra: &self.extra,
        });
        let path = self.dir.join(format!("sshd-{index}.conf"));
        std::fs::write(&path, text)
            .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))?;
        let mut cmd = Command::new(SSHD_PATH);
        cmd.arg("-D").arg("-f").arg(&path).arg("-E").arg(log);
        Ok(cmd)
    }
}
