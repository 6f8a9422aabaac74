//! [`Sequence`]: jobs chained one after the other without writing the
//! requirements, and the typed handles of its jobs once added.

use crate::add::Addable;
use crate::handle::JobRef;
use crate::requirements::Requirements;
use crate::scheduler::Scheduler;

type Build<H> = Box<dyn FnOnce(&mut Scheduler, &mut Chain) -> H + Send>;

/// Jobs that run one after the other: each requires the previous one.
///
/// Items can be jobs, nested schedulers, or other sequences (flattened into one
/// chain). [`Sequence::requires`] applies to the first job; requiring a
/// [`SequenceHandle`] means requiring its last job.
///
/// Each [`then`](Sequence::then) keeps the handle of its item's type, so the
/// added sequence hands back typed handles (a tuple of up to 12; nest sequences
/// for longer chains, or [`collect`](Iterator::collect) items of one type into a
/// `Sequence<Vec<_>>`):
///
/// ```
/// use asyncjobs_core::{Job, Scheduler, Sequence};
/// let mut s = Scheduler::new();
/// let seq = s.add(Sequence::new()
///     .then(Job::ok(async { 1 }).label("first"))
///     .then(Sequence::new().then(Job::ok(async { "two" })).then(Job::ok(async { 3.0 })))
///     .then(Job::ok(async { 4 }).label("last")));
/// s.add(Job::ok(async {}).label("after").requires(&seq));
/// assert_eq!(seq.jobs().len(), 4);
/// assert!(s.run().unwrap());
/// let (first, middle, last) = seq.handles();
/// let (two, three) = middle.handles();
/// assert_eq!((first.result(), two.result(), three.result(), last.result()),
///            (Some(&1), Some(&"two"), Some(&3.0), Some(&4)));
///
/// let mut s = Scheduler::new();
/// let chain = s.add((0..5).map(|i| Job::ok(async move { i * i })).collect::<Sequence<_>>());
/// assert!(s.run().unwrap());
/// assert_eq!(chain.handles()[4].result(), Some(&16));
/// ```
#[must_use = "a sequence does nothing until added to a scheduler"]
pub struct Sequence<H = ()> {
    build: Build<H>,
    requires: Vec<JobRef>,
}

impl Sequence<()> {
    /// An empty sequence.
    pub fn new() -> Self {
        Sequence {
            build: Box::new(|_, _| ()),
            requires: Vec::new(),
        }
    }
}

impl Default for Sequence<()> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: 'static> Sequence<H> {
    /// Appends a job, a scheduler or a sequence at the end of the chain; its
    /// handle joins the tuple of handles.
    pub fn then<A: Addable>(self, item: A) -> Sequence<H::Out>
    where
        H: Append<A::Handle>,
    {
        let before = self.build;
        Sequence {
            build: Box::new(move |s, chain| {
                let handles = before(s, chain);
                handles.append(chain.add(s, item))
            }),
            requires: self.requires,
        }
    }

    /// Requirements of the first job of the sequence.
    pub fn requires(mut self, reqs: impl Requirements) -> Self {
        reqs.push_refs(&mut self.requires);
        self
    }
}

impl<A: Addable> FromIterator<A> for Sequence<Vec<A::Handle>> {
    /// A chain of items of one type, in iteration order; the handles come back as a `Vec`.
    fn from_iter<I: IntoIterator<Item = A>>(items: I) -> Self {
        let items: Vec<A> = items.into_iter().collect();
        Sequence {
            build: Box::new(move |s, chain| items.into_iter().map(|a| chain.add(s, a)).collect()),
            requires: Vec::new(),
        }
    }
}

/// A sequence being added: what links each item to the previous one.
struct Chain {
    /// Last job of the previous item.
    prev: Option<JobRef>,
    /// First job of the sequence, once there is one.
    first: Option<JobRef>,
    /// Requirements of the sequence, for its first job.
    requires: Vec<JobRef>,
    /// Every job added, in order.
    jobs: Vec<JobRef>,
}

impl Chain {
    fn add<A: Addable>(&mut self, s: &mut Scheduler, item: A) -> A::Handle {
        let start = s.len();
        let (handle, ends) = item.add_after(s, self.prev);
        if let Some((first, last)) = ends {
            if self.first.is_none() {
                // requirements of the sequence go to its very first job
                if let Ok(i) = s.own(first) {
                    for r in self.requires.drain(..) {
                        s.graph_mut().require(i, r);
                    }
                }
                self.first = Some(first);
            }
            self.prev = Some(last);
        }
        let graph = s.graph();
        self.jobs
            .extend((start..graph.len()).map(|i| graph.job_ref_at(i as u32)));
        handle
    }
}

/// The jobs of an added [`Sequence`], in chain order, and the handles of its
/// items (`H`: a tuple, or a `Vec` for a collected sequence).
#[derive(Debug, Clone)]
pub struct SequenceHandle<H = ()> {
    jobs: Vec<JobRef>,
    handles: H,
}

impl<H> SequenceHandle<H> {
    /// Every job of the sequence, nested sequences flattened, in chain order.
    pub fn jobs(&self) -> &[JobRef] {
        &self.jobs
    }
    /// The first job, if any.
    pub fn first(&self) -> Option<JobRef> {
        self.jobs.first().copied()
    }
    /// The last job, if any (what requiring the sequence means).
    pub fn last(&self) -> Option<JobRef> {
        self.jobs.last().copied()
    }
    /// The handles of the items, typed: `let (a, b) = seq.handles();`.
    pub fn handles(&self) -> &H {
        &self.handles
    }
    /// The handles of the items, by value.
    pub fn into_handles(self) -> H {
        self.handles
    }
}

impl<H> Requirements for SequenceHandle<H> {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        out.extend(self.last())
    }
}

impl<H: 'static> Addable for Sequence<H> {
    type Handle = SequenceHandle<H>;
    fn add_after(
        self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (SequenceHandle<H>, Option<(JobRef, JobRef)>) {
        let mut requires = self.requires;
        requires.extend(prev);
        let mut chain = Chain {
            prev: None,
            first: None,
            requires,
            jobs: Vec::new(),
        };
        let handles = (self.build)(s, &mut chain);
        let ends = chain.first.zip(chain.prev);
        (
            SequenceHandle {
                jobs: chain.jobs,
                handles,
            },
            ends,
        )
    }
}

/// A tuple of handles that one more handle can join: what lets
/// [`Sequence::then`] keep every item's handle typed. Implemented for tuples
/// of up to 11 handles (so a sequence has up to 12).
pub trait Append<T> {
    /// The tuple with `T` at the end.
    type Out;
    /// Puts `item` at the end.
    fn append(self, item: T) -> Self::Out;
}

impl<T> Append<T> for () {
    type Out = (T,);
    fn append(self, item: T) -> (T,) {
        (item,)
    }
}

macro_rules! append {
    ($($name:ident)+) => {
        impl<$($name,)+ T> Append<T> for ($($name,)+) {
            type Out = ($($name,)+ T);
            #[allow(non_snake_case)]
            fn append(self, item: T) -> Self::Out {
                let ($($name,)+) = self;
                ($($name,)+ item)
            }
        }
    };
}
append!(A);
append!(A B);
append!(A B C);
append!(A B C D);
append!(A B C D E);
append!(A B C D E F);
append!(A B C D E F G);
append!(A B C D E F G I);
append!(A B C D E F G I J);
append!(A B C D E F G I J K);
append!(A B C D E F G I J K L);
