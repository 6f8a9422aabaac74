//! [`ExitStatus`]: how a command ended, remote or local.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a command ended: an exit code, or the name of the signal that killed it.
///
/// Signal names are the ones SSH uses (RFC 4254): no `SIG` prefix, e.g. `"TERM"`.
/// `ExitStatus::from(3)` and `ExitStatus::from("TERM")` (or `"SIGTERM"`) build
/// them, which is handy for allowed exits.
///
/// ```
/// use asyncjobs_ssh::ExitStatus;
/// assert!(ExitStatus::Code(0).success());
/// assert_eq!(ExitStatus::from("SIGTERM"), ExitStatus::Signal("TERM".into()));
/// assert_eq!(ExitStatus::from(2).to_string(), "exit code 2");
/// assert_eq!(ExitStatus::from("KILL").to_string(), "killed by signal KILL");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// The command exited with this code.
    Code(u32),
    /// The command was killed by this signal (name without `SIG`, e.g. `"TERM"`).
    Signal(String),
}

impl ExitStatus {
    /// True for exit code 0.
    pub fn success(&self) -> bool {
        matches!(self, ExitStatus::Code(0))
    }

    /// The exit code, if the command exited.
    pub fn code(&self) -> Option<u32> {
        match self {
            ExitStatus::Code(c) => Some(*c),
            ExitStatus::Signal(_) => None,
        }
    }

    /// The signal name, if the command was killed by a signal.
    pub fn signal(&self) -> Option<&str> {
        match self {
            ExitStatus::Code(_) => None,
            ExitStatus::Signal(s) => Some(s),
        }
    }

    /// The signal number's name for a local process (e.g. 15 → `"TERM"`).
    pub(crate) fn from_signal_number(n: i32) -> ExitStatus {
        let name = nix::sys::signal::Signal::try_from(n)
            .map(|s| s.as_str().trim_start_matches("SIG").to_string())
            .unwrap_or_else(|_| n.to_string());
        ExitStatus::Signal(name)
    }
}

impl From<u32> for ExitStatus {
    fn from(code: u32) -> Self {
        ExitStatus::Code(code)
    }
}

impl From<&str> for ExitStatus {
    fn from(name: &str) -> Self {
        ExitStatus::Signal(name.trim_start_matches("SIG").to_string())
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit code {c}"),
            ExitStatus::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}
