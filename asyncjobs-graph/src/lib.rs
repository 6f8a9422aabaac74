//! # asyncjobs-graph
//!
//! Graphviz pictures of [`asyncjobs_core`] schedulers, in the reference
//! (asynciojobs) style, plus outcome colours after a run.
//!
//! - one rounded box per job, labelled `{id}: {label}` (or with the job's
//!   graph label alone, when it has one: `Job::graph_label`); an edge from each
//!   required job to the job that requires it;
//! - critical jobs and schedulers have a thick red border, others a thin black one;
//! - forever jobs and schedulers have a dashed border;
//! - a nested scheduler is a cluster holding its jobs; edges into (out of) it
//!   attach to its middle entry (exit) job and are clipped at its border.
//!
//! - under the label, where the job runs (an ssh job: its node's name, never
//!   the `user@gateway->user@host` chain) and its graph details (commands);
//! - fan-outs are folded: alike jobs that differ only by where they run, with
//!   the same requirements' shape, are one box (double border) with their count
//!   and node set (`deploy ×40` / `fit[01-40]`), and edges between two such
//!   boxes say `1:1` (node by node) or `all`; so 40 hosts draw as small as 10
//!   ([`DotOptions::fold_at`]).
//!
//! With [`DotOptions::outcomes`], jobs are filled by [`Outcome`] (succeeded,
//! raised an error, cancelled or timed out, never ran), the jobs that raised
//! show their error in one line (a failed command: its exit status and the
//! last line of its stderr, see `JobError::brief`), and a small legend lists
//! the outcomes present.
//!
//! Output is deterministic: jobs come in listing order, numbered as listings
//! number them, so the same scheduler gives the same bytes. [`Graphviz`] runs
//! graphviz's `dot` to make PNG or SVG images.
#![warn(missing_docs)]

mod anchor;
mod dot;
mod error;
mod escape;
pub mod examples;
mod fold;
mod options;
mod outcome;
mod render;

use std::path::Path;

use asyncjobs_core::Scheduler;

pub use dot::snapshot_to_dot;
pub use error::{GraphError, INSTALL_GRAPHVIZ};
pub use escape::escape;
pub use options::DotOptions;
pub use outcome::Outcome;
pub use render::{Format, Graphviz};

/// The scheduler in dot format, as the reference draws it.
///
/// An error only when the scheduler cannot be put in order (a cycle, or a
/// requirement on a job of another scheduler).
///
/// ```
/// use asyncjobs_core::{Job, Scheduler};
/// use asyncjobs_graph::dot_format;
///
/// let mut s = Scheduler::new();
/// let b1 = s.add(Job::ok(async { 1 }).label("b1"));
/// s.add(Job::ok(async { 2 }).label("b2").requires(&b1).critical(false));
/// let dot = dot_format(&s)?;
/// assert!(dot.starts_with("digraph asynciojobs {"));
/// assert!(dot.contains(r#"1 [style="rounded", label="1: b1", shape="box", color="red", penwidth="2"];"#));
/// assert!(dot.contains(r#"2 [style="rounded", label="2: b2", shape="box", penwidth="0.5"];"#));
/// assert!(dot.contains("1 -> 2;"));
/// # Ok::<(), asyncjobs_graph::GraphError>(())
/// ```
pub fn dot_format(s: &Scheduler) -> Result<String, GraphError> {
    dot_format_with(s, &DotOptions::default())
}

/// [`dot_format`] with options, e.g. outcome colours after a run:
///
/// ```
/// use asyncjobs_core::{Job, JobError, Scheduler};
/// use asyncjobs_graph::{dot_format_with, DotOptions, Outcome};
///
/// let mut s = Scheduler::new().critical(false);
/// s.add(Job::new(async { Err::<(), _>(JobError::msg("no luck")) }).label("boom"));
/// s.run()?;
/// let dot = dot_format_with(&s, &DotOptions::outcomes())?;
/// assert!(dot.contains(Outcome::Raised.fill()));
/// assert!(dot.contains(r#"label="1: boom\nError: no luck""#));
/// assert!(dot.contains(r#"legend [shape="plaintext""#)); // the outcomes present
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn dot_format_with(s: &Scheduler, opts: &DotOptions) -> Result<String, GraphError> {
    Ok(snapshot_to_dot(&s.snapshot()?, opts))
}

/// Writes [`dot_format`] into `path`; returns `(Over)wrote {path}` as the reference does.
pub fn export_as_dotfile(s: &Scheduler, path: impl AsRef<Path>) -> Result<String, GraphError> {
    export_as_dotfile_with(s, path, &DotOptions::default())
}

/// Writes [`dot_format_with`] into `path`; returns `(Over)wrote {path}`.
pub fn export_as_dotfile_with(
    s: &Scheduler,
    path: impl AsRef<Path>,
    opts: &DotOptions,
) -> Result<String, GraphError> {
    let path = path.as_ref();
    let dot = dot_format_with(s, opts)?;
    std::fs::write(path, dot).map_err(|error| GraphError::Write {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(format!("(Over)wrote {}", path.display()))
}
