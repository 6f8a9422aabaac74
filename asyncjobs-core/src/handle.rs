//! What a job looks like from the outside: its [`JobState`], and the typed
//! [`JobHandle`] that [`Scheduler::add`](crate::Scheduler::add) hands back.

use std::any::Any;
use std::fmt::{self, Debug};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::JobError;
use crate::text::default_text;

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

/// Identity of an added job: its scheduler and its serial number there. `Copy`, untyped.
///
/// [`Scheduler::handle`](crate::Scheduler::handle) turns it back into a typed [`JobHandle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobRef {
    scheduler: u32,
    serial: u32,
}

impl JobRef {
    pub(crate) fn new(scheduler: u32, serial: u32) -> Self {
        JobRef { scheduler, serial }
    }
    /// Identity of the scheduler holding the job.
    pub(crate) fn scheduler(self) -> u32 {
        self.scheduler
    }
    /// The job's serial number in its scheduler (stable across removals).
    pub(crate) fn serial(self) -> u32 {
        self.serial
    }
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
    pub(crate) fn state(&self) -> JobState {
        JobState::from_u8(self.state.load(Ordering::Acquire))
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
    /// The result as listings show it by default (see [`default_text`]).
    fn result_text(&self) -> Option<String>;
    /// The result, for a formatter that knows its type.
    fn result_any(&self) -> Option<&dyn Any>;
    /// The cell itself, to be downcast back to `Cell<T>` for a typed handle.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<T: Debug + Send + Sync + 'static> ErasedCell for Cell<T> {
    fn state(&self) -> JobState {
        Cell::state(self)
    }
    fn set_state(&self, state: JobState) {
        self.state.store(state as u8, Ordering::Release)
    }
    fn error(&self) -> Option<&JobError> {
        self.outcome.get().and_then(|o| o.as_ref().err())
    }
    fn result_text(&self) -> Option<String> {
        self.result().map(default_text)
    }
    fn result_any(&self) -> Option<&dyn Any> {
        self.result().map(|v| v as &dyn Any)
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
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
    cell: Arc<Cell<T>>,
    scheduler: u32,
}

impl<T> JobHandle<T> {
    /// The handle on `cell`, a job of scheduler `scheduler`.
    pub(crate) fn new(cell: Arc<Cell<T>>, scheduler: u32) -> Self {
        JobHandle { cell, scheduler }
    }
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
        JobRef::new(self.scheduler, self.cell.serial)
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
