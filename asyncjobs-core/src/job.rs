//! [`Job`]: a job not yet added to a scheduler, with the per-job options the
//! scheduler keeps (label, graph label, critical, forever, requirements, how
//! listings show its result), and [`JobExt`], the same options for any
//! [`AbstractJob`].

use std::any::Any;
use std::fmt::Display;
use std::future::Future;

use futures::future::FutureExt;

use crate::abstract_job::AbstractJob;
use crate::body::{AbstractJobBody, FutureBody, JobBody, TextFn};
use crate::error::JobError;
use crate::handle::JobRef;
use crate::requirements::Requirements;

/// Per-job options kept by the scheduler.
pub(crate) struct JobOptions {
    pub label: Option<String>,
    pub graph_label: Option<String>,
    pub critical: bool,
    pub forever: bool,
    pub requires: Vec<JobRef>,
    /// How listings show the result, when not the default.
    pub text: Option<TextFn>,
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions {
            label: None,
            graph_label: None,
            critical: true,
            forever: false,
            requires: Vec::new(),
            text: None,
        }
    }
}

/// A job not yet added to a scheduler: what it runs plus its options.
///
/// Build it from a future with [`Job::new`] (fallible) or [`Job::ok`]
/// (infallible), or from any [`AbstractJob`] with [`Job::from_abstract`] or the
/// [`JobExt`] methods; then [`Scheduler::add`](crate::Scheduler::add) it, which hands back a typed
/// [`JobHandle`](crate::JobHandle). Jobs are critical by default, as in asynciojobs.
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
    opts: JobOptions,
}

impl<F> Job<FutureBody<F>> {
    /// A job running a fallible future; its error becomes the job's error.
    pub fn new<T, E>(fut: F) -> Self
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<JobError>,
    {
        Job {
            body: FutureBody::new(fut, std::any::type_name::<F>),
            opts: JobOptions::default(),
        }
    }

    /// What runs when the scheduler is [shut down](crate::Scheduler::shutdown) (the Python `coshutdown`).
    pub fn on_shutdown(mut self, fut: impl Future<Output = ()> + Send + 'static) -> Self {
        self.body.set_shutdown(Box::pin(fut));
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
            body: FutureBody::new(fut.map(Ok), std::any::type_name::<G>),
            opts: JobOptions::default(),
        }
    }

    /// A job running an [`AbstractJob`] implementation.
    pub fn from_abstract<J: AbstractJob>(job: J) -> Job<AbstractJobBody<J>> {
        Job {
            body: AbstractJobBody::new(job),
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
    /// The label graphs draw instead of `{id}: {label}` (the reference's
    /// `graph_label`, e.g. a command on several lines); listings keep [`label`](Self::label).
    pub fn graph_label(mut self, label: impl Into<String>) -> Self {
        self.opts.graph_label = Some(label.into());
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
    /// The body and the options, for [`Scheduler::add`](crate::Scheduler::add).
    pub(crate) fn into_parts(self) -> (B, JobOptions) {
        (self.body, self.opts)
    }
}

impl<B: JobBody> Job<B> {
    /// Listings show the result through `Display` (`[[ -> 1.5s]]`) instead of
    /// the default (a string as its text, any other type through `Debug`).
    ///
    /// ```
    /// use asyncjobs_core::{Job, ListOptions, Scheduler, Symbols};
    /// let mut s = Scheduler::new();
    /// s.add(Job::ok(async { 100.0 }).label("debug"));
    /// s.add(Job::ok(async { 100.0 }).label("display").display_result());
    /// s.add(Job::ok(async { String::from("duration=1") }).label("text"));
    /// assert!(s.run().unwrap());
    /// let opts = ListOptions { symbols: Symbols::Ascii, ..Default::default() };
    /// let listing = s.listing(&opts).unwrap();
    /// assert!(listing.contains("<Job `debug`>[[ -> 100.0]]"));
    /// assert!(listing.contains("<Job `display`>[[ -> 100]]"));
    /// assert!(listing.contains("<Job `text`>[[ -> duration=1]]"));
    /// ```
    pub fn display_result(self) -> Self
    where
        B::Output: Display,
    {
        self.result_text(|v: &B::Output| v.to_string())
    }

    /// Listings show the result as `text` makes it (keep it short, on one line).
    ///
    /// ```
    /// use asyncjobs_core::{Job, Scheduler};
    /// let mut s = Scheduler::new();
    /// s.add(Job::ok(async { vec![0, 0, 1] }).result_text(|v| format!("{} statuses", v.len())));
    /// assert!(s.run().unwrap());
    /// assert!(s.listing(&Default::default()).unwrap().contains("[[ -> 3 statuses]]"));
    /// ```
    pub fn result_text(
        mut self,
        text: impl Fn(&B::Output) -> String + Send + Sync + 'static,
    ) -> Self {
        self.opts.text = Some(Box::new(move |any: &dyn Any| {
            any.downcast_ref::<B::Output>().map(&text)
        }));
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
    /// See [`Job::graph_label`].
    fn graph_label(self, label: impl Into<String>) -> Job<AbstractJobBody<Self>> {
        self.into_job().graph_label(label)
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
    /// See [`Job::display_result`].
    fn display_result(self) -> Job<AbstractJobBody<Self>>
    where
        Self::Output: Display,
    {
        self.into_job().display_result()
    }
}
impl<J: AbstractJob> JobExt for J {}
