//! # asyncjobs-core
//!
//! An async job-DAG scheduler on tokio, with the behaviour of Python's
//! `asynciojobs`: jobs with requirements, critical and forever jobs, a global
//! timeout, a jobs window, nested schedulers, sequences, listings and debriefs.
//!
//! ```
//! use asyncjobs_core::prelude::*;
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

// The modules import each other in one direction; the order is in the
// `layering` test below.
mod abstract_job;
mod add;
mod body;
mod dry_run;
mod error;
mod feedback;
mod graph;
mod handle;
mod job;
mod jobline;
mod listing;
mod nested;
mod plan;
pub mod prelude;
mod queries;
mod requirements;
mod run;
mod scheduler;
mod sequence;
mod shutdown;
mod snapshot;
mod surgery;
mod text;
mod watch;

pub use abstract_job::AbstractJob;
pub use add::Addable;
pub use async_trait::async_trait;
pub use body::{AbstractJobBody, FutureBody, JobBody};
pub use error::{ErrorChain, JobError, SchedulerError};
pub use handle::{JobHandle, JobRef, JobState};
pub use job::{Job, JobExt};
pub use listing::{ListOptions, Symbols};
pub use nested::SchedulerHandle;
pub use queries::JobEntry;
pub use requirements::{AsJobRef, Requirements};
pub use scheduler::Scheduler;
pub use sequence::{Append, Sequence, SequenceHandle};
pub use snapshot::{JobView, Snapshot};
pub use watch::Watch;

#[cfg(test)]
mod size_budget {
    /// Memory per job is a documented target (BENCHMARKS.md): keep the record and cell small.
    #[test]
    fn records_and_cells_stay_small() {
        assert!(std::mem::size_of::<crate::graph::Record>() <= 80);
        assert!(std::mem::size_of::<crate::handle::Cell<()>>() <= 24);
        assert_eq!(std::mem::size_of::<crate::JobError>(), 8);
    }
}

#[cfg(test)]
mod layering {
    /// The modules, bottom up: each one imports only modules before it here.
    const LAYERS: &[&str] = &[
        "text",
        "watch",
        "error",
        "handle",
        "requirements",
        "abstract_job",
        "body",
        "job",
        "jobline",
        "plan",
        "graph",
        "feedback",
        "run",
        "shutdown",
        "scheduler",
        "add",
        "nested",
        "sequence",
        "snapshot",
        "listing",
        "queries",
        "surgery",
        "dry_run",
        "prelude",
    ];

    fn src() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    #[test]
    fn every_module_has_its_place_in_the_layers() {
        let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
        let mut declared: Vec<&str> = lib
            .lines()
            .filter_map(|l| {
                l.strip_prefix("mod ")
                    .or_else(|| l.strip_prefix("pub mod "))
            })
            .filter_map(|l| l.strip_suffix(';'))
            .collect();
        declared.sort_unstable();
        let mut layers = LAYERS.to_vec();
        layers.sort_unstable();
        assert_eq!(declared, layers);
    }

    #[test]
    fn each_module_imports_only_modules_below_it() {
        let mut wrong = Vec::new();
        for (at, module) in LAYERS.iter().enumerate() {
            let text = std::fs::read_to_string(src().join(format!("{module}.rs"))).unwrap();
            // unit tests may reach anything
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for other in &LAYERS[at + 1..] {
                if code.contains(&format!("crate::{other}::")) || uses_in_group(code, other) {
                    wrong.push(format!("{module} imports {other}, which is above it"));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// `use crate::{a::X, b::Y}` names `other`.
    fn uses_in_group(code: &str, other: &str) -> bool {
        code.split("crate::{").skip(1).any(|rest| {
            let group = rest.split('}').next().unwrap_or_default();
            group
                .split(',')
                .any(|item| item.trim().starts_with(&format!("{other}::")))
        })
    }
}
