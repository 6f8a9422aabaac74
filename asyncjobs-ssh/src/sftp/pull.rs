//! `pull`: remote files and trees to this machine.
//!
//! Everything is written below directories opened once (see
//! [`dirfd`](super::local::Dir)): names chosen by the server never lead a
//! write anywhere else, whatever links exist or appear locally.

use std::{
    ffi::{OsStr, OsString},
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use russh_sftp::client::{fs::Metadata, SftpSession};

use super::error::{remote, shown};
use super::local::{check_recursive, local_places, no_source, Dir, Place};
use super::remote::{
    basename, is_ancestor_or_same, is_plain_name, join, list_dir, normalize, stat, MAX_DEPTH,
};
use super::stream::{check_announced, copy, Ends, Limit};
use super::{Op, SftpError, Side, TransferOptions, TransferStats};

/// Copies remote files and directories to this machine, like
/// `scp -r host:remote_paths... local_dir_or_path` (see the [module
/// docs](super) for the exact rules on destinations, modes, times, links,
/// caps and what a failure leaves).
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
        sources.push((path, md, name));
    }

    let names: Vec<String> = sources.iter().map(|s| s.2.clone()).collect();
    let first_is_dir = sources[0].1.file_type().is_dir();
    let places = local_places(local_dir_or_path, &names, first_is_dir).await?;

    let mut stats = TransferStats::default();
    for ((path, md, _), place) in sources.into_iter().zip(places) {
        pull_tree(sftp, path, md, place, opts, &mut stats).await?;
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
        /// Where it lands: a name in an open directory.
        place: Place,
        depth: usize,
        real: Option<RealPlace>,
    },
    /// Set a directory's mode and times once its contents are in place.
    FinishDir { md: Metadata, dir: Dir },
}

async fn pull_tree(
    sftp: &SftpSession,
    remote_path: String,
    md: Metadata,
    place: Place,
    opts: &TransferOptions,
    stats: &mut TransferStats,
) -> Result<(), SftpError> {
    let real = if opts.follow_symlinks && md.file_type().is_dir() {
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
        place,
        depth: 0,
        real,
    }];
    while let Some(task) = stack.pop() {
        let (remote_path, md, place, depth, real) = match task {
            Task::FinishDir { md, dir } => {
                dir.set_attributes(pulled_mode(&md), times(&md, opts.preserve))
                    .await?;
                continue;
            }
            Task::Copy {
                remote,
                md,
                place,
                depth,
                real,
            } => (remote, md, place, depth, real),
        };
        let kind = md.file_type();
        if kind.is_file() {
            let bytes = download_file(sftp, &remote_path, &md, &place, opts).await?;
            stats.bytes = stats.bytes.saturating_add(bytes);
            stats.files += 1;
        } else if kind.is_symlink() {
            let target = sftp
                .read_link(remote_path.as_str())
                .await
                .map_err(|e| remote(Op::ReadLink, &remote_path, e))?;
            place.dir.symlink(&place.name, OsStr::new(&target)).await?;
            stats.symlinks += 1;
        } else if kind.is_dir() {
            if depth >= MAX_DEPTH {
                return Err(loop_error(&remote_path));
            }
            let dir = place.dir.subdir(&place.name).await?;
            stats.dirs += 1;
            let children = list_dir(sftp, &remote_path).await?;
            stack.push(Task::FinishDir {
                md,
                dir: dir.clone(),
            });
            for (name, child_md) in children.into_iter().rev() {
                let child = join(&remote_path, &name);
                let mut child_md = child_md;
                let mut child_real = real.clone().map(|p| RealPlace {
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
                        child_real = Some(enter_link(sftp, &child, real.as_ref()).await?);
                    }
                }
                stack.push(Task::Copy {
                    remote: child,
                    md: child_md,
                    place: Place {
                        dir: dir.clone(),
                        name: OsString::from(name),
                        named: false,
                    },
                    depth: depth + 1,
                    real: child_real,
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

/// The mode a pulled file or directory gets: the server's permission bits,
/// without setuid, setgid and sticky (a server must not hand out a setuid
/// program, least of all to root).
fn pulled_mode(md: &Metadata) -> u32 {
    let default_mode = if md.file_type().is_dir() {
        0o755
    } else {
        0o644
    };
    md.permissions.map_or(default_mode, |m| m & 0o777)
}

/// The server's access and modification times, if `preserve` and both are known.
fn times(md: &Metadata, preserve: bool) -> Option<(SystemTime, SystemTime)> {
    let to_time = |secs: Option<u32>| secs.map(|s| UNIX_EPOCH + Duration::from_secs(s.into()));
    match (preserve, to_time(md.atime), to_time(md.mtime)) {
        (true, Some(atime), Some(mtime)) => Some((atime, mtime)),
        _ => None,
    }
}

/// Streams remote file `remote_path` (stat'ed as `md`) to `place`, within
/// the announced size and the cap. Returns the number of bytes copied.
async fn download_file(
    sftp: &SftpSession,
    remote_path: &str,
    md: &Metadata,
    place: &Place,
    opts: &TransferOptions,
) -> Result<u64, SftpError> {
    check_announced(Side::Remote, remote_path, md.size, opts.max_file_size)?;
    let mut src = sftp
        .open(remote_path)
        .await
        .map_err(|e| remote(Op::Open, remote_path, e))?;
    let limit = Limit {
        announced: md.size,
        cap: opts.max_file_size,
    };
    let to = shown(&place.dir.child_path(&place.name));
    let ends = Ends {
        from: remote_path,
        from_side: Side::Remote,
        to: &to,
        to_side: Side::Local,
    };
    if place.named {
        // a destination the user named may be a device such as /dev/null:
        // written into, not replaced, and not chmod'ed
        if let Some(mut special) = place.dir.open_special(&place.name).await? {
            return copy(&mut src, &mut special, ends, limit).await;
        }
    }
    let mut file = place.dir.create_file(&place.name).await?;
    let bytes = copy(&mut src, file.file(), ends, limit).await?;
    file.commit(pulled_mode(md), times(md, opts.preserve))
        .await?;
    Ok(bytes)
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
