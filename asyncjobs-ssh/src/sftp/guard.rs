//! [`ListingGuard`]: the SFTP byte stream between the session and its
//! channel, watched so that a server cannot make a directory listing grow
//! without bound.
//!
//! The SFTP client library collects a whole listing in memory and only
//! returns at its end; a server that never ends it would grow our memory
//! until the process dies. The guard reads the packet headers going each way
//! (not the data): it notes which requests are `READDIR`s and on which
//! directory handle, counts the entries and bytes of their `NAME` replies per
//! handle and, past [`MAX_LISTING_ENTRIES`] or [`MAX_LISTING_BYTES`], hands the
//! client a `FAILURE` status carrying [`CAP_MESSAGE`] instead of the reply, so
//! the listing fails at once with memory bounded.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most entries one directory listing may have.
pub const MAX_LISTING_ENTRIES: usize = 100_000;
/// Most bytes of listing replies one directory may send (names and attributes).
pub const MAX_LISTING_BYTES: u64 = 64 * 1024 * 1024;
/// Start of the status message of a listing cut by the guard.
pub(crate) const CAP_MESSAGE: &str = "listing cut by the client at its cap";

const SSH_FXP_CLOSE: u8 = 4;
const SSH_FXP_READDIR: u8 = 12;
const SSH_FXP_STATUS: u8 = 101;
const SSH_FXP_NAME: u8 = 104;
const SSH_FX_FAILURE: u32 = 4;
/// Handles longer than this are not tracked (servers use a few bytes; the
/// protocol allows 256).
const MAX_HANDLE: usize = 256;
/// Bytes read from the channel at once.
const READ_CHUNK: usize = 64 * 1024;

/// Splits a byte stream into SFTP packets: collects the first `want(len)`
/// bytes after each length word (the header), skips or passes the rest.
#[derive(Default)]
struct Framer {
    /// The length word and the header bytes collected so far.
    head: Vec<u8>,
    /// Bytes of the current packet's body left after its header.
    rest: u64,
}

impl Framer {
    /// The packet length, once its length word is in.
    fn len(&self) -> Option<u64> {
        let word: [u8; 4] = self.head.get(..4)?.try_into().ok()?;
        Some(u64::from(u32::from_be_bytes(word)))
    }
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// Entries and bytes listed so far on one directory handle.
#[derive(Default, Clone, Copy)]
struct Listed {
    entries: u64,
    bytes: u64,
}

/// The SFTP stream with listings bounded (see the [module docs](self)).
pub(crate) struct ListingGuard<S> {
    inner: S,
    /// Outgoing packets (client to server).
    sent: Framer,
    /// `READDIR` request ids not yet answered, and their handle.
    readdirs: HashMap<u32, Vec<u8>>,
    listed: HashMap<Vec<u8>, Listed>,
    /// Incoming packets (server to client).
    received: Framer,
    /// Whether the body of the current incoming packet goes to the client.
    passing: bool,
    /// Bytes ready for the client, from `ready_at` on.
    ready: Vec<u8>,
    ready_at: usize,
    raw: Vec<u8>,
}

impl<S> ListingGuard<S> {
    pub(crate) fn new(inner: S) -> Self {
        ListingGuard {
            inner,
            sent: Framer::default(),
            readdirs: HashMap::new(),
            listed: HashMap::new(),
            received: Framer::default(),
            passing: true,
            ready: Vec::new(),
            ready_at: 0,
            raw: vec![0; READ_CHUNK],
        }
    }

    /// Notes what the client sent (`data` went to the server).
    fn watch_sent(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let f = &mut self.sent;
            if f.rest > 0 {
                let n = usize::try_from(f.rest).map_or(data.len(), |r| r.min(data.len()));
                f.rest -= n as u64;
                data = &data[n..];
                continue;
            }
            let want = match f.len() {
                None => 4,
                // type, id, handle length, handle
                Some(len) => 4 + len.min(9 + MAX_HANDLE as u64) as usize,
            };
            let n = (want - f.head.len()).min(data.len());
            f.head.extend_from_slice(&data[..n]);
            data = &data[n..];
            if f.head.len() < want || f.len().is_none() || want == 4 && f.len() != Some(0) {
                continue;
            }
            let len = f.len().unwrap_or(0);
            f.rest = len - (want as u64 - 4);
            let head = std::mem::take(&mut f.head);
            self.note_request(&head[4..]);
        }
    }

    fn note_request(&mut self, head: &[u8]) {
        let (Some(&kind), Some(id)) = (head.first(), head.get(1..).and_then(be32)) else {
            return;
        };
        let handle = head
            .get(5..)
            .and_then(be32)
            .and_then(|n| head.get(9..9 + n as usize))
            .map(<[u8]>::to_vec);
        match (kind, handle) {
            (SSH_FXP_READDIR, Some(h)) => {
                self.readdirs.insert(id, h);
            }
            (SSH_FXP_CLOSE, Some(h)) => {
                self.listed.remove(&h);
            }
            _ => {}
        }
    }

    /// Sorts bytes read from the server into what the client gets.
    fn take_received(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let f = &mut self.received;
            if f.rest > 0 {
                let n = usize::try_from(f.rest).map_or(data.len(), |r| r.min(data.len()));
                if self.passing {
                    self.ready.extend_from_slice(&data[..n]);
                }
                f.rest -= n as u64;
                data = &data[n..];
                continue;
            }
            let want = match f.len() {
                None => 4,
                // type, id, entry count
                Some(len) => 4 + len.min(9) as usize,
            };
            let n = (want - f.head.len()).min(data.len());
            f.head.extend_from_slice(&data[..n]);
            data = &data[n..];
            if f.head.len() < want || want == 4 && f.len() != Some(0) {
                continue;
            }
            let len = f.len().unwrap_or(0);
            f.rest = len - (want as u64 - 4);
            let head = std::mem::take(&mut f.head);
            match self.verdict(&head[4..], len) {
                None => {
                    self.ready.extend_from_slice(&head);
                    self.passing = true;
                }
                Some(refusal) => {
                    self.ready.extend_from_slice(&refusal);
                    self.passing = false;
                }
            }
        }
    }

    /// `None` to pass the reply whose header is `head` (packet length
    /// `len`), or the status packet to give the client instead.
    fn verdict(&mut self, head: &[u8], len: u64) -> Option<Vec<u8>> {
        let (&kind, id) = (head.first()?, head.get(1..).and_then(be32)?);
        let handle = self.readdirs.remove(&id)?;
        if kind != SSH_FXP_NAME {
            return None;
        }
        let count = head.get(5..).and_then(be32).unwrap_or(0);
        let listed = self.listed.entry(handle).or_default();
        listed.entries = listed.entries.saturating_add(u64::from(count));
        listed.bytes = listed.bytes.saturating_add(len);
        let over = if listed.entries > MAX_LISTING_ENTRIES as u64 {
            format!("{CAP_MESSAGE} of {MAX_LISTING_ENTRIES} entries")
        } else if listed.bytes > MAX_LISTING_BYTES {
            format!("{CAP_MESSAGE} of {MAX_LISTING_BYTES} bytes")
        } else {
            return None;
        };
        Some(status_packet(id, SSH_FX_FAILURE, &over))
    }
}

fn status_packet(id: u32, code: u32, message: &str) -> Vec<u8> {
    let mut body = vec![SSH_FXP_STATUS];
    body.extend_from_slice(&id.to_be_bytes());
    body.extend_from_slice(&code.to_be_bytes());
    for text in [message, "en"] {
        body.extend_from_slice(&(text.len() as u32).to_be_bytes());
        body.extend_from_slice(text.as_bytes());
    }
    let mut packet = (body.len() as u32).to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    packet
}

impl<S: AsyncRead + Unpin> AsyncRead for ListingGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.ready_at < this.ready.len() {
                let n = (this.ready.len() - this.ready_at).min(buf.remaining());
                buf.put_slice(&this.ready[this.ready_at..this.ready_at + n]);
                this.ready_at += n;
                if this.ready_at == this.ready.len() {
                    this.ready.clear();
                    this.ready_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut raw = ReadBuf::new(&mut this.raw);
            match Pin::new(&mut this.inner).poll_read(cx, &mut raw) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let filled = raw.filled().len();
                    if filled == 0 {
                        return Poll::Ready(Ok(())); // end of stream
                    }
                    let data = this.raw[..filled].to_vec();
                    this.take_received(&data);
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ListingGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            this.watch_sent(&buf[..n]);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(kind: u8, id: u32, rest: &[u8]) -> Vec<u8> {
        let mut body = vec![kind];
        body.extend_from_slice(&id.to_be_bytes());
        body.extend_from_slice(rest);
        let mut p = (body.len() as u32).to_be_bytes().to_vec();
        p.extend_from_slice(&body);
        p
    }

    fn string(s: &[u8]) -> Vec<u8> {
        let mut v = (s.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(s);
        v
    }

    fn name_reply(id: u32, count: u32, filler: usize) -> Vec<u8> {
        let mut rest = count.to_be_bytes().to_vec();
        rest.extend(std::iter::repeat_n(b'n', filler));
        packet(SSH_FXP_NAME, id, &rest)
    }

    /// Feeds `bytes` one byte at a time (the worst split) and returns what the client gets.
    fn received(g: &mut ListingGuard<()>, bytes: &[u8]) -> Vec<u8> {
        for b in bytes {
            g.take_received(std::slice::from_ref(b));
        }
        let out = g.ready[g.ready_at..].to_vec();
        g.ready.clear();
        g.ready_at = 0;
        out
    }

    #[test]
    fn replies_pass_unchanged_below_the_cap() {
        let mut g = ListingGuard::new(());
        g.watch_sent(&packet(SSH_FXP_READDIR, 7, &string(b"h1")));
        let reply = name_reply(7, 100, 50);
        assert_eq!(received(&mut g, &reply), reply);
        // a data reply to another request passes whatever it holds
        let data = packet(103, 8, &[0xff; 300]);
        assert_eq!(received(&mut g, &data), data);
    }

    #[test]
    fn a_listing_past_the_entry_cap_becomes_a_failure_status() {
        let mut g = ListingGuard::new(());
        let mut id = 0;
        let mut last = Vec::new();
        for _ in 0..=(MAX_LISTING_ENTRIES / 1000) {
            id += 1;
            g.watch_sent(&packet(SSH_FXP_READDIR, id, &string(b"h1")));
            let reply = name_reply(id, 1000, 10);
            g.take_received(&reply);
            last = g.ready[g.ready_at..].to_vec();
            g.ready.clear();
            g.ready_at = 0;
            if last != reply {
                break;
            }
        }
        assert_eq!(last[4], SSH_FXP_STATUS, "{last:?}");
        assert!(String::from_utf8_lossy(&last).contains(CAP_MESSAGE));
        assert_eq!(id as usize, MAX_LISTING_ENTRIES / 1000 + 1);
        // the stream stays in step: the next packet passes
        let next = packet(SSH_FXP_STATUS, 99, &[0; 12]);
        assert_eq!(received(&mut g, &next), next);
    }

    #[test]
    fn closing_a_handle_starts_its_count_again() {
        let mut g = ListingGuard::new(());
        g.watch_sent(&packet(SSH_FXP_READDIR, 1, &string(b"h")));
        g.take_received(&name_reply(1, MAX_LISTING_ENTRIES as u32, 0));
        g.watch_sent(&packet(SSH_FXP_CLOSE, 2, &string(b"h")));
        g.watch_sent(&packet(SSH_FXP_READDIR, 3, &string(b"h")));
        g.ready.clear();
        let reply = name_reply(3, 10, 0);
        assert_eq!(received(&mut g, &reply), reply);
    }

    #[test]
    fn short_and_empty_packets_keep_the_framing() {
        let mut g = ListingGuard::new(());
        // a VERSION packet (9 bytes), an empty packet, then a READDIR reply
        let version = packet(2, 3, &[]);
        let empty = 0u32.to_be_bytes().to_vec();
        g.watch_sent(&packet(SSH_FXP_READDIR, 5, &string(b"x")));
        let reply = name_reply(5, 1, 3);
        let all = [version, empty, reply].concat();
        assert_eq!(received(&mut g, &all), all);
    }
}
