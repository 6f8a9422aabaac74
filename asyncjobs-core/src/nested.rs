//! Nested schedulers: a [`Scheduler`] added to another one runs as one job of
//! its parent. The parent owns it in a [`NestedSlot`]; its run borrows it out
//! (a [`Lease`]) and puts it back even when cancelled. A [`SchedulerHandle`]
//! reaches it after it was added, to edit or read it between runs.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::{BoxFuture, FutureExt};

use crate::add::Addable;
use crate::body::{finish, Body, ErasedAbstract, NestedHooks, RunFuture};
use crate::error::{JobError, SchedulerError};
use crate::graph::Record;
use crate::handle::{Cell, JobHandle, JobRef};
use crate::requirements::{AsJobRef, Requirements};
use crate::scheduler::Scheduler;

/// Where a nested scheduler lives while its parent owns it.
pub(crate) struct NestedSlot(Mutex<Slot>);

struct Slot {
    sched: Option<Box<Scheduler>>,
    /// Its label while it is borrowed out, for the errors that say so.
    label_out: String,
}

impl NestedSlot {
    fn new(s: Scheduler) -> Self {
        NestedSlot(Mutex::new(Slot {
            sched: Some(Box::new(s)),
            label_out: String::new(),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // a panic while locked cannot leave the slot half-written: use it as is
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls `f` on the scheduler unless it is borrowed out (running, being edited).
    pub fn with<R>(&self, f: impl FnOnce(&Scheduler) -> R) -> Option<R> {
        self.lock().sched.as_deref().map(f)
    }

    /// Borrows the scheduler out until the lease is dropped (even by
    /// cancellation); the error names it when it is already out.
    pub fn lease(self: &Arc<Self>) -> Result<Lease, SchedulerError> {
        let mut slot = self.lock();
        match slot.sched.take() {
            Some(s) => {
                slot.label_out = s.get_label();
                Ok(Lease {
                    slot: Arc::clone(self),
                    sched: Some(s),
                })
            }
            None => Err(SchedulerError::NestedBusy {
                scheduler: slot.label_out.clone(),
            }),
        }
    }

    fn put(&self, s: Box<Scheduler>) {
        self.lock().sched = Some(s);
    }

    fn label(&self) -> String {
        let slot = self.lock();
        match &slot.sched {
            Some(s) => s.get_label(),
            None => slot.label_out.clone(),
        }
    }
}

/// A nested scheduler borrowed out of its slot; goes back on drop.
pub(crate) struct Lease {
    slot: Arc<NestedSlot>,
    sched: Option<Box<Scheduler>>,
}

impl Deref for Lease {
    type Target = Scheduler;
    fn deref(&self) -> &Scheduler {
        self.sched
            .as_deref()
            .expect("a lease holds its scheduler until dropped")
    }
}
impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut Scheduler {
        self.sched
            .as_deref_mut()
            .expect("a lease holds its scheduler until dropped")
    }
}
impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(mut s) = self.sched.take() {
            s.mark_cancelled_if_running();
            self.slot.put(s);
        }
    }
}

/// A nested scheduler, seen by its parent as one job whose result is its run's.
struct NestedBody {
    slot: Arc<NestedSlot>,
    cell: Arc<Cell<bool>>,
}

impl ErasedAbstract for NestedBody {
    fn start(&self) -> RunFuture {
        run_nested(Arc::clone(&self.slot), Arc::clone(&self.cell))
    }
    fn shutdown(&self) -> BoxFuture<'_, bool> {
        let slot = Arc::clone(&self.slot);
        async move {
            match slot.lease() {
                Ok(mut inner) => inner.co_shutdown().await,
                Err(_) => true,
            }
        }
        .boxed()
    }
    fn nested(&self) -> Option<&dyn NestedHooks> {
        Some(self)
    }
    fn result_text(&self) -> Option<String> {
        self.cell.result().map(bool::to_string)
    }
    fn kind(&self) -> String {
        "Scheduler".into()
    }
    fn default_label(&self) -> String {
        self.slot.label()
    }
    fn graph_label(&self) -> Option<String> {
        self.slot
            .with(|s| s.get_graph_label().map(str::to_string))
            .flatten()
    }
    fn details(&self) -> Option<String> {
        None
    }
    fn graph_details(&self) -> Option<String> {
        None
    }
    fn graph_target(&self) -> Option<String> {
        None
    }
}

impl NestedHooks for NestedBody {
    fn check(&self) -> Result<(), SchedulerError> {
        let slot = self.slot.lock();
        match &slot.sched {
            Some(s) => s.check(),
            None => Err(SchedulerError::NestedBusy {
                scheduler: slot.label_out.clone(),
            }),
        }
    }
    fn sanitize(&self) -> bool {
        self.slot.lease().map_or(true, |mut s| s.sanitize())
    }
    fn size(&self) -> usize {
        self.slot
            .with(|s| {
                s.graph()
                    .records()
                    .iter()
                    .map(|r| 1 + r.nested_size())
                    .sum()
            })
            .unwrap_or(0)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn run_nested(slot: Arc<NestedSlot>, cell: Arc<Cell<bool>>) -> RunFuture {
    Box::pin(async move {
        let mut sched = match slot.lease() {
            Ok(s) => s,
            Err(e) => return finish(&cell, Err(JobError::new(e))),
        };
        let outcome = match sched.co_run().await {
            Ok(fine) => Ok(fine),
            // a critical job's error goes up unchanged
            Err(SchedulerError::CriticalJobFailed { error, .. }) => Err(error),
            Err(e @ SchedulerError::Timeout { .. }) => Err(JobError::with_kind("TimeoutError", e)),
            Err(e) => Err(JobError::new(e)),
        };
        finish(&cell, outcome)
    })
}

/// The slot of the nested scheduler `record` holds, when it holds one.
pub(crate) fn slot_of(record: &Record) -> Option<&Arc<NestedSlot>> {
    record
        .nested()?
        .as_any()
        .downcast_ref::<NestedBody>()
        .map(|b| &b.slot)
}

/// Calls `f` on the nested scheduler `record` holds, unless it holds none or
/// it is borrowed out.
pub(crate) fn with_nested<R>(record: &Record, f: impl FnOnce(&Scheduler) -> R) -> Option<R> {
    slot_of(record)?.with(f)
}

/// The handle of a nested scheduler: its job handle (state, result: what its
/// run returned) and a way to reach the scheduler after it was added.
///
/// ```
/// use asyncjobs_core::{Job, Scheduler};
///
/// let mut sub = Scheduler::new().label("sub");
/// let first = sub.add(Job::ok(async { 1 }).label("first"));
/// let mut main = Scheduler::new();
/// let h = main.add(sub);
/// // later: add a job to the nested scheduler, after `first`
/// let second = h.edit(|sub| sub.add(Job::ok(async { 2 }).label("second").requires(&first)))?;
/// assert!(main.run()?);
/// assert_eq!((h.result(), second.result()), (Some(&true), Some(&2)));
/// assert_eq!(h.read(|sub| sub.len())?, 2);
/// # Ok::<(), asyncjobs_core::SchedulerError>(())
/// ```
///
/// The scheduler cannot be reached while its parent runs it:
/// [`edit`](Self::edit) and [`read`](Self::read) then return
/// [`SchedulerError::NestedBusy`]. Its critical and forever flags are the
/// parent's record of it, fixed when it was added.
#[derive(Clone)]
pub struct SchedulerHandle {
    job: JobHandle<bool>,
    slot: Arc<NestedSlot>,
}

impl SchedulerHandle {
    /// Calls `f` on the nested scheduler, to change it (add or remove jobs,
    /// requirements, its timeout or window…); what `f` returns.
    pub fn edit<R>(&self, f: impl FnOnce(&mut Scheduler) -> R) -> Result<R, SchedulerError> {
        let mut lease = self.slot.lease()?;
        Ok(f(&mut lease))
    }

    /// Calls `f` on the nested scheduler, to read it (its listing, its jobs…).
    pub fn read<R>(&self, f: impl FnOnce(&Scheduler) -> R) -> Result<R, SchedulerError> {
        let lease = self.slot.lease()?;
        Ok(f(&lease))
    }

    /// The handle of the nested scheduler as a job of its parent.
    pub fn job(&self) -> &JobHandle<bool> {
        &self.job
    }
}

impl Deref for SchedulerHandle {
    type Target = JobHandle<bool>;
    fn deref(&self) -> &JobHandle<bool> {
        &self.job
    }
}

impl fmt::Debug for SchedulerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerHandle")
            .field("label", &self.slot.label())
            .field("job", &self.job)
            .finish()
    }
}

impl Requirements for SchedulerHandle {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        out.push(self.job.job_ref())
    }
}

impl AsJobRef for SchedulerHandle {
    fn as_job_ref(&self) -> JobRef {
        self.job.job_ref()
    }
}

impl Addable for Scheduler {
    type Handle = SchedulerHandle;
    /// A nested scheduler is one job of its parent; its result is what its run returned.
    fn add_after(
        mut self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (SchedulerHandle, Option<(JobRef, JobRef)>) {
        let mut opts = self.take_job_options();
        opts.requires.extend(prev);
        let slot = Arc::new(NestedSlot::new(self));
        let body_slot = Arc::clone(&slot);
        let job = s.push_job(opts, |cell| {
            let body = NestedBody {
                slot: body_slot,
                cell,
            };
            (Body::Abstract(Box::new(body)), None)
        });
        let r = job.job_ref();
        (SchedulerHandle { job, slot }, Some((r, r)))
    }
}

impl Scheduler {
    /// The handle of a nested scheduler of this one, e.g. one added through a
    /// [`Sequence`](crate::Sequence) or found by [`successors`](Self::successors).
    pub fn nested_scheduler(&self, job: &impl AsJobRef) -> Result<SchedulerHandle, SchedulerError> {
        let i = self.own(job.as_job_ref())?;
        let record = self.graph().record(i);
        let slot = slot_of(record).ok_or_else(|| SchedulerError::WrongResultType {
            scheduler: self.get_label(),
            job: record.label(),
            asked: "Scheduler",
        })?;
        let job = self.handle::<bool>(job)?;
        Ok(SchedulerHandle {
            job,
            slot: Arc::clone(slot),
        })
    }
}
