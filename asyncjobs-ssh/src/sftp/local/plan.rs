//! The scp-like rules shared by [`push`](super::super::push),
//! [`pull`](super::super::pull) and local copies: which sources are accepted
//! and where each one lands. Kept in one place so the three agree.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::super::error::{local, shown};
use super::super::remote::MAX_DEPTH;
use super::super::{Op, SftpError, Side, TransferOptions};

/// The error for an empty source list.
pub(crate) fn no_source(side: Side) -> SftpError {
    SftpError::InvalidPath {
        side,
        path: String::new(),
        reason: "no source path given",
    }
}

/// Refuses a directory source unless the copy is recursive.
pub(crate) fn check_recursive(
    is_dir: bool,
    opts: &TransferOptions,
    side: Side,
    path: impl FnOnce() -> String,
) -> Result<(), SftpError> {
    if is_dir && !opts.recursive {
        return Err(SftpError::IsADirectory { side, path: path() });
    }
    Ok(())
}

/// A local source, checked: its metadata and the name it gets inside a
/// destination directory.
pub(crate) struct LocalSource {
    pub(crate) path: PathBuf,
    pub(crate) md: Metadata,
    pub(crate) name: String,
}

/// Checks every local source before anything is copied.
pub(crate) async fn check_local_sources(
    paths: &[PathBuf],
    opts: &TransferOptions,
) -> Result<Vec<LocalSource>, SftpError> {
    if paths.is_empty() {
        return Err(no_source(Side::Local));
    }
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let md = local_metadata(path, opts.follow_symlinks).await?;
        check_recursive(md.is_dir(), opts, Side::Local, || shown(path))?;
        let name = source_name(path).await?;
        sources.push(LocalSource {
            path: path.clone(),
            md,
            name,
        });
    }
    Ok(sources)
}

/// Whether the destination must be a directory: several sources, or a
/// trailing `/`.
pub(crate) fn wants_dir(sources: usize, dest: &str) -> bool {
    sources > 1 || dest.ends_with('/')
}

/// Where sources land, given what the destination is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Landing {
    /// An existing directory: each source goes inside, under its name.
    Into,
    /// An existing non-directory: the single file source replaces it.
    Onto,
    /// Missing but must be a directory: create it, then go inside.
    CreateDir,
    /// Missing: create its parent, then the single source becomes it.
    CreateParent,
}

impl Landing {
    /// Whether sources go inside the destination (under their names).
    pub(crate) fn into_dir(self) -> bool {
        matches!(self, Landing::Into | Landing::CreateDir)
    }
}

/// scp's destination rule. `existing` is `Some(is_dir)` if the destination
/// exists. `None` means it must be a directory and is not (`NotADirectory`):
/// several sources or a trailing `/` onto a file, or a directory onto a file.
pub(crate) fn landing(
    existing: Option<bool>,
    wants_dir: bool,
    first_is_dir: bool,
) -> Option<Landing> {
    match existing {
        Some(true) => Some(Landing::Into),
        Some(false) if wants_dir || first_is_dir => None,
        Some(false) => Some(Landing::Onto),
        None if wants_dir => Some(Landing::CreateDir),
        None => Some(Landing::CreateParent),
    }
}

/// Applies [`landing`] to local destination `dest`, creating what is
/// missing. Returns whether sources go inside it.
pub(crate) async fn prepare_local_dest(
    dest: &Path,
    sources: usize,
    first_is_dir: bool,
) -> Result<bool, SftpError> {
    let wants_dir = wants_dir(sources, &dest.as_os_str().to_string_lossy());
    let existing = match tokio::fs::metadata(dest).await {
        Ok(md) => Some(md.is_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(local(Op::Stat, dest, e)),
    };
    let landing =
        landing(existing, wants_dir, first_is_dir).ok_or_else(|| SftpError::NotADirectory {
            op: Op::CopyInto,
            side: Side::Local,
            path: shown(dest),
        })?;
    let to_create = match landing {
        Landing::Into | Landing::Onto => None,
        Landing::CreateDir => Some(dest),
        Landing::CreateParent => dest.parent(),
    };
    if let Some(dir) = to_create.filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| local(Op::Mkdir, dir, e))?;
    }
    Ok(landing.into_dir())
}

/// The local directories a walk is inside, by (device, inode), to detect
/// link loops.
#[derive(Clone, Default)]
pub(crate) struct LoopGuard(Arc<Vec<(u64, u64)>>);

impl LoopGuard {
    /// The guard for the contents of directory `path` (metadata `md`) below
    /// this one: fails if the walk is already inside it or too deep.
    pub(crate) fn enter(&self, md: &Metadata, path: &Path) -> Result<LoopGuard, SftpError> {
        let id = (md.dev(), md.ino());
        if self.0.contains(&id) || self.0.len() >= MAX_DEPTH {
            return Err(SftpError::SymlinkLoop {
                side: Side::Local,
                path: shown(path),
                max_depth: MAX_DEPTH,
            });
        }
        let mut below = Vec::with_capacity(self.0.len() + 1);
        below.extend_from_slice(&self.0);
        below.push(id);
        Ok(LoopGuard(Arc::new(below)))
    }
}

/// The entries of local directory `dir` with their names and metadata, in
/// reverse name order (so a stack pops them in name order).
pub(crate) async fn local_children_rev(
    dir: &Path,
    follow: bool,
) -> Result<Vec<(PathBuf, String, Metadata)>, SftpError> {
    let children = list_dir(dir).await?;
    let mut out = Vec::with_capacity(children.len());
    for (child, name) in children.into_iter().rev() {
        let md = local_metadata(&child, follow).await?;
        out.push((child, name, md));
    }
    Ok(out)
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
async fn list_dir(dir: &Path) -> Result<Vec<(PathBuf, String)>, SftpError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_directory_takes_sources_inside() {
        for (wants, first_dir) in [(false, false), (true, false), (false, true), (true, true)] {
            assert_eq!(landing(Some(true), wants, first_dir), Some(Landing::Into));
        }
    }

    #[test]
    fn directory_or_several_sources_onto_a_file_is_refused() {
        assert_eq!(landing(Some(false), true, false), None);
        assert_eq!(landing(Some(false), false, true), None);
        assert_eq!(landing(Some(false), false, false), Some(Landing::Onto));
    }

    #[test]
    fn missing_destination_is_a_directory_only_when_it_must_be() {
        assert_eq!(landing(None, true, false), Some(Landing::CreateDir));
        assert_eq!(landing(None, false, true), Some(Landing::CreateParent));
        assert!(Landing::CreateDir.into_dir());
        assert!(!Landing::CreateParent.into_dir());
        assert!(wants_dir(2, "x"));
        assert!(wants_dir(1, "x/"));
        assert!(!wants_dir(1, "x"));
    }
}
