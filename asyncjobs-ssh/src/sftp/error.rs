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
    #[error("cannot {op} {} (local): no such file or directory", path.display())]
    LocalNotFound {
        /// The operation attempted.
        op: Op,
        /// The missing path.
        path: PathBuf,
    },
    /// A remote path does not exist.
    #[error("cannot {op} {path} (remote): no such file or directory")]
    RemoteNotFound {
        /// The operation attempted.
        op: Op,
        /// The missing path.
        path: String,
    },
    /// Permission denied on a local or remote path.
    #[error("cannot {op} {path} ({side}): permission denied")]
    PermissionDenied {
        /// The operation attempted.
        op: Op,
        /// Where the path lives.
        side: Side,
        /// The path refused.
        path: String,
    },
    /// A path that must be a directory is not one.
    #[error("cannot {op} {path} ({side}): not a directory")]
    NotADirectory {
        /// The operation attempted.
        op: Op,
        /// Where the path lives.
        side: Side,
        /// The path that is not a directory.
        path: String,
    },
    /// A directory source with [`TransferOptions::recursive`](super::TransferOptions::recursive) off.
    #[error("{side} path {path} is a directory and recursive copy is off")]
    IsADirectory {
        /// Where the path lives.
        side: Side,
        /// The directory.
        path: String,
    },
    /// A file was to be created where a directory exists.
    #[error("cannot create {side} file {path}: a directory is in the way")]
    DirectoryInTheWay {
        /// Where the path lives.
        side: Side,
        /// The directory.
        path: String,
    },
    /// An exclusive creation found the file already there.
    #[error("cannot create {side} file {path}: it already exists")]
    AlreadyExists {
        /// Where the path lives.
        side: Side,
        /// The existing file.
        path: String,
    },
    /// Any other local I/O failure.
    #[error("cannot {op} {} (local): {source}", path.display())]
    LocalIo {
        /// The operation attempted.
        op: Op,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Any other failure reported by the SFTP server or session.
    #[error("cannot {op} {path} (remote): {source}")]
    Remote {
        /// The operation attempted.
        op: Op,
        /// The path involved.
        path: String,
        /// The underlying SFTP error.
        source: ProtocolError,
    },
    /// Reading or writing file data failed after the copy had started.
    #[error(
        "copy {from} -> {to} failed during {op} on the {side} side after {bytes} bytes: {source}"
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
        /// The underlying error.
        source: io::Error,
    },
    /// A local file name that is not UTF-8 (SFTP paths are strings here).
    #[error("local path {} is not valid UTF-8 and cannot be named over SFTP", path.display())]
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
        "{side} path {path} is a symbolic link loop (or nests deeper than {max_depth} levels)"
    )]
    SymlinkLoop {
        /// Where the path lives.
        side: Side,
        /// The link that closes the loop.
        path: String,
        /// The nesting bound that also stops the walk.
        max_depth: usize,
    },
    /// An include file given to [`upload_script`](super::upload_script) does not exist.
    #[error("include file {} for script {script} does not exist", path.display())]
    MissingInclude {
        /// The script name hint.
        script: String,
        /// The missing include.
        path: PathBuf,
    },
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
            source: err,
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
