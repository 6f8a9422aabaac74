//! What the scheduler stores of a job: its [`Body`] (a future, or a job
//! object behind [`ErasedAbstract`]), and the [`JobBody`] conversions that
//! make one from what [`Job`](crate::Job) was given.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};

use crate::abstract_job::AbstractJob;
use crate::error::{JobError, SchedulerError};
use crate::handle::Cell;

pub(crate) type Status = Result<(), JobError>;
pub(crate) type RunFuture = Pin<Box<dyn Future<Output = Status> + Send>>;
/// A listing's text for a result given as `Any` (set per job with
/// [`Job::result_text`](crate::Job::result_text)); `None` when the type does not match.
pub(crate) type TextFn = Box<dyn Fn(&dyn Any) -> Option<String> + Send + Sync>;

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
    /// What a parent needs of a nested scheduler, when this job is one.
    pub fn nested(&self) -> Option<&dyn NestedHooks> {
        match self {
            Body::Abstract(j) => j.nested(),
            Body::Future { .. } => None,
        }
    }

    /// Starts the job: its future (once; what stays behind fails if started
    /// again), or a new `co_run` of its job object.
    pub fn start(&mut self) -> RunFuture {
        match self {
            // a future runs once: what stays behind is a stand-in that allocates nothing
            Body::Future { fut, .. } => std::mem::replace(fut, Box::pin(AlreadyRan)),
            Body::Abstract(job) => job.start(),
        }
    }
}

/// Left in place of a job's future once it started (a scheduler runs once).
struct AlreadyRan;
impl Future for AlreadyRan {
    type Output = Status;
    fn poll(self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Status> {
        std::task::Poll::Ready(Err(JobError::msg("internal: job future already consumed")))
    }
}

/// A job object as the scheduler sees it, whatever its result type.
pub(crate) trait ErasedAbstract: Send + Sync {
    fn start(&self) -> RunFuture;
    /// Resolves to false when a nested shutdown did not finish in time.
    fn shutdown(&self) -> BoxFuture<'_, bool>;
    /// Set only by nested schedulers.
    fn nested(&self) -> Option<&dyn NestedHooks> {
        None
    }
    /// The result as listings show it, once done without error.
    fn result_text(&self) -> Option<String>;
    /// The job object itself, for typed queries (`Scheduler::jobs_of`).
    fn as_any(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }
    fn kind(&self) -> String;
    fn default_label(&self) -> String;
    fn graph_label(&self) -> Option<String>;
    fn details(&self) -> Option<String>;
    fn graph_details(&self) -> Option<String>;
    fn graph_target(&self) -> Option<String>;
}

/// What a scheduler needs of a nested scheduler it holds, without naming the
/// `Scheduler` type (which sits above this module): checks, sanitizing, size,
/// and the nested body itself for the modules above `scheduler` to downcast.
pub(crate) trait NestedHooks: Send + Sync {
    /// `check()` of the nested scheduler (`NestedBusy` while it runs).
    fn check(&self) -> Result<(), SchedulerError>;
    /// `sanitize()` of the nested scheduler: true when nothing was removed.
    fn sanitize(&self) -> bool;
    /// Number of jobs inside, at any depth (a nested scheduler counts one plus its content).
    fn size(&self) -> usize;
    fn as_any(&self) -> &dyn Any;
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
    fn graph_label(&self) -> Option<String> {
        self.job.default_graph_label()
    }
    fn details(&self) -> Option<String> {
        self.job.details()
    }
    fn graph_details(&self) -> Option<String> {
        self.job.graph_details()
    }
    fn graph_target(&self) -> Option<String> {
        self.job.graph_target()
    }
    fn result_text(&self) -> Option<String> {
        self.cell.result().map(J::result_text)
    }
    fn as_any(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(Arc::clone(&self.job) as Arc<dyn Any + Send + Sync>)
    }
}

/// Records a job's outcome in its cell; what the scheduler needs of it.
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

/// What a [`Job`](crate::Job) runs: a future or an [`AbstractJob`]. Implemented by this crate only.
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

impl<F> FutureBody<F> {
    /// `fut`, labelled by default after the type `name` gives.
    pub(crate) fn new(fut: F, name: fn() -> &'static str) -> Self {
        FutureBody {
            fut,
            name,
            shutdown: None,
        }
    }
    pub(crate) fn set_shutdown(&mut self, hook: BoxFuture<'static, ()>) {
        self.shutdown = Some(hook);
    }
}

/// A [`JobBody`] made of an [`AbstractJob`].
pub struct AbstractJobBody<J>(Arc<J>);

impl<J> AbstractJobBody<J> {
    pub(crate) fn new(job: J) -> Self {
        AbstractJobBody(Arc::new(job))
    }
}

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
