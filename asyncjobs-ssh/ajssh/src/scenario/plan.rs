//! A scenario once read, whatever its format (TOML, apssh YAML): nodes,
//! jobs and nested groups, each with the line it was written on; and the
//! checks that need the whole picture (unknown or duplicate ids, gateways,
//! requirement cycles), each error naming the line and the job.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use asyncjobs_ssh::ExitStatus;

use super::ScenarioError;

/// A name with the line it appears on (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// The name.
    pub name: String,
    /// Its line.
    pub line: usize,
}

/// A node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDef {
    /// Id and line.
    pub id: At,
    /// Host (None for a local node).
    pub host: Option<String>,
    /// User.
    pub user: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// Key files.
    pub identities: Vec<PathBuf>,
    /// Gateway node id.
    pub gateway: Option<At>,
    /// This machine.
    pub local: bool,
}

/// One command of a job.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandDef {
    /// Shell command line.
    Run {
        /// Line.
        line: String,
        /// Allowed statuses.
        allowed: Vec<ExitStatus>,
        /// Label.
        label: Option<String>,
        /// Timeout.
        timeout: Option<Duration>,
    },
    /// Local script file.
    Script {
        /// Path (resolved against the scenario's directory).
        path: PathBuf,
        /// Argument text.
        args: String,
        /// Files uploaded beside it.
        includes: Vec<PathBuf>,
        /// Allowed statuses.
        allowed: Vec<ExitStatus>,
        /// Label.
        label: Option<String>,
        /// Timeout.
        timeout: Option<Duration>,
    },
    /// Script text.
    String {
        /// Body.
        body: String,
        /// Argument text.
        args: String,
        /// Files uploaded beside it.
        includes: Vec<PathBuf>,
        /// Allowed statuses.
        allowed: Vec<ExitStatus>,
        /// Label.
        label: Option<String>,
        /// Timeout.
        timeout: Option<Duration>,
    },
    /// Upload.
    Push {
        /// Local sources.
        local: Vec<PathBuf>,
        /// Remote destination.
        remote: String,
        /// Label.
        label: Option<String>,
    },
    /// Download.
    Pull {
        /// Remote sources.
        remote: Vec<String>,
        /// Local destination.
        local: PathBuf,
        /// Label.
        label: Option<String>,
    },
}

/// A job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDef {
    /// Id and line.
    pub id: At,
    /// Node id.
    pub node: At,
    /// Label.
    pub label: Option<String>,
    /// Requirements (same scope).
    pub requires: Vec<At>,
    /// Critical (default true).
    pub critical: bool,
    /// Forever (default false).
    pub forever: bool,
    /// Per-command timeout.
    pub timeout: Option<Duration>,
    /// Commands.
    pub commands: Vec<CommandDef>,
}

/// A nested group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDef {
    /// Id and line.
    pub id: At,
    /// Label.
    pub label: Option<String>,
    /// Requirements (enclosing scope).
    pub requires: Vec<At>,
    /// Critical (default true).
    pub critical: bool,
    /// Forever (default false).
    pub forever: bool,
    /// Jobs window.
    pub window: usize,
    /// Timeout.
    pub timeout: Option<Duration>,
    /// Contents.
    pub items: Vec<Item>,
}

/// A job or a group.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A job.
    Job(JobDef),
    /// A group.
    Group(GroupDef),
}

impl Item {
    /// Its id.
    pub fn id(&self) -> &At {
        match self {
            Item::Job(j) => &j.id,
            Item::Group(g) => &g.id,
        }
    }
    /// Its requirements.
    pub fn requires(&self) -> &[At] {
        match self {
            Item::Job(j) => &j.requires,
            Item::Group(g) => &g.requires,
        }
    }
    /// `job` or `group`.
    pub fn what(&self) -> &'static str {
        match self {
            Item::Job(_) => "job",
            Item::Group(_) => "group",
        }
    }
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Label.
    pub label: Option<String>,
    /// Jobs window.
    pub window: usize,
    /// Timeout.
    pub timeout: Option<Duration>,
    /// Scheduler critical flag (default true).
    pub critical: bool,
    /// Login user of nodes that name none, when no option or config does
    /// (apssh's YAML: root); else the local user.
    pub default_user: Option<String>,
    /// Nodes, in id order.
    pub nodes: Vec<NodeDef>,
    /// Top-level jobs and groups, in file order.
    pub items: Vec<Item>,
}

impl Plan {
    /// Every check; the first error found (in file order) is returned.
    pub fn check(&self, file: &std::path::Path) -> Result<(), ScenarioError> {
        let err = |line: usize, what: String, message: String| {
            ScenarioError::at(file, line, Some(what), message)
        };
        let nodes: HashMap<&str, &NodeDef> =
            self.nodes.iter().map(|n| (n.id.name.as_str(), n)).collect();
        for n in &self.nodes {
            let what = format!("node `{}`", n.id.name);
            match (n.local, &n.host) {
                (true, Some(_)) => {
                    return Err(err(n.id.line, what, "a local node has no `host`".into()))
                }
                (false, None) => {
                    return Err(err(
                        n.id.line,
                        what,
                        "missing `host` (or `local = true`)".into(),
                    ))
                }
                _ => {}
            }
            if let Some(g) = &n.gateway {
                match nodes.get(g.name.as_str()) {
                    None => {
                        return Err(err(
                            g.line,
                            what,
                            unknown("gateway node", &g.name, nodes.keys().copied()),
                        ))
                    }
                    Some(gw) if gw.local => {
                        return Err(err(
                            g.line,
                            what,
                            format!("gateway `{}` is a local node", g.name),
                        ))
                    }
                    _ => {}
                }
            }
        }
        check_gateway_cycles(&self.nodes, &err)?;
        let mut ids = HashMap::new();
        check_items(&self.items, &nodes, &mut ids, &err)
    }
}

fn unknown<'a>(what: &str, name: &str, known: impl Iterator<Item = &'a str>) -> String {
    let known: Vec<&str> = known.collect();
    let close = known
        .iter()
        .filter(|k| similar(k, name))
        .min_by_key(|k| k.len().abs_diff(name.len()));
    match close {
        Some(k) => format!("unknown {what} `{name}` (did you mean `{k}`?)"),
        None if known.is_empty() => format!("unknown {what} `{name}` (none is defined)"),
        None => {
            let mut sorted = known.clone();
            sorted.sort_unstable();
            format!("unknown {what} `{name}` (known: {})", sorted.join(", "))
        }
    }
}

/// Same name but one edit away, or one contains the other.
fn similar(a: &str, b: &str) -> bool {
    if a.contains(b) || b.contains(a) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    // one substitution, insertion or deletion
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

type ErrFn<'a> = dyn Fn(usize, String, String) -> ScenarioError + 'a;

/// Each node has at most one gateway: one walk along the chains, each node
/// visited once (linear in the number of nodes). The error names the first
/// node, in file order, whose chain runs into a cycle, and its chain.
fn check_gateway_cycles(nodes: &[NodeDef], err: &ErrFn<'_>) -> Result<(), ScenarioError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnPath,
        Done,
    }
    let by_id: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.name.as_str(), i))
        .collect();
    let mut state = vec![State::New; nodes.len()];
    for (start, n) in nodes.iter().enumerate() {
        let mut path: Vec<usize> = Vec::new();
        let mut cur = Some(start);
        while let Some(i) = cur {
            match state[i] {
                State::Done => break,
                State::OnPath => {
                    let mut names: Vec<&str> =
                        path.iter().map(|&p| nodes[p].id.name.as_str()).collect();
                    names.push(&nodes[i].id.name);
                    return Err(err(
                        n.id.line,
                        format!("node `{}`", n.id.name),
                        format!("gateway cycle: {}", names.join(" -> ")),
                    ));
                }
                State::New => {
                    state[i] = State::OnPath;
                    path.push(i);
                    cur = nodes[i]
                        .gateway
                        .as_ref()
                        .and_then(|g| by_id.get(g.name.as_str()).copied());
                }
            }
        }
        for p in path {
            state[p] = State::Done;
        }
    }
    Ok(())
}

fn check_items(
    items: &[Item],
    nodes: &HashMap<&str, &NodeDef>,
    ids: &mut HashMap<String, usize>,
    err: &ErrFn<'_>,
) -> Result<(), ScenarioError> {
    let scope: HashSet<&str> = items.iter().map(|i| i.id().name.as_str()).collect();
    for item in items {
        let id = item.id();
        let what = format!("{} `{}`", item.what(), id.name);
        if let Some(first) = ids.insert(id.name.clone(), id.line) {
            let message = format!("duplicate id `{}` (first defined on line {first})", id.name);
            return Err(err(id.line, what, message));
        }
        for r in item.requires() {
            if r.name == id.name {
                return Err(err(r.line, what, "requires itself".into()));
            }
            if !scope.contains(r.name.as_str()) {
                let scope_ids = items.iter().map(|i| i.id().name.as_str());
                let mut message = unknown("job", &r.name, scope_ids);
                if ids.contains_key(&r.name) || all_ids(items).contains(&r.name) {
                    message = format!(
                        "`{}` is not in the same group: requirements stay inside a group",
                        r.name
                    );
                }
                return Err(err(r.line, what, message));
            }
        }
        match item {
            Item::Job(j) => {
                if !nodes.contains_key(j.node.name.as_str()) {
                    return Err(err(
                        j.node.line,
                        what,
                        unknown("node", &j.node.name, nodes.keys().copied()),
                    ));
                }
                if j.commands.is_empty() {
                    return Err(err(
                        id.line,
                        what,
                        "no command: give `run = \"...\"` or `commands = [...]`".into(),
                    ));
                }
            }
            Item::Group(g) => check_items(&g.items, nodes, ids, err)?,
        }
    }
    check_cycles(items, err)
}

fn all_ids(items: &[Item]) -> Vec<String> {
    let mut v = Vec::new();
    for i in items {
        v.push(i.id().name.clone());
        if let Item::Group(g) = i {
            v.extend(all_ids(&g.items));
        }
    }
    v
}

/// Depth-first search for a requirement cycle in one scope.
fn check_cycles(items: &[Item], err: &ErrFn<'_>) -> Result<(), ScenarioError> {
    let index: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id().name.as_str(), i))
        .collect();
    // 0 = unseen, 1 = on the path, 2 = done
    let mut state = vec![0u8; items.len()];
    for start in 0..items.len() {
        if state[start] != 0 {
            continue;
        }
        let mut path: Vec<usize> = vec![start];
        let mut next: Vec<usize> = vec![0];
        state[start] = 1;
        while let Some(&top) = path.last() {
            let reqs = items[top].requires();
            let k = next.last().copied().unwrap_or(0);
            if k < reqs.len() {
                *next.last_mut().expect("parallel to path") += 1;
                let Some(&r) = index.get(reqs[k].name.as_str()) else {
                    continue;
                };
                match state[r] {
                    0 => {
                        state[r] = 1;
                        path.push(r);
                        next.push(0);
                    }
                    1 => {
                        let from = path.iter().position(|&p| p == r).unwrap_or(0);
                        let mut names: Vec<&str> = path[from..]
                            .iter()
                            .map(|&p| items[p].id().name.as_str())
                            .collect();
                        names.push(&items[r].id().name);
                        let it = &items[r];
                        return Err(err(
                            it.id().line,
                            format!("{} `{}`", it.what(), it.id().name),
                            format!(
                                "requirement cycle: {} (each requires the next)",
                                names.join(" -> ")
                            ),
                        ));
                    }
                    _ => {}
                }
            } else {
                state[top] = 2;
                path.pop();
                next.pop();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(name: &str, line: usize) -> At {
        At {
            name: name.into(),
            line,
        }
    }

    fn job(id: &str, line: usize, requires: &[&str]) -> Item {
        Item::Job(JobDef {
            id: at(id, line),
            node: at("n", line + 1),
            label: None,
            requires: requires.iter().map(|r| at(r, line + 2)).collect(),
            critical: true,
            forever: false,
            timeout: None,
            commands: vec![CommandDef::Run {
                line: "true".into(),
                allowed: vec![],
                label: None,
                timeout: None,
            }],
        })
    }

    fn plan(items: Vec<Item>) -> Plan {
        let node = NodeDef {
            id: at("n", 1),
            host: Some("h".into()),
            user: None,
            port: None,
            identities: vec![],
            gateway: None,
            local: false,
        };
        Plan {
            label: None,
            window: 0,
            timeout: None,
            critical: true,
            default_user: None,
            nodes: vec![node],
            items,
        }
    }

    fn check(p: &Plan) -> String {
        p.check(std::path::Path::new("s.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_valid_plan_passes() {
        plan(vec![job("a", 10, &[]), job("b", 20, &["a"])])
            .check(std::path::Path::new("s.toml"))
            .unwrap();
    }

    #[test]
    fn unknown_requirement_names_line_job_and_suggests() {
        let e = check(&plan(vec![
            job("prepare", 10, &[]),
            job("b", 20, &["prepar"]),
        ]));
        assert_eq!(
            e,
            "s.toml:22: job `b`: unknown job `prepar` (did you mean `prepare`?)"
        );
    }

    #[test]
    fn cycles_name_the_path() {
        let e = check(&plan(vec![
            job("a", 10, &["c"]),
            job("b", 20, &["a"]),
            job("c", 30, &["b"]),
        ]));
        assert!(
            e.starts_with("s.toml:10: job `a`: requirement cycle: a -> c -> b -> a"),
            "{e}"
        );
    }

    #[test]
    fn duplicates_and_self_requirements_are_errors() {
        assert!(check(&plan(vec![job("a", 10, &[]), job("a", 20, &[])]))
            .contains("s.toml:20: job `a`: duplicate id `a` (first defined on line 10)"));
        assert!(check(&plan(vec![job("a", 10, &["a"])]))
            .contains("s.toml:12: job `a`: requires itself"));
    }

    #[test]
    fn requirements_do_not_cross_groups() {
        let g = Item::Group(GroupDef {
            id: at("g", 30),
            label: None,
            requires: vec![],
            critical: true,
            forever: false,
            window: 0,
            timeout: None,
            items: vec![job("inner", 40, &["outer"])],
        });
        let e = check(&plan(vec![job("outer", 10, &[]), g]));
        assert!(
            e.contains("s.toml:42: job `inner`: `outer` is not in the same group"),
            "{e}"
        );
    }

    #[test]
    fn unknown_nodes_and_gateways_are_errors() {
        let mut p = plan(vec![job("a", 10, &[])]);
        if let Item::Job(j) = &mut p.items[0] {
            j.node = at("web", 11);
        }
        assert!(check(&p).contains("s.toml:11: job `a`: unknown node `web` (known: n)"));
        let mut p = plan(vec![]);
        p.nodes[0].gateway = Some(at("gw", 3));
        assert!(check(&p).contains("s.toml:3: node `n`: unknown gateway node `gw`"));
        p.nodes[0].gateway = Some(at("n", 3));
        assert!(check(&p).contains("gateway cycle: n -> n"), "{}", check(&p));
    }

    #[test]
    fn gateway_chains_are_followed_once_and_cycles_named_from_the_first_node() {
        // a -> b -> c -> b: named from `a`, the first node whose chain loops
        let mut p = plan(vec![]);
        let node = |name: &str, gw: Option<&str>, line: usize| {
            let mut d = p.nodes[0].clone();
            d.id = at(name, line);
            d.gateway = gw.map(|g| at(g, line));
            d
        };
        let nodes = vec![
            node("z", None, 1),
            node("a", Some("b"), 2),
            node("b", Some("c"), 3),
            node("c", Some("b"), 4),
        ];
        p.nodes = nodes;
        let e = check(&p);
        assert!(
            e.contains("s.toml:2: node `a`: gateway cycle: a -> b -> c -> b"),
            "{e}"
        );
        // a long chain without a cycle is accepted
        let mut p = plan(vec![]);
        let last = p.nodes[0].clone();
        p.nodes = (0..3000)
            .map(|i| {
                let mut d = last.clone();
                d.id = at(&format!("n{i}"), i + 1);
                d.gateway = (i + 1 < 3000).then(|| at(&format!("n{}", i + 1), i + 1));
                d
            })
            .collect();
        p.nodes.reverse();
        p.check(std::path::Path::new("s.toml")).unwrap();
    }

    #[test]
    fn similar_names_are_one_edit_apart() {
        assert!(similar("prepare", "prepar"));
        assert!(similar("deploy", "deploys"));
        assert!(similar("web1", "web2"));
        assert!(!similar("alpha", "omega"));
    }
}
