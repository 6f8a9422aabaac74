//! Fan-out: a job with `nodes = "fit[01-40]"` becomes one job per node
//! (`id@fit01` ...), `{node}` and the node's fields substituted; the
//! requirements of fanned jobs pair up node by node; `requires_all` (and
//! any requirement of a job that is not fanned) takes every copy. Linear in
//! the jobs and requirements produced, which [`Limits`] bounds.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::error::{ErrorKind, ScenarioError};
use super::limits::Limits;
use super::plan::{At, CommandDef, Item, JobDef, NodeDef, NodeSel, Plan};

struct Ctx<'a> {
    plan_file: PathBuf,
    limits: &'a Limits,
    jobs: usize,
    edges: usize,
}

/// Expands the plan's node sets in place: after this, every job has one node.
pub(crate) fn expand(plan: &mut Plan, limits: &Limits) -> Result<(), ScenarioError> {
    let mut ctx = Ctx {
        plan_file: plan.file.clone(),
        limits,
        jobs: 0,
        edges: 0,
    };
    let mut known: HashSet<String> = plan.nodes.iter().map(|n| n.id.name.clone()).collect();
    let mut implicit = Vec::new();
    let items = std::mem::take(&mut plan.items);
    plan.items = scope(&mut ctx, items, None, &mut known, &mut implicit)?;
    plan.nodes.extend(implicit);
    plan.nodes.sort_by(|a, b| a.id.name.cmp(&b.id.name));
    // `{node}`, `{host}`... in every job
    let by_id: HashMap<&str, &NodeDef> =
        plan.nodes.iter().map(|n| (n.id.name.as_str(), n)).collect();
    let mut items = std::mem::take(&mut plan.items);
    substitute_all(&mut items, &by_id);
    plan.items = items;
    Ok(())
}

fn err(ctx: &Ctx<'_>, line: usize, what: String, kind: ErrorKind, m: String) -> ScenarioError {
    ScenarioError::new(kind, &ctx.plan_file, line, Some(what), m)
}

/// The node names of a selection, each once, in order.
fn names(ctx: &Ctx<'_>, sel: &NodeSel, what: &str) -> Result<Vec<At>, ScenarioError> {
    let patterns: Vec<&At> = match sel {
        NodeSel::Set(a) => vec![a],
        NodeSel::List(v) => v.iter().collect(),
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for p in patterns {
        let list = super::nodeset::expand(&p.name, ctx.limits.max_node_set)
            .map_err(|m| err(ctx, p.line, what.to_string(), ErrorKind::Invalid, m))?;
        for n in list {
            if n.is_empty() {
                return Err(err(
                    ctx,
                    p.line,
                    what.into(),
                    ErrorKind::Invalid,
                    "empty node name in `nodes`".into(),
                ));
            }
            if !seen.insert(n.clone()) {
                return Err(err(
                    ctx,
                    p.line,
                    what.into(),
                    ErrorKind::Invalid,
                    format!("node `{n}` is named twice in `nodes`"),
                ));
            }
            out.push(At::new(n, p.line));
        }
    }
    Ok(out)
}

/// How an item of a scope was expanded: its copies by node (fanned) or itself.
enum Copies {
    One(String),
    /// The copies' (node, id) in order, and the index of each node.
    Fanned(Vec<(String, String)>, HashMap<String, usize>),
}

fn scope(
    ctx: &mut Ctx<'_>,
    items: Vec<Item>,
    inherited: Option<&NodeSel>,
    known: &mut HashSet<String>,
    implicit: &mut Vec<NodeDef>,
) -> Result<Vec<Item>, ScenarioError> {
    let fanned = items.iter().any(|i| {
        matches!(i, Item::Job(j) if j.nodes.is_some() || (j.node.name.is_empty() && inherited.is_some()))
    });
    if !fanned {
        // nothing to pair: the requirements stay as written
        let mut items = items;
        for item in &mut items {
            match item {
                Item::Group(g) => {
                    let sel = g.nodes.take();
                    let inner = std::mem::take(&mut g.items);
                    g.items = scope(ctx, inner, sel.as_ref().or(inherited), known, implicit)?;
                }
                Item::Job(j) => {
                    if j.node.name.is_empty() {
                        return Err(err(
                            ctx,
                            j.id.line,
                            format!("job `{}`", j.id.name),
                            ErrorKind::Invalid,
                            "no node: give `node = \"...\"` or `nodes = \"set[1-4]\"`".into(),
                        ));
                    }
                    ctx.jobs += 1;
                }
            }
            ctx.edges = ctx.edges.saturating_add(item.requires().count());
        }
        if ctx.jobs > ctx.limits.max_jobs || ctx.edges > ctx.limits.max_requirements {
            return Err(ScenarioError::new(
                ErrorKind::Limit,
                &ctx.plan_file,
                0,
                None,
                format!(
                    "more than {} jobs or {} requirements",
                    ctx.limits.max_jobs, ctx.limits.max_requirements
                ),
            ));
        }
        return Ok(items);
    }
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    // for each new item: the original's index, its node if fanned
    // (the node is its position in the original's list of copies)
    let mut origin: Vec<(usize, Option<usize>)> = Vec::with_capacity(items.len());
    let mut copies: HashMap<String, Copies> = HashMap::with_capacity(items.len());
    let mut originals: Vec<(Vec<At>, Vec<At>, String, usize)> = Vec::with_capacity(items.len());
    for (k, item) in items.into_iter().enumerate() {
        match item {
            Item::Group(mut g) => {
                let sel = g.nodes.take();
                let inner = std::mem::take(&mut g.items);
                g.items = scope(ctx, inner, sel.as_ref().or(inherited), known, implicit)?;
                originals.push((
                    std::mem::take(&mut g.requires),
                    std::mem::take(&mut g.requires_all),
                    g.id.name.clone(),
                    g.id.line,
                ));
                copies.insert(g.id.name.clone(), Copies::One(g.id.name.clone()));
                origin.push((k, None));
                out.push(Item::Group(g));
            }
            Item::Job(mut j) => {
                let what = format!("job `{}`", j.id.name);
                originals.push((
                    std::mem::take(&mut j.requires),
                    std::mem::take(&mut j.requires_all),
                    j.id.name.clone(),
                    j.id.line,
                ));
                let sel = match (j.nodes.take(), j.node.name.is_empty()) {
                    (Some(s), _) => Some(s),
                    (None, true) => match inherited {
                        Some(s) => Some(s.clone()),
                        None => {
                            return Err(err(
                                ctx,
                                j.id.line,
                                what,
                                ErrorKind::Invalid,
                                "no node: give `node = \"...\"` or `nodes = \"set[1-4]\"`".into(),
                            ))
                        }
                    },
                    (None, false) => None,
                };
                let Some(sel) = sel else {
                    ctx.jobs += 1;
                    copies.insert(j.id.name.clone(), Copies::One(j.id.name.clone()));
                    origin.push((k, None));
                    out.push(Item::Job(j));
                    continue;
                };
                let nodes = names(ctx, &sel, &what)?;
                ctx.jobs = ctx.jobs.saturating_add(nodes.len());
                if ctx.jobs > ctx.limits.max_jobs {
                    return Err(err(
                        ctx,
                        j.id.line,
                        what,
                        ErrorKind::Limit,
                        format!(
                            "more than {} jobs once node sets are expanded",
                            ctx.limits.max_jobs
                        ),
                    ));
                }
                let mut list = Vec::with_capacity(nodes.len());
                for (position, n) in nodes.into_iter().enumerate() {
                    if !known.contains(&n.name) {
                        // not in the file: a host of ssh_config
                        known.insert(n.name.clone());
                        let mut def = NodeDef::remote(n.clone(), n.name.clone());
                        def.implicit = true;
                        implicit.push(def);
                    }
                    let id = format!("{}@{}", j.id.name, n.name);
                    list.push((n.name.clone(), id.clone()));
                    let mut copy = j.clone();
                    copy.id = At::new(id, j.id.line);
                    copy.fanned = Some((j.id.name.clone(), n.name.clone()));
                    copy.node = n;
                    origin.push((k, Some(position)));
                    out.push(Item::Job(copy));
                }
                let by_node = list
                    .iter()
                    .enumerate()
                    .map(|(i, (n, _))| (n.clone(), i))
                    .collect();
                copies.insert(j.id.name.clone(), Copies::Fanned(list, by_node));
            }
        }
    }
    // requirements, now that every copy has its id
    for (item, (k, node)) in out.iter_mut().zip(origin) {
        let (reqs, all, id, _) = &originals[k];
        let what = || format!("{} `{}`", item.what(), id);
        let node: Option<&str> = match (node, copies.get(id)) {
            (Some(position), Some(Copies::Fanned(list, _))) => {
                list.get(position).map(|(n, _)| n.as_str())
            }
            _ => None,
        };
        let mut pairwise = Vec::new();
        let mut every = Vec::new();
        for r in reqs {
            match copies.get(&r.name) {
                None => pairwise.push(r.clone()),
                Some(Copies::One(one)) => pairwise.push(At::new(one.clone(), r.line)),
                Some(Copies::Fanned(list, by_node)) => match node {
                    // node by node
                    Some(n) => match by_node.get(n).and_then(|&i| list.get(i)) {
                        Some((_, rid)) => pairwise.push(At::new(rid.clone(), r.line)),
                        None => {
                            return Err(err(
                                ctx,
                                r.line,
                                what(),
                                ErrorKind::Invalid,
                                format!(
                                    "`{}` does not run on `{n}`: requirements between fanned jobs pair node by node \
                                     (use `requires_all` to wait for every copy)",
                                    r.name
                                ),
                            ))
                        }
                    },
                    None => every.extend(list.iter().map(|(_, rid)| At::new(rid.clone(), r.line))),
                },
            }
        }
        for r in all {
            match copies.get(&r.name) {
                None => every.push(r.clone()),
                Some(Copies::One(one)) => every.push(At::new(one.clone(), r.line)),
                Some(Copies::Fanned(list, _)) => {
                    every.extend(list.iter().map(|(_, rid)| At::new(rid.clone(), r.line)))
                }
            }
        }
        ctx.edges = ctx.edges.saturating_add(pairwise.len() + every.len());
        if ctx.edges > ctx.limits.max_requirements {
            return Err(err(
                ctx,
                item.id().line,
                what(),
                ErrorKind::Limit,
                format!(
                    "more than {} requirements once node sets are expanded",
                    ctx.limits.max_requirements
                ),
            ));
        }
        match item {
            Item::Job(j) => {
                j.requires = pairwise;
                j.requires_all = every;
            }
            Item::Group(g) => {
                g.requires = pairwise;
                g.requires_all = every;
            }
        }
    }
    Ok(out)
}

/// `{name}` → its value, for the names `value` knows; anything else (shell
/// braces, `${VAR}`...) is left as written.
pub(crate) fn substitute<'s>(s: &'s str, value: &dyn Fn(&str) -> Option<String>) -> Cow<'s, str> {
    if !s.contains('{') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            if let Some(v) = value(&after[..name_len]) {
                out.push_str(&v);
                rest = &after[name_len + 1..];
                changed = true;
                continue;
            }
        }
        out.push('{');
        rest = after;
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

fn substitute_all(items: &mut [Item], nodes: &HashMap<&str, &NodeDef>) {
    for item in items {
        match item {
            Item::Group(g) => substitute_all(&mut g.items, nodes),
            Item::Job(j) => {
                let Some(n) = nodes.get(j.node.name.as_str()) else {
                    continue;
                };
                let value = |name: &str| -> Option<String> {
                    match name {
                        "node" => Some(n.id.name.clone()),
                        "host" => n.host.clone(),
                        "user" => n.user.clone(),
                        "port" => n.port.map(|p| p.to_string()),
                        other => n.vars.get(other).cloned(),
                    }
                };
                substitute_job(j, &value);
            }
        }
    }
}

fn substitute_job(j: &mut JobDef, value: &dyn Fn(&str) -> Option<String>) {
    let s = |t: &mut String| {
        if let Cow::Owned(o) = substitute(t, value) {
            *t = o;
        }
    };
    let p = |t: &mut PathBuf| {
        if let Some(text) = t.to_str() {
            if let Cow::Owned(o) = substitute(text, value) {
                *t = PathBuf::from(o);
            }
        }
    };
    if let Some(l) = &mut j.label {
        s(l);
    }
    for c in &mut j.commands {
        match c {
            CommandDef::Run { line, label, .. } => {
                s(line);
                label.iter_mut().for_each(s);
            }
            CommandDef::Script {
                path,
                args,
                includes,
                label,
                ..
            } => {
                p(path);
                s(args);
                includes.iter_mut().for_each(p);
                label.iter_mut().for_each(s);
            }
            CommandDef::String {
                body,
                args,
                includes,
                label,
                ..
            } => {
                s(body);
                s(args);
                includes.iter_mut().for_each(p);
                label.iter_mut().for_each(s);
            }
            CommandDef::Push {
                local,
                remote,
                label,
            } => {
                local.iter_mut().for_each(p);
                s(remote);
                label.iter_mut().for_each(s);
            }
            CommandDef::Pull {
                remote,
                local,
                label,
            } => {
                remote.iter_mut().for_each(s);
                p(local);
                label.iter_mut().for_each(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::substitute;

    #[test]
    fn only_known_names_in_braces_are_substituted() {
        let v = |n: &str| match n {
            "node" => Some("fit01".to_string()),
            "rack" => Some("r2".to_string()),
            _ => None,
        };
        assert_eq!(
            substitute("run on {node} in {rack}", &v),
            "run on fit01 in r2"
        );
        assert_eq!(
            substitute("awk '{print $1}' ${HOME} {a,b} {other} {node", &v),
            "awk '{print $1}' ${HOME} {a,b} {other} {node"
        );
        assert_eq!(substitute("{{node}}", &v), "{fit01}");
        assert!(matches!(
            substitute("plain", &v),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
