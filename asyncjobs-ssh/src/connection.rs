//! One SSH connection: its russh handle, host key verification, session
//! channels (bounded like sshd's `MaxSessions`, to one for servers known to
//! lose sessions opened concurrently, and lowered to what the server really
//! allows when it refuses one), tunnels for nodes behind it, and an explicit,
//! waited-for close.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::collections::HashMap;

use russh::client::{self, Handle, Msg};
use russh::keys::{HashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelId, ChannelStream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use crate::error::ConnectError;
use crate::known_hosts::{self, HostKeyPolicy, Verdict};
use crate::phase::{Phase, PhaseClock};
use crate::proxy_command::ProxyProcess;
use crate::server_id::{safe_concurrent_sessions, ServerIdStream};
use crate::x11::X11Registry;

/// How long `close` waits for the clean-up of cancelled commands, then for the
/// session to end; also how long an ending session waits for the server's close.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// Host key checking for one connection attempt.
#[derive(Clone)]
pub(crate) struct HostKeyCheck {
    /// `host:port`, for messages.
    pub target: String,
    /// The name in known_hosts (`host` or `[host]:port`).
    pub name: String,
    pub policy: HostKeyPolicy,
    /// Files read, in order (the user's, then the global ones).
    pub files: Arc<Vec<PathBuf>>,
    /// Where accept-new records a key (the first user file), if anywhere.
    pub write_to: Option<PathBuf>,
    /// Record keys under a hashed name (`HashKnownHosts`).
    pub hash: bool,
}

impl HostKeyCheck {
    fn verify(&self, key: &russh::keys::PublicKey) -> Result<(), ConnectError> {
        if self.policy == HostKeyPolicy::AcceptAny {
            return Ok(());
        }
        let key_type = key.algorithm().to_string();
        let key_type = if key.algorithm().is_rsa() {
            "ssh-rsa".to_string()
        } else {
            key_type
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let blob = key
            .to_bytes()
            .map_err(|e| self.protocol(format!("cannot encode the host key: {e}")))?;
        let b64 = data_encoding::BASE64.encode(&blob);
        let io_err = |e: io::Error| self.protocol(format!("cannot read known_hosts: {e}"));
        match known_hosts::check(&self.files, &self.name, &key_type, &b64).map_err(io_err)? {
            Verdict::Known => Ok(()),
            Verdict::Revoked { file, line } => Err(ConnectError::HostKeyRevoked {
                target: self.target.clone(),
                fingerprint,
                file,
                line,
            }),
            Verdict::Changed { file, line } => Err(ConnectError::HostKeyChanged {
                target: self.target.clone(),
                key_type,
                fingerprint,
                file,
                line,
            }),
            Verdict::Unknown if self.policy == HostKeyPolicy::AcceptNew => {
                let Some(file) = &self.write_to else {
                    return Err(
                        self.protocol("accept-new needs a known_hosts file to write to".into())
                    );
                };
                known_hosts::append(file, &self.name, &key_type, &b64, self.hash).map_err(|e| {
                    ConnectError::KnownHostsWrite {
                        target: self.target.clone(),
                        file: file.clone(),
                        source: std::sync::Arc::new(e),
                    }
                })
            }
            Verdict::Unknown => Err(ConnectError::HostKeyUnknown {
                target: self.target.clone(),
                key_type,
                fingerprint,
                files: self.files.to_vec(),
            }),
        }
    }

    fn protocol(&self, message: String) -> ConnectError {
        ConnectError::Protocol {
            target: self.target.clone(),
            message,
        }
    }

    /// russh's host key algorithms with the ones known for this host first, as OpenSSH orders them.
    pub fn preferred_key_algorithms(&self) -> Vec<russh::keys::Algorithm> {
        let mut algos: Vec<_> = russh::Preferred::DEFAULT.key.to_vec();
        if self.policy != HostKeyPolicy::AcceptAny {
            let known = known_hosts::known_key_types(&self.files, &self.name);
            if !known.is_empty() {
                let kh_type = |a: &russh::keys::Algorithm| {
                    if a.clone().is_rsa() {
                        "ssh-rsa".to_string()
                    } else {
                        a.to_string()
                    }
                };
                algos.sort_by_key(|a| !known.contains(&kh_type(a)));
            }
        }
        algos
    }
}

/// Errors of the russh handler: russh's own, or our host key verdict.
#[derive(Debug)]
pub(crate) enum HandlerError {
    Russh(russh::Error),
    HostKey(ConnectError),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Russh(e)
    }
}

/// Channels whose close by the server someone waits for (see
/// [`Connection::watch_close`]).
type CloseWaiters = Arc<Mutex<HashMap<ChannelId, oneshot::Sender<()>>>>;

pub(crate) struct ClientHandler {
    check: HostKeyCheck,
    /// Told when the server closes a channel.
    close_waiters: CloseWaiters,
    /// The commands forwarding X11 on this connection, for the `x11` channels the server opens.
    x11: Arc<X11Registry>,
    /// Dropped with the handler when the session task ends: tells `close` it is over.
    _alive: watch::Sender<()>,
}

impl client::Handler for ClientHandler {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            // we never advertise certificate algorithms; check the certified key as a plain one
            PublicKeyOrCertificate::Certificate(cert) => cert.public_key().clone().into(),
        };
        self.check.verify(&key).map_err(HandlerError::HostKey)?;
        Ok(true)
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        let waiter = lock(&self.close_waiters).remove(&channel);
        if let Some(tx) = waiter {
            let _ = tx.send(());
        }
        Ok(())
    }

    /// An X client of a remote command: served if some command forwards X11,
    /// refused otherwise (russh would accept it and leave it unread).
    async fn server_channel_open_x11(
        &mut self,
        channel: Channel<Msg>,
        _originator_address: &str,
        _originator_port: u32,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        if !self.x11.is_active() {
            reply
                .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        reply.accept().await;
        crate::runtime::spawn(crate::x11::serve(channel, Arc::clone(&self.x11)));
        Ok(())
    }
}

/// Connection settings that do not depend on the transport.
pub(crate) struct Settings {
    pub check: HostKeyCheck,
    pub keepalive: Option<Duration>,
    /// Unanswered keepalives before the connection is considered dead.
    pub keepalive_max: usize,
    pub max_sessions: usize,
    /// Key exchange algorithms to offer (extensions included); `None` for russh's defaults.
    pub kex: Option<Vec<russh::kex::Name>>,
    /// Reports the key exchange and authentication phases.
    pub phases: PhaseClock,
    /// The channel the connection is opened for, sent right behind the last
    /// authentication request (see [`Early`]).
    pub then: Early,
}

/// What a connection is opened for, so that its first channel can be opened
/// behind the authentication request, in the same flight (RFC 4252 §5; the
/// patched russh's `authenticate_publickey_then_open`): one round trip less
/// for the first command on a host, and for the first tunnel through a gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Early {
    /// Nothing in particular (`SshNode::connect`, a chore).
    Nothing,
    /// A command or a transfer: a session channel.
    Session,
    /// A node behind this gateway: a `direct-tcpip` tunnel to `host:port`.
    Tunnel { host: String, port: u16 },
}

impl Early {
    /// The channel to open behind the last authentication request, if any.
    pub fn after_auth(&self) -> Option<russh::client::OpenAfterAuth> {
        match self {
            Early::Nothing => None,
            Early::Session => Some(russh::client::OpenAfterAuth::Session),
            Early::Tunnel { host, port } => Some(russh::client::OpenAfterAuth::DirectTcpIp {
                host_to_connect: host.clone(),
                port_to_connect: u32::from(*port),
                originator_address: TUNNEL_ORIGIN.into(),
                originator_port: 0,
            }),
        }
    }
}

/// Servers known to take a channel open right behind the authentication
/// request that succeeds (RFC 4252 §5), by their identification string:
/// OpenSSH and Dropbear. tinysshd and servers not known are asked the usual
/// way, once authenticated (tinysshd drops the connection otherwise).
fn handles_early_channels(server_id: &str) -> bool {
    let software = server_id.strip_prefix("SSH-2.0-").unwrap_or("");
    software.starts_with("OpenSSH_") || software.starts_with("dropbear")
}

/// The originator a tunnel names (the client side of `direct-tcpip`).
const TUNNEL_ORIGIN: &str = "127.0.0.1";

/// The channel opened behind authentication, until its user takes it.
type EarlyChannel = Mutex<Option<(Early, Channel<Msg>)>>;

/// What authentication gives back: the handle, and the channel opened behind
/// the last request (opened or why not), if one was.
pub(crate) type Authenticated = (
    Handle<ClientHandler>,
    Option<Result<Channel<Msg>, russh::Error>>,
);

/// An open, authenticated SSH connection.
pub(crate) struct Connection {
    handle: Handle<ClientHandler>,
    alive: watch::Receiver<()>,
    sessions: Arc<Semaphore>,
    /// Permits `sessions` has in all (held or free): `max_sessions`, lowered
    /// when the server turns out to allow fewer (see `open_session`).
    session_limit: Mutex<usize>,
    /// Session channels opened so far.
    served: AtomicUsize,
    /// A channel open failed in a way that says this connection takes no more
    /// sessions (see `OpenFailure::worn_out`); the node replaces it.
    worn_out: AtomicBool,
    close_waiters: CloseWaiters,
    /// Clean-up tasks of cancelled commands: `close` lets them finish first.
    cleanups: TaskTracker,
    target: String,
    x11: Arc<X11Registry>,
    /// The ProxyCommand the connection runs over, if any.
    proxy: Option<ProxyProcess>,
    /// The first channel, opened behind authentication (see [`Early`]).
    early: EarlyChannel,
}

impl Connection {
    /// SSH handshake on `stream` (TCP or a tunnel), then authentication by
    /// `auth`, given the channel to open behind its last request.
    pub async fn handshake<S, F, Fut>(
        stream: S,
        settings: Settings,
        auth: F,
    ) -> Result<Connection, ConnectError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        F: FnOnce(Handle<ClientHandler>, Option<russh::client::OpenAfterAuth>) -> Fut,
        Fut: std::future::Future<Output = Result<Authenticated, ConnectError>>,
    {
        let then = settings.then;
        let target = settings.check.target.clone();
        let mut phases = settings.phases;
        let mut preferred = russh::Preferred {
            key: settings.check.preferred_key_algorithms().into(),
            ..Default::default()
        };
        if let Some(kex) = settings.kex {
            preferred.kex = kex.into();
        }
        let config = client::Config {
            preferred,
            nodelay: true,
            keepalive_interval: settings.keepalive,
            keepalive_max: settings.keepalive_max,
            ..Default::default()
        };
        let (tx, alive) = watch::channel(());
        let x11 = Arc::new(X11Registry::default());
        let close_waiters = CloseWaiters::default();
        let handler = ClientHandler {
            check: settings.check,
            close_waiters: Arc::clone(&close_waiters),
            x11: Arc::clone(&x11),
            _alive: tx,
        };
        let stream = ServerIdStream::new(stream);
        let server_id = stream.id();
        let handle = client::connect_stream(Arc::new(config), stream, handler)
            .await
            .map_err(|e| match e {
                HandlerError::HostKey(e) => e,
                HandlerError::Russh(e) => ConnectError::Protocol {
                    target: target.clone(),
                    message: russh_message(&e),
                },
            })?;
        phases.done(Phase::Kex);
        let pipelined = server_id
            .get()
            .is_some_and(|id| handles_early_channels(id))
            .then(|| then.after_auth())
            .flatten();
        let (handle, early) = auth(handle, pipelined).await?;
        phases.done(Phase::Auth);
        // an early channel the server refused is opened again the usual way
        let early = match early {
            Some(Ok(channel)) => Some((then, channel)),
            _ => None,
        };
        let server_id = server_id.get().map_or("", String::as_str);
        let max_sessions = safe_concurrent_sessions(server_id)
            .map_or(settings.max_sessions, |safe| {
                safe.min(settings.max_sessions)
            })
            .max(1);
        Ok(Connection {
            handle,
            alive,
            sessions: Arc::new(Semaphore::new(max_sessions)),
            session_limit: Mutex::new(max_sessions),
            close_waiters,
            served: AtomicUsize::new(0),
            worn_out: AtomicBool::new(false),
            cleanups: TaskTracker::new(),
            target,
            x11,
            proxy: None,
            early: Mutex::new(early),
        })
    }

    /// The channel opened behind authentication, if it is `wanted` and not yet taken.
    fn take_early(&self, wanted: &Early) -> Option<Channel<Msg>> {
        let mut early = lock(&self.early);
        match early.as_ref() {
            Some((what, _)) if what == wanted => early.take().map(|(_, c)| c),
            _ => None,
        }
    }

    /// Records the ProxyCommand this connection runs over: its stderr is
    /// passed on from now on, and `close` waits until it has exited.
    pub fn with_proxy(mut self, proxy: ProxyProcess) -> Connection {
        proxy.connected();
        self.proxy = Some(proxy);
        self
    }

    /// The commands forwarding X11 on this connection.
    pub fn x11(&self) -> &Arc<X11Registry> {
        &self.x11
    }

    /// True once the session is over (closed by us, by the server, or broken).
    pub fn is_closed(&self) -> bool {
        self.worn_out.load(Ordering::Relaxed)
            || self.handle.is_closed()
            || self.alive.has_changed().is_err()
    }

    /// Session channels opened on this connection so far.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::Relaxed)
    }

    /// Opens a session channel, waiting for a free slot under `max_sessions`.
    ///
    /// Servers allow fewer sessions per connection than our default: sshd's
    /// `MaxSessions` may be lower, tinysshd and some embedded servers allow one.
    /// A refusal while other sessions of this connection are open (or being
    /// opened) is read as that limit: the connection's own limit drops to what
    /// was open, and the request waits for one of them to end and tries again.
    /// A refusal with no other session open, after earlier sessions, marks the
    /// connection worn out (the node then opens a new one); on a connection that
    /// has served nothing, it is the server's final answer.
    pub async fn open_session(&self) -> Result<(Channel<Msg>, OwnedSemaphorePermit), OpenFailure> {
        loop {
            let permit = Arc::clone(&self.sessions)
                .acquire_owned()
                .await
                .map_err(|_| OpenFailure {
                    message: "the connection is closed".into(),
                    worn_out: true,
                })?;
            if let Some(channel) = self.take_early(&Early::Session) {
                self.served.fetch_add(1, Ordering::Relaxed);
                return Ok((channel, permit));
            }
            let others = self.sessions_held().saturating_sub(1);
            match self.handle.channel_open_session().await {
                Ok(channel) => {
                    self.served.fetch_add(1, Ordering::Relaxed);
                    return Ok((channel, permit));
                }
                Err(russh::Error::ChannelOpenFailure(_)) if others > 0 => {
                    self.lower_session_limit(permit, others);
                }
                Err(e) => {
                    let worn_out = match e {
                        russh::Error::Disconnect | russh::Error::SendError => true,
                        // Refused with none of ours open, after serving sessions:
                        // tinysshd refuses while it winds down after its one
                        // session, and keeps a channel whose subsystem it refused
                        // even once closed. This connection takes no more sessions.
                        russh::Error::ChannelOpenFailure(_) => self.served() > 0,
                        _ => false,
                    };
                    if worn_out {
                        self.worn_out.store(true, Ordering::Relaxed);
                    }
                    return Err(OpenFailure {
                        message: format!(
                            "cannot open a session channel on {}: {}",
                            self.target,
                            russh_message(&e)
                        ),
                        worn_out,
                    });
                }
            }
        }
    }

    /// Permits held now: sessions open or being opened, ours included.
    fn sessions_held(&self) -> usize {
        let limit = *lock(&self.session_limit);
        limit.saturating_sub(self.sessions.available_permits())
    }

    /// After a refusal with `open` other sessions: at most `open` (at least one)
    /// from now on. Our permit is given up (forgotten, or released at limit 1).
    fn lower_session_limit(&self, permit: OwnedSemaphorePermit, open: usize) {
        let mut limit = lock(&self.session_limit);
        if *limit <= 1 {
            return; // dropping `permit` releases the only slot: wait for it
        }
        permit.forget();
        *limit -= 1;
        let excess = limit.saturating_sub(open.max(1));
        *limit -= self.sessions.forget_permits(excess);
    }

    /// Opens a `direct-tcpip` tunnel to `host:port` as seen from this connection's host.
    /// The tunnel opened behind authentication is used if it leads there.
    pub async fn open_tunnel(&self, host: &str, port: u16) -> Result<ChannelStream<Msg>, String> {
        let early = self.take_early(&Early::Tunnel {
            host: host.to_string(),
            port,
        });
        if let Some(channel) = early {
            return Ok(channel.into_stream());
        }
        let channel = self
            .handle
            .channel_open_direct_tcpip(host, u32::from(port), TUNNEL_ORIGIN, 0)
            .await
            .map_err(|e| russh_message(&e))?;
        Ok(channel.into_stream())
    }

    /// Resolves when the server closes `channel` (an error if the connection
    /// ends first). Call it while the channel is open; drop it to stop watching
    /// with [`unwatch_close`](Self::unwatch_close).
    pub fn watch_close(&self, channel: ChannelId) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        lock(&self.close_waiters).insert(channel, tx);
        rx
    }

    /// Stops watching `channel` (see [`watch_close`](Self::watch_close)).
    pub fn unwatch_close(&self, channel: ChannelId) {
        lock(&self.close_waiters).remove(&channel);
    }

    /// Runs a clean-up task (stopping a cancelled command) that `close` will wait for.
    pub fn spawn_cleanup(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        crate::runtime::spawn(self.cleanups.track_future(fut));
    }

    /// Waits for pending clean-ups, says goodbye to the server, and waits for the session to end.
    pub async fn close(&self) {
        self.cleanups.close();
        let _ = tokio::time::timeout(CLOSE_WAIT, self.cleanups.wait()).await;
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        if let Some(p) = &self.proxy {
            p.closing();
        }
        let mut alive = self.alive.clone();
        let _ = tokio::time::timeout(CLOSE_WAIT, async { while alive.changed().await.is_ok() {} })
            .await;
        if let Some(p) = &self.proxy {
            p.wait_reaped().await;
        }
    }
}

/// Why a session channel could not be opened.
#[derive(Debug)]
pub(crate) struct OpenFailure {
    /// What failed, naming the host.
    pub message: String,
    /// This connection takes no more sessions: the server ended it, or refused
    /// a channel with none of ours open after serving some. A new connection
    /// may serve the request.
    pub worn_out: bool,
}

/// A session channel just opened: its connection, the slot it holds, and
/// when the command asked for it (its [`Phase::Channel`] starts there).
pub(crate) struct Session {
    pub conn: Arc<Connection>,
    pub channel: Channel<Msg>,
    pub permit: OwnedSemaphorePermit,
    pub asked: std::time::Instant,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A russh error as a sentence (its Display is sometimes terse).
pub(crate) fn russh_message(e: &russh::Error) -> String {
    match e {
        russh::Error::ChannelOpenFailure(reason) => format!("channel open refused: {reason:?}"),
        russh::Error::Disconnect => "the server closed the connection".into(),
        russh::Error::IO(io) => io.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::handles_early_channels;

    #[test]
    fn only_servers_known_to_take_an_early_channel_get_one() {
        assert!(handles_early_channels(
            "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6"
        ));
        assert!(handles_early_channels("SSH-2.0-dropbear_2022.83"));
        assert!(!handles_early_channels("SSH-2.0-tinysshd"));
        assert!(!handles_early_channels("SSH-2.0-Go"));
        assert!(!handles_early_channels(""));
    }
}
