//! A live feed of a run, for [`Scheduler::verbose`](crate::Scheduler::verbose):
//! one line as each job starts, finishes or fails, and when the run ends, with
//! the time elapsed.
//!
//! ```text
//! 000.000 STARTING 1 <Job `b1`>
//! 000.100 DONE     1 <Job `b1`>[[ -> 100.0]]
//! 000.100 STARTING 2 <Job `b2`>
//! 000.300 FINISHED scheduler `sb`: FINE
//! ```

use std::io::Write;

use crate::graph::Graph;
use crate::jobline::job_text;
use crate::watch::Watch;

/// Where the feed goes, and the listing ids of the jobs.
pub(crate) struct Feedback<'a> {
    pub out: &'a mut (dyn Write + Send),
    /// The scheduler's label.
    pub label: String,
    /// Listing id of each job, by index.
    pub ids: Vec<usize>,
    pub width: usize,
    pub watch: Watch,
}

impl Feedback<'_> {
    /// `STARTING`, `DONE` or `RAISED` for job `i`.
    pub fn job(&mut self, event: &str, i: u32, graph: &Graph) {
        let r = graph.record(i);
        let result = if event == "DONE" {
            graph.result_text(i)
        } else {
            None
        };
        let text = job_text(
            &r.kind(),
            &r.label(),
            r.critical(),
            r.error(),
            result.as_deref(),
        );
        let id = self.ids.get(i as usize).copied().unwrap_or_default();
        // a feed that cannot be written must not stop the run
        let _ = writeln!(
            self.out,
            "{} {event:8} {id:0w$} {text}",
            self.watch.elapsed(),
            w = self.width
        );
    }

    /// A line about the scheduler itself.
    pub fn scheduler(&mut self, event: &str, message: &str) {
        let _ = writeln!(self.out, "{} {event:8} {message}", self.watch.elapsed());
    }
}
