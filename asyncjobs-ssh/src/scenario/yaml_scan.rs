//! One pass over a YAML file's events (saphyr's parser, which knows where
//! each event is) before serde reads it: bounds nesting, string sizes and
//! alias expansion (an alias bomb is refused after reading the file once,
//! never expanded), and records where each node and job entry and each of
//! their keys is written, so errors name lines without rescanning the text.

use std::collections::HashMap;
use std::path::Path;

use saphyr_parser::{Event, Parser};

use super::error::{ErrorKind, ScenarioError};
use super::limits::Limits;

/// Where a `nodes:` or `jobs:` entry and its keys are.
#[derive(Debug, Default, Clone)]
pub(crate) struct Entry {
    /// The line the entry starts on.
    pub line: usize,
    /// Its `id:` value, if a plain scalar.
    pub id: Option<String>,
    /// The line of each of its keys.
    pub keys: HashMap<String, usize>,
    /// The line of each entry of its `commands:`.
    pub commands: Vec<usize>,
}

impl Entry {
    /// The line of `key`, else the entry's.
    pub fn key(&self, key: &str) -> usize {
        self.keys.get(key).copied().unwrap_or(self.line)
    }
}

/// The entries of the two top-level lists, in file order.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub nodes: Vec<Entry>,
    pub jobs: Vec<Entry>,
}

impl Scan {
    /// The entry holding `line` (the last one starting at or before it), as
    /// ``job `x` `` or ``node `x` ``.
    pub fn enclosing(&self, line: usize) -> Option<String> {
        let last = |v: &[Entry]| {
            let i = v.partition_point(|e| e.line <= line);
            i.checked_sub(1).and_then(|i| v.get(i)).cloned()
        };
        let (n, j) = (last(&self.nodes), last(&self.jobs));
        let (what, e) = match (n, j) {
            (Some(n), Some(j)) if n.line > j.line => ("node", n),
            (_, Some(j)) => ("job", j),
            (Some(n), None) => ("node", n),
            (None, None) => return None,
        };
        Some(format!("{what} `{}`", e.id?))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Nodes,
    Jobs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    List(Section),
    Entry(Section),
    Commands,
    Other,
}

struct Frame {
    map: bool,
    role: Role,
    expect_key: bool,
    key: Option<String>,
    anchor: usize,
    start: u64,
}

/// Scans `text`; the limits are [`Limits::max_depth`],
/// [`Limits::max_line_bytes`] (per string) and the alias expansion.
pub(crate) fn scan(text: &str, file: &Path, limits: &Limits) -> Result<Scan, ScenarioError> {
    let err =
        |line: usize, kind: ErrorKind, m: String| ScenarioError::new(kind, file, line, None, m);
    let mut out = Scan::default();
    let mut frames: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, u64> = HashMap::new();
    // nodes as written, and once aliases are expanded
    let (mut own, mut expanded) = (0u64, 0u64);
    let factor = limits.max_alias_expansion_factor as u64;
    let mut documents = 0;
    for ev in Parser::new_from_str(text) {
        let (ev, span) =
            ev.map_err(|e| err(e.marker().line(), ErrorKind::Syntax, e.info().to_string()))?;
        let line = span.start.line();
        let (is_node, alias) = match &ev {
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) => (true, None),
            Event::Alias(id) => (true, Some(*id)),
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    break;
                }
                (false, None)
            }
            _ => (false, None),
        };
        if is_node {
            own += 1;
            expanded =
                expanded.saturating_add(alias.map_or(1, |a| anchors.get(&a).copied().unwrap_or(1)));
            if expanded > factor.saturating_mul(own).saturating_add(100_000) {
                return Err(err(
                    line,
                    ErrorKind::Limit,
                    format!("YAML aliases expand to more than {factor} times the file's own nodes (an alias bomb?)"),
                ));
            }
        }
        // is this node a key of its mapping?
        let parent_expects_key = frames.last().is_some_and(|f| f.map && f.expect_key);
        match ev {
            Event::Scalar(value, _, anchor, _) => {
                if value.len() > limits.max_line_bytes {
                    return Err(err(
                        line,
                        ErrorKind::Limit,
                        format!("a string longer than {} bytes", limits.max_line_bytes),
                    ));
                }
                if anchor != 0 {
                    anchors.insert(anchor, 1);
                }
                if parent_expects_key {
                    let role = frames.last().map(|f| f.role);
                    if let Some(Role::Entry(s)) = role {
                        let list = match s {
                            Section::Nodes => &mut out.nodes,
                            Section::Jobs => &mut out.jobs,
                        };
                        if let Some(e) = list.last_mut() {
                            e.keys.entry(value.to_string()).or_insert(line);
                        }
                    }
                    if let Some(f) = frames.last_mut() {
                        f.key = Some(value.to_string());
                        f.expect_key = false;
                    }
                    continue;
                }
                value_in_parent(&mut frames, &mut out, line, Some(&value));
            }
            Event::Alias(_) => {
                if parent_expects_key {
                    if let Some(f) = frames.last_mut() {
                        f.key = None;
                        f.expect_key = false;
                    }
                    continue;
                }
                value_in_parent(&mut frames, &mut out, line, None);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let map = matches!(ev, Event::MappingStart(..));
                if frames.len() >= limits.max_depth {
                    return Err(err(
                        line,
                        ErrorKind::Limit,
                        format!("nested more than {} levels deep", limits.max_depth),
                    ));
                }
                let role = match frames.last() {
                    None if map => Role::Root,
                    None => Role::Other,
                    Some(p) => match (p.role, p.key.as_deref(), map) {
                        (Role::Root, Some("nodes"), false) => Role::List(Section::Nodes),
                        (Role::Root, Some("jobs"), false) => Role::List(Section::Jobs),
                        (Role::List(s), _, true) => Role::Entry(s),
                        (Role::Entry(Section::Jobs), Some("commands"), false) => Role::Commands,
                        _ => Role::Other,
                    },
                };
                // an entry of a list starts here
                start_entry(&frames, &mut out, line);
                if let Role::Entry(s) = role {
                    let list = match s {
                        Section::Nodes => &mut out.nodes,
                        Section::Jobs => &mut out.jobs,
                    };
                    list.push(Entry {
                        line,
                        ..Entry::default()
                    });
                }
                frames.push(Frame {
                    map,
                    role,
                    expect_key: true,
                    key: None,
                    anchor,
                    start: expanded.saturating_sub(1),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(f) = frames.pop() {
                    if f.anchor != 0 {
                        anchors.insert(f.anchor, expanded.saturating_sub(f.start));
                    }
                }
                if let Some(p) = frames.last_mut() {
                    if p.map {
                        p.expect_key = !p.expect_key;
                        if p.expect_key {
                            p.key = None;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A scalar or alias value under the current frame.
fn value_in_parent(frames: &mut [Frame], out: &mut Scan, line: usize, value: Option<&str>) {
    start_entry(frames, out, line);
    let Some(f) = frames.last_mut() else { return };
    if let (Role::Entry(s), Some("id"), Some(v)) = (f.role, f.key.as_deref(), value) {
        let list = match s {
            Section::Nodes => &mut out.nodes,
            Section::Jobs => &mut out.jobs,
        };
        if let Some(e) = list.last_mut() {
            e.id.get_or_insert_with(|| v.to_string());
        }
    }
    if f.map {
        f.expect_key = true;
        f.key = None;
    }
}

/// Records a value that is an item of `commands:` (its line), or an entry of
/// `nodes:`/`jobs:` that is not a mapping (an alias...).
fn start_entry(frames: &[Frame], out: &mut Scan, line: usize) {
    match frames.last().map(|f| f.role) {
        Some(Role::Commands) => {
            if let Some(j) = out.jobs.last_mut() {
                j.commands.push(line);
            }
        }
        Some(Role::List(_)) => {}
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_ok(text: &str) -> Scan {
        scan(text, Path::new("a.yaml"), &Limits::default()).unwrap()
    }

    #[test]
    fn entries_and_keys_have_their_lines() {
        let s = scan_ok(
            "nodes:\n  - id: n\n    hostname: h\njobs:\n  - id: j1\n    node: n\n    commands:\n      - type: Run\n        command: x\n      - {type: Run, command: y}\n  - {id: j2, node: n, commands: []}\n",
        );
        assert_eq!(s.nodes.len(), 1);
        assert_eq!((s.nodes[0].line, s.nodes[0].id.as_deref()), (2, Some("n")));
        assert_eq!(s.nodes[0].key("hostname"), 3);
        assert_eq!(s.jobs.len(), 2);
        assert_eq!(s.jobs[0].key("node"), 6);
        assert_eq!(s.jobs[0].commands, [8, 10]);
        assert_eq!((s.jobs[1].line, s.jobs[1].id.as_deref()), (11, Some("j2")));
        assert_eq!(s.enclosing(9).as_deref(), Some("job `j1`"));
        assert_eq!(s.enclosing(3).as_deref(), Some("node `n`"));
    }

    #[test]
    fn alias_bombs_deep_nesting_and_huge_strings_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 9].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let e = scan(&bomb, Path::new("a.yaml"), &Limits::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Limit);
        assert!(e.to_string().contains("alias bomb"), "{e}");
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let e = scan(&deep, Path::new("a.yaml"), &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("nested more than 64 levels"), "{e}");
        let limits = Limits {
            max_line_bytes: 10,
            ..Limits::default()
        };
        let e = scan(
            "a: |\n  0123456789\n  0123456789\n",
            Path::new("a.yaml"),
            &limits,
        )
        .unwrap_err();
        assert!(e.to_string().contains("longer than 10 bytes"), "{e}");
        // a few aliases of a small anchor are fine
        scan_ok("base: &b {x: 1}\nnodes: [*b, *b, *b]\njobs: []\n");
    }
}
