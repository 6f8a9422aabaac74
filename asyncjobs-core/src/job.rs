//! Jobs: the [`AbstractJob`] trait, the [`Job`] builder that carries per-job
//! options, and the [`Requirements`] a job can be given.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt};

use crate::error::{short_type_name, JobError};
use crate::handle::{Cell, JobHandle, JobRef};
use crate::scheduler::{NestedSlot, Scheduler};
use crate::sequence::SequenceHandle;

/// The interface every kind of job implements (object-safe, via `async-trait`).
///
/// Per-job options (label, critical, forever, requirements) are not part of the
/// trait: the scheduler keeps them, so every job kind gets them for free through
/// [`JobExt`] or [`Job::from_abstract`].
///
/// Cancellation is dropping the `co_run` future: a job holding remote resources
/// must make that safe (e.g. kill the remote command when its channel is dropped).
///
/// ```
/// use asyncjobs_core::{AbstractJob, JobError, JobExt, Scheduler};
///
/// struct Square(u64);
///
/// #[async_trait::async_trait]
/// impl AbstractJob for Square {
///     type Output = u64;
///     async fn co_run(&self) -> Result<u64, JobError> {
///         Ok(self.0 * self.0)
///     }
///     fn default_label(&self) -> String {
///         format!("square {}", self.0)
///     }
/// }
///
/// let mut s = Scheduler::new();
/// let h = s.add(Square(7).critical(false));
/// assert!(s.run().unwrap());
/// assert_eq!(h.result(), Some(&49));
/// ```
#[async_trait]
pub trait AbstractJob: Send + Sync + 'static {
    /// What the job produces when it succeeds.
    type Output: Debug + Send + Sync + 'static;

    /// Runs the job once.
    async fn co_run(&self) -> Result<Self::Output, JobError>;

    /// Releases what the job holds; called by [`Scheduler::shutdown`], never automatically.
    async fn co_shutdown(&self) {}

    /// The kind shown in listings, as in `<Job `label`>`; defaults to the type's short name.
    fn kind(&self) -> String {
        short_type_name::<Self>().to_string()
    }

    /// The label used when none is given.
    fn default_label(&self) -> String {
        self.kind()
    }

    /// Extra lines for detailed listings.
    fn details(&self) -> Option<String> {
        None
    }

    /// How listings show a result, as in `[[ -> {text}]]`; `Debug` by default.
    /// Keep it short and on one line.
    fn result_text(output: &Self::Output) -> String
    where
        Self: Sized,
    {
        format!("{output:?}")
    }
}

pub(crate) type Status = Result<(), JobError>;
pub(crate) type RunFuture = Pin<Box<dyn Future<Output = Status> + Send>>;

/// How a job runs, as the scheduler stores it.
pub(crate) enum Body {
    /// `name` gives the default label (the future's type name); a function
    /// pointer keeps the record small.
    Future {
        fut: RunFuture,
        name: fn() -> &'static str,
    },
    /// Any [`AbstractJob`], and nested schedulers.
    Abstract(Box<dyn ErasedAbstract>),
}

impl Body {
    /// The slot of a nested scheduler, when this job is one.
    pub fn nested(&self) -> Option<&Arc<NestedSlot>> {
        match self {
            Body::Abstract(j) => j.nested(),
            Body::Future { .. } => None,
        }
    }
}

pub(crate) trait ErasedAbstract: Send + Sync {
    fn start(&self) -> RunFuture;
    /// Resolves to false when a nested shutdown did not finish in time.
    fn shutdown(&self) -> BoxFuture<'_, bool>;
    fn nested(&self) -> Option<&Arc<NestedSlot>> {
        None
    }
    /// The result as listings show it, once done without error.
    fn result_text(&self) -> Option<String>;
    /// The job object itself, for typed queries (`Scheduler::jobs_of`).
    fn as_any(&self) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        None
    }
    fn kind(&self) -> String;
    fn default_label(&self) -> String;
    fn details(&self) -> Option<String>;
}

struct AbstractBody<J: AbstractJob> {
    job: Arc<J>,
    cell: Arc<Cell<J::Output>>,
}

impl<J: AbstractJob> ErasedAbstract for AbstractBody<J> {
    fn start(&self) -> RunFuture {
        let (job, cell) = (Arc::clone(&self.job), Arc::clone(&self.cell));
        Box::pin(async move { finish(&cell, job.co_run().await) })
    }
    fn shutdown(&self) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            self.job.co_shutdown().await;
            true
        })
    }
    fn kind(&self) -> String {
        self.job.kind()
    }
    fn default_label(&self) -> String {
        self.job.default_label()
    }
    fn details(&self) -> Option<String> {
        self.job.details()
    }
    fn result_text(&self) -> Option<String> {
        self.cell.result().map(J::result_text)
    }
    fn as_any(&self) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(Arc::clone(&self.job) as Arc<dyn std::any::Any + Send + Sync>)
    }
}

/// A nested scheduler, seen by its parent as one job whose result is its run's.
pub(crate) struct NestedBody {
    pub slot: Arc<NestedSlot>,
    pub cell: Arc<Cell<bool>>,
}

impl ErasedAbstract for NestedBody {
    fn start(&self) -> RunFuture {
        crate::run::run_nested(Arc::clone(&self.slot), Arc::clone(&self.cell))
    }
    fn shutdown(&self) -> BoxFuture<'_, bool> {
        crate::shutdown::shutdown_nested(Arc::clone(&self.slot))
    }
    fn kind(&self) -> String {
        "Scheduler".into()
    }
    fn default_label(&self) -> String {
        self.slot.lock().label()
    }
    fn details(&self) -> Option<String> {
        None
    }
    fn nested(&self) -> Option<&Arc<NestedSlot>> {
        Some(&self.slot)
    }
    fn result_text(&self) -> Option<String> {
        self.cell.result().map(|fine| format!("{fine:?}"))
    }
}

pub(crate) fn finish<T>(cell: &Cell<T>, outcome: Result<T, JobError>) -> Status {
    let status = match &outcome {
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    };
    cell.set_outcome(outcome);
    status
}

/// A readable default label from a future's type name: `crate::in_out::{{closure}}` → `in_out`.
pub(crate) fn label_from_type_name(name: &str) -> &str {
    let mut base = name.split('<').next().unwrap_or(name);
    while let Some(stripped) = base.strip_suffix("::{{closure}}") {
        base = stripped;
    }
    base.rsplit("::").next().unwrap_or(base)
}

/// Per-job options kept by the scheduler.
#[derive(Debug, Clone)]
pub(crate) struct JobOptions {
    pub label: Option<String>,
    pub critical: bool,
    pub forever: bool,
    pub requires: Vec<JobRef>,
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions {
            label: None,
            critical: true,
            forever: false,
            requires: Vec::new(),
        }
    }
}

/// A job not yet added to a scheduler: what it runs plus its options.
///
/// Build it from a future with [`Job::new`] (fallible) or [`Job::ok`]
/// (infallible), or from any [`AbstractJob`] with [`Job::from_abstract`] or the
/// [`JobExt`] methods; then [`Scheduler::add`] it, which hands back a typed
/// [`JobHandle`]. Jobs are critical by default, as in asynciojobs.
///
/// Mind futures that do work when *created*: `tokio::time::sleep(d)` fixes its
/// deadline at creation, so `Job::ok(sleep(d))` counts from when the job was
/// built, not from when it starts. Write `Job::ok(async move { sleep(d).await })`
/// (or call an `async fn`, whose body only runs once polled).
///
/// ```
/// use asyncjobs_core::{Job, Scheduler};
/// let mut s = Scheduler::new();
/// let a = s.add(Job::ok(async { 1 }).label("a"));
/// let b = s.add(Job::new(async { Err::<u8, _>(std::io::Error::other("boom")) })
///     .label("b").critical(false).requires(&a));
/// assert!(s.run().unwrap());           // b is not critical: the run is still fine
/// assert_eq!(b.raised_exception().unwrap().to_string(), "boom");
/// ```
#[must_use = "a job does nothing until added to a scheduler"]
pub struct Job<B> {
    body: B,
    pub(crate) opts: JobOptions,
}

/// What a [`Job`] runs: a future or an [`AbstractJob`]. Implemented by this crate only.
pub trait JobBody: Send + 'static {
    /// The job's result type.
    type Output: Debug + Send + Sync + 'static;
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn into_body(self, cell: Arc<Cell<Self::Output>>) -> (Body, Option<BoxFuture<'static, ()>>);
}

/// A [`JobBody`] made of a future.
pub struct FutureBody<F> {
    fut: F,
    name: fn() -> &'static str,
    shutdown: Option<BoxFuture<'static, ()>>,
}

/// A [`JobBody`] made of an [`AbstractJob`].
pub struct AbstractJobBody<J>(Arc<J>);

impl<F, T, E> JobBody for FutureBody<F>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Debug + Send + Sync + 'static,
    E: Into<JobError>,
{
    type Output = T;
    #[allow(private_interfaces)]
    fn into_body(self, cell: Arc<Cell<T>>) -> (Body, Option<BoxFuture<'static, ()>>) {
        let fut = self.fut;
        let body = Body::Future {
            // a combinator, not an `async move` block: such a block keeps room for the
            // captured future *and* for it while awaited, doubling its size per layer
            fut: Box::pin(fut.map(move |outcome| finish(&cell, outcome.map_err(Into::into)))),
            name: self.name,
        };
        (body, self.shutdown)
    }
}

impl<J: AbstractJob> JobBody for AbstractJobBody<J> {
    type Output = J::Output;
    #[allow(private_interfaces)]
    fn into_body(self, cell: Arc<Cell<J::Output>>) -> (Body, Option<BoxFuture<'static, ()>>) {
        (
            Body::Abstract(Box::new(AbstractBody { job: self.0, cell })),
            None,
        )
    }
}

impl<F> Job<FutureBody<F>> {
    /// A job running a fallible future; its error becomes the job's error.
    pub fn new<T, E>(fut: F) -> Self
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<JobError>,
    {
        Job {
            body: FutureBody {
                fut,
                name: std::any::type_name::<F>,
                shutdown: None,
            },
            opts: JobOptions::default(),
        }
    }

    /// What runs when the scheduler is [shut down](Scheduler::shutdown) (the Python `coshutdown`).
    pub fn on_shutdown(mut self, fut: impl Future<Output = ()> + Send + 'static) -> Self {
        self.body.shutdown = Some(Box::pin(fut));
        self
    }
}

impl Job<()> {
    /// A job running an infallible future; its output is the job's result.
    pub fn ok<T, G>(
        fut: G,
    ) -> Job<FutureBody<impl Future<Output = Result<T, std::convert::Infallible>> + Send>>
    where
        G: Future<Output = T> + Send + 'static,
    {
        Job {
            body: FutureBody {
                fut: fut.map(Ok),
                name: std::any::type_name::<G>,
                shutdown: None,
            },
            opts: JobOptions::default(),
        }
    }

    /// A job running an [`AbstractJob`] implementation.
    pub fn from_abstract<J: AbstractJob>(job: J) -> Job<AbstractJobBody<J>> {
        Job {
            body: AbstractJobBody(Arc::new(job)),
            opts: JobOptions::default(),
        }
    }
}

impl<B> Job<B> {
    /// The label shown in listings and graphs.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.opts.label = Some(label.into());
        self
    }
    /// Whether a failure of this job aborts the scheduler (default: true).
    pub fn critical(mut self, critical: bool) -> Self {
        self.opts.critical = critical;
        self
    }
    /// Whether the job runs forever: not waited for, cancelled once all other jobs are done.
    pub fn forever(mut self, forever: bool) -> Self {
        self.opts.forever = forever;
        self
    }
    /// Adds requirements: jobs that must be done before this one starts.
    pub fn requires(mut self, reqs: impl Requirements) -> Self {
        reqs.push_refs(&mut self.opts.requires);
        self
    }
}

/// Options for any [`AbstractJob`], without wrapping it by hand in a [`Job`].
pub trait JobExt: AbstractJob + Sized {
    /// Wraps the job in a [`Job`] with default options.
    fn into_job(self) -> Job<AbstractJobBody<Self>> {
        Job::from_abstract(self)
    }
    /// See [`Job::label`].
    fn label(self, label: impl Into<String>) -> Job<AbstractJobBody<Self>> {
        self.into_job().label(label)
    }
    /// See [`Job::critical`].
    fn critical(self, critical: bool) -> Job<AbstractJobBody<Self>> {
        self.into_job().critical(critical)
    }
    /// See [`Job::forever`].
    fn forever(self, forever: bool) -> Job<AbstractJobBody<Self>> {
        self.into_job().forever(forever)
    }
    /// See [`Job::requires`].
    fn requires(self, reqs: impl Requirements) -> Job<AbstractJobBody<Self>> {
        self.into_job().requires(reqs)
    }
}
impl<J: AbstractJob> JobExt for J {}

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

impl<B: JobBody> Addable for Job<B> {
    type Handle = JobHandle<B::Output>;
    fn add_after(
        mut self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (Self::Handle, Option<(JobRef, JobRef)>) {
        self.opts.requires.extend(prev);
        let body = self.body;
        let h = s.push_record(self.opts, |cell| body.into_body(cell));
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

/// Things a job can require: handles, refs, sequences (their last job), and
/// collections of them (arrays, slices, `Vec`, `Option`, tuples).
pub trait Requirements {
    /// Appends the required jobs to `out`.
    fn push_refs(&self, out: &mut Vec<JobRef>);
}

impl Requirements for JobRef {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        out.push(*self)
    }
}
impl<T: Debug + Send + Sync> Requirements for JobHandle<T> {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        out.push(self.job_ref())
    }
}
impl Requirements for SequenceHandle {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        out.extend(self.last())
    }
}
impl<R: Requirements + ?Sized> Requirements for &R {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        (**self).push_refs(out)
    }
}
impl<R: Requirements> Requirements for [R] {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        self.iter().for_each(|r| r.push_refs(out))
    }
}
impl<R: Requirements, const N: usize> Requirements for [R; N] {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        self.iter().for_each(|r| r.push_refs(out))
    }
}
impl<R: Requirements> Requirements for Vec<R> {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        self.iter().for_each(|r| r.push_refs(out))
    }
}
impl<R: Requirements> Requirements for Option<R> {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        if let Some(r) = self {
            r.push_refs(out)
        }
    }
}
macro_rules! tuple_requirements {
    ($($name:ident)+) => {
        impl<$($name: Requirements),+> Requirements for ($($name,)+) {
            #[allow(non_snake_case)]
            fn push_refs(&self, out: &mut Vec<JobRef>) {
                let ($($name,)+) = self;
                $($name.push_refs(out);)+
            }
        }
    };
}
tuple_requirements!(A B);
tuple_requirements!(A B C);
tuple_requirements!(A B C D);
tuple_requirements!(A B C D E);
tuple_requirements!(A B C D E F);

/// Anything that names one job: a handle or a [`JobRef`].
pub trait AsJobRef {
    /// The job's identity.
    fn as_job_ref(&self) -> JobRef;
}
impl AsJobRef for JobRef {
    fn as_job_ref(&self) -> JobRef {
        *self
    }
}
impl<T: Debug + Send + Sync> AsJobRef for JobHandle<T> {
    fn as_job_ref(&self) -> JobRef {
        self.job_ref()
    }
}
