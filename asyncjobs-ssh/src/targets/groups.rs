//! `@group` targets, from ClusterShell's group files and ajssh's own.
//!
//! ClusterShell's YAML files (`/etc/clustershell/groups.d/*.yaml`,
//! `~/.local/etc/clustershell/groups.d/*.yaml`) map a *group source* to its
//! groups, each a node set (a string or a list of strings, which may name
//! other groups):
//!
//! ```yaml
//! local:
//!   web: 'web[01-04]'
//!   db: ['db1', 'db2']
//!   all: '@web,@db'
//! ```
//!
//! ajssh's own file reads the same, or flat (`web: 'web[01-04]'`, source
//! `ajssh`). `@web` is the first group of that name in the sources in order
//! (ajssh's file first, then the user's ClusterShell files, then the
//! system's; within a file, its sources in order); `@local:web` names the
//! group source. Files are read once, on the first `@`.

use std::path::{Path, PathBuf};

use crate::escape::escape_control;
use crate::scenario::Limits;
use crate::yaml_tree::{self, Node, Resolved, TreeLimits};

/// Largest group file read: 16 MiB.
pub const MAX_GROUP_FILE: u64 = 16 << 20;

/// Where groups are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupSource {
    /// One YAML file (missing: no group from it).
    File(PathBuf),
    /// Every `*.yaml` file of a directory, in name order (missing: none).
    Dir(PathBuf),
}

impl GroupSource {
    fn describe(&self) -> String {
        match self {
            GroupSource::File(p) => p.display().to_string(),
            GroupSource::Dir(d) => format!("{}/*.yaml", d.display()),
        }
    }
}

/// Why an `@group` cannot be expanded.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// No group source is configured.
    #[error("unknown group `@{}`: no group source is set", escape_control(.group))]
    NoSource {
        /// The group asked for.
        group: String,
    },
    /// No source defines the group.
    #[error("unknown group `@{}`: searched {}", escape_control(.group), escape_control(&.searched.join(", ")))]
    Unknown {
        /// The group asked for.
        group: String,
        /// The sources looked in, each with what was found there.
        searched: Vec<String>,
    },
    /// A group file that cannot be read.
    #[error("cannot read group file {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A group file that is not YAML of the expected shape.
    #[error("bad group file {}: {}", .path.display(), escape_control(.message))]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Groups naming groups too deeply (or in a cycle).
    #[error("group `@{}` nests groups more than {depth} deep (a cycle?)", escape_control(.group))]
    TooDeep {
        /// The group being expanded.
        group: String,
        /// The limit.
        depth: usize,
    },
    /// A group whose nodes are not valid targets.
    #[error("in group `@{}`: {message}", escape_control(.group))]
    Bad {
        /// The group.
        group: String,
        /// The error of its nodes.
        message: String,
    },
}

/// One group file, read.
#[derive(Debug, Clone)]
struct GroupFile {
    /// (source, group, node set text), in file order.
    groups: Vec<(String, String, String)>,
}

/// Group definitions, read from [`GroupSource`]s on the first look-up.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    sources: Vec<GroupSource>,
    /// Per source: its files (empty when missing), once read.
    loaded: Option<Vec<(String, Vec<GroupFile>)>>,
}

impl Groups {
    /// No group source: every `@group` is an error saying so.
    pub fn none() -> Groups {
        Groups::default()
    }

    /// Groups from these sources, first one first.
    pub fn new(sources: Vec<GroupSource>) -> Groups {
        Groups {
            sources,
            loaded: None,
        }
    }

    /// ajssh's own file (when given), then ClusterShell's user and system
    /// directories: `~/.local/etc/clustershell/groups.d/*.yaml`, then
    /// `/etc/clustershell/groups.d/*.yaml`.
    pub fn standard(own_file: Option<PathBuf>) -> Groups {
        let mut sources = Vec::new();
        if let Some(f) = own_file {
            sources.push(GroupSource::File(f));
        }
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            sources.push(GroupSource::Dir(
                Path::new(&home).join(".local/etc/clustershell/groups.d"),
            ));
        }
        sources.push(GroupSource::Dir(PathBuf::from(
            "/etc/clustershell/groups.d",
        )));
        Groups::new(sources)
    }

    /// The sources, in look-up order.
    pub fn sources(&self) -> &[GroupSource] {
        &self.sources
    }

    fn load(&mut self) -> Result<&[(String, Vec<GroupFile>)], GroupError> {
        if self.loaded.is_none() {
            let mut all = Vec::new();
            for s in &self.sources {
                let (files, found) = match s {
                    GroupSource::File(p) => match read_file(p)? {
                        Some(f) => (vec![f], "read".to_string()),
                        None => (Vec::new(), "not found".to_string()),
                    },
                    GroupSource::Dir(d) => read_dir(d)?,
                };
                all.push((format!("{} ({found})", s.describe()), files));
            }
            self.loaded = Some(all);
        }
        Ok(self.loaded.as_deref().unwrap_or_default())
    }

    /// The node-set text of `@name` (`name` or `source:name`).
    pub fn lookup(&mut self, name: &str) -> Result<String, GroupError> {
        self.lookup_in(name, None).map(|(_, text)| text)
    }

    /// `(source, node-set text)` of `@name`; an unqualified name is looked
    /// for in `prefer` first (groups naming groups stay in their source, as
    /// ClusterShell reads them).
    pub(crate) fn lookup_in(
        &mut self,
        name: &str,
        prefer: Option<&str>,
    ) -> Result<(String, String), GroupError> {
        if self.sources.is_empty() {
            return Err(GroupError::NoSource {
                group: name.to_string(),
            });
        }
        let (source, group) = match name.split_once(':') {
            Some((s, g)) => (Some(s), g),
            None => (None, name),
        };
        let loaded = self.load()?;
        let find = |want: Option<&str>| {
            loaded
                .iter()
                .flat_map(|(_, files)| files)
                .flat_map(|f| &f.groups)
                .find(|(s, g, _)| g == group && want.is_none_or(|w| w == s))
                .map(|(s, _, nodes)| (s.clone(), nodes.clone()))
        };
        let found = match (source, prefer) {
            (None, Some(p)) => find(Some(p)).or_else(|| find(None)),
            _ => find(source),
        };
        if let Some(f) = found {
            return Ok(f);
        }
        Err(GroupError::Unknown {
            group: name.to_string(),
            searched: loaded.iter().map(|(d, _)| d.clone()).collect(),
        })
    }
}

fn read_dir(d: &Path) -> Result<(Vec<GroupFile>, String), GroupError> {
    let entries = match std::fs::read_dir(d) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Vec::new(), "no such directory".into()))
        }
        Err(source) => {
            return Err(GroupError::Read {
                path: d.to_path_buf(),
                source,
            })
        }
    };
    let mut paths = Vec::new();
    for e in entries {
        let e = e.map_err(|source| GroupError::Read {
            path: d.to_path_buf(),
            source,
        })?;
        let p = e.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            paths.push(p);
        }
    }
    paths.sort();
    let mut files = Vec::new();
    for p in &paths {
        if let Some(f) = read_file(p)? {
            files.push(f);
        }
    }
    let n = files.len();
    Ok((files, format!("{n} file{}", if n == 1 { "" } else { "s" })))
}

/// `None` when the file does not exist.
fn read_file(path: &Path) -> Result<Option<GroupFile>, GroupError> {
    use std::io::Read as _;
    let read_err = |source| GroupError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    let mut text = String::new();
    file.take(MAX_GROUP_FILE.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if text.len() as u64 > MAX_GROUP_FILE {
        return Err(GroupError::Parse {
            path: path.to_path_buf(),
            message: format!("larger than {} MiB", MAX_GROUP_FILE >> 20),
        });
    }
    let default_source = "ajssh";
    parse_groups(&text, default_source)
        .map(Some)
        .map_err(|message| GroupError::Parse {
            path: path.to_path_buf(),
            message,
        })
}

/// What a group file may cost to read: the scenario files' nesting and
/// alias bounds; a string may be as long as the file.
fn limits() -> TreeLimits {
    TreeLimits {
        max_string_bytes: MAX_GROUP_FILE as usize,
        ..TreeLimits::from(&Limits::default())
    }
}

fn parse_groups(text: &str, default_source: &str) -> Result<GroupFile, String> {
    let tree = yaml_tree::parse(text, &limits()).map_err(|e| e.to_string())?;
    let mut groups = Vec::new();
    let root = tree.root();
    if root.is_null() {
        return Ok(GroupFile { groups });
    }
    let top = root
        .pairs()
        .ok_or("expected a mapping of group sources to groups")?;
    for (k, v) in top {
        let key = scalar(k).ok_or("a group source or group name must be a string")?;
        match v.pairs() {
            Some(m) => {
                for (g, nodes) in m {
                    let g = scalar(g)
                        .ok_or_else(|| format!("source `{key}`: a group name must be a string"))?;
                    let nodes = node_text(nodes).ok_or_else(|| {
                        format!("group `{g}`: expected a string or a list of strings")
                    })?;
                    groups.push((key.clone(), g, nodes));
                }
            }
            None => {
                let nodes = node_text(v).ok_or_else(|| {
                    format!("group `{key}`: expected a string or a list of strings")
                })?;
                groups.push((default_source.to_string(), key, nodes));
            }
        }
    }
    Ok(GroupFile { groups })
}

/// A string, number or boolean as text (`0x10` is `16`, as YAML reads it).
fn scalar(v: Node) -> Option<String> {
    Some(match v.resolved()? {
        Resolved::Null => return None,
        Resolved::Bool(b) => b.to_string(),
        Resolved::Unsigned(n) => n.to_string(),
        Resolved::Signed(n) => n.to_string(),
        Resolved::BigUnsigned(n) => n.to_string(),
        Resolved::BigSigned(n) => n.to_string(),
        Resolved::Float(f) if f.is_nan() => ".nan".into(),
        Resolved::Float(f) if f.is_infinite() => if f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Resolved::Float(f) => format!("{f:?}"),
        Resolved::Str(s) => s.to_string(),
    })
}

/// A group's node set: a scalar, a list of them (joined with commas) or
/// nothing.
fn node_text(v: Node) -> Option<String> {
    if v.is_null() {
        return Some(String::new());
    }
    match v.items() {
        Some(items) => items
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        None => scalar(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{TargetError, TargetParser};

    fn names(p: &mut TargetParser, w: &str) -> Vec<String> {
        p.word(w).unwrap().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn clustershell_files_and_our_own_are_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let cs = dir.path().join("groups.d");
        std::fs::create_dir(&cs).unwrap();
        std::fs::write(
            cs.join("cluster.yaml"),
            "local:\n  web: 'web[01-03]'\n  db: [db1, db2]\n  all: '@web,@db'\n\
             rack:\n  web: 'r1n[1-2]'\n",
        )
        .unwrap();
        std::fs::write(cs.join("ignored.txt"), "local:\n  x: y\n").unwrap();
        let own = dir.path().join("groups.yaml");
        std::fs::write(&own, "db: 'mydb'\n").unwrap();
        let groups = Groups::new(vec![GroupSource::File(own), GroupSource::Dir(cs)]);
        let mut p = TargetParser::new().groups(groups);
        assert_eq!(names(&mut p, "@web"), ["web01", "web02", "web03"]);
        assert_eq!(names(&mut p, "@db"), ["mydb"], "our own file first");
        assert_eq!(names(&mut p, "@local:db"), ["db1", "db2"]);
        assert_eq!(names(&mut p, "@rack:web,x"), ["r1n1", "r1n2", "x"]);
        assert_eq!(names(&mut p, "u@@rack:web:2222")[0], "u@r1n1:2222");
        assert_eq!(names(&mut p, "gw->@local:all").len(), 5);
        let e = p.word("@nope").unwrap_err().to_string();
        assert!(e.contains("unknown group `@nope`"), "{e}");
        assert!(e.contains("groups.yaml (read)"), "{e}");
        assert!(e.contains("groups.d/*.yaml (1 file)"), "{e}");
    }

    #[test]
    fn scalars_lists_nulls_and_aliases_read_as_yaml_says() {
        let f = parse_groups(
            "src:\n  nums: [1, 0x10, -2, 1.5, true]\n  quoted: ['0x10', \"~\"]\n  none:\n  \
             a: &a [x, y]\n  b: *a\nflat: n1\n",
            "ajssh",
        )
        .unwrap();
        let got: Vec<(&str, &str, &str)> = f
            .groups
            .iter()
            .map(|(s, g, n)| (s.as_str(), g.as_str(), n.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("src", "nums", "1,16,-2,1.5,true"),
                ("src", "quoted", "0x10,~"),
                ("src", "none", ""),
                ("src", "a", "x,y"),
                ("src", "b", "x,y"),
                ("ajssh", "flat", "n1"),
            ]
        );
        for text in ["", "# nothing\n", "~\n"] {
            assert!(parse_groups(text, "ajssh").unwrap().groups.is_empty());
        }
        let e = parse_groups("a: x\n---\nb: y\n", "ajssh").unwrap_err();
        assert!(e.contains("line 2: a second YAML document"), "{e}");
        let e = parse_groups("~: x\n", "ajssh").unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        let e = parse_groups("a: {b: {c: d}}\n", "ajssh").unwrap_err();
        assert!(e.contains("group `b`: expected a string or a list"), "{e}");
    }

    #[test]
    fn missing_sources_are_named_in_the_error() {
        let groups = Groups::new(vec![
            GroupSource::File("/nonexistent/ajssh/groups.yaml".into()),
            GroupSource::Dir("/nonexistent/groups.d".into()),
        ]);
        let e = TargetParser::new()
            .groups(groups)
            .word("@web")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "unknown group `@web`: searched /nonexistent/ajssh/groups.yaml (not found), \
             /nonexistent/groups.d/*.yaml (no such directory)"
        );
    }

    #[test]
    fn cycles_and_bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("g.yaml");
        std::fs::write(&f, "a: '@b'\nb: '@a'\nbad: 'n[1-'\n").unwrap();
        let mut p = TargetParser::new().groups(Groups::new(vec![GroupSource::File(f.clone())]));
        let e = p.word("@a").unwrap_err();
        assert!(
            matches!(e, TargetError::Group(GroupError::TooDeep { .. })),
            "{e}"
        );
        let e = p.word("@bad").unwrap_err().to_string();
        assert!(
            e.contains("in group `@bad`") && e.contains("unbalanced"),
            "{e}"
        );
        std::fs::write(&f, "- just\n- a list\n").unwrap();
        let mut p = TargetParser::new().groups(Groups::new(vec![GroupSource::File(f)]));
        let e = p.word("@a").unwrap_err().to_string();
        assert!(
            e.contains("bad group file") && e.contains("expected a mapping"),
            "{e}"
        );
    }
}
