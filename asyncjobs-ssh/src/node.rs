//! [`SshNode`]: a remote host and its one lazily opened, shared connection.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::future::{join_all, BoxFuture, FutureExt};
use tokio::net::TcpStream;

use crate::auth::{self, AuthConfig};
use crate::config::{AddressFamily, ConfigError, SshConfig};
use crate::connection::{Connection, Early, HostKeyCheck, Session, Settings};
use crate::error::{ConnectError, SshError};
use crate::formatter::{default_formatter, Event, Formatter};
use crate::kex;
use crate::known_hosts::{default_known_hosts_files, known_hosts_name, HostKeyPolicy};
use crate::phase::{Phase, PhaseClock};
use crate::proxy_command;
use crate::quickack::QuickAckStream;

/// Default connect timeout (TCP, SSH handshake and authentication together), as apssh's.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default keepalive interval: a dead peer is noticed after 3 unanswered probes.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(30);
/// Default bound on concurrent session channels per connection (sshd's `MaxSessions` default).
pub const DEFAULT_MAX_SESSIONS: usize = 10;

/// A remote host reached over SSH, possibly through a gateway (jump host).
///
/// A node owns at most one SSH connection, opened on first use and shared by
/// every job and command using the node (clones of an `SshNode` share it too):
/// commands run on channels multiplexed over it. A failed connection attempt is
/// not remembered: the next use tries again. The connection is closed by
/// [`close`](SshNode::close), by [`SshJob`](crate::SshJob)'s `co_shutdown`
/// (so `Scheduler::shutdown()` closes it), and when the last clone of the node
/// is dropped. Nodes behind this one (using it as gateway) are closed first.
///
/// ```no_run
/// use asyncjobs_ssh::{HostKeyPolicy, SshNode};
/// use std::time::Duration;
///
/// let gateway = SshNode::builder("gw.example.org").user("admin").build();
/// let node = SshNode::builder("10.0.0.12")
///     .user("root")
///     .port(22)
///     .identity("/home/me/.ssh/id_ed25519")
///     .gateway(&gateway)
///     .connect_timeout(Duration::from_secs(10))
///     .host_key_policy(HostKeyPolicy::AcceptNew)
///     .build();
/// assert_eq!(node.to_string(), "admin@gw.example.org->root@10.0.0.12");
/// ```
#[derive(Clone)]
pub struct SshNode {
    inner: Arc<NodeInner>,
}

struct NodeInner {
    cfg: NodeConfig,
    formatter: Arc<dyn Formatter>,
    /// The open connection, if any; its lock serialises connecting and closing.
    slot: tokio::sync::Mutex<Option<Arc<Connection>>>,
    /// Nodes whose connections go through this one: closed before it.
    dependents: Mutex<Vec<Weak<NodeInner>>>,
    /// Live `SshJob`s on this node with `keep_connection(true)`.
    kept: AtomicUsize,
}

#[derive(Clone)]
struct NodeConfig {
    hostname: String,
    port: u16,
    user: String,
    display: String,
    custom_display: bool,
    auth: AuthConfig,
    gateway: Option<SshNode>,
    connect_timeout: Duration,
    keepalive: Option<Duration>,
    keepalive_max: usize,
    policy: HostKeyPolicy,
    /// Every known_hosts file read: the user's, then the global ones.
    known_hosts: Arc<Vec<PathBuf>>,
    /// Where accept-new records keys (the first user file).
    known_hosts_write: Option<PathBuf>,
    hash_known_hosts: bool,
    /// The name looked up in known_hosts instead of `[host]:port`.
    host_key_alias: Option<String>,
    /// The local command the SSH stream goes through, instead of TCP.
    proxy_command: Option<String>,
    address_family: AddressFamily,
    max_sessions: usize,
    /// Key exchange preferences (OpenSSH names); `None` for the defaults.
    kex: Option<Arc<Vec<String>>>,
}

/// Builds an [`SshNode`]; see [`SshNode::builder`].
#[must_use = "call build() to get the node"]
pub struct SshNodeBuilder {
    cfg: NodeConfig,
    display: Option<String>,
    /// The user's known_hosts files, if given (even none).
    known_hosts: Option<Vec<PathBuf>>,
    global_known_hosts: Vec<PathBuf>,
    formatter: Option<Arc<dyn Formatter>>,
}

/// Runs `connect` for at most `timeout`, not counting the time spent waiting
/// for passphrase prompts (a human typing); `None` when the time is up.
async fn within_connect_timeout<T>(
    timeout: Duration,
    connect: impl std::future::Future<Output = T>,
) -> Option<T> {
    let start = tokio::time::Instant::now();
    let (prompted_before, _) = auth::prompt_time();
    tokio::pin!(connect);
    loop {
        let (prompted, prompting) = auth::prompt_time();
        let spent = start
            .elapsed()
            .saturating_sub(prompted.saturating_sub(prompted_before));
        let left = timeout.saturating_sub(spent);
        if left.is_zero() && !prompting {
            return None;
        }
        // while a prompt waits, look again now and then
        let wait = if prompting {
            Duration::from_millis(200)
        } else {
            left
        };
        tokio::select! {
            r = &mut connect => return Some(r),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// The local login name, OpenSSH's default remote user: found as the ssh
/// config finds it (the password database, then `$USER`, `$LOGNAME`).
pub(crate) fn local_user() -> String {
    crate::config::current_user()
}

impl SshNodeBuilder {
    /// TCP port (default 22).
    pub fn port(mut self, port: u16) -> Self {
        self.cfg.port = port;
        self
    }
    /// Login user (default: the local user, as OpenSSH).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.cfg.user = user.into();
        self
    }
    /// Adds an identity (private key) file. When any is given, only these are
    /// tried (not the agent, not the default files).
    pub fn identity(mut self, path: impl Into<PathBuf>) -> Self {
        self.cfg.auth.identities.push((path.into(), None));
        self
    }
    /// Adds an encrypted identity file with its passphrase.
    pub fn identity_with_passphrase(
        mut self,
        path: impl Into<PathBuf>,
        passphrase: impl Into<String>,
    ) -> Self {
        self.cfg
            .auth
            .identities
            .push((path.into(), Some(passphrase.into())));
        self
    }
    /// Passphrase for encrypted key files that have none of their own (default keys included).
    pub fn passphrase(mut self, passphrase: impl Into<String>) -> Self {
        self.cfg.auth.passphrase = Some(passphrase.into());
        self
    }
    /// Asks for the passphrases of encrypted key files that have none (the
    /// identity files, or the default ones): once per key file for the whole
    /// process, however many nodes use it. Without a prompt (the default),
    /// such keys are skipped and the connection fails with
    /// [`ConnectError::KeyEncrypted`] if none other works. The connect
    /// timeout does not run while a prompt waits for its answer.
    pub fn passphrase_prompt(mut self, prompt: Arc<dyn crate::auth::PassphrasePrompt>) -> Self {
        self.cfg.auth.prompt = Some(prompt);
        self
    }
    /// Whether to use ssh-agent (`SSH_AUTH_SOCK`). Default: yes unless identity files are given.
    pub fn agent(mut self, use_agent: bool) -> Self {
        self.cfg.auth.agent = Some(use_agent);
        self
    }
    /// Reach this node through `gateway`'s connection (a `direct-tcpip` tunnel);
    /// gateways may have gateways, to any depth.
    pub fn gateway(mut self, gateway: &SshNode) -> Self {
        self.cfg.gateway = Some(gateway.clone());
        self
    }
    /// Bound on TCP connect + SSH handshake + authentication (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.connect_timeout = timeout;
        self
    }
    /// Keepalive interval (default 30 s; `None` disables). After 3 unanswered
    /// keepalives (see [`keepalive_max`](Self::keepalive_max)) the connection
    /// is considered dead.
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.cfg.keepalive = interval;
        self
    }
    /// Unanswered keepalives before the connection is considered dead
    /// (default 3, as OpenSSH's `ServerAliveCountMax`).
    pub fn keepalive_max(mut self, count: usize) -> Self {
        self.cfg.keepalive_max = count;
        self
    }
    /// What to do with unknown host keys (default [`HostKeyPolicy::Strict`]).
    pub fn host_key_policy(mut self, policy: HostKeyPolicy) -> Self {
        self.cfg.policy = policy;
        self
    }
    /// Adds a known_hosts file. When any is given, only these are read (and
    /// the [global ones](Self::global_known_hosts_files)), and accept-new
    /// writes to the first; otherwise `~/.ssh/known_hosts` and
    /// `/etc/ssh/ssh_known_hosts`.
    pub fn known_hosts_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.known_hosts
            .get_or_insert_with(Vec::new)
            .push(path.into());
        self
    }
    /// Sets the user's known_hosts files (OpenSSH's `UserKnownHostsFile`):
    /// read in order, accept-new writes to the first. Empty: none at all
    /// (not the defaults), so no key can be recorded.
    pub fn known_hosts_files<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.known_hosts = Some(paths.into_iter().map(Into::into).collect());
        self
    }
    /// Sets known_hosts files that are read after the user's but never
    /// written (OpenSSH's `GlobalKnownHostsFile`). Default: none besides
    /// `/etc/ssh/ssh_known_hosts`, which is read when no user file is given.
    pub fn global_known_hosts_files<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.global_known_hosts = paths.into_iter().map(Into::into).collect();
        self
    }
    /// Records accepted keys under a hashed name (`|1|salt|hash`, OpenSSH's
    /// `HashKnownHosts yes`) instead of the host name in clear. Default: no.
    pub fn hash_known_hosts(mut self, hash: bool) -> Self {
        self.cfg.hash_known_hosts = hash;
        self
    }
    /// Looks the host key up (and records it) under `alias` instead of
    /// `host` / `[host]:port` (OpenSSH's `HostKeyAlias`; lower-cased).
    pub fn host_key_alias(mut self, alias: impl Into<String>) -> Self {
        self.cfg.host_key_alias = Some(alias.into().to_ascii_lowercase());
        self
    }
    /// Speaks SSH over the stdin and stdout of this local command instead
    /// of a TCP connection (OpenSSH's `ProxyCommand`, e.g. `ssh -W
    /// 10.0.0.12:22 bastion`). The command line is run as is, by the user's
    /// shell (`$SHELL -c`, else `sh -c`); no `%` token is expanded here
    /// ([`SshConfig`](crate::config::SshConfig) expands them). Its stderr is
    /// shown as the node's stderr once connected, and put into the error if
    /// the connection fails; it is ended when the connection closes. A
    /// [gateway](Self::gateway) takes precedence.
    pub fn proxy_command(mut self, command: impl Into<String>) -> Self {
        self.cfg.proxy_command = Some(command.into());
        self
    }
    /// Which addresses of the host name to connect to (OpenSSH's
    /// `AddressFamily`; default: any).
    pub fn address_family(mut self, family: AddressFamily) -> Self {
        self.cfg.address_family = family;
        self
    }
    /// The name shown in output lines and errors (default: the host name;
    /// `[host]:port` when the port is not 22, so that a line prefix cannot be
    /// read as part of the output).
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display = Some(name.into());
        self
    }
    /// Where command output goes (default: [`default_formatter`], host-prefixed lines on stdout/stderr).
    pub fn formatter(mut self, formatter: Arc<dyn Formatter>) -> Self {
        self.formatter = Some(formatter);
        self
    }
    /// Bound on concurrent session channels on the connection (default 10, as sshd's `MaxSessions`).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.cfg.max_sessions = n.max(1);
        self
    }
    /// Key exchange algorithms to offer, by their OpenSSH names, most
    /// preferred first (default: [`default_kex_algorithms`](crate::default_kex_algorithms),
    /// `mlkem768x25519-sha256` and `curve25519-sha256` first). For instance
    /// `ecdh-sha2-nistp256` first costs an OpenSSH server less CPU per connection.
    /// Checked when connecting: a name not in
    /// [`supported_kex_algorithms`](crate::supported_kex_algorithms), or an
    /// empty list, fails the connection with [`ConnectError::Kex`] before
    /// anything is sent ([`check_kex_algorithms`](crate::check_kex_algorithms)
    /// checks a list beforehand).
    pub fn kex_algorithms<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cfg.kex = Some(Arc::new(names.into_iter().map(Into::into).collect()));
        self
    }
    /// The node (no connection is opened yet).
    pub fn build(self) -> SshNode {
        let mut cfg = self.cfg;
        cfg.custom_display = self.display.is_some();
        cfg.display = self
            .display
            .unwrap_or_else(|| default_display(&cfg.hostname, cfg.port));
        let user_files = self.known_hosts.unwrap_or_else(default_known_hosts_files);
        cfg.known_hosts_write = user_files.first().cloned();
        let mut files = user_files;
        files.extend(self.global_known_hosts);
        cfg.known_hosts = Arc::new(files);
        SshNode {
            inner: Arc::new(NodeInner {
                cfg,
                formatter: self.formatter.unwrap_or_else(default_formatter),
                slot: tokio::sync::Mutex::new(None),
                dependents: Mutex::new(Vec::new()),
                kept: AtomicUsize::new(0),
            }),
        }
    }
}

impl SshNode {
    /// A node with default settings: port 22, local user, agent or default keys,
    /// strict host key checking. Same as `SshNode::builder(hostname).build()`.
    pub fn new(hostname: impl Into<String>) -> SshNode {
        Self::builder(hostname).build()
    }

    /// A builder for a node on `hostname` (a name or an IP address).
    pub fn builder(hostname: impl Into<String>) -> SshNodeBuilder {
        SshNodeBuilder {
            cfg: NodeConfig {
                hostname: hostname.into(),
                port: 22,
                user: local_user(),
                display: String::new(),
                custom_display: false,
                auth: AuthConfig::default(),
                gateway: None,
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                keepalive: Some(DEFAULT_KEEPALIVE),
                keepalive_max: 3,
                policy: HostKeyPolicy::Strict,
                known_hosts: Arc::new(Vec::new()),
                known_hosts_write: None,
                hash_known_hosts: false,
                host_key_alias: None,
                proxy_command: None,
                address_family: AddressFamily::Any,
                max_sessions: DEFAULT_MAX_SESSIONS,
                kex: None,
            },
            display: None,
            known_hosts: None,
            global_known_hosts: Vec::new(),
            formatter: None,
        }
    }

    /// A node for `host` as `ssh host` would connect: `~/.ssh/config` then
    /// `/etc/ssh/ssh_config` resolve its `HostName`, `Port`, `User`, keys,
    /// jump hosts (`ProxyJump`, `ProxyCommand`), known_hosts files,
    /// `HostKeyAlias`, `StrictHostKeyChecking`, timeouts, keepalives and key
    /// exchanges (see [`config`](crate::config)).
    ///
    /// To resolve many hosts, load the config once with
    /// [`SshConfig::load_default`](crate::config::SshConfig::load_default)
    /// and call its [`node`](crate::config::SshConfig::node): jump host
    /// connections are then shared.
    ///
    /// ```no_run
    /// use asyncjobs_ssh::SshNode;
    /// // `Host node01` in ~/.ssh/config gives the address, user, port, key...
    /// let node = SshNode::from_ssh_config("node01")?;
    /// # Ok::<(), asyncjobs_ssh::config::ConfigError>(())
    /// ```
    pub fn from_ssh_config(host: &str) -> Result<SshNode, ConfigError> {
        SshConfig::load_default()?.node(host)
    }

    /// The builder of [`from_ssh_config`](Self::from_ssh_config), to set
    /// more (formatter, display name, ...) on top of the config.
    ///
    /// ```no_run
    /// use asyncjobs_ssh::SshNode;
    /// let node = SshNode::builder_from_config("node01")?
    ///     .display_name("n1")
    ///     .build();
    /// # Ok::<(), asyncjobs_ssh::config::ConfigError>(())
    /// ```
    pub fn builder_from_config(host: &str) -> Result<SshNodeBuilder, ConfigError> {
        SshConfig::load_default()?.node_builder(host)
    }

    /// The host name or address.
    pub fn hostname(&self) -> &str {
        &self.inner.cfg.hostname
    }
    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.inner.cfg.port
    }
    /// The login user.
    pub fn user(&self) -> &str {
        &self.inner.cfg.user
    }
    /// The name shown in output lines and errors.
    pub fn display_name(&self) -> &str {
        &self.inner.cfg.display
    }
    /// The gateway this node is reached through, if any.
    pub fn gateway(&self) -> Option<&SshNode> {
        self.inner.cfg.gateway.as_ref()
    }
    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.inner.cfg.connect_timeout
    }
    /// The host key policy.
    pub fn host_key_policy(&self) -> HostKeyPolicy {
        self.inner.cfg.policy
    }
    /// The known_hosts files read, the user's then the global ones
    /// (accept-new writes to the first user file).
    pub fn known_hosts_files(&self) -> &[PathBuf] {
        &self.inner.cfg.known_hosts
    }
    /// The name the host key is looked up under instead of the host, if any.
    pub fn host_key_alias(&self) -> Option<&str> {
        self.inner.cfg.host_key_alias.as_deref()
    }
    /// The local command the connection goes through, if any.
    pub fn proxy_command(&self) -> Option<&str> {
        self.inner.cfg.proxy_command.as_deref()
    }
    /// The key exchange preferences given to the builder, if any (else the defaults apply).
    pub fn kex_algorithms(&self) -> Option<&[String]> {
        self.inner.cfg.kex.as_deref().map(Vec::as_slice)
    }
    /// The formatter receiving this node's output.
    pub fn formatter(&self) -> &Arc<dyn Formatter> {
        &self.inner.formatter
    }
    /// 1 for a direct node, 1 + the gateway's distance otherwise.
    pub fn distance(&self) -> usize {
        1 + self.gateway().map_or(0, SshNode::distance)
    }
    /// `host:port` (`[addr]:port` for IPv6), as in error messages.
    pub fn target(&self) -> String {
        if self.hostname().contains(':') {
            format!("[{}]:{}", self.hostname(), self.port())
        } else {
            format!("{}:{}", self.hostname(), self.port())
        }
    }
    /// True when both values are clones of the same node (they share one connection).
    pub fn same_node(&self, other: &SshNode) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// An identity shared by clones of this node only, for de-duplication.
    pub(crate) fn identity(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Whether a display name was given to the builder (else it is derived from the host).
    pub(crate) fn has_custom_display_name(&self) -> bool {
        self.inner.cfg.custom_display
    }

    /// Whether the connection is open now.
    pub fn is_connected(&self) -> bool {
        match self.inner.slot.try_lock() {
            Ok(slot) => slot.as_ref().is_some_and(|c| !c.is_closed()),
            Err(_) => false, // someone is connecting or closing
        }
    }

    /// Opens the connection now if it is not open (jobs do this on first use).
    pub async fn connect(&self) -> Result<(), ConnectError> {
        self.connection().await.map(drop)
    }

    /// A session channel on this node's connection, for command `label`.
    ///
    /// A server may stop serving a connection after some sessions: tinysshd
    /// serves one session per connection, others close idle connections. Then
    /// the node connects again and retries, as long as each connection given
    /// up had served some session (so every retry follows someone's progress);
    /// a refusal on a connection that has served none is an error.
    pub(crate) async fn open_session(&self, label: &str) -> Result<Session, SshError> {
        let asked = std::time::Instant::now();
        loop {
            let conn = self.connection_for(Early::Session).await?;
            match conn.open_session().await {
                Ok((channel, permit)) => {
                    return Ok(Session {
                        conn,
                        channel,
                        permit,
                        asked,
                    })
                }
                Err(f) if f.worn_out && conn.served() > 0 => continue,
                Err(f) => {
                    return Err(SshError::Session {
                        host: self.display_name().into(),
                        command: label.into(),
                        message: f.message,
                    })
                }
            }
        }
    }

    /// The shared connection, opened if needed; concurrent callers wait for one attempt.
    pub(crate) fn connection(&self) -> BoxFuture<'_, Result<Arc<Connection>, ConnectError>> {
        self.connection_for(Early::Nothing)
    }

    /// [`connection`](Self::connection); if it is opened now, `then` is opened
    /// behind its authentication (see [`Early`]).
    pub(crate) fn connection_for(
        &self,
        then: Early,
    ) -> BoxFuture<'_, Result<Arc<Connection>, ConnectError>> {
        // boxed: a gateway's connection is opened from inside this one (recursion)
        self.connection_inner(then).boxed()
    }

    async fn connection_inner(&self, then: Early) -> Result<Arc<Connection>, ConnectError> {
        let mut slot = self.inner.slot.lock().await;
        if let Some(c) = slot.as_ref() {
            if !c.is_closed() {
                return Ok(Arc::clone(c));
            }
        }
        *slot = None;
        let host = self.display_name();
        let via = self.gateway().map(|g| g.to_string());
        let event = match (&via, self.proxy_command()) {
            (None, Some(command)) => Event::ConnectingThroughCommand {
                user: self.user(),
                command,
            },
            _ => Event::Connecting {
                user: self.user(),
                via: via.as_deref(),
            },
        };
        let _ = self.inner.formatter.event(host, &event);
        let node = self.clone();
        let timeout = self.inner.cfg.connect_timeout;
        let target = self.target();
        // the session task must live on the SSH runtime, not the caller's
        let outcome = crate::runtime::run(async move {
            match within_connect_timeout(timeout, node.open(then)).await {
                Some(r) => r,
                None => Err(ConnectError::Timeout {
                    target: node.target(),
                    after: timeout,
                }),
            }
        })
        .await
        .unwrap_or_else(|| {
            Err(ConnectError::Protocol {
                target,
                message: "the SSH runtime is not available".into(),
            })
        });
        match outcome {
            Ok(conn) => {
                let conn = Arc::new(conn);
                *slot = Some(Arc::clone(&conn));
                let _ = self
                    .inner
                    .formatter
                    .event(host, &Event::Connected { user: self.user() });
                Ok(conn)
            }
            Err(e) => {
                let _ = self.inner.formatter.event(
                    host,
                    &Event::ConnectFailed {
                        error: &e.to_string(),
                        cause: &e,
                    },
                );
                Err(e)
            }
        }
    }

    /// Transport, handshake and authentication (without the timeout).
    async fn open(&self, then: Early) -> Result<Connection, ConnectError> {
        let cfg = &self.inner.cfg;
        let phases =
            PhaseClock::start(Some(Arc::clone(&self.inner.formatter)), self.display_name());
        let kex = match &cfg.kex {
            None => None,
            Some(names) => Some(kex::preferred(names).map_err(|source| ConnectError::Kex {
                target: self.target(),
                source,
            })?),
        };
        let mut settings = Settings {
            check: HostKeyCheck {
                target: self.target(),
                name: match &cfg.host_key_alias {
                    Some(alias) => alias.clone(),
                    None => known_hosts_name(&cfg.hostname, cfg.port),
                },
                policy: cfg.policy,
                files: Arc::clone(&cfg.known_hosts),
                write_to: cfg.known_hosts_write.clone(),
                hash: cfg.hash_known_hosts,
            },
            keepalive: cfg.keepalive,
            keepalive_max: cfg.keepalive_max,
            max_sessions: cfg.max_sessions,
            kex,
            phases,
            then,
        };
        let (user, target, auth_cfg) = (cfg.user.clone(), self.target(), cfg.auth.clone());
        let auth = move |mut handle, then| async move {
            let early = auth::authenticate(&mut handle, &user, &target, &auth_cfg, then).await?;
            Ok((handle, early))
        };
        match (&cfg.gateway, &cfg.proxy_command) {
            (None, None) => {
                let stream = self.tcp().await?;
                settings.phases.done(Phase::Tcp);
                Connection::handshake(stream, settings, auth).await
            }
            (None, Some(command)) => self.through_command(command, settings, auth).await,
            (Some(gw), _) => {
                let tunnel = Early::Tunnel {
                    host: cfg.hostname.clone(),
                    port: cfg.port,
                };
                let gw_conn =
                    gw.connection_for(tunnel)
                        .await
                        .map_err(|e| ConnectError::Gateway {
                            target: self.target(),
                            gateway: gw.to_string(),
                            source: Box::new(e),
                        })?;
                gw.add_dependent(self);
                let stream =
                    gw_conn
                        .open_tunnel(&cfg.hostname, cfg.port)
                        .await
                        .map_err(|message| ConnectError::Tunnel {
                            target: self.target(),
                            gateway: gw.to_string(),
                            message,
                        })?;
                settings.phases.done(Phase::Tcp);
                Connection::handshake(stream, settings, auth).await
            }
        }
    }

    /// The handshake over a ProxyCommand's stdin and stdout; if it fails
    /// and the command exited, the error says so with its stderr's last lines.
    async fn through_command<F, Fut>(
        &self,
        command: &str,
        mut settings: Settings,
        auth: F,
    ) -> Result<Connection, ConnectError>
    where
        F: FnOnce(
            russh::client::Handle<crate::connection::ClientHandler>,
            Option<russh::client::OpenAfterAuth>,
        ) -> Fut,
        Fut: std::future::Future<Output = Result<crate::connection::Authenticated, ConnectError>>,
    {
        let (stream, process) = proxy_command::spawn(
            command,
            self.display_name(),
            Arc::clone(&self.inner.formatter),
        )
        .map_err(|e| ConnectError::ProxyCommand {
            target: self.target(),
            command: command.to_string(),
            message: format!("cannot be started: {e}"),
            stderr_tail: String::new(),
        })?;
        // the transport is the command's pipes: up as soon as it runs
        settings.phases.done(Phase::Tcp);
        match Connection::handshake(stream, settings, auth).await {
            Ok(conn) => Ok(conn.with_proxy(process)),
            Err(e) => {
                let (status, stderr_tail) = process.outcome().await;
                match (status, &e) {
                    // it ended: the reason is there, whatever the handshake made of it
                    (Some(status), ConnectError::Protocol { .. }) => {
                        Err(ConnectError::ProxyCommand {
                            target: self.target(),
                            command: process.command().to_string(),
                            message: format!("exited ({status}) before the SSH session was set up"),
                            stderr_tail,
                        })
                    }
                    _ => Err(e),
                }
            }
        }
    }

    /// A TCP connection to the first address of the host that accepts.
    async fn tcp(&self) -> Result<QuickAckStream, ConnectError> {
        let cfg = &self.inner.cfg;
        let addrs: Vec<_> = tokio::net::lookup_host((cfg.hostname.as_str(), cfg.port))
            .await
            .map_err(|e| ConnectError::Dns {
                host: cfg.hostname.clone(),
                message: e.to_string(),
            })?
            .filter(|a| cfg.address_family.allows(a))
            .collect();
        let mut last = ConnectError::Dns {
            host: cfg.hostname.clone(),
            message: "no address found".into(),
        };
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok(QuickAckStream::new(s));
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    last = ConnectError::Refused {
                        target: self.target(),
                    };
                }
                Err(e) => {
                    last = ConnectError::Network {
                        target: self.target(),
                        source: Arc::new(e),
                    }
                }
            }
        }
        Err(last)
    }

    fn add_dependent(&self, node: &SshNode) {
        let mut deps = self
            .inner
            .dependents
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        deps.retain(|w| w.strong_count() > 0);
        if !deps
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&node.inner)))
        {
            deps.push(Arc::downgrade(&node.inner));
        }
    }

    /// Closes the connection, after those of the nodes behind this one; waits
    /// until the server side is gone (bounded). Idempotent; a later use reconnects.
    pub fn close(&self) -> BoxFuture<'_, ()> {
        async move {
            let deps = self.live_dependents();
            join_all(deps.iter().map(SshNode::close)).await;
            let mut slot = self.inner.slot.lock().await;
            if let Some(conn) = slot.take() {
                conn.close().await;
                let _ = self
                    .inner
                    .formatter
                    .event(self.display_name(), &Event::Closed);
            }
        }
        .boxed()
    }

    /// Closes this node, then its gateway chain (each closing what is behind it first).
    pub async fn close_with_gateways(&self) {
        let mut node = Some(self);
        while let Some(n) = node {
            n.close().await;
            node = n.gateway();
        }
    }

    /// What `Scheduler::shutdown` does for a job without `keep_connection`:
    /// [`close_with_gateways`](Self::close_with_gateways), except for the
    /// nodes that are kept — used by a job with `keep_connection(true)`, or
    /// the gateway of a kept node (closing it would cut the kept connection).
    pub(crate) async fn close_with_gateways_unless_kept(&self) {
        let mut node = Some(self);
        while let Some(n) = node {
            if !n.is_kept() {
                n.close().await;
            }
            node = n.gateway();
        }
    }

    /// One more job keeps this node's connection at shutdown.
    pub(crate) fn hold(&self) {
        self.inner.kept.fetch_add(1, Ordering::SeqCst);
    }

    /// One job less keeps this node's connection at shutdown.
    pub(crate) fn release(&self) {
        // never below 0, even if hold/release were unbalanced
        let _ = self
            .inner
            .kept
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |k| k.checked_sub(1));
    }

    /// Whether this node, or a node connected through it (at any depth), is kept.
    fn is_kept(&self) -> bool {
        if self.inner.kept.load(Ordering::SeqCst) > 0 {
            return true;
        }
        self.live_dependents().iter().any(SshNode::is_kept)
    }

    /// The nodes connected through this one that still exist.
    fn live_dependents(&self) -> Vec<SshNode> {
        let deps = self
            .inner
            .dependents
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        deps.iter()
            .filter_map(Weak::upgrade)
            .map(|inner| SshNode { inner })
            .collect()
    }
}

/// The display name of a node not given one: the host name, as ajssh
/// shows a host; when the port is not 22 (or the host is an IPv6
/// address), the host in brackets, `[host]:port`, so that a line prefix
/// `[10.0.0.1]:2022:output` cannot be read as host `10.0.0.1`, output
/// `2022:output`.
fn default_display(host: &str, port: u16) -> String {
    match (port, host.contains(':')) {
        (22, false) => host.to_string(),
        (22, true) => format!("[{host}]"),
        _ => format!("[{host}]:{port}"),
    }
}

/// `host` on port 22, else `host:port`, an IPv6 address then bracketed
/// (`[::1]:2222`) so the port cannot be read as part of it.
fn host_port(host: &str, port: u16) -> String {
    match (port, host.contains(':')) {
        (22, _) => host.to_string(),
        (_, true) => format!("[{host}]:{port}"),
        (_, false) => format!("{host}:{port}"),
    }
}

impl fmt::Display for SshNode {
    /// `user@host` (with `:port` when not 22, an IPv6 address then in brackets:
    /// `user@[::1]:2222`), prefixed by `gateway->` for each gateway.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(gw) = self.gateway() {
            write!(f, "{gw}->")?;
        }
        write!(
            f,
            "{}@{}",
            self.user(),
            host_port(self.hostname(), self.port())
        )
    }
}

impl fmt::Debug for SshNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SshNode({self}, {:?})", self.inner.cfg.auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_names_are_bracketed_when_a_port_follows() {
        let gw = SshNode::builder("::1").port(2222).user("u").build();
        assert_eq!(gw.display_name(), "[::1]:2222");
        assert_eq!(gw.target(), "[::1]:2222");
        assert_eq!(gw.to_string(), "u@[::1]:2222");
        let n = SshNode::builder("fe80::1").user("r").gateway(&gw).build();
        assert_eq!(n.display_name(), "[fe80::1]");
        assert_eq!(n.to_string(), "u@[::1]:2222->r@fe80::1");
        let v4 = SshNode::builder("10.0.0.1").port(2022).user("r").build();
        assert_eq!(v4.display_name(), "[10.0.0.1]:2022");
        let plain = SshNode::builder("web").user("r").build();
        assert_eq!(plain.display_name(), "web");
        assert_eq!(v4.to_string(), "r@10.0.0.1:2022");
    }
}
