//! Why a config cannot be used ([`ConfigError`]), and what it asks for that
//! is not done but safe to skip ([`ConfigWarning`]).

use std::fmt;
use std::path::PathBuf;

/// A config file that cannot be used, or a host it cannot resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A config file cannot be read: missing (`-F`), unreadable, not a
    /// regular file, larger than the limit, or unsafe permissions.
    #[error("cannot read ssh config {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A line is wrong: unknown keyword, bad value, unsupported `Match`
    /// criterion, an `Include` over the limits, an expansion that fails.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A setting in effect for a host asks for something this crate does
    /// not do, and doing without it would change where or how securely the
    /// connection is made.
    #[error(
        "{}:{line}: `{setting}` applies to {host} but is not supported: {why}",
        path.display()
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// The keyword and its value.
        setting: String,
        /// The host it applies to.
        host: String,
        /// What is not supported.
        why: String,
    },
    /// A host cannot be resolved: a jump host loop or a chain too long.
    #[error("ssh config for {host}: {message}")]
    Host {
        /// The host as given.
        host: String,
        /// What is wrong.
        message: String,
    },
}

/// A setting in effect for a host that this crate does not act on, where
/// doing without it is safe (ports not forwarded, no connection sharing,
/// ...): the CLI prints these; a library user finds them in
/// [`HostConfig::warnings`](super::HostConfig::warnings).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConfigWarning {
    /// The file.
    pub path: PathBuf,
    /// The line (1-based).
    pub line: usize,
    /// The keyword, as written.
    pub keyword: String,
    /// Its value.
    pub value: String,
    /// What is not done.
    pub why: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{} {}` ignored: {}",
            self.path.display(),
            self.line,
            self.keyword,
            self.value,
            self.why
        )
    }
}
