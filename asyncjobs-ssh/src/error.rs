//! Typed errors: [`ConnectError`] (getting a connection) and [`SshError`]
//! (what an [`SshJob`](crate::SshJob) fails with).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::kex::KexError;
use crate::output::CommandOutput;
use crate::status::ExitStatus;

fn secs(d: &Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s:.3}s")
    }
}

fn files_list(list: &[PathBuf]) -> String {
    if list.is_empty() {
        return "no known_hosts file".into();
    }
    list.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a connection to a node could not be opened. Every variant names the
/// target (`host:port`) and says what to do where there is something to do.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The host name does not resolve.
    #[error("cannot resolve host name `{host}`: {message}")]
    Dns {
        /// The name that failed.
        host: String,
        /// The resolver's message.
        message: String,
    },
    /// Nothing listens there (TCP RST).
    #[error("connection refused by {target}")]
    Refused {
        /// `host:port`.
        target: String,
    },
    /// The TCP connection, the SSH handshake or authentication did not complete in time.
    #[error("cannot connect to {target}: no SSH session within {} (connect timeout)", secs(.after))]
    Timeout {
        /// `host:port`.
        target: String,
        /// The connect timeout that expired.
        after: Duration,
    },
    /// Another network error.
    #[error("cannot connect to {target}")]
    Network {
        /// `host:port`.
        target: String,
        /// The system's error (match on its [`kind`](std::io::Error::kind)).
        source: Arc<std::io::Error>,
    },
    /// The SSH handshake failed or the connection broke.
    #[error("SSH session with {target} failed: {message}")]
    Protocol {
        /// `host:port`.
        target: String,
        /// What went wrong.
        message: String,
    },
    /// The host's key is in no known_hosts file and the policy is strict.
    #[error(
        "host key of {target} is UNKNOWN ({key_type} {fingerprint}, not in {}): refused. To trust it, \
         check the fingerprint, then either use HostKeyPolicy::AcceptNew (accept-new) or add it with \
         `ssh-keyscan{} {} >> ~/.ssh/known_hosts`",
        files_list(.files), keyscan_port(.target), keyscan_host(.target)
    )]
    HostKeyUnknown {
        /// `host:port`.
        target: String,
        /// Key algorithm, e.g. `ssh-ed25519`.
        key_type: String,
        /// `SHA256:...` fingerprint of the key offered.
        fingerprint: String,
        /// The files searched.
        files: Vec<PathBuf>,
    },
    /// The host offered a key different from the one recorded: possible man-in-the-middle.
    #[error(
        "@@@ WARNING: HOST KEY OF {target} HAS CHANGED! @@@ It offered {key_type} {fingerprint}, \
         which does not match the key recorded at {}:{line}. Someone could be eavesdropping (man-in-the-middle), \
         or the host key was just changed. Connection refused; if the change is expected, remove that line \
         (e.g. `ssh-keygen -R '{}' -f {}`) and connect again.",
        file.display(), known_hosts_pattern(.target), file.display()
    )]
    HostKeyChanged {
        /// `host:port`.
        target: String,
        /// Key algorithm offered.
        key_type: String,
        /// `SHA256:...` fingerprint of the key offered.
        fingerprint: String,
        /// File holding the recorded key.
        file: PathBuf,
        /// Line of the recorded key (1-based).
        line: usize,
    },
    /// The host's key is marked `@revoked`.
    #[error("host key of {target} ({fingerprint}) is REVOKED at {}:{line}: refused", file.display())]
    HostKeyRevoked {
        /// `host:port`.
        target: String,
        /// `SHA256:...` fingerprint.
        fingerprint: String,
        /// File holding the `@revoked` line.
        file: PathBuf,
        /// Its line (1-based).
        line: usize,
    },
    /// Writing the accepted key to known_hosts failed (policy accept-new).
    #[error("cannot record the host key of {target} in {}", file.display())]
    KnownHostsWrite {
        /// `host:port`.
        target: String,
        /// The known_hosts file.
        file: PathBuf,
        /// The system's error.
        source: Arc<std::io::Error>,
    },
    /// The server refused every key tried.
    #[error("authentication refused for user `{user}` on {target}; tried: {}", tried_list(.tried))]
    AuthRefused {
        /// `host:port`.
        target: String,
        /// The login user.
        user: String,
        /// What was tried, e.g. `key /home/u/.ssh/id_ed25519`, `agent key ssh-ed25519 SHA256:..`, or why a key was skipped.
        tried: Vec<String>,
    },
    /// A private key file is encrypted and no passphrase was given (no prompt is ever shown).
    #[error(
        "private key {} is encrypted and no passphrase was given: pass one (SshNodeBuilder::passphrase), \
         or load the key into ssh-agent",
        path.display()
    )]
    KeyEncrypted {
        /// The key file.
        path: PathBuf,
    },
    /// A private key file cannot be read or decoded (or the passphrase is wrong).
    #[error("cannot load private key {}: {message}", path.display())]
    KeyUnreadable {
        /// The key file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The gateway in front of the node could not be reached.
    #[error("cannot reach {target} through gateway {gateway}")]
    Gateway {
        /// `host:port` of the node behind the gateway.
        target: String,
        /// The gateway, `user@host:port`.
        gateway: String,
        /// The gateway's own error.
        source: Box<ConnectError>,
    },
    /// The node's key exchange preferences
    /// ([`SshNodeBuilder::kex_algorithms`](crate::SshNodeBuilder::kex_algorithms))
    /// cannot be used; nothing was sent to the host.
    #[error("cannot connect to {target} with these key exchange preferences")]
    Kex {
        /// `host:port`.
        target: String,
        /// What is wrong with the list.
        source: KexError,
    },
    /// The node's `ProxyCommand` could not be started, or exited before the
    /// SSH session was set up.
    #[error(
        "cannot connect to {target} through ProxyCommand `{command}`: it {message}{}",
        proxy_stderr(.stderr_tail)
    )]
    ProxyCommand {
        /// `host:port`.
        target: String,
        /// The command line.
        command: String,
        /// What happened (`exited (exit status: 255) before ...`).
        message: String,
        /// The last lines of its stderr, escaped, ` / `-separated (may be empty).
        stderr_tail: String,
    },
    /// The gateway is up but refused or failed to open a tunnel to the node.
    #[error("gateway {gateway} could not open a tunnel to {target}: {message}")]
    Tunnel {
        /// `host:port` of the node.
        target: String,
        /// The gateway, `user@host:port`.
        gateway: String,
        /// Why.
        message: String,
    },
}

fn proxy_stderr(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("; its stderr ends with: {tail}")
    }
}

fn tried_list(tried: &[String]) -> String {
    if tried.is_empty() {
        "nothing (no ssh-agent, no default key file ~/.ssh/id_ed25519, id_ecdsa, id_rsa)".into()
    } else {
        tried.join("; ")
    }
}

fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.starts_with('[') => (h, Some(p)),
        _ => (target, None),
    }
}
/// How `host:port` appears in known_hosts: `host` on port 22, else `[host]:port`.
fn known_hosts_pattern(target: &str) -> String {
    let host = keyscan_host(target);
    match split_target(target).1 {
        Some(p) if p != "22" => format!("[{host}]:{p}"),
        _ => host,
    }
}
fn keyscan_host(target: &str) -> String {
    split_target(target)
        .0
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}
fn keyscan_port(target: &str) -> String {
    match split_target(target).1 {
        Some(p) if p != "22" => format!(" -p {p}"),
        _ => String::new(),
    }
}

impl ConnectError {
    /// A short name of the variant, used as the job error's kind in listings.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectError::Dns { .. } => "DnsError",
            ConnectError::Refused { .. } => "ConnectionRefused",
            ConnectError::Timeout { .. } => "ConnectTimeout",
            ConnectError::Network { .. } => "NetworkError",
            ConnectError::Protocol { .. } => "SshProtocolError",
            ConnectError::HostKeyUnknown { .. } => "HostKeyUnknown",
            ConnectError::HostKeyChanged { .. } => "HostKeyChanged",
            ConnectError::HostKeyRevoked { .. } => "HostKeyRevoked",
            ConnectError::KnownHostsWrite { .. } => "KnownHostsWriteError",
            ConnectError::AuthRefused { .. } => "AuthRefused",
            ConnectError::KeyEncrypted { .. } => "KeyEncrypted",
            ConnectError::KeyUnreadable { .. } => "KeyUnreadable",
            ConnectError::Gateway { source, .. } => source.kind(),
            ConnectError::Tunnel { .. } => "TunnelError",
            ConnectError::Kex { .. } => "UnsupportedKex",
            ConnectError::ProxyCommand { .. } => "ProxyCommandFailed",
        }
    }

    /// True when the host could not be reached at all (DNS, refused, timeout,
    /// network, gateway), as opposed to a trust or authentication refusal.
    pub fn is_unreachable(&self) -> bool {
        match self {
            ConnectError::Dns { .. }
            | ConnectError::Refused { .. }
            | ConnectError::Timeout { .. }
            | ConnectError::Network { .. }
            | ConnectError::Protocol { .. }
            | ConnectError::ProxyCommand { .. }
            | ConnectError::Tunnel { .. } => true,
            ConnectError::Gateway { source, .. } => source.is_unreachable(),
            _ => false,
        }
    }
}

/// What an [`SshJob`](crate::SshJob) fails with (through
/// [`JobError::downcast_ref`](asyncjobs_core::JobError::downcast_ref)).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SshError {
    /// No connection to the node.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A command ended with a status that is neither 0 nor allowed.
    #[error("command `{command}` failed on {host} ({status}){}", stderr_suffix(.stderr_tail))]
    CommandFailed {
        /// The node, as shown in outputs.
        host: String,
        /// The command's label.
        command: String,
        /// How it ended.
        status: ExitStatus,
        /// The last lines of its stderr (at most 10 lines / 2 KiB).
        stderr_tail: String,
        /// All it produced, captured.
        output: Box<CommandOutput>,
    },
    /// A command ran longer than its timeout; it was stopped.
    #[error("command `{command}` on {host} timed out after {} and was stopped", secs(.after))]
    CommandTimeout {
        /// The node.
        host: String,
        /// The command's label.
        command: String,
        /// The timeout.
        after: Duration,
    },
    /// The command could not be started, or its session broke.
    #[error("command `{command}` on {host}: {message}")]
    Session {
        /// The node.
        host: String,
        /// The command's label.
        command: String,
        /// What went wrong.
        message: String,
    },
    /// A file transfer (push, pull, script upload) failed.
    #[error("`{command}` on {host} failed")]
    Transfer {
        /// The node.
        host: String,
        /// The command's label.
        command: String,
        /// The SFTP module's error.
        source: Arc<crate::sftp::SftpError>,
    },
    /// The output of a command could not be written by its formatter.
    #[error("output of `{command}` on {host} could not be written")]
    Output {
        /// The node.
        host: String,
        /// The command's label.
        command: String,
        /// The write error.
        source: Arc<std::io::Error>,
    },
    /// A local command could not be started or a local file could not be read.
    #[error("local command `{command}` on {host}: {message}")]
    Local {
        /// The node.
        host: String,
        /// The command's label.
        command: String,
        /// What went wrong.
        message: String,
    },
    /// The input given to a command ([`Run::stdin_file`](crate::Run::stdin_file))
    /// cannot be read; the command did not start, or was stopped.
    #[error("input of `{command}` on {host}: {message}")]
    Input {
        /// The node.
        host: String,
        /// The command's label.
        command: String,
        /// What went wrong, naming the file.
        message: String,
    },
    /// The command cannot run on this kind of node.
    #[error("`{command}` cannot run on {host}: {message}")]
    Unsupported {
        /// The node.
        host: String,
        /// The command's label.
        command: String,
        /// Why.
        message: String,
    },
}

fn stderr_suffix(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("; stderr ends with:\n{}", tail.trim_end_matches('\n'))
    }
}

impl SshError {
    /// A short name of the variant, used as the job error's kind in listings.
    pub fn kind(&self) -> &'static str {
        match self {
            SshError::Connect(e) => e.kind(),
            SshError::CommandFailed { .. } => "CommandFailed",
            SshError::CommandTimeout { .. } => "CommandTimeout",
            SshError::Session { .. } => "SessionError",
            SshError::Transfer { .. } => "TransferError",
            SshError::Output { .. } => "OutputError",
            SshError::Local { .. } => "LocalError",
            SshError::Input { .. } => "InputError",
            SshError::Unsupported { .. } => "Unsupported",
        }
    }

    /// The exit status, for [`SshError::CommandFailed`].
    pub fn status(&self) -> Option<&ExitStatus> {
        match self {
            SshError::CommandFailed { status, .. } => Some(status),
            _ => None,
        }
    }
}

impl SshError {
    /// Wraps it as a job error whose kind is [`SshError::kind`] (the core's
    /// blanket `From` would name every variant `SshError`). A failed command's
    /// [brief](asyncjobs_core::JobError::brief), drawn by graphs, is its exit
    /// status and the last line of its stderr.
    pub fn into_job_error(self) -> asyncjobs_core::JobError {
        let brief = match &self {
            SshError::CommandFailed {
                status,
                stderr_tail,
                ..
            } => match stderr_tail
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
            {
                Some(last) => Some(format!("{status}: {last}")),
                None => Some(status.to_string()),
            },
            _ => None,
        };
        let error = asyncjobs_core::JobError::with_kind(self.kind(), self);
        match brief {
            Some(b) => error.with_brief(b),
            None => error,
        }
    }
}
