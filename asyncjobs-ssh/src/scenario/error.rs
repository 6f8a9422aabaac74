//! The one error type of scenario files: `file:line: job `x`: message`.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, broadly (the message says exactly what).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file cannot be read (missing, unreadable, not UTF-8).
    Read,
    /// The file goes over a [`Limits`](super::Limits) bound (size, nesting,
    /// line length, alias expansion, jobs after fan-out).
    Limit,
    /// The Jinja template (`.j2`) does not render.
    Template,
    /// Not valid TOML or YAML, or a field of the wrong type or unknown.
    Syntax,
    /// Well-formed but wrong: unknown node or job, cycle, missing command,
    /// bad node set, a local file that does not exist...
    Invalid,
    /// A node cannot be built (its host is not resolved by ssh_config...).
    Node,
}

/// An error in a scenario file, naming the file, the line (when known) and
/// the job, group or node concerned; displayed as
/// ``s.toml:12: job `deploy`: unknown node `web` (did you mean `web1`?)``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScenarioError {
    file: PathBuf,
    line: usize,
    what: Option<String>,
    kind: ErrorKind,
    message: String,
}

impl ScenarioError {
    /// An error of `kind` on `line` (0 when unknown) about `what` (e.g. ``job `deploy` ``).
    pub fn new(
        kind: ErrorKind,
        file: &Path,
        line: usize,
        what: Option<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            file: file.to_path_buf(),
            line,
            what,
            kind,
            message: message.into(),
        }
    }

    /// An [`ErrorKind::Invalid`] error.
    pub(crate) fn invalid(
        file: &Path,
        line: usize,
        what: Option<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::new(ErrorKind::Invalid, file, line, what, message)
    }

    /// The scenario file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        (self.line > 0).then_some(self.line)
    }

    /// The job, group or node concerned (``job `deploy` ``), when there is one.
    pub fn what(&self) -> Option<&str> {
        self.what.as_deref()
    }

    /// The kind of problem.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message alone, without file, line and job.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn render(&self) -> String {
        struct R<'a>(&'a ScenarioError);
        impl fmt::Display for R<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let e = self.0;
                write!(f, "{}", e.file.display())?;
                if e.line > 0 {
                    write!(f, ":{}", e.line)?;
                }
                if let Some(w) = &e.what {
                    write!(f, ": {w}")?;
                }
                write!(f, ": {}", e.message)
            }
        }
        R(self).to_string()
    }
}
