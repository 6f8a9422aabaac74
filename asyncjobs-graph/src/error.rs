//! [`GraphError`]: what drawing a scheduler or running graphviz can fail with.

use std::path::PathBuf;
use std::time::Duration;

use asyncjobs_core::SchedulerError;

/// How to get graphviz, repeated wherever its absence is reported.
pub const INSTALL_GRAPHVIZ: &str = "install graphviz, which provides `dot`: \
     `sudo apt-get install -y graphviz` (Debian/Ubuntu; `brew install graphviz` on macOS), \
     or run `cargo xtask test`, which installs it";

/// An error from a dot export or a graphviz rendering.
///
/// Each message says what failed; its cause, when there is one, is the
/// error's `source()`, printed once by a chain printer
/// ([`asyncjobs_core::ErrorChain`], or anyhow's `{:#}`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// The scheduler cannot be put in order (a cycle, or a requirement on a job
    /// of another scheduler), so it cannot be drawn.
    #[error("cannot draw the scheduler, its jobs cannot be ordered")]
    Unordered(#[from] SchedulerError),
    /// Reading a file failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        error: std::io::Error,
    },
    /// Writing a file failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        error: std::io::Error,
    },
    /// The graphviz program was not found.
    #[error("graphviz `{}` was not found: {INSTALL_GRAPHVIZ}", program.display())]
    GraphvizMissing {
        /// The program looked for (`dot` by default).
        program: PathBuf,
    },
    /// The graphviz program could not be started or talked to.
    #[error("cannot run graphviz `{}`", program.display())]
    GraphvizIo {
        /// The program.
        program: PathBuf,
        /// The cause.
        #[source]
        error: std::io::Error,
    },
    /// graphviz rejected its input.
    #[error("graphviz `dot` failed on {input} ({status}): {stderr}")]
    GraphvizFailed {
        /// What was rendered: a path, or `<generated dot>`.
        input: String,
        /// How `dot` exited.
        status: String,
        /// What `dot` printed on stderr.
        stderr: String,
    },
    /// graphviz did not finish in time; it was killed.
    #[error("graphviz `dot` did not finish on {input} within {timeout:?}; it was killed")]
    GraphvizTimeout {
        /// What was rendered.
        input: String,
        /// The time limit.
        timeout: Duration,
    },
}
