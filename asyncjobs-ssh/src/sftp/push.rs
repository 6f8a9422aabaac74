//! `push`: local files and trees to the remote host.

use std::{
    fs::Metadata,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use russh_sftp::client::SftpSession;

use super::error::{local, remote, shown};
use super::local::{
    check_local_sources, landing, local_children_rev, wants_dir, Landing, LocalSource, LoopGuard,
};
use super::remote::{
    ensure_dir, join, mkdir_p, normalize, not_a_dir, parent, set_attributes, stat,
};
use super::stream::{clamp_time, upload_file, CreateMode};
use super::{Op, SftpError, Side, TransferOptions, TransferStats};

/// Copies local files and directories to the remote host, like
/// `scp -r local_paths... host:remote_dir_or_path` (see the [module
/// docs](super) for the exact rules on destinations, modes, times and links).
///
/// `remote_dir_or_path` is relative to the login home unless absolute.
/// Returns what was copied.
pub async fn push(
    sftp: &SftpSession,
    local_paths: &[PathBuf],
    remote_dir_or_path: &str,
    opts: &TransferOptions,
) -> Result<TransferStats, SftpError> {
    let sources = check_local_sources(local_paths, opts).await?;

    let dest = normalize(remote_dir_or_path);
    let wants_dir = wants_dir(sources.len(), remote_dir_or_path);
    let existing = stat(sftp, &dest, true)
        .await?
        .map(|md| md.file_type().is_dir());
    let landing = landing(existing, wants_dir, sources[0].md.is_dir())
        .ok_or_else(|| not_a_dir(Op::CopyInto, &dest))?;
    match landing {
        Landing::Into | Landing::Onto => {}
        Landing::CreateDir => mkdir_p(sftp, &dest).await?,
        Landing::CreateParent => mkdir_p(sftp, &parent(&dest)).await?,
    }
    let into_dir = landing.into_dir();

    let mut stats = TransferStats::default();
    for LocalSource { path, md, name } in sources {
        let target = if into_dir {
            join(&dest, &name)
        } else {
            dest.clone()
        };
        push_tree(sftp, path, md, target, !into_dir, opts, &mut stats).await?;
    }
    Ok(stats)
}

/// Work items of the depth-first walk (an explicit stack: no async recursion).
enum Task {
    Copy {
        local: PathBuf,
        md: Metadata,
        remote: String,
        /// The user named this remote path (the destination of a single
        /// source): a link there is followed, as `scp` does. Any other link
        /// in the way is removed, never written through.
        named: bool,
        /// The directories above, to detect link loops.
        ancestors: LoopGuard,
    },
    /// Set a directory's mode and times once its contents are in place (a
    /// read-only directory would otherwise refuse its own contents).
    FinishDir { md: Metadata, remote: String },
}

async fn push_tree(
    sftp: &SftpSession,
    local_path: PathBuf,
    md: Metadata,
    remote_path: String,
    named: bool,
    opts: &TransferOptions,
    stats: &mut TransferStats,
) -> Result<(), SftpError> {
    let mut stack = vec![Task::Copy {
        local: local_path,
        md,
        remote: remote_path,
        named,
        ancestors: LoopGuard::default(),
    }];
    while let Some(task) = stack.pop() {
        let (local_path, md, remote_path, named, ancestors) = match task {
            Task::FinishDir { md, remote } => {
                let times = opts
                    .preserve
                    .then(|| (clamp_time(md.atime()), clamp_time(md.mtime())));
                set_attributes(sftp, &remote, Some(md.mode()), times).await?;
                continue;
            }
            Task::Copy {
                local,
                md,
                remote,
                named,
                ancestors,
            } => (local, md, remote, named, ancestors),
        };
        let kind = md.file_type();
        if kind.is_file() {
            if !named {
                remove_link(sftp, &remote_path).await?;
            }
            let bytes = upload_file(
                sftp,
                &local_path,
                &md,
                &remote_path,
                CreateMode::Overwrite,
                md.mode(),
                opts.preserve,
            )
            .await?;
            stats.bytes = stats.bytes.saturating_add(bytes);
            stats.files += 1;
        } else if kind.is_symlink() {
            push_symlink(sftp, &local_path, &remote_path).await?;
            stats.symlinks += 1;
        } else if kind.is_dir() {
            let below = ancestors.enter(&md, &local_path)?;
            if !named {
                remove_link(sftp, &remote_path).await?;
            }
            ensure_dir(sftp, &remote_path).await?;
            stats.dirs += 1;
            let children = local_children_rev(&local_path, opts.follow_symlinks).await?;
            stack.push(Task::FinishDir {
                md,
                remote: remote_path.clone(),
            });
            for (child, name, child_md) in children {
                stack.push(Task::Copy {
                    local: child,
                    md: child_md,
                    remote: join(&remote_path, &name),
                    named: false,
                    ancestors: below.clone(),
                });
            }
        } else {
            stats.skipped.push(shown(&local_path));
        }
    }
    Ok(())
}

/// Removes remote `path` if it is a symbolic link, so that what is written
/// there next is not written through it (SFTP v3 has no `O_NOFOLLOW`: this
/// check just before is the best it allows).
async fn remove_link(sftp: &SftpSession, path: &str) -> Result<(), SftpError> {
    match stat(sftp, path, false).await? {
        Some(md) if md.file_type().is_symlink() => sftp
            .remove_file(path)
            .await
            .map_err(|e| remote(Op::Remove, path, e)),
        _ => Ok(()),
    }
}

/// Recreates local symbolic link `local_path` at `remote_path`, replacing a
/// file or link already there.
async fn push_symlink(
    sftp: &SftpSession,
    local_path: &Path,
    remote_path: &str,
) -> Result<(), SftpError> {
    let target = tokio::fs::read_link(local_path)
        .await
        .map_err(|e| local(Op::ReadLink, local_path, e))?;
    let target = target
        .to_str()
        .ok_or_else(|| SftpError::NonUtf8Path {
            path: local_path.to_path_buf(),
        })?
        .to_owned();
    match stat(sftp, remote_path, false).await? {
        Some(md) if md.file_type().is_dir() => {
            return Err(SftpError::DirectoryInTheWay {
                side: Side::Remote,
                path: remote_path.to_owned(),
            })
        }
        Some(_) => sftp
            .remove_file(remote_path)
            .await
            .map_err(|e| remote(Op::Remove, remote_path, e))?,
        None => {}
    }
    // OpenSSH's sftp-server takes (target, link) — the reverse of the draft.
    sftp.symlink(target, remote_path)
        .await
        .map_err(|e| remote(Op::Symlink, remote_path, e))
}
