//! `copy_local`: [`Push`](crate::Push) and [`Pull`](crate::Pull) on a
//! [`LocalNode`](crate::LocalNode), where both ends are on this machine: the
//! same rules as [`push`](super::push) and [`pull`](super::pull) (see the
//! [module docs](super)), with local files on both sides. Also the home of
//! the local-side helpers and the scp rules ([`plan`]) that push and pull
//! share with it.

use std::fs::{FileTimes, Metadata, Permissions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::{local, shown};
use super::{Op, SftpError, Side, TransferOptions, TransferStats};

mod plan;

pub(crate) use plan::{
    check_local_sources, check_recursive, landing, local_children_rev, no_source,
    prepare_local_dest, wants_dir, Landing, LocalSource, LoopGuard,
};

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
    let checked = check_local_sources(sources, opts).await?;
    let into_dir = prepare_local_dest(dest, checked.len(), checked[0].md.is_dir()).await?;

    let mut targets = Vec::with_capacity(checked.len());
    for LocalSource { path, md, name } in checked {
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
        /// The directories above, to detect link loops.
        ancestors: LoopGuard,
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
        ancestors: LoopGuard::default(),
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
            let below = ancestors.enter(&md, &from)?;
            ensure_dir(&to).await?;
            stats.dirs += 1;
            let children = local_children_rev(&from, opts.follow_symlinks).await?;
            stack.push(Task::FinishDir { md, to: to.clone() });
            for (child, name, child_md) in children {
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

/// Whether local `to` is (or will be created as) a regular file rather than
/// an existing device, fifo...; a directory there is in the way.
pub(crate) async fn file_target(to: &Path) -> Result<bool, SftpError> {
    match tokio::fs::metadata(to).await {
        Ok(md) if md.is_dir() => Err(SftpError::DirectoryInTheWay {
            side: Side::Local,
            path: shown(to),
        }),
        Ok(md) => Ok(md.is_file()),
        Err(_) => Ok(true),
    }
}

/// Copies the contents of `from` into `to` (created or truncated). Returns
/// the bytes copied and whether `to` is a regular file.
async fn copy_file(from: &Path, to: &Path) -> Result<(u64, bool), SftpError> {
    let regular = file_target(to).await?;
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
        let time = |secs: i64| UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64);
        set_local_times(to, time(md.atime()), time(md.mtime())).await?;
    }
    tokio::fs::set_permissions(to, Permissions::from_mode(md.mode() & 0o7777))
        .await
        .map_err(|e| local(Op::SetAttributes, to, e))
}

/// Sets the access and modification times of local `path`.
pub(crate) async fn set_local_times(
    path: &Path,
    atime: SystemTime,
    mtime: SystemTime,
) -> Result<(), SftpError> {
    let owned = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&owned)?;
        file.set_times(FileTimes::new().set_accessed(atime).set_modified(mtime))
    })
    .await
    .unwrap_or_else(|join| Err(std::io::Error::other(join)));
    result.map_err(|e| local(Op::SetAttributes, path, e))
}

/// Makes sure local `path` is a directory, creating it if missing.
pub(crate) async fn ensure_dir(path: &Path) -> Result<(), SftpError> {
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
    make_symlink(target, to).await
}

/// Makes local `to` a symbolic link to `target`, replacing a file or link
/// already there (not a directory).
pub(crate) async fn make_symlink(target: impl AsRef<Path>, to: &Path) -> Result<(), SftpError> {
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
    tokio::fs::symlink(target, to)
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
