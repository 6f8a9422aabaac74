//! [`RunString`]: a script given as text, installed on the node and run with arguments.

use std::path::PathBuf;

use async_trait::async_trait;

use super::installed::{run_installed, Installed};
use super::{common_builders, word_builders, Common, SshCommand};
use crate::context::CommandContext;
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::sftp::ScriptSource;
use crate::status::ExitStatus;

/// Like [`RunScript`](crate::RunScript), from the script's text: it should
/// start with a `#!` line.
///
/// ```
/// use asyncjobs_ssh::{RunString, SshCommand};
/// let s = RunString::new("#!/bin/sh\n# greet\necho hello \"$1\"\n").arg("world");
/// assert_eq!(s.label(), "RunString: echo hello \"$1\" world");
/// ```
#[derive(Debug, Clone)]
pub struct RunString {
    body: String,
    remote_name: String,
    args: String,
    includes: Vec<PathBuf>,
    common: Common,
}

impl RunString {
    /// The script's text.
    pub fn new(script_body: impl Into<String>) -> Self {
        RunString {
            body: script_body.into(),
            remote_name: String::new(),
            args: String::new(),
            includes: Vec::new(),
            common: Common::default(),
        }
    }
    /// Base name of the installed script (default `script`).
    pub fn remote_name(mut self, name: impl Into<String>) -> Self {
        self.remote_name = name.into();
        self
    }
    /// Installs `file` next to the script.
    pub fn include(mut self, file: impl Into<PathBuf>) -> Self {
        self.includes.push(file.into());
        self
    }
}

common_builders!(RunString);
word_builders!(RunString, args);

/// The first line that is neither blank, a `#!` nor a comment, cut to 30 characters.
fn summary(body: &str) -> String {
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if line.chars().count() > 30 {
        format!("{}...", line.chars().take(30).collect::<String>())
    } else {
        line.to_string()
    }
}

#[async_trait]
impl SshCommand for RunString {
    fn label(&self) -> String {
        if let Some(l) = &self.common.label {
            return l.clone();
        }
        let mut label = format!("RunString: {}", summary(&self.body));
        if !self.args.is_empty() {
            label.push(' ');
            label.push_str(&self.args);
        }
        label
    }
    fn allowed_exits(&self) -> &[ExitStatus] {
        &self.common.allowed
    }
    fn capture_target(&self) -> Option<(&crate::Variables, &str)> {
        self.common.capture_target()
    }
    async fn run(&self, ctx: &CommandContext<'_>) -> Result<CommandOutput, SshError> {
        let installed = Installed {
            source: ScriptSource::Text(self.body.clone()),
            name_hint: &self.remote_name,
            includes: &self.includes,
            args: &self.args,
            shell: self.common.shell(),
        };
        run_installed(ctx, &self.label(), installed).await
    }
}
