//! Graph surgery and queries, as asynciojobs offers them: entry and exit jobs,
//! transitive successors and predecessors, bypass-and-remove, keep-only, and
//! iterating over the jobs of a tree of schedulers. Sets come back as
//! `Vec<JobRef>` in insertion order, so results are deterministic.

use std::fmt::Write as _;

use crate::error::SchedulerError;
use crate::handle::JobRef;
use crate::job::{AsJobRef, Requirements};
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
    fn refs(&self, idx: impl IntoIterator<Item = usize>) -> Vec<JobRef> {
        idx.into_iter().map(|i| self.job_ref_at(i)).collect()
    }

    fn indices_of(&self, jobs: impl Requirements) -> Result<Vec<u32>, SchedulerError> {
        let mut refs = Vec::new();
        jobs.push_refs(&mut refs);
        refs.into_iter().map(|r| self.own(r)).collect()
    }

    /// Jobs with no requirement.
    pub fn entry_jobs(&self) -> Vec<JobRef> {
        self.refs((0..self.records.len()).filter(|&i| self.records[i].requires.is_empty()))
    }

    /// Jobs no other job requires; forever jobs left out when `discard_forever`.
    pub fn exit_jobs(&self, discard_forever: bool) -> Vec<JobRef> {
        let mut required = vec![false; self.records.len()];
        for r in &self.records {
            r.requires.iter().for_each(|&q| required[q as usize] = true);
        }
        self.refs(
            (0..self.records.len())
                .filter(|&i| !(required[i] || discard_forever && self.records[i].forever)),
        )
    }

    /// Breadth-first closure from `starts` along successors (`down`) or requirements.
    fn closure(&self, starts: &[u32], down: bool) -> Vec<bool> {
        let plan = self.plan();
        let mut seen = vec![false; self.records.len()];
        let mut queue: Vec<u32> = starts.to_vec();
        while let Some(i) = queue.pop() {
            let next: &[u32] = if down {
                plan.successors(i)
            } else {
                &self.records[i as usize].requires
            };
            for &n in next {
                if !seen[n as usize] {
                    seen[n as usize] = true;
                    queue.push(n);
                }
            }
        }
        seen
    }

    /// Every job that (transitively) requires one of `starts`; the starts
    /// themselves only if on a cycle.
    pub fn successors_downstream(
        &self,
        starts: impl Requirements,
    ) -> Result<Vec<JobRef>, SchedulerError> {
        let s = self.indices_of(starts)?;
        let seen = self.closure(&s, true);
        Ok(self.refs((0..seen.len()).filter(|&i| seen[i])))
    }

    /// Every job that one of `starts` (transitively) requires.
    pub fn predecessors_upstream(
        &self,
        starts: impl Requirements,
    ) -> Result<Vec<JobRef>, SchedulerError> {
        let s = self.indices_of(starts)?;
        let seen = self.closure(&s, false);
        Ok(self.refs((0..seen.len()).filter(|&i| seen[i])))
    }

    /// Removes `job`; the jobs that required it inherit its requirements, so the
    /// order of what remains is kept.
    pub fn bypass_and_remove(&mut self, job: &impl AsJobRef) -> Result<(), SchedulerError> {
        let j = self.own(job.as_job_ref())?;
        let inherited = self.records[j as usize].requires.clone();
        for r in &mut self.records {
            if r.requires.contains(&j) {
                r.requires.retain(|q| *q != j);
                r.requires.extend(inherited.iter().copied());
            }
        }
        let mut gone = vec![false; self.records.len()];
        gone[j as usize] = true;
        self.remove_flagged(&gone);
        Ok(())
    }

    /// Keeps only `remains`; requirements on removed jobs are dropped (no
    /// transitive re-linking: see [`bypass_and_remove`](Self::bypass_and_remove) for that).
    pub fn keep_only(&mut self, remains: impl Requirements) -> Result<(), SchedulerError> {
        let keep = self.indices_of(remains)?;
        let mut gone = vec![true; self.records.len()];
        keep.iter().for_each(|&i| gone[i as usize] = false);
        self.remove_flagged(&gone);
        Ok(())
    }

    /// Keeps the jobs downstream of `starts` and upstream of `ends` (an empty
    /// side means no constraint), plus the starts and ends themselves unless
    /// `keep_starts` / `keep_ends` is false.
    pub fn keep_only_between(
        &mut self,
        starts: impl Requirements,
        ends: impl Requirements,
        keep_starts: bool,
        keep_ends: bool,
    ) -> Result<(), SchedulerError> {
        let (s, e) = (self.indices_of(starts)?, self.indices_of(ends)?);
        let n = self.records.len();
        let down = if s.is_empty() {
            vec![true; n]
        } else {
            self.closure(&s, true)
        };
        let up = if e.is_empty() {
            vec![true; n]
        } else {
            self.closure(&e, false)
        };
        let mut keep: Vec<bool> = (0..n).map(|i| down[i] && up[i]).collect();
        for (list, on) in [(&s, keep_starts), (&e, keep_ends)] {
            list.iter().for_each(|&i| keep[i as usize] = on);
        }
        let gone: Vec<bool> = keep.iter().map(|k| !k).collect();
        self.remove_flagged(&gone);
        Ok(())
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
        for (i, r) in self.records.iter().enumerate() {
            match r.body.nested() {
                Some(slot) => {
                    if scan {
                        out.push(JobEntry {
                            job: Some(self.job_ref_at(i)),
                            label: r.label(),
                            is_scheduler: true,
                            depth,
                        });
                    }
                    if let Some(inner) = slot.lock().get() {
                        inner.iterate_into(scan, depth + 1, out);
                    }
                }
                None => out.push(JobEntry {
                    job: Some(self.job_ref_at(i)),
                    label: r.label(),
                    is_scheduler: false,
                    depth,
                }),
            }
        }
    }

    /// Every job of type `J` (an [`AbstractJob`](crate::AbstractJob) kind, e.g.
    /// `SshJob`) in this scheduler and nested ones, depth-first in insertion order.
    /// How job kinds find their own resources, e.g. the SSH nodes to close.
    pub fn jobs_of<J: crate::AbstractJob>(&self) -> Vec<std::sync::Arc<J>> {
        let mut out = Vec::new();
        self.jobs_of_into(&mut out);
        out
    }

    fn jobs_of_into<J: crate::AbstractJob>(&self, out: &mut Vec<std::sync::Arc<J>>) {
        for r in &self.records {
            if let crate::job::Body::Abstract(j) = &r.body {
                if let Some(slot) = j.nested() {
                    if let Some(inner) = slot.lock().get() {
                        inner.jobs_of_into(out);
                    }
                } else if let Some(job) = j.as_any().and_then(|a| a.downcast::<J>().ok()) {
                    out.push(job);
                }
            }
        }
    }

    /// What a run would do, without running anything: the checks, then the jobs
    /// grouped in waves (a job's wave is one more than its latest requirement's;
    /// wave 1 starts at once), nested schedulers planned inside their wave.
    pub fn dry_run(&self) -> Result<String, SchedulerError> {
        self.check()?;
        let snap = self.snapshot()?;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "dry run of `{}`: {} jobs, checks passed{}{}",
            snap.label,
            snap.total(),
            self.timeout
                .map(|t| format!(", timeout {}s", crate::listing::format_secs(t)))
                .unwrap_or_default(),
            if self.jobs_window > 0 {
                format!(", at most {} at a time", self.jobs_window)
            } else {
                String::new()
            }
        );
        dry_waves(&snap, 0, &mut out);
        Ok(out)
    }
}

fn dry_waves(s: &crate::Snapshot, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth + 1);
    let mut wave_of = std::collections::HashMap::new();
    let mut waves: Vec<Vec<&crate::JobView>> = Vec::new();
    for j in &s.jobs {
        let w = j.requires.iter().map(|r| wave_of[r] + 1).max().unwrap_or(0);
        wave_of.insert(j.id, w);
        if waves.len() <= w {
            waves.resize(w + 1, Vec::new());
        }
        waves[w].push(j);
    }
    for (w, jobs) in waves.iter().enumerate() {
        let _ = writeln!(out, "{indent}wave {}:", w + 1);
        for j in jobs {
            let flags = format!(
                "{}{}",
                if j.critical { " critical" } else { "" },
                if j.forever { " forever" } else { "" }
            );
            let _ = writeln!(out, "{indent}  {} <{} `{}`>{flags}", j.id, j.kind, j.label);
            if let Some(n) = &j.nested {
                dry_waves(n, depth + 2, out);
            }
        }
    }
}
