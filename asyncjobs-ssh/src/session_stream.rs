//! A session channel as a byte stream (for SFTP) that ends its session the
//! way a server expects once dropped: end-of-file, then the server's own
//! close, and only then the connection's session slot is given back.
//!
//! Dropping a russh channel stream sends a close at once and forgets the
//! channel, so the server's close (sent once its `sftp-server` has exited) is
//! never seen. Until then the server still counts the session (sshd's
//! `MaxSessions`), and Dropbear 2022.82 ..= 2024.85 loses a session opened
//! while the previous one's process is still exiting (its GitHub #321).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use russh::client::Msg;
use russh::{Channel, ChannelId, ChannelStream};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

use crate::connection::{Connection, CLOSE_WAIT};

/// The stream of one session channel, holding its slot until it has ended.
pub(crate) struct SessionStream {
    /// `Some` until dropped.
    inner: Option<ChannelStream<Msg>>,
    ending: Option<Ending>,
}

/// What the end of the session needs.
struct Ending {
    conn: Arc<Connection>,
    id: ChannelId,
    closed: oneshot::Receiver<()>,
    permit: OwnedSemaphorePermit,
}

impl SessionStream {
    /// `channel` of `conn` as a stream; `permit` is its session slot.
    pub fn new(
        conn: &Arc<Connection>,
        channel: Channel<Msg>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        let id = channel.id();
        let closed = conn.watch_close(id);
        SessionStream {
            inner: Some(channel.into_stream()),
            ending: Some(Ending {
                conn: Arc::clone(conn),
                id,
                closed,
                permit,
            }),
        }
    }

    fn inner(&mut self) -> io::Result<&mut ChannelStream<Msg>> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "session ended"))
    }
}

impl Drop for SessionStream {
    fn drop(&mut self) {
        let (Some(mut stream), Some(end)) = (self.inner.take(), self.ending.take()) else {
            return;
        };
        let conn = Arc::clone(&end.conn);
        conn.spawn_cleanup(async move {
            let ended = async {
                // EOF: the server's sftp-server exits, then the server closes.
                let _ = stream.shutdown().await;
                let _ = end.closed.await; // Err: the connection is gone
            };
            let _ = tokio::time::timeout(CLOSE_WAIT, ended).await;
            end.conn.unwatch_close(end.id);
            drop(stream); // closes our side if the server did not
            drop(end.permit);
        });
    }
}

impl AsyncRead for SessionStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().inner() {
            Ok(s) => Pin::new(s).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for SessionStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().inner() {
            Ok(s) => Pin::new(s).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().inner() {
            Ok(s) => Pin::new(s).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().inner() {
            Ok(s) => Pin::new(s).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
