//! TOML scenario files (format in [`super::model`]) into a [`Plan`]. Errors
//! carry the line (the `toml` crate's spans, through a [`LineIndex`]) and
//! the job or node.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::{ErrorKind, ScenarioError};
use super::lines::LineIndex;
use super::model::{self, Exit, Loose, OneOrMany};
use super::plan::{At, CommandDef, GroupDef, Item, JobDef, NodeDef, NodeSel, Plan};
use crate::ExitStatus;

struct Ctx<'a> {
    lines: &'a LineIndex,
    file: &'a Path,
    base: &'a Path,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> usize {
        self.lines.line(offset)
    }
    /// `s` at the line of its span.
    fn at(&self, s: Spanned<String>) -> At {
        let line = self.line(s.span().start);
        At::new(s.into_inner(), line)
    }
    fn err(
        &self,
        offset: usize,
        what: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::invalid(self.file, self.line(offset), Some(what.into()), message)
    }
    fn path(&self, p: &Path) -> PathBuf {
        let p = expand_tilde(p);
        if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        }
    }
    /// A timeout, if given; an error names `what` (formatted only then).
    fn secs(
        &self,
        t: &Option<Spanned<f64>>,
        what: impl FnOnce() -> String,
    ) -> Result<Option<Duration>, ScenarioError> {
        match t {
            None => Ok(None),
            Some(s) => match super::secs(*s.get_ref()) {
                Ok(d) => Ok(Some(d)),
                Err(m) => Err(self.err(s.span().start, what(), m)),
            },
        }
    }
    fn sel(&self, n: Option<Spanned<OneOrMany<String>>>) -> Option<NodeSel> {
        let n = n?;
        let line = self.line(n.span().start);
        Some(n.into_inner().into_sel(line))
    }
}

pub(crate) fn expand_tilde(p: &Path) -> PathBuf {
    match p.to_str() {
        Some(text) => PathBuf::from(crate::config::expand_tilde(text)),
        None => p.to_path_buf(),
    }
}

/// Parses `text` (the content of `plan.file`); relative local paths are
/// resolved against `plan.base`. Node-set keys (`[nodes."fit[01-10]"]`)
/// are expanded, `{node}` substituted in their fields.
pub(crate) fn parse(text: &str, mut plan: Plan, max_set: usize) -> Result<Plan, ScenarioError> {
    let lines = LineIndex::new(text);
    let file = plan.file.clone();
    let base = plan.base.clone();
    let ctx = Ctx {
        lines: &lines,
        file: &file,
        base: &base,
    };
    let parsed = match fast(text) {
        Some(parsed) => parsed,
        None => toml::from_str(text).map_err(|e| locate(text, &lines, &file, &e))?,
    };
    let mut nodes = Vec::new();
    for (key, n) in &parsed.nodes {
        let line = ctx.line(n.span().start);
        let node = n.get_ref();
        let names = super::nodeset::expand(key, max_set)
            .map_err(|m| ctx.err(n.span().start, format!("node `{key}`"), m))?;
        for id in names {
            let sub = |s: &str| super::nodeset::field_of(key, &id, s);
            nodes.push(NodeDef {
                host: node.host.as_deref().map(sub),
                user: node.user.as_deref().map(sub),
                port: node.port,
                identities: node
                    .identity
                    .as_ref()
                    .map(OneOrMany::to_vec)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| ctx.path(&expand_tilde(p)))
                    .collect(),
                gateway: node.gateway.clone().map(|g| ctx.at(g)),
                local: node.local,
                formatter: None,
                vars: node.vars.iter().map(|(k, v)| (k.clone(), sub(v))).collect(),
                implicit: false,
                id: At::new(id.clone(), line),
            });
        }
    }
    plan.label = parsed.label.clone();
    plan.window = parsed.window.unwrap_or(0);
    plan.timeout = ctx.secs(&parsed.timeout, || "scenario".into())?;
    plan.critical = parsed.critical.unwrap_or(true);
    plan.nodes = nodes;
    plan.items = items(&ctx, parsed.job, parsed.group)?;
    Ok(plan)
}

/// The file read by our own tree ([`crate::toml_tree`]); `None` for the
/// `toml` crate to read it and word the error, if any.
fn fast(text: &str) -> Option<model::File> {
    use serde::Deserialize as _;
    let tree = crate::toml_tree::parse(text, Some(model::ROOT_KEYS))?;
    model::File::deserialize(tree.root()).ok()
}

fn items(
    ctx: &Ctx<'_>,
    jobs: Vec<Spanned<model::Job>>,
    groups: Vec<Spanned<model::Group>>,
) -> Result<Vec<Item>, ScenarioError> {
    // file order across both kinds, so listings follow the file
    if groups.is_empty() {
        return jobs
            .into_iter()
            .map(|j| Ok(Item::Job(job(ctx, j.into_inner())?)))
            .collect();
    }
    let mut all: Vec<(usize, Item)> = Vec::with_capacity(jobs.len() + groups.len());
    for j in jobs {
        all.push((j.span().start, Item::Job(job(ctx, j.into_inner())?)));
    }
    for g in groups {
        all.push((g.span().start, Item::Group(group(ctx, g.into_inner())?)));
    }
    all.sort_by_key(|(offset, _)| *offset);
    Ok(all.into_iter().map(|(_, i)| i).collect())
}

fn requires(ctx: &Ctx<'_>, r: Option<Spanned<OneOrMany<String>>>) -> Vec<At> {
    let Some(r) = r else { return Vec::new() };
    let line = ctx.line(r.span().start);
    r.into_inner()
        .into_vec()
        .into_iter()
        .map(|name| At { name, line })
        .collect()
}

fn group(ctx: &Ctx<'_>, g: model::Group) -> Result<GroupDef, ScenarioError> {
    let what = || format!("group `{}`", g.id.get_ref());
    Ok(GroupDef {
        timeout: ctx.secs(&g.timeout, what)?,
        nodes: ctx.sel(g.nodes),
        id: ctx.at(g.id),
        label: g.label,
        requires: requires(ctx, g.requires),
        requires_all: requires(ctx, g.requires_all),
        critical: g.critical.unwrap_or(true),
        forever: g.forever.unwrap_or(false),
        window: g.window.unwrap_or(0),
        items: items(ctx, g.job, g.group)?,
    })
}

fn job(ctx: &Ctx<'_>, j: model::Job) -> Result<JobDef, ScenarioError> {
    // only errors name the job: formatted on the way to one
    let what = || format!("job `{}`", j.id.get_ref());
    let mut commands = Vec::with_capacity(j.commands.len() + 1);
    if let Some(line) = j.run {
        commands.push(CommandDef::Run {
            line,
            allowed: vec![],
            label: None,
            timeout: None,
        });
    }
    for c in &j.commands {
        commands.push(command(ctx, c, &what)?);
    }
    let node = match (j.node, &j.nodes) {
        (Some(_), Some(n)) => {
            return Err(ctx.err(
                n.span().start,
                what(),
                "give `node` (one node) or `nodes` (one job per node), not both",
            ))
        }
        (Some(n), None) => ctx.at(n),
        (None, _) => At::new(String::new(), ctx.line(j.id.span().start)),
    };
    Ok(JobDef {
        timeout: ctx.secs(&j.timeout, what)?,
        nodes: ctx.sel(j.nodes),
        id: ctx.at(j.id),
        node,
        fanned: None,
        label: j.label,
        requires: requires(ctx, j.requires),
        requires_all: requires(ctx, j.requires_all),
        critical: j.critical.unwrap_or(true),
        forever: j.forever.unwrap_or(false),
        commands,
    })
}

fn exits(list: &[Exit]) -> Vec<ExitStatus> {
    list.iter()
        .map(|e| match e {
            Exit::Code(c) => ExitStatus::Code(*c),
            Exit::Signal(s) => ExitStatus::from(s.as_str()),
        })
        .collect()
}

fn command(
    ctx: &Ctx<'_>,
    c: &Spanned<model::Command>,
    what: &dyn Fn() -> String,
) -> Result<CommandDef, ScenarioError> {
    let at = c.span().start;
    let m = c.get_ref();
    let kinds: Vec<&str> = [
        m.run.as_ref().map(|_| "run"),
        m.script.as_ref().map(|_| "script"),
        m.string.as_ref().map(|_| "string"),
        m.push.as_ref().map(|_| "push"),
        m.pull.as_ref().map(|_| "pull"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let kind = match kinds.as_slice() {
        [one] => *one,
        [] => {
            return Err(ctx.err(
                at,
                what(),
                "a command needs one of `run`, `script`, `string`, `push`, `pull`",
            ))
        }
        many => {
            return Err(ctx.err(
                at,
                what(),
                format!("a command has exactly one of {}", many.join(", ")),
            ))
        }
    };
    let misplaced = |field: &str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(ctx.err(at, what(), format!("`{field}` does not apply to `{kind}`")))
        }
    };
    misplaced("to", m.to.is_none() || kind == "push")?;
    misplaced("into", m.into.is_none() || kind == "pull")?;
    misplaced(
        "includes",
        m.includes.is_empty() || kind == "script" || kind == "string",
    )?;
    misplaced(
        "allowed_exits",
        m.allowed_exits.is_empty() || !matches!(kind, "push" | "pull"),
    )?;
    misplaced(
        "timeout",
        m.timeout.is_none() || !matches!(kind, "push" | "pull"),
    )?;
    misplaced(
        "args",
        m.args.is_empty() || !matches!(kind, "push" | "pull"),
    )?;
    let timeout = ctx.secs(&m.timeout, what)?;
    let args = m
        .args
        .iter()
        .map(|a| crate::shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let includes: Vec<PathBuf> = m.includes.iter().map(|p| ctx.path(p)).collect();
    let (allowed, label) = (exits(&m.allowed_exits), m.label.clone());
    Ok(match kind {
        "run" => {
            let mut line = m.run.clone().unwrap_or_default();
            if !args.is_empty() {
                line = format!("{line} {args}");
            }
            CommandDef::Run {
                line,
                allowed,
                label,
                timeout,
            }
        }
        "script" => {
            let path = ctx.path(m.script.as_deref().unwrap_or(Path::new("")));
            CommandDef::Script {
                path,
                args,
                includes,
                allowed,
                label,
                timeout,
            }
        }
        "string" => CommandDef::String {
            body: m.string.clone().unwrap_or_default(),
            args,
            includes,
            allowed,
            label,
            timeout,
        },
        "push" => {
            let remote = m
                .to
                .clone()
                .ok_or_else(|| ctx.err(at, what(), "`push` needs `to` (the remote destination)"))?;
            let local = m
                .push
                .as_ref()
                .map(OneOrMany::to_vec)
                .unwrap_or_default()
                .iter()
                .map(|p| ctx.path(p))
                .collect();
            CommandDef::Push {
                local,
                remote,
                label,
            }
        }
        _ => {
            let local = m.into.as_ref().ok_or_else(|| {
                ctx.err(at, what(), "`pull` needs `into` (the local destination)")
            })?;
            CommandDef::Pull {
                remote: m.pull.as_ref().map(OneOrMany::to_vec).unwrap_or_default(),
                local: ctx.path(local),
                label,
            }
        }
    })
}

/// A parse error with its line, and the job / group / node it falls in.
fn locate(text: &str, lines: &LineIndex, file: &Path, e: &toml::de::Error) -> ScenarioError {
    let mut message = e.message().trim().to_string();
    if message.is_empty() {
        message = "invalid TOML".to_string();
    }
    let Some(span) = e.span() else {
        return ScenarioError::new(ErrorKind::Syntax, file, 0, None, message);
    };
    let line = lines.line(span.start);
    let what = toml::from_str::<Loose>(text)
        .ok()
        .and_then(|l| enclosing(&l, span.start));
    ScenarioError::new(ErrorKind::Syntax, file, line, what, message)
}

/// The innermost job, group or node whose table holds `offset`: the one
/// whose table starts last at or before it (a table's span may cover its
/// header only).
fn enclosing(l: &Loose, offset: usize) -> Option<String> {
    fn consider(
        best: &mut Option<(usize, String)>,
        start: usize,
        offset: usize,
        what: impl FnOnce() -> String,
    ) {
        if start <= offset && best.as_ref().is_none_or(|(b, _)| start >= *b) {
            *best = Some((start, what()));
        }
    }
    fn walk(l: &Loose, offset: usize, best: &mut Option<(usize, String)>) {
        let name =
            |v: &Option<toml::Value>| v.as_ref().and_then(|v| v.as_str()).map(str::to_string);
        for j in &l.job {
            consider(best, j.span().start, offset, || {
                match name(&j.get_ref().id) {
                    Some(id) => format!("job `{id}`"),
                    None => "a job".into(),
                }
            });
        }
        for g in &l.group {
            consider(best, g.span().start, offset, || {
                match name(&g.get_ref().id) {
                    Some(id) => format!("group `{id}`"),
                    None => "a group".into(),
                }
            });
            walk(g.get_ref(), offset, best);
        }
        for (id, v) in &l.nodes {
            consider(best, v.span().start, offset, || format!("node `{id}`"));
        }
    }
    let mut best = None;
    walk(l, offset, &mut best);
    best.map(|(_, w)| w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Plan {
        let mut p = Plan::new(Path::new("s.toml"));
        p.base = "/base".into();
        p
    }

    fn parse_ok(text: &str) -> Plan {
        parse(text, empty(), 1000).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse(text, empty(), 1000).unwrap_err().to_string()
    }

    const GOOD: &str = r#"
label = "demo"
window = 2
[nodes.n1]
host = "h1"
[nodes.here]
local = true

[[job]]
id = "a"
node = "n1"
run = "true"

[[group]]
id = "g"
requires = "a"
critical = false
  [[group.job]]
  id = "b"
  node = "here"
  commands = [
    { script = "s.sh", args = ["x y"] },
    { run = "exit 3", allowed_exits = [3, "TERM"], timeout = 2.5 },
  ]

[[job]]
id = "c"
node = "n1"
requires = ["a", "g"]
commands = [{ push = "f", to = "/tmp/" }, { pull = ["/etc/hostname"], into = "out" }]
"#;

    #[test]
    fn a_full_file_reads_into_a_plan() {
        let p = parse_ok(GOOD);
        assert_eq!(
            (p.label.as_deref(), p.window, p.critical),
            (Some("demo"), 2, true)
        );
        assert_eq!(p.nodes.len(), 2);
        let ids: Vec<&str> = p.items.iter().map(|i| i.id().name.as_str()).collect();
        assert_eq!(ids, ["a", "g", "c"]);
        assert_eq!(p.items[0].id().line, 10);
        let Item::Group(g) = &p.items[1] else {
            panic!()
        };
        assert!(!g.critical);
        let Item::Job(b) = &g.items[0] else { panic!() };
        assert_eq!(
            b.commands[0],
            CommandDef::Script {
                path: "/base/s.sh".into(),
                args: "'x y'".into(),
                includes: vec![],
                allowed: vec![],
                label: None,
                timeout: None
            }
        );
        assert!(
            matches!(&b.commands[1], CommandDef::Run { allowed, timeout: Some(t), .. }
            if allowed == &[ExitStatus::Code(3), ExitStatus::Signal("TERM".into())] && t.as_secs_f64() == 2.5)
        );
        let Item::Job(c) = &p.items[2] else { panic!() };
        assert_eq!(
            c.requires
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["a", "g"]
        );
        assert_eq!(
            c.commands[1],
            CommandDef::Pull {
                remote: vec!["/etc/hostname".into()],
                local: "/base/out".into(),
                label: None
            }
        );
        p.check().unwrap();
    }

    #[test]
    fn unknown_fields_name_the_line_and_the_job() {
        let e = parse_err(
            "[nodes.n]\nhost='h'\n[[job]]\nid = \"deploy\"\nnode = \"n\"\ncomand = \"x\"\n",
        );
        assert!(
            e.starts_with("s.toml:6: job `deploy`: unknown field `comand`"),
            "{e}"
        );
    }

    #[test]
    fn errors_inside_groups_name_the_inner_job() {
        let e =
            parse_err("[[group]]\nid='g'\n[[group.job]]\nid='inner'\nnode='n'\ncritical='yes'\n");
        assert!(e.starts_with("s.toml:6: job `inner`:"), "{e}");
    }

    #[test]
    fn bad_node_fields_name_the_node() {
        let e = parse_err("[nodes.web]\nhost='h'\nport=99999\n");
        assert!(e.starts_with("s.toml:3: node `web`:"), "{e}");
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let e = parse_err("[[job]]\nid = 'a'\nnode = \n");
        assert!(e.starts_with("s.toml:3:"), "{e}");
    }

    #[test]
    fn commands_need_exactly_one_kind_and_their_own_fields() {
        let base = "[nodes.n]\nhost='h'\n[[job]]\nid='j'\nnode='n'\n";
        let e = parse_err(&format!("{base}commands = [{{ args = ['x'] }}]\n"));
        assert!(
            e.starts_with("s.toml:6: job `j`: a command needs one of"),
            "{e}"
        );
        let e = parse_err(&format!(
            "{base}commands = [{{ run = 'a', script = 'b' }}]\n"
        ));
        assert!(e.contains("exactly one of run, script"), "{e}");
        let e = parse_err(&format!("{base}commands = [{{ push = 'a' }}]\n"));
        assert!(e.contains("`push` needs `to`"), "{e}");
        let e = parse_err(&format!("{base}commands = [{{ run = 'a', into = 'b' }}]\n"));
        assert!(e.contains("`into` does not apply to `run`"), "{e}");
        let e = parse_err(&format!("{base}timeout = -1\nrun='x'\n"));
        assert!(e.starts_with("s.toml:6: job `j`: bad timeout -1"), "{e}");
    }
}
