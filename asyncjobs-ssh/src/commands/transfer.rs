//! What [`Push`](super::Push) and [`Pull`](super::Pull) share: their builder
//! options, the label of a list of paths, and how a transfer runs on either
//! kind of node.

use std::future::Future;
use std::time::Instant;

use super::SshCommand;
use crate::anynode::Node;
use crate::context::{CommandContext, Sftp};
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::sftp::{SftpError, TransferStats};
use crate::status::ExitStatus;

/// The sources shown in a label: the only one, or the first and how many.
pub(crate) fn paths_label(paths: &[String]) -> String {
    match paths {
        [] => "nothing".into(),
        [one] => one.clone(),
        [first, ..] => format!("{first} ... ({} total)", paths.len()),
    }
}

/// Builder methods shared by `Push` and `Pull` (fields `options`, `label`, `timeout`).
macro_rules! transfer_builders {
    ($t:ty) => {
        impl $t {
            /// Transfer options (recursion, times, links).
            pub fn options(mut self, options: $crate::sftp::TransferOptions) -> Self {
                self.options = options;
                self
            }
            /// Replaces the default label.
            pub fn with_label(mut self, label: impl Into<String>) -> Self {
                self.label = Some(label.into());
                self
            }
            /// Stops the transfer after `timeout` (overrides the job's command
            /// timeout) with [`SshError::CommandTimeout`](crate::SshError::CommandTimeout);
            /// files already copied stay; a local file being written is
            /// removed (what had its name stays as it was), a remote one is
            /// left partial.
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.timeout = Some(timeout);
                self
            }
        }
    };
}
pub(crate) use transfer_builders;

/// Runs `command`'s transfer: `local` (a local copy) on a `LocalNode`,
/// `remote` on an SFTP session otherwise. Errors are reported with the
/// command's label; a finished transfer is a status 0 without output.
pub(crate) async fn run_transfer<L, LF, R, RF>(
    ctx: &CommandContext<'_>,
    command: &impl SshCommand,
    timeout: Option<std::time::Duration>,
    local: L,
    remote: R,
) -> Result<CommandOutput, SshError>
where
    L: FnOnce() -> LF,
    LF: Future<Output = Result<TransferStats, SftpError>>,
    R: FnOnce(Sftp) -> RF,
    RF: Future<Output = Result<TransferStats, SftpError>>,
{
    let start = Instant::now();
    let label = command.label();
    let transfer = async {
        if let Node::Local(_) = ctx.node() {
            local().await.map_err(|e| ctx.transfer(&label, e))
        } else {
            let sftp = ctx.sftp(&label).await?;
            remote(sftp).await.map_err(|e| ctx.transfer(&label, e))
        }
    };
    match timeout.or(ctx.default_timeout()) {
        None => transfer.await?,
        Some(after) => tokio::time::timeout(after, transfer).await.map_err(|_| {
            SshError::CommandTimeout {
                host: ctx.host().to_string(),
                command: label.clone(),
                after,
            }
        })??,
    };
    Ok(CommandOutput {
        command: label,
        status: ExitStatus::Code(0),
        stdout: String::new(),
        stderr: String::new(),
        truncated: false,
        duration: start.elapsed(),
    })
}
