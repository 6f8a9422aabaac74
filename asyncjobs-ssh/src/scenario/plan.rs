//! A scenario once read, whatever its format (TOML, apssh YAML): nodes,
//! jobs and nested groups, each with the line it was written on; and the
//! checks that need the whole picture (unknown or duplicate ids, gateways,
//! requirement cycles), each error naming the line and the job. All checks
//! are linear in the size of the plan.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ExitStatus;

use super::error::ScenarioError;

/// A name with the line it appears on (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// The name.
    pub name: String,
    /// Its line.
    pub line: usize,
}

impl At {
    /// `name` on `line`.
    pub fn new(name: impl Into<String>, line: usize) -> At {
        At {
            name: name.into(),
            line,
        }
    }
}

/// A node.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NodeDef {
    /// Id and line.
    pub id: At,
    /// Host name, address or ssh_config alias (None for a local node).
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
    /// apssh's `formatter:` (a formatter class name), if given.
    pub formatter: Option<String>,
    /// Values substituted as `{name}` in the jobs on this node.
    pub vars: BTreeMap<String, String>,
    /// Not defined in the file: named by a job's `nodes`, resolved through
    /// ssh_config as `ssh NAME` would.
    pub implicit: bool,
}

impl NodeDef {
    /// A remote node `id` on `host`, with nothing else set.
    pub fn remote(id: At, host: impl Into<String>) -> NodeDef {
        NodeDef {
            id,
            host: Some(host.into()),
            user: None,
            port: None,
            identities: Vec::new(),
            gateway: None,
            local: false,
            formatter: None,
            vars: BTreeMap::new(),
            implicit: false,
        }
    }
}

/// One command of a job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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

impl CommandDef {
    /// What it does, in one line (for `scenario check`).
    pub fn describe(&self) -> String {
        fn paths(p: &[PathBuf]) -> String {
            p.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        }
        let with_args = |what: String, args: &str| {
            if args.is_empty() {
                what
            } else {
                format!("{what} {args}")
            }
        };
        match self {
            CommandDef::Run { line, .. } => format!("run: {line}"),
            CommandDef::Script { path, args, .. } => {
                with_args(format!("script: {}", path.display()), args)
            }
            CommandDef::String { body, args, .. } => {
                let first = body.lines().find(|l| !l.starts_with("#!")).unwrap_or("");
                with_args(format!("string: {}", first.trim()), args)
            }
            CommandDef::Push { local, remote, .. } => {
                format!("push: {} -> {remote}", paths(local))
            }
            CommandDef::Pull { remote, local, .. } => {
                format!("pull: {} -> {}", remote.join(" "), local.display())
            }
        }
    }

    /// The local files this command reads (scripts, includes, pushed paths).
    pub fn local_inputs(&self) -> Vec<&Path> {
        match self {
            CommandDef::Script { path, includes, .. } => std::iter::once(path.as_path())
                .chain(includes.iter().map(PathBuf::as_path))
                .collect(),
            CommandDef::String { includes, .. } => includes.iter().map(PathBuf::as_path).collect(),
            CommandDef::Push { local, .. } => local.iter().map(PathBuf::as_path).collect(),
            _ => Vec::new(),
        }
    }
}

/// The nodes a job (or the jobs of a group) is fanned over, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeSel {
    /// `nodes = "fit[01-40]"`: a node set.
    Set(At),
    /// `nodes = ["a", "b"]`: names, each maybe a set.
    List(Vec<At>),
}

/// A job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobDef {
    /// Id and line (`base@node` once fanned out).
    pub id: At,
    /// Node id.
    pub node: At,
    /// Before fan-out only: the nodes it runs on, one job each.
    pub nodes: Option<NodeSel>,
    /// Once fanned out: the id as written and the node of this copy.
    pub fanned: Option<(String, String)>,
    /// Label.
    pub label: Option<String>,
    /// Requirements (same scope): node by node between jobs fanned over the same nodes.
    pub requires: Vec<At>,
    /// Requirements on every copy of a fanned job or group (same scope).
    pub requires_all: Vec<At>,
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
#[non_exhaustive]
pub struct GroupDef {
    /// Id and line.
    pub id: At,
    /// Label.
    pub label: Option<String>,
    /// Requirements (enclosing scope).
    pub requires: Vec<At>,
    /// Requirements on every copy of a fanned job (enclosing scope).
    pub requires_all: Vec<At>,
    /// Critical (default true).
    pub critical: bool,
    /// Forever (default false).
    pub forever: bool,
    /// Jobs window.
    pub window: usize,
    /// Timeout.
    pub timeout: Option<Duration>,
    /// Before fan-out only: the nodes of its jobs that name none.
    pub nodes: Option<NodeSel>,
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
    /// Its requirements (node by node, and all of).
    pub fn requires(&self) -> impl Iterator<Item = &At> {
        let (a, b) = match self {
            Item::Job(j) => (&j.requires, &j.requires_all),
            Item::Group(g) => (&g.requires, &g.requires_all),
        };
        a.iter().chain(b.iter())
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
#[non_exhaustive]
pub struct Plan {
    /// The file it was read from.
    pub file: PathBuf,
    /// The directory relative paths are relative to (the file's).
    pub base: PathBuf,
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
    /// Nodes, in id order (once loaded).
    pub nodes: Vec<NodeDef>,
    /// Top-level jobs and groups, in file order.
    pub items: Vec<Item>,
}

/// Most names listed in an "unknown ..." message.
const LISTED: usize = 12;

impl Plan {
    /// An empty plan read from `file` (relative paths from its directory).
    pub fn new(file: &Path) -> Plan {
        let base = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Plan {
            file: file.to_path_buf(),
            base,
            label: None,
            window: 0,
            timeout: None,
            critical: true,
            default_user: None,
            nodes: Vec::new(),
            items: Vec::new(),
        }
    }

    /// Every check on a fanned-out plan; the first error found (in file
    /// order) is returned.
    pub fn check(&self) -> Result<(), ScenarioError> {
        let file = self.file.as_path();
        let err = |line: usize, what: String, message: String| {
            ScenarioError::invalid(file, line, Some(what), message)
        };
        let mut nodes: HashMap<&str, &NodeDef> = HashMap::with_capacity(self.nodes.len());
        for n in &self.nodes {
            if let Some(first) = nodes.insert(n.id.name.as_str(), n) {
                return Err(err(
                    n.id.line,
                    format!("node `{}`", n.id.name),
                    format!(
                        "node `{}` is defined twice (first on line {})",
                        n.id.name, first.id.line
                    ),
                ));
            }
        }
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
        check_gateway_cycles(&self.nodes, &nodes, &err)?;
        // ids are unique across groups too: one map for the whole plan then
        let has_groups = self.items.iter().any(|i| matches!(i, Item::Group(_)));
        let mut ids = has_groups.then(HashMap::new);
        check_items(&self.items, &nodes, &mut ids, &err)
    }

    /// The node of id `id` (the nodes are sorted by id).
    pub fn node(&self, id: &str) -> Option<&NodeDef> {
        match self.nodes.binary_search_by(|n| n.id.name.as_str().cmp(id)) {
            Ok(i) => self.nodes.get(i),
            // not sorted (a plan built by hand): look at each
            Err(_) => self.nodes.iter().find(|n| n.id.name == id),
        }
    }

    /// Every job, depth first in file order, with the ids of its enclosing groups.
    pub fn jobs(&self) -> Vec<(Vec<&str>, &JobDef)> {
        fn walk<'a>(
            items: &'a [Item],
            path: &mut Vec<&'a str>,
            out: &mut Vec<(Vec<&'a str>, &'a JobDef)>,
        ) {
            for i in items {
                match i {
                    Item::Job(j) => out.push((path.clone(), j)),
                    Item::Group(g) => {
                        path.push(&g.id.name);
                        walk(&g.items, path, out);
                        path.pop();
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.items, &mut Vec::new(), &mut out);
        out
    }

    /// Checks that every local file the scenario reads (scripts, includes,
    /// pushed paths) exists; the error names the job and its line.
    pub fn check_local_files(&self) -> Result<(), ScenarioError> {
        for (_, j) in self.jobs() {
            for c in &j.commands {
                for p in c.local_inputs() {
                    if std::fs::symlink_metadata(p).is_err() {
                        return Err(ScenarioError::invalid(
                            &self.file,
                            j.id.line,
                            Some(format!("job `{}`", j.id.name)),
                            format!("local file {} does not exist", p.display()),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn unknown<'a>(what: &str, name: &str, known: impl Iterator<Item = &'a str>) -> String {
    let mut close: Option<&str> = None;
    let mut listed: Vec<&str> = Vec::new();
    let mut count = 0usize;
    for k in known {
        count += 1;
        if similar(k, name)
            && close.is_none_or(|c| k.len().abs_diff(name.len()) < c.len().abs_diff(name.len()))
        {
            close = Some(k);
        }
        listed.push(k);
    }
    match close {
        Some(k) => format!("unknown {what} `{name}` (did you mean `{k}`?)"),
        None if count == 0 => format!("unknown {what} `{name}` (none is defined)"),
        None => {
            listed.sort_unstable();
            let more = count.saturating_sub(LISTED);
            listed.truncate(LISTED);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!(
                "unknown {what} `{name}` (known: {}{tail})",
                listed.join(", ")
            )
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

/// Each node is walked once: a chain already known to end well stops the walk.
fn check_gateway_cycles(
    nodes: &[NodeDef],
    by_id: &HashMap<&str, &NodeDef>,
    err: &ErrFn<'_>,
) -> Result<(), ScenarioError> {
    let mut done: HashSet<&str> = HashSet::with_capacity(nodes.len());
    for n in nodes {
        let mut path: Vec<&str> = vec![n.id.name.as_str()];
        let mut on_path: HashSet<&str> = path.iter().copied().collect();
        let mut cur = n;
        while let Some(g) = &cur.gateway {
            if done.contains(g.name.as_str()) {
                break;
            }
            if !on_path.insert(g.name.as_str()) {
                path.push(&g.name);
                return Err(err(
                    n.id.line,
                    format!("node `{}`", n.id.name),
                    format!("gateway cycle: {}", path.join(" -> ")),
                ));
            }
            path.push(&g.name);
            match by_id.get(g.name.as_str()) {
                Some(next) => cur = next,
                None => break,
            }
        }
        done.extend(path);
    }
    Ok(())
}

/// Checks one scope (and the groups inside it), in file order: ids
/// unique across the whole plan, requirements in the scope, nodes defined,
/// commands given, no requirement cycle. `ids` holds the ids of the scopes
/// checked so far; `None` when the plan has no group (then each id is
/// checked against its scope's index alone).
fn check_items<'a>(
    items: &'a [Item],
    nodes: &HashMap<&str, &NodeDef>,
    ids: &mut Option<HashMap<&'a str, usize>>,
    err: &ErrFn<'_>,
) -> Result<(), ScenarioError> {
    let index = scope_index(items);
    // each item's requirements, as indexes into the scope, one after another
    let mut reqs = Requirements::with_capacity(items.len());
    // consecutive jobs mostly share a node: look it up once
    let mut known_node: Option<&str> = None;
    for (i, item) in items.iter().enumerate() {
        let id = item.id();
        let what = || format!("{} `{}`", item.what(), id.name);
        let first = match ids {
            Some(ids) => ids.insert(&id.name, id.line),
            None => match index.get(id.name.as_str()) {
                Some(&k) if k != i => Some(items[k].id().line),
                _ => None,
            },
        };
        if let Some(first) = first {
            let message = format!("duplicate id `{}` (first defined on line {first})", id.name);
            return Err(err(id.line, what(), message));
        }
        for r in item.requires() {
            if r.name == id.name {
                return Err(err(r.line, what(), "requires itself".into()));
            }
            let Some(&k) = index.get(r.name.as_str()) else {
                let scope_ids = items.iter().map(|i| i.id().name.as_str());
                let mut message = unknown("job", &r.name, scope_ids);
                let elsewhere = ids
                    .as_ref()
                    .is_some_and(|ids| ids.contains_key(r.name.as_str()));
                if elsewhere || contains_id(items, &r.name) {
                    message = format!(
                        "`{}` is not in the same group: requirements stay inside a group",
                        r.name
                    );
                }
                return Err(err(r.line, what(), message));
            };
            reqs.push(k);
        }
        reqs.end_item();
        match item {
            Item::Job(j) => {
                let name = j.node.name.as_str();
                if known_node != Some(name) {
                    if !nodes.contains_key(name) {
                        return Err(err(
                            j.node.line,
                            what(),
                            unknown("node", name, nodes.keys().copied()),
                        ));
                    }
                    known_node = Some(name);
                }
                if j.commands.is_empty() {
                    return Err(err(
                        id.line,
                        what(),
                        "no command: give `run = \"...\"` or `commands = [...]`".into(),
                    ));
                }
            }
            Item::Group(g) => check_items(&g.items, nodes, ids, err)?,
        }
    }
    check_cycles(items, &reqs, err)
}

/// A scope's index: each id to its first item.
fn scope_index(items: &[Item]) -> HashMap<&str, usize> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        index.entry(item.id().name.as_str()).or_insert(i);
    }
    index
}

/// The requirements of each item of a scope, as indexes into it: one flat
/// list (one allocation for the scope, not one per item).
struct Requirements {
    targets: Vec<usize>,
    /// Item `i`'s are `targets[ends[i - 1]..ends[i]]`.
    ends: Vec<usize>,
}

impl Requirements {
    fn with_capacity(items: usize) -> Requirements {
        Requirements {
            targets: Vec::with_capacity(items),
            ends: Vec::with_capacity(items),
        }
    }

    /// Of a checked scope (names not in it skipped).
    fn of_scope(items: &[Item]) -> Requirements {
        let index = scope_index(items);
        let mut reqs = Requirements::with_capacity(items.len());
        for item in items {
            for r in item.requires() {
                if let Some(&k) = index.get(r.name.as_str()) {
                    reqs.push(k);
                }
            }
            reqs.end_item();
        }
        reqs
    }

    fn push(&mut self, target: usize) {
        self.targets.push(target);
    }

    /// The requirements pushed since the previous call are one item's.
    fn end_item(&mut self) {
        self.ends.push(self.targets.len());
    }

    fn of(&self, item: usize) -> &[usize] {
        let start = if item == 0 { 0 } else { self.ends[item - 1] };
        &self.targets[start..self.ends[item]]
    }
}

/// Whether `name` is the id of an item at any depth (only on the error path).
fn contains_id(items: &[Item], name: &str) -> bool {
    items.iter().any(|i| {
        i.id().name == name
            || match i {
                Item::Group(g) => contains_id(&g.items, name),
                Item::Job(_) => false,
            }
    })
}

/// A requirement cycle in one scope is an error naming its items.
fn check_cycles(items: &[Item], reqs: &Requirements, err: &ErrFn<'_>) -> Result<(), ScenarioError> {
    let Err(cycle) = levels(reqs, items.len()) else {
        return Ok(());
    };
    let names: Vec<&str> = cycle.iter().map(|&p| items[p].id().name.as_str()).collect();
    let it = &items[cycle[cycle.len() - 1]];
    Err(err(
        it.id().line,
        format!("{} `{}`", it.what(), it.id().name),
        format!(
            "requirement cycle: {} (each requires the next)",
            names.join(" -> ")
        ),
    ))
}

/// The wave of each item of one scope (items of a group numbered inside
/// it): 1 for an item that requires nothing in the scope, else 1 + the
/// highest wave it requires; items run in waves at the earliest. Meant for
/// a checked plan ([`Plan::check`]): if the requirements form a cycle,
/// every wave is 0.
pub fn waves(items: &[Item]) -> Vec<usize> {
    let reqs = Requirements::of_scope(items);
    levels(&reqs, items.len()).unwrap_or_else(|_| vec![0; items.len()])
}

/// A depth-first walk of a scope's requirements: each item's wave, or the
/// first cycle found (its items, the first one again at the end).
fn levels(reqs: &Requirements, count: usize) -> Result<Vec<usize>, Vec<usize>> {
    // 0 = unseen, 1 = on the path, 2 = done (and its wave known)
    let mut state = vec![0u8; count];
    let mut wave = vec![0usize; count];
    for start in 0..count {
        if state[start] != 0 {
            continue;
        }
        let mut path: Vec<usize> = vec![start];
        let mut next: Vec<usize> = vec![0];
        state[start] = 1;
        while let (Some(&top), Some(k)) = (path.last(), next.last_mut()) {
            let Some(&r) = reqs.of(top).get(*k) else {
                // every requirement is done: the wave follows theirs
                wave[top] = 1 + reqs.of(top).iter().map(|&r| wave[r]).max().unwrap_or(0);
                state[top] = 2;
                path.pop();
                next.pop();
                continue;
            };
            *k += 1;
            match state[r] {
                0 => {
                    state[r] = 1;
                    path.push(r);
                    next.push(0);
                }
                1 => {
                    let from = path.iter().position(|&p| p == r).unwrap_or(0);
                    let mut cycle = path[from..].to_vec();
                    cycle.push(r);
                    return Err(cycle);
                }
                _ => {}
            }
        }
    }
    Ok(wave)
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
            nodes: None,
            fanned: None,
            label: None,
            requires: requires.iter().map(|r| at(r, line + 2)).collect(),
            requires_all: vec![],
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
        let mut p = Plan::new(std::path::Path::new("s.toml"));
        p.nodes = vec![NodeDef::remote(at("n", 1), "h")];
        p.items = items;
        p
    }

    fn check(p: &Plan) -> String {
        p.check().unwrap_err().to_string()
    }

    #[test]
    fn a_valid_plan_passes() {
        plan(vec![job("a", 10, &[]), job("b", 20, &["a"])])
            .check()
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
    fn waves_follow_the_longest_chain_of_requirements() {
        // later items may be required by earlier ones; names outside the
        // scope are not waited for
        let items = vec![
            job("d", 10, &["b", "c"]),
            job("a", 20, &[]),
            job("b", 30, &["a"]),
            job("c", 40, &["a", "b", "elsewhere"]),
            job("e", 50, &[]),
        ];
        assert_eq!(waves(&items), vec![4, 1, 2, 3, 1]);
        assert!(waves(&[]).is_empty());
        // not a checked plan: a cycle has no waves
        assert_eq!(
            waves(&[job("a", 10, &["b"]), job("b", 20, &["a"])]),
            vec![0, 0]
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
            requires_all: vec![],
            nodes: None,
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
        p.check().unwrap();
    }

    #[test]
    fn similar_names_are_one_edit_apart() {
        assert!(similar("prepare", "prepar"));
        assert!(similar("deploy", "deploys"));
        assert!(similar("web1", "web2"));
        assert!(!similar("alpha", "omega"));
    }
}
