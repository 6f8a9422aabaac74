//! The values of the keywords acted upon, parsed and checked when the file
//! is read (a bad value is an error wherever it is, as in OpenSSH), and the
//! syntax checks of the keywords that are only recognised.

use std::fmt;

use super::keyword::{Key, Syntax};
use super::lexer::Line;

/// Most known_hosts files a keyword may list (OpenSSH's `SSH_MAX_HOSTS_FILES`).
const MAX_HOSTS_FILES: usize = 32;

/// `StrictHostKeyChecking`: what to do with a host key that is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StrictHostKeyChecking {
    /// `yes`: unknown hosts are refused.
    Yes,
    /// `ask` (OpenSSH's default): this crate never prompts, so unknown hosts
    /// are refused, as with `yes`.
    #[default]
    Ask,
    /// `accept-new`: unknown hosts are accepted and recorded; changed keys are refused.
    AcceptNew,
    /// `no` / `off`: OpenSSH accepts unknown hosts and records them (and
    /// connects with restrictions when a key changed); this crate accepts and
    /// records unknown hosts but still refuses changed keys.
    No,
}

impl StrictHostKeyChecking {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "yes" | "true" => Self::Yes,
            "ask" => Self::Ask,
            "accept-new" => Self::AcceptNew,
            "no" | "off" | "false" => Self::No,
            _ => return None,
        })
    }

    /// The host key policy this setting gives a node.
    pub fn policy(self) -> crate::HostKeyPolicy {
        match self {
            Self::Yes | Self::Ask => crate::HostKeyPolicy::Strict,
            Self::AcceptNew | Self::No => crate::HostKeyPolicy::AcceptNew,
        }
    }

    /// As `ssh -G` prints it (`true`, `false`, `ask`, `accept-new`).
    pub(crate) fn ssh_g(self) -> &'static str {
        match self {
            Self::Yes => "true",
            Self::Ask => "ask",
            Self::AcceptNew => "accept-new",
            Self::No => "false",
        }
    }
}

/// `AddressFamily`: which addresses of a host name to connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressFamily {
    /// IPv4 and IPv6 (default).
    #[default]
    Any,
    /// IPv4 only.
    Inet,
    /// IPv6 only.
    Inet6,
}

impl AddressFamily {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "any" => Self::Any,
            "inet" => Self::Inet,
            "inet6" => Self::Inet6,
            _ => return None,
        })
    }

    /// As `ssh -G` prints it.
    pub(crate) fn ssh_g(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Inet => "inet",
            Self::Inet6 => "inet6",
        }
    }

    /// Whether `addr` is of this family.
    pub fn allows(self, addr: &std::net::SocketAddr) -> bool {
        match self {
            Self::Any => true,
            Self::Inet => addr.is_ipv4(),
            Self::Inet6 => addr.is_ipv6(),
        }
    }
}

/// One jump host of a `ProxyJump` list (or of `-J`): `[user@]host[:port]`
/// or `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHop {
    /// Login user, if given.
    pub user: Option<String>,
    /// Host name or address (an ssh_config alias works: the hop is resolved
    /// through the config like any host).
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
}

impl JumpHop {
    /// Parses one hop, as OpenSSH's `parse_ssh_uri` / `parse_user_host_port`.
    pub fn parse(text: &str) -> Result<JumpHop, String> {
        let bad = |why: &str| format!("invalid jump host `{text}`: {why}");
        if let Some(uri) = text.strip_prefix("ssh://") {
            let (user, hostport) = match uri.find('@') {
                Some(i) => {
                    let user = uri[..i].split(';').next().unwrap_or("");
                    if user.is_empty() {
                        return Err(bad("empty user name"));
                    }
                    (
                        Some(urldecode(user).ok_or_else(|| bad("bad %-escape in the user"))?),
                        &uri[i + 1..],
                    )
                }
                None => (None, uri),
            };
            let hostport = hostport.strip_suffix('/').unwrap_or(hostport);
            if hostport.contains('/') {
                return Err(bad("a path is not allowed"));
            }
            let (host, port) = split_host_port(hostport).ok_or_else(|| bad("bad host or port"))?;
            return Ok(JumpHop { user, host, port });
        }
        let (user, hostport) = match text.rfind('@') {
            Some(0) => return Err(bad("empty user name")),
            Some(i) => (Some(text[..i].to_string()), &text[i + 1..]),
            None => (None, text),
        };
        let (host, port) = split_host_port(hostport).ok_or_else(|| bad("bad host or port"))?;
        Ok(JumpHop { user, host, port })
    }

    /// Parses a comma-separated list; `Ok(None)` for `none` (no jump host).
    pub fn parse_list(text: &str) -> Result<Option<Vec<JumpHop>>, String> {
        if text.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        text.split(',')
            .map(|h| JumpHop::parse(h.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

impl fmt::Display for JumpHop {
    /// `[user@]host[:port]`, IPv6 and numeric addresses in brackets as `ssh -G` writes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        let numeric =
            self.host.contains(':') || self.host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if numeric {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// `host`, `host:port`, `[host]`, `[host]:port` (OpenSSH's `hpdelim` + `cleanhostname`).
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if s.starts_with('[') {
        let close = s.find(']')?;
        let after = &s[close + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (&s[1..close], port)
    } else {
        match s.find(':') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(parse_port(p).filter(|&p| p > 0)?),
    };
    Some((host.to_string(), port))
}

fn urldecode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A port number (`a2port`: 0..=65535, or the service name `ssh`).
pub(crate) fn parse_port(s: &str) -> Option<u16> {
    if s == "ssh" {
        return Some(22);
    }
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u16>().ok()
}

/// OpenSSH's `convtime`: `90`, `90s`, `1h30m`, ... in seconds (at most `i32::MAX`).
pub(crate) fn convtime(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let n: u64 = s[start..i].parse().ok()?;
        let mult: u64 = match b.get(i) {
            None => 1,
            Some(c) => {
                i += 1;
                match c.to_ascii_lowercase() {
                    b's' => 1,
                    b'm' => 60,
                    b'h' => 3600,
                    b'd' => 86_400,
                    b'w' => 604_800,
                    _ => return None,
                }
            }
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
        if total > i32::MAX as u64 {
            return None;
        }
    }
    u32::try_from(total).ok()
}

/// The value of an implemented keyword.
#[derive(Debug, Clone)]
pub(crate) enum Setting {
    HostName(Box<str>),
    Port(u16),
    User(Box<str>),
    IdentityFile(Box<str>),
    IdentitiesOnly(bool),
    CertificateFile(Box<str>),
    /// `None` for `ProxyJump none`; the hops and the text as written otherwise.
    ProxyJump(Option<(Vec<JumpHop>, Box<str>)>),
    ProxyCommand(Box<str>),
    HostKeyAlias(Box<str>),
    UserKnownHostsFile(Box<[Box<str>]>),
    GlobalKnownHostsFile(Box<[Box<str>]>),
    StrictHostKeyChecking(StrictHostKeyChecking),
    /// `None` for `none`.
    ConnectTimeout(Option<u32>),
    ServerAliveInterval(Option<u32>),
    ServerAliveCountMax(i32),
    KexAlgorithms(Box<str>),
    IgnoreUnknown(Box<str>),
    AddressFamily(AddressFamily),
    HashKnownHosts(bool),
    IdentityAgent(Box<str>),
}

fn flag(word: &str) -> Option<bool> {
    match word.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// The one argument of a keyword that takes exactly one.
fn one<'a>(line: &'a Line<'_>) -> Result<&'a str, String> {
    match line.args.as_slice() {
        [] => Err("missing argument".into()),
        [a] if a.is_empty() => Err("missing argument".into()),
        [a] => Ok(a),
        _ => Err(format!(
            "keyword {} extra arguments at end of line",
            line.keyword
        )),
    }
}

/// The rest of the line after `=` and whitespace (commands, jump lists).
fn rest<'a>(line: &'a Line<'_>) -> &'a str {
    line.rest.trim_start_matches([' ', '\t', '\r', '\n', '='])
}

fn time(word: &str) -> Result<Option<u32>, String> {
    if word == "none" {
        return Ok(None);
    }
    convtime(word)
        .map(Some)
        .ok_or_else(|| format!("invalid time value `{word}`"))
}

fn int(word: &str) -> Result<i32, String> {
    word.parse::<i32>()
        .map_err(|_| format!("integer value `{word}` is invalid"))
}

fn file_list(line: &Line<'_>) -> Result<Box<[Box<str>]>, String> {
    if line.args.iter().any(String::is_empty) {
        return Err(format!("keyword {} empty argument", line.keyword));
    }
    if line.args.len() > 1 && line.args.iter().any(|a| a.eq_ignore_ascii_case("none")) {
        return Err(format!(
            "keyword {} \"none\" argument must appear alone",
            line.keyword
        ));
    }
    if line.args.len() > MAX_HOSTS_FILES {
        return Err(format!("too many {} entries", line.keyword));
    }
    Ok(line.args.iter().map(|a| a.as_str().into()).collect())
}

/// Key exchange names OpenSSH knows (9.2 and later), besides the ones this crate implements.
const OPENSSH_KEX: &[&str] = &[
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group-exchange-sha256",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "mlkem768x25519-sha256",
];

fn kex_spec(word: &str) -> Result<(), String> {
    if word.starts_with('-') {
        // removals may name anything, as in OpenSSH
        return Ok(());
    }
    let list = word.strip_prefix(['+', '^']).unwrap_or(word);
    let supported = crate::supported_kex_algorithms();
    for name in list.split(',') {
        if !OPENSSH_KEX.contains(&name) && !supported.contains(&name) {
            return Err(format!(
                "bad KexAlgorithms `{word}`: unknown algorithm `{name}`"
            ));
        }
    }
    Ok(())
}

fn identity_agent(word: &str) -> Result<(), String> {
    if let Some(name) = word.strip_prefix('$').filter(|n| !n.starts_with('{')) {
        let valid =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(format!("invalid environment name `{word}`"));
        }
    }
    Ok(())
}

/// Parses the value of implemented keyword `key` on `line`.
pub(crate) fn setting(key: Key, line: &Line<'_>) -> Result<Setting, String> {
    Ok(match key {
        Key::HostName => Setting::HostName(one(line)?.into()),
        Key::User => Setting::User(one(line)?.into()),
        Key::HostKeyAlias => Setting::HostKeyAlias(one(line)?.into()),
        Key::IgnoreUnknown => Setting::IgnoreUnknown(one(line)?.into()),
        Key::IdentityFile => Setting::IdentityFile(one(line)?.into()),
        Key::CertificateFile => Setting::CertificateFile(one(line)?.into()),
        Key::Port => {
            let word = one(line)?;
            match parse_port(word) {
                Some(p) if p > 0 => Setting::Port(p),
                _ => return Err(format!("bad port `{word}`")),
            }
        }
        Key::IdentitiesOnly | Key::HashKnownHosts => {
            let word = one(line)?;
            let v = flag(word).ok_or_else(|| format!("unsupported option \"{word}\""))?;
            if key == Key::IdentitiesOnly {
                Setting::IdentitiesOnly(v)
            } else {
                Setting::HashKnownHosts(v)
            }
        }
        Key::StrictHostKeyChecking => {
            let word = one(line)?;
            Setting::StrictHostKeyChecking(
                StrictHostKeyChecking::parse(word)
                    .ok_or_else(|| format!("unsupported option \"{word}\""))?,
            )
        }
        Key::AddressFamily => {
            let word = one(line)?;
            Setting::AddressFamily(
                AddressFamily::parse(word)
                    .ok_or_else(|| format!("unsupported option \"{word}\""))?,
            )
        }
        Key::ConnectTimeout => Setting::ConnectTimeout(time(one(line)?)?),
        Key::ServerAliveInterval => Setting::ServerAliveInterval(time(one(line)?)?),
        Key::ServerAliveCountMax => Setting::ServerAliveCountMax(int(one(line)?)?),
        Key::KexAlgorithms => {
            let word = one(line)?;
            kex_spec(word)?;
            Setting::KexAlgorithms(word.into())
        }
        Key::IdentityAgent => {
            let word = one(line)?;
            identity_agent(word)?;
            Setting::IdentityAgent(word.into())
        }
        Key::UserKnownHostsFile => Setting::UserKnownHostsFile(file_list(line)?),
        Key::GlobalKnownHostsFile => Setting::GlobalKnownHostsFile(file_list(line)?),
        Key::ProxyCommand => Setting::ProxyCommand(rest(line).into()),
        Key::ProxyJump => {
            let text = rest(line);
            // a `#` anywhere starts a comment here (OpenSSH's parse_jump)
            let spec = text.split('#').next().unwrap_or("").trim_end();
            if text.eq_ignore_ascii_case("none") {
                Setting::ProxyJump(None)
            } else {
                let hops = JumpHop::parse_list(spec)
                    .map_err(|e| format!("invalid ProxyJump \"{text}\": {e}"))?
                    .unwrap_or_else(|| {
                        vec![JumpHop {
                            user: None,
                            host: spec.to_string(),
                            port: None,
                        }]
                    });
                Setting::ProxyJump(Some((hops, text.into())))
            }
        }
    })
}

/// Checks the arguments of a keyword that is only recognised; returns its
/// effective value (the first argument, or the command) for reports.
pub(crate) fn check_syntax(syntax: Syntax, line: &Line<'_>) -> Result<String, String> {
    let first = line.args.first().cloned().unwrap_or_default();
    match syntax {
        Syntax::Any => {}
        Syntax::Rest => return Ok(rest(line).to_string()),
        Syntax::One => {
            one(line)?;
        }
        Syntax::Flag => {
            let w = one(line)?;
            flag(w).ok_or_else(|| format!("unsupported option \"{w}\""))?;
        }
        Syntax::Choice(words) => {
            let w = one(line)?;
            if !words.iter().any(|c| c.eq_ignore_ascii_case(w)) {
                return Err(format!("unsupported option \"{w}\""));
            }
        }
        Syntax::Time => {
            time(one(line)?)?;
        }
        Syntax::Int => {
            int(one(line)?)?;
        }
        Syntax::OneOrTwo => {
            if line.args.is_empty() || line.args.len() > 2 || first.is_empty() {
                return Err(format!(
                    "keyword {} takes one or two arguments",
                    line.keyword
                ));
            }
        }
        Syntax::List => {
            if line.args.is_empty() || line.args.iter().any(String::is_empty) {
                return Err(format!("keyword {} empty argument", line.keyword));
            }
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_follow_convtime() {
        assert_eq!(convtime("90"), Some(90));
        assert_eq!(convtime("1h30m"), Some(5400));
        assert_eq!(convtime("2D"), Some(172_800));
        assert_eq!(convtime("1w"), Some(604_800));
        assert_eq!(convtime("5x"), None);
        assert_eq!(convtime(""), None);
        assert_eq!(convtime("m"), None);
        assert_eq!(convtime("99999999999"), None);
        assert_eq!(convtime("3000000w"), None);
    }

    #[test]
    fn ports_are_numbers_or_ssh() {
        assert_eq!(parse_port("2222"), Some(2222));
        assert_eq!(parse_port("ssh"), Some(22));
        assert_eq!(parse_port("65536"), None);
        assert_eq!(parse_port("-1"), None);
        assert_eq!(parse_port("http"), None);
    }

    #[test]
    fn jump_hosts_parse_as_openssh_does() {
        let h = JumpHop::parse("admin@bastion:2222").unwrap();
        assert_eq!(
            h,
            JumpHop {
                user: Some("admin".into()),
                host: "bastion".into(),
                port: Some(2222)
            }
        );
        assert_eq!(JumpHop::parse("[::1]:22").unwrap().host, "::1");
        assert_eq!(
            JumpHop::parse("a@b@c").unwrap().user.as_deref(),
            Some("a@b")
        );
        let uri = JumpHop::parse("ssh://us%65r@gw:2200").unwrap();
        assert_eq!((uri.user.as_deref(), uri.port), (Some("user"), Some(2200)));
        for bad in ["", "@h", "h:x", "h:0", "a:b:c", "[::1", "ssh://gw/path"] {
            assert!(JumpHop::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(JumpHop::parse_list("none").unwrap(), None);
        assert_eq!(JumpHop::parse_list("a,b").unwrap().unwrap().len(), 2);
        assert_eq!(
            JumpHop::parse("u@10.0.0.1:2").unwrap().to_string(),
            "u@[10.0.0.1]:2"
        );
        assert_eq!(JumpHop::parse("gw").unwrap().to_string(), "gw");
    }
}
