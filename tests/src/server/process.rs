//! One server process (sshd, dropbear, or the socat in front of tinysshd):
//! spawned with its own log, killed by PID on drop.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};

use super::{Launch, SshServer};
use crate::{HarnessError, Host};

/// A running server listening on some hosts of a testbed.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    pub server: SshServer,
    pub index: usize,
    pub hosts: Vec<Host>,
    log: PathBuf,
    /// Logs of earlier attempts of this server (port clash, then restart).
    earlier_logs: Vec<PathBuf>,
    child: Child,
    reaped: bool,
}

impl ServerProcess {
    /// Starts server number `index` of `launch` on `hosts`, logging to
    /// `dir/NAME-INDEX.ATTEMPT.log` (stderr included: errors before a server
    /// opens its own log, such as a bad config, land there too).
    pub(crate) fn spawn(
        launch: &dyn Launch,
        index: usize,
        dir: &Path,
        hosts: Vec<Host>,
        earlier_logs: Vec<PathBuf>,
    ) -> Result<ServerProcess, HarnessError> {
        let server = launch.server();
        let attempt = earlier_logs.len();
        let log = dir.join(format!("{}-{index}.{attempt}.log", server.name()));
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| HarnessError::io(format!("creating {}", log.display()), e))?;
        let mut cmd = launch.command(index, &hosts, &log)?;
        let program = cmd.get_program().to_string_lossy().into_owned();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound if server == SshServer::OpenSsh => {
                    HarnessError::SshdMissing {
                        path: program.into(),
                    }
                }
                _ => HarnessError::io(format!("starting {program}"), e),
            })?;
        Ok(ServerProcess {
            server,
            index,
            hosts,
            log,
            earlier_logs,
            child,
            reaped: false,
        })
    }

    /// Process id of the listening server.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the server has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.try_wait().ok().flatten();
        self.reaped |= status.is_some();
        status
    }

    /// Sends SIGKILL to the listener (it keeps no state worth a graceful stop).
    /// Per-connection processes it forked end with their client, as with sshd.
    pub(crate) fn kill(&mut self) {
        if !self.reaped {
            // Fails only if it already exited, which is what we want anyway.
            let _ = self.child.kill();
        }
    }

    /// Waits for the killed or exited server so no zombie is left.
    pub(crate) fn reap(&mut self) {
        if !self.reaped {
            let _ = self.child.wait();
            self.reaped = true;
        }
    }

    /// Log files of this server, earliest attempt first.
    pub(crate) fn log_files(&self) -> Vec<PathBuf> {
        let mut all = self.earlier_logs.clone();
        all.push(self.log.clone());
        all
    }

    /// Current log text of this attempt.
    pub(crate) fn current_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// All log text of this server, with a header naming it.
    pub(crate) fn log_text(&self) -> String {
        let mut out = String::new();
        for (attempt, path) in self.log_files().iter().enumerate() {
            let first = self.hosts.first().map(Host::address).unwrap_or_default();
            out.push_str(&format!(
                "== {} #{} attempt {} (pid {}, {} hosts from {}) {} ==\n",
                self.server.name(),
                self.index,
                attempt,
                self.pid(),
                self.hosts.len(),
                first,
                path.display()
            ));
            out.push_str(
                &std::fs::read_to_string(path).unwrap_or_else(|e| format!("(unreadable: {e})\n")),
            );
        }
        out
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
        self.reap();
    }
}
