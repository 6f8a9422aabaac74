//! The client's TCP stream, acknowledging every packet at once.
//!
//! sshd leaves Nagle on for non-interactive sessions, so it holds a small
//! packet (e.g. the channel-open confirmation) until we acknowledge the one
//! before; with nothing to send, Linux delays that ACK by 40 ms. Re-arming
//! `TCP_QUICKACK` after each read (the kernel drops it again by itself) makes
//! the ACK immediate and removes that wait from every connection set-up.
//! Elsewhere the stream is passed through unchanged.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A [`TcpStream`] that re-arms `TCP_QUICKACK` after every read that got data (Linux).
pub(crate) struct QuickAckStream {
    inner: TcpStream,
}

impl QuickAckStream {
    pub fn new(inner: TcpStream) -> Self {
        rearm(&inner);
        QuickAckStream { inner }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn rearm(stream: &TcpStream) {
    // a failure only costs the 40 ms this saves: not worth failing the read for
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn rearm(_stream: &TcpStream) {}

impl AsyncRead for QuickAckStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            rearm(&this.inner);
        }
        polled
    }
}

impl AsyncWrite for QuickAckStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
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

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;
    use socket2::SockRef;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Reading through the wrapper turns quick ACKs back on after the kernel
    /// (here: we) turned them off; reads and writes pass through unchanged.
    #[tokio::test]
    async fn reads_rearm_quickack_and_data_passes_through() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let mut server = server.unwrap().0;
        let mut stream = QuickAckStream::new(client.unwrap());
        assert!(SockRef::from(&stream.inner).tcp_quickack().unwrap());

        stream.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");

        for round in 0..3 {
            // what the kernel does on its own between packets (delayed-ACK mode)
            SockRef::from(&stream.inner)
                .set_tcp_quickack(false)
                .unwrap();
            assert!(!SockRef::from(&stream.inner).tcp_quickack().unwrap());
            server.write_all(b"pong").await.unwrap();
            let mut got = [0u8; 4];
            stream.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"pong");
            assert!(
                SockRef::from(&stream.inner).tcp_quickack().unwrap(),
                "quickack not re-armed after read {round}"
            );
        }

        drop(server);
        let mut rest = Vec::new();
        assert_eq!(
            stream.read_to_end(&mut rest).await.unwrap(),
            0,
            "EOF passes through"
        );
    }
}
