//! The server's identification string (`SSH-2.0-dropbear_2022.83`), read off
//! the stream while russh reads it, and the one server bug it tells us to
//! work around.
//!
//! Dropbear 2022.82 to 2024.85 may close a session channel before running its
//! command when another session's command exits at that moment ("Fix failure
//! on concurrent channel open/close", fixed in 2024.86, Dropbear GitHub #321):
//! the command's output and exit status are lost, and it may or may not have
//! run. OpenSSH's client hits it too (multiplexed sessions). On those versions
//! a connection runs one session at a time.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// RFC 4253 allows lines before the identification; read at most this much.
const SNIFF_LIMIT: usize = 8 * 1024;
/// The identification line itself is at most 255 bytes (RFC 4253 4.2).
const ID_MAX: usize = 255;

/// A stream that records the first `SSH-...` line the server sends.
pub(crate) struct ServerIdStream<S> {
    inner: S,
    seen: Vec<u8>,
    done: bool,
    id: Arc<OnceLock<String>>,
}

impl<S> ServerIdStream<S> {
    pub fn new(inner: S) -> Self {
        ServerIdStream {
            inner,
            seen: Vec::new(),
            done: false,
            id: Arc::new(OnceLock::new()),
        }
    }

    /// Where the identification appears once read (empty if none was found).
    pub fn id(&self) -> Arc<OnceLock<String>> {
        Arc::clone(&self.id)
    }

    fn record(&mut self, bytes: &[u8]) {
        self.seen.extend_from_slice(bytes);
        while let Some(end) = self.seen.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.seen.drain(..=end).collect();
            if line.starts_with(b"SSH-") {
                let text = String::from_utf8_lossy(&line[..line.len().min(ID_MAX)]);
                let _ = self.id.set(text.trim_end().to_string());
                self.finish();
                return;
            }
        }
        if self.seen.len() > SNIFF_LIMIT {
            self.finish();
        }
    }

    fn finish(&mut self) {
        self.done = true;
        self.seen = Vec::new();
        let _ = self.id.set(String::new());
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ServerIdStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if !this.done && matches!(polled, Poll::Ready(Ok(()))) {
            this.record(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ServerIdStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Sessions a server with identification `id` can run at once on one
/// connection without losing any: `Some(1)` for Dropbear 2022.82 ..= 2024.85,
/// `None` (no limit of its own) otherwise.
pub(crate) fn safe_concurrent_sessions(id: &str) -> Option<usize> {
    // `SSH-2.0-dropbear_2022.83`, possibly followed by ` comments`.
    let software = id.strip_prefix("SSH-2.0-")?.split(' ').next()?;
    let version = software.strip_prefix("dropbear_")?;
    let (year, release) = version.split_once('.')?;
    let key = (year.parse::<u32>().ok()?, release.parse::<u32>().ok()?);
    ((2022, 82)..=(2024, 85)).contains(&key).then_some(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn dropbear_with_the_channel_race_gets_one_session_at_a_time() {
        for id in [
            "SSH-2.0-dropbear_2022.82",
            "SSH-2.0-dropbear_2022.83",
            "SSH-2.0-dropbear_2024.85 extra",
        ] {
            assert_eq!(safe_concurrent_sessions(id), Some(1), "{id}");
        }
        for id in [
            "SSH-2.0-dropbear_2020.81",
            "SSH-2.0-dropbear_2024.86",
            "SSH-2.0-dropbear_2025.87",
            "SSH-2.0-dropbear",
            "SSH-2.0-dropbear_x.y",
            "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
            "SSH-2.0-tinyssh_20230101-1 abc",
            "",
        ] {
            assert_eq!(safe_concurrent_sessions(id), None, "{id}");
        }
    }

    async fn sniff(input: &[u8]) -> (Vec<u8>, String) {
        let mut s = ServerIdStream::new(input);
        let id = s.id();
        let mut out = Vec::new();
        let mut chunk = [0u8; 7]; // small reads: the line arrives in pieces
        loop {
            let n = s.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        (out, id.get().cloned().unwrap_or_default())
    }

    #[tokio::test]
    async fn identification_is_recorded_and_bytes_pass_unchanged() {
        let input = b"banner line\r\nSSH-2.0-dropbear_2022.83\r\n\x00\x00\x01binary";
        let (out, id) = sniff(input).await;
        assert_eq!(out, input);
        assert_eq!(id, "SSH-2.0-dropbear_2022.83");
    }

    #[tokio::test]
    async fn a_server_without_identification_is_recorded_as_empty() {
        let junk = vec![b'x'; SNIFF_LIMIT + 10];
        let (out, id) = sniff(&junk).await;
        assert_eq!(out.len(), junk.len());
        assert_eq!(id, "");
    }
}
