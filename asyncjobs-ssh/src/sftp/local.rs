//! `copy_local`: [`Push`](crate::Push) and [`Pull`](crate::Pull) on a
//! [`LocalNode`](crate::LocalNode), where both ends are on this machine: the
//! same rules as [`push`](super::push) and [`pull`](super::pull) (see the
//! [module docs](super)), with local files on both sides.

use std::fs::{FileTimes, Metadata, Permissions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::{local, shown};
use super::push::{list_dir, local_metadata, source_name};
use super::remote::MAX_DEPTH;
use super::{Op, SftpError, Side, TransferOptions, TransferStats};

/// `~` and `~/x` as paths under `$HOME` (as the SFTP side reads them); other
/// paths as they are (relative ones from the current directory, where local
/// commands run).
pub(crate) fn expand_home(path: &str) -> PathBuf {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    match path {
        "~" => home().unwrap_or_else(|| PathBuf::from(path)),
        _ => match (path.strip_prefix("~/"), home()) {
            (Some(rest), Some(h)) => h.join(rest.trim_start_matches('/')),
            _ => PathBuf::from(path),
        },
    }
}

/// Copies local `sources` to local `dest` like `cp -r` with `scp`'s rules:
/// into `dest` if it is a directory (or must be one: several sources, a
/// trailing `/`), else as `dest`. Modes always kept, times with `preserve`,
/// links recreated unless followed, special files skipped. All sources are
/// checked before anything is copied; copying a directory into itself or a
/// file onto itself is refused.
pub(crate) async fn copy_local(
    sources: &[PathBuf],
    dest: &Path,
    opts: &TransferOptions,
) -> Result<TransferStats, SftpError> {
    if sources.is_empty() {
        return Err(SftpError::InvalidPath {
            side: Side::Local,
            path: String::new(),
            reason: "no source path given",
        });
    }
    let mut checked = Vec::with_capacity(sources.len());
    for path in sources {
        let md = local_metadata(path, opts.follow_symlinks).await?;
        if md.is_dir() && !opts.recursive {
            return Err(SftpError::IsADirectory {
                side: Side::Local,
                path: shown(path),
            });
        }
        let name = source_name(path).await?;
        checked.push((path.clone(), md, name));
    }

    let wants_dir = sources.len() > 1 || dest.as_os_str().to_string_lossy().ends_with('/');
    let not_a_dir = || SftpError::NotADirectory {
        op: Op::CopyInto,
        side: Side::Local,
        path: shown(dest),
    };
    let into_dir = match tokio::fs::metadata(dest).await {
        Ok(md) if md.is_dir() => true,
        Ok(_) if wants_dir || checked[0].1.is_dir() => return Err(not_a_dir()),
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let to_create = if wants_dir { Some(dest) } else { dest.parent() };
            if let Some(dir) = to_create.filter(|d| !d.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| local(Op::Mkdir, dir, e))?;
            }
            wants_dir
        }
        Err(e) => return Err(local(Op::Stat, dest, e)),
    };

    let mut targets = Vec::with_capacity(checked.len());
    for (path, md, name) in checked {
        let target = if into_dir {
            dest.join(&name)
        } else {
            dest.to_path_buf()
        };
        refuse_self_copy(&path, &md, &target).await?;
        targets.push((path, md, target));
    }
    let mut stats = TransferStats::default();
    for (path, md, target) in targets {
        copy_tree(path, md, target, opts, &mut stats).await?;
    }
    Ok(stats)
}

/// A directory copied into itself would grow forever; a file copied onto
/// itself would be truncated.
async fn refuse_self_copy(source: &Path, md: &Metadata, target: &Path) -> Result<(), SftpError> {
    if md.is_dir() {
        let canonical = |p: PathBuf| async move { tokio::fs::canonicalize(&p).await.ok() };
        // the target's parent exists by now; the target itself may not
        let target_parent = target.parent().unwrap_or(Path::new("."));
        let parent = if target_parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            target_parent
        };
        if let (Some(src), Some(par)) = (
            canonical(source.to_path_buf()).await,
            canonical(parent.to_path_buf()).await,
        ) {
            let inside = target.file_name().map_or(par.clone(), |n| par.join(n));
            if inside.starts_with(&src) {
                return Err(SftpError::InvalidPath {
                    side: Side::Local,
                    path: shown(target),
                    reason: "a directory cannot be copied into itself",
                });
            }
        }
    } else if let Ok(t) = tokio::fs::metadata(target).await {
        if (t.dev(), t.ino()) == (md.dev(), md.ino()) {
            return Err(SftpError::InvalidPath {
                side: Side::Local,
                path: shown(target),
                reason: "source and destination are the same file",
            });
        }
    }
    Ok(())
}

/// Work items of the depth-first walk (an explicit stack: no async recursion).
enum Task {
    Copy {
        from: PathBuf,
        md: Metadata,
        to: PathBuf,
        /// (device, inode) of the directories above, to detect link loops.
        ancestors: Arc<Vec<(u64, u64)>>,
    },
    /// Set a directory's mode and times once its contents are in place.
    FinishDir { md: Metadata, to: PathBuf },
}

async fn copy_tree(
    from: PathBuf,
    md: Metadata,
    to: PathBuf,
    opts: &TransferOptions,
    stats: &mut TransferStats,
) -> Result<(), SftpError> {
    let mut stack = vec![Task::Copy {
        from,
        md,
        to,
        ancestors: Arc::new(Vec::new()),
    }];
    while let Some(task) = stack.pop() {
        let (from, md, to, ancestors) = match task {
            Task::FinishDir { md, to } => {
                finish(&to, &md, opts.preserve).await?;
                continue;
            }
            Task::Copy {
                from,
                md,
                to,
                ancestors,
            } => (from, md, to, ancestors),
        };
        let kind = md.file_type();
        if kind.is_file() {
            let (bytes, regular) = copy_file(&from, &to).await?;
            // writing into an existing device such as /dev/null must not chmod it
            if regular {
                finish(&to, &md, opts.preserve).await?;
            }
            stats.bytes += bytes;
            stats.files += 1;
        } else if kind.is_symlink() {
            copy_symlink(&from, &to).await?;
            stats.symlinks += 1;
        } else if kind.is_dir() {
            let id = (md.dev(), md.ino());
            if ancestors.contains(&id) || ancestors.len() >= MAX_DEPTH {
                return Err(SftpError::SymlinkLoop {
                    side: Side::Local,
                    path: shown(&from),
                    max_depth: MAX_DEPTH,
                });
            }
            ensure_dir(&to).await?;
            stats.dirs += 1;
            let mut below = Vec::with_capacity(ancestors.len() + 1);
            below.extend_from_slice(&ancestors);
            below.push(id);
            let below = Arc::new(below);
            let children = list_dir(&from).await?;
            stack.push(Task::FinishDir { md, to: to.clone() });
            // reversed so the stack pops them in name order
            for (child, name) in children.into_iter().rev() {
                let child_md = local_metadata(&child, opts.follow_symlinks).await?;
                stack.push(Task::Copy {
                    from: child,
                    md: child_md,
                    to: to.join(&name),
                    ancestors: below.clone(),
                });
            }
        } else {
            stats.skipped.push(shown(&from));
        }
    }
    Ok(())
}

/// Copies the contents of `from` into `to` (created or truncated). Returns
/// the bytes copied and whether `to` is a regular file.
async fn copy_file(from: &Path, to: &Path) -> Result<(u64, bool), SftpError> {
    let regular = match tokio::fs::metadata(to).await {
        Ok(md) if md.is_dir() => {
            return Err(SftpError::DirectoryInTheWay {
                side: Side::Local,
                path: shown(to),
            })
        }
        Ok(md) => md.is_file(),
        Err(_) => true,
    };
    let mut src = tokio::fs::File::open(from)
        .await
        .map_err(|e| local(Op::Open, from, e))?;
    let mut dst = tokio::fs::File::create(to)
        .await
        .map_err(|e| local(Op::Create, to, e))?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    let failed = |op, side, source, bytes| SftpError::Transfer {
        op,
        side,
        from: shown(from),
        to: shown(to),
        bytes,
        source,
    };
    loop {
        let n = src
            .read(&mut buf)
            .await
            .map_err(|e| failed(Op::Read, Side::Local, e, bytes))?;
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n])
            .await
            .map_err(|e| failed(Op::Write, Side::Local, e, bytes))?;
        bytes += n as u64;
    }
    dst.flush()
        .await
        .map_err(|e| failed(Op::Write, Side::Local, e, bytes))?;
    Ok((bytes, regular))
}

/// Gives `to` the mode (and, if `preserve`, the times) of `md`.
async fn finish(to: &Path, md: &Metadata, preserve: bool) -> Result<(), SftpError> {
    if preserve {
        let times = FileTimes::new()
            .set_accessed(UNIX_EPOCH + Duration::from_secs(md.atime().max(0) as u64))
            .set_modified(UNIX_EPOCH + Duration::from_secs(md.mtime().max(0) as u64));
        let owned = to.to_path_buf();
        let result =
            tokio::task::spawn_blocking(move || std::fs::File::open(&owned)?.set_times(times))
                .await
                .unwrap_or_else(|join| Err(std::io::Error::other(join)));
        result.map_err(|e| local(Op::SetAttributes, to, e))?;
    }
    tokio::fs::set_permissions(to, Permissions::from_mode(md.mode() & 0o7777))
        .await
        .map_err(|e| local(Op::SetAttributes, to, e))
}

/// Makes sure `path` is a directory, creating it if missing.
async fn ensure_dir(path: &Path) -> Result<(), SftpError> {
    match tokio::fs::metadata(path).await {
        Ok(md) if md.is_dir() => Ok(()),
        Ok(_) => Err(SftpError::NotADirectory {
            op: Op::Mkdir,
            side: Side::Local,
            path: shown(path),
        }),
        Err(_) => match tokio::fs::create_dir(path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(local(Op::Mkdir, path, e)),
        },
    }
}

/// Recreates symbolic link `from` at `to` (same target text), replacing a
/// file or link already there.
async fn copy_symlink(from: &Path, to: &Path) -> Result<(), SftpError> {
    let target = tokio::fs::read_link(from)
        .await
        .map_err(|e| local(Op::ReadLink, from, e))?;
    match tokio::fs::symlink_metadata(to).await {
        Ok(md) if md.is_dir() => {
            return Err(SftpError::DirectoryInTheWay {
                side: Side::Local,
                path: shown(to),
            })
        }
        Ok(_) => tokio::fs::remove_file(to)
            .await
            .map_err(|e| local(Op::Remove, to, e))?,
        Err(_) => {}
    }
    tokio::fs::symlink(&target, to)
        .await
        .map_err(|e| local(Op::Symlink, to, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_paths_are_under_home_others_unchanged() {
        let home = PathBuf::from(std::env::var_os("HOME").unwrap());
        assert_eq!(expand_home("~"), home);
        assert_eq!(expand_home("~/a/b"), home.join("a/b"));
        assert_eq!(expand_home("a/~/b"), PathBuf::from("a/~/b"));
        assert_eq!(expand_home("/abs"), PathBuf::from("/abs"));
        assert_eq!(expand_home("~user/x"), PathBuf::from("~user/x"));
    }
}
