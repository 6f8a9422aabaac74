//! Target syntax: which hosts to run on.
//!
//! A target word is a list separated by commas or whitespace; each item is
//! `[GATEWAY->]...[user@]host[:port]`:
//! * `host` may be a node set (`node[01-20,35]`), an IPv6 literal in
//!   brackets (`[::1]:2222`), or an alias of `~/.ssh/config`;
//! * `gw->host` (also `→`) goes through `gw`, `a->b->host` through `a` then
//!   `b`; `None->host` connects directly even when `-J` is given (apssh).
//!
//! A target *source* (`-t`) is a file (one or more targets per line, `#`
//! starts a comment), `-` for stdin, or a directory whose regular file names
//! are hosts (such as the `0ok/` and `1failed/` marks that `-m` writes).
//! [`resolve`] applies the excludes and drops duplicates, keeping the order.

use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::nodeset::{self, NodeSetError};

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

/// A target that cannot be understood; always names the offending text.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Bad host, user or port.
    #[error("bad target `{item}`: {why}")]
    Syntax {
        /// The item.
        item: String,
        /// What is wrong.
        why: String,
    },
    /// Bad node set.
    #[error("bad target: {0}")]
    NodeSet(#[from] NodeSetError),
    /// A target file that cannot be read.
    #[error("cannot read targets from {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A bad target inside a file.
    #[error("{path}:{line}: {source}")]
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

/// Parses a target word: items separated by commas (outside brackets) or whitespace.
pub fn parse_word(word: &str) -> Result<Vec<Target>, TargetError> {
    let mut out = Vec::new();
    for item in split_items(word) {
        out.extend(parse_item(&item)?);
    }
    Ok(out)
}

/// Splits on commas outside `[...]` and on whitespace.
fn split_items(word: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in word.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if (c == ',' && depth == 0) || c.is_whitespace() {
            if !cur.is_empty() {
                items.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        items.push(cur);
    }
    items
}

/// One item: `[gw->]...[user@]host[:port]`, host possibly a node set.
fn parse_item(item: &str) -> Result<Vec<Target>, TargetError> {
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
    let hop = parse_hop(last, item)?;
    let hosts = if is_ipv6(&hop.host) {
        vec![hop.host.clone()]
    } else {
        nodeset::expand(&hop.host)?
    };
    Ok(hosts
        .into_iter()
        .map(|host| Target {
            hop: Hop {
                host,
                ..hop.clone()
            },
            via: via.clone(),
        })
        .collect())
}

fn is_ipv6(host: &str) -> bool {
    host.contains(':')
}

/// `[user@]host[:port]`, `[user@][v6addr][:port]`.
pub fn parse_hop(text: &str, item: &str) -> Result<Hop, TargetError> {
    let (user, rest) = match text.rsplit_once('@') {
        Some((u, r)) => (Some(u), r),
        None => (None, text),
    };
    if let Some(u) = user {
        if u.is_empty() || u.contains(|c: char| c.is_whitespace() || c == ':' || c == '/') {
            return Err(syntax(item, format!("bad user name `{u}`")));
        }
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[').filter(|r| r.contains(':')) {
        // [v6] or [v6]:port; a node set never holds ':'
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| syntax(item, "missing `]` after IPv6 address"))?;
        match after {
            "" => (addr.to_string(), None),
            p => (
                addr.to_string(),
                Some(parse_port(p.strip_prefix(':').unwrap_or("x"), item)?),
            ),
        }
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
    if host.contains(|c: char| c == '@' || c == '/' || c.is_control()) {
        return Err(syntax(item, format!("bad host name `{host}`")));
    }
    Ok(Hop {
        user: user.map(str::to_string),
        host,
        port,
    })
}

fn parse_port(p: &str, item: &str) -> Result<u16, TargetError> {
    p.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| syntax(item, format!("bad port `{p}`: expected 1-65535")))
}

/// Reads targets from a source given to `-t` / `-x`: `-` (stdin), a
/// directory (file names are hosts), a file, or, when no such path exists
/// and the text does not look like a path, the text itself (as apssh does).
pub fn from_source(source: &str) -> Result<Vec<Target>, TargetError> {
    let read_err = |e| TargetError::Read {
        path: source.to_string(),
        source: e,
    };
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(read_err)?;
        return parse_text(&text, "<stdin>");
    }
    let path = Path::new(source);
    if path.is_dir() {
        return from_dir(path).map_err(read_err);
    }
    if path.exists() || source.contains('/') {
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        return parse_text(&text, source);
    }
    parse_word(source)
}

/// Targets of a file's text: tokens separated by whitespace or commas, `#` to
/// the end of the line is a comment.
pub fn parse_text(text: &str, name: &str) -> Result<Vec<Target>, TargetError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        out.extend(parse_word(line).map_err(|e| TargetError::InFile {
            path: name.to_string(),
            line: i + 1,
            source: Box::new(e),
        })?);
    }
    Ok(out)
}

/// Hosts named by the regular files of `dir` (hidden files skipped), sorted.
fn from_dir(dir: &Path) -> std::io::Result<Vec<Target>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        if let Some(name) = entry.file_name().to_str().filter(|n| !n.starts_with('.')) {
            names.push(name.to_string());
        }
    }
    names.sort();
    let mut out = Vec::new();
    for n in names {
        // a file name is one target, not a node set or a list
        match parse_hop(&n, &n) {
            Ok(hop) => out.push(Target {
                hop,
                via: Via::Default,
            }),
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    e.to_string(),
                ))
            }
        }
    }
    Ok(out)
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
/// Returns the selection and how many were excluded.
pub fn resolve(targets: Vec<Target>, exclude: &[Target]) -> (Vec<Target>, usize) {
    let mut seen = std::collections::HashSet::new();
    let mut kept = Vec::new();
    let mut excluded = 0;
    for t in targets {
        if !seen.insert(t.clone()) {
            continue;
        }
        if exclude.iter().any(|x| excludes(&x.hop, &t.hop)) {
            excluded += 1;
        } else {
            kept.push(t);
        }
    }
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
        let t: Vec<String> = from_source(dir.path().to_str().unwrap())
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(t, ["h1", "h2", "u@h3:2222"]);
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
        let x = parse_word("n[3-4]").unwrap();
        let (kept, excluded) = resolve(all, &x);
        let kept: Vec<String> = kept.iter().map(ToString::to_string).collect();
        assert_eq!(kept, ["n1", "n2", "n5"]);
        assert_eq!(excluded, 2);
    }
}
