//! Writes a [`Snapshot`] as dot with dot-writer, in the reference's structure:
//! one rounded box per job labelled `{id}: {label}`, an edge from each
//! required job to the job requiring it, a `cluster_{id}` per nested scheduler.

use std::collections::HashMap;

use asyncjobs_core::{JobView, Snapshot};
use dot_writer::{Attributes, DotWriter, Scope};

use crate::anchor::{anchor, placeholder_id, Side};
use crate::escape::{escape, truncate};
use crate::fold::{error_line, fold, id_set, node_set, template, Folding};
use crate::options::DotOptions;
use crate::outcome::Outcome;

/// Longest error line added to a label, in characters; the tooltip has it all.
const LABEL_ERROR_MAX: usize = 60;
/// Longest tooltip, in characters.
const TOOLTIP_MAX: usize = 1000;
/// Longest line of details under a label, in characters.
const DETAIL_LINE_MAX: usize = 60;

/// Renders a snapshot as dot text; see [`dot_format_with`](crate::dot_format_with).
///
/// Infallible: any snapshot can be drawn, including made-up ones (see
/// [`JobView::new`]). Requirements on ids absent from the snapshot are drawn as
/// plain nodes, as dot does.
pub fn snapshot_to_dot(snap: &Snapshot, opts: &DotOptions) -> String {
    let mut node_of = HashMap::new();
    fold_tree(snap, opts, &mut node_of);
    let mut ctx = Ctx {
        opts,
        clusters: Vec::new(),
        node_of,
    };
    let mut bytes = Vec::new();
    {
        let mut writer = DotWriter::from(&mut bytes);
        writer.set_pretty_print(true);
        let mut graph = writer.digraph();
        graph.set("compound", "true", false);
        ctx.write_jobs(&mut graph, snap);
        if opts.outcome_colors && opts.legend {
            write_legend(&mut graph, snap);
        }
    }
    name_graph_and_clusters(&String::from_utf8_lossy(&bytes), &ctx.clusters)
}

/// Records, for every job of the tree, the id of the node drawing it (its
/// own, or that of the first job of its folded box).
fn fold_tree(snap: &Snapshot, opts: &DotOptions, node_of: &mut HashMap<usize, usize>) {
    let folding = fold(snap, opts);
    for (i, job) in snap.jobs.iter().enumerate() {
        node_of.insert(job.id, folding.node_id(snap, i));
        if let Some(inner) = &job.nested {
            fold_tree(inner, opts, node_of);
        }
    }
}

struct Ctx<'o> {
    opts: &'o DotOptions,
    /// Names of the clusters, in the order dot-writer opened them.
    clusters: Vec<String>,
    /// Job id -> id of the node that draws it (see [`fold_tree`]).
    node_of: HashMap<usize, usize>,
}

/// One end of an edge within a level: a unit (index), or an id absent from it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum End {
    Unit(usize),
    Outside(usize),
}

impl Ctx<'_> {
    fn write_jobs(&mut self, scope: &mut Scope<'_, '_>, snap: &Snapshot) {
        let folding = fold(snap, self.opts);
        let index: HashMap<usize, usize> = snap
            .jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.id, i))
            .collect();
        let end = |id: &usize| match index.get(id) {
            Some(&i) => End::Unit(folding.unit_of[i]),
            None => End::Outside(*id),
        };
        // how many job edges each drawn edge stands for
        let mut counts: HashMap<(End, usize), usize> = HashMap::new();
        for (i, job) in snap.jobs.iter().enumerate() {
            for req in &job.requires {
                *counts.entry((end(req), folding.unit_of[i])).or_default() += 1;
            }
        }
        let columns = stack_lone(snap, &folding, &counts, self.opts.row_max);
        let mut drawn: std::collections::HashSet<(End, usize)> = Default::default();
        for (i, job) in snap.jobs.iter().enumerate() {
            let unit = folding.unit_of[i];
            let members = &folding.units[unit];
            if members[0] == i {
                match &job.nested {
                    Some(inner) => self.write_cluster(scope, job, inner),
                    None if members.len() == 1 => self.write_node(scope, job),
                    None => {
                        let jobs: Vec<&JobView> = members.iter().map(|&m| &snap.jobs[m]).collect();
                        self.write_folded(scope, &jobs);
                    }
                }
            }
            for req in &job.requires {
                let key = (end(req), unit);
                if !drawn.insert(key) {
                    continue;
                }
                let (tail, ltail) = match key.0 {
                    End::Unit(u) => {
                        let first = &snap.jobs[folding.units[u][0]];
                        match &first.nested {
                            Some(inner) => {
                                (self.anchor(first.id, inner, Side::Exit), Some(first.id))
                            }
                            None => (first.id.to_string(), None),
                        }
                    }
                    End::Outside(id) => (id.to_string(), None),
                };
                let first = &snap.jobs[members[0]];
                let (head, lhead) = match &first.nested {
                    Some(inner) => (self.anchor(first.id, inner, Side::Entry), Some(first.id)),
                    None => (first.id.to_string(), None),
                };
                let label = match key.0 {
                    End::Unit(u) => fan_label(folding.units[u].len(), members.len(), counts[&key]),
                    End::Outside(_) => None,
                };
                let edge = scope.edge(&tail, &head);
                if lhead.is_some() || ltail.is_some() || label.is_some() {
                    let mut attrs = edge.attributes();
                    if let Some(id) = lhead {
                        attrs.set("lhead", &cluster_name(id), true);
                    }
                    if let Some(id) = ltail {
                        attrs.set("ltail", &cluster_name(id), true);
                    }
                    if lhead.is_some() || ltail.is_some() {
                        // clipped at the cluster's border, a one-rank edge would be a stub
                        attrs.set("minlen", "2", true);
                    }
                    if let Some(text) = label {
                        attrs
                            .set("label", &text, true)
                            .set("fontsize", "9", true)
                            .set("fontcolor", "gray30", true);
                    }
                }
            }
        }
        // lone jobs beyond a row's worth, stacked in columns by invisible edges
        for (above, below) in columns {
            let id = |u: usize| snap.jobs[folding.units[u][0]].id.to_string();
            scope
                .edge(id(above), id(below))
                .attributes()
                .set("style", "invis", true);
        }
    }

    /// The node an edge into (out of) nested scheduler `owner` attaches to.
    fn anchor(&self, owner: usize, inner: &Snapshot, side: Side) -> String {
        let id = anchor(owner, inner, side);
        match id.parse::<usize>().ok().and_then(|i| self.node_of.get(&i)) {
            Some(node) => node.to_string(),
            None => id,
        }
    }

    fn write_node(&mut self, scope: &mut Scope<'_, '_>, job: &JobView) {
        let outcome = self.opts.outcome_colors.then(|| Outcome::of(job));
        let mut node = scope.node_named(job.id.to_string());
        node.set(
            "style",
            &style("rounded", job.forever, outcome.is_some()),
            true,
        )
        .set("label", &self.label(job), true)
        .set("shape", "box", true);
        border(&mut *node, job.critical);
        if let Some(o) = outcome {
            node.set("fillcolor", o.fill(), true).set(
                "tooltip",
                &escape(&truncate(&tooltip(job, o), TOOLTIP_MAX)),
                true,
            );
        }
    }

    /// One box for alike jobs on several targets (see [`fold`]), drawn as a
    /// stack (a double border), named after the first one.
    fn write_folded(&mut self, scope: &mut Scope<'_, '_>, jobs: &[&JobView]) {
        let first = jobs[0];
        let outcome = self.opts.outcome_colors.then(|| Outcome::of(first));
        let mut node = scope.node_named(first.id.to_string());
        node.set(
            "style",
            &style("rounded", first.forever, outcome.is_some()),
            true,
        )
        .set("label", &self.folded_label(jobs), true)
        .set("shape", "box", true)
        .set("peripheries", "2", true);
        border(&mut *node, first.critical);
        if let Some(o) = outcome {
            let targets: Vec<&str> = jobs.iter().filter_map(|j| j.target.as_deref()).collect();
            let text = format!(
                "{} jobs, on {}: {}",
                jobs.len(),
                targets.join(", "),
                tooltip(first, o)
            );
            node.set("fillcolor", o.fill(), true).set(
                "tooltip",
                &escape(&truncate(&text, TOOLTIP_MAX)),
                true,
            );
        }
    }

    fn write_cluster(&mut self, scope: &mut Scope<'_, '_>, job: &JobView, inner: &Snapshot) {
        let outcome = self.opts.outcome_colors.then(|| Outcome::of(job));
        let mut cluster = scope.cluster();
        self.clusters.push(cluster_name(job.id));
        {
            let mut attrs = cluster.graph_attributes();
            attrs
                .set(
                    "style",
                    &style("rounded", job.forever, outcome.is_some()),
                    true,
                )
                .set("label", &self.label(job), true);
            border(&mut attrs, job.critical);
            if let Some(o) = outcome {
                attrs.set("fillcolor", o.cluster_fill(), true).set(
                    "tooltip",
                    &escape(&truncate(&tooltip(job, o), TOOLTIP_MAX)),
                    true,
                );
            }
        }
        if inner.jobs.is_empty() {
            // a cluster needs a node to be drawn, and edges need one to attach to
            cluster
                .node_named(placeholder_id(job.id))
                .set("shape", "plaintext", true)
                .set("label", "(empty)", true)
                .set("fontcolor", "gray40", true);
        } else {
            self.write_jobs(&mut cluster, inner);
        }
    }

    /// `{id}: {label}`, then where it runs and its graph details — or, as in
    /// the reference, the job's graph label alone when it has one — and, after
    /// a run, its error in one line (a failed command: exit status and the
    /// last line of stderr).
    fn label(&self, job: &JobView) -> String {
        let mut text = match &job.graph_label {
            Some(graph) => graph.clone(),
            None => format!("{}: {}", job.id, job.label),
        };
        if self.opts.details && job.graph_label.is_none() {
            if let Some(target) = job.target.as_deref().filter(|t| !job.label.contains(t)) {
                text.push('\n');
                text.push_str(target);
            }
            push_details(&mut text, job.graph_details.as_deref());
        }
        if self.opts.outcome_colors {
            if let Some(line) = error_line(job) {
                text.push('\n');
                text.push_str(&truncate(&line, LABEL_ERROR_MAX));
            }
        }
        escape(&text)
    }

    /// A folded box: ids, the shared label with `{node}` for the target and
    /// the count, the node set, the shared details and error.
    fn folded_label(&self, jobs: &[&JobView]) -> String {
        let first = jobs[0];
        let target = first.target.as_deref();
        let mut text = match &first.graph_label {
            Some(graph) => template(graph, target),
            None => {
                let ids: Vec<usize> = jobs.iter().map(|j| j.id).collect();
                format!("{}: {}", id_set(&ids), template(&first.label, target))
            }
        };
        text.push_str(&format!(" ×{}", jobs.len()));
        let targets: Vec<&str> = jobs.iter().filter_map(|j| j.target.as_deref()).collect();
        text.push('\n');
        text.push_str(&node_set(&targets));
        if self.opts.details && first.graph_label.is_none() {
            let details = first.graph_details.as_deref().map(|d| template(d, target));
            push_details(&mut text, details.as_deref());
        }
        if self.opts.outcome_colors {
            if let Some(line) = error_line(first) {
                text.push('\n');
                text.push_str(&truncate(&template(&line, target), LABEL_ERROR_MAX));
            }
        }
        escape(&text)
    }
}

/// Appends the details' lines, each cut to [`DETAIL_LINE_MAX`].
fn push_details(text: &mut String, details: Option<&str>) {
    if let Some(details) = details.map(str::trim_end).filter(|d| !d.is_empty()) {
        for line in details.lines() {
            text.push('\n');
            text.push_str(&truncate(line, DETAIL_LINE_MAX));
        }
    }
}

/// Pairs of lone boxes (no requirement, no dependent, not a nested
/// scheduler) to stack one above the other with invisible edges, so that
/// more than `row_max` of them come `row_max` to a row.
///
/// Only lone boxes: rows of boxes hanging from one box, as graphviz's
/// `unflatten` makes them, come out wider than the star they replace (dot
/// routes each long edge through the rows above, as a staircase); folding is
/// what keeps fan-outs narrow.
fn stack_lone(
    snap: &Snapshot,
    folding: &Folding,
    counts: &HashMap<(End, usize), usize>,
    row_max: usize,
) -> Vec<(usize, usize)> {
    let mut linked = vec![false; folding.units.len()];
    for &(tail, head) in counts.keys() {
        linked[head] = true;
        if let End::Unit(t) = tail {
            linked[t] = true;
        }
    }
    let lone: Vec<usize> = (0..folding.units.len())
        .filter(|&u| !linked[u] && snap.jobs[folding.units[u][0]].nested.is_none())
        .collect();
    if row_max == 0 || lone.len() <= row_max {
        return Vec::new();
    }
    lone.iter()
        .zip(&lone[row_max..])
        .map(|(&a, &b)| (a, b))
        .collect()
}

/// The label of an edge between two folded boxes: `1:1` when it pairs their
/// jobs one by one, `all` when each requires all; none when one side is a
/// single job (the picture says it all).
fn fan_label(tails: usize, heads: usize, edges: usize) -> Option<String> {
    if tails < 2 || heads < 2 {
        None
    } else if edges == tails && tails == heads {
        Some("1:1".into())
    } else if edges == tails * heads {
        Some("all".into())
    } else {
        Some(format!("{edges} edges"))
    }
}

/// The outcomes present, one small coloured line each, in one plain node: a
/// key that stays smaller than the graph it explains.
fn write_legend(scope: &mut Scope<'_, '_>, snap: &Snapshot) {
    let present: std::collections::HashSet<Outcome> =
        snap.walk().iter().map(|(_, j)| Outcome::of(j)).collect();
    let rows: String = Outcome::ALL
        .into_iter()
        .filter(|o| present.contains(o))
        .map(|o| format!(r#"<TR><TD BGCOLOR="{}">{}</TD></TR>"#, o.fill(), o.text()))
        .collect();
    if rows.is_empty() {
        return;
    }
    scope
        .node_named("legend")
        .set("shape", "plaintext", true)
        .set("margin", "0", true)
        .set("width", "0", true)
        .set("height", "0", true)
        .set("fontsize", "9", true)
        .set("fontcolor", "gray30", true)
        .set(
            "label",
            &format!(
                r#"<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2">{rows}</TABLE>>"#
            ),
            false,
        );
}

/// The reference's borders: thick red when critical, thin black otherwise.
fn border<A: Attributes>(attrs: &mut A, critical: bool) {
    if critical {
        attrs.set("color", "red", true).set("penwidth", "2", true);
    } else {
        attrs.set("penwidth", "0.5", true);
    }
}

fn style(base: &str, forever: bool, filled: bool) -> String {
    let mut s = base.to_string();
    if forever {
        s.push_str(",dashed");
    }
    if filled {
        s.push_str(",filled");
    }
    s
}

fn tooltip(job: &JobView, outcome: Outcome) -> String {
    let text = match (outcome, &job.error, &job.result) {
        (Outcome::Raised, Some(e), _) => {
            let crit = if job.critical { " (critical job)" } else { "" };
            format!("raised {}: {e}{crit}", e.kind())
        }
        _ if job.result.as_deref() == Some("false") && job.nested.is_some() => {
            let why = job.nested.as_ref().map_or("", |n| n.why.as_str());
            format!("returned false: {why}")
        }
        (Outcome::Succeeded, _, Some(result)) => format!("succeeded: {result}"),
        (o, _, _) => o.text().to_string(),
    };
    text
}

fn cluster_name(id: usize) -> String {
    format!("cluster_{id}")
}

/// dot-writer writes `digraph {` and numbers clusters `cluster_0, cluster_1…` in
/// the order they are opened; this names the graph `asynciojobs` and gives the
/// clusters the names edges refer to. Only whole lines that dot-writer wrote as
/// headers are rewritten: quoted values never contain a raw line break.
fn name_graph_and_clusters(text: &str, clusters: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 16 * (clusters.len() + 1));
    let mut next = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let header = line.trim();
        if n == 0 && header == "digraph {" {
            out.push_str(&line.replacen("digraph {", "digraph asynciojobs {", 1));
            continue;
        }
        if let Some(name) = clusters.get(next) {
            let numbered = format!("subgraph cluster_{next} {{");
            if header == numbered {
                out.push_str(&line.replacen(&numbered, &format!("subgraph {name} {{"), 1));
                next += 1;
                continue;
            }
        }
        out.push_str(line);
    }
    out
}
