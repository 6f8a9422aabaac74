//! Reading the graph, as asynciojobs offers it: a job's requirements, its
//! direct successors and predecessors, transitive ones, entry and exit jobs,
//! and the jobs of a tree of schedulers. Sets come back as `Vec<JobRef>` in
//! insertion order, so results are deterministic.

use std::sync::Arc;

use crate::abstract_job::AbstractJob;
use crate::error::SchedulerError;
use crate::graph::Graph;
use crate::handle::JobRef;
use crate::nested::with_nested;
use crate::requirements::{AsJobRef, Requirements};
use crate::scheduler::Scheduler;

/// One job met by [`Scheduler::iterate_jobs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEntry {
    /// The job; `None` for the scheduler `iterate_jobs` was called on.
    pub job: Option<JobRef>,
    /// Its label.
    pub label: String,
    /// True for nested schedulers (and the top one).
    pub is_scheduler: bool,
    /// Nesting depth: 0 for the jobs of the scheduler `iterate_jobs` was called on.
    pub depth: usize,
}

impl Scheduler {
    /// Refs of the jobs flagged, in insertion order.
    fn refs_of(&self, flags: &[bool]) -> Vec<JobRef> {
        Graph::flagged(flags)
            .map(|i| self.graph().job_ref_at(i))
            .collect()
    }

    /// The jobs named, flagged by index; an error if one is not here.
    pub(crate) fn flags_of(&self, jobs: impl Requirements) -> Result<Vec<bool>, SchedulerError> {
        let mut refs = Vec::new();
        jobs.push_refs(&mut refs);
        let mut flags = vec![false; self.len()];
        for r in refs {
            flags[self.own(r)? as usize] = true;
        }
        Ok(flags)
    }

    /// The jobs `job` requires (asynciojobs' `required`), once each, in the
    /// order they were required; requirements on jobs that are not here
    /// (another scheduler's, removed ones) come last.
    ///
    /// ```
    /// use asyncjobs_core::{Job, Scheduler};
    /// let mut s = Scheduler::new();
    /// let a = s.add(Job::ok(async {}));
    /// let b = s.add(Job::ok(async {}));
    /// let c = s.add(Job::ok(async {}).requires((&b, &a)));
    /// assert_eq!(s.required(&c)?, [b.job_ref(), a.job_ref()]);
    /// assert_eq!(s.successors(&a)?, [c.job_ref()]);
    /// assert_eq!(s.predecessors(&c)?, [a.job_ref(), b.job_ref()]);
    /// # Ok::<(), asyncjobs_core::SchedulerError>(())
    /// ```
    pub fn required(&self, job: &impl AsJobRef) -> Result<Vec<JobRef>, SchedulerError> {
        let i = self.own(job.as_job_ref())?;
        Ok(self.graph().required(i))
    }

    /// The jobs that directly require one of `jobs`.
    pub fn successors(&self, jobs: impl Requirements) -> Result<Vec<JobRef>, SchedulerError> {
        let flags = self.flags_of(jobs)?;
        Ok(self.refs_of(&self.graph().successors_of(&flags)))
    }

    /// The jobs of this scheduler that one of `jobs` directly requires.
    pub fn predecessors(&self, jobs: impl Requirements) -> Result<Vec<JobRef>, SchedulerError> {
        let flags = self.flags_of(jobs)?;
        Ok(self.refs_of(&self.graph().predecessors_of(&flags)))
    }

    /// Jobs with no requirement.
    pub fn entry_jobs(&self) -> Vec<JobRef> {
        let records = self.graph().records();
        let flags: Vec<bool> = records.iter().map(|r| r.requires().is_empty()).collect();
        self.refs_of(&flags)
    }

    /// Jobs no other job requires; forever jobs left out when `discard_forever`.
    pub fn exit_jobs(&self, discard_forever: bool) -> Vec<JobRef> {
        let records = self.graph().records();
        let all = vec![true; records.len()];
        let required = self.graph().predecessors_of(&all);
        let flags: Vec<bool> = records
            .iter()
            .zip(&required)
            .map(|(r, &req)| !(req || discard_forever && r.forever()))
            .collect();
        self.refs_of(&flags)
    }

    /// Every job that (transitively) requires one of `starts`; the starts
    /// themselves only if on a cycle.
    pub fn successors_downstream(
        &self,
        starts: impl Requirements,
    ) -> Result<Vec<JobRef>, SchedulerError> {
        let starts: Vec<u32> = Graph::flagged(&self.flags_of(starts)?).collect();
        Ok(self.refs_of(&self.graph().closure(&starts, true)))
    }

    /// Every job that one of `starts` (transitively) requires.
    pub fn predecessors_upstream(
        &self,
        starts: impl Requirements,
    ) -> Result<Vec<JobRef>, SchedulerError> {
        let starts: Vec<u32> = Graph::flagged(&self.flags_of(starts)?).collect();
        Ok(self.refs_of(&self.graph().closure(&starts, false)))
    }

    /// The jobs of this scheduler and of nested ones, depth-first in insertion
    /// order; with `scan_schedulers`, schedulers themselves too (this one first,
    /// each nested one before its content).
    pub fn iterate_jobs(&self, scan_schedulers: bool) -> Vec<JobEntry> {
        let mut out = Vec::new();
        if scan_schedulers {
            out.push(JobEntry {
                job: None,
                label: self.get_label(),
                is_scheduler: true,
                depth: 0,
            });
        }
        self.iterate_into(scan_schedulers, 0, &mut out);
        out
    }

    fn iterate_into(&self, scan: bool, depth: usize, out: &mut Vec<JobEntry>) {
        let graph = self.graph();
        for (i, r) in graph.records().iter().enumerate() {
            let entry = JobEntry {
                job: Some(graph.job_ref_at(i as u32)),
                label: r.label(),
                is_scheduler: r.nested().is_some(),
                depth,
            };
            if !entry.is_scheduler {
                out.push(entry);
                continue;
            }
            if scan {
                out.push(entry);
            }
            with_nested(r, |inner| inner.iterate_into(scan, depth + 1, out));
        }
    }

    /// Every job of type `J` (an [`AbstractJob`] kind, e.g.
    /// `SshJob`) in this scheduler and nested ones, depth-first in insertion order.
    /// How job kinds find their own resources, e.g. the SSH nodes to close.
    pub fn jobs_of<J: AbstractJob>(&self) -> Vec<Arc<J>> {
        let mut out = Vec::new();
        self.jobs_of_into(&mut out);
        out
    }

    fn jobs_of_into<J: AbstractJob>(&self, out: &mut Vec<Arc<J>>) {
        for r in self.graph().records() {
            if r.nested().is_some() {
                with_nested(r, |inner| inner.jobs_of_into(out));
            } else if let Some(job) = r.job_object().and_then(|a| a.downcast::<J>().ok()) {
                out.push(job);
            }
        }
    }
}
