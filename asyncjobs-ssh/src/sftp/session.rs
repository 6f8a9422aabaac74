//! Opening an SFTP session on a russh connection.

use std::time::Duration;

use russh::{client, Channel, ChannelMsg};
use russh_sftp::client::{Config, SftpSession};
use tokio::io::{AsyncRead, AsyncWrite};

use super::SftpError;

/// How long the server may take to accept or refuse the subsystem request.
const SUBSYSTEM_REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the subsystem was refused, with where each server gets its SFTP server.
const REFUSED: &str = "the server refused the sftp subsystem: it has no SFTP server \
    (OpenSSH: `Subsystem sftp` in sshd_config; Dropbear: an sftp-server program, \
    e.g. package openssh-sftp-server; tinysshd: `-x sftp=PATH`)";

/// Seconds one SFTP request may stay unanswered before the session gives up;
/// generous because up to 4 MiB may be queued ahead of it on a slow link.
const REQUEST_TIMEOUT_SECS: u64 = 120;

/// Session tuning: 256 KiB requests (OpenSSH's limit), 16 in flight each way,
/// which is 4 MiB: more than the SSH channel window, so a transfer is bound
/// by the window and the ciphers, not by round trips.
fn config() -> Config {
    Config {
        max_packet_len: 256 * 1024,
        max_concurrent_reads: 16,
        max_concurrent_writes: 16,
        max_write_packet_len: 256 * 1024,
        request_timeout_secs: REQUEST_TIMEOUT_SECS,
    }
}

/// Opens a session channel on `handle`, starts the `sftp` subsystem on it and
/// returns the SFTP session. Several sessions may be open on one connection;
/// dropping the session closes its channel.
///
/// Fails with [`SftpError::SubsystemUnavailable`] when the channel or the
/// subsystem is refused, or the SFTP version handshake fails.
pub async fn open_sftp<H: client::Handler>(
    handle: &client::Handle<H>,
) -> Result<SftpSession, SftpError> {
    let channel = handle
        .channel_open_session()
        .await
        .map_err(|e| unavailable(format!("cannot open a session channel: {e}")))?;
    open_sftp_on_channel(channel).await
}

/// Starts the `sftp` subsystem on an already-open session `channel` and
/// returns the SFTP session (see [`open_sftp`]).
pub async fn open_sftp_on_channel(
    mut channel: Channel<client::Msg>,
) -> Result<SftpSession, SftpError> {
    start_subsystem(&mut channel).await?;
    sftp_on_stream(channel.into_stream()).await
}

/// Requests the `sftp` subsystem on `channel` and waits for the server's
/// answer; on a refusal the channel is closed.
pub(crate) async fn start_subsystem(channel: &mut Channel<client::Msg>) -> Result<(), SftpError> {
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| unavailable(format!("cannot request the sftp subsystem: {e}")))?;
    // Wait for the server's verdict: without it a refused subsystem would only
    // show up as a handshake timeout.
    let verdict = tokio::time::timeout(SUBSYSTEM_REPLY_TIMEOUT, async {
        loop {
            match channel.wait().await {
                Some(ChannelMsg::Success) => return Ok(()),
                Some(ChannelMsg::Failure) => return Err(REFUSED.to_owned()),
                Some(ChannelMsg::Close) | Some(ChannelMsg::Eof) | None => {
                    return Err("the channel closed before the subsystem started".to_owned())
                }
                Some(_) => {}
            }
        }
    })
    .await;
    let reason = match verdict {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(reason)) => reason,
        Err(_) => format!(
            "no reply to the subsystem request within {}s",
            SUBSYSTEM_REPLY_TIMEOUT.as_secs()
        ),
    };
    // Dropping a channel does not close it: the server would keep counting
    // it against its session limit (sshd's MaxSessions, tinysshd's one).
    let _ = channel.close().await;
    Err(unavailable(reason))
}

/// The SFTP version handshake on a stream whose subsystem has started.
pub(crate) async fn sftp_on_stream<S>(stream: S) -> Result<SftpSession, SftpError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // listings bounded on the way in (see `guard`)
    let stream = super::guard::ListingGuard::new(stream);
    SftpSession::new_with_config(stream, config())
        .await
        .map_err(|e| {
            unavailable(format!(
                "SFTP handshake failed (is the sftp subsystem working on the server?): {e}"
            ))
        })
}

fn unavailable(reason: String) -> SftpError {
    SftpError::SubsystemUnavailable { reason }
}
