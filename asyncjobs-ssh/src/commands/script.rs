//! [`RunScript`]: a local script file, installed on the node and run with arguments.

use std::path::PathBuf;

use async_trait::async_trait;

use super::installed::{run_installed, Installed};
use super::{common_builders, word_builders, Common, SshCommand};
use crate::context::CommandContext;
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::sftp::ScriptSource;
use crate::status::ExitStatus;

/// Uploads a local script (with optional include files placed next to it) to
/// `~/.asyncjobs-remote/` on the node, runs it with arguments, then removes it.
/// The script runs through its `#!` line. On a [`LocalNode`](crate::LocalNode)
/// it is copied, with its includes, into a private temporary directory.
///
/// ```
/// use asyncjobs_ssh::{RunScript, SshCommand};
/// let s = RunScript::new("deploy/setup.sh").arg("--env").arg("prod db").include("deploy/lib.sh");
/// assert_eq!(s.label(), "RunScript: setup.sh --env 'prod db'");
/// ```
#[derive(Debug, Clone)]
pub struct RunScript {
    path: PathBuf,
    args: String,
    includes: Vec<PathBuf>,
    common: Common,
}

impl RunScript {
    /// The local script to run.
    pub fn new(local_script: impl Into<PathBuf>) -> Self {
        RunScript {
            path: local_script.into(),
            args: String::new(),
            includes: Vec::new(),
            common: Common::default(),
        }
    }
    /// Installs `file` next to the script (e.g. a library it sources from `$(dirname "$0")`).
    pub fn include(mut self, file: impl Into<PathBuf>) -> Self {
        self.includes.push(file.into());
        self
    }
}

common_builders!(RunScript);
word_builders!(RunScript, args);

#[async_trait]
impl SshCommand for RunScript {
    fn label(&self) -> String {
        if let Some(l) = &self.common.label {
            return l.clone();
        }
        let name = self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        if self.args.is_empty() {
            format!("RunScript: {name}")
        } else {
            format!("RunScript: {name} {}", self.args)
        }
    }
    fn allowed_exits(&self) -> &[ExitStatus] {
        &self.common.allowed
    }
    fn capture_target(&self) -> Option<(&crate::Variables, &str)> {
        self.common.capture_target()
    }
    async fn run(&self, ctx: &CommandContext<'_>) -> Result<CommandOutput, SshError> {
        let installed = Installed {
            source: ScriptSource::File(self.path.clone()),
            name_hint: "",
            includes: &self.includes,
            args: &self.args,
            shell: self.common.shell(),
        };
        run_installed(ctx, &self.label(), installed).await
    }
}
