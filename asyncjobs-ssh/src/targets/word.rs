//! Target words: `[GATEWAY->]...[user@]host[:port]`, lists, node sets,
//! `@group`s, and target files.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::path::Path;

use super::groups::{GroupError, Groups};
use super::nodeset::{split_list, Budget, NodeSetError, Pattern};
use crate::escape::escape_control;

/// Largest target file read (`-t FILE`): 64 MiB, as the names budget.
pub const MAX_TARGET_FILE: u64 = 64 << 20;

/// Deepest nesting of groups naming groups (`@all: '@web,@db'`).
pub const MAX_GROUP_DEPTH: usize = 16;

/// One hop: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hop {
    /// Login user, when given.
    pub user: Option<String>,
    /// Host name, address or ssh_config alias (IPv6 without brackets).
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(p)) => write!(f, "[{}]:{p}", self.host),
            (false, Some(p)) => write!(f, "{}:{p}", self.host),
            _ => write!(f, "{}", self.host),
        }
    }
}

/// How a target is reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Via {
    /// As the options and `~/.ssh/config` say (`-J`, `ProxyJump`).
    Default,
    /// Directly, whatever `-J` says (`None->host`).
    Direct,
    /// Through these gateways, first one first.
    Gateways(Vec<Hop>),
}

/// One host to run on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The host itself.
    pub hop: Hop,
    /// How to reach it.
    pub via: Via,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.via {
            Via::Default => {}
            Via::Direct => write!(f, "None->")?,
            Via::Gateways(gws) => {
                for g in gws {
                    write!(f, "{g}->")?;
                }
            }
        }
        write!(f, "{}", self.hop)
    }
}

/// A target that cannot be understood; always names the offending text
/// (escaped: no control character reaches the terminal).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Bad host, user or port.
    #[error("bad target `{}`: {why}", escape_control(.item))]
    Syntax {
        /// The item.
        item: String,
        /// What is wrong.
        why: String,
    },
    /// Bad node set, or too many names.
    #[error("bad target: {0}")]
    NodeSet(#[from] NodeSetError),
    /// An `@group` that cannot be expanded.
    #[error(transparent)]
    Group(#[from] GroupError),
    /// A target file that cannot be read.
    #[error("cannot read targets from {}: {source}", escape_control(.path))]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A bad target inside a file.
    #[error("{}:{line}: {source}", escape_control(.path))]
    InFile {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The error on that line.
        source: Box<TargetError>,
    },
}

fn syntax(item: &str, why: impl Into<String>) -> TargetError {
    TargetError::Syntax {
        item: item.to_string(),
        why: why.into(),
    }
}

/// Parses target words with one [`Budget`] for all of them (a command line's
/// targets), and `@group`s from [`Groups`] (read on the first `@`).
#[derive(Debug, Default)]
pub struct TargetParser {
    budget: Budget,
    groups: Option<Groups>,
    /// Sources of the groups being expanded, innermost last.
    expanding: Vec<String>,
}

impl TargetParser {
    /// A parser with the default budget and no groups (`@x` is an error
    /// saying no group source is set).
    pub fn new() -> TargetParser {
        TargetParser::default()
    }

    /// Uses `budget` instead of the default one.
    pub fn budget(mut self, budget: Budget) -> TargetParser {
        self.budget = budget;
        self
    }

    /// Expands `@group` with these groups.
    pub fn groups(mut self, groups: Groups) -> TargetParser {
        self.groups = Some(groups);
        self
    }

    /// Names charged to the budget so far.
    pub fn names_used(&self) -> u64 {
        self.budget.names_used()
    }

    /// Parses a target word: items separated by commas (outside brackets) or
    /// whitespace. The sizes of all its node sets are charged before any is
    /// expanded.
    pub fn word(&mut self, word: &str) -> Result<Vec<Target>, TargetError> {
        let mut planned = Vec::new();
        let mut count: Option<u64> = Some(0);
        let mut bytes: Option<u64> = Some(0);
        for item in split_list(word) {
            let p = plan_item(item)?;
            if let Planned::Hosts { pattern, hop, .. } = &p {
                let (c, b) = match pattern {
                    Some(p) => (p.count(), p.max_bytes()),
                    None => (Some(1), Some(hop.host.len() as u64)),
                };
                count = count.zip(c).and_then(|(a, b)| a.checked_add(b));
                bytes = bytes.zip(b).and_then(|(a, b)| a.checked_add(b));
            }
            planned.push(p);
        }
        self.budget.clone().charge(word, count, bytes)?;
        let mut out = Vec::new();
        for p in planned {
            match p {
                Planned::Hosts { hop, via, pattern } => {
                    let hosts = match &pattern {
                        Some(p) => p.expand(&mut self.budget)?,
                        None => {
                            self.budget
                                .charge(&hop.host, Some(1), Some(hop.host.len() as u64))?;
                            vec![hop.host.clone()]
                        }
                    };
                    out.reserve(hosts.len());
                    out.extend(hosts.into_iter().map(|host| Target {
                        hop: Hop {
                            host,
                            ..hop.clone()
                        },
                        via: via.clone(),
                    }));
                }
                Planned::Group {
                    name,
                    user,
                    port,
                    via,
                } => {
                    for mut t in self.group(&name)? {
                        if user.is_some() {
                            t.hop.user.clone_from(&user);
                        }
                        if port.is_some() {
                            t.hop.port = port;
                        }
                        if via != Via::Default {
                            t.via = via.clone();
                        }
                        out.push(t);
                    }
                }
            }
        }
        Ok(out)
    }

    fn group(&mut self, name: &str) -> Result<Vec<Target>, TargetError> {
        if self.expanding.len() >= MAX_GROUP_DEPTH {
            return Err(GroupError::TooDeep {
                group: name.to_string(),
                depth: MAX_GROUP_DEPTH,
            }
            .into());
        }
        let groups = self.groups.get_or_insert_with(Groups::none);
        let (source, value) = groups.lookup_in(name, self.expanding.last().map(String::as_str))?;
        self.expanding.push(source);
        let r = self.word(&value);
        self.expanding.pop();
        r.map_err(|e| match e {
            TargetError::Group(g) => TargetError::Group(g),
            e => GroupError::Bad {
                group: name.to_string(),
                message: e.to_string(),
            }
            .into(),
        })
    }

    /// Targets of a file's text: words separated by whitespace or commas,
    /// `#` to the end of the line is a comment; errors name `name:line`.
    pub fn text(&mut self, text: &str, name: &str) -> Result<Vec<Target>, TargetError> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default();
            out.extend(self.word(line).map_err(|e| TargetError::InFile {
                path: name.to_string(),
                line: i.saturating_add(1),
                source: Box::new(e),
            })?);
        }
        Ok(out)
    }

    /// Reads targets from a source given to `-t` / `-x`: `-` (stdin), a
    /// directory (its regular file names are hosts, as the `0ok/` and
    /// `1failed/` marks of `ajssh -m`), a file (at most
    /// [`MAX_TARGET_FILE`] bytes), or, when no such path exists and the text
    /// does not look like a path, the text itself (as apssh does).
    pub fn source(&mut self, source: &str) -> Result<Vec<Target>, TargetError> {
        let read_err = |e| TargetError::Read {
            path: source.to_string(),
            source: e,
        };
        if source == "-" {
            let text = read_capped(std::io::stdin().lock()).map_err(read_err)?;
            return self.text(&text, "<stdin>");
        }
        let path = Path::new(source);
        if path.is_dir() {
            return self.dir(path).map_err(read_err);
        }
        if path.exists() || source.contains('/') {
            let file = std::fs::File::open(path).map_err(read_err)?;
            let text = read_capped(file).map_err(read_err)?;
            return self.text(&text, source);
        }
        self.word(source)
    }

    /// Hosts named by the regular files of `dir` (hidden files skipped), sorted.
    fn dir(&mut self, dir: &Path) -> std::io::Result<Vec<Target>> {
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            // a symlink counts as what it points to; subdirectories (such
            // as `0ok/` beside `1failed/`) are skipped; anything else is an
            // error, never skipped silently
            let kind = match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_file() => true,
                Ok(m) if m.is_dir() => false,
                Ok(_) => {
                    return Err(invalid(format!(
                        "{} is neither a file nor a directory",
                        escape_control(&entry.path().to_string_lossy())
                    )))
                }
                Err(e) => {
                    return Err(invalid(format!(
                        "{}: {e}",
                        escape_control(&entry.path().to_string_lossy())
                    )))
                }
            };
            if !kind {
                continue;
            }
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(invalid(format!(
                    "file name {} is not UTF-8",
                    escape_control(&name.to_string_lossy())
                )));
            };
            if !name.starts_with('.') {
                self.budget
                    .charge(name, Some(1), Some(name.len() as u64))
                    .map_err(|e| invalid(e.to_string()))?;
                names.push(name.to_string());
            }
        }
        names.sort();
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            // a file name is one target, not a node set or a list
            let hop = parse_hop(&n, &n).map_err(|e| invalid(e.to_string()))?;
            out.push(Target {
                hop,
                via: Via::Default,
            });
        }
        Ok(out)
    }
}

/// Reads at most [`MAX_TARGET_FILE`] bytes of UTF-8 text; more is an error.
fn read_capped(r: impl Read) -> std::io::Result<String> {
    let mut text = String::new();
    r.take(MAX_TARGET_FILE.saturating_add(1))
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_TARGET_FILE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MiB", MAX_TARGET_FILE >> 20),
        ));
    }
    Ok(text)
}

/// An item, parsed but not expanded.
enum Planned {
    Hosts {
        hop: Hop,
        via: Via,
        /// The host as a node set (`None`: one literal host, e.g. IPv6).
        pattern: Option<Pattern>,
    },
    Group {
        name: String,
        user: Option<String>,
        port: Option<u16>,
        via: Via,
    },
}

/// One item: `[gw->]...[user@]host[:port]`, host possibly a node set or `@group`.
fn plan_item(item: &str) -> Result<Planned, TargetError> {
    let normalized = item.replace('→', "->");
    let mut hops: Vec<&str> = normalized.split("->").collect();
    let last = hops.pop().unwrap_or_default();
    let via = match hops.as_slice() {
        [] => Via::Default,
        ["None"] => Via::Direct,
        gws => {
            let mut list = Vec::new();
            for g in gws {
                if *g == "None" {
                    return Err(syntax(
                        item,
                        "`None` can only be the first and only gateway",
                    ));
                }
                let hop = parse_hop(g, item)?;
                if hop.host.contains('[') {
                    return Err(syntax(item, "node sets are only allowed in the last hop"));
                }
                list.push(hop);
            }
            Via::Gateways(list)
        }
    };
    // `@group`, `user@@group`, `@group:port`
    let (user, rest) = match last.split_once('@') {
        Some((u, r)) if r.starts_with('@') => (Some(u), r),
        _ => (None, last),
    };
    if let Some(group) = rest
        .strip_prefix('@')
        .filter(|_| user.is_some() || last.starts_with('@'))
    {
        let (name, port) = match group.rsplit_once(':') {
            Some((n, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
                (n, Some(parse_port(p, item)?))
            }
            _ => (group, None),
        };
        if name.is_empty() {
            return Err(syntax(item, "empty group name after `@`"));
        }
        if let Some(u) = user {
            check_user(u, item)?;
        }
        return Ok(Planned::Group {
            name: name.to_string(),
            user: user.filter(|u| !u.is_empty()).map(str::to_string),
            port,
            via,
        });
    }
    let hop = parse_hop(last, item)?;
    let pattern = if is_ipv6(&hop.host) {
        None
    } else {
        Some(Pattern::parse(&hop.host)?)
    };
    Ok(Planned::Hosts { hop, via, pattern })
}

fn is_ipv6(host: &str) -> bool {
    host.contains(':')
}

fn check_user(u: &str, item: &str) -> Result<(), TargetError> {
    if u.is_empty()
        || u.contains(|c: char| c.is_whitespace() || c.is_control() || c == ':' || c == '/')
    {
        return Err(syntax(
            item,
            format!("bad user name `{}`", escape_control(u)),
        ));
    }
    Ok(())
}

/// `[user@]host[:port]`, `[user@][v6addr][:port]`; `item` is the text
/// errors quote.
pub fn parse_hop(text: &str, item: &str) -> Result<Hop, TargetError> {
    let (user, rest) = match text.rsplit_once('@') {
        Some((u, r)) => (Some(u), r),
        None => (None, text),
    };
    if let Some(u) = user {
        check_user(u, item)?;
    }
    // `[v6]` or `[v6]:port` only when the brackets hold a colon: `[1-3]:22`
    // and `[a,b]:22` are node sets with a port
    let v6 = rest
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .filter(|(addr, _)| addr.contains(':'));
    let (host, port) = if let Some((addr, after)) = v6 {
        match after {
            "" => (addr.to_string(), None),
            p => match p.strip_prefix(':') {
                Some(p) => (addr.to_string(), Some(parse_port(p, item)?)),
                None => {
                    return Err(syntax(
                        item,
                        format!(
                            "unexpected `{}` after the IPv6 address: expected `:PORT`",
                            escape_control(p)
                        ),
                    ))
                }
            },
        }
    } else if rest.starts_with('[') && rest.contains(':') && !rest.contains(']') {
        return Err(syntax(item, "missing `]` after IPv6 address"));
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_string(), Some(parse_port(p, item)?)),
            Some(_) => {
                return Err(syntax(
                    item,
                    "an IPv6 address must be written in brackets: `[::1]:22`",
                ))
            }
            None => (rest.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(syntax(item, "empty host name"));
    }
    // `/` only as a node-set step, inside brackets
    let mut depth = 0usize;
    let slash_outside = host.chars().any(|c| {
        match c {
            '[' => depth = depth.saturating_add(1),
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        c == '/' && depth == 0
    });
    if slash_outside || host.contains(|c: char| c == '@' || c.is_control() || c.is_whitespace()) {
        return Err(syntax(
            item,
            format!("bad host name `{}`", escape_control(&host)),
        ));
    }
    Ok(Hop {
        user: user.map(str::to_string),
        host,
        port,
    })
}

fn parse_port(p: &str, item: &str) -> Result<u16, TargetError> {
    p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
        syntax(
            item,
            format!("bad port `{}`: expected 1-65535", escape_control(p)),
        )
    })
}

/// Parses a target word with the default budget and no groups.
///
/// ```
/// use asyncjobs_ssh::targets::parse_word;
/// let t = parse_word("gw->u@n[1-3/2]:2222,web").unwrap();
/// let shown: Vec<String> = t.iter().map(ToString::to_string).collect();
/// assert_eq!(shown, ["gw->u@n1:2222", "gw->u@n3:2222", "web"]);
/// ```
pub fn parse_word(word: &str) -> Result<Vec<Target>, TargetError> {
    TargetParser::new().word(word)
}

/// Targets of a file's text with the default budget and no groups (see
/// [`TargetParser::text`]).
pub fn parse_text(text: &str, name: &str) -> Result<Vec<Target>, TargetError> {
    TargetParser::new().text(text, name)
}

/// Targets of a `-t` source with the default budget and no groups (see
/// [`TargetParser::source`]).
pub fn from_source(source: &str) -> Result<Vec<Target>, TargetError> {
    TargetParser::new().source(source)
}

/// True when `exclude` designates `target`: same host, and same user and
/// port when the exclude gives them (gateways are not compared).
pub fn excludes(exclude: &Hop, target: &Hop) -> bool {
    exclude.host == target.host
        && exclude
            .user
            .as_ref()
            .is_none_or(|u| target.user.as_ref() == Some(u))
        && exclude.port.is_none_or(|p| target.port == Some(p))
}

/// The targets minus the excluded ones, duplicates dropped, order kept.
/// Returns the selection and how many were excluded. Linear in the number
/// of targets and excludes (the excludes are indexed by host name).
pub fn resolve(targets: Vec<Target>, exclude: &[Target]) -> (Vec<Target>, usize) {
    let mut by_host: HashMap<&str, Vec<&Hop>> = HashMap::with_capacity(exclude.len());
    for x in exclude {
        by_host.entry(x.hop.host.as_str()).or_default().push(&x.hop);
    }
    let keep: Vec<Option<bool>> = {
        let mut seen: HashSet<&Target> = HashSet::with_capacity(targets.len());
        targets
            .iter()
            .map(|t| {
                if !seen.insert(t) {
                    return None;
                }
                let out = by_host
                    .get(t.hop.host.as_str())
                    .is_some_and(|xs| xs.iter().any(|x| excludes(x, &t.hop)));
                Some(!out)
            })
            .collect()
    };
    let excluded = keep.iter().filter(|k| **k == Some(false)).count();
    let kept = targets
        .into_iter()
        .zip(keep)
        .filter_map(|(t, k)| (k == Some(true)).then_some(t))
        .collect();
    (kept, excluded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(user: Option<&str>, host: &str, port: Option<u16>) -> Hop {
        Hop {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
        }
    }

    fn shown(word: &str) -> Vec<String> {
        parse_word(word)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn hops_parse_user_host_and_port() {
        assert_eq!(parse_hop("h", "h").unwrap(), hop(None, "h", None));
        assert_eq!(
            parse_hop("u@h:2222", "").unwrap(),
            hop(Some("u"), "h", Some(2222))
        );
        assert_eq!(
            parse_hop("[::1]:22", "").unwrap(),
            hop(None, "::1", Some(22))
        );
        assert_eq!(
            parse_hop("u@[fe80::1]", "").unwrap(),
            hop(Some("u"), "fe80::1", None)
        );
    }

    #[test]
    fn bad_hops_say_what_is_wrong() {
        let e = |t: &str| parse_hop(t, t).unwrap_err().to_string();
        assert!(e("h:0").contains("bad port `0`"));
        assert!(e("h:99999").contains("bad port `99999`"));
        assert!(e("h:ssh").contains("bad port `ssh`"));
        assert!(e("@h").contains("bad user name"));
        assert!(e("u@").contains("empty host name"));
        assert!(e("::1").contains("in brackets"));
        assert!(e("[::1]x").contains("expected `:PORT`"), "{}", e("[::1]x"));
        assert!(e("[::1").contains("missing `]`"));
        let ctl = e("h\x1b[2J:1");
        assert!(!ctl.contains('\x1b'), "{ctl}");
    }

    #[test]
    fn node_sets_with_a_port_are_not_ipv6() {
        assert_eq!(shown("[1-3]:22"), ["1:22", "2:22", "3:22"]);
        let e = parse_word("[a,b]:22").unwrap_err().to_string();
        assert!(e.contains("bad range `a` in `[a,b]`"), "{e}");
        assert_eq!(shown("[1-2]n:22"), ["1n:22", "2n:22"]);
        assert_eq!(shown("n[1-7/3]"), ["n1", "n4", "n7"]);
    }

    #[test]
    fn words_split_on_commas_outside_brackets_and_expand_node_sets() {
        assert_eq!(
            shown("a,u@n[1-2,5]:22 b"),
            ["a", "u@n1:22", "u@n2:22", "u@n5:22", "b"]
        );
        assert_eq!(shown("n[08-10]"), ["n08", "n09", "n10"]);
    }

    #[test]
    fn gateways_and_none_are_understood() {
        let t = &parse_word("g@gw:2200->u@h").unwrap()[0];
        assert_eq!(t.via, Via::Gateways(vec![hop(Some("g"), "gw", Some(2200))]));
        assert_eq!(t.hop, hop(Some("u"), "h", None));
        assert_eq!(shown("a->b→h[1-2]"), ["a->b->h1", "a->b->h2"]);
        assert_eq!(parse_word("None->h").unwrap()[0].via, Via::Direct);
        assert!(parse_word("g[1-2]->h")
            .unwrap_err()
            .to_string()
            .contains("only allowed in the last hop"));
        assert!(parse_word("a->None->h").is_err());
    }

    #[test]
    fn a_word_is_refused_whole_before_expanding() {
        let e = parse_word("n[1-999999],m[1-999999]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than the limit of 1000000 names"), "{e}");
        let e = parse_word("n[0-18446744073709551615]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expands to more than 18446744073709551615 names"),
            "{e}"
        );
        let mut p = TargetParser::new().budget(Budget::new(5, 1 << 20));
        assert_eq!(p.word("a[1-3]").unwrap().len(), 3);
        assert!(p.word("b[1-3]").is_err(), "the budget is shared by words");
        assert_eq!(p.word("c,d").unwrap().len(), 2);
    }

    #[test]
    fn target_text_skips_comments_and_blank_lines_and_names_bad_lines() {
        let text = "# fleet\nweb1 web2 # front\n\n  db[1-2],cache\n";
        let t: Vec<String> = parse_text(text, "f")
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(t, ["web1", "web2", "db1", "db2", "cache"]);
        let e = parse_text("ok\nbad:port\n", "hosts.txt")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("hosts.txt:2: bad target `bad:port`"), "{e}");
    }

    #[test]
    fn directory_file_names_are_hosts() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["h2", "h1", ".hidden", "u@h3:2222"] {
            std::fs::write(dir.path().join(n), "0\n").unwrap();
        }
        std::fs::create_dir(dir.path().join("subdir")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("h1"), dir.path().join("h4")).unwrap();
        let t: Vec<String> = from_source(dir.path().to_str().unwrap())
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(t, ["h1", "h2", "h4", "u@h3:2222"]);
        // a dangling symlink is an error naming it, not a silent skip
        std::os::unix::fs::symlink("/nonexistent", dir.path().join("h5")).unwrap();
        let e = from_source(dir.path().to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("h5"), "{e}");
    }

    #[test]
    fn sources_are_files_or_words() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("list");
        std::fs::write(&f, "a\nb\n").unwrap();
        assert_eq!(from_source(f.to_str().unwrap()).unwrap().len(), 2);
        assert_eq!(from_source("x,y").unwrap().len(), 2);
        let missing = dir.path().join("nope");
        assert!(matches!(
            from_source(missing.to_str().unwrap()),
            Err(TargetError::Read { .. })
        ));
    }

    #[test]
    fn excludes_match_host_and_given_user_or_port() {
        let t = hop(Some("u"), "h", Some(22));
        assert!(excludes(&hop(None, "h", None), &t));
        assert!(excludes(&hop(Some("u"), "h", None), &t));
        assert!(!excludes(&hop(Some("v"), "h", None), &t));
        assert!(!excludes(&hop(None, "h", Some(2222)), &t));
        assert!(!excludes(&hop(None, "g", None), &t));
    }

    #[test]
    fn resolve_drops_excluded_and_duplicates_keeping_order() {
        let all = parse_word("n[1-5],n2,n1").unwrap();
        let x = parse_word("n[3-4],u@n5").unwrap();
        let (kept, excluded) = resolve(all, &x);
        let kept: Vec<String> = kept.iter().map(ToString::to_string).collect();
        assert_eq!(kept, ["n1", "n2", "n5"]);
        assert_eq!(excluded, 2);
        let big = parse_word("n[1-200000]").unwrap();
        let (kept, excluded) = resolve(big.clone(), &big);
        assert_eq!((kept.len(), excluded), (0, 200_000));
    }

    #[test]
    fn groups_without_a_source_say_where_they_were_looked_for() {
        let e = parse_word("@web").unwrap_err().to_string();
        assert!(e.contains("@web") && e.contains("no group source"), "{e}");
    }
}
