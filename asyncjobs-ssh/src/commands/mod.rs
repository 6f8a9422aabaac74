//! Commands an [`SshJob`](crate::SshJob) runs, one module each, same shape:
//! a builder, a label, allowed exits, and `run` on a [`CommandContext`].

use async_trait::async_trait;

use crate::context::CommandContext;
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::status::ExitStatus;

mod installed;
mod pull;
mod push;
mod run;
mod script;
mod string;
mod transfer;

pub use pull::Pull;
pub use push::Push;
pub use run::Run;
pub use script::RunScript;
pub use string::RunString;

/// One step of an [`SshJob`](crate::SshJob). Implement it for commands of your
/// own out of [`CommandContext::shell`] and [`CommandContext::sftp`].
#[async_trait]
pub trait SshCommand: Send + Sync + 'static {
    /// The label shown in listings, outputs and errors.
    fn label(&self) -> String;

    /// Statuses besides 0 that count as success (exit codes or signal names).
    fn allowed_exits(&self) -> &[ExitStatus] {
        &[]
    }

    /// Where the command's stdout goes when it succeeds (see [`Run::capture`]); none by default.
    fn capture_target(&self) -> Option<(&crate::Variables, &str)> {
        None
    }

    /// Runs the command; returns its status and output (a non-zero status is
    /// not an error here: the job judges it against [`allowed_exits`](Self::allowed_exits)).
    async fn run(&self, ctx: &CommandContext<'_>) -> Result<CommandOutput, SshError>;
}

/// Options every shell-running command has.
#[derive(Debug, Clone, Default)]
pub(crate) struct Common {
    pub label: Option<String>,
    pub allowed: Vec<ExitStatus>,
    pub timeout: Option<std::time::Duration>,
    pub capture: Option<crate::variables::Capture>,
    pub x11: Option<crate::x11::X11Forward>,
    pub stdin: crate::stdin::Stdin,
}

impl Common {
    /// Where stdout goes on success, for [`SshCommand::capture_target`].
    pub fn capture_target(&self) -> Option<(&crate::Variables, &str)> {
        self.capture.as_ref().map(|c| (&c.vars, c.name.as_str()))
    }

    /// How the shell runs the command line.
    pub fn shell(&self) -> crate::context::ShellSpec<'_> {
        crate::context::ShellSpec {
            timeout: self.timeout,
            x11: self.x11.as_ref(),
            stdin: &self.stdin,
        }
    }
}

/// Appends `text` to a command line or argument string, after a space unless it is empty.
pub(crate) fn push_word(line: &mut String, text: &str) {
    if !line.is_empty() {
        line.push(' ');
    }
    line.push_str(text);
}

/// `arg`, `args` and `raw_arg`, shared by `Run`, `RunScript` and `RunString`:
/// they append shell words to the `String` field `$field`.
macro_rules! word_builders {
    ($t:ty, $field:ident) => {
        impl $t {
            /// Appends one word, quoted: it reaches the program unchanged.
            pub fn arg(self, word: impl AsRef<str>) -> Self {
                let quoted = $crate::quote::shell_quote(word.as_ref());
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
                $crate::commands::push_word(&mut self.$field, text.as_ref());
                self
            }
        }
    };
}
pub(crate) use word_builders;

/// Builder methods shared by `Run`, `RunScript` and `RunString`.
macro_rules! common_builders {
    ($t:ty) => {
        impl $t {
            /// Replaces the default label.
            pub fn with_label(mut self, label: impl Into<String>) -> Self {
                self.common.label = Some(label.into());
                self
            }
            /// Adds statuses that count as success besides 0: exit codes (`3`) or
            /// signal names (`"TERM"`).
            pub fn allow_exits<I, E>(mut self, statuses: I) -> Self
            where
                I: IntoIterator<Item = E>,
                E: Into<$crate::ExitStatus>,
            {
                self.common
                    .allowed
                    .extend(statuses.into_iter().map(Into::into));
                self
            }
            /// Stores the command's stdout (one trailing newline removed) in
            /// `vars` under `name` when it succeeds, for later commands.
            pub fn capture(mut self, vars: &$crate::Variables, name: impl Into<String>) -> Self {
                self.common.capture = Some($crate::variables::Capture {
                    vars: vars.clone(),
                    name: name.into(),
                });
                self
            }
            /// What the command reads on its standard input: these bytes, then
            /// end-of-file. By default it reads end-of-file at once (as with
            /// `ssh -n`), so a command that reads its input never waits for
            /// input nobody sends. The bytes are shared, not copied, by clones.
            pub fn stdin(mut self, input: impl Into<$crate::Stdin>) -> Self {
                self.common.stdin = input.into();
                self
            }
            /// The command reads this local file on its standard input, then
            /// end-of-file. The file is opened when the command starts: if it
            /// cannot be, the command fails without running
            /// ([`SshError::Input`](crate::SshError::Input)).
            pub fn stdin_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
                self.common.stdin = $crate::Stdin::File(path.into());
                self
            }
            /// Stops the command after `timeout` (overrides the job's command timeout).
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.common.timeout = Some(timeout);
                self
            }
            /// Forwards X11 for the command on an SSH node, as `ssh -X`: the
            /// server sets `DISPLAY` (e.g. `localhost:10.0`) and the X clients
            /// the command starts are shown on the local display, `$DISPLAY`
            /// unless [`x11_display`](Self::x11_display) says otherwise. The
            /// server gets a random cookie, never the local display's; X
            /// clients that do not present it are refused. Without a local
            /// display, X clients are refused with a message on the job's
            /// stderr. The command fails if the server refuses forwarding
            /// (`X11Forwarding no`, no `xauth` there). On a `LocalNode` the
            /// command already runs on the local display: nothing changes.
            pub fn x11(mut self, forward: bool) -> Self {
                self.common.x11 = forward.then(|| self.common.x11.take().unwrap_or_default());
                self
            }
            /// Forwards X11 (see [`x11`](Self::x11)) to this local display
            /// instead of `$DISPLAY`: `:0`, `unix:0`, `host:0` (each with an
            /// optional `.screen`) or the path of the display's socket. On a
            /// `LocalNode`, the command's `DISPLAY` is set to it.
            pub fn x11_display(mut self, display: impl Into<String>) -> Self {
                self.common.x11 = Some($crate::x11::X11Forward {
                    display: Some(display.into()),
                });
                self
            }
        }
    };
}
pub(crate) use common_builders;
