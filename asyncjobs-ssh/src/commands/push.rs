//! [`Push`]: local files and directory trees to the node, over SFTP.

use std::path::PathBuf;

use async_trait::async_trait;

use super::transfer::{paths_label, run_transfer, transfer_builders};
use super::SshCommand;
use crate::context::CommandContext;
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::sftp::{copy_local, expand_home, push, TransferOptions};

/// Copies local files and directories (recursively by default) to a remote
/// path, like `scp -r` (see the [`sftp`](crate::sftp) module for the exact
/// rules). Relative remote paths are under the login home.
///
/// On a [`LocalNode`](crate::LocalNode) it is a local copy with the same
/// rules; the destination is then relative to the current directory (where
/// local commands run), `~/` meaning the home directory. A local copy
/// writes as a [`Pull`](crate::Pull) does: below the destination only, no
/// existing link followed, files complete or absent.
///
/// Below the destination, a remote link where a file or directory is to be
/// written is removed first, not written through; file modes are set on the
/// open handle. Each file stops at the size it had when the copy reached it.
///
/// ```
/// use asyncjobs_ssh::{Push, SshCommand};
/// let p = Push::new(["conf/app.toml", "conf/extra"], "/etc/app/");
/// assert_eq!(p.label(), "Push: conf/app.toml ... (2 total) onto /etc/app/");
/// ```
#[derive(Debug, Clone)]
pub struct Push {
    local: Vec<PathBuf>,
    remote: String,
    options: TransferOptions,
    label: Option<String>,
    timeout: Option<std::time::Duration>,
}

impl Push {
    /// Copies `local_paths` onto `remote` (a directory, or the new name of a single source).
    pub fn new<I, P>(local_paths: I, remote: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        Push {
            local: local_paths.into_iter().map(Into::into).collect(),
            remote: remote.into(),
            options: TransferOptions::default(),
            label: None,
            timeout: None,
        }
    }
}

transfer_builders!(Push);

#[async_trait]
impl SshCommand for Push {
    fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| {
            let shown: Vec<String> = self.local.iter().map(|p| p.display().to_string()).collect();
            format!("Push: {} onto {}", paths_label(&shown), self.remote)
        })
    }
    async fn run(&self, ctx: &CommandContext<'_>) -> Result<CommandOutput, SshError> {
        run_transfer(
            ctx,
            self,
            self.timeout,
            || async {
                copy_local(&self.local, &expand_home(&self.remote), &self.options, None).await
            },
            |sftp| async move { push(&sftp, &self.local, &self.remote, &self.options).await },
        )
        .await
    }
}
