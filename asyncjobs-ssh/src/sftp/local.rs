//! `copy_local`: [`Push`](crate::Push) and [`Pull`](crate::Pull) on a
//! [`LocalNode`](crate::LocalNode), where both ends are on this machine: the
//! same rules as [`push`](super::push) and [`pull`](super::pull) (see the
//! [module docs](super)), with local files on both sides. Also the home of
//! the local-side helpers and the scp rules ([`plan`]) that push and pull
//! share with it.

use std::ffi::OsString;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::{local, shown};
use super::stream::{check_announced, copy, Ends, Limit};
use super::{Op, SftpError, Side, TransferOptions, TransferStats};

mod dirfd;
mod plan;

pub(crate) use dirfd::Dir;
pub(crate) use plan::{
    check_local_sources, check_recursive, landing, local_children_rev, no_source,
    prepare_local_dest, wants_dir, Landing, LocalSource, LoopGuard,
};

/// Where one source lands on this machine: a name in an open directory.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) dir: Dir,
    pub(crate) name: OsString,
    /// The user named this path (the destination of a single source), as
    /// opposed to a name from a source or a listing.
    pub(crate) named: bool,
}

/// Where each source (by its name, in order) lands in local `dest`, with
/// `scp`'s rules (see [`landing`]); creates what is missing of `dest`.
/// Several sources with the same name are refused before anything is made.
pub(crate) async fn local_places(
    dest: &Path,
    names: &[String],
    first_is_dir: bool,
) -> Result<Vec<Place>, SftpError> {
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(SftpError::SameName {
            name: pair[0].clone(),
            dest: dest.to_path_buf(),
        });
    }
    if prepare_local_dest(dest, names.len(), first_is_dir).await? {
        let dir = Dir::open(dest).await?;
        return Ok(names
            .iter()
            .map(|n| Place {
                dir: dir.clone(),
                name: OsString::from(n),
                named: false,
            })
            .collect());
    }
    let name = dest.file_name().ok_or_else(|| SftpError::InvalidPath {
        side: Side::Local,
        path: shown(dest),
        reason: "the destination has no file name",
    })?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Ok(vec![Place {
        dir: Dir::open(parent).await?,
        name: name.to_owned(),
        named: true,
    }])
}

/// `~` and `~/x` as paths under `$HOME` (as the SFTP side reads them); other
/// paths as they are (relative ones from the current directory, where local
/// commands run).
pub(crate) fn expand_home(path: &str) -> PathBuf {
    PathBuf::from(crate::config::expand_tilde(path))
}

/// Copies local `sources` to local `dest` like `cp -r` with `scp`'s rules:
/// into `dest` if it is a directory (or must be one: several sources, a
/// trailing `/`), else as `dest`. Modes always kept, times with `preserve`,
/// links recreated unless followed, special files skipped; written as
/// [`pull`](super::pull) writes (below open directories, links never
/// followed, files complete or absent). Each file stops at the size it had
/// when the copy reached it, and at `cap` bytes if given. All sources are
/// checked before anything is copied; copying a directory into itself or a
/// file onto itself is refused.
pub(crate) async fn copy_local(
    sources: &[PathBuf],
    dest: &Path,
    opts: &TransferOptions,
    cap: Option<u64>,
) -> Result<TransferStats, SftpError> {
    let checked = check_local_sources(sources, opts).await?;
    let names: Vec<String> = checked.iter().map(|s| s.name.clone()).collect();
    let places = local_places(dest, &names, checked[0].md.is_dir()).await?;

    let mut targets = Vec::with_capacity(checked.len());
    for (LocalSource { path, md, .. }, place) in checked.into_iter().zip(places) {
        refuse_self_copy(&path, &md, &place.dir.child_path(&place.name)).await?;
        targets.push((path, md, place));
    }
    let mut stats = TransferStats::default();
    for (path, md, place) in targets {
        copy_tree(path, md, place, opts, cap, &mut stats).await?;
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
        to: Place,
        /// The directories above, to detect link loops.
        ancestors: LoopGuard,
    },
    /// Set a directory's mode and times once its contents are in place.
    FinishDir { md: Metadata, dir: Dir },
}

async fn copy_tree(
    from: PathBuf,
    md: Metadata,
    to: Place,
    opts: &TransferOptions,
    cap: Option<u64>,
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
            Task::FinishDir { md, dir } => {
                dir.set_attributes(md.mode(), times(&md, opts.preserve))
                    .await?;
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
            let bytes = copy_file(&from, &md, &to, opts.preserve, cap).await?;
            stats.bytes = stats.bytes.saturating_add(bytes);
            stats.files += 1;
        } else if kind.is_symlink() {
            let target = tokio::fs::read_link(&from)
                .await
                .map_err(|e| local(Op::ReadLink, &from, e))?;
            to.dir.symlink(&to.name, target.as_os_str()).await?;
            stats.symlinks += 1;
        } else if kind.is_dir() {
            let below = ancestors.enter(&md, &from)?;
            let dir = to.dir.subdir(&to.name).await?;
            stats.dirs += 1;
            let children = local_children_rev(&from, opts.follow_symlinks).await?;
            stack.push(Task::FinishDir {
                md,
                dir: dir.clone(),
            });
            for (child, name, child_md) in children {
                stack.push(Task::Copy {
                    from: child,
                    md: child_md,
                    to: Place {
                        dir: dir.clone(),
                        name: OsString::from(name),
                        named: false,
                    },
                    ancestors: below.clone(),
                });
            }
        } else {
            stats.skipped.push(shown(&from));
        }
    }
    Ok(())
}

/// The access and modification times of `md`, if `preserve`.
fn times(md: &Metadata, preserve: bool) -> Option<(SystemTime, SystemTime)> {
    let time = |secs: i64| UNIX_EPOCH + Duration::from_secs(secs.max(0).unsigned_abs());
    preserve.then(|| (time(md.atime()), time(md.mtime())))
}

/// Copies the contents of `from` (stat'ed as `md`) to `to`. Returns the
/// bytes copied.
async fn copy_file(
    from: &Path,
    md: &Metadata,
    to: &Place,
    preserve: bool,
    cap: Option<u64>,
) -> Result<u64, SftpError> {
    let shown_from = shown(from);
    check_announced(Side::Local, &shown_from, Some(md.len()), cap)?;
    let mut src = tokio::fs::File::open(from)
        .await
        .map_err(|e| local(Op::Open, from, e))?;
    let limit = Limit {
        announced: Some(md.len()),
        cap,
    };
    let shown_to = shown(&to.dir.child_path(&to.name));
    let ends = Ends {
        from: &shown_from,
        from_side: Side::Local,
        to: &shown_to,
        to_side: Side::Local,
    };
    if to.named {
        // a destination the user named may be a device such as /dev/null
        if let Some(mut special) = to.dir.open_special(&to.name).await? {
            return copy(&mut src, &mut special, ends, limit).await;
        }
    }
    let mut file = to.dir.create_file(&to.name).await?;
    let bytes = copy(&mut src, file.file(), ends, limit).await?;
    file.commit(md.mode(), times(md, preserve)).await?;
    Ok(bytes)
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
