//! [`Sequence`]: jobs chained one after the other without writing the requirements.

use crate::handle::JobRef;
use crate::job::{Addable, Requirements};
use crate::scheduler::Scheduler;

type Step = Box<dyn FnOnce(&mut Scheduler, Option<JobRef>) -> Option<(JobRef, JobRef)> + Send>;

/// Jobs that run one after the other: each requires the previous one.
///
/// Items can be jobs, nested schedulers, or other sequences (flattened into one
/// chain). [`Sequence::requires`] applies to the first job; requiring a
/// [`SequenceHandle`] means requiring its last job.
///
/// ```
/// use asyncjobs_core::{Job, Scheduler, Sequence};
/// let mut s = Scheduler::new();
/// let seq = s.add(Sequence::new()
///     .then(Job::ok(async { 1 }).label("first"))
///     .then(Sequence::new().then(Job::ok(async { 2 })).then(Job::ok(async { 3 })))
///     .then(Job::ok(async { 4 }).label("last")));
/// s.add(Job::ok(async {}).label("after").requires(&seq));
/// assert_eq!(seq.jobs().len(), 4);
/// assert!(s.run().unwrap());
/// ```
#[derive(Default)]
#[must_use = "a sequence does nothing until added to a scheduler"]
pub struct Sequence {
    steps: Vec<Step>,
    requires: Vec<JobRef>,
}

impl Sequence {
    /// An empty sequence.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a job, a scheduler or a sequence at the end of the chain.
    pub fn then<A: Addable>(mut self, item: A) -> Self {
        self.steps
            .push(Box::new(move |s, prev| item.add_after(s, prev).1));
        self
    }

    /// Requirements of the first job of the sequence.
    pub fn requires(mut self, reqs: impl Requirements) -> Self {
        reqs.push_refs(&mut self.requires);
        self
    }
}

/// The jobs of an added [`Sequence`], in chain order.
#[derive(Debug, Clone, Default)]
pub struct SequenceHandle {
    ends: Vec<JobRef>,
}

impl SequenceHandle {
    /// First and last job of each item, in order.
    pub fn jobs(&self) -> &[JobRef] {
        &self.ends
    }
    /// The first job, if any.
    pub fn first(&self) -> Option<JobRef> {
        self.ends.first().copied()
    }
    /// The last job, if any (what requiring the sequence means).
    pub fn last(&self) -> Option<JobRef> {
        self.ends.last().copied()
    }
}

impl Addable for Sequence {
    type Handle = SequenceHandle;
    fn add_after(
        self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (SequenceHandle, Option<(JobRef, JobRef)>) {
        let mut handle = SequenceHandle::default();
        let mut extra = self.requires;
        extra.extend(prev);
        let mut last: Option<JobRef> = None;
        let mut first: Option<JobRef> = None;
        for step in self.steps {
            let start = s.len();
            let ends = step(s, last);
            if first.is_none() {
                if let Some((f, _)) = ends {
                    // requirements of the sequence go to its very first job
                    if let Some(fi) = s.resolve(f) {
                        for r in extra.drain(..) {
                            s.push_requirement(fi, r);
                        }
                    }
                    first = Some(f);
                }
            }
            if let Some((_, l)) = ends {
                last = Some(l);
            }
            handle
                .ends
                .extend((start..s.len()).map(|i| s.job_ref_at(i)));
        }
        let ends = first.zip(last);
        (handle, ends)
    }
}
