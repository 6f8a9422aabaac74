//! What a job looks like from the outside: its [`JobState`], and the typed
//! [`JobHandle`] that [`Scheduler::add`](crate::Scheduler::add) hands back.

use std::fmt::{self, Debug};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::JobError;

/// Where a job is in its lifecycle: idle → scheduled → running → done.
///
/// A job cancelled while running (critical failure, timeout, forever job at the
/// end of a run) is [`JobState::Cancelled`]: it is not done, and listings show it
/// as running, as the reference does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum JobState {
    /// Waiting for its requirements.
    Idle = 0,
    /// Requirements met, waiting for a slot in the jobs window.
    Scheduled = 1,
    /// Started.
    Running = 2,
    /// Finished, with a result or an error.
    Done = 3,
    /// Started, then cancelled before it finished.
    Cancelled = 4,
}

impl JobState {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => JobState::Idle,
            1 => JobState::Scheduled,
            2 => JobState::Running,
            3 => JobState::Done,
            _ => JobState::Cancelled,
        }
    }
}

/// Identity of an added job: its scheduler and its index there. `Copy`, untyped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobRef {
    pub(crate) scheduler: u32,
    pub(crate) serial: u32,
}

/// Per-job shared state: the part a handle can read while the scheduler owns the job.
pub(crate) struct Cell<T> {
    /// The job's serial in its scheduler (the scheduler's id is in the handle, keeping cells small).
    serial: u32,
    state: AtomicU8,
    outcome: OnceLock<Result<T, JobError>>,
}

impl<T> Cell<T> {
    pub(crate) fn new(serial: u32) -> Self {
        Cell {
            serial,
            state: AtomicU8::new(0),
            outcome: OnceLock::new(),
        }
    }
    pub(crate) fn result(&self) -> Option<&T> {
        self.outcome.get().and_then(|o| o.as_ref().ok())
    }
    pub(crate) fn set_outcome(&self, outcome: Result<T, JobError>) {
        let _ = self.outcome.set(outcome);
    }
}

/// The scheduler's untyped view of a job's cell.
pub(crate) trait ErasedCell: Send + Sync {
    fn state(&self) -> JobState;
    fn set_state(&self, state: JobState);
    fn error(&self) -> Option<&JobError>;
    fn result_text(&self) -> Option<String>;
}

impl<T: Debug + Send + Sync> ErasedCell for Cell<T> {
    fn state(&self) -> JobState {
        JobState::from_u8(self.state.load(Ordering::Acquire))
    }
    fn set_state(&self, state: JobState) {
        self.state.store(state as u8, Ordering::Release)
    }
    fn error(&self) -> Option<&JobError> {
        self.outcome.get().and_then(|o| o.as_ref().err())
    }
    fn result_text(&self) -> Option<String> {
        match self.outcome.get() {
            Some(Ok(v)) => Some(format!("{v:?}")),
            _ => None,
        }
    }
}

/// A typed handle on a job added to a scheduler: its state, and once done, its
/// result (`T`) or its error. Cheap to clone; stays valid after the scheduler
/// is nested in another one, moved, or dropped.
///
/// ```
/// use asyncjobs_core::{Job, Scheduler};
/// let mut s = Scheduler::new();
/// let h = s.add(Job::ok(async { 6 * 7 }));
/// assert!(s.run().unwrap());
/// assert_eq!(h.result(), Some(&42));
/// assert!(h.is_done() && h.raised_exception().is_none());
/// ```
pub struct JobHandle<T> {
    pub(crate) cell: Arc<Cell<T>>,
    pub(crate) scheduler: u32,
}

impl<T> Clone for JobHandle<T> {
    fn clone(&self) -> Self {
        JobHandle {
            cell: Arc::clone(&self.cell),
            scheduler: self.scheduler,
        }
    }
}

impl<T: Debug + Send + Sync> Debug for JobHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobHandle")
            .field("serial", &self.cell.serial)
            .field("state", &self.state())
            .field("outcome", &self.cell.outcome.get())
            .finish()
    }
}

impl<T: Debug + Send + Sync> JobHandle<T> {
    /// The job's identity, usable as a requirement.
    pub fn job_ref(&self) -> JobRef {
        JobRef {
            scheduler: self.scheduler,
            serial: self.cell.serial,
        }
    }
    /// Where the job is in its lifecycle.
    pub fn state(&self) -> JobState {
        self.cell.state()
    }
    /// Not started, requirements not met.
    pub fn is_idle(&self) -> bool {
        self.state() == JobState::Idle
    }
    /// Requirements met, waiting for a window slot.
    pub fn is_scheduled(&self) -> bool {
        self.state() == JobState::Scheduled
    }
    /// Started, not finished (a cancelled job counts as running, as in the reference).
    pub fn is_running(&self) -> bool {
        matches!(self.state(), JobState::Running | JobState::Cancelled)
    }
    /// Finished, with a result or an error. A cancelled job is not done.
    pub fn is_done(&self) -> bool {
        self.state() == JobState::Done
    }
    /// Started and cancelled before it finished.
    pub fn was_cancelled(&self) -> bool {
        self.state() == JobState::Cancelled
    }
    /// The job's result, once it finished without error.
    pub fn result(&self) -> Option<&T> {
        self.cell.outcome.get().and_then(|o| o.as_ref().ok())
    }
    /// The error the job failed with, if it did.
    pub fn raised_exception(&self) -> Option<&JobError> {
        self.cell.outcome.get().and_then(|o| o.as_ref().err())
    }
    /// Result or error, once the job is done.
    pub fn outcome(&self) -> Option<&Result<T, JobError>> {
        self.cell.outcome.get()
    }
}
