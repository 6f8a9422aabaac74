//! Running Dropbear servers: host key and command line.
//!
//! `dropbear -F -E` stays in the foreground and logs to stderr (the harness's
//! log file). It reads the login account's `~/.ssh/authorized_keys` from the
//! real home (see [`home_keys`](crate::home_keys)) and runs `/usr/lib/sftp-server`
//! (from `openssh-sftp-server`) for the SFTP subsystem.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::server::{Launch, Program, SshServer};
use crate::{HarnessError, Host};

/// Absolute path of the Dropbear server.
pub(crate) const DROPBEAR_PATH: &str = "/usr/sbin/dropbear";
const DROPBEARKEY_PATH: &str = "/usr/bin/dropbearkey";
/// Where Dropbear (as built by Debian) looks for the SFTP server.
const SFTP_SERVER_PATH: &str = "/usr/lib/sftp-server";
/// Dropbear accepts at most 10 `-p` options (`DROPBEAR_MAX_PORTS`).
pub(crate) const LISTEN_PER_DROPBEAR: usize = 10;

/// What a Dropbear testbed runs.
pub(crate) const PROGRAMS: &[Program] = &[
    Program {
        path: DROPBEAR_PATH,
        package: "dropbear-bin",
    },
    Program {
        path: DROPBEARKEY_PATH,
        package: "dropbear-bin",
    },
    Program {
        path: SFTP_SERVER_PATH,
        package: "openssh-sftp-server",
    },
];

/// A Dropbear ed25519 host key in `dir` and its `ssh-ed25519 AAAA...` line.
pub(crate) fn host_key(dir: &Path) -> Result<(PathBuf, String), HarnessError> {
    let key = dir.join("dropbear_host_key");
    run(Command::new(DROPBEARKEY_PATH)
        .args(["-t", "ed25519", "-f"])
        .arg(&key))?;
    let out = run(Command::new(DROPBEARKEY_PATH).arg("-y").arg("-f").arg(&key))?;
    let public = public_line(&out).ok_or_else(|| HarnessError::CommandFailed {
        command: format!("{DROPBEARKEY_PATH} -y -f {}", key.display()),
        status: "no `ssh-ed25519 ...` line in its output".into(),
        stderr: out.clone(),
    })?;
    Ok((key, public))
}

/// The `ssh-ed25519 AAAA...` line (type and key, no comment) of `dropbearkey -y`.
fn public_line(output: &str) -> Option<String> {
    output.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        match (words.next(), words.next()) {
            (Some(kind @ "ssh-ed25519"), Some(blob)) => Some(format!("{kind} {blob}")),
            _ => None,
        }
    })
}

/// Runs a key tool; its stdout on success.
fn run(cmd: &mut Command) -> Result<String, HarnessError> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| HarnessError::io(format!("running {cmd:?}"), e))?;
    if !out.status.success() {
        return Err(HarnessError::CommandFailed {
            command: format!("{cmd:?}"),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What every dropbear of a testbed shares.
pub(crate) struct DropbearLaunch {
    pub dir: PathBuf,
    pub host_key: PathBuf,
}

impl Launch for DropbearLaunch {
    fn server(&self) -> SshServer {
        SshServer::Dropbear
    }

    /// `dropbear -F -E -s -r KEY -P PIDFILE -p ADDR ...` (foreground, log to
    /// stderr, public keys only).
    fn command(&self, index: usize, hosts: &[Host], _log: &Path) -> Result<Command, HarnessError> {
        let mut cmd = Command::new(DROPBEAR_PATH);
        cmd.args(["-F", "-E", "-s", "-r"])
            .arg(&self.host_key)
            // Its default, /var/run/dropbear.pid, would be shared by every testbed.
            .arg("-P")
            .arg(self.dir.join(format!("dropbear-{index}.pid")));
        for h in hosts {
            cmd.arg("-p").arg(h.address());
        }
        Ok(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_line_is_taken_from_dropbearkey_output() {
        let out = "Public key portion is:\nssh-ed25519 AAAAC3Nza root@vm\nFingerprint: SHA256:x\n";
        assert_eq!(public_line(out).as_deref(), Some("ssh-ed25519 AAAAC3Nza"));
        assert_eq!(public_line("Fingerprint: SHA256:x\n"), None);
    }

    #[test]
    fn every_host_is_a_listen_option() {
        let launch = DropbearLaunch {
            dir: "/t".into(),
            host_key: "/t/k".into(),
        };
        let hosts = [
            Host {
                ip: "127.1.2.3".into(),
                port: 4000,
            },
            Host {
                ip: "::1".into(),
                port: 4001,
            },
        ];
        let cmd = launch.command(2, &hosts, Path::new("/t/log")).unwrap();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
        assert_eq!(
            args,
            [
                "-F",
                "-E",
                "-s",
                "-r",
                "/t/k",
                "-P",
                "/t/dropbear-2.pid",
                "-p",
                "127.1.2.3:4000",
                "-p",
                "[::1]:4001"
            ]
        );
    }
}
