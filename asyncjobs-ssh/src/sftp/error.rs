//! [`SftpError`]: every failure names the path(s) and the operation.

use std::{fmt, io, path::Path, path::PathBuf};

use russh_sftp::{client::error::Error as ProtocolError, protocol::StatusCode};

/// The file-system operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Reading metadata (stat).
    Stat,
    /// Listing a directory.
    ReadDir,
    /// Creating a directory.
    Mkdir,
    /// Opening a file for reading.
    Open,
    /// Creating or truncating a file for writing.
    Create,
    /// Reading file data.
    Read,
    /// Writing file data.
    Write,
    /// Setting permissions or times.
    SetAttributes,
    /// Reading a symbolic link.
    ReadLink,
    /// Creating a symbolic link.
    Symlink,
    /// Removing a file or directory.
    Remove,
    /// Renaming a file.
    Rename,
    /// Copying into a destination.
    CopyInto,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Stat => "stat",
            Op::ReadDir => "list",
            Op::Mkdir => "create directory",
            Op::Open => "open",
            Op::Create => "create",
            Op::Read => "read",
            Op::Write => "write",
            Op::SetAttributes => "set attributes of",
            Op::ReadLink => "read link",
            Op::Symlink => "create symlink",
            Op::Remove => "remove",
            Op::Rename => "rename",
            Op::CopyInto => "copy into",
        })
    }
}

/// Which end of the transfer a path lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// This machine.
    Local,
    /// The SSH server.
    Remote,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Local => "local",
            Side::Remote => "remote",
        })
    }
}

/// Errors of SFTP transfers; each names the path(s) involved and the operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SftpError {
    /// The SFTP subsystem could not be started on the server.
    #[error("SFTP subsystem unavailable: {reason}")]
    SubsystemUnavailable {
        /// Why (channel refused, subsystem refused, protocol failure...).
        reason: String,
    },
    /// A local path does not exist.
    #[error("cannot {op} {} (local): no such file or directory", esc_path(path))]
    LocalNotFound {
        /// The operation attempted.
        op: Op,
        /// The missing path.
        path: PathBuf,
    },
    /// A remote path does not exist.
    #[error("cannot {op} {} (remote): no such file or directory", esc(path))]
    RemoteNotFound {
        /// The operation attempted.
        op: Op,
        /// The missing path.
        path: String,
    },
    /// Permission denied on a local or remote path.
    #[error("cannot {op} {} ({side}): permission denied", esc(path))]
    PermissionDenied {
        /// The operation attempted.
        op: Op,
        /// Where the path lives.
        side: Side,
        /// The path refused.
        path: String,
    },
    /// A path that must be a directory is not one.
    #[error("cannot {op} {} ({side}): not a directory", esc(path))]
    NotADirectory {
        /// The operation attempted.
        op: Op,
        /// Where the path lives.
        side: Side,
        /// The path that is not a directory.
        path: String,
    },
    /// A directory source with [`TransferOptions::recursive`](super::TransferOptions::recursive) off.
    #[error("{side} path {} is a directory and recursive copy is off", esc(path))]
    IsADirectory {
        /// Where the path lives.
        side: Side,
        /// The directory.
        path: String,
    },
    /// A file was to be created where a directory exists.
    #[error("cannot create {side} file {}: a directory is in the way", esc(path))]
    DirectoryInTheWay {
        /// Where the path lives.
        side: Side,
        /// The directory.
        path: String,
    },
    /// An exclusive creation found the file already there.
    #[error("cannot create {side} file {}: it already exists", esc(path))]
    AlreadyExists {
        /// Where the path lives.
        side: Side,
        /// The existing file.
        path: String,
    },
    /// Any other local I/O failure.
    #[error("cannot {op} {} (local)", esc_path(path))]
    LocalIo {
        /// The operation attempted.
        op: Op,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Any other failure reported by the SFTP server or session.
    // the server's text is shown here, escaped, so `error` is no `source()`
    #[error("cannot {op} {} (remote): {}", esc(path), esc(&error.to_string()))]
    Remote {
        /// The operation attempted.
        op: Op,
        /// The path involved.
        path: String,
        /// The underlying SFTP error (its text, escaped, is in the message).
        error: ProtocolError,
    },
    /// Reading or writing file data failed after the copy had started.
    #[error(
        "copy {} -> {} failed during {op} on the {side} side after {bytes} bytes: {}",
        esc(from), esc(to), esc(&error.to_string())
    )]
    Transfer {
        /// The failing half of the copy.
        op: Op,
        /// Where the failure happened.
        side: Side,
        /// Source path.
        from: String,
        /// Destination path.
        to: String,
        /// Bytes copied before the failure.
        bytes: u64,
        /// The underlying error (its text, escaped, is in the message).
        error: io::Error,
    },
    /// A local file name that is not UTF-8 (SFTP paths are strings here).
    #[error(
        "local path {} is not valid UTF-8 and cannot be named over SFTP",
        esc_path(path)
    )]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    /// A path that cannot be used (empty list, `/` as a source, a server
    /// listing entry containing `/`...).
    #[error("invalid {side} path {path:?}: {reason}")]
    InvalidPath {
        /// Where the path lives.
        side: Side,
        /// The path.
        path: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Following symbolic links led back into a directory being copied.
    #[error(
        "{side} path {} is a symbolic link loop (or nests deeper than {max_depth} levels)",
        esc(path)
    )]
    SymlinkLoop {
        /// Where the path lives.
        side: Side,
        /// The link that closes the loop.
        path: String,
        /// The nesting bound that also stops the walk.
        max_depth: usize,
    },
    /// A server listed the same name twice in one directory (for instance a
    /// symbolic link, then a directory or file of that name): refused, since
    /// the second entry could be written through the first.
    #[error(
        "the server listed {} twice in one directory: refused (a name must be one file, directory or link)",
        esc(path)
    )]
    DuplicateName {
        /// The remote path listed twice.
        path: String,
    },
    /// Several sources copied into one directory have the same name: they
    /// would land on the same path.
    #[error(
        "several sources have the same name {} and would land on the same path in {}: copy them into different directories",
        esc(name),
        esc_path(dest)
    )]
    SameName {
        /// The name shared.
        name: String,
        /// The destination directory.
        dest: PathBuf,
    },
    /// A file is larger than the cap on bytes per file
    /// ([`TransferOptions::max_file_size`](super::TransferOptions::max_file_size)):
    /// refused before reading if its size says so, else stopped at the cap.
    /// Nothing is left at the destination.
    #[error(
        "{side} file {} {} the limit of {max} bytes per file: not copied (raise the limit with max_file_size / --max-file-size)",
        esc(path),
        too_large(size)
    )]
    FileTooLarge {
        /// Where the file lives.
        side: Side,
        /// The file.
        path: String,
        /// The size it announced, if that is what exceeded the cap.
        size: Option<u64>,
        /// The cap.
        max: u64,
    },
    /// A directory listing went past the cap on entries or bytes, or took
    /// longer than the cap on time (a server that never ends a listing).
    #[error("listing remote directory {} stopped: {reason}", esc(path))]
    ListingTooLong {
        /// The directory.
        path: String,
        /// Which cap was reached.
        reason: String,
    },
    /// An include file given to [`upload_script`](super::upload_script) does not exist.
    #[error(
        "include file {} for script {} does not exist",
        esc_path(path),
        esc(script)
    )]
    MissingInclude {
        /// The script name hint.
        script: String,
        /// The missing include.
        path: PathBuf,
    },
}

/// A remote-controlled string (a server's file name, its error message) made
/// safe to show: control characters escaped.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    crate::escape::escape_control(s)
}

/// A local path made safe to show (names below a destination come from the
/// server): control characters and invalid UTF-8 escaped.
fn esc_path(p: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    crate::escape::escape_bytes(p.as_os_str().as_bytes()).into_owned()
}

fn too_large(size: &Option<u64>) -> String {
    match size {
        Some(n) => format!("announces {n} bytes, over"),
        None => "grew past".to_owned(),
    }
}

/// Classifies a local I/O error on `path`.
pub(crate) fn local(op: Op, path: &Path, err: io::Error) -> SftpError {
    match err.kind() {
        io::ErrorKind::NotFound => SftpError::LocalNotFound {
            op,
            path: path.to_path_buf(),
        },
        io::ErrorKind::PermissionDenied => SftpError::PermissionDenied {
            op,
            side: Side::Local,
            path: path.display().to_string(),
        },
        io::ErrorKind::NotADirectory => SftpError::NotADirectory {
            op,
            side: Side::Local,
            path: path.display().to_string(),
        },
        _ => SftpError::LocalIo {
            op,
            path: path.to_path_buf(),
            source: err,
        },
    }
}

/// Classifies an SFTP error on remote `path`.
pub(crate) fn remote(op: Op, path: &str, err: ProtocolError) -> SftpError {
    match status_code(&err) {
        Some(StatusCode::NoSuchFile) => SftpError::RemoteNotFound {
            op,
            path: path.to_owned(),
        },
        Some(StatusCode::PermissionDenied) => SftpError::PermissionDenied {
            op,
            side: Side::Remote,
            path: path.to_owned(),
        },
        _ => SftpError::Remote {
            op,
            path: path.to_owned(),
            error: err,
        },
    }
}

/// The SFTP status code carried by `err`, if it is a status reply.
pub(crate) fn status_code(err: &ProtocolError) -> Option<StatusCode> {
    match err {
        ProtocolError::Status(status) => Some(status.status_code),
        _ => None,
    }
}

/// A local path as a display string.
pub(crate) fn shown(path: &Path) -> String {
    path.display().to_string()
}
