//! Running tinysshd: host key directory and the socat wrapper.
//!
//! tinysshd is inetd-style (one process per connection on stdin/stdout), so each
//! host is a `socat TCP-LISTEN:PORT,bind=IP,reuseaddr,fork EXEC:"tinysshd -v DIR",nofork`
//! listener. tinysshd has no SFTP subsystem unless given `-x sftp=...`; the
//! harness leaves it out, so transfers to it fail (the case to test).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::server::{Launch, Program, SshServer};
use crate::{HarnessError, Host};

/// Absolute path of tinysshd.
pub(crate) const TINYSSHD_PATH: &str = "/usr/sbin/tinysshd";
const MAKEKEY_PATH: &str = "/usr/sbin/tinysshd-makekey";
/// Absolute path of the socket wrapper that runs tinysshd per connection.
pub(crate) const SOCAT_PATH: &str = "/usr/bin/socat";
/// Length of a raw ed25519 public key (`DIR/ed25519.pk`).
const ED25519_LEN: usize = 32;

/// What a tinysshd testbed runs.
pub(crate) const PROGRAMS: &[Program] = &[
    Program {
        path: TINYSSHD_PATH,
        package: "tinysshd",
    },
    Program {
        path: MAKEKEY_PATH,
        package: "tinysshd",
    },
    Program {
        path: SOCAT_PATH,
        package: "socat",
    },
];

/// A tinysshd key directory in `dir` and the `ssh-ed25519 AAAA...` line of its
/// host key.
pub(crate) fn host_key(dir: &Path) -> Result<(PathBuf, String), HarnessError> {
    let keys = dir.join("tinysshd-keys");
    check_socat_safe(&keys)?;
    let out = Command::new(MAKEKEY_PATH)
        .arg("-q")
        .arg(&keys)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| HarnessError::io(format!("running {MAKEKEY_PATH}"), e))?;
    if !out.status.success() {
        return Err(HarnessError::CommandFailed {
            command: format!("{MAKEKEY_PATH} -q {}", keys.display()),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let pk_path = keys.join("ed25519.pk");
    let pk = std::fs::read(&pk_path)
        .map_err(|e| HarnessError::io(format!("reading {}", pk_path.display()), e))?;
    let public = public_line(&pk).ok_or_else(|| {
        HarnessError::io(
            format!("parsing {}", pk_path.display()),
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("expected {ED25519_LEN} raw bytes, got {}", pk.len()),
            ),
        )
    })?;
    Ok((keys, public))
}

/// `ssh-ed25519 BASE64` for a raw ed25519 public key: the SSH wire blob is
/// `string "ssh-ed25519"` then `string key`, each with a 4-byte length.
fn public_line(raw: &[u8]) -> Option<String> {
    if raw.len() != ED25519_LEN {
        return None;
    }
    let mut blob = Vec::with_capacity(51);
    for field in [b"ssh-ed25519".as_slice(), raw] {
        blob.extend_from_slice(&u32::try_from(field.len()).ok()?.to_be_bytes());
        blob.extend_from_slice(field);
    }
    Some(format!(
        "ssh-ed25519 {}",
        data_encoding::BASE64.encode(&blob)
    ))
}

/// socat splits its `EXEC:` command on spaces and its addresses on `,` `!` `:`
/// and quotes: the key directory must contain none of them.
fn check_socat_safe(path: &Path) -> Result<(), HarnessError> {
    let text = path.to_string_lossy();
    let bad = |c: char| c.is_whitespace() || ",!:\"'\\{}[]()%".contains(c);
    if text.contains(bad) {
        return Err(HarnessError::InvalidConfig(format!(
            "the tinysshd key directory {text:?} has characters socat cannot pass to tinysshd; \
             set TMPDIR to a plain path"
        )));
    }
    Ok(())
}

/// Where the tinysshd key directory of a testbed is.
pub(crate) struct TinysshdLaunch {
    pub keys: PathBuf,
}

impl Launch for TinysshdLaunch {
    fn server(&self) -> SshServer {
        SshServer::Tinysshd
    }

    /// `socat TCP-LISTEN:PORT,bind=IP,reuseaddr,fork EXEC:"tinysshd -v KEYS",nofork`
    /// (`TCP6-LISTEN` and `bind=[::1]` for IPv6); one host per process.
    fn command(&self, _index: usize, hosts: &[Host], _log: &Path) -> Result<Command, HarnessError> {
        let [host] = hosts else {
            return Err(HarnessError::InvalidConfig(format!(
                "one socat listens on one address, got {}",
                hosts.len()
            )));
        };
        let listen = if host.is_ipv6() {
            format!(
                "TCP6-LISTEN:{},bind=[{}],reuseaddr,fork",
                host.port, host.ip
            )
        } else {
            format!("TCP-LISTEN:{},bind={},reuseaddr,fork", host.port, host.ip)
        };
        let mut cmd = Command::new(SOCAT_PATH);
        cmd.arg(listen)
            // nofork: tinysshd gets the TCP socket itself (as from inetd), so it
            // sees the real addresses (SSH_CONNECTION) and no relay runs between.
            .arg(format!(
                "EXEC:{TINYSSHD_PATH} -v {},nofork",
                self.keys.display()
            ));
        Ok(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_public_key_becomes_an_openssh_line() {
        // The real check is OpenSSH's ssh accepting the key (tests/harness/servers.rs).
        let raw: Vec<u8> = (0..32).collect();
        let line = public_line(&raw).unwrap();
        let blob = data_encoding::BASE64
            .decode(line.strip_prefix("ssh-ed25519 ").unwrap().as_bytes())
            .unwrap();
        assert_eq!(&blob[..4], &[0, 0, 0, 11]);
        assert_eq!(&blob[4..15], b"ssh-ed25519");
        assert_eq!(&blob[15..19], &[0, 0, 0, 32]);
        assert_eq!(&blob[19..], raw.as_slice());
        assert!(line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
        assert_eq!(public_line(&raw[..31]), None);
    }

    #[test]
    fn socat_listens_on_ipv4_or_ipv6() {
        let launch = TinysshdLaunch {
            keys: "/tmp/asyncjobs-testbed-1-x/tinysshd-keys".into(),
        };
        let args = |ip: &str| -> Vec<String> {
            let host = Host {
                ip: ip.into(),
                port: 4000,
            };
            let cmd = launch.command(0, &[host], Path::new("/l")).unwrap();
            cmd.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let exec = "EXEC:/usr/sbin/tinysshd -v /tmp/asyncjobs-testbed-1-x/tinysshd-keys,nofork";
        assert_eq!(
            args("127.1.2.3"),
            ["TCP-LISTEN:4000,bind=127.1.2.3,reuseaddr,fork", exec]
        );
        assert_eq!(
            args("::1"),
            ["TCP6-LISTEN:4000,bind=[::1],reuseaddr,fork", exec]
        );
    }

    #[test]
    fn key_directory_with_socat_syntax_is_refused() {
        assert!(check_socat_safe(Path::new("/tmp/asyncjobs-testbed-1-aB9/tinysshd-keys")).is_ok());
        for bad in ["/tmp/a b/k", "/tmp/a,b/k", "/tmp/a:b/k", "/tmp/a!b/k"] {
            let err = check_socat_safe(Path::new(bad)).unwrap_err().to_string();
            assert!(err.contains("TMPDIR"), "{err}");
        }
    }
}
