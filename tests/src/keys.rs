//! Throwaway ed25519 keys: client keys made with `ssh-keygen`, the host key with
//! the server's own tool.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{HarnessError, SshServer};

/// Passphrase of [`Testbed::encrypted_identity`](crate::Testbed::encrypted_identity).
pub const PASSPHRASE: &str = "secret";
/// bcrypt rounds for the encrypted key: few, so decrypting it (even in a debug
/// build of a Rust client) stays fast; the format is the same as with the default 16.
const KDF_ROUNDS: &str = "2";

/// The key files of one testbed.
#[derive(Debug)]
pub(crate) struct Keys {
    /// The host key: a file for sshd and dropbear, a key directory for tinysshd.
    pub host: PathBuf,
    pub identity: PathBuf,
    pub encrypted: PathBuf,
    pub wrong: PathBuf,
    /// `ssh-ed25519 AAAA...` of the host key, without comment.
    pub host_public: String,
}

impl Keys {
    /// Generates the four keys in `dir` for `server`, all key tools running at once.
    pub(crate) fn generate(dir: &Path, server: SshServer) -> Result<Keys, HarnessError> {
        let openssh_host = dir.join("ssh_host_ed25519_key");
        let keys = Keys {
            host: openssh_host.clone(),
            identity: dir.join("id_ed25519"),
            encrypted: dir.join("id_ed25519_encrypted"),
            wrong: dir.join("id_ed25519_wrong"),
            host_public: String::new(),
        };
        let mut jobs = vec![
            (&keys.identity, ""),
            (&keys.encrypted, PASSPHRASE),
            (&keys.wrong, ""),
        ];
        if server == SshServer::OpenSsh {
            jobs.push((&openssh_host, ""));
        }
        let mut running = Vec::new();
        for (path, pass) in jobs {
            running.push((keygen(path, pass)?, path));
        }
        // While ssh-keygen runs: the other servers' own host key tools.
        let other_host = match server {
            SshServer::OpenSsh => None,
            SshServer::Dropbear => Some(crate::dropbear::host_key(dir)),
            SshServer::Tinysshd => Some(crate::tinysshd::host_key(dir)),
        };
        for (child, path) in running {
            finish(child, path)?;
        }
        let (host, host_public) = match other_host {
            Some(made) => made?,
            None => (openssh_host.clone(), public_key(&openssh_host)?),
        };
        Ok(Keys {
            host,
            host_public,
            ..keys
        })
    }

    /// The authorized public keys (`type base64`): the plain and the encrypted identity.
    pub(crate) fn authorized(&self) -> Result<Vec<String>, HarnessError> {
        Ok(vec![
            public_key(&self.identity)?,
            public_key(&self.encrypted)?,
        ])
    }
}

/// Generates one unencrypted ed25519 key pair at `path` (and `path.pub`);
/// returns its public half, `ssh-ed25519 AAAA...`. For servers of the
/// harness other than sshd (the hostile server).
pub(crate) fn generate_one(path: &Path) -> Result<String, HarnessError> {
    finish(keygen(path, "")?, path)?;
    public_key(path)
}

fn keygen(path: &Path, passphrase: &str) -> Result<Child, HarnessError> {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args([
        "-t",
        "ed25519",
        "-q",
        "-N",
        passphrase,
        "-C",
        "asyncjobs-testbed",
    ]);
    if !passphrase.is_empty() {
        cmd.args(["-a", KDF_ROUNDS]);
    }
    cmd.arg("-f")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => HarnessError::ToolMissing {
            tool: "ssh-keygen".into(),
            package: "openssh-client".into(),
        },
        _ => HarnessError::io("starting ssh-keygen", e),
    })
}

fn finish(child: Child, path: &Path) -> Result<(), HarnessError> {
    let out = child
        .wait_with_output()
        .map_err(|e| HarnessError::io("waiting for ssh-keygen", e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(HarnessError::CommandFailed {
        command: format!("ssh-keygen -t ed25519 -f {}", path.display()),
        status: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

/// `type base64` from `PATH.pub`, dropping the comment.
fn public_key(private: &Path) -> Result<String, HarnessError> {
    let mut pub_path = private.as_os_str().to_owned();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    let text = std::fs::read_to_string(&pub_path)
        .map_err(|e| HarnessError::io(format!("reading {}", pub_path.display()), e))?;
    let fields: Vec<&str> = text.split_whitespace().take(2).collect();
    match fields.as_slice() {
        [kind, blob] => Ok(format!("{kind} {blob}")),
        _ => Err(HarnessError::io(
            format!("parsing {}", pub_path.display()),
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "expected `type base64 [comment]`",
            ),
        )),
    }
}
