//! Remote path arithmetic and small remote file-system helpers.

use russh_sftp::{
    client::{fs::Metadata, SftpSession},
    protocol::{FileAttributes, StatusCode},
};

use super::error::{remote, status_code};
use super::guard::CAP_MESSAGE;
use super::{Op, SftpError, Side};

/// Deepest directory nesting walked; stops runaway recursion.
pub(crate) const MAX_DEPTH: usize = 256;

/// Longest time one directory listing may take.
pub const LISTING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The entries of remote directory `dir`, sorted by name, within the caps
/// ([`MAX_LISTING_ENTRIES`](super::MAX_LISTING_ENTRIES) entries,
/// [`MAX_LISTING_BYTES`](super::MAX_LISTING_BYTES), [`LISTING_TIMEOUT`]).
/// A name that is not a plain file name (empty, `.`, `..`, containing `/`)
/// or that is listed twice is an error: each entry must name one thing
/// inside `dir`.
pub(crate) async fn list_dir(
    sftp: &SftpSession,
    dir: &str,
) -> Result<Vec<(String, Metadata)>, SftpError> {
    let listing = tokio::time::timeout(LISTING_TIMEOUT, sftp.read_dir(dir))
        .await
        .map_err(|_| SftpError::ListingTooLong {
            path: dir.to_owned(),
            reason: format!("not done after {}s", LISTING_TIMEOUT.as_secs()),
        })?
        .map_err(|e| match &e {
            russh_sftp::client::error::Error::Status(st)
                if st.error_message.starts_with(CAP_MESSAGE) =>
            {
                SftpError::ListingTooLong {
                    path: dir.to_owned(),
                    reason: st.error_message.clone(),
                }
            }
            _ => remote(Op::ReadDir, dir, e),
        })?;
    let mut entries = Vec::new();
    for entry in listing {
        let name = entry.file_name();
        if !is_plain_name(&name) {
            return Err(SftpError::InvalidPath {
                side: Side::Remote,
                path: join(dir, &name),
                reason: "the server listed an entry that is not a plain file name",
            });
        }
        entries.push((name, entry.metadata()));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(SftpError::DuplicateName {
            path: join(dir, &pair[0].0),
        });
    }
    Ok(entries)
}

/// Maps `~`, `~/x` and `` to paths relative to the login home (which is where
/// the SFTP server resolves relative paths).
pub(crate) fn normalize(path: &str) -> String {
    if path.is_empty() || path == "~" {
        ".".to_owned()
    } else if let Some(rest) = path.strip_prefix("~/") {
        let rest = rest.trim_start_matches('/');
        if rest.is_empty() {
            ".".to_owned()
        } else {
            rest.to_owned()
        }
    } else {
        path.to_owned()
    }
}

/// `dir/name`, without a leading `./` for the home directory.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir == "." {
        name.to_owned()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The last component of `path` (trailing slashes ignored).
pub(crate) fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((_, base)) => base,
        None => trimmed,
    }
}

/// The directory containing `path` (`.` for a bare name, `/` for `/x`).
pub(crate) fn parent(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some(("", _)) => "/".to_owned(),
        Some((dir, _)) => dir.to_owned(),
        None => ".".to_owned(),
    }
}

/// `true` if `base` is a usable single file name.
pub(crate) fn is_plain_name(base: &str) -> bool {
    !base.is_empty() && base != "." && base != ".." && !base.contains('/')
}

/// `true` if directory `a` is `b` or one of its ancestors (both canonical).
pub(crate) fn is_ancestor_or_same(a: &str, b: &str) -> bool {
    a == b || a == "/" || b.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'))
}

/// Metadata of `path` (following links if `follow`), `None` if it does not exist.
pub(crate) async fn stat(
    sftp: &SftpSession,
    path: &str,
    follow: bool,
) -> Result<Option<Metadata>, SftpError> {
    let result = if follow {
        sftp.metadata(path).await
    } else {
        sftp.symlink_metadata(path).await
    };
    match result {
        Ok(md) => Ok(Some(md)),
        Err(e) if status_code(&e) == Some(StatusCode::NoSuchFile) => Ok(None),
        Err(e) => Err(remote(Op::Stat, path, e)),
    }
}

/// Makes sure `path` is a directory, creating it if missing (its parent must
/// exist). Tolerates a concurrent creation of the same directory.
pub(crate) async fn ensure_dir(sftp: &SftpSession, path: &str) -> Result<(), SftpError> {
    match stat(sftp, path, true).await? {
        Some(md) if md.file_type().is_dir() => return Ok(()),
        Some(_) => return Err(not_a_dir(Op::Mkdir, path)),
        None => {}
    }
    if let Err(e) = sftp.create_dir(path).await {
        return match stat(sftp, path, true).await? {
            Some(md) if md.file_type().is_dir() => Ok(()),
            Some(_) => Err(not_a_dir(Op::Mkdir, path)),
            None => Err(remote(Op::Mkdir, path, e)),
        };
    }
    Ok(())
}

/// `mkdir -p path`.
pub(crate) async fn mkdir_p(sftp: &SftpSession, path: &str) -> Result<(), SftpError> {
    if let Some(md) = stat(sftp, path, true).await? {
        return if md.file_type().is_dir() {
            Ok(())
        } else {
            Err(not_a_dir(Op::Mkdir, path))
        };
    }
    let mut prefix = if path.starts_with('/') {
        "/".to_owned()
    } else {
        String::new()
    };
    for component in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
        prefix = if prefix.is_empty() {
            component.to_owned()
        } else {
            join(&prefix, component)
        };
        if component != ".." {
            ensure_dir(sftp, &prefix).await?;
        }
    }
    Ok(())
}

/// Sets the permission bits and times (those given) of remote `path`.
pub(crate) async fn set_attributes(
    sftp: &SftpSession,
    path: &str,
    mode: Option<u32>,
    times: Option<(u32, u32)>,
) -> Result<(), SftpError> {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = mode.map(|m| m & 0o7777);
    if let Some((atime, mtime)) = times {
        attrs.atime = Some(atime);
        attrs.mtime = Some(mtime);
    }
    sftp.set_metadata(path, attrs)
        .await
        .map_err(|e| remote(Op::SetAttributes, path, e))
}

pub(crate) fn not_a_dir(op: Op, path: &str) -> SftpError {
    SftpError::NotADirectory {
        op,
        side: Side::Remote,
        path: path.to_owned(),
    }
}

/// Removes remote `path`: a file or symbolic link, or a directory with
/// everything in it (links inside are removed, never followed). A missing
/// path is a [`SftpError::RemoteNotFound`] error.
pub async fn remove_remote(sftp: &SftpSession, path: &str) -> Result<(), SftpError> {
    let path = normalize(path);
    let md = stat(sftp, &path, false)
        .await?
        .ok_or_else(|| SftpError::RemoteNotFound {
            op: Op::Remove,
            path: path.clone(),
        })?;
    if !md.file_type().is_dir() {
        return remove_file(sftp, &path).await;
    }
    // Post-order walk with an explicit stack: (dir, depth, listed yet).
    let mut stack = vec![(path, 0usize, false)];
    while let Some((dir, depth, listed)) = stack.pop() {
        if listed {
            sftp.remove_dir(dir.as_str())
                .await
                .map_err(|e| remote(Op::Remove, &dir, e))?;
            continue;
        }
        if depth > MAX_DEPTH {
            return Err(SftpError::SymlinkLoop {
                side: Side::Remote,
                path: dir,
                max_depth: MAX_DEPTH,
            });
        }
        let entries = list_dir(sftp, &dir).await?;
        stack.push((dir.clone(), depth, true));
        for (name, md) in entries {
            let child = join(&dir, &name);
            if md.file_type().is_dir() {
                stack.push((child, depth + 1, false));
            } else {
                remove_file(sftp, &child).await?;
            }
        }
    }
    Ok(())
}

async fn remove_file(sftp: &SftpSession, path: &str) -> Result<(), SftpError> {
    sftp.remove_file(path)
        .await
        .map_err(|e| remote(Op::Remove, path, e))
}
