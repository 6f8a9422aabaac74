//! `push`: local files and trees to the remote host.

use std::{
    fs::Metadata,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    sync::Arc,
};

use russh_sftp::client::SftpSession;

use super::error::{local, remote, shown};
use super::remote::{
    ensure_dir, join, mkdir_p, normalize, not_a_dir, parent, set_attributes, stat, MAX_DEPTH,
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
    if local_paths.is_empty() {
        return Err(SftpError::InvalidPath {
            side: Side::Local,
            path: String::new(),
            reason: "no source path given",
        });
    }
    let mut sources = Vec::with_capacity(local_paths.len());
    for path in local_paths {
        let md = local_metadata(path, opts.follow_symlinks).await?;
        if md.is_dir() && !opts.recursive {
            return Err(SftpError::IsADirectory {
                side: Side::Local,
                path: shown(path),
            });
        }
        let name = source_name(path).await?;
        sources.push((path.clone(), md, name));
    }

    let dest = normalize(remote_dir_or_path);
    let wants_dir = sources.len() > 1 || remote_dir_or_path.ends_with('/');
    let into_dir = match stat(sftp, &dest, true).await? {
        Some(md) if md.file_type().is_dir() => true,
        Some(_) if wants_dir || sources[0].1.is_dir() => {
            return Err(not_a_dir(Op::CopyInto, &dest));
        }
        Some(_) => false,
        None if wants_dir => {
            mkdir_p(sftp, &dest).await?;
            true
        }
        None => {
            mkdir_p(sftp, &parent(&dest)).await?;
            false
        }
    };

    let mut stats = TransferStats::default();
    for (path, md, name) in sources {
        let target = if into_dir {
            join(&dest, &name)
        } else {
            dest.clone()
        };
        push_tree(sftp, path, md, target, opts, &mut stats).await?;
    }
    Ok(stats)
}

/// Work items of the depth-first walk (an explicit stack: no async recursion).
enum Task {
    Copy {
        local: PathBuf,
        md: Metadata,
        remote: String,
        /// (device, inode) of the directories above, to detect link loops.
        ancestors: Arc<Vec<(u64, u64)>>,
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
    opts: &TransferOptions,
    stats: &mut TransferStats,
) -> Result<(), SftpError> {
    let mut stack = vec![Task::Copy {
        local: local_path,
        md,
        remote: remote_path,
        ancestors: Arc::new(Vec::new()),
    }];
    while let Some(task) = stack.pop() {
        let (local_path, md, remote_path, ancestors) = match task {
            Task::FinishDir { md, remote } => {
                let times = opts
                    .preserve
                    .then(|| (clamp_time(md.atime()), clamp_time(md.mtime())));
                set_attributes(sftp, &remote, md.mode(), times).await?;
                continue;
            }
            Task::Copy {
                local,
                md,
                remote,
                ancestors,
            } => (local, md, remote, ancestors),
        };
        let kind = md.file_type();
        if kind.is_file() {
            stats.bytes += upload_file(
                sftp,
                &local_path,
                &md,
                &remote_path,
                CreateMode::Overwrite,
                md.mode(),
                opts.preserve,
            )
            .await?;
            stats.files += 1;
        } else if kind.is_symlink() {
            push_symlink(sftp, &local_path, &remote_path).await?;
            stats.symlinks += 1;
        } else if kind.is_dir() {
            let id = (md.dev(), md.ino());
            if ancestors.contains(&id) || ancestors.len() >= MAX_DEPTH {
                return Err(SftpError::SymlinkLoop {
                    side: Side::Local,
                    path: shown(&local_path),
                    max_depth: MAX_DEPTH,
                });
            }
            ensure_dir(sftp, &remote_path).await?;
            stats.dirs += 1;
            let mut below = Vec::with_capacity(ancestors.len() + 1);
            below.extend_from_slice(&ancestors);
            below.push(id);
            let below = Arc::new(below);
            let children = list_dir(&local_path).await?;
            stack.push(Task::FinishDir {
                md,
                remote: remote_path.clone(),
            });
            // Reversed so the stack pops them in name order.
            for (child, name) in children.into_iter().rev() {
                let child_md = local_metadata(&child, opts.follow_symlinks).await?;
                stack.push(Task::Copy {
                    local: child,
                    md: child_md,
                    remote: join(&remote_path, &name),
                    ancestors: below.clone(),
                });
            }
        } else {
            stats.skipped.push(shown(&local_path));
        }
    }
    Ok(())
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

/// Metadata of a local path, following links if `follow`.
pub(crate) async fn local_metadata(path: &Path, follow: bool) -> Result<Metadata, SftpError> {
    let md = if follow {
        tokio::fs::metadata(path).await
    } else {
        tokio::fs::symlink_metadata(path).await
    };
    md.map_err(|e| local(Op::Stat, path, e))
}

/// The entries of local directory `dir` with their UTF-8 names, sorted by name.
pub(crate) async fn list_dir(dir: &Path) -> Result<Vec<(PathBuf, String)>, SftpError> {
    let mut entries = tokio::fs::read_dir(dir)
        .await
        .map_err(|e| local(Op::ReadDir, dir, e))?;
    let mut children = Vec::new();
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|e| local(Op::ReadDir, dir, e))?
    {
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| SftpError::NonUtf8Path { path: path.clone() })?;
        children.push((path, name));
    }
    children.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(children)
}

/// The name a source gets inside a destination directory: its last
/// component, or that of its canonical form for `.`, `..` and the like.
pub(crate) async fn source_name(path: &Path) -> Result<String, SftpError> {
    let name = match path.file_name() {
        Some(name) => name.to_owned(),
        None => {
            let canonical = tokio::fs::canonicalize(path)
                .await
                .map_err(|e| local(Op::Stat, path, e))?;
            canonical
                .file_name()
                .ok_or_else(|| SftpError::InvalidPath {
                    side: Side::Local,
                    path: shown(path),
                    reason: "the file-system root cannot be copied under a name",
                })?
                .to_owned()
        }
    };
    name.into_string().map_err(|_| SftpError::NonUtf8Path {
        path: path.to_path_buf(),
    })
}
