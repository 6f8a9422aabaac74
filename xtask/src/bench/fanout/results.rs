//! The runs of one tool at one size, and what is reported of them.

use super::procs::TreePeak;
use super::run::{Outcome, Timing};
use super::tools::Tool;
use crate::bench::runs::{median, CellRuns, Runs};

/// One tool at one size.
pub struct Cell {
    pub tool: Tool,
    pub n: usize,
    /// The untimed validation run: every host echoed its address (and the
    /// memory of the whole process tree was sampled), or why not.
    pub validation: Result<TreePeak, String>,
    /// Timed runs that completed on every host.
    pub runs: Vec<Timing>,
    /// Timed runs that did not: why.
    pub failures: Vec<String>,
    pub planned: usize,
}

impl CellRuns for Cell {
    fn run_check(&self) -> Runs<'_> {
        Runs::new(
            &self.validation,
            &self.failures,
            self.runs.len(),
            self.planned,
        )
    }
}

impl Cell {
    pub fn new(tool: Tool, n: usize, planned: usize) -> Cell {
        Cell {
            tool,
            n,
            validation: Err("not run".into()),
            runs: Vec::new(),
            failures: Vec::new(),
            planned,
        }
    }

    /// Records a timed run.
    pub fn add(&mut self, outcome: Outcome, cap_s: u64) {
        match outcome.timing(cap_s) {
            Ok(t) => self.runs.push(t),
            Err(why) => self.failures.push(why),
        }
    }

    fn col(&self, f: impl Fn(&Timing) -> f64) -> Option<f64> {
        median(self.runs.iter().map(f).collect())
    }

    /// Median wall time of the valid runs.
    pub fn wall(&self) -> Option<f64> {
        self.col(|t| t.wall_s)
    }

    pub fn wall_range(&self) -> Option<(f64, f64)> {
        let w = self.runs.iter().map(|t| t.wall_s);
        Some((w.clone().reduce(f64::min)?, w.reduce(f64::max)?))
    }

    pub fn client_cpu(&self) -> Option<f64> {
        self.col(|t| t.client_cpu_s)
    }

    pub fn sshd_cpu(&self) -> Option<f64> {
        self.col(|t| t.sshd_cpu_s)
    }

    /// Median peak RSS of the largest single process, KiB.
    pub fn max_rss(&self) -> Option<f64> {
        self.col(|t| t.max_rss_kib)
    }

    /// The tool's memory on the machine, KiB: the sampled peak of all its
    /// processes at once, and never less than its largest process.
    pub fn total_rss(&self) -> Option<f64> {
        let tree = self.validation.as_ref().ok().map(|t| t.kib as f64);
        match (tree, self.max_rss()) {
            (Some(t), Some(m)) => Some(t.max(m)),
            (t, m) => t.or(m),
        }
    }

    /// Most processes of the tool seen at once (validation run).
    pub fn processes(&self) -> Option<usize> {
        self.validation.as_ref().ok().map(|t| t.processes)
    }
}
