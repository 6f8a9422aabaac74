//! [`Pull`]: remote files and directory trees to this machine, over SFTP.

use std::path::PathBuf;

use async_trait::async_trait;

use super::transfer::{paths_label, run_transfer, transfer_builders};
use super::SshCommand;
use crate::context::CommandContext;
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::sftp::{copy_local, expand_home, pull, TransferOptions};

/// Copies remote files and directories (recursively by default) to a local
/// path, like `scp -r` (see the [`sftp`](crate::sftp) module). Relative remote
/// paths are under the login home.
///
/// On a [`LocalNode`](crate::LocalNode) it is a local copy with the same
/// rules; the sources are then relative to the current directory (where
/// local commands run), `~/` meaning the home directory.
///
/// The server is not trusted (see [what it cannot make a transfer
/// do](crate::sftp#what-a-server-cannot-make-a-transfer-do)): nothing is
/// written outside the destination and no existing link is followed (a link
/// in the way is replaced); the server's links are recreated as links; a name
/// listed twice, or two sources with one name, fail the command; each file
/// stops at its announced size and at [`max_file_size`](Self::max_file_size)
/// bytes (1 GiB by default); listings stop at 100,000 entries; a file is
/// renamed into place only when complete, so a failure leaves no partial
/// file.
///
/// ```
/// use asyncjobs_ssh::{Pull, SshCommand};
/// let p = Pull::new(["/var/log/app.log"], "logs/web1/");
/// assert_eq!(p.label(), "Pull: /var/log/app.log into logs/web1/");
/// ```
#[derive(Debug, Clone)]
pub struct Pull {
    remote: Vec<String>,
    local: PathBuf,
    options: TransferOptions,
    label: Option<String>,
    timeout: Option<std::time::Duration>,
}

impl Pull {
    /// Copies `remote_paths` into `local` (a directory, or the new name of a single source).
    pub fn new<I, S>(remote_paths: I, local: impl Into<PathBuf>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Pull {
            remote: remote_paths.into_iter().map(Into::into).collect(),
            local: local.into(),
            options: TransferOptions::default(),
            label: None,
            timeout: None,
        }
    }
}

transfer_builders!(Pull);

impl Pull {
    /// Caps the bytes accepted per file (default
    /// [`DEFAULT_MAX_FILE_SIZE`](crate::sftp::DEFAULT_MAX_FILE_SIZE), 1 GiB);
    /// see [`TransferOptions::max_file_size`]. Set it after
    /// [`options`](Self::options), which replaces it.
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.options.max_file_size = Some(bytes);
        self
    }

    /// Removes the cap on bytes per file: a server can then fill the disk.
    pub fn unlimited_file_size(mut self) -> Self {
        self.options.max_file_size = None;
        self
    }
}

#[async_trait]
impl SshCommand for Pull {
    fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| {
            format!(
                "Pull: {} into {}",
                paths_label(&self.remote),
                self.local.display()
            )
        })
    }
    async fn run(&self, ctx: &CommandContext<'_>) -> Result<CommandOutput, SshError> {
        run_transfer(
            ctx,
            self,
            self.timeout,
            || async {
                let sources: Vec<PathBuf> = self.remote.iter().map(|p| expand_home(p)).collect();
                let cap = self.options.max_file_size;
                copy_local(&sources, &self.local, &self.options, cap).await
            },
            |sftp| async move { pull(&sftp, &self.remote, &self.local, &self.options).await },
        )
        .await
    }
}
