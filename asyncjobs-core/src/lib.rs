//! # asyncjobs-core
//!
//! An async job-DAG scheduler on tokio, with the behaviour of Python's
//! `asynciojobs`: jobs with requirements, critical and forever jobs, a global
//! timeout, a jobs window, nested schedulers, sequences, listings and debriefs.
//!
//! ```
//! use asyncjobs_core::{Job, Scheduler, Sequence};
//! use std::time::Duration;
//!
//! async fn in_out(secs: f64) -> f64 {
//!     tokio::time::sleep(Duration::from_secs_f64(secs)).await;
//!     1000.0 * secs
//! }
//!
//! let mut s = Scheduler::new();
//! let b1 = s.add(Job::ok(in_out(0.01)).label("b1"));
//! let b2 = s.add(Job::ok(in_out(0.02)).label("b2").requires(&b1));
//! let b3 = s.add(Job::ok(in_out(0.025)));
//! assert!(s.run().unwrap());
//! assert_eq!(b2.result(), Some(&20.0));
//! ```
//!
//! Design: the scheduler keeps jobs in an arena with index lists of
//! requirements; a run polls every job future from one task (ready queue plus
//! `FuturesUnordered`), so it is O(V+E) and needs no task per job. Jobs that
//! burn CPU or block must spawn their own work.
#![warn(missing_docs)]

mod error;
mod feedback;
mod graph;
mod handle;
mod job;
mod listing;
mod ops;
mod run;
mod scheduler;
mod sequence;
mod shutdown;
mod snapshot;
mod watch;

pub use async_trait::async_trait;
pub use error::{JobError, SchedulerError};
pub use handle::{JobHandle, JobRef, JobState};
pub use job::{
    AbstractJob, AbstractJobBody, Addable, AsJobRef, FutureBody, Job, JobBody, JobExt, Requirements,
};
pub use listing::{ListOptions, Symbols};
pub use ops::JobEntry;
pub use scheduler::Scheduler;
pub use sequence::{Sequence, SequenceHandle};
pub use snapshot::{JobView, Snapshot};
pub use watch::Watch;
#[cfg(test)]
mod size_budget {
    /// Memory per job is a documented target (BENCHMARKS.md): keep the record and cell small.
    #[test]
    fn records_and_cells_stay_small() {
        assert!(std::mem::size_of::<crate::scheduler::Record>() <= 80);
        assert!(std::mem::size_of::<crate::handle::Cell<()>>() <= 24);
        assert_eq!(std::mem::size_of::<crate::JobError>(), 8);
    }
}
