//! [`Run`]: a shell command line.

use std::sync::Arc;

use async_trait::async_trait;

use super::{common_builders, word_builders, Common, SshCommand};
use crate::context::CommandContext;
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::status::ExitStatus;

/// Runs a command line through the remote user's shell (as `ssh host 'cmd'`),
/// or `sh -c` on a [`LocalNode`](crate::LocalNode).
///
/// [`Run::new`] takes raw shell text (pipes, redirections and variables
/// work); [`arg`](Run::arg) and [`args`](Run::args) append words that are
/// quoted, so they reach the program unchanged; [`Run::argv`] quotes every word.
///
/// ```
/// use asyncjobs_ssh::{Run, SshCommand};
/// let r = Run::new("grep -c").arg("two words").arg("/etc/hosts");
/// assert_eq!(r.command_line(), "grep -c 'two words' /etc/hosts");
/// assert_eq!(Run::argv(["ls", "my dir"]).label(), "ls 'my dir'");
/// ```
#[derive(Clone)]
pub struct Run {
    line: String,
    deferred: Option<Deferred>,
    common: Common,
}

/// Builds the command line when the command starts.
type Deferred = Arc<dyn Fn() -> String + Send + Sync>;

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("line", &self.line)
            .field("deferred", &self.deferred.is_some())
            .field("common", &self.common)
            .finish()
    }
}

impl Run {
    /// A raw shell command line (not quoted).
    pub fn new(command_line: impl Into<String>) -> Self {
        Run {
            line: command_line.into(),
            deferred: None,
            common: Common::default(),
        }
    }

    /// A command line built by `build` when the command starts, e.g. from
    /// [`Variables`](crate::Variables) captured by earlier commands; `label`
    /// names it in listings (the line is not known before). Words appended
    /// with [`arg`](Run::arg) follow the built line.
    ///
    /// ```
    /// use asyncjobs_ssh::{shell_quote, Run, SshCommand, Variables};
    /// let vars = Variables::new();
    /// let v = vars.clone();
    /// let ping = Run::deferred("ping the captured host", move || {
    ///     format!("ping -c1 {}", shell_quote(&v.get("host").unwrap_or_default()))
    /// });
    /// vars.set("host", "web 1");
    /// assert_eq!(ping.label(), "ping the captured host");
    /// assert_eq!(ping.command_line(), "ping -c1 'web 1'");
    /// ```
    pub fn deferred(
        label: impl Into<String>,
        build: impl Fn() -> String + Send + Sync + 'static,
    ) -> Self {
        Run {
            line: String::new(),
            deferred: Some(Arc::new(build)),
            common: Common::default(),
        }
        .with_label(label)
    }

    /// A program and its arguments, every word quoted.
    pub fn argv<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Run::new("").args(words)
    }

    /// The command line sent to the shell (for a deferred command: built now,
    /// followed by the words appended with `arg`/`raw_arg`).
    pub fn command_line(&self) -> String {
        match &self.deferred {
            None => self.line.clone(),
            Some(build) if self.line.is_empty() => build(),
            Some(build) => format!("{} {}", build(), self.line),
        }
    }
}

common_builders!(Run);
word_builders!(Run, line);

#[async_trait]
impl SshCommand for Run {
    fn label(&self) -> String {
        self.common
            .label
            .clone()
            .unwrap_or_else(|| self.line.clone())
    }
    fn allowed_exits(&self) -> &[ExitStatus] {
        &self.common.allowed
    }
    fn capture_target(&self) -> Option<(&crate::Variables, &str)> {
        self.common.capture_target()
    }
    async fn run(&self, ctx: &CommandContext<'_>) -> Result<CommandOutput, SshError> {
        ctx.shell_with(&self.label(), &self.command_line(), self.common.shell())
            .await
    }
}
