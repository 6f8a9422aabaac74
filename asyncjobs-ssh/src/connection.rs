//! One SSH connection: its russh handle, host key verification, session
//! channels (bounded like sshd's `MaxSessions`), tunnels for nodes behind it,
//! and an explicit, waited-for close.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle, Msg};
use russh::keys::{HashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelStream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use crate::error::ConnectError;
use crate::known_hosts::{self, HostKeyPolicy, Verdict};
use crate::proxy_command::ProxyProcess;
use crate::x11::X11Registry;

/// How long `close` waits for the clean-up of cancelled commands, then for the session to end.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

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
                        message: e.to_string(),
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

pub(crate) struct ClientHandler {
    check: HostKeyCheck,
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
}

/// An open, authenticated SSH connection.
pub(crate) struct Connection {
    handle: Handle<ClientHandler>,
    alive: watch::Receiver<()>,
    sessions: Arc<Semaphore>,
    /// Clean-up tasks of cancelled commands: `close` lets them finish first.
    cleanups: TaskTracker,
    target: String,
    x11: Arc<X11Registry>,
    /// The ProxyCommand the connection runs over, if any.
    proxy: Option<ProxyProcess>,
}

impl Connection {
    /// SSH handshake on `stream` (TCP or a tunnel), then authentication by `auth`.
    pub async fn handshake<S, F, Fut>(
        stream: S,
        settings: Settings,
        auth: F,
    ) -> Result<Connection, ConnectError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        F: FnOnce(Handle<ClientHandler>) -> Fut,
        Fut: std::future::Future<Output = Result<Handle<ClientHandler>, ConnectError>>,
    {
        let target = settings.check.target.clone();
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
        let handler = ClientHandler {
            check: settings.check,
            x11: Arc::clone(&x11),
            _alive: tx,
        };
        let handle = client::connect_stream(Arc::new(config), stream, handler)
            .await
            .map_err(|e| match e {
                HandlerError::HostKey(e) => e,
                HandlerError::Russh(e) => ConnectError::Protocol {
                    target: target.clone(),
                    message: russh_message(&e),
                },
            })?;
        let handle = auth(handle).await?;
        Ok(Connection {
            handle,
            alive,
            sessions: Arc::new(Semaphore::new(settings.max_sessions.max(1))),
            cleanups: TaskTracker::new(),
            target,
            x11,
            proxy: None,
        })
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
        self.handle.is_closed() || self.alive.has_changed().is_err()
    }

    /// Opens a session channel, waiting for a free slot under `max_sessions`.
    pub async fn open_session(&self) -> Result<(Channel<Msg>, OwnedSemaphorePermit), String> {
        let permit = Arc::clone(&self.sessions)
            .acquire_owned()
            .await
            .map_err(|_| "the connection is closed".to_string())?;
        let channel = self.handle.channel_open_session().await.map_err(|e| {
            format!(
                "cannot open a session channel on {}: {}",
                self.target,
                russh_message(&e)
            )
        })?;
        Ok((channel, permit))
    }

    /// Opens a `direct-tcpip` tunnel to `host:port` as seen from this connection's host.
    pub async fn open_tunnel(&self, host: &str, port: u16) -> Result<ChannelStream<Msg>, String> {
        let channel = self
            .handle
            .channel_open_direct_tcpip(host, u32::from(port), "127.0.0.1", 0)
            .await
            .map_err(|e| russh_message(&e))?;
        Ok(channel.into_stream())
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

/// A russh error as a sentence (its Display is sometimes terse).
pub(crate) fn russh_message(e: &russh::Error) -> String {
    match e {
        russh::Error::ChannelOpenFailure(reason) => format!("channel open refused: {reason:?}"),
        russh::Error::Disconnect => "the server closed the connection".into(),
        russh::Error::IO(io) => io.to_string(),
        other => other.to_string(),
    }
}
