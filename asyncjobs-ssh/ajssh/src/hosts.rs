//! From targets to SSH nodes: what the target says, then the command-line
//! options, then the ssh config (resolved by the library's
//! [`asyncjobs_ssh::config`], as OpenSSH resolves it: Host and Match blocks,
//! ProxyJump chains, ProxyCommand, HostKeyAlias...), in that order of
//! precedence; gives every host a unique display name, and builds the nodes
//! — lazily, one host at a time, so ten thousand targets cost ten thousand
//! small [`HostSpec`]s, not ten thousand connections. Gateways are shared:
//! one node (one connection) per distinct jump chain.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asyncjobs_ssh::config::{
    ConfigError, ConfigSource, ConfigWarning, HostConfig, JumpHop, Overrides, SshConfig,
    StrictHostKeyChecking,
};
use asyncjobs_ssh::{Formatter, HostKeyPolicy, PassphrasePrompt, SshNode};

use crate::args::ConnectOpts;
use asyncjobs_ssh::targets::{parse_hop, Hop, Target, TargetError, Via};

/// Default connect timeout of `ajssh` (shorter than the library's 30 s:
/// in a fan-out, a dead host should not hold a window slot for long).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One machine to connect to, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The name as given (an ssh_config alias, or the host name).
    pub alias: String,
    /// True when the port was given by the target or `-p` (not by ssh_config):
    /// labels then show it.
    pub port_given: bool,
    /// What the config resolved, with the command-line options applied.
    pub config: HostConfig,
    /// Key files given on the command line (or by a scenario): only these are tried.
    pub identities: Option<Vec<PathBuf>>,
    /// Host key policy, when an option overrides StrictHostKeyChecking.
    pub policy: Option<HostKeyPolicy>,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

impl Endpoint {
    /// The name or address connected to.
    pub fn hostname(&self) -> &str {
        &self.config.hostname
    }

    /// The login user.
    pub fn user(&self) -> &str {
        &self.config.user
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.config.port
    }

    /// The host key policy in effect.
    pub fn host_key_policy(&self) -> HostKeyPolicy {
        self.policy
            .unwrap_or_else(|| self.config.strict_host_key_checking.policy())
    }

    /// Only these key files (no agent, no key from the config).
    pub fn set_identities(&mut self, files: Vec<PathBuf>) {
        self.identities = Some(files);
    }

    /// `user@hostname[:port]` (`[v6]:port` for IPv6).
    pub fn address(&self) -> String {
        let host = if self.hostname().contains(':') {
            format!("[{}]", self.hostname())
        } else {
            self.hostname().to_string()
        };
        if self.port() == 22 {
            format!("{}@{host}", self.user())
        } else {
            format!("{}@{host}:{}", self.user(), self.port())
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
    /// Unique name shown in outputs (prefixes, `-b` blocks, the summary,
    /// JSON): as short as it can be while telling the hosts apart.
    pub label: String,
    /// Unique name of the host's files (`-d` outputs and marks, `--into`
    /// directories): a target that reaches the host again with the same
    /// options (`host:port` when a port was given), so that
    /// `ajssh -t DIR/1failed` re-runs the hosts that failed.
    pub name: String,
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
    /// Bad config file, or a host the config cannot resolve.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What the options say, merged with the config for each host.
pub struct Resolver {
    opts: ConnectOpts,
    jump: Option<Vec<JumpHop>>,
    config: SshConfig,
    /// Warnings already printed (file, line).
    warned: Mutex<HashSet<(PathBuf, usize)>>,
}

/// `-J` hops: `[user@]host[:port]` (also `ssh://...`), comma separated.
pub fn parse_jump(text: &str) -> Result<Vec<Hop>, TargetError> {
    text.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| parse_hop(h.trim_start_matches("ssh://"), text))
        .collect()
}

fn jump_hop(h: &Hop) -> JumpHop {
    JumpHop {
        user: h.user.clone(),
        host: h.host.clone(),
        port: h.port,
    }
}

/// `ajssh -G`: each target's configuration in `ssh -G`'s format; warnings on stderr.
pub fn print_config(opts: &ConnectOpts, targets: &[Target]) -> Result<String, HostsError> {
    let r = Resolver::new(opts)?;
    let mut out = String::new();
    for t in targets {
        let ov = r.overrides(t);
        let hc = r.config.resolve_with(&t.hop.host, &ov)?;
        r.warn(&t.hop.host, &hc.warnings);
        out.push_str(&hc.ssh_g());
    }
    Ok(out)
}

impl Resolver {
    /// Reads the config and checks `-J`.
    pub fn new(opts: &ConnectOpts) -> Result<Resolver, HostsError> {
        let jump = match opts.jump.as_deref() {
            // as `ssh -J none`: no ProxyJump from the config
            Some(j) if j.eq_ignore_ascii_case("none") => Some(Vec::new()),
            Some(j) => Some(parse_jump(j)?.iter().map(jump_hop).collect()),
            None => None,
        };
        let config = SshConfig::load(&ConfigSource::from_arg(opts.config.as_deref()))?;
        Ok(Resolver::with_config(opts, config, jump))
    }

    fn with_config(opts: &ConnectOpts, config: SshConfig, jump: Option<Vec<JumpHop>>) -> Resolver {
        Resolver {
            opts: opts.clone(),
            jump,
            config,
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// Prints each warning once (the first host it applies to is named).
    fn warn(&self, host: &str, warnings: &[ConfigWarning]) {
        let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        for w in warnings {
            if warned.insert((w.path.clone(), w.line)) {
                eprintln!("ajssh: warning: {w} (for {host})");
            }
        }
    }

    /// What the target and the options say before the config is read.
    fn overrides(&self, t: &Target) -> Overrides {
        let o = &self.opts;
        let mut ov = Overrides::new();
        ov.user = t.hop.user.clone().or_else(|| o.user.clone());
        ov.port = t.hop.port.or(o.port);
        ov.gateway_user = o.user.clone();
        match &t.via {
            Via::Gateways(hops) => ov.proxy_jump = Some(hops.iter().map(jump_hop).collect()),
            Via::Direct => ov = ov.direct(),
            Via::Default => ov.proxy_jump = self.jump.clone(),
        }
        ov
    }

    /// The command-line options that override the config, on one hop.
    fn endpoint(&self, alias: &str, port_given: bool, mut config: HostConfig) -> Endpoint {
        let o = &self.opts;
        if !o.known_hosts.is_empty() {
            config.user_known_hosts_files = o.known_hosts.clone();
            config.global_known_hosts_files = Vec::new();
        }
        if o.accept_new_host_keys {
            config.strict_host_key_checking = StrictHostKeyChecking::AcceptNew;
        }
        if let Some(k) = &o.kex {
            config.kex_algorithms = Some(k.0.clone());
        }
        Endpoint {
            alias: alias.to_string(),
            port_given,
            connect_timeout: o
                .connect_timeout
                .or(config.connect_timeout)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            identities: (!o.identities.is_empty()).then(|| o.identities.clone()),
            policy: o
                .insecure_accept_any_host_key
                .then_some(HostKeyPolicy::AcceptAny),
            config,
        }
    }

    /// A target and its gateways: target values, then options, then config, then defaults.
    fn route(
        &self,
        t: &Target,
        fallback_user: Option<&str>,
    ) -> Result<(Endpoint, Vec<Endpoint>), HostsError> {
        let ov = self.overrides(t);
        let route = self.config.route(&t.hop.host, &ov)?;
        for h in route.hops() {
            self.warn(&h.host, &h.warnings);
        }
        let mut hops = route.into_hops();
        let mut target = hops.pop().ok_or_else(|| ConfigError::Host {
            host: t.hop.host.clone(),
            message: "no route".into(),
        })?;
        if let Some(u) = fallback_user {
            if ov.user.is_none() && target.user_is_local_default() {
                target.user = u.to_string();
            }
        }
        let gateways = hops
            .into_iter()
            .map(|g| {
                let alias = g.host.clone();
                self.endpoint(&alias, false, g)
            })
            .collect();
        let port_given = ov.port.is_some();
        Ok((self.endpoint(&t.hop.host, port_given, target), gateways))
    }

    /// One host (a scenario node): with `fallback_user` instead of the
    /// local user when nothing names one (apssh's YAML nodes log in as root),
    /// and its gateways from `-J` or the config.
    pub fn endpoint_or(
        &self,
        hop: &Hop,
        fallback_user: Option<&str>,
    ) -> Result<(Endpoint, Vec<Endpoint>), HostsError> {
        self.route(
            &Target {
                hop: hop.clone(),
                via: Via::Default,
            },
            fallback_user,
        )
    }

    /// Resolves all targets and gives them unique labels. Targets that
    /// resolve to the same destination (user, host, port and jump hosts:
    /// `h`, `h:22` and `me@h` when `me` is the login user) run once: the
    /// later ones are returned as duplicates, `(target, same as)`.
    pub fn resolve(&self, targets: &[Target]) -> Result<Resolved, HostsError> {
        let mut specs = Vec::with_capacity(targets.len());
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut duplicates = Vec::new();
        for t in targets {
            let (endpoint, gateways) = self.route(t, None)?;
            let spec = HostSpec {
                endpoint,
                gateways,
                label: String::new(),
                name: String::new(),
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

/// Gives every host its label and its file name (see [`HostSpec`]).
fn label(specs: &mut [HostSpec]) {
    let names = unique(specs, |s| {
        let host = bracketed(&s.endpoint.alias);
        if s.endpoint.port() == 22 || !s.endpoint.port_given {
            host
        } else {
            format!("{host}:{}", s.endpoint.port())
        }
    });
    let labels = unique(specs, |s| bracketed(&s.endpoint.alias));
    for ((s, name), label) in specs.iter_mut().zip(names).zip(labels) {
        s.name = name;
        s.label = label;
    }
}

/// The name a gateway's events and errors show: its name, with the port
/// (`[gw]:2222`, as the library names a node) when not 22, so that a
/// gateway is told apart from a host of the same name reached directly.
fn gateway_label(g: &Endpoint) -> String {
    match g.port() {
        22 => bracketed(&g.alias),
        port => format!("[{}]:{port}", g.alias),
    }
}

/// An IPv6 address in brackets, so that its colons end where it does.
fn bracketed(alias: &str) -> String {
    if alias.contains(':') {
        format!("[{alias}]")
    } else {
        alias.to_string()
    }
}

/// `base` of each host, made unique where two hosts share it: first the
/// port, in a form that cannot be read as the start of an output line
/// (`[node01]:2222`, never `node01:2222:`), then `user@` in front, then the
/// whole target.
fn unique(specs: &[HostSpec], base: impl Fn(&HostSpec) -> String) -> Vec<String> {
    let count = |names: &[String]| {
        let mut m: HashMap<String, usize> = HashMap::new();
        for n in names {
            *m.entry(n.clone()).or_default() += 1;
        }
        m
    };
    let mut names: Vec<String> = specs.iter().map(&base).collect();
    let dup = count(&names);
    for (n, s) in names.iter_mut().zip(specs) {
        let port = s.endpoint.port();
        if dup[n.as_str()] > 1 && port != 22 && !n.ends_with(&format!(":{port}")) {
            *n = format!("[{}]:{port}", s.endpoint.alias);
        }
    }
    let dup = count(&names);
    for (n, s) in names.iter_mut().zip(specs) {
        if dup[n.as_str()] > 1 {
            *n = format!("{}@{n}", s.endpoint.user());
        }
    }
    let dup = count(&names);
    for (n, s) in names.iter_mut().zip(specs) {
        if dup[n.as_str()] > 1 {
            *n = s.target();
        }
    }
    names
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
        let mut config = e.config.clone();
        if e.identities.is_some() {
            // only the given files: none from the config, no agent
            config.identity_files = Vec::new();
            config.use_agent = false;
        }
        let mut b = config
            .node_builder()
            .connect_timeout(e.connect_timeout)
            .host_key_policy(e.host_key_policy())
            .display_name(display)
            .formatter(Arc::clone(&self.events));
        for i in e.identities.iter().flatten() {
            b = b.identity(i);
        }
        if let Some(g) = gateway {
            b = b.gateway(g);
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
            chain.push_str(&format!("{g:?}->"));
            let mut cache = self.gateways.lock().unwrap_or_else(|e| e.into_inner());
            let node = cache
                .entry(chain.clone())
                .or_insert_with(|| self.build(g, &gateway_label(g), gateway.as_ref()))
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
    use asyncjobs_ssh::config::Proxy;
    use asyncjobs_ssh::targets::parse_word;

    fn opts() -> ConnectOpts {
        ConnectOpts {
            user: None,
            ..ConnectOpts::default()
        }
    }

    const CONFIG: &str =
        "Host web\n  HostName 10.0.0.5\n  User deploy\n  Port 2200\n  ProxyJump jumper\n\
                          Host jumper\n  HostName 10.0.0.1\n  User gw\n";

    fn resolver_with(o: &ConnectOpts, text: &str) -> Resolver {
        let jump = o
            .jump
            .as_deref()
            .map(|j| parse_jump(j).unwrap().iter().map(jump_hop).collect());
        Resolver::with_config(o, SshConfig::from_text(text).unwrap(), jump)
    }

    fn resolver(o: &ConnectOpts) -> Resolver {
        resolver_with(o, CONFIG)
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
        assert_eq!(labels, ["me@h", "other@h", "[h]:2222"]);
        let names: Vec<&str> = got.specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["me@h", "other@h", "h:2222"]);
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

    fn me() -> String {
        SshConfig::none().resolve("x").unwrap().user
    }

    #[test]
    fn config_fills_what_target_and_options_do_not_say() {
        let s = &specs(&resolver(&opts()), "web")[0];
        assert_eq!(s.endpoint.hostname(), "10.0.0.5");
        assert_eq!(s.endpoint.user(), "deploy");
        assert_eq!(s.endpoint.port(), 2200);
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
        assert_eq!(specs(&r, "web")[0].endpoint.user(), "opt");
        assert_eq!(specs(&r, "web")[0].endpoint.port(), 2022);
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
        assert_eq!((s.endpoint.port(), s.gateways[0].port()), (2022, 22));
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
            ["a@j1:2", &format!("{}@j2", me())]
        );
        assert!(specs(&r, "None->web")[0].gateways.is_empty());
        assert_eq!(specs(&r, "x@own->web")[0].gateways[0].address(), "x@own");
    }

    #[test]
    fn jump_hosts_are_resolved_through_the_config_too() {
        let r = resolver(&ConnectOpts {
            jump: Some("jumper".into()),
            ..opts()
        });
        assert_eq!(
            specs(&r, "h")[0].target(),
            format!("gw@10.0.0.1->{}@h", me())
        );
    }

    #[test]
    fn host_key_flags_set_the_policy() {
        let r = resolver(&ConnectOpts {
            accept_new_host_keys: true,
            ..opts()
        });
        assert_eq!(
            specs(&r, "h")[0].endpoint.host_key_policy(),
            HostKeyPolicy::AcceptNew
        );
        let r = resolver(&ConnectOpts {
            insecure_accept_any_host_key: true,
            ..opts()
        });
        assert_eq!(
            specs(&r, "h")[0].endpoint.host_key_policy(),
            HostKeyPolicy::AcceptAny
        );
        assert_eq!(
            specs(&resolver(&opts()), "h")[0].endpoint.host_key_policy(),
            HostKeyPolicy::Strict
        );
    }

    #[test]
    fn a_match_block_does_not_relax_host_keys_of_the_host_block_before_it() {
        let cfg = "Host 127.0.0.*\n  Port 2222\nMatch host some-other-vm\n  \
                   StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n";
        let s = &specs(&resolver_with(&opts(), cfg), "127.0.0.5")[0];
        assert_eq!(s.endpoint.host_key_policy(), HostKeyPolicy::Strict);
        assert_ne!(
            s.endpoint.config.user_known_hosts_files,
            [PathBuf::from("/dev/null")]
        );
    }

    #[test]
    fn kex_option_beats_config_and_applies_to_gateways() {
        let cfg = "Host web\n  KexAlgorithms ^ecdh-sha2-nistp384\n  ProxyJump jumper\n";
        let r = resolver_with(&opts(), cfg);
        let s = &specs(&r, "web,other");
        assert_eq!(
            s[0].endpoint.config.kex_algorithms.as_ref().unwrap()[0],
            "ecdh-sha2-nistp384"
        );
        assert_eq!(
            s[0].gateways[0].config.kex_algorithms, None,
            "the jump host's own config says nothing"
        );
        assert_eq!(s[1].endpoint.config.kex_algorithms, None);

        let kex = crate::args::KexList(vec!["ecdh-sha2-nistp256".into()]);
        let o = ConnectOpts {
            kex: Some(kex.clone()),
            ..opts()
        };
        let r = resolver_with(&o, cfg);
        let s = &specs(&r, "web")[0];
        assert_eq!(s.endpoint.config.kex_algorithms.as_ref(), Some(&kex.0));
        assert_eq!(s.gateways[0].config.kex_algorithms.as_ref(), Some(&kex.0));
        let node = NodeFactory::new(asyncjobs_ssh::default_formatter()).node(s);
        assert_eq!(node.kex_algorithms(), Some(&kex.0[..]));
        assert_eq!(node.gateway().unwrap().kex_algorithms(), Some(&kex.0[..]));
    }

    #[test]
    fn labels_are_unique() {
        let r = resolver(&opts());
        let got = specs(&r, "a@h,b@h,h:2222,[::1]:2222");
        let labels: Vec<&str> = got.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["a@h", "b@h", "[h]:2222", "[::1]"]);
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a@h", "b@h", "h:2222", "[::1]:2222"]);
        // shown: the port only where it tells hosts apart, never `name:port:`
        // (read as output); files: a target that reaches the host again
        let got = specs(&r, "n1:2200,n2:2200,[::1]:2201,[::1]:2202,h");
        let labels: Vec<&str> = got.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["n1", "n2", "[::1]:2201", "[::1]:2202", "h"]);
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["n1:2200", "n2:2200", "[::1]:2201", "[::1]:2202", "h"]
        );
        let labels: Vec<String> = specs(&r, "g1->u@h,g2->u@h")
            .into_iter()
            .map(|s| s.label)
            .collect();
        let me = me();
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

    #[test]
    fn command_line_keys_replace_the_configs_and_proxy_commands_are_kept() {
        let cfg = "Host pc\n  ProxyCommand socat - TCP:%h:%p\n  IdentityFile /etc/hostname\n";
        let o = ConnectOpts {
            identities: vec![PathBuf::from("/nonexistent/key")],
            ..opts()
        };
        let s = &specs(&resolver_with(&o, cfg), "pc")[0];
        assert_eq!(
            s.endpoint.config.proxy,
            Proxy::Command("socat - TCP:pc:22".into())
        );
        let node = NodeFactory::new(asyncjobs_ssh::default_formatter()).node(s);
        assert_eq!(node.proxy_command(), Some("socat - TCP:pc:22"));
        assert!(format!("{node:?}").contains("/nonexistent/key"), "{node:?}");
        assert!(!format!("{node:?}").contains("/etc/hostname"), "{node:?}");
    }
}
