//! Errors of the harness: each one says what failed and how to fix it.

use std::path::PathBuf;

/// Why a [`Testbed`](crate::Testbed) could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The OpenSSH server binary is not installed.
    #[error(
        "OpenSSH server not found at {path}: install it with `apt-get install -y openssh-server` \
         (or run the tests through `cargo xtask test`, which installs it)"
    )]
    SshdMissing {
        /// Where the harness looked for `sshd`.
        path: PathBuf,
    },
    /// Another system tool the harness runs is not installed.
    #[error("`{tool}` not found: install it with `apt-get install -y {package}` (or run `cargo xtask test`)")]
    ToolMissing {
        /// The missing program.
        tool: String,
        /// The Debian package that provides it.
        package: String,
    },
    /// The requested configuration cannot be served.
    #[error("invalid testbed configuration: {0}")]
    InvalidConfig(String),
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A helper command (ssh-keygen, useradd, ...) exited with a failure.
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line that failed.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The login account for the sshd could not be found or prepared.
    #[error("login user set-up failed: {0}")]
    User(String),
    /// A server process exited while the testbed was starting.
    #[error("{server} #{index} exited during start-up ({status}); server log:\n{log}")]
    ServerExited {
        /// Which server: `sshd`, `dropbear` or `tinysshd` (its socat listener).
        server: String,
        /// Which process of the testbed (0-based).
        index: usize,
        /// Its exit status.
        status: String,
        /// The server logs of the testbed.
        log: String,
    },
    /// Some listen addresses never started accepting connections.
    #[error("{server} not listening after {waited_ms} ms on {pending:?}; server log:\n{log}")]
    NotReady {
        /// Which server: `sshd`, `dropbear` or `tinysshd`.
        server: String,
        /// How long the harness waited.
        waited_ms: u128,
        /// The `ip:port` addresses still not listening.
        pending: Vec<String>,
        /// The server logs of the testbed.
        log: String,
    },
    /// An IPv6 testbed was asked for, but `::1` cannot be used on this machine.
    #[error(
        "IPv6 loopback [::1] is not usable on this machine, so IPv6 tests cannot run: {reason}"
    )]
    Ipv6Unavailable {
        /// What failed, with the state of the kernel's IPv6 switch for `lo`.
        reason: String,
    },
    /// The server reads `authorized_keys` from the login account's real home,
    /// which the harness only edits for its dedicated account (as root).
    #[error(
        "a {server} testbed must run as root: {server} reads ~/.ssh/authorized_keys from the \
         login account's home, and the harness only edits the dedicated account `{account}`'s"
    )]
    NeedsRoot {
        /// `dropbear` or `tinysshd`.
        server: String,
        /// The dedicated account (`ajtest`).
        account: String,
    },
}

impl HarnessError {
    /// Wraps an I/O error with what the harness was doing.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        HarnessError::Io {
            context: context.into(),
            source,
        }
    }
}
