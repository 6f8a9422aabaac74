//! Running a script that must first be installed on the node (shared by
//! `RunScript` and `RunString`): remotely through the SFTP module into
//! `~/.asyncjobs-remote/`, locally into a private temporary directory; the
//! script is removed once it has run.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::anynode::Node;
use crate::context::{CommandContext, ShellSpec};
use crate::error::SshError;
use crate::output::CommandOutput;
use crate::quote::shell_quote;
use crate::sftp::{upload_script, ScriptSource};

/// A script to install and run.
pub(crate) struct Installed<'a> {
    pub source: ScriptSource,
    pub name_hint: &'a str,
    pub includes: &'a [PathBuf],
    /// Arguments, already shell text.
    pub args: &'a str,
    /// Timeout, X11 and input of the script's run.
    pub shell: ShellSpec<'a>,
}

pub(crate) async fn run_installed(
    ctx: &CommandContext<'_>,
    label: &str,
    s: Installed<'_>,
) -> Result<CommandOutput, SshError> {
    match ctx.node() {
        Node::Ssh(node) => {
            let remote = {
                // the SFTP session (one session slot) is closed before the script runs
                let sftp = ctx.sftp(label).await?;
                upload_script(&sftp, s.name_hint, &s.source, s.includes)
                    .await
                    .map_err(|e| ctx.transfer(label, e))?
            };
            // removed afterwards, even if this run is cancelled (then in the background)
            let conn = node.connection().await?;
            let mut remove = RemoveOnDrop {
                conn,
                path: Some(remote.clone()),
            };
            let out = ctx
                .shell_with(label, &command_line(&remote, s.args), s.shell)
                .await;
            if let Some(path) = remove.path.take() {
                // best effort: a failed clean-up must not hide the command's own outcome
                let _ = ctx.quiet_shell("remove script", &rm_line(&path)).await;
            }
            out
        }
        Node::Local(_) => {
            let local_err = |m: String| SshError::Local {
                host: ctx.host().into(),
                command: label.into(),
                message: m,
            };
            let dir = private_dir()
                .map_err(|e| local_err(format!("cannot create a temporary directory: {e}")))?;
            let result = async {
                let script = install_locally(dir.path(), &s).map_err(local_err)?;
                ctx.shell_with(
                    label,
                    &command_line(&script.to_string_lossy(), s.args),
                    s.shell,
                )
                .await
            }
            .await;
            drop(dir);
            result
        }
    }
}

fn rm_line(path: &str) -> String {
    format!("rm -f -- {}", shell_quote(path))
}

/// Removes the installed script in the background unless disarmed (`path` taken).
struct RemoveOnDrop {
    conn: std::sync::Arc<crate::connection::Connection>,
    path: Option<String>,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            crate::exec::spawn_chore(&self.conn, rm_line(&path));
        }
    }
}

fn command_line(script: &str, args: &str) -> String {
    let script = if script.contains('/') {
        script.to_string()
    } else {
        format!("./{script}")
    };
    if args.is_empty() {
        shell_quote(&script)
    } else {
        format!("{} {args}", shell_quote(&script))
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);
impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn private_dir() -> std::io::Result<TempDir> {
    use std::os::unix::fs::DirBuilderExt;
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "asyncjobs-script-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let path = std::env::temp_dir().join(name);
    std::fs::DirBuilder::new().mode(0o700).create(&path)?;
    Ok(TempDir(path))
}

/// Copies the script (mode 0755) and its includes into `dir`; returns the script's path.
fn install_locally(dir: &Path, s: &Installed<'_>) -> Result<PathBuf, String> {
    for inc in s.includes {
        let name = inc
            .file_name()
            .ok_or_else(|| format!("include {} has no file name", inc.display()))?;
        std::fs::copy(inc, dir.join(name))
            .map_err(|e| format!("include {}: {e}", inc.display()))?;
    }
    let base = match (&s.source, s.name_hint.rsplit('/').next()) {
        (_, Some(h)) if !h.is_empty() => h.to_string(),
        (ScriptSource::File(p), _) => p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let base = if base.is_empty() {
        "script".to_string()
    } else {
        base
    };
    let path = dir.join(format!("{base}.run"));
    match &s.source {
        ScriptSource::File(p) => std::fs::copy(p, &path)
            .map(drop)
            .map_err(|e| format!("script {}: {e}", p.display()))?,
        ScriptSource::Text(t) => {
            std::fs::write(&path, t).map_err(|e| format!("cannot write the script: {e}"))?
        }
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    Ok(path)
}
