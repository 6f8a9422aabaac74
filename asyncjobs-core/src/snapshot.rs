//! [`Snapshot`]: one read-only walk of a scheduler in listing order, with ids,
//! shared by listings here and by the dot export of `asyncjobs-graph`.

use crate::error::{JobError, SchedulerError};
use crate::handle::JobState;
use crate::nested::with_nested;
use crate::scheduler::Scheduler;

/// A picture of a scheduler and its nested schedulers, jobs in listing
/// (topological) order, numbered depth-first from 1 as the reference does.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The scheduler's label.
    pub label: String,
    /// Whether the scheduler is critical.
    pub critical: bool,
    /// Whether the scheduler, as a nested job, is forever.
    pub forever: bool,
    /// [`Scheduler::why`] at the time of the snapshot.
    pub why: String,
    /// The jobs, in listing order.
    pub jobs: Vec<JobView>,
}

/// One job of a [`Snapshot`].
#[derive(Debug, Clone)]
pub struct JobView {
    /// 1-based id, unique across the whole tree of schedulers.
    pub id: usize,
    /// Kind shown in `<Kind `label`>`: `Job`, `Scheduler`, `SshJob`…
    pub kind: String,
    /// The label.
    pub label: String,
    /// The label graphs draw instead of `{id}: {label}`, if the job has one
    /// ([`Job::graph_label`](crate::Job::graph_label)).
    pub graph_label: Option<String>,
    /// Critical flag.
    pub critical: bool,
    /// Forever flag.
    pub forever: bool,
    /// Lifecycle state.
    pub state: JobState,
    /// The error the job failed with.
    pub error: Option<JobError>,
    /// The result as listings show it, once done without error: a string as
    /// its text, another type through `Debug` unless the job chose otherwise
    /// ([`Job::display_result`](crate::Job::display_result)).
    pub result: Option<String>,
    /// Ids of the required jobs (same scheduler), ascending, no duplicates.
    pub requires: Vec<usize>,
    /// Extra lines from [`AbstractJob::details`](crate::AbstractJob::details).
    pub details: Option<String>,
    /// The lines graphs draw under the label, from
    /// [`AbstractJob::graph_details`](crate::AbstractJob::graph_details)
    /// (by default the details).
    pub graph_details: Option<String>,
    /// Where the job runs, from [`AbstractJob::graph_target`](crate::AbstractJob::graph_target).
    pub target: Option<String>,
    /// The content, when this job is a nested scheduler.
    pub nested: Option<Snapshot>,
}

impl JobView {
    /// A view with the given id, kind and label, everything else at its default
    /// (critical, idle, no requirement): handy to render made-up states.
    pub fn new(id: usize, kind: impl Into<String>, label: impl Into<String>) -> Self {
        JobView {
            id,
            kind: kind.into(),
            label: label.into(),
            graph_label: None,
            critical: true,
            forever: false,
            state: JobState::Idle,
            error: None,
            result: None,
            requires: Vec::new(),
            details: None,
            graph_details: None,
            target: None,
            nested: None,
        }
    }
}

impl Snapshot {
    /// Number of jobs in the whole tree, nested schedulers counting one each plus their content.
    pub fn total(&self) -> usize {
        self.jobs
            .iter()
            .map(|j| 1 + j.nested.as_ref().map_or(0, Snapshot::total))
            .sum()
    }

    /// Ids of the jobs that require nothing.
    pub fn entries(&self) -> Vec<usize> {
        self.jobs
            .iter()
            .filter(|j| j.requires.is_empty())
            .map(|j| j.id)
            .collect()
    }

    /// Ids of the jobs nothing requires, forever ones excluded.
    pub fn exits(&self) -> Vec<usize> {
        let required: std::collections::HashSet<usize> = self
            .jobs
            .iter()
            .flat_map(|j| j.requires.iter().copied())
            .collect();
        self.jobs
            .iter()
            .filter(|j| !j.forever && !required.contains(&j.id))
            .map(|j| j.id)
            .collect()
    }

    /// Every job of the tree, depth-first, with its depth (0 at top).
    pub fn walk(&self) -> Vec<(usize, &JobView)> {
        fn go<'a>(s: &'a Snapshot, depth: usize, out: &mut Vec<(usize, &'a JobView)>) {
            for j in &s.jobs {
                out.push((depth, j));
                if let Some(n) = &j.nested {
                    go(n, depth + 1, out);
                }
            }
        }
        let mut out = Vec::new();
        go(self, 0, &mut out);
        out
    }
}

impl Scheduler {
    /// Takes a [`Snapshot`]; an error when a scheduler of the tree cannot be
    /// ordered (cycle, requirement on another scheduler's job).
    pub fn snapshot(&self) -> Result<Snapshot, SchedulerError> {
        let mut next = 1;
        self.snapshot_from(&mut next)
    }

    fn snapshot_from(&self, next: &mut usize) -> Result<Snapshot, SchedulerError> {
        let graph = self.graph();
        let order = graph.listing_order().map_err(|f| self.fault(f))?;
        let mut ids = vec![0usize; graph.len()];
        let mut jobs = Vec::with_capacity(order.len());
        for &i in &order {
            let r = graph.record(i);
            ids[i as usize] = *next;
            let id = *next;
            *next += 1;
            let nested = with_nested(r, |inner| inner.snapshot_from(next)).transpose()?;
            let mut requires: Vec<usize> = r.requires().iter().map(|&q| ids[q as usize]).collect();
            requires.sort_unstable();
            requires.dedup();
            jobs.push(JobView {
                id,
                kind: r.kind(),
                label: r.label(),
                graph_label: r.graph_label(),
                critical: r.critical(),
                forever: r.forever(),
                state: r.state(),
                error: r.error().cloned(),
                result: graph.result_text(i),
                requires,
                details: r.details(),
                graph_details: r.graph_details(),
                target: r.graph_target(),
                nested,
            });
        }
        Ok(Snapshot {
            label: self.get_label(),
            critical: self.is_critical(),
            forever: self.is_forever(),
            why: self.why(),
            jobs,
        })
    }
}
