//! What a script needs, in one import: `use asyncjobs_core::prelude::*;`.
//!
//! The scheduler and what it accepts ([`Scheduler`], [`Job`], [`JobExt`],
//! [`Sequence`]), the handles it gives back ([`JobHandle`], [`SchedulerHandle`],
//! [`SequenceHandle`], [`JobRef`], [`JobState`]), the errors ([`JobError`],
//! [`SchedulerError`], [`ErrorChain`]), [`Watch`], and what writing a job kind
//! takes ([`AbstractJob`], [`async_trait`](macro@async_trait)).
//!
//! ```
//! use asyncjobs_core::prelude::*;
//! use std::time::Duration;
//!
//! fn main() -> Result<(), SchedulerError> {
//!     let watch = Watch::new();
//!     let mut s = Scheduler::new().label("script").timeout(Duration::from_secs(10));
//!     let (fetch, build) = s
//!         .add(Sequence::new()
//!             .then(Job::ok(async { "sources" }).label("fetch"))
//!             .then(Job::ok(async { 42 }).label("build")))
//!         .into_handles();
//!     s.add(Job::ok(async {}).label("report").requires(&build));
//!     let outcome = s.run();
//!     s.list();
//!     s.shutdown()?;
//!     outcome?;
//!     println!("{} done: {:?} then {:?}", watch.elapsed(), fetch.result(), build.result());
//!     Ok(())
//! }
//! ```

pub use crate::abstract_job::AbstractJob;
pub use crate::error::{ErrorChain, JobError, SchedulerError};
pub use crate::handle::{JobHandle, JobRef, JobState};
pub use crate::job::{Job, JobExt};
pub use crate::nested::SchedulerHandle;
pub use crate::scheduler::Scheduler;
pub use crate::sequence::{Sequence, SequenceHandle};
pub use crate::watch::Watch;
pub use async_trait::async_trait;
