//! Resolving a host: the config's entries walked as `ssh` walks them
//! (`Host` and `Match` switching blocks on and off, first value wins,
//! identity and certificate files accumulating, an included file starting
//! in its includer's state), a second pass when a `Match final` asks for
//! it, then defaults and expansions, and the reports of what is in effect
//! but not done.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use super::error::{ConfigError, ConfigWarning};
use super::host::{HostConfig, Proxy, Raw};
use super::keyword::Report;
use super::load::{FileId, Item, Loaded};
use super::matching::{self, Subject};
use super::pattern;
use super::tokens::{self, Conn, Local, Tokens};
use super::values::{AddressFamily, JumpHop, Setting, StrictHostKeyChecking};
use super::Overrides;

/// Most identity (or certificate) files (OpenSSH's `SSH_MAX_IDENTITY_FILES`).
const MAX_KEY_FILES: usize = 100;

/// Where a value was set: a file and line, or the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    file: Option<FileId>,
    line: usize,
}

const COMMAND_LINE: Loc = Loc {
    file: None,
    line: 0,
};

/// A value and where it came from.
type At<T> = Option<(T, Loc)>;

/// A ProxyJump setting: `None` for `ProxyJump none`, else the hops and the text.
type Jump = Option<(Vec<JumpHop>, String)>;

/// A keyword not acted on, in effect for the host.
#[derive(Debug, Clone)]
struct Noted {
    keyword: String,
    value: String,
    report: Report,
    loc: Loc,
}

/// The options being filled, first value first (OpenSSH's `Options`).
#[derive(Debug, Default)]
struct State {
    hostname: At<String>,
    port: At<u16>,
    user: At<String>,
    identity_files: Vec<(String, bool, Loc)>,
    certificate_files: Vec<(String, bool, Loc)>,
    identities_only: At<bool>,
    /// `ProxyJump`: hops win over a later ProxyCommand; `none` only stops later ProxyJumps.
    jump: At<Jump>,
    /// `ProxyCommand` (`none` included); a ProxyJump with hops sets it to `none`.
    proxy_command: At<String>,
    host_key_alias: At<String>,
    user_known_hosts: At<Vec<String>>,
    global_known_hosts: At<Vec<String>>,
    strict: At<StrictHostKeyChecking>,
    connect_timeout: At<u32>,
    server_alive_interval: At<u32>,
    server_alive_count_max: At<i32>,
    kex: At<String>,
    ignore_unknown: At<String>,
    address_family: At<AddressFamily>,
    hash_known_hosts: At<bool>,
    identity_agent: At<String>,
    noted: Vec<Noted>,
    /// The keywords in `noted`, lower-cased: a lookup per line keeps the
    /// walk linear however many such lines there are.
    noted_keywords: HashSet<String>,
}

fn first<T: Clone>(slot: &mut At<T>, value: &T, loc: Loc) {
    if slot.is_none() {
        *slot = Some((value.clone(), loc));
    }
}

impl State {
    fn apply(&mut self, s: &Setting, loc: Loc, user_file: bool) -> Result<(), String> {
        match s {
            Setting::HostName(v) => first(&mut self.hostname, &v.to_string(), loc),
            Setting::Port(p) => first(&mut self.port, p, loc),
            Setting::User(v) => first(&mut self.user, &v.to_string(), loc),
            Setting::IdentityFile(f) => {
                add_file(&mut self.identity_files, f, user_file, loc, "identity")?
            }
            Setting::CertificateFile(f) => add_file(
                &mut self.certificate_files,
                f,
                user_file,
                loc,
                "certificate",
            )?,
            Setting::IdentitiesOnly(b) => first(&mut self.identities_only, b, loc),
            Setting::ProxyJump(j) => {
                let j = j.as_ref().map(|(h, t)| (h.clone(), t.to_string()));
                self.set_jump(j, loc);
            }
            Setting::ProxyCommand(c) => first(&mut self.proxy_command, &c.to_string(), loc),
            Setting::HostKeyAlias(v) => first(&mut self.host_key_alias, &v.to_string(), loc),
            Setting::UserKnownHostsFile(v) => first(
                &mut self.user_known_hosts,
                &v.iter().map(|s| s.to_string()).collect(),
                loc,
            ),
            Setting::GlobalKnownHostsFile(v) => first(
                &mut self.global_known_hosts,
                &v.iter().map(|s| s.to_string()).collect(),
                loc,
            ),
            Setting::StrictHostKeyChecking(v) => first(&mut self.strict, v, loc),
            // `none` leaves the value unset: a later line may still set it (as in OpenSSH)
            Setting::ConnectTimeout(v) => {
                if let Some(v) = v {
                    first(&mut self.connect_timeout, v, loc)
                }
            }
            Setting::ServerAliveInterval(v) => {
                if let Some(v) = v {
                    first(&mut self.server_alive_interval, v, loc)
                }
            }
            Setting::ServerAliveCountMax(v) => first(&mut self.server_alive_count_max, v, loc),
            Setting::KexAlgorithms(v) => first(&mut self.kex, &v.to_string(), loc),
            Setting::IgnoreUnknown(v) => first(&mut self.ignore_unknown, &v.to_string(), loc),
            Setting::AddressFamily(v) => first(&mut self.address_family, v, loc),
            Setting::HashKnownHosts(v) => first(&mut self.hash_known_hosts, v, loc),
            Setting::IdentityAgent(v) => first(&mut self.identity_agent, &v.to_string(), loc),
        }
        Ok(())
    }

    /// OpenSSH's `parse_jump` (as fixed upstream in 2026 and in Debian's
    /// 9.2): `none` stops later ProxyJumps only; hops need neither a
    /// ProxyJump nor a ProxyCommand before, and stop later ProxyCommands.
    fn set_jump(&mut self, jump: Jump, loc: Loc) {
        match jump {
            None => first(&mut self.jump, &None, loc),
            Some(hops) => {
                if self.jump.is_none() && self.proxy_command.is_none() {
                    self.jump = Some((Some(hops), loc));
                    self.proxy_command = Some(("none".into(), loc));
                }
            }
        }
    }

    /// Whether `IgnoreUnknown` (in effect so far) covers `keyword`.
    fn ignores(&self, keyword: &str) -> bool {
        self.ignore_unknown.as_ref().is_some_and(|(list, _)| {
            pattern::match_list(keyword, list, true) == pattern::ListMatch::Yes
        })
    }
}

fn add_file(
    files: &mut Vec<(String, bool, Loc)>,
    f: &str,
    user_file: bool,
    loc: Loc,
    what: &str,
) -> Result<(), String> {
    if files.iter().any(|(p, u, _)| p == f && *u == user_file) {
        return Ok(());
    }
    if files.len() >= MAX_KEY_FILES {
        return Err(format!("too many {what} files (more than {MAX_KEY_FILES})"));
    }
    files.push((f.to_string(), user_file, loc));
    Ok(())
}

/// One walk over the config for a host.
struct Pass<'a> {
    loaded: &'a Loaded,
    local: &'a Local,
    /// The host `Host` lines match (as given, or the final name).
    host: &'a str,
    original: &'a str,
    final_pass: bool,
}

fn is_addr(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

fn host_matches(host: &str, patterns: &[Box<str>]) -> bool {
    let mut active = false;
    for p in patterns {
        match p.strip_prefix('!') {
            Some(neg) if pattern::matches(host, neg) => return false,
            Some(_) => {}
            None if pattern::matches(host, p) => active = true,
            None => {}
        }
    }
    active
}

impl Pass<'_> {
    fn invalid(&self, file: FileId, line: usize, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.loaded.files[file].path.clone(),
            line,
            message: message.into(),
        }
    }

    fn walk(
        &self,
        st: &mut State,
        id: FileId,
        active: &mut bool,
        never: bool,
    ) -> Result<(), ConfigError> {
        let file = &self.loaded.files[id];
        for e in &file.entries {
            let loc = Loc {
                file: Some(id),
                line: e.line,
            };
            match &e.item {
                Item::Host(patterns) => *active = !never && host_matches(self.host, patterns),
                Item::Match(terms) => {
                    // in a file included from a block that does not apply, nothing
                    // matches: OpenSSH still evaluates the line, we skip its `exec`s
                    *active = !never
                        && self
                            .matches(st, terms)
                            .map_err(|m| self.invalid(id, e.line, m))?;
                }
                Item::Include(ids) => {
                    let outer = *active;
                    for &child in ids.iter() {
                        self.walk(st, child, active, never || !outer)?;
                        *active = outer;
                    }
                }
                Item::Set(s) => {
                    if *active {
                        st.apply(s, loc, file.user)
                            .map_err(|m| self.invalid(id, e.line, m))?;
                    }
                }
                Item::Other {
                    keyword,
                    value,
                    report,
                    accumulates,
                } => {
                    if *active
                        && (st.noted_keywords.insert(keyword.to_ascii_lowercase()) || *accumulates)
                    {
                        st.noted.push(Noted {
                            keyword: keyword.to_string(),
                            value: value.to_string(),
                            report: *report,
                            loc,
                        });
                    }
                }
                Item::Unknown(keyword) => {
                    if !st.ignores(keyword) {
                        return Err(self.invalid(
                            id,
                            e.line,
                            format!(
                                "bad configuration option: {keyword} (unknown to OpenSSH; \
                                 `IgnoreUnknown {keyword}` before it skips it)"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn matches(&self, st: &State, terms: &[matching::Term]) -> Result<bool, String> {
        let port = st.port.as_ref().map_or(22, |(p, _)| *p);
        let user = st
            .user
            .as_ref()
            .map_or(self.local.user.as_str(), |(u, _)| u.as_str());
        let host = match (&st.hostname, self.final_pass) {
            (Some((h, _)), true) => h.clone(),
            (Some((h, _)), false) => {
                let conn = Conn {
                    host_arg: self.host,
                    host: self.host,
                    port,
                    user,
                    key_alias: None,
                };
                tokens::expand(h, Tokens::HostName, false, self.local, &conn)?
            }
            (None, _) => self.host.to_string(),
        };
        let subject = Subject {
            host: &host,
            original: self.original,
            user,
            local_user: &self.local.user,
            final_pass: self.final_pass,
        };
        let key_alias = st.host_key_alias.as_ref().map(|(a, _)| a.as_str());
        matching::evaluate(terms, &subject, |command| {
            let conn = Conn {
                host_arg: self.original,
                host: &host,
                port,
                user,
                key_alias,
            };
            tokens::expand(command, Tokens::MatchExec, false, self.local, &conn)
        })
    }
}

/// Resolves `host_arg` with the command-line `ov`.
pub(crate) fn resolve(
    loaded: &Loaded,
    local: &Local,
    host_arg: &str,
    ov: &Overrides,
) -> Result<HostConfig, ConfigError> {
    let mut st = State::default();
    if let Some(u) = &ov.user {
        st.user = Some((u.clone(), COMMAND_LINE));
    }
    if let Some(p) = ov.port {
        st.port = Some((p, COMMAND_LINE));
    }
    if let Some(c) = &ov.proxy_command {
        st.proxy_command = Some((c.clone(), COMMAND_LINE));
    }
    if let Some(hops) = &ov.proxy_jump {
        let jump = (!hops.is_empty()).then(|| {
            let text = hops
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            (hops.clone(), text)
        });
        st.set_jump(jump, COMMAND_LINE);
    }
    let walk_all = |st: &mut State, host: &str, final_pass: bool| -> Result<(), ConfigError> {
        let pass = Pass {
            loaded,
            local,
            host,
            original: host_arg,
            final_pass,
        };
        for &root in &loaded.roots {
            let mut active = true;
            pass.walk(st, root, &mut active, false)?;
        }
        Ok(())
    };
    walk_all(&mut st, host_arg, false)?;

    let at = |loc: Loc| -> (PathBuf, usize) {
        match loc.file {
            Some(f) => (loaded.files[f].path.clone(), loc.line),
            None => (PathBuf::from("(command line)"), 0),
        }
    };
    let invalid_at = |loc: Loc, message: String| {
        let (path, line) = at(loc);
        ConfigError::Invalid {
            path,
            line,
            message,
        }
    };

    let port = st.port.as_ref().map_or(22, |(p, _)| *p);
    let mut host = host_arg.to_string();
    if let Some((h, loc)) = &st.hostname {
        let user = st.user.as_ref().map_or(local.user.as_str(), |(u, _)| u);
        let conn = Conn {
            host_arg,
            host: host_arg,
            port,
            user,
            key_alias: None,
        };
        host = tokens::expand(h, Tokens::HostName, false, local, &conn)
            .map_err(|m| invalid_at(*loc, m))?;
        st.hostname = Some((host.clone(), *loc));
    }
    if !is_addr(&host) {
        host = host.to_ascii_lowercase();
    }
    if loaded.wants_final {
        let loc = st.hostname.as_ref().map_or(COMMAND_LINE, |(_, l)| *l);
        st.hostname = Some((host.clone(), loc));
        walk_all(&mut st, &host, true)?;
    }

    // defaults, as fill_default_options
    let port = st.port.as_ref().map_or(22, |(p, _)| *p);
    let user = st
        .user
        .as_ref()
        .map_or_else(|| local.user.clone(), |(u, _)| u.clone());
    let host_key_alias = st
        .host_key_alias
        .as_ref()
        .map(|(a, _)| a.to_ascii_lowercase());
    let conn = Conn {
        host_arg,
        host: &host,
        port,
        user: &user,
        key_alias: host_key_alias.as_deref(),
    };
    let expand_path = |raw: &str, loc: Loc| -> Result<PathBuf, ConfigError> {
        let t = tokens::tilde(raw, &local.home).map_err(|m| invalid_at(loc, m))?;
        tokens::expand(&t, Tokens::Client, true, local, &conn)
            .map(PathBuf::from)
            .map_err(|m| invalid_at(loc, m))
    };
    let mut identity_files = Vec::new();
    for (f, _, loc) in &st.identity_files {
        identity_files.push(expand_path(f, *loc)?);
    }
    let mut certificate_files = Vec::new();
    for (f, _, loc) in &st.certificate_files {
        certificate_files.push(expand_path(f, *loc)?);
    }
    let (user_kh, user_kh_loc) = st.user_known_hosts.clone().unwrap_or_else(|| {
        (
            vec!["~/.ssh/known_hosts".into(), "~/.ssh/known_hosts2".into()],
            COMMAND_LINE,
        )
    });
    let mut user_known_hosts_files = Vec::new();
    if !is_none(&user_kh) {
        for f in &user_kh {
            user_known_hosts_files.push(expand_path(f, user_kh_loc)?);
        }
    }
    let (global_kh, global_kh_loc) = st.global_known_hosts.clone().unwrap_or_else(|| {
        (
            vec![
                "/etc/ssh/ssh_known_hosts".into(),
                "/etc/ssh/ssh_known_hosts2".into(),
            ],
            COMMAND_LINE,
        )
    });
    let global_kh = if is_none(&global_kh) {
        Vec::new()
    } else {
        global_kh
    };
    let mut global_known_hosts_files = Vec::new();
    for f in &global_kh {
        global_known_hosts_files.push(PathBuf::from(
            tokens::tilde(f, &local.home).map_err(|m| invalid_at(global_kh_loc, m))?,
        ));
    }

    let mut raw = Raw {
        identity_files: st
            .identity_files
            .iter()
            .map(|(f, _, _)| f.clone())
            .collect(),
        certificate_files: st
            .certificate_files
            .iter()
            .map(|(f, _, _)| f.clone())
            .collect(),
        global_known_hosts: global_kh,
        server_alive_interval: st.server_alive_interval.as_ref().map_or(0, |(v, _)| *v),
        connect_timeout: st.connect_timeout.as_ref().map(|(v, _)| *v),
        ignore_unknown: st.ignore_unknown.as_ref().map(|(v, _)| v.clone()),
        identity_agent: st.identity_agent.as_ref().map(|(v, _)| v.clone()),
        user_set: st.user.is_some(),
        ..Raw::default()
    };

    let proxy = match (&st.jump, &st.proxy_command) {
        (Some((Some((hops, text)), _)), _) => {
            let Some(last) = hops.last() else {
                return Err(ConfigError::Host {
                    host: host_arg.into(),
                    message: "empty ProxyJump".into(),
                });
            };
            if last.host == host
                && last.port.unwrap_or(22) == port
                && last.user.as_deref().unwrap_or(&user) == user
            {
                return Err(ConfigError::Host {
                    host: host_arg.into(),
                    message: format!("jump host loop via {}", last.host),
                });
            }
            let extra = text.rfind(',').map(|i| &text[..i]);
            raw.proxy_jump = Some(match extra {
                Some(e) if !e.is_empty() => format!("{e},{last}"),
                _ => last.to_string(),
            });
            Proxy::Jump(hops.clone())
        }
        (_, Some((c, _))) if c.eq_ignore_ascii_case("none") => Proxy::Direct,
        (_, Some((c, loc))) => {
            if c == "-" {
                let (path, line) = at(*loc);
                return Err(ConfigError::Unsupported {
                    path,
                    line,
                    setting: format!("ProxyCommand {c}"),
                    host: host_arg.into(),
                    why: "a ProxyCommand on this program's own stdin and stdout".into(),
                });
            }
            raw.proxy_command = Some(c.clone());
            Proxy::Command(
                tokens::expand(c, Tokens::ProxyCommand, false, local, &conn)
                    .map_err(|m| invalid_at(*loc, m))?,
            )
        }
        (_, None) => Proxy::Direct,
    };

    let use_agent = match st.identity_agent.as_ref() {
        None => true,
        Some((a, loc)) => match a.as_str() {
            "SSH_AUTH_SOCK" | "$SSH_AUTH_SOCK" | "${SSH_AUTH_SOCK}" => true,
            "none" => false,
            other => {
                let (path, line) = at(*loc);
                return Err(ConfigError::Unsupported {
                    path,
                    line,
                    setting: format!("IdentityAgent {other}"),
                    host: host_arg.into(),
                    why: "only SSH_AUTH_SOCK and none are supported".into(),
                });
            }
        },
    };

    let mut warnings = Vec::new();
    for n in &st.noted {
        let inert = |list: &[&str]| list.iter().any(|v| v.eq_ignore_ascii_case(&n.value));
        let (path, line) = at(n.loc);
        match n.report {
            Report::Ignore => {}
            Report::Warn { inert: i, why } => {
                if !inert(i) {
                    warnings.push(ConfigWarning {
                        path,
                        line,
                        keyword: n.keyword.clone(),
                        value: n.value.clone(),
                        why: why.into(),
                    });
                }
            }
            Report::Refuse { inert: i, why } => {
                if !inert(i) {
                    return Err(ConfigError::Unsupported {
                        path,
                        line,
                        setting: format!("{} {}", n.keyword, n.value),
                        host: host_arg.into(),
                        why: why.into(),
                    });
                }
            }
        }
    }
    if let Some((_, _, loc)) = st.certificate_files.first() {
        let (path, line) = at(*loc);
        warnings.push(ConfigWarning {
            path,
            line,
            keyword: "CertificateFile".into(),
            value: raw.certificate_files.join(" "),
            why: "certificates are not used for authentication".into(),
        });
    }

    Ok(HostConfig {
        host: host_arg.to_string(),
        hostname: host.clone(),
        user,
        port,
        identity_files,
        identities_only: st.identities_only.as_ref().is_some_and(|(b, _)| *b),
        certificate_files,
        proxy,
        host_key_alias,
        user_known_hosts_files,
        global_known_hosts_files,
        strict_host_key_checking: st
            .strict
            .as_ref()
            .map_or_else(Default::default, |(s, _)| *s),
        connect_timeout: st
            .connect_timeout
            .as_ref()
            .filter(|(t, _)| *t > 0)
            .map(|(t, _)| Duration::from_secs(u64::from(*t))),
        server_alive_interval: st
            .server_alive_interval
            .as_ref()
            .map(|(t, _)| Duration::from_secs(u64::from(*t))),
        server_alive_count_max: st
            .server_alive_count_max
            .as_ref()
            .map_or(3, |(n, _)| u32::try_from(*n).unwrap_or(0)),
        kex_algorithms: st.kex.as_ref().map(|(k, _)| super::kex_list(k)),
        address_family: st
            .address_family
            .as_ref()
            .map_or_else(Default::default, |(a, _)| *a),
        hash_known_hosts: st.hash_known_hosts.as_ref().is_some_and(|(b, _)| *b),
        use_agent,
        warnings,
        raw,
    })
}

fn is_none(list: &[String]) -> bool {
    list.len() == 1 && list[0].eq_ignore_ascii_case("none")
}
