//! `pull`: remote files and trees to this machine.

use std::{
    fs::Permissions,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, UNIX_EPOCH},
};

use russh_sftp::client::{fs::Metadata, SftpSession};

use super::error::{local, remote, shown};
use super::local::{
    check_recursive, ensure_dir, file_target, make_symlink, no_source, prepare_local_dest,
    set_local_times,
};
use super::remote::{
    basename, is_ancestor_or_same, is_plain_name, join, normalize, stat, MAX_DEPTH,
};
use super::stream::{copy, Ends};
use super::{Op, SftpError, Side, TransferOptions, TransferStats};

/// Copies remote files and directories to this machine, like
/// `scp -r host:remote_paths... local_dir_or_path` (see the [module
/// docs](super) for the exact rules on destinations, modes, times and links).
///
/// Remote paths are relative to the login home unless absolute.
/// Returns what was copied.
pub async fn pull(
    sftp: &SftpSession,
    remote_paths: &[String],
    local_dir_or_path: &Path,
    opts: &TransferOptions,
) -> Result<TransferStats, SftpError> {
    if remote_paths.is_empty() {
        return Err(no_source(Side::Remote));
    }
    let mut sources = Vec::with_capacity(remote_paths.len());
    for given in remote_paths {
        let path = normalize(given);
        let md = stat(sftp, &path, opts.follow_symlinks)
            .await?
            .ok_or_else(|| SftpError::RemoteNotFound {
                op: Op::Stat,
                path: path.clone(),
            })?;
        let is_dir = md.file_type().is_dir();
        check_recursive(is_dir, opts, Side::Remote, || path.clone())?;
        let name = source_name(sftp, &path).await?;
        sources.push((path, md, is_dir, name));
    }

    let dest = local_dir_or_path;
    let into_dir = prepare_local_dest(dest, sources.len(), sources[0].2).await?;

    let mut stats = TransferStats::default();
    for (path, md, _, name) in sources {
        let target = if into_dir {
            dest.join(&name)
        } else {
            dest.to_path_buf()
        };
        pull_tree(sftp, path, md, target, opts, &mut stats).await?;
    }
    Ok(stats)
}

/// Where a followed walk really is on the remote host, to detect link loops:
/// `real` is the canonical path of the current directory, `chain` the
/// canonical paths of the directories where earlier links were followed.
#[derive(Clone)]
struct RealPlace {
    real: String,
    chain: Arc<Vec<String>>,
}

/// Work items of the depth-first walk (an explicit stack: no async recursion).
enum Task {
    Copy {
        remote: String,
        md: Metadata,
        local: PathBuf,
        depth: usize,
        place: Option<RealPlace>,
    },
    /// Set a directory's mode and times once its contents are in place.
    FinishDir { md: Metadata, local: PathBuf },
}

async fn pull_tree(
    sftp: &SftpSession,
    remote_path: String,
    md: Metadata,
    local_path: PathBuf,
    opts: &TransferOptions,
    stats: &mut TransferStats,
) -> Result<(), SftpError> {
    let place = if opts.follow_symlinks && md.file_type().is_dir() {
        Some(RealPlace {
            real: canonical(sftp, &remote_path).await?,
            chain: Arc::new(Vec::new()),
        })
    } else {
        None
    };
    let mut stack = vec![Task::Copy {
        remote: remote_path,
        md,
        local: local_path,
        depth: 0,
        place,
    }];
    while let Some(task) = stack.pop() {
        let (remote_path, md, local_path, depth, place) = match task {
            Task::FinishDir { md, local } => {
                finish_local(&local, &md, opts.preserve).await?;
                continue;
            }
            Task::Copy {
                remote,
                md,
                local,
                depth,
                place,
            } => (remote, md, local, depth, place),
        };
        let kind = md.file_type();
        if kind.is_file() {
            let (bytes, regular) = download_file(sftp, &remote_path, &local_path).await?;
            // Writing into an existing device such as /dev/null must not chmod it.
            if regular {
                finish_local(&local_path, &md, opts.preserve).await?;
            }
            stats.bytes += bytes;
            stats.files += 1;
        } else if kind.is_symlink() {
            pull_symlink(sftp, &remote_path, &local_path).await?;
            stats.symlinks += 1;
        } else if kind.is_dir() {
            if depth >= MAX_DEPTH {
                return Err(loop_error(&remote_path));
            }
            ensure_dir(&local_path).await?;
            stats.dirs += 1;
            let entries = sftp
                .read_dir(remote_path.as_str())
                .await
                .map_err(|e| remote(Op::ReadDir, &remote_path, e))?;
            let mut children = Vec::new();
            for entry in entries {
                let name = entry.file_name();
                if !is_plain_name(&name) {
                    return Err(SftpError::InvalidPath {
                        side: Side::Remote,
                        path: join(&remote_path, &name),
                        reason: "the server listed an entry that is not a plain file name",
                    });
                }
                children.push((name, entry.metadata()));
            }
            children.sort_by(|a, b| a.0.cmp(&b.0));
            stack.push(Task::FinishDir {
                md,
                local: local_path.clone(),
            });
            for (name, child_md) in children.into_iter().rev() {
                let child = join(&remote_path, &name);
                let mut child_md = child_md;
                let mut child_place = place.clone().map(|p| RealPlace {
                    real: join(&p.real, &name),
                    chain: p.chain,
                });
                if opts.follow_symlinks && child_md.file_type().is_symlink() {
                    child_md = stat(sftp, &child, true).await?.ok_or_else(|| {
                        SftpError::RemoteNotFound {
                            op: Op::Stat,
                            path: child.clone(),
                        }
                    })?;
                    if child_md.file_type().is_dir() {
                        child_place = Some(enter_link(sftp, &child, place.as_ref()).await?);
                    }
                }
                stack.push(Task::Copy {
                    remote: child,
                    md: child_md,
                    local: local_path.join(&name),
                    depth: depth + 1,
                    place: child_place,
                });
            }
        } else {
            stats.skipped.push(remote_path);
        }
    }
    Ok(())
}

/// Follows directory link `link` found in `parent`: fails if its target
/// contains a directory the walk is already in.
async fn enter_link(
    sftp: &SftpSession,
    link: &str,
    parent: Option<&RealPlace>,
) -> Result<RealPlace, SftpError> {
    let target = canonical(sftp, link).await?;
    let Some(parent) = parent else {
        return Ok(RealPlace {
            real: target,
            chain: Arc::new(Vec::new()),
        });
    };
    let looping = is_ancestor_or_same(&target, &parent.real)
        || parent
            .chain
            .iter()
            .any(|seen| is_ancestor_or_same(&target, seen));
    if looping {
        return Err(loop_error(link));
    }
    let mut chain = Vec::with_capacity(parent.chain.len() + 1);
    chain.extend_from_slice(&parent.chain);
    chain.push(parent.real.clone());
    Ok(RealPlace {
        real: target,
        chain: Arc::new(chain),
    })
}

fn loop_error(path: &str) -> SftpError {
    SftpError::SymlinkLoop {
        side: Side::Remote,
        path: path.to_owned(),
        max_depth: MAX_DEPTH,
    }
}

async fn canonical(sftp: &SftpSession, path: &str) -> Result<String, SftpError> {
    sftp.canonicalize(path)
        .await
        .map_err(|e| remote(Op::Stat, path, e))
}

/// Streams remote file `remote_path` into local `local_path` (created or
/// truncated). Returns the number of bytes copied and whether `local_path` is
/// a regular file (not an existing device, fifo...).
async fn download_file(
    sftp: &SftpSession,
    remote_path: &str,
    local_path: &Path,
) -> Result<(u64, bool), SftpError> {
    let mut src = sftp
        .open(remote_path)
        .await
        .map_err(|e| remote(Op::Open, remote_path, e))?;
    let regular = file_target(local_path).await?;
    let mut dst = tokio::fs::File::create(local_path)
        .await
        .map_err(|e| local(Op::Create, local_path, e))?;
    let to = shown(local_path);
    let bytes = copy(
        &mut src,
        &mut dst,
        Ends {
            from: remote_path,
            from_side: Side::Remote,
            to: &to,
        },
    )
    .await?;
    Ok((bytes, regular))
}

/// Gives local `path` the mode (and, if `preserve`, the times) of remote `md`.
async fn finish_local(path: &Path, md: &Metadata, preserve: bool) -> Result<(), SftpError> {
    let default_mode = if md.file_type().is_dir() {
        0o755
    } else {
        0o644
    };
    let mode = md.permissions.map_or(default_mode, |m| m & 0o7777);
    if preserve {
        let to_time = |secs: Option<u32>| secs.map(|s| UNIX_EPOCH + Duration::from_secs(s.into()));
        if let (Some(atime), Some(mtime)) = (to_time(md.atime), to_time(md.mtime)) {
            set_local_times(path, atime, mtime).await?;
        }
    }
    tokio::fs::set_permissions(path, Permissions::from_mode(mode))
        .await
        .map_err(|e| local(Op::SetAttributes, path, e))
}

/// Recreates remote symbolic link `remote_path` at `local_path`, replacing a
/// file or link already there.
async fn pull_symlink(
    sftp: &SftpSession,
    remote_path: &str,
    local_path: &Path,
) -> Result<(), SftpError> {
    let target = sftp
        .read_link(remote_path)
        .await
        .map_err(|e| remote(Op::ReadLink, remote_path, e))?;
    make_symlink(target, local_path).await
}

/// The name a source gets inside a destination directory: its last
/// component, or that of its canonical form for `.`, `~` and the like.
async fn source_name(sftp: &SftpSession, path: &str) -> Result<String, SftpError> {
    let base = basename(path);
    if is_plain_name(base) {
        return Ok(base.to_owned());
    }
    let canonical = canonical(sftp, path).await?;
    let base = basename(&canonical);
    if is_plain_name(base) {
        Ok(base.to_owned())
    } else {
        Err(SftpError::InvalidPath {
            side: Side::Remote,
            path: path.to_owned(),
            reason: "the file-system root cannot be copied under a name",
        })
    }
}
