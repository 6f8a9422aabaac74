//! [`Scheduler::dry_run`]: what a run would do, without running anything.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::error::SchedulerError;
use crate::scheduler::Scheduler;
use crate::snapshot::{JobView, Snapshot};
use crate::text::format_secs;

impl Scheduler {
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
            self.get_timeout()
                .map(|t| format!(", timeout {}s", format_secs(t)))
                .unwrap_or_default(),
            if self.get_jobs_window() > 0 {
                format!(", at most {} at a time", self.get_jobs_window())
            } else {
                String::new()
            }
        );
        dry_waves(&snap, 0, &mut out);
        Ok(out)
    }
}

fn dry_waves(s: &Snapshot, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth + 1);
    let mut wave_of = HashMap::new();
    let mut waves: Vec<Vec<&JobView>> = Vec::new();
    for j in &s.jobs {
        let w = j
            .requires
            .iter()
            .filter_map(|r| wave_of.get(r))
            .map(|w| w + 1)
            .max()
            .unwrap_or(0);
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
