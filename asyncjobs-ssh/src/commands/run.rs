//! [`Run`]: a shell command line.

use async_trait::async_trait;

use super::{common_builders, Common, SshCommand};
use crate::context::CommandContext;
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::quote::shell_quote;
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
#[derive(Debug, Clone)]
pub struct Run {
    line: String,
    common: Common,
}

impl Run {
    /// A raw shell command line (not quoted).
    pub fn new(command_line: impl Into<String>) -> Self {
        Run {
            line: command_line.into(),
            common: Common::default(),
        }
    }

    /// A program and its arguments, every word quoted.
    pub fn argv<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Run::new("").args(words)
    }

    /// Appends one word, quoted.
    pub fn arg(self, word: impl AsRef<str>) -> Self {
        let quoted = shell_quote(word.as_ref());
        self.raw_arg(quoted)
    }

    /// Appends words, each quoted.
    pub fn args<I, S>(self, words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        words.into_iter().fold(self, |r, w| r.arg(w))
    }

    /// Appends raw shell text (not quoted), after a space.
    pub fn raw_arg(mut self, text: impl AsRef<str>) -> Self {
        if !self.line.is_empty() {
            self.line.push(' ');
        }
        self.line.push_str(text.as_ref());
        self
    }

    /// The command line sent to the shell.
    pub fn command_line(&self) -> &str {
        &self.line
    }
}

common_builders!(Run);

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
    async fn run(&self, ctx: &CommandContext<'_>) -> Result<CommandOutput, SshError> {
        ctx.shell(&self.label(), &self.line, self.common.timeout)
            .await
    }
}
