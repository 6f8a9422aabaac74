//! ssh_config, read as OpenSSH reads it: one resolver for the library,
//! the `ajssh` command line and scenario files.
//!
//! [`SshConfig`] reads `~/.ssh/config` then `/etc/ssh/ssh_config` (or one
//! file, as `ssh -F`), with their `Include`s, and resolves a host the way
//! `ssh` does: `Host` and `Match` blocks (`all`, `canonical`, `final`,
//! `host`, `originalhost`, `user`, `localuser`, `exec`, negated with `!`),
//! the first value obtained for a keyword wins (`IdentityFile` and
//! `CertificateFile` accumulate), `%` tokens, `${VAR}` and `~` expanded
//! where OpenSSH expands them. [`HostConfig::ssh_g`] prints the result in
//! `ssh -G`'s format, and the tests compare it with the real `ssh -G`.
//!
//! Acted upon: `HostName`, `Port`, `User`, `IdentityFile`,
//! `IdentitiesOnly`, `CertificateFile` (read, not used to authenticate: a
//! warning), `ProxyJump`, `ProxyCommand`, `HostKeyAlias`,
//! `UserKnownHostsFile`, `GlobalKnownHostsFile`, `StrictHostKeyChecking`,
//! `ConnectTimeout`, `ServerAliveInterval`, `ServerAliveCountMax`,
//! `KexAlgorithms`, `AddressFamily`, `HashKnownHosts`, `IdentityAgent`
//! (`SSH_AUTH_SOCK` or `none`), `IgnoreUnknown`.
//!
//! Never guessed: a keyword OpenSSH does not know (unless `IgnoreUnknown`
//! names it), a bad value or an unsupported `Match` criterion makes the
//! file an error naming `file:line`, wherever the line is. A keyword in
//! effect for a host that would change where or how securely we connect
//! and that this crate does not implement (`CanonicalizeHostname yes`,
//! `BindAddress`, `PKCS11Provider`, `KnownHostsCommand`, `RevokedHostKeys`,
//! `ProxyUseFdpass`, `IdentityAgent /path`, ...) makes that host an error
//! ([`ConfigError::Unsupported`]); one that is safe to skip (port
//! forwardings, `ControlMaster`, `ForwardAgent`, `Ciphers`, ...) gives a
//! [`ConfigWarning`]. Harmless keywords (`SendEnv`, `LogLevel`,
//! `Compression`, ...) are ignored.
//!
//! Reading is linear and bounded: file size (16 MiB, 32 MiB in all),
//! line length (64 KiB), 256 files, `Include` depth 16 and at most 1024
//! file inclusions; each file is read once however often it is included.
//!
//! ```
//! use asyncjobs_ssh::config::SshConfig;
//!
//! let config = SshConfig::from_text(
//!     "Host web*\n  User deploy\n  Port 2222\n\
//!      Match host web2\n  StrictHostKeyChecking accept-new\n",
//! )?;
//! let web1 = config.resolve("web1")?;
//! assert_eq!((web1.user.as_str(), web1.port), ("deploy", 2222));
//! assert!(web1.ssh_g().contains("stricthostkeychecking ask\n"));
//! assert!(config.resolve("web2")?.ssh_g().contains("stricthostkeychecking accept-new\n"));
//! # Ok::<(), asyncjobs_ssh::config::ConfigError>(())
//! ```

mod error;
mod glob;
mod host;
mod keyword;
mod lexer;
mod load;
mod matching;
mod pattern;
mod resolve;
mod tokens;

/// The current user's login name, as OpenSSH finds it (one rule for the
/// config's `%u` and a node's default user).
pub(crate) fn current_user() -> String {
    tokens::Local::current().user
}

/// `~`, `~/path` (under `$HOME`, as the SFTP side and local paths read it)
/// and `~user/path`; other paths, and those of users that do not exist, as
/// they are. The one tilde rule of the crate (see [`tokens::tilde`]).
pub(crate) fn expand_tilde(path: &str) -> String {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map_or_else(|| tokens::Local::current().home, std::path::PathBuf::from);
    tokens::tilde(path, &home).unwrap_or_else(|_| path.to_string())
}
mod values;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use error::{ConfigError, ConfigWarning};
pub use host::{HostConfig, Proxy, Route};
pub use values::{AddressFamily, JumpHop, StrictHostKeyChecking};

use load::{Loaded, Loader};
use tokens::Local;

use crate::node::{SshNode, SshNodeBuilder};

/// The system-wide client config, read after the user's (not with `-F`).
pub const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";

/// Most hops of a route (jump hosts reached through jump hosts included).
const MAX_HOPS: usize = 16;

/// Which config to read, as `ssh`'s `-F` chooses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `~/.ssh/config` (if it exists) then `/etc/ssh/ssh_config`.
    Default,
    /// No config at all (`-F none`).
    None,
    /// This file only (and its includes); it must exist.
    File(PathBuf),
}

impl ConfigSource {
    /// From a `-F` value: absent → [`Default`](Self::Default), `none` →
    /// [`None`](Self::None), else the file.
    pub fn from_arg(arg: Option<&Path>) -> ConfigSource {
        match arg {
            None => ConfigSource::Default,
            Some(p) if p.as_os_str() == "none" => ConfigSource::None,
            Some(p) => ConfigSource::File(p.to_path_buf()),
        }
    }
}

/// What the command line says before the config is read (OpenSSH's `-l`,
/// `-p`, `-J`): it wins over the config, and `Match user` sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Overrides {
    /// Login user (`-l`, or `user@` in the target).
    pub user: Option<String>,
    /// Port (`-p`, or `:port` in the target).
    pub port: Option<u16>,
    /// Jump hosts (`-J`); `Some(empty)` for `-J none`, which (as in
    /// OpenSSH) ignores the config's `ProxyJump` but not its `ProxyCommand`.
    pub proxy_jump: Option<Vec<JumpHop>>,
    /// `-o ProxyCommand=...`: `none` ignores the config's `ProxyCommand`.
    pub proxy_command: Option<String>,
    /// Login user of jump hosts that name none (`ajssh -u`; OpenSSH's `-l`
    /// applies to the target only, and this is `None` by default).
    pub gateway_user: Option<String>,
}

impl Overrides {
    /// No override.
    pub fn new() -> Overrides {
        Overrides::default()
    }
    /// The login user.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
    /// The port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }
    /// These jump hosts instead of the config's `ProxyJump`/`ProxyCommand`
    /// (empty: `-J none`, no ProxyJump from the config).
    pub fn proxy_jump(mut self, hops: Vec<JumpHop>) -> Self {
        self.proxy_jump = Some(hops);
        self
    }
    /// A direct connection whatever the config says: `-J none -o ProxyCommand=none`.
    pub fn direct(mut self) -> Self {
        self.proxy_jump = Some(Vec::new());
        self.proxy_command = Some("none".into());
        self
    }
    /// The login user of jump hosts that name none.
    pub fn gateway_user(mut self, user: impl Into<String>) -> Self {
        self.gateway_user = Some(user.into());
        self
    }
}

/// A key exchange list from a `KexAlgorithms` value (or `ajssh --kex`), in
/// OpenSSH's syntax applied to this crate's defaults
/// ([`default_kex_algorithms`](crate::default_kex_algorithms)): `a,b` only
/// these, in this order; `^a` first then the defaults; `+a` appended; `-a`
/// removed (`a` may be a pattern list: `-ecdh-*`); each name kept once. Names only OpenSSH implements (`sntrup761x25519-sha512*`) are
/// left out unless nothing else remains, so the connection error names them.
///
/// ```
/// let list = asyncjobs_ssh::config::kex_list("^ecdh-sha2-nistp256");
/// assert_eq!(list[0], "ecdh-sha2-nistp256");
/// assert_eq!(list[1..], asyncjobs_ssh::default_kex_algorithms()[..]);
/// ```
pub fn kex_list(value: &str) -> Vec<String> {
    const OPENSSH_ONLY: &[&str] = &[
        "sntrup761x25519-sha512",
        "sntrup761x25519-sha512@openssh.com",
    ];
    let defaults = || {
        crate::default_kex_algorithms()
            .into_iter()
            .map(str::to_string)
    };
    let names = |s: &str| -> Vec<String> { s.split(',').map(str::to_string).collect() };
    let list: Vec<String> = match value.chars().next() {
        Some('^') => names(&value[1..]).into_iter().chain(defaults()).collect(),
        Some('+') => defaults().chain(names(&value[1..])).collect(),
        Some('-') => {
            // a pattern list, as OpenSSH's `match_filter_denylist`
            let removed = &value[1..];
            defaults()
                .filter(|a| pattern::match_list(a, removed, false) != pattern::ListMatch::Yes)
                .collect()
        }
        _ => names(value),
    };
    // each name once, where it first appears (`^a` with `a` a default)
    let mut named: Vec<String> = Vec::new();
    for a in list.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
        if !named.iter().any(|n| n == a) {
            named.push(a.to_string());
        }
    }
    let kept: Vec<String> = named
        .iter()
        .filter(|a| !OPENSSH_ONLY.contains(&a.as_str()))
        .cloned()
        .collect();
    if kept.is_empty() {
        named
    } else {
        kept
    }
}

/// A config, read and checked once, resolving hosts as `ssh` does.
///
/// ```no_run
/// use asyncjobs_ssh::config::SshConfig;
///
/// // ~/.ssh/config then /etc/ssh/ssh_config, as `ssh node01` reads them
/// let config = SshConfig::load_default()?;
/// let node01 = config.node("node01")?; // HostName, Port, User, keys, ProxyJump...
/// let node02 = config.node("node02")?; // shares node01's jump host connection
/// # Ok::<(), asyncjobs_ssh::config::ConfigError>(())
/// ```
pub struct SshConfig {
    loaded: Loaded,
    local: Local,
    /// Gateway nodes built by [`node`](Self::node), shared between hosts.
    gateways: Mutex<HashMap<String, SshNode>>,
}

impl std::fmt::Debug for SshConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: Vec<_> = self.loaded.files.iter().map(|f| &f.path).collect();
        f.debug_struct("SshConfig").field("files", &files).finish()
    }
}

impl SshConfig {
    fn new(loaded: Loaded, local: Local) -> SshConfig {
        SshConfig {
            loaded,
            local,
            gateways: Mutex::new(HashMap::new()),
        }
    }

    /// Reads the config `source` designates.
    pub fn load(source: &ConfigSource) -> Result<SshConfig, ConfigError> {
        match source {
            ConfigSource::Default => Self::load_default(),
            ConfigSource::None => Ok(Self::none()),
            ConfigSource::File(p) => Self::load_file(p),
        }
    }

    /// `~/.ssh/config` (if it exists; its owner and mode are checked as
    /// OpenSSH checks them) then `/etc/ssh/ssh_config`, with their includes.
    pub fn load_default() -> Result<SshConfig, ConfigError> {
        let local = Local::current();
        let mut loader = Loader::new(&local);
        loader.root(&local.home.join(".ssh/config"), true, false, true)?;
        loader.root(Path::new(SYSTEM_CONFIG), false, false, false)?;
        let loaded = loader.finish()?;
        Ok(Self::new(loaded, local))
    }

    /// Only `path` (and its includes), as `ssh -F path`; it must exist.
    pub fn load_file(path: impl AsRef<Path>) -> Result<SshConfig, ConfigError> {
        let local = Local::current();
        let mut loader = Loader::new(&local);
        loader.root(path.as_ref(), true, true, false)?;
        let loaded = loader.finish()?;
        Ok(Self::new(loaded, local))
    }

    /// No config: every host resolves to OpenSSH's defaults (`-F none`).
    pub fn none() -> SshConfig {
        Self::new(Loaded::default(), Local::current())
    }

    /// A config given as text, read as a user's file named `<text>`
    /// (relative `Include`s are from `~/.ssh`).
    pub fn from_text(text: &str) -> Result<SshConfig, ConfigError> {
        let local = Local::current();
        let mut loader = Loader::new(&local);
        loader.root_text(Path::new("<text>"), text.as_bytes())?;
        let loaded = loader.finish()?;
        Ok(Self::new(loaded, local))
    }

    /// A config from `text` (a user file named `cfg`) for a given local
    /// user and home: tests only.
    #[cfg(test)]
    pub(crate) fn for_test(text: &str, local: Local) -> Result<SshConfig, ConfigError> {
        let mut loader = Loader::new(&local);
        loader.root_text(Path::new("cfg"), text.as_bytes())?;
        let loaded = loader.finish()?;
        Ok(Self::new(loaded, local))
    }

    /// The files read, in the order they were first read.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.loaded.files.iter().map(|f| f.path.as_path())
    }

    /// The settings of `host` (an alias or a host name), as `ssh -G host` resolves them.
    pub fn resolve(&self, host: &str) -> Result<HostConfig, ConfigError> {
        self.resolve_with(host, &Overrides::default())
    }

    /// [`resolve`](Self::resolve) with command-line values that win over the config.
    pub fn resolve_with(
        &self,
        host: &str,
        overrides: &Overrides,
    ) -> Result<HostConfig, ConfigError> {
        resolve::resolve(&self.loaded, &self.local, host, overrides)
    }

    /// `host` and its jump hosts, each resolved through the config.
    ///
    /// `ProxyJump a,b` (or `-J a,b`) is followed as OpenSSH follows it:
    /// `b` is reached through `a` with `b`'s own settings (its own
    /// `ProxyJump` overridden), and `a` as the config says (its own
    /// `ProxyJump` or `ProxyCommand` included). A hop's `user@` and `:port`
    /// win over its config. Loops and routes longer than 16 hops are errors.
    pub fn route(&self, host: &str, overrides: &Overrides) -> Result<Route, ConfigError> {
        let mut hops = Vec::new();
        self.route_into(host, overrides, &mut hops, 0)?;
        Ok(Route { hops })
    }

    fn route_into(
        &self,
        host: &str,
        ov: &Overrides,
        out: &mut Vec<HostConfig>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        if depth >= MAX_HOPS {
            return Err(ConfigError::Host {
                host: host.into(),
                message: format!("more than {MAX_HOPS} jump hosts (a ProxyJump loop?)"),
            });
        }
        let hc = self.resolve_with(host, ov)?;
        if let Proxy::Jump(hops) = &hc.proxy {
            if let Some((last, before)) = hops.split_last() {
                let gw = Overrides {
                    user: last.user.clone().or_else(|| ov.gateway_user.clone()),
                    port: last.port,
                    // the last hop is reached through the others; the first one
                    // as its own config says
                    proxy_jump: (!before.is_empty()).then(|| before.to_vec()),
                    proxy_command: None,
                    gateway_user: ov.gateway_user.clone(),
                };
                self.route_into(&last.host, &gw, out, depth + 1)?;
            }
        }
        out.push(hc);
        Ok(())
    }

    /// A node for `host` with everything the config says (jump hosts
    /// included). Jump host nodes are shared between the nodes of one
    /// `SshConfig`: hosts behind the same bastion use one connection to it.
    pub fn node(&self, host: &str) -> Result<SshNode, ConfigError> {
        Ok(self.node_builder(host)?.build())
    }

    /// [`node`](Self::node)'s builder, to set more (formatter, display name, ...).
    pub fn node_builder(&self, host: &str) -> Result<SshNodeBuilder, ConfigError> {
        let route = self.route(host, &Overrides::default())?;
        let mut gateway: Option<SshNode> = None;
        let mut key = String::new();
        for g in route.gateways() {
            key.push_str(&format!("{g:?}->"));
            let mut cache = self.gateways.lock().unwrap_or_else(|e| e.into_inner());
            let node = cache
                .entry(key.clone())
                .or_insert_with(|| {
                    let b = g.node_builder();
                    match &gateway {
                        Some(gw) => b.gateway(gw),
                        None => b,
                    }
                    .build()
                })
                .clone();
            gateway = Some(node);
        }
        let b = route.target().node_builder();
        Ok(match &gateway {
            Some(gw) => b.gateway(gw),
            None => b,
        })
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
