//! Writes a [`Snapshot`] as dot with dot-writer, in the reference's structure:
//! one rounded box per job labelled `{id}: {label}`, an edge from each
//! required job to the job requiring it, a `cluster_{id}` per nested scheduler.

use std::collections::HashMap;

use asyncjobs_core::{JobView, Snapshot};
use dot_writer::{Attributes, DotWriter, Scope};

use crate::anchor::{anchor, placeholder_id, Side};
use crate::escape::{escape, truncate};
use crate::options::DotOptions;
use crate::outcome::Outcome;

/// Longest error line added to a label, in characters; the tooltip has it all.
const LABEL_ERROR_MAX: usize = 60;
/// Longest tooltip, in characters.
const TOOLTIP_MAX: usize = 1000;
/// Boxes per row of the legend: a compact block beside the graph.
const LEGEND_COLUMNS: usize = 2;

/// Renders a snapshot as dot text; see [`dot_format_with`](crate::dot_format_with).
///
/// Infallible: any snapshot can be drawn, including made-up ones (see
/// [`JobView::new`]). Requirements on ids absent from the snapshot are drawn as
/// plain nodes, as dot does.
pub fn snapshot_to_dot(snap: &Snapshot, opts: &DotOptions) -> String {
    let mut ctx = Ctx {
        opts,
        clusters: Vec::new(),
    };
    let mut bytes = Vec::new();
    {
        let mut writer = DotWriter::from(&mut bytes);
        writer.set_pretty_print(true);
        let mut graph = writer.digraph();
        graph.set("compound", "true", false);
        ctx.write_jobs(&mut graph, snap);
        if opts.outcome_colors && opts.legend {
            ctx.write_legend(&mut graph, snap);
        }
    }
    name_graph_and_clusters(&String::from_utf8_lossy(&bytes), &ctx.clusters)
}

struct Ctx<'o> {
    opts: &'o DotOptions,
    /// Names of the clusters, in the order dot-writer opened them.
    clusters: Vec<String>,
}

impl Ctx<'_> {
    fn write_jobs(&mut self, scope: &mut Scope<'_, '_>, snap: &Snapshot) {
        let by_id: HashMap<usize, &JobView> = snap.jobs.iter().map(|j| (j.id, j)).collect();
        for job in &snap.jobs {
            match &job.nested {
                Some(inner) => self.write_cluster(scope, job, inner),
                None => self.write_node(scope, job),
            }
            for req in &job.requires {
                let (tail, ltail) = match by_id.get(req).and_then(|r| r.nested.as_ref()) {
                    Some(inner) => (anchor(*req, inner, Side::Exit), Some(*req)),
                    None => (req.to_string(), None),
                };
                let (head, lhead) = match &job.nested {
                    Some(inner) => (anchor(job.id, inner, Side::Entry), Some(job.id)),
                    None => (job.id.to_string(), None),
                };
                let edge = scope.edge(&tail, &head);
                if lhead.is_some() || ltail.is_some() {
                    let mut attrs = edge.attributes();
                    if let Some(id) = lhead {
                        attrs.set("lhead", &cluster_name(id), true);
                    }
                    if let Some(id) = ltail {
                        attrs.set("ltail", &cluster_name(id), true);
                    }
                    // clipped at the cluster's border, a one-rank edge would be a stub
                    attrs.set("minlen", "2", true);
                }
            }
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
            node.set("fillcolor", o.fill(), true)
                .set("tooltip", &tooltip(job, o), true);
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
                    &tooltip(job, o),
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

    /// A cluster with one sample box per outcome, two per row, in reading order.
    fn write_legend(&mut self, scope: &mut Scope<'_, '_>, snap: &Snapshot) {
        let running = snap
            .walk()
            .iter()
            .any(|(_, j)| Outcome::of(j) == Outcome::Running);
        let shown: Vec<Outcome> = Outcome::ALL
            .into_iter()
            .filter(|&o| o != Outcome::Running || running)
            .collect();
        let mut legend = scope.cluster();
        self.clusters.push("cluster_legend".into());
        legend
            .graph_attributes()
            .set("label", "outcome", true)
            .set("style", "rounded", true)
            .set("color", "gray60", true)
            .set("fontcolor", "gray30", true);
        let ids: Vec<String> = shown
            .iter()
            .map(|o| format!("legend_{}", o.key()))
            .collect();
        for (o, id) in shown.iter().zip(&ids) {
            legend
                .node_named(id.clone())
                .set("style", "rounded,filled", true)
                .set("label", o.text(), true)
                .set("shape", "box", true)
                .set("penwidth", "0.5", true)
                .set("fillcolor", o.fill(), true);
        }
        // invisible edges: down the columns make the rows, along a row keep its order
        let rows: Vec<&[String]> = ids.chunks(LEGEND_COLUMNS).collect();
        for pair in rows.windows(2) {
            for (above, below) in pair[0].iter().zip(pair[1]) {
                legend
                    .edge(above, below)
                    .attributes()
                    .set("style", "invis", true);
            }
        }
        for row in rows.iter().filter(|r| r.len() > 1) {
            let mut same = legend.subgraph();
            same.set("rank", "same", true);
            if let Some(edges) = same.edges(row.iter()) {
                edges.attributes().set("style", "invis", true);
            };
        }
    }

    /// `{id}: {label}`, then the details — or, as in the reference, the job's
    /// graph label alone when it has one — and, after a run, the error's first line.
    fn label(&self, job: &JobView) -> String {
        let mut text = match &job.graph_label {
            Some(graph) => graph.clone(),
            None => format!("{}: {}", job.id, job.label),
        };
        if self.opts.details && job.graph_label.is_none() {
            if let Some(details) = job
                .details
                .as_deref()
                .map(str::trim_end)
                .filter(|d| !d.is_empty())
            {
                text.push('\n');
                text.push_str(details);
            }
        }
        if self.opts.outcome_colors {
            if let Some(e) = &job.error {
                let message = e.to_string();
                let first = message.lines().next().unwrap_or_default();
                text.push('\n');
                text.push_str(&truncate(
                    &format!("{}: {first}", e.kind()),
                    LABEL_ERROR_MAX,
                ));
            }
        }
        escape(&text)
    }
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
    escape(&truncate(&text, TOOLTIP_MAX))
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
