//! Chunked copy of file data between a reader and a writer, and the remote
//! file upload both `push` and `upload_script` use.

use std::{os::unix::fs::MetadataExt, path::Path};

use russh_sftp::{
    client::{error::Error as ProtocolError, SftpSession},
    protocol::{FileAttributes, OpenFlags, StatusCode},
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::{local, remote, shown, status_code};
use super::remote::{set_attributes, stat};
use super::{Op, SftpError, Side};

/// Bytes moved per read; the SFTP file splits writes into packets and keeps
/// many of them in flight, so this only bounds memory, not throughput.
const CHUNK: usize = 1024 * 1024;

/// The two ends of one file copy, for error messages.
pub(crate) struct Ends<'a> {
    pub(crate) from: &'a str,
    pub(crate) from_side: Side,
    pub(crate) to: &'a str,
    pub(crate) to_side: Side,
}

/// How much of a file a copy takes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Limit {
    /// The size announced before the copy (stat): the copy stops there, as
    /// `scp` does; data past it is not read. `None` or `Some(0)` (files of
    /// `/proc` say 0): read to the end.
    pub(crate) announced: Option<u64>,
    /// Most bytes accepted; one more is a [`SftpError::FileTooLarge`] error.
    pub(crate) cap: Option<u64>,
}

impl Limit {
    /// The bytes to read at most, and whether reaching that many is the
    /// normal end (the announced size) rather than the cap.
    fn stop(&self) -> (u64, bool) {
        match (self.announced, self.cap) {
            (Some(n), cap) if n > 0 && cap.is_none_or(|c| n <= c) => (n, true),
            // one byte more than the cap tells a file that is too large
            (_, Some(c)) => (c.saturating_add(1), false),
            (_, None) => (u64::MAX, false),
        }
    }
}

/// Copies from `reader` to `writer` within `limit`, then shuts `writer`
/// down (which waits for every pending remote write, or flushes a local
/// file).
pub(crate) async fn copy<R, W>(
    reader: &mut R,
    writer: &mut W,
    ends: Ends<'_>,
    limit: Limit,
) -> Result<u64, SftpError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let to_side = ends.to_side;
    let failed = |op, side, bytes, error| SftpError::Transfer {
        op,
        side,
        from: ends.from.to_owned(),
        to: ends.to.to_owned(),
        bytes,
        error,
    };
    let (stop, is_announced) = limit.stop();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    while total < stop {
        let room = usize::try_from(stop - total).map_or(CHUNK, |r| r.min(CHUNK));
        let n = reader
            .read(&mut buf[..room])
            .await
            .map_err(|e| failed(Op::Read, ends.from_side, total, e))?;
        if n == 0 {
            break;
        }
        writer
            .write_all(&buf[..n])
            .await
            .map_err(|e| failed(Op::Write, to_side, total, e))?;
        total = total.saturating_add(n as u64);
    }
    if total >= stop && !is_announced {
        if let Some(max) = limit.cap {
            return Err(SftpError::FileTooLarge {
                side: ends.from_side,
                path: ends.from.to_owned(),
                size: None,
                max,
            });
        }
    }
    writer
        .shutdown()
        .await
        .map_err(|e| failed(Op::Write, to_side, total, e))?;
    Ok(total)
}

/// Fails with [`SftpError::FileTooLarge`] when a file announces more than `cap` bytes.
pub(crate) fn check_announced(
    side: Side,
    path: &str,
    announced: Option<u64>,
    cap: Option<u64>,
) -> Result<(), SftpError> {
    match (announced, cap) {
        (Some(size), Some(max)) if size > max => Err(SftpError::FileTooLarge {
            side,
            path: path.to_owned(),
            size: Some(size),
            max,
        }),
        _ => Ok(()),
    }
}

/// How [`upload_file`] creates the remote file.
pub(crate) enum CreateMode {
    /// Create or truncate.
    Overwrite,
    /// Fail if it exists (unique names for scripts).
    Exclusive,
}

/// Uploads local regular file `local` (already stat'ed as `md`; the copy
/// stops at that size) to `remote`; if the remote file is a regular file,
/// gives it mode `mode` (on the open handle) and, if `preserve`, the times of
/// `md`.
/// Returns the number of bytes copied.
pub(crate) async fn upload_file(
    sftp: &SftpSession,
    local_path: &Path,
    md: &std::fs::Metadata,
    remote_path: &str,
    create: CreateMode,
    mode: u32,
    preserve: bool,
) -> Result<u64, SftpError> {
    let mut src = tokio::fs::File::open(local_path)
        .await
        .map_err(|e| local(Op::Open, local_path, e))?;
    let flags = match create {
        CreateMode::Overwrite => OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE,
        CreateMode::Exclusive => OpenFlags::CREATE | OpenFlags::EXCLUDE | OpenFlags::WRITE,
    };
    let mut dst = open_for_write(sftp, remote_path, flags, mode).await?;
    // Only a regular file gets our mode and times: writing into an existing
    // device such as /dev/null must not chmod it.
    let regular = match create {
        CreateMode::Exclusive => true,
        CreateMode::Overwrite => dst
            .metadata()
            .await
            .map_err(|e| remote(Op::Stat, remote_path, e))?
            .file_type()
            .is_file(),
    };
    if regular {
        // on the open handle, not the path: what the path names may change
        let mut attrs = FileAttributes::empty();
        attrs.permissions = Some(mode & 0o7777);
        dst.set_metadata(attrs)
            .await
            .map_err(|e| remote(Op::SetAttributes, remote_path, e))?;
    }
    let from = shown(local_path);
    // a local file that grows meanwhile (a log) is copied as it was stat'ed
    let limit = Limit {
        announced: Some(md.len()),
        cap: None,
    };
    let bytes = copy(
        &mut src,
        &mut dst,
        Ends {
            from: &from,
            from_side: Side::Local,
            to: remote_path,
            to_side: Side::Remote,
        },
        limit,
    )
    .await?;
    if regular && preserve {
        // times after the data, which would change them (SFTP v3 has no
        // futimes on a closed handle: by path)
        let times = (clamp_time(md.atime()), clamp_time(md.mtime()));
        set_attributes(sftp, remote_path, None, Some(times)).await?;
    }
    Ok(bytes)
}

/// Opens `path` for writing with initial permissions `mode`; a failure caused
/// by a directory in the way says so.
pub(crate) async fn open_for_write(
    sftp: &SftpSession,
    path: &str,
    flags: OpenFlags,
    mode: u32,
) -> Result<russh_sftp::client::fs::File, SftpError> {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(mode & 0o7777);
    match sftp
        .open_with_flags_and_attributes(path, flags, attrs)
        .await
    {
        Ok(file) => Ok(file),
        Err(e) => Err(explain_create_failure(sftp, path, flags, e).await),
    }
}

/// SFTP v3 reports "is a directory" and "exists" as a bare `Failure`: look.
async fn explain_create_failure(
    sftp: &SftpSession,
    path: &str,
    flags: OpenFlags,
    err: ProtocolError,
) -> SftpError {
    if status_code(&err) == Some(StatusCode::Failure) {
        if let Ok(Some(md)) = stat(sftp, path, false).await {
            let path = path.to_owned();
            return if md.file_type().is_dir() {
                SftpError::DirectoryInTheWay {
                    side: Side::Remote,
                    path,
                }
            } else if flags.contains(OpenFlags::EXCLUDE) {
                SftpError::AlreadyExists {
                    side: Side::Remote,
                    path,
                }
            } else {
                remote(Op::Create, &path, err)
            };
        }
    }
    remote(Op::Create, path, err)
}

/// Unix time as the 32-bit unsigned value SFTP v3 carries.
pub(crate) fn clamp_time(secs: i64) -> u32 {
    secs.clamp(0, i64::from(u32::MAX)) as u32
}
