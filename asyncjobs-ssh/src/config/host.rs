//! What the config resolves for one host ([`HostConfig`]), the chain of jump
//! hosts in front of it ([`Route`]), and the nodes built from them.

use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigWarning;
use super::values::{AddressFamily, JumpHop, StrictHostKeyChecking};
use crate::node::{SshNode, SshNodeBuilder};

/// How a host is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proxy {
    /// A TCP connection to `hostname:port`.
    Direct,
    /// Through these jump hosts (`ProxyJump`, `-J`), first hop first; a
    /// [`Route`] resolves each of them through the config.
    Jump(Vec<JumpHop>),
    /// Through this local command (`ProxyCommand`, tokens expanded), run with
    /// `sh -c` and spoken to over its stdin and stdout.
    Command(String),
}

/// The values `ssh -G` prints as written (unexpanded), kept for [`HostConfig::ssh_g`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Raw {
    pub identity_files: Vec<String>,
    pub certificate_files: Vec<String>,
    pub global_known_hosts: Vec<String>,
    pub proxy_command: Option<String>,
    /// `ProxyJump` as `ssh -G` prints it.
    pub proxy_jump: Option<String>,
    pub identity_agent: Option<String>,
    pub ignore_unknown: Option<String>,
    pub server_alive_interval: u32,
    pub connect_timeout: Option<u32>,
    /// The user came from the config or an override (not the local default).
    pub user_set: bool,
}

/// The settings of one host, resolved from the config as OpenSSH does
/// (`ssh -G HOST` prints the same values), with OpenSSH's defaults where
/// the config says nothing.
///
/// Built by [`SshConfig::resolve`](super::SshConfig::resolve); turned into a
/// node builder by [`node_builder`](Self::node_builder). The fields are
/// public so that a program can override them (as command-line options
/// override the config) before building the node.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostConfig {
    /// The host as given (an alias, or a host name).
    pub host: String,
    /// The name or address to connect to (`HostName`, lower-cased unless an address).
    pub hostname: String,
    /// Login user (`User`, else the local user).
    pub user: String,
    /// Port (`Port`, else 22).
    pub port: u16,
    /// `IdentityFile` entries, expanded (`~`, `%` tokens, `${VAR}`); empty
    /// when the config names none (the library's default keys are then tried).
    pub identity_files: Vec<PathBuf>,
    /// `IdentitiesOnly`: only the identity files, not every agent key.
    pub identities_only: bool,
    /// `CertificateFile` entries, expanded.
    pub certificate_files: Vec<PathBuf>,
    /// `ProxyJump` / `ProxyCommand`.
    pub proxy: Proxy,
    /// `HostKeyAlias`, lower-cased: the name looked up and recorded in known_hosts.
    pub host_key_alias: Option<String>,
    /// `UserKnownHostsFile` (default `~/.ssh/known_hosts ~/.ssh/known_hosts2`),
    /// expanded; `accept-new` records keys in the first.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// `GlobalKnownHostsFile` (default `/etc/ssh/ssh_known_hosts
    /// /etc/ssh/ssh_known_hosts2`): read, never written.
    pub global_known_hosts_files: Vec<PathBuf>,
    /// `StrictHostKeyChecking` (default `ask`, which refuses unknown hosts here).
    pub strict_host_key_checking: StrictHostKeyChecking,
    /// `ConnectTimeout`; `None` when unset (or 0).
    pub connect_timeout: Option<Duration>,
    /// `ServerAliveInterval`: `None` when unset (the library's keepalive
    /// then applies), `Some(0)` to send none.
    pub server_alive_interval: Option<Duration>,
    /// `ServerAliveCountMax` (default 3).
    pub server_alive_count_max: u32,
    /// `KexAlgorithms` applied to this crate's defaults (see
    /// [`kex_list`](super::kex_list)); `None` for the defaults.
    pub kex_algorithms: Option<Vec<String>>,
    /// `AddressFamily`.
    pub address_family: AddressFamily,
    /// `HashKnownHosts`: keys recorded by `accept-new` get hashed names.
    pub hash_known_hosts: bool,
    /// Whether ssh-agent may be used (`IdentityAgent none` says no).
    pub use_agent: bool,
    /// Settings in effect that are not acted upon (safe to skip).
    pub warnings: Vec<ConfigWarning>,
    pub(crate) raw: Raw,
}

/// The key files tried when the config names none, as `ssh -G` would list them.
const DEFAULT_IDENTITIES: &[&str] = &["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"];

impl HostConfig {
    /// True when neither the config nor an override named the user (the
    /// local user is [`user`](Self::user) by default).
    pub fn user_is_local_default(&self) -> bool {
        !self.raw.user_set
    }

    /// The configuration in `ssh -G`'s format: one `keyword value` line
    /// each, lower-case keywords, for the keywords this crate acts on (key
    /// exchanges as this crate will offer them, key files as the config
    /// writes them).
    pub fn ssh_g(&self) -> String {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut out = String::new();
        let mut line = |k: &str, v: &str| {
            out.push_str(k);
            out.push(' ');
            out.push_str(v);
            out.push('\n');
        };
        line("host", &self.host);
        line("user", &self.user);
        line("hostname", &self.hostname);
        line("port", &self.port.to_string());
        line("addressfamily", self.address_family.ssh_g());
        line("canonicalizehostname", "false");
        line("hashknownhosts", yes_no(self.hash_known_hosts));
        line("identitiesonly", yes_no(self.identities_only));
        line(
            "stricthostkeychecking",
            self.strict_host_key_checking.ssh_g(),
        );
        line(
            "serveralivecountmax",
            &self.server_alive_count_max.to_string(),
        );
        line(
            "serveraliveinterval",
            &self.raw.server_alive_interval.to_string(),
        );
        if let Some(a) = &self.host_key_alias {
            line("hostkeyalias", a);
        }
        if let Some(a) = &self.raw.identity_agent {
            line("identityagent", a);
        }
        if let Some(i) = &self.raw.ignore_unknown {
            line("ignoreunknown", i);
        }
        let kex = match &self.kex_algorithms {
            Some(list) => list.join(","),
            None => crate::default_kex_algorithms().join(","),
        };
        line("kexalgorithms", &kex);
        if self.raw.identity_files.is_empty() {
            for f in DEFAULT_IDENTITIES {
                line("identityfile", f);
            }
        }
        for f in &self.raw.identity_files {
            line("identityfile", f);
        }
        for f in &self.raw.certificate_files {
            line("certificatefile", f);
        }
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(" ")
            }
        };
        line(
            "globalknownhostsfile",
            &list(self.raw.global_known_hosts.clone()),
        );
        line(
            "userknownhostsfile",
            &list(
                self.user_known_hosts_files
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect(),
            ),
        );
        match self.raw.connect_timeout {
            Some(t) => line("connecttimeout", &t.to_string()),
            None => line("connecttimeout", "none"),
        }
        match (&self.raw.proxy_jump, &self.raw.proxy_command) {
            (Some(j), _) => line("proxyjump", j),
            (None, Some(c)) => line("proxycommand", c),
            (None, None) => {}
        }
        out
    }

    /// A builder for a node with these settings, without gateway (a
    /// [`Route`] adds the jump hosts). Identity files that do not exist are
    /// skipped, as OpenSSH does; ssh-agent is used besides them unless
    /// `IdentitiesOnly yes` or `IdentityAgent none`.
    pub fn node_builder(&self) -> SshNodeBuilder {
        let mut b = SshNode::builder(&self.hostname)
            .port(self.port)
            .user(&self.user)
            .host_key_policy(self.strict_host_key_checking.policy())
            .known_hosts_files(self.user_known_hosts_files.iter().cloned())
            .global_known_hosts_files(self.global_known_hosts_files.iter().cloned())
            .hash_known_hosts(self.hash_known_hosts)
            .address_family(self.address_family);
        let mut any_key = false;
        for f in self.identity_files.iter().filter(|f| f.exists()) {
            b = b.identity(f);
            any_key = true;
        }
        let agent = self.use_agent && !self.identities_only;
        if any_key || !agent {
            b = b.agent(agent);
        }
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(i) = self.server_alive_interval {
            b = b
                .keepalive((!i.is_zero()).then_some(i))
                .keepalive_max(self.server_alive_count_max as usize);
        }
        if let Some(kex) = &self.kex_algorithms {
            b = b.kex_algorithms(kex.iter().cloned());
        }
        if let Some(alias) = &self.host_key_alias {
            b = b.host_key_alias(alias);
        }
        if let Proxy::Command(c) = &self.proxy {
            b = b.proxy_command(c);
        }
        b
    }
}

/// A host and the jump hosts in front of it, each resolved through the
/// config: `ProxyJump a,b` reaches `b` through `a`, and `a` as its own
/// config says (its own `ProxyJump` or `ProxyCommand`), as OpenSSH does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub(crate) hops: Vec<HostConfig>,
}

impl Route {
    /// The host itself.
    pub fn target(&self) -> &HostConfig {
        // a route always ends with its target
        &self.hops[self.hops.len() - 1]
    }

    /// The jump hosts, first hop first.
    pub fn gateways(&self) -> &[HostConfig] {
        &self.hops[..self.hops.len() - 1]
    }

    /// Every hop, gateways first, the target last.
    pub fn hops(&self) -> &[HostConfig] {
        &self.hops
    }

    /// Every hop, to adjust them (gateways first, the target last).
    pub fn into_hops(self) -> Vec<HostConfig> {
        self.hops
    }

    /// The warnings of every hop.
    pub fn warnings(&self) -> impl Iterator<Item = &ConfigWarning> {
        self.hops.iter().flat_map(|h| h.warnings.iter())
    }

    /// The target's builder, behind its gateway nodes (built here, not shared).
    pub fn node_builder(&self) -> SshNodeBuilder {
        let mut gateway: Option<SshNode> = None;
        for g in self.gateways() {
            let mut b = g.node_builder();
            if let Some(gw) = &gateway {
                b = b.gateway(gw);
            }
            gateway = Some(b.build());
        }
        let b = self.target().node_builder();
        match &gateway {
            Some(gw) => b.gateway(gw),
            None => b,
        }
    }

    /// The target's node, behind its gateway nodes.
    pub fn node(&self) -> SshNode {
        self.node_builder().build()
    }
}
