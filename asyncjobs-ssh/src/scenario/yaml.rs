//! apssh's YAML scenarios (`YamlLoader`), so apssh users can bring their
//! files: `nodes:` (id, hostname, username, gateway, localnode, formatter;
//! verbose is accepted and ignored) and `jobs:` (id, node, commands,
//! required, critical, label; verbose ignored). Commands have a `type`
//! (Run, RunScript, RunString, Push, Pull) and apssh's fields. As in apssh,
//! nodes log in as `root` unless they say otherwise, jobs are critical by
//! default and `args` are shell text. Unlike apssh, relative local paths
//! are relative to the file's directory. `.yaml.j2` files are Jinja
//! templates (see [`super::template`]).
//!
//! Extensions, as in the TOML format: a node `id` may be a node set
//! (`fit[01-10]`, `{node}` substituted in its fields), with `port` and
//! `vars`; a job may run on `nodes:` (a set or a list, one job per node)
//! and have `required_all:`.
//!
//! The file is read once into a [`crate::yaml_tree`] (which bounds
//! nesting, strings and alias expansion, and knows each node's line); serde
//! then reads the top level, and each entry of `nodes:` and `jobs:` on its
//! own, so an error names the entry it is in; lines of keys and commands
//! are looked up in the entry's node.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::error::ScenarioError;
use super::limits::Limits;
use super::model::{Exit, OneOrMany};
use super::plan::{At, CommandDef, Item, JobDef, NodeDef, Plan};
use crate::yaml_tree::{self, Step, TreeLimits, YamlError};
use crate::ExitStatus;

/// The top level, its shape only (keys, lists): each entry is read on its
/// own, knowing which it is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    nodes: Vec<IgnoredAny>,
    #[allow(dead_code)]
    jobs: Vec<IgnoredAny>,
}

/// A `nodes:` or `jobs:` entry as written: where it and its keys are.
#[derive(Debug, Clone, Copy)]
struct Entry<'a>(yaml_tree::Node<'a>);

impl<'a> Entry<'a> {
    /// The line of `key`, else the entry's (a linear search: an entry has
    /// a few keys).
    fn key(self, key: &str) -> usize {
        self.0.get(key).map_or(self.0.line(), |(k, _)| k.line())
    }

    /// Its id's text, if a scalar.
    fn id(self) -> Option<&'a str> {
        self.0.get("id").and_then(|(_, v)| v.text())
    }

    /// The lines of the items of its `commands:`.
    fn commands(self) -> impl Iterator<Item = usize> + 'a {
        self.0
            .get("commands")
            .and_then(|(_, v)| v.items())
            .into_iter()
            .flatten()
            .map(|c| c.line())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Node {
    id: Scalar,
    hostname: Option<String>,
    gateway: Option<Scalar>,
    username: Option<String>,
    port: Option<u16>,
    localnode: Option<bool>,
    #[allow(dead_code)]
    critical: Option<bool>,
    formatter: Option<String>,
    #[allow(dead_code)]
    verbose: Option<bool>,
    #[serde(default)]
    vars: BTreeMap<String, Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Job {
    id: Scalar,
    node: Option<Scalar>,
    nodes: Option<OneOrMany<String>>,
    commands: Vec<Command>,
    required: Option<OneOrMany<Scalar>>,
    required_all: Option<OneOrMany<Scalar>>,
    critical: Option<bool>,
    forever: Option<bool>,
    #[allow(dead_code)]
    verbose: Option<bool>,
    label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Command {
    #[serde(rename = "type")]
    kind: String,
    command: Option<String>,
    argv: Option<Vec<Scalar>>,
    local_script: Option<String>,
    script_body: Option<String>,
    args: Option<Vec<Scalar>>,
    includes: Option<Vec<String>>,
    localpaths: Option<OneOrMany<String>>,
    remotepath: Option<String>,
    remotepaths: Option<OneOrMany<String>>,
    localpath: Option<String>,
    label: Option<String>,
    allowed_exits: Option<Vec<Exit>>,
    #[allow(dead_code)]
    verbose: Option<bool>,
}

/// A string, number or boolean, as apssh accepts for ids and arguments.
#[derive(Debug, Clone)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, a number or a boolean")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Scalar {
    /// Its text, taken.
    fn into_text(self) -> String {
        match self {
            Scalar::Str(s) => s,
            other => other.text(),
        }
    }

    fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        }
    }
}

/// apssh's formatter classes, as `formatter:` names them.
pub const FORMATTERS: &[&str] = &[
    "HostFormatter",
    "TimeHostFormatter",
    "RawFormatter",
    "ColonFormatter",
    "TimeColonFormatter",
    "TerminalFormatter",
];

/// A tree error as a scenario error about `what`.
fn error(file: &Path, e: YamlError, what: Option<String>) -> ScenarioError {
    ScenarioError::new(e.kind, file, e.line, what, e.message())
}

/// Reads each entry of the list under `key` (`nodes`, `jobs`) as a `T`
/// and hands it to `take` with where it is written, one entry at a time
/// (while its nodes are in the cache, and without holding every parsed
/// entry at once); an error names the entry (``job `x` ``, from its id).
fn each<'a, T: Deserialize<'a>>(
    file: &Path,
    root: yaml_tree::Node<'a>,
    key: &'static str,
    kind: &str,
    mut take: impl FnMut(T, Entry<'a>) -> Result<(), ScenarioError>,
) -> Result<(), ScenarioError> {
    let items = root.get(key).and_then(|(_, v)| v.items());
    for (k, node) in items.into_iter().flatten().enumerate() {
        let entry = Entry(node);
        let t = T::deserialize(node).map_err(|e| {
            let e = e.within(Step::Index(k)).within(Step::Key(key.into()));
            error(file, e, entry.id().map(|id| format!("{kind} `{id}`")))
        })?;
        take(t, entry)?;
    }
    Ok(())
}

/// Parses apssh YAML `text` (the content of `plan.file`).
pub(crate) fn parse(text: &str, mut plan: Plan, limits: &Limits) -> Result<Plan, ScenarioError> {
    let file = plan.file.clone();
    let tree =
        yaml_tree::parse(text, &TreeLimits::from(limits)).map_err(|e| error(&file, e, None))?;
    let root = tree.root();
    File::deserialize(root).map_err(|e| error(&file, e, None))?;
    let base = plan.base.clone();
    let path = |p: &str| {
        let p = super::toml_file::expand_tilde(Path::new(p));
        if p.is_absolute() {
            p
        } else {
            base.join(p)
        }
    };
    let mut nodes = Vec::new();
    each(&file, root, "nodes", "node", |n: Node, entry| {
        node(&file, &n, entry, limits, &mut nodes)
    })?;
    let mut items = Vec::new();
    each(&file, root, "jobs", "job", |j: Job, entry| {
        items.push(Item::Job(job(&file, j, entry, &path)?));
        Ok(())
    })?;
    // apssh's SshNode logs in as root by default
    plan.default_user = Some("root".into());
    plan.nodes = nodes;
    plan.items = items;
    Ok(plan)
}

/// The nodes of `n` (several for a node set), into `nodes`.
fn node(
    file: &Path,
    n: &Node,
    entry: Entry,
    limits: &Limits,
    nodes: &mut Vec<NodeDef>,
) -> Result<(), ScenarioError> {
    let key = n.id.text();
    let line = entry.key("id");
    let err = |m: String| ScenarioError::invalid(file, line, Some(format!("node `{key}`")), m);
    if let Some(f) = n.formatter.as_deref().filter(|f| !FORMATTERS.contains(f)) {
        return Err(err(format!(
            "unknown formatter `{f}` (known: {})",
            FORMATTERS.join(", ")
        )));
    }
    let names = super::nodeset::expand(&key, limits.max_node_set).map_err(err)?;
    for id in names {
        let sub = |s: &str| super::nodeset::field_of(&key, &id, s);
        nodes.push(NodeDef {
            host: n.hostname.as_deref().map(sub),
            user: n.username.as_deref().map(sub),
            port: n.port,
            identities: Vec::new(),
            gateway: n
                .gateway
                .as_ref()
                .map(|g| At::new(g.text(), entry.key("gateway"))),
            local: n.localnode.unwrap_or(false),
            formatter: n.formatter.clone(),
            vars: n
                .vars
                .iter()
                .map(|(k, v)| (k.clone(), sub(&v.text())))
                .collect(),
            implicit: false,
            id: At::new(id.clone(), line),
        });
    }
    Ok(())
}

fn job(
    file: &Path,
    j: Job,
    entry: Entry,
    path: &dyn Fn(&str) -> PathBuf,
) -> Result<JobDef, ScenarioError> {
    let id = j.id.into_text();
    let line = entry.key("id");
    // only errors name the job: formatted on the way to one
    let what = || format!("job `{id}`");
    let mut commands = Vec::with_capacity(j.commands.len());
    let mut lines = entry.commands();
    for c in &j.commands {
        let at = lines.next().unwrap_or(line);
        commands
            .push(command(c, path).map_err(|m| ScenarioError::invalid(file, at, Some(what()), m))?);
    }
    let reqs = |r: Option<OneOrMany<Scalar>>, key: &str| -> Vec<At> {
        let Some(r) = r else { return Vec::new() };
        let l = entry.key(key);
        r.into_vec()
            .into_iter()
            .map(|r| At::new(r.into_text(), l))
            .collect()
    };
    let node = match (j.node, &j.nodes) {
        (Some(_), Some(_)) => {
            return Err(ScenarioError::invalid(
                file,
                entry.key("nodes"),
                Some(what()),
                "give `node` (one node) or `nodes` (one job per node), not both",
            ))
        }
        (Some(n), None) => At::new(n.into_text(), entry.key("node")),
        (None, _) => At::new(String::new(), line),
    };
    let nodes = j.nodes.map(|n| n.into_sel(entry.key("nodes")));
    Ok(JobDef {
        id: At::new(id, line),
        node,
        nodes,
        fanned: None,
        label: j.label.map(|l| match l.trim() {
            t if t.len() == l.len() => l,
            t => t.to_string(),
        }),
        requires: reqs(j.required, "required"),
        requires_all: reqs(j.required_all, "required_all"),
        critical: j.critical.unwrap_or(true),
        forever: j.forever.unwrap_or(false),
        timeout: None,
        commands,
    })
}

fn words(list: &Option<Vec<Scalar>>) -> String {
    list.as_ref()
        .map(|v| v.iter().map(Scalar::text).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn command(c: &Command, path: &dyn Fn(&str) -> PathBuf) -> Result<CommandDef, String> {
    let allowed: Vec<ExitStatus> = c
        .allowed_exits
        .iter()
        .flatten()
        .map(|e| match e {
            Exit::Code(n) => ExitStatus::Code(*n),
            Exit::Signal(s) => ExitStatus::from(s.as_str()),
        })
        .collect();
    let includes: Vec<PathBuf> = c.includes.iter().flatten().map(|p| path(p)).collect();
    let label = c.label.clone();
    // `command: "a b c"` is argv split on whitespace, as apssh does
    let argv: Option<Vec<&str>> = c.command.as_ref().map(|s| s.split_whitespace().collect());
    let missing = |k: &str| format!("command of type {} misses `{k}`", c.kind);
    // RunScript and RunString: the first word of `command` and the rest, else
    // the script's own field (`local_script`, `script_body`) and `args`
    let script_and_args = |given: &Option<String>, field: &str| match (&argv, given) {
        (Some(a), _) if !a.is_empty() => Ok((a[0].to_string(), a[1..].join(" "))),
        (_, Some(g)) => Ok((g.clone(), words(&c.args))),
        _ => Err(missing(field)),
    };
    Ok(match c.kind.as_str() {
        "Run" => {
            let line = match &argv {
                Some(a) => a.join(" "),
                None => c
                    .argv
                    .as_ref()
                    .map(|_| words(&c.argv))
                    .ok_or_else(|| missing("command"))?,
            };
            CommandDef::Run {
                line,
                allowed,
                label,
                timeout: None,
            }
        }
        "RunScript" => {
            let (script, args) = script_and_args(&c.local_script, "local_script")?;
            CommandDef::Script {
                path: path(&script),
                args,
                includes,
                allowed,
                label,
                timeout: None,
            }
        }
        "RunString" => {
            let (body, args) = script_and_args(&c.script_body, "script_body")?;
            CommandDef::String {
                body,
                args,
                includes,
                allowed,
                label,
                timeout: None,
            }
        }
        "Push" => CommandDef::Push {
            local: c
                .localpaths
                .as_ref()
                .ok_or_else(|| missing("localpaths"))?
                .to_vec()
                .iter()
                .map(|p| path(p))
                .collect(),
            remote: c.remotepath.clone().ok_or_else(|| missing("remotepath"))?,
            label,
        },
        "Pull" => CommandDef::Pull {
            remote: c
                .remotepaths
                .as_ref()
                .ok_or_else(|| missing("remotepaths"))?
                .to_vec(),
            local: path(&c.localpath.clone().ok_or_else(|| missing("localpath"))?),
            label,
        },
        other => {
            return Err(format!(
                "unknown command type `{other}` (known: Run, RunScript, RunString, Push, Pull)"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::error::ErrorKind;
    use super::*;

    fn parse(text: &str, file: &Path) -> Result<Plan, ScenarioError> {
        let mut p = Plan::new(file);
        p.base = PathBuf::new();
        super::parse(text, p, &Limits::default())
    }

    const APSSH: &str = "\
nodes:
  - id: gw
    hostname: gw.example.org
    formatter: TimeHostFormatter
    verbose: True
  - id: n1
    hostname: fit01
    gateway: gw
    username: admin
  - id: here
    localnode: true

jobs:
  - id: load
    node: gw
    label: >
      load images
    commands:
      - type: Run
        command: rhubarbe load fit01
      - type: Run
        argv: [echo, 1, two]
  - id: run
    required:
      - load
    node: n1
    critical: False
    commands:
      - type: RunScript
        command: tests/script.sh arg1 arg2
      - type: RunString
        script_body: \"echo $1\"
        args: [hi]
      - type: Push
        localpaths:
          - a.sh
        remotepath: /root/
      - type: Pull
        remotepaths: /etc/hostname
        localpath: out
";

    #[test]
    fn apssh_files_read_into_a_plan() {
        let p = parse(APSSH, Path::new("a.yaml")).unwrap();
        p.check().unwrap();
        assert_eq!(
            (p.nodes[0].user.as_deref(), p.default_user.as_deref()),
            (None, Some("root"))
        );
        assert_eq!(
            p.nodes[1]
                .gateway
                .as_ref()
                .map(|g| (g.name.as_str(), g.line)),
            Some(("gw", 8))
        );
        assert!(p.nodes[2].local);
        let Item::Job(load) = &p.items[0] else {
            panic!()
        };
        assert_eq!(load.id.line, 14);
        assert_eq!(load.label.as_deref(), Some("load images"));
        assert!(matches!(&load.commands[1], CommandDef::Run { line, .. } if line == "echo 1 two"));
        let Item::Job(run) = &p.items[1] else {
            panic!()
        };
        assert!(!run.critical);
        assert_eq!(
            run.requires[0],
            At {
                name: "load".into(),
                line: 24
            }
        );
        assert!(
            matches!(&run.commands[0], CommandDef::Script { path, args, .. }
            if path == Path::new("tests/script.sh") && args == "arg1 arg2")
        );
        assert!(
            matches!(&run.commands[1], CommandDef::String { body, args, .. }
            if body == "echo $1" && args == "hi")
        );
        assert!(
            matches!(&run.commands[3], CommandDef::Pull { remote, .. } if remote == &["/etc/hostname"])
        );
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_job() {
        let text =
            "nodes:\n  - id: n\n    hostname: h\njobs:\n  - id: j1\n    node: n\n    comands: []\n";
        let e = parse(text, Path::new("a.yaml")).unwrap_err().to_string();
        assert!(e.starts_with("a.yaml:7: job `j1`: "), "{e}");
        assert!(e.contains("unknown field `comands`"), "{e}");
    }

    #[test]
    fn serde_errors_name_the_line_the_job_and_the_path() {
        let jobs = |third: &str| {
            format!(
                "nodes: [{{id: n}}]\njobs:\n  - {{id: a, node: n, commands: []}}\n  - {{id: b, node: n, commands: []}}\n  - id: c\n    node: n\n    commands:\n      - {{type: Run, command: x}}\n      - {third}\n"
            )
        };
        let cases = [
            (
                "type: Run\n        comand: y",
                "a.yaml:10: job `c`: jobs[2].commands[1]: unknown field `comand`, expected one of",
            ),
            (
                "{command: y}",
                "a.yaml:9: job `c`: jobs[2].commands[1]: missing field `type`",
            ),
            (
                "type: Run\n        allowed_exits: 3",
                "a.yaml:10: job `c`: jobs[2].commands[1].allowed_exits: invalid type: integer `3`, expected a sequence",
            ),
            (
                "type: Run\n        allowed_exits: [1, [2]]",
                "a.yaml:10: job `c`: jobs[2].commands[1].allowed_exits[1]: data did not match any variant of untagged enum Exit",
            ),
        ];
        for (third, want) in cases {
            let e = parse(&jobs(third), Path::new("a.yaml")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Syntax);
            let e = e.to_string();
            assert!(e.starts_with(want), "{e}\nwanted {want}");
        }
        let e = parse(
            "nodes:\n  - id: n\n    port: 70000\njobs: []\n",
            Path::new("a.yaml"),
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "a.yaml:3: node `n`: nodes[0].port: invalid value: integer `70000`, expected u16"
        );
        let e = parse("nodes: []\njobs: []\n---\njobs: []\n", Path::new("a.yaml"));
        let e = e.unwrap_err().to_string();
        assert!(e.starts_with("a.yaml:3: a second YAML document"), "{e}");
        let e = parse("", Path::new("a.yaml")).unwrap_err().to_string();
        assert_eq!(e, "a.yaml:1: missing field `nodes`");
    }

    #[test]
    fn unknown_requirements_name_the_line_of_required() {
        let text = "nodes:\n  - id: n\n    hostname: h\njobs:\n  - id: j1\n    node: n\n    required: nope\n    commands:\n      - type: Run\n        command: 'true'\n";
        let p = parse(text, Path::new("a.yaml")).unwrap();
        let e = p.check().unwrap_err().to_string();
        assert_eq!(e, "a.yaml:7: job `j1`: unknown job `nope` (known: j1)");
    }

    #[test]
    fn bad_commands_are_errors_naming_the_job() {
        let text = "nodes: []\njobs:\n  - id: j\n    node: n\n    commands:\n      - type: Sleep\n";
        let e = parse(text, Path::new("a.yaml")).unwrap_err().to_string();
        assert!(
            e.starts_with("a.yaml:6: job `j`: unknown command type `Sleep`"),
            "{e}"
        );
        for (kind, field) in [("RunScript", "local_script"), ("RunString", "script_body")] {
            let text = format!(
                "nodes: []\njobs:\n  - id: j\n    node: n\n    commands:\n      - type: {kind}\n        args: [a]\n"
            );
            let e = parse(&text, Path::new("a.yaml")).unwrap_err().to_string();
            assert!(
                e.starts_with("a.yaml:6: job `j`: ")
                    && e.contains(&format!("command of type {kind} misses `{field}`")),
                "{e}"
            );
        }
        let text = "nodes: []\n";
        let e = parse(text, Path::new("a.yaml")).unwrap_err().to_string();
        assert!(e.contains("missing field `jobs`"), "{e}");
    }
}
