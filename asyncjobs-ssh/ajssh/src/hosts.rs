//! From targets to SSH nodes: merges what the target says, the command-line
//! options and `~/.ssh/config` (in that order of precedence, as OpenSSH),
//! gives every host a unique display name, and builds the nodes — lazily,
//! one host at a time, so ten thousand targets cost ten thousand small
//! [`HostSpec`]s, not ten thousand connections. Gateways are shared: one
//! node (one connection) per distinct jump chain.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asyncjobs_ssh::{Formatter, HostKeyPolicy, PassphrasePrompt, SshNode};

use crate::args::ConnectOpts;
use crate::sshconfig::{Config, ConfigError, ConfigSource};
use crate::targets::{parse_hop, Hop, Target, TargetError, Via};

/// Default connect timeout of `ajssh` (shorter than the library's 30 s:
/// in a fan-out, a dead host should not hold a window slot for long).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One machine to connect to, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The name as given (an ssh_config alias, or the host name).
    pub alias: String,
    /// The name or address to connect to (`HostName`, else the alias).
    pub hostname: String,
    /// Login user.
    pub user: String,
    /// Port.
    pub port: u16,
    /// True when the port was given by the target or `-p` (not by ssh_config):
    /// labels then show it.
    pub port_given: bool,
    /// Key files; empty for the library's default (agent, ~/.ssh/id_*).
    pub identities: Vec<PathBuf>,
    /// Also use the agent besides `identities` (keys that come from ssh_config).
    pub agent_too: bool,
    /// known_hosts files; empty for the default ones.
    pub known_hosts: Vec<PathBuf>,
    /// Host key policy.
    pub policy: HostKeyPolicy,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Key exchange algorithms to offer, in order; `None` for the library's defaults.
    pub kex: Option<Vec<String>>,
}

impl Endpoint {
    /// `user@hostname[:port]` (`[v6]:port` for IPv6).
    pub fn address(&self) -> String {
        let host = if self.hostname.contains(':') {
            format!("[{}]", self.hostname)
        } else {
            self.hostname.clone()
        };
        if self.port == 22 {
            format!("{}@{host}", self.user)
        } else {
            format!("{}@{host}:{}", self.user, self.port)
        }
    }
}

/// A host of the fan-out, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// The host.
    pub endpoint: Endpoint,
    /// Jump hosts, first hop first.
    pub gateways: Vec<Endpoint>,
    /// Unique name in outputs (`-d` files, `-b` blocks, prefixes).
    pub label: String,
}

impl HostSpec {
    /// `gw->...->user@host:port`.
    pub fn target(&self) -> String {
        let mut s = String::new();
        for g in &self.gateways {
            s.push_str(&g.address());
            s.push_str("->");
        }
        s.push_str(&self.endpoint.address());
        s
    }
}

/// The hosts of a fan-out, each destination once.
#[derive(Debug)]
pub struct Resolved {
    /// One per destination, in the order of the targets.
    pub specs: Vec<HostSpec>,
    /// Targets dropped as the same destination as an earlier one: (target, the earlier one).
    pub duplicates: Vec<(String, String)>,
}

/// Why the hosts cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    /// Bad `-J` or ProxyJump.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// Bad config file.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What the options say, merged with the config for each host.
pub struct Resolver {
    opts: ConnectOpts,
    jump: Option<Vec<Hop>>,
    config: Config,
}

fn local_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "root".into())
}

/// `-J` / ProxyJump hops: `[user@]host[:port]` (also `ssh://...`), comma separated.
pub fn parse_jump(text: &str) -> Result<Vec<Hop>, TargetError> {
    text.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| parse_hop(h.trim_start_matches("ssh://"), text))
        .collect()
}

impl Resolver {
    /// Reads the config and checks `-J`.
    pub fn new(opts: &ConnectOpts) -> Result<Resolver, HostsError> {
        let jump = opts.jump.as_deref().map(parse_jump).transpose()?;
        let config = Config::load(&ConfigSource::from_arg(opts.config.as_deref()))?;
        Ok(Resolver {
            opts: opts.clone(),
            jump,
            config,
        })
    }

    /// A resolver with a given config (tests).
    #[cfg(test)]
    pub fn with_config(opts: &ConnectOpts, config: Config) -> Resolver {
        let jump = opts.jump.as_deref().map(|j| parse_jump(j).unwrap());
        Resolver {
            opts: opts.clone(),
            jump,
            config,
        }
    }

    /// Resolves one hop: target values, then options, then config, then defaults.
    pub fn endpoint(&self, hop: &Hop) -> Endpoint {
        self.endpoint_or(hop, None)
    }

    /// [`endpoint`](Self::endpoint), with `fallback_user` instead of the local
    /// user when nothing names one (apssh's YAML nodes log in as root).
    pub fn endpoint_or(&self, hop: &Hop, fallback_user: Option<&str>) -> Endpoint {
        self.resolve_hop(hop, fallback_user, self.opts.port)
    }

    /// A jump host: as a host, but `-p` is the targets' port, not the gateways'
    /// (as in OpenSSH); `-u`, `-i` and the host key options do apply (as in apssh).
    fn gateway_endpoint(&self, hop: &Hop) -> Endpoint {
        self.resolve_hop(hop, None, None)
    }

    fn resolve_hop(
        &self,
        hop: &Hop,
        fallback_user: Option<&str>,
        port_opt: Option<u16>,
    ) -> Endpoint {
        let cfg = self.config.query(&hop.host);
        let o = &self.opts;
        let (identities, agent_too) = if !o.identities.is_empty() {
            (o.identities.clone(), false)
        } else {
            // OpenSSH skips IdentityFile entries that do not exist, and still asks the agent
            let files: Vec<PathBuf> = cfg
                .identity_files
                .iter()
                .filter(|p| p.exists())
                .cloned()
                .collect();
            let any = !files.is_empty();
            (files, any)
        };
        let policy = if o.insecure_accept_any_host_key {
            HostKeyPolicy::AcceptAny
        } else if o.accept_new_host_keys {
            HostKeyPolicy::AcceptNew
        } else {
            match cfg.strict_host_key_checking.as_deref() {
                // "no" would also accept changed keys in OpenSSH: we never do that silently
                Some("no" | "off" | "accept-new") => HostKeyPolicy::AcceptNew,
                _ => HostKeyPolicy::Strict,
            }
        };
        Endpoint {
            alias: hop.host.clone(),
            hostname: cfg.host_name.clone().unwrap_or_else(|| hop.host.clone()),
            user: hop
                .user
                .clone()
                .or_else(|| o.user.clone())
                .or(cfg.user.clone())
                .or_else(|| fallback_user.map(str::to_string))
                .unwrap_or_else(local_user),
            port: hop.port.or(port_opt).or(cfg.port).unwrap_or(22),
            port_given: hop.port.or(port_opt).is_some(),
            identities,
            agent_too,
            known_hosts: if o.known_hosts.is_empty() {
                cfg.known_hosts_files.clone()
            } else {
                o.known_hosts.clone()
            },
            policy,
            connect_timeout: o
                .connect_timeout
                .or(cfg.connect_timeout)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            kex: o.kex.as_ref().map(|k| k.0.clone()).or(cfg.kex_algorithms),
        }
    }

    /// The gateways of a target: its own, or none (`None->`), or `-J`, or ProxyJump.
    pub fn gateways(&self, t: &Target) -> Result<Vec<Endpoint>, TargetError> {
        let hops = match &t.via {
            Via::Gateways(h) => h.clone(),
            Via::Direct => Vec::new(),
            Via::Default => match &self.jump {
                Some(j) => j.clone(),
                None => match self.config.query(&t.hop.host).proxy_jump {
                    Some(list) => parse_jump(&list.join(","))?,
                    None => Vec::new(),
                },
            },
        };
        Ok(hops.iter().map(|h| self.gateway_endpoint(h)).collect())
    }

    /// Resolves all targets and gives them unique labels. Targets that
    /// resolve to the same destination (user, host, port and jump hosts:
    /// `h`, `h:22` and `me@h` when `me` is the login user) run once: the
    /// later ones are returned as duplicates, `(target, same as)`.
    pub fn resolve(&self, targets: &[Target]) -> Result<Resolved, TargetError> {
        let mut specs = Vec::with_capacity(targets.len());
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut duplicates = Vec::new();
        for t in targets {
            let spec = HostSpec {
                endpoint: self.endpoint(&t.hop),
                gateways: self.gateways(t)?,
                label: String::new(),
            };
            match seen.entry(spec.target()) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    duplicates.push((t.to_string(), first.get().clone()));
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(t.to_string());
                    specs.push(spec);
                }
            }
        }
        label(&mut specs);
        Ok(Resolved { specs, duplicates })
    }
}

/// Labels: the alias (`:port` when not 22 and not from ssh_config); `user@` in front where that is
/// ambiguous; the whole target where even that is.
fn label(specs: &mut [HostSpec]) {
    let base = |s: &HostSpec| {
        let host = if s.endpoint.alias.contains(':') {
            format!("[{}]", s.endpoint.alias)
        } else {
            s.endpoint.alias.clone()
        };
        if s.endpoint.port == 22 || !s.endpoint.port_given {
            host
        } else {
            format!("{host}:{}", s.endpoint.port)
        }
    };
    let count = |labels: &[String]| {
        let mut m: HashMap<String, usize> = HashMap::new();
        for l in labels {
            *m.entry(l.clone()).or_default() += 1;
        }
        m
    };
    let mut labels: Vec<String> = specs.iter().map(base).collect();
    let dup = count(&labels);
    for (l, s) in labels.iter_mut().zip(specs.iter()) {
        if dup[l.as_str()] > 1 {
            *l = format!("{}@{l}", s.endpoint.user);
        }
    }
    let dup = count(&labels);
    for (l, s) in labels.iter_mut().zip(specs.iter()) {
        if dup[l.as_str()] > 1 {
            *l = s.target();
        }
    }
    for (s, l) in specs.iter_mut().zip(labels) {
        s.label = l;
    }
}

/// Builds nodes, sharing gateway nodes between hosts.
pub struct NodeFactory {
    events: Arc<dyn Formatter>,
    gateways: Mutex<HashMap<String, SshNode>>,
    prompt: Option<Arc<dyn PassphrasePrompt>>,
}

impl NodeFactory {
    /// Nodes whose connection events go to `events`.
    pub fn new(events: Arc<dyn Formatter>) -> NodeFactory {
        NodeFactory {
            events,
            gateways: Mutex::new(HashMap::new()),
            prompt: None,
        }
    }

    /// Nodes (gateways included) ask `prompt` for the passphrases of encrypted keys.
    pub fn with_prompt(mut self, prompt: Arc<dyn PassphrasePrompt>) -> NodeFactory {
        self.prompt = Some(prompt);
        self
    }

    /// A node for `e`, shown as `display`, behind `gateway`.
    pub fn build(&self, e: &Endpoint, display: &str, gateway: Option<&SshNode>) -> SshNode {
        let mut b = SshNode::builder(&e.hostname)
            .port(e.port)
            .user(&e.user)
            .connect_timeout(e.connect_timeout)
            .host_key_policy(e.policy)
            .display_name(display)
            .formatter(Arc::clone(&self.events));
        for i in &e.identities {
            b = b.identity(i);
        }
        if e.agent_too {
            b = b.agent(true);
        }
        for k in &e.known_hosts {
            b = b.known_hosts_file(k);
        }
        if let Some(g) = gateway {
            b = b.gateway(g);
        }
        if let Some(kex) = &e.kex {
            b = b.kex_algorithms(kex.iter().cloned());
        }
        if let Some(p) = &self.prompt {
            b = b.passphrase_prompt(Arc::clone(p));
        }
        b.build()
    }

    /// The node of `spec` (its gateways are created once and shared).
    pub fn node(&self, spec: &HostSpec) -> SshNode {
        let mut gateway: Option<SshNode> = None;
        let mut chain = String::new();
        for g in &spec.gateways {
            chain.push_str(&format!(
                "{}|{:?}|{:?}|{:?}|{:?}->",
                g.address(),
                g.identities,
                g.known_hosts,
                g.policy,
                g.kex
            ));
            let mut cache = self.gateways.lock().unwrap_or_else(|e| e.into_inner());
            let node = cache
                .entry(chain.clone())
                .or_insert_with(|| self.build(g, &g.address(), gateway.as_ref()))
                .clone();
            gateway = Some(node);
        }
        self.build(&spec.endpoint, &spec.label, gateway.as_ref())
    }

    /// Closes the gateways' connections (the hosts' are closed as they finish).
    pub async fn close_gateways(&self) {
        let nodes: Vec<SshNode> = {
            let cache = self.gateways.lock().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<SshNode> = cache.values().cloned().collect();
            // farthest first: a gateway closes after the hosts behind it
            v.sort_by_key(|n| std::cmp::Reverse(n.distance()));
            v
        };
        for n in nodes {
            n.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::parse_word;
    use std::path::Path;

    fn opts() -> ConnectOpts {
        ConnectOpts {
            user: None,
            ..ConnectOpts::default()
        }
    }

    fn resolver(o: &ConnectOpts) -> Resolver {
        let cfg = "Host web\n  HostName 10.0.0.5\n  User deploy\n  Port 2200\n  ProxyJump jumper\nHost jumper\n  HostName 10.0.0.1\n  User gw\n";
        Resolver::with_config(o, Config::from_text(cfg, Path::new("/home/alice")))
    }

    fn specs(r: &Resolver, word: &str) -> Vec<HostSpec> {
        r.resolve(&parse_word(word).unwrap()).unwrap().specs
    }

    #[test]
    fn one_destination_written_several_ways_runs_once() {
        let r = resolver(&ConnectOpts {
            user: Some("me".into()),
            ..opts()
        });
        let got = r
            .resolve(&parse_word("h,h:22,me@h,other@h,h:2222").unwrap())
            .unwrap();
        let labels: Vec<&str> = got.specs.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["me@h", "other@h", "h:2222"]);
        assert_eq!(
            got.duplicates,
            [
                ("h:22".to_string(), "h".to_string()),
                ("me@h".to_string(), "h".to_string())
            ]
        );
        // an ssh_config alias and its HostName are one destination too
        let got = resolver(&opts()).resolve(&parse_word("web,deploy@10.0.0.5:2200").unwrap());
        let got = got.unwrap();
        assert_eq!(
            got.specs.len(),
            2,
            "different jump hosts: not the same destination"
        );
    }

    #[test]
    fn config_fills_what_target_and_options_do_not_say() {
        let s = &specs(&resolver(&opts()), "web")[0];
        assert_eq!(s.endpoint.hostname, "10.0.0.5");
        assert_eq!(s.endpoint.user, "deploy");
        assert_eq!(s.endpoint.port, 2200);
        assert_eq!(s.label, "web", "the port comes with the alias");
        assert_eq!(s.target(), "gw@10.0.0.1->deploy@10.0.0.5:2200");
    }

    #[test]
    fn target_beats_options_which_beat_config() {
        let o = ConnectOpts {
            user: Some("opt".into()),
            port: Some(2022),
            ..opts()
        };
        let r = resolver(&o);
        assert_eq!(specs(&r, "web")[0].endpoint.user, "opt");
        assert_eq!(specs(&r, "web")[0].endpoint.port, 2022);
        assert_eq!(
            specs(&r, "me@web:23")[0].endpoint.address(),
            "me@10.0.0.5:23"
        );
    }

    #[test]
    fn port_option_is_for_targets_not_gateways() {
        let r = resolver(&ConnectOpts {
            port: Some(2022),
            jump: Some("j".into()),
            ..opts()
        });
        let s = &specs(&r, "h")[0];
        assert_eq!((s.endpoint.port, s.gateways[0].port), (2022, 22));
    }

    #[test]
    fn jump_option_and_none_override_proxy_jump() {
        let o = ConnectOpts {
            jump: Some("a@j1:2,j2".into()),
            ..opts()
        };
        let r = resolver(&o);
        let s = &specs(&r, "web")[0];
        assert_eq!(
            s.gateways.iter().map(Endpoint::address).collect::<Vec<_>>(),
            ["a@j1:2", &format!("{}@j2", local_user())]
        );
        assert!(specs(&r, "None->web")[0].gateways.is_empty());
        assert_eq!(specs(&r, "x@own->web")[0].gateways[0].address(), "x@own");
    }

    #[test]
    fn host_key_flags_set_the_policy() {
        let r = resolver(&ConnectOpts {
            accept_new_host_keys: true,
            ..opts()
        });
        assert_eq!(specs(&r, "h")[0].endpoint.policy, HostKeyPolicy::AcceptNew);
        let r = resolver(&ConnectOpts {
            insecure_accept_any_host_key: true,
            ..opts()
        });
        assert_eq!(specs(&r, "h")[0].endpoint.policy, HostKeyPolicy::AcceptAny);
        assert_eq!(
            specs(&resolver(&opts()), "h")[0].endpoint.policy,
            HostKeyPolicy::Strict
        );
    }

    #[test]
    fn kex_option_beats_config_and_applies_to_gateways() {
        let cfg = "Host web\n  KexAlgorithms ^ecdh-sha2-nistp384\n  ProxyJump jumper\n";
        let r = Resolver::with_config(&opts(), Config::from_text(cfg, Path::new("/home/alice")));
        let s = &specs(&r, "web,other");
        assert_eq!(s[0].endpoint.kex.as_ref().unwrap()[0], "ecdh-sha2-nistp384");
        assert_eq!(
            s[0].gateways[0].kex, None,
            "the jump host's own config says nothing"
        );
        assert_eq!(s[1].endpoint.kex, None);

        let kex = crate::args::KexList(vec!["ecdh-sha2-nistp256".into()]);
        let o = ConnectOpts {
            kex: Some(kex.clone()),
            ..opts()
        };
        let r = Resolver::with_config(&o, Config::from_text(cfg, Path::new("/home/alice")));
        let s = &specs(&r, "web")[0];
        assert_eq!(s.endpoint.kex.as_ref(), Some(&kex.0));
        assert_eq!(s.gateways[0].kex.as_ref(), Some(&kex.0));
        let node = NodeFactory::new(asyncjobs_ssh::default_formatter()).node(s);
        assert_eq!(node.kex_algorithms(), Some(&kex.0[..]));
        assert_eq!(node.gateway().unwrap().kex_algorithms(), Some(&kex.0[..]));
    }

    #[test]
    fn labels_are_unique() {
        let r = resolver(&opts());
        let labels: Vec<String> = specs(&r, "a@h,b@h,h:2222,[::1]:2222")
            .into_iter()
            .map(|s| s.label)
            .collect();
        assert_eq!(labels, ["a@h", "b@h", "h:2222", "[::1]:2222"]);
        let labels: Vec<String> = specs(&r, "g1->u@h,g2->u@h")
            .into_iter()
            .map(|s| s.label)
            .collect();
        let me = local_user();
        assert_eq!(labels, [format!("{me}@g1->u@h"), format!("{me}@g2->u@h")]);
    }

    #[test]
    fn bad_jump_hosts_are_errors() {
        assert!(parse_jump("a:notaport").is_err());
        assert_eq!(parse_jump("ssh://u@h:2,k").unwrap().len(), 2);
    }

    #[test]
    fn gateway_nodes_are_shared_between_hosts() {
        let r = resolver(&opts());
        let f = NodeFactory::new(asyncjobs_ssh::default_formatter());
        let s = specs(&r, "web,None->other,x@web");
        let (a, b) = (f.node(&s[0]), f.node(&s[2]));
        assert!(a.gateway().unwrap().same_node(b.gateway().unwrap()));
        assert!(f.node(&s[1]).gateway().is_none());
    }
}
