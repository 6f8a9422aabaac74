//! [`Scheduler::add`] and what it accepts ([`Addable`]): jobs, job objects,
//! nested schedulers (see `nested`) and sequences (see `sequence`).

use crate::abstract_job::AbstractJob;
use crate::body::JobBody;
use crate::handle::{JobHandle, JobRef};
use crate::job::Job;
use crate::scheduler::Scheduler;

/// What [`Scheduler::add`] accepts: a [`Job`], an [`AbstractJob`], a nested
/// [`Scheduler`], or a [`Sequence`](crate::Sequence).
pub trait Addable: Send + 'static {
    /// What `add` hands back.
    type Handle;
    #[doc(hidden)]
    /// Adds self, making its first job require `prev`; returns the handle and (first, last) jobs.
    fn add_after(
        self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (Self::Handle, Option<(JobRef, JobRef)>);
}

impl Scheduler {
    /// Adds a job, an [`AbstractJob`], a nested scheduler or a
    /// [`Sequence`](crate::Sequence); returns its handle: a typed
    /// [`JobHandle`], a [`SchedulerHandle`](crate::SchedulerHandle), or a
    /// [`SequenceHandle`](crate::SequenceHandle). The item is moved in, so a
    /// job cannot belong to two schedulers.
    pub fn add<A: Addable>(&mut self, item: A) -> A::Handle {
        item.add_after(self, None).0
    }
}

impl<B: JobBody> Addable for Job<B> {
    type Handle = JobHandle<B::Output>;
    fn add_after(
        self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (Self::Handle, Option<(JobRef, JobRef)>) {
        let (body, mut opts) = self.into_parts();
        opts.requires.extend(prev);
        let h = s.push_job(opts, |cell| body.into_body(cell));
        let r = h.job_ref();
        (h, Some((r, r)))
    }
}

impl<J: AbstractJob> Addable for J {
    type Handle = JobHandle<J::Output>;
    fn add_after(
        self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (Self::Handle, Option<(JobRef, JobRef)>) {
        Job::from_abstract(self).add_after(s, prev)
    }
}
