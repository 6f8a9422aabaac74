//! One sshd process: spawned with its own config and log, killed by PID on drop.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use super::SSHD_PATH;
use crate::{HarnessError, Host};

/// A running `sshd -D` serving some hosts of a testbed.
#[derive(Debug)]
pub(crate) struct Sshd {
    pub index: usize,
    pub hosts: Vec<Host>,
    log: PathBuf,
    /// Logs of earlier attempts of this server (port clash, then restart).
    earlier_logs: Vec<PathBuf>,
    child: Child,
    reaped: bool,
}

impl Sshd {
    /// Writes `config_text` to `dir/sshd-INDEX.conf` and starts the server.
    pub(crate) fn spawn(
        index: usize,
        dir: &Path,
        hosts: Vec<Host>,
        config_text: &str,
        earlier_logs: Vec<PathBuf>,
    ) -> Result<Sshd, HarnessError> {
        let attempt = earlier_logs.len();
        let config = dir.join(format!("sshd-{index}.conf"));
        let log = dir.join(format!("sshd-{index}.{attempt}.log"));
        std::fs::write(&config, config_text)
            .map_err(|e| HarnessError::io(format!("writing {}", config.display()), e))?;
        // Errors before sshd opens its -E log (bad config) go to stderr: same file.
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| HarnessError::io(format!("creating {}", log.display()), e))?;
        let child = Command::new(SSHD_PATH)
            .arg("-D")
            .arg("-f")
            .arg(&config)
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => HarnessError::SshdMissing {
                    path: SSHD_PATH.into(),
                },
                _ => HarnessError::io(format!("starting {SSHD_PATH}"), e),
            })?;
        Ok(Sshd {
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

    /// Sends SIGKILL (the listener keeps no state worth a graceful stop).
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
                "== sshd #{} attempt {} (pid {}, {} hosts from {}) {} ==\n",
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

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill();
        self.reap();
    }
}
