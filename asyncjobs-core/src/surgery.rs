//! Changing the graph after jobs were added, as asynciojobs offers it:
//! removing a job, bypassing it, keeping only some jobs or those between
//! milestones. Handles of the remaining jobs stay valid (jobs are named by a
//! stable serial, not their position).

use crate::error::SchedulerError;
use crate::graph::{Dangling, Graph};
use crate::requirements::{AsJobRef, Requirements};
use crate::scheduler::Scheduler;

impl Scheduler {
    /// Removes `job` (asynciojobs' `remove`). Jobs that required it keep that
    /// requirement on a job that is no longer here: checks and runs report it
    /// ([`SchedulerError::ForeignRequirement`]) until [`sanitize`](Self::sanitize)
    /// drops it — or use [`bypass_and_remove`](Self::bypass_and_remove), which
    /// hands them its requirements instead.
    ///
    /// ```
    /// use asyncjobs_core::{Job, Scheduler, SchedulerError};
    /// let mut s = Scheduler::new();
    /// let a = s.add(Job::ok(async {}).label("a"));
    /// let b = s.add(Job::ok(async {}).label("b").requires(&a));
    /// s.remove(&a)?;
    /// assert_eq!(s.len(), 1);
    /// assert!(matches!(s.check(), Err(SchedulerError::ForeignRequirement { .. })));
    /// assert!(!s.sanitize());
    /// assert!(s.run()? && b.is_done() && a.is_idle());
    /// # Ok::<(), SchedulerError>(())
    /// ```
    pub fn remove(&mut self, job: &impl AsJobRef) -> Result<(), SchedulerError> {
        let j = self.own(job.as_job_ref())?;
        let mut gone = vec![false; self.len()];
        gone[j as usize] = true;
        self.graph_mut().remove(&gone, Dangling::Keep);
        Ok(())
    }

    /// Removes `job`; the jobs that required it inherit its requirements, so the
    /// order of what remains is kept.
    pub fn bypass_and_remove(&mut self, job: &impl AsJobRef) -> Result<(), SchedulerError> {
        let j = self.own(job.as_job_ref())?;
        self.graph_mut().bypass(j);
        Ok(())
    }

    /// Keeps only `remains`; requirements on removed jobs are dropped (no
    /// transitive re-linking: see [`bypass_and_remove`](Self::bypass_and_remove) for that).
    pub fn keep_only(&mut self, remains: impl Requirements) -> Result<(), SchedulerError> {
        let keep = self.flags_of(remains)?;
        let gone: Vec<bool> = keep.iter().map(|k| !k).collect();
        self.graph_mut().remove(&gone, Dangling::Drop);
        Ok(())
    }

    /// Keeps the jobs downstream of `starts` and upstream of `ends` (an empty
    /// side means no constraint), plus the starts and ends themselves unless
    /// `keep_starts` / `keep_ends` is false; requirements on removed jobs are
    /// dropped. As in asynciojobs, `keep_starts = false` only means the starts
    /// are not added for being starts: a start that lies between another start
    /// and the ends is kept (and the same for ends).
    pub fn keep_only_between(
        &mut self,
        starts: impl Requirements,
        ends: impl Requirements,
        keep_starts: bool,
        keep_ends: bool,
    ) -> Result<(), SchedulerError> {
        let (s, e) = (self.flags_of(starts)?, self.flags_of(ends)?);
        let graph = self.graph();
        let (starts, ends): (Vec<u32>, Vec<u32>) =
            (Graph::flagged(&s).collect(), Graph::flagged(&e).collect());
        let n = graph.len();
        let down = if starts.is_empty() {
            vec![true; n]
        } else {
            graph.closure(&starts, true)
        };
        let up = if ends.is_empty() {
            vec![true; n]
        } else {
            graph.closure(&ends, false)
        };
        let gone: Vec<bool> = (0..n)
            .map(|i| {
                let kept = down[i] && up[i] || keep_starts && s[i] || keep_ends && e[i];
                !kept
            })
            .collect();
        self.graph_mut().remove(&gone, Dangling::Drop);
        Ok(())
    }
}
