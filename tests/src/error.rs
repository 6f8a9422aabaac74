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
    /// An sshd process exited while the testbed was starting.
    #[error("sshd #{index} exited during start-up ({status}); sshd log:\n{log}")]
    SshdExited {
        /// Which sshd of the testbed (0-based).
        index: usize,
        /// Its exit status.
        status: String,
        /// The sshd logs of the testbed.
        log: String,
    },
    /// Some listen addresses never started accepting connections.
    #[error("sshd not listening after {waited_ms} ms on {pending:?}; sshd log:\n{log}")]
    NotReady {
        /// How long the harness waited.
        waited_ms: u128,
        /// The `ip:port` addresses still not listening.
        pending: Vec<String>,
        /// The sshd logs of the testbed.
        log: String,
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
