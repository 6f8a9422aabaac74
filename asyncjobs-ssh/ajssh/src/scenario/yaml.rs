//! apssh's YAML scenarios (`YamlLoader`), so apssh users can bring their
//! files: `nodes:` (id, hostname, username, gateway, localnode; formatter
//! and verbose are accepted and ignored) and `jobs:` (id, node, commands,
//! required, critical, label; verbose ignored). Commands have a `type`
//! (Run, RunScript, RunString, Push, Pull) and apssh's fields. As in apssh,
//! nodes log in as `root` unless they say otherwise, jobs are critical by
//! default, `args` are shell text, and relative local paths are relative to
//! the current directory. Jinja templating is not supported.
//!
//! YAML values carry no positions, so the lines in error messages come from
//! the parser's location, else from the `id:` line of the job concerned.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::model::{Exit, OneOrMany};
use super::plan::{At, CommandDef, Item, JobDef, NodeDef, Plan};
use super::ScenarioError;
use asyncjobs_ssh::ExitStatus;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    nodes: Vec<Node>,
    jobs: Vec<Job>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Node {
    id: Scalar,
    hostname: Option<String>,
    gateway: Option<Scalar>,
    username: Option<String>,
    localnode: Option<bool>,
    #[allow(dead_code)]
    critical: Option<bool>,
    formatter: Option<String>,
    #[allow(dead_code)]
    verbose: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Job {
    id: Scalar,
    node: Scalar,
    commands: Vec<Command>,
    required: Option<OneOrMany<Scalar>>,
    critical: Option<bool>,
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
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        }
    }
}

const FORMATTERS: &[&str] = &[
    "HostFormatter",
    "TimeHostFormatter",
    "RawFormatter",
    "ColonFormatter",
    "TimeColonFormatter",
    "TerminalFormatter",
];

/// Parses apssh YAML `text` (the content of `file`).
pub fn parse(text: &str, file: &Path) -> Result<Plan, ScenarioError> {
    let parsed: File = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map_or(0, |l| l.line());
        let message = e.to_string();
        // drop the " at line X column Y" the message repeats
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        ScenarioError::at(file, line, enclosing_id(text, line), message)
    })?;
    let mut nodes = Vec::new();
    for n in &parsed.nodes {
        let id = n.id.text();
        let line = id_line(text, &id, 0);
        let err = |m: String| ScenarioError::at(file, line, Some(format!("node `{id}`")), m);
        if let Some(f) = n.formatter.as_deref().filter(|f| !FORMATTERS.contains(f)) {
            return Err(err(format!(
                "unknown formatter `{f}` (known: {})",
                FORMATTERS.join(", ")
            )));
        }
        let local = n.localnode.unwrap_or(false);
        nodes.push(NodeDef {
            id: At {
                name: id.clone(),
                line,
            },
            host: n.hostname.clone(),
            user: n.username.clone(),
            port: None,
            identities: Vec::new(),
            gateway: n.gateway.as_ref().map(|g| At {
                name: g.text(),
                line: field_line(text, line, "gateway"),
            }),
            local,
        });
    }
    let mut items = Vec::new();
    for j in &parsed.jobs {
        items.push(Item::Job(job(text, file, j)?));
    }
    // apssh's SshNode logs in as root by default
    Ok(Plan {
        label: None,
        window: 0,
        timeout: None,
        critical: true,
        default_user: Some("root".into()),
        nodes,
        items,
    })
}

fn job(text: &str, file: &Path, j: &Job) -> Result<JobDef, ScenarioError> {
    let id = j.id.text();
    let line = id_line(text, &id, 0);
    let what = format!("job `{id}`");
    let mut commands = Vec::new();
    for c in &j.commands {
        commands
            .push(command(c).map_err(|m| ScenarioError::at(file, line, Some(what.clone()), m))?);
    }
    let req_line = field_line(text, line, "required");
    Ok(JobDef {
        id: At {
            name: id.clone(),
            line,
        },
        node: At {
            name: j.node.text(),
            line: field_line(text, line, "node"),
        },
        label: j.label.as_ref().map(|l| l.trim().to_string()),
        requires: j
            .required
            .as_ref()
            .map(OneOrMany::to_vec)
            .unwrap_or_default()
            .iter()
            .map(|r| At {
                name: r.text(),
                line: req_line,
            })
            .collect(),
        critical: j.critical.unwrap_or(true),
        forever: false,
        timeout: None,
        commands,
    })
}

fn words(list: &Option<Vec<Scalar>>) -> String {
    list.as_ref()
        .map(|v| v.iter().map(Scalar::text).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn command(c: &Command) -> Result<CommandDef, String> {
    let allowed: Vec<ExitStatus> = c
        .allowed_exits
        .iter()
        .flatten()
        .map(|e| match e {
            Exit::Code(n) => ExitStatus::Code(*n),
            Exit::Signal(s) => ExitStatus::from(s.as_str()),
        })
        .collect();
    let includes: Vec<PathBuf> = c.includes.iter().flatten().map(PathBuf::from).collect();
    let label = c.label.clone();
    // `command: "a b c"` is argv split on whitespace, as apssh does
    let argv: Option<Vec<String>> = c
        .command
        .as_ref()
        .map(|s| s.split_whitespace().map(str::to_string).collect());
    let missing = |k: &str| format!("command of type {} misses `{k}`", c.kind);
    // RunScript and RunString: the first word of `command` and the rest, else
    // the script's own field (`local_script`, `script_body`) and `args`
    let script_and_args = |given: &Option<String>, field: &str| match (&argv, given) {
        (Some(a), _) if !a.is_empty() => Ok((a[0].clone(), a[1..].join(" "))),
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
            let (path, args) = script_and_args(&c.local_script, "local_script")?;
            CommandDef::Script {
                path: PathBuf::from(path),
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
                .into_iter()
                .map(PathBuf::from)
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
            local: PathBuf::from(c.localpath.clone().ok_or_else(|| missing("localpath"))?),
            label,
        },
        other => {
            return Err(format!(
                "unknown command type `{other}` (known: Run, RunScript, RunString, Push, Pull)"
            ))
        }
    })
}

/// The line of `id: <id>` (first one after line `after`), 0 if not found.
fn id_line(text: &str, id: &str, after: usize) -> usize {
    for (i, l) in text.lines().enumerate().skip(after) {
        let t = l.trim_start().trim_start_matches("- ").trim();
        if let Some(v) = t.strip_prefix("id:") {
            if v.trim().trim_matches(|c| c == '"' || c == '\'') == id {
                return i + 1;
            }
        }
    }
    0
}

/// The line of `key:` in the entry starting at `line` (that line if not found).
fn field_line(text: &str, line: usize, key: &str) -> usize {
    if line == 0 {
        return 0;
    }
    for (i, l) in text.lines().enumerate().skip(line - 1) {
        let t = l.trim_start().trim_start_matches("- ").trim_start();
        if i + 1 > line && t.starts_with("id:") {
            break;
        }
        if t.starts_with(&format!("{key}:")) {
            return i + 1;
        }
    }
    line
}

/// The job or node whose entry holds `line`: the nearest `id:` above it.
fn enclosing_id(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut section = None;
    let mut id = None;
    for l in lines.iter().take(line) {
        if l.starts_with("nodes:") {
            (section, id) = (Some("node"), None);
        } else if l.starts_with("jobs:") {
            (section, id) = (Some("job"), None);
        }
        let t = l.trim_start().trim_start_matches("- ").trim();
        if let Some(v) = t.strip_prefix("id:") {
            id = Some(v.trim().trim_matches(|c| c == '"' || c == '\'').to_string());
        }
    }
    Some(format!("{} `{}`", section?, id?))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        p.check(Path::new("a.yaml")).unwrap();
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
    fn unknown_requirements_name_the_line_of_required() {
        let text = "nodes:\n  - id: n\n    hostname: h\njobs:\n  - id: j1\n    node: n\n    required: nope\n    commands:\n      - type: Run\n        command: 'true'\n";
        let p = parse(text, Path::new("a.yaml")).unwrap();
        let e = p.check(Path::new("a.yaml")).unwrap_err().to_string();
        assert_eq!(e, "a.yaml:7: job `j1`: unknown job `nope` (known: j1)");
    }

    #[test]
    fn bad_commands_are_errors_naming_the_job() {
        let text = "nodes: []\njobs:\n  - id: j\n    node: n\n    commands:\n      - type: Sleep\n";
        let e = parse(text, Path::new("a.yaml")).unwrap_err().to_string();
        assert!(
            e.starts_with("a.yaml:3: job `j`: unknown command type `Sleep`"),
            "{e}"
        );
        for (kind, field) in [("RunScript", "local_script"), ("RunString", "script_body")] {
            let text = format!(
                "nodes: []\njobs:\n  - id: j\n    node: n\n    commands:\n      - type: {kind}\n        args: [a]\n"
            );
            let e = parse(&text, Path::new("a.yaml")).unwrap_err().to_string();
            assert!(
                e.starts_with("a.yaml:3: job `j`: ")
                    && e.contains(&format!("command of type {kind} misses `{field}`")),
                "{e}"
            );
        }
        let text = "nodes: []\n";
        let e = parse(text, Path::new("a.yaml")).unwrap_err().to_string();
        assert!(e.contains("missing field `jobs`"), "{e}");
    }
}
