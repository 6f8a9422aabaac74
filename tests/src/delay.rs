//! A TCP relay on loopback that adds latency, for tests and benchmarks of
//! round trips (this kernel has no `netem`, so the delay is added in user space).
//!
//! [`DelayProxy`] listens on a loopback address and relays every connection
//! to one target, holding each chunk it reads for a fixed delay per direction
//! before writing it on (order kept: one FIFO per direction; EOF is delayed
//! like data). By default it also emulates TCP's handshake: the target sees
//! the connection one and a half round trips after the client connected (SYN,
//! SYN-ACK, then the ACK carrying the client's first bytes), so a client's
//! wall time includes the connect round trip it would pay on a real network.
//!
//! **Counting round trips without a clock.** For each connection the proxy
//! keeps a Lamport-style depth: a chunk read from one side gets 1 + the depth
//! of the last chunk delivered to that side before it was read (0 before any;
//! with the handshake emulated, the SYN-ACK is depth 2 and the connection
//! reaching the target delivers depth 3). So a reply's depth counts the one-way
//! trips of the longest chain of messages that led to it, whatever the delay,
//! the load or the CPU time: [`FlowStats::round_trips`] is the deepest chunk the
//! server sent, halved. The depth is updated *before* a chunk is written, so it
//! is never under-counted; a message that a side sends on its own (not caused by
//! what it just received) can only be over-counted if it is read right after a
//! delivery, which a delay of milliseconds makes rare.
//!
//! Every task runs on the proxy's own runtime in a thread of its own, and
//! dropping the proxy stops them all (its port and every relayed connection
//! are closed when `drop` returns).
//!
//! ```
//! use asyncjobs_tests::{Delay, DelayProxy};
//! use std::io::{Read, Write};
//! use std::time::Duration;
//!
//! // an echo server on loopback
//! let server = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let target = server.local_addr()?;
//! std::thread::spawn(move || {
//!     let (mut s, _) = server.accept().unwrap();
//!     let mut buf = [0u8; 4];
//!     s.read_exact(&mut buf).unwrap();
//!     s.write_all(&buf).unwrap();
//! });
//! let proxy = DelayProxy::start(target, Delay::round_trip(Duration::from_millis(20)))?;
//! let mut client = std::net::TcpStream::connect(proxy.addr())?;
//! client.write_all(b"ping")?;
//! let mut got = [0u8; 4];
//! client.read_exact(&mut got)?;
//! assert_eq!(&got, b"ping");
//! // connect (1 round trip) + ping/pong (1)
//! assert_eq!(proxy.flows()[0].round_trips(), 2.0);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Read buffer of each relay direction.
const CHUNK: usize = 64 * 1024;
/// Depth of the SYN-ACK, as the client sees it when its connect returns.
const SYN_ACK_DEPTH: u32 = 2;

/// The latency a [`DelayProxy`] adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay {
    /// Added to every chunk from the client to the target.
    pub to_server: Duration,
    /// Added to every chunk from the target to the client.
    pub to_client: Duration,
    /// Emulate TCP's handshake: connect to the target only after
    /// `2 × to_server + to_client` (see the module doc).
    pub handshake: bool,
}

impl Delay {
    /// Half of `rtt` each way, with the TCP handshake emulated.
    pub fn round_trip(rtt: Duration) -> Delay {
        Delay {
            to_server: rtt / 2,
            to_client: rtt - rtt / 2,
            handshake: true,
        }
    }

    /// One round trip.
    pub fn rtt(&self) -> Duration {
        self.to_server + self.to_client
    }

    /// How long after the client's connect the target is connected to.
    fn connect_after(&self) -> Duration {
        if self.handshake {
            self.to_server * 2 + self.to_client
        } else {
            Duration::ZERO
        }
    }
}

/// What one relayed connection carried, as counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Bytes from the client to the target.
    pub bytes_to_server: u64,
    /// Bytes from the target to the client.
    pub bytes_to_client: u64,
    /// Chunks (reads) from the client.
    pub chunks_to_server: u64,
    /// Chunks (reads) from the target.
    pub chunks_to_client: u64,
    /// Deepest chunk the client sent (see the module doc; 0: none).
    pub client_depth: u32,
    /// Deepest chunk the target sent (0: none).
    pub server_depth: u32,
}

impl FlowStats {
    /// Round trips the client waited for: the deepest chunk the target sent,
    /// halved (one way is half a round trip). With the handshake emulated, the
    /// connect counts as one.
    pub fn round_trips(&self) -> f64 {
        f64::from(self.server_depth) / 2.0
    }
}

/// One chunk the proxy read, in the order read: what [`DelayProxy::chunks`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// From the client (true) or from the target (false).
    pub to_server: bool,
    /// Its depth (see the module doc).
    pub depth: u32,
    /// Its size.
    pub bytes: usize,
    /// When it was read, after the connection was accepted.
    pub at: Duration,
}

impl std::fmt::Display for Chunk {
    /// `c->s depth 5, 920 bytes at 101.2 ms`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} depth {}, {} bytes at {:.1} ms",
            if self.to_server { "c->s" } else { "s->c" },
            self.depth,
            self.bytes,
            self.at.as_secs_f64() * 1e3
        )
    }
}

/// The counters of one connection, shared by its four tasks.
struct Flow {
    accepted: Instant,
    /// Every chunk read, for explanations (bounded: see [`MAX_LOGGED`]).
    log: Mutex<Vec<Chunk>>,
    bytes: [AtomicU64; 2],
    chunks: [AtomicU64; 2],
    /// Depth of the last chunk delivered to the server / to the client.
    delivered: [AtomicU32; 2],
    /// Deepest chunk read from the client / from the server.
    sent: [AtomicU32; 2],
}

/// Index of a direction in [`Flow`]'s arrays: what is delivered to (or read from) whom.
const TO_SERVER: usize = 0;
const TO_CLIENT: usize = 1;

/// Chunks logged per connection at most (a bulk transfer is not worth listing).
const MAX_LOGGED: usize = 10_000;

impl Flow {
    fn new() -> Flow {
        Flow {
            accepted: Instant::now(),
            log: Mutex::default(),
            bytes: Default::default(),
            chunks: Default::default(),
            delivered: Default::default(),
            sent: Default::default(),
        }
    }

    fn stats(&self) -> FlowStats {
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        FlowStats {
            bytes_to_server: get(&self.bytes[TO_SERVER]),
            bytes_to_client: get(&self.bytes[TO_CLIENT]),
            chunks_to_server: get(&self.chunks[TO_SERVER]),
            chunks_to_client: get(&self.chunks[TO_CLIENT]),
            client_depth: self.sent[TO_SERVER].load(Ordering::SeqCst),
            server_depth: self.sent[TO_CLIENT].load(Ordering::SeqCst),
        }
    }
}

/// A chunk on its way, or the end of a direction.
struct Held {
    due: Instant,
    depth: u32,
    /// Empty: end of stream (shut the write side down).
    bytes: Vec<u8>,
}

/// A loopback TCP relay adding a delay per direction; see the module doc.
pub struct DelayProxy {
    addr: SocketAddr,
    delay: Delay,
    flows: Arc<Mutex<Vec<Arc<Flow>>>>,
    /// Dropped to stop the proxy.
    stop: Option<oneshot::Sender<()>>,
    /// Runs the proxy's runtime; joined on drop, once every task is dropped.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for DelayProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelayProxy")
            .field("addr", &self.addr)
            .field("delay", &self.delay)
            .finish()
    }
}

impl DelayProxy {
    /// A proxy on `127.0.0.1` (a free port) relaying to `target`.
    pub fn start(target: SocketAddr, delay: Delay) -> io::Result<DelayProxy> {
        DelayProxy::start_on(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            target,
            delay,
        )
    }

    /// A proxy listening on `listen` (loopback only; port 0 for a free one)
    /// relaying to `target` (loopback only).
    pub fn start_on(
        listen: SocketAddr,
        target: SocketAddr,
        delay: Delay,
    ) -> io::Result<DelayProxy> {
        for (what, a) in [("listen", listen), ("target", target)] {
            if !a.ip().is_loopback() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the delay proxy only relays on loopback: {what} address {a}"),
                ));
            }
        }
        let listener = std::net::TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        // one thread of its own: the delays stay accurate whatever the test does
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let flows: Arc<Mutex<Vec<Arc<Flow>>>> = Arc::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let shared = Arc::clone(&flows);
        let thread = std::thread::Builder::new()
            .name("delay-proxy".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        () = accept_loop(listener, target, delay, shared) => {}
                        _ = stopped => {}
                    }
                });
                // dropping the runtime drops every task, and with them the sockets
                drop(runtime);
            })?;
        Ok(DelayProxy {
            addr,
            delay,
            flows,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The delay it adds.
    pub fn delay(&self) -> Delay {
        self.delay
    }

    /// The name of the proxy's address in known_hosts (`[ip]:port`).
    pub fn known_hosts_name(&self) -> String {
        format!("[{}]:{}", self.addr.ip(), self.addr.port())
    }

    /// The connections relayed so far, in the order they were accepted.
    pub fn flows(&self) -> Vec<FlowStats> {
        lock(&self.flows).iter().map(|f| f.stats()).collect()
    }

    /// The chunks connection `flow` (index in [`flows`](Self::flows)) carried,
    /// in the order read (the first 10,000): where each round trip went.
    pub fn chunks(&self, flow: usize) -> Vec<Chunk> {
        lock(&self.flows)
            .get(flow)
            .map(|f| lock(&f.log).clone())
            .unwrap_or_default()
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // brief: the thread only drops its tasks; a panic there was already reported
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    delay: Delay,
    flows: Arc<Mutex<Vec<Arc<Flow>>>>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // e.g. out of file descriptors: try again shortly rather than spin
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let flow = Arc::new(Flow::new());
        lock(&flows).push(Arc::clone(&flow));
        tokio::spawn(relay(client, target, delay, flow));
    }
}

/// One connection: the client's bytes are read (and held) at once; the target
/// is connected after the emulated handshake; then both directions run.
async fn relay(client: TcpStream, target: SocketAddr, delay: Delay, flow: Arc<Flow>) {
    let accepted = Instant::now();
    let _ = client.set_nodelay(true);
    if delay.handshake {
        flow.delivered[TO_CLIENT].store(SYN_ACK_DEPTH, Ordering::SeqCst);
    }
    let (client_read, client_write) = client.into_split();
    let (up_tx, up_rx) = mpsc::unbounded_channel();
    // dropping the set (the runtime shutting down) aborts every task in it
    let mut tasks = JoinSet::new();
    tasks.spawn(read_side(
        client_read,
        up_tx,
        delay.to_server,
        Arc::clone(&flow),
        TO_SERVER,
    ));
    tokio::time::sleep_until(accepted + delay.connect_after()).await;
    let Ok(server) = TcpStream::connect(target).await else {
        return; // the client sees the connection closed, as after a refused connect
    };
    let _ = server.set_nodelay(true);
    if delay.handshake {
        // the ACK with the client's first bytes reaches the server
        flow.delivered[TO_SERVER].store(SYN_ACK_DEPTH + 1, Ordering::SeqCst);
    }
    let (server_read, server_write) = server.into_split();
    let (down_tx, down_rx) = mpsc::unbounded_channel();
    tasks.spawn(write_side(
        server_write,
        up_rx,
        Arc::clone(&flow),
        TO_SERVER,
    ));
    tasks.spawn(read_side(
        server_read,
        down_tx,
        delay.to_client,
        Arc::clone(&flow),
        TO_CLIENT,
    ));
    tasks.spawn(write_side(client_write, down_rx, flow, TO_CLIENT));
    while let Some(done) = tasks.join_next().await {
        if !done.unwrap_or(false) {
            // a side failed: the connection is over, drop both sockets
            tasks.abort_all();
        }
    }
}

/// Reads one side; each chunk is held for `delay`, with its depth.
async fn read_side(
    mut from: OwnedReadHalf,
    to: mpsc::UnboundedSender<Held>,
    delay: Duration,
    flow: Arc<Flow>,
    dir: usize,
) -> bool {
    // what this side has been delivered lives in the other direction's slot
    let seen = 1 - dir;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(n) => n,
            Err(_) => return false,
        };
        let depth = if n == 0 {
            0
        } else {
            let d = flow.delivered[seen].load(Ordering::SeqCst) + 1;
            flow.sent[dir].fetch_max(d, Ordering::SeqCst);
            flow.bytes[dir].fetch_add(n as u64, Ordering::SeqCst);
            flow.chunks[dir].fetch_add(1, Ordering::SeqCst);
            let mut log = lock(&flow.log);
            if log.len() < MAX_LOGGED {
                log.push(Chunk {
                    to_server: dir == TO_SERVER,
                    depth: d,
                    bytes: n,
                    at: flow.accepted.elapsed(),
                });
            }
            d
        };
        let held = Held {
            due: Instant::now() + delay,
            depth,
            bytes: buf[..n].to_vec(),
        };
        if to.send(held).is_err() || n == 0 {
            return n == 0;
        }
    }
}

/// Writes what `from` holds to one side, each chunk when it is due.
async fn write_side(
    mut to: OwnedWriteHalf,
    mut from: mpsc::UnboundedReceiver<Held>,
    flow: Arc<Flow>,
    dir: usize,
) -> bool {
    while let Some(held) = from.recv().await {
        tokio::time::sleep_until(held.due).await;
        if held.bytes.is_empty() {
            return to.shutdown().await.is_ok();
        }
        // counted as delivered before it is: a reply can never be read first
        flow.delivered[dir].fetch_max(held.depth, Ordering::SeqCst);
        if to.write_all(&held.bytes).await.is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::time::Instant;

    use super::*;

    /// An echo server on loopback for one connection, echoing each read as it comes.
    fn echo_server() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        addr
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn bytes_keep_their_order_and_both_directions_are_delayed() {
        let delay = Delay {
            to_server: ms(15),
            to_client: ms(25),
            handshake: false,
        };
        let proxy = DelayProxy::start(echo_server(), delay).unwrap();
        let mut client = TcpStream::connect(proxy.addr()).unwrap();
        client.set_nodelay(true).unwrap();
        let sent: Vec<u8> = (0..2000u32).flat_map(|i| i.to_be_bytes()).collect();
        let start = Instant::now();
        for piece in sent.chunks(97) {
            client.write_all(piece).unwrap();
        }
        client.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        // a lower bound the proxy guarantees by construction, not a speed check
        assert!(start.elapsed() >= delay.rtt(), "{:?}", start.elapsed());
        assert_eq!(got, sent, "bytes reordered or lost");
        let flow = proxy.flows()[0];
        assert_eq!(flow.bytes_to_server, sent.len() as u64);
        assert_eq!(flow.bytes_to_client, sent.len() as u64);
    }

    /// `k` ping-pongs after the connect: the count follows the message flow.
    fn ping_pongs(k: usize, handshake: bool) -> (FlowStats, Vec<Chunk>) {
        let delay = Delay {
            handshake,
            ..Delay::round_trip(ms(10))
        };
        let proxy = DelayProxy::start(echo_server(), delay).unwrap();
        let mut client = TcpStream::connect(proxy.addr()).unwrap();
        for i in 0..k {
            let ping = format!("{i:04}");
            client.write_all(ping.as_bytes()).unwrap();
            let mut pong = [0u8; 4];
            client.read_exact(&mut pong).unwrap();
            assert_eq!(&pong, ping.as_bytes());
        }
        drop(client);
        (proxy.flows()[0], proxy.chunks(0))
    }

    #[test]
    fn round_trips_are_counted_from_the_message_flow() {
        let (plain, chunks) = ping_pongs(5, false);
        assert_eq!((plain.client_depth, plain.server_depth), (9, 10));
        assert_eq!(plain.round_trips(), 5.0);
        assert_eq!((plain.chunks_to_server, plain.chunks_to_client), (5, 5));
        let flow: Vec<(bool, u32, usize)> = chunks
            .iter()
            .map(|c| (c.to_server, c.depth, c.bytes))
            .collect();
        let expected: Vec<(bool, u32, usize)> = (1..=10).map(|d| (d % 2 == 1, d, 4)).collect();
        assert_eq!(flow, expected);
        // the emulated TCP handshake is one more round trip before the first byte
        assert_eq!(ping_pongs(5, true).0.round_trips(), 6.0);
        assert_eq!(ping_pongs(1, true).0.round_trips(), 2.0);
    }

    #[test]
    fn the_target_is_reached_only_after_the_emulated_handshake() {
        let delay = Delay::round_trip(ms(20));
        let proxy = DelayProxy::start(echo_server(), delay).unwrap();
        let start = Instant::now();
        let mut client = TcpStream::connect(proxy.addr()).unwrap();
        client.write_all(b"x").unwrap();
        let mut one = [0u8; 1];
        client.read_exact(&mut one).unwrap();
        // SYN, SYN-ACK, ACK with the data, and the reply: two round trips at least
        assert!(start.elapsed() >= delay.rtt() * 2, "{:?}", start.elapsed());
    }

    #[test]
    fn dropping_the_proxy_closes_its_connections_and_its_port() {
        let proxy = DelayProxy::start(echo_server(), Delay::round_trip(ms(2))).unwrap();
        let addr = proxy.addr();
        let mut client = TcpStream::connect(addr).unwrap();
        client.write_all(b"ping").unwrap();
        let mut pong = [0u8; 4];
        client.read_exact(&mut pong).unwrap();
        drop(proxy);
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut rest = Vec::new();
        // EOF or reset, never a hang (the bound above only guards the test)
        let _ = client.read_to_end(&mut rest);
        assert!(rest.is_empty());
        assert!(TcpStream::connect(addr).is_err(), "still listening");
    }

    #[test]
    fn only_loopback_addresses_are_relayed() {
        let outside: SocketAddr = "192.0.2.1:22".parse().unwrap();
        let err = DelayProxy::start(outside, Delay::round_trip(ms(1))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("loopback"), "{err}");
    }
}
