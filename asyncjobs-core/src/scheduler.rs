//! [`Scheduler`]: a [`Graph`] of jobs plus the scheduler's own settings
//! (label, timeout, window, critical, forever), its checks, its run and its
//! shutdown, and what the last run came to. Its fields are private to this
//! module: the modules above it (nesting, sequences, listings, graph queries
//! and surgery) go through its methods and through [`Graph`]'s.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};

use crate::body::Body;
use crate::error::SchedulerError;
use crate::graph::{Fault, Graph};
use crate::handle::{Cell, JobHandle, JobRef, JobState};
use crate::job::JobOptions;
use crate::requirements::{AsJobRef, Requirements};
use crate::run::{run_graph, End, Settings};
use crate::shutdown::shutdown_all;
use crate::text::format_secs;

/// How the last run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Outcome {
    #[default]
    NotRun,
    Running,
    Fine,
    TimedOut,
    CriticalFailed,
    /// Its parent cancelled it while it ran.
    Cancelled,
}

/// A set of jobs with requirements between them, run concurrently on tokio.
///
/// A scheduler is itself a job: [`add`](Scheduler::add) one to another and it runs
/// as one job of its parent, with its own `timeout` and `jobs_window` applying to
/// its content. Schedulers are critical by default, as in asynciojobs.
///
/// ```
/// use asyncjobs_core::{Job, Scheduler};
/// use std::time::Duration;
///
/// let mut s = Scheduler::new().label("example").timeout(Duration::from_secs(5));
/// let a = s.add(Job::ok(async { "a" }).label("a"));
/// let b = s.add(Job::ok(async { "b" }).label("b").requires(&a));
/// assert!(s.run().unwrap());
/// assert_eq!(b.result(), Some(&"b"));
/// assert_eq!(s.why(), "FINE");
/// ```
pub struct Scheduler {
    graph: Graph,
    label: Option<String>,
    graph_label: Option<String>,
    /// The scheduler as a job of its parent: critical, forever, requirements.
    as_job: JobOptions,
    timeout: Option<Duration>,
    jobs_window: usize,
    shutdown_timeout: Option<Duration>,
    outcome: Outcome,
    shut_down: bool,
    /// Where the live feed of a verbose run goes.
    feedback: Option<Box<dyn std::io::Write + Send>>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scheduler `{}` with {}", self.get_label(), self.stats())
    }
}

impl Scheduler {
    /// An empty, critical scheduler with no timeout and no window.
    pub fn new() -> Self {
        Scheduler {
            graph: Graph::new(),
            label: None,
            graph_label: None,
            as_job: JobOptions::default(),
            timeout: None,
            jobs_window: 0,
            shutdown_timeout: Some(Duration::from_secs(1)),
            outcome: Outcome::NotRun,
            shut_down: false,
            feedback: None,
        }
    }

    /// Label shown in listings, errors and graphs; by default `Scheduler[N jobs]`.
    pub fn get_label(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| format!("Scheduler[{} jobs]", self.graph.len()))
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.set_label(label);
        self
    }

    /// Sets the label of a scheduler already built (e.g. a nested one, through
    /// [`SchedulerHandle::edit`](crate::SchedulerHandle::edit)).
    pub fn set_label(&mut self, label: impl Into<String>) {
        self.label = Some(label.into());
    }

    /// As a nested job, the label its parent's graph draws on its cluster
    /// instead of `{id}: {label}`; see [`Job::graph_label`](crate::Job::graph_label).
    pub fn graph_label(mut self, label: impl Into<String>) -> Self {
        self.graph_label = Some(label.into());
        self
    }

    /// The graph label, if one was given.
    pub fn get_graph_label(&self) -> Option<&str> {
        self.graph_label.as_deref()
    }

    /// Whether a failure (timeout or critical job failure) is an error rather than `Ok(false)`.
    /// Default: true. As a nested job, also whether its failure aborts the parent.
    pub fn critical(mut self, critical: bool) -> Self {
        self.as_job.critical = critical;
        self
    }

    /// As a nested job: whether it runs forever (cancelled once its siblings are done).
    pub fn forever(mut self, forever: bool) -> Self {
        self.as_job.forever = forever;
        self
    }

    /// As a nested job: jobs of the parent that must be done before this scheduler starts.
    pub fn requires(mut self, reqs: impl Requirements) -> Self {
        reqs.push_refs(&mut self.as_job.requires);
        self
    }

    /// A limit on the whole run's duration; when it expires, running jobs are
    /// cancelled. Any `Duration` is accepted: one of a century or more
    /// (`Duration::MAX` included) cannot expire and counts as no timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets or clears the timeout of a scheduler already built (see [`timeout`](Self::timeout)).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// At most this many jobs run at once; 0 means no limit.
    pub fn jobs_window(mut self, window: usize) -> Self {
        self.jobs_window = window;
        self
    }

    /// Sets the jobs window of a scheduler already built (0: no limit).
    pub fn set_jobs_window(&mut self, window: usize) {
        self.jobs_window = window;
    }

    /// Prints a live feed of the run on stderr, as asynciojobs' verbose mode: a
    /// line as each job starts, finishes or fails, and one when the run ends,
    /// with the time elapsed and the job's listing id.
    ///
    /// ```text
    /// 000.000 STARTING 1 <Job `b1`>
    /// 000.100 DONE     1 <Job `b1`>[[ -> 100.0]]
    /// 000.300 FINISHED scheduler `sb`: FINE
    /// ```
    pub fn verbose(mut self, on: bool) -> Self {
        self.feedback = if on {
            Some(Box::new(std::io::stderr()))
        } else {
            None
        };
        self
    }

    /// The feed of [`verbose`](Self::verbose), written into `out` instead of stderr.
    pub fn feedback_to(mut self, out: impl std::io::Write + Send + 'static) -> Self {
        self.feedback = Some(Box::new(out));
        self
    }

    /// How long [`shutdown`](Self::shutdown) waits for the jobs' `co_shutdown`
    /// (default 1 s; `None`, or a century or more: no limit).
    pub fn shutdown_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Whether this scheduler is critical.
    pub fn is_critical(&self) -> bool {
        self.as_job.critical
    }
    /// Whether this scheduler, as a nested job, is forever.
    pub fn is_forever(&self) -> bool {
        self.as_job.forever
    }
    /// The timeout, if any.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }
    /// The jobs window (0: unlimited).
    pub fn get_jobs_window(&self) -> usize {
        self.jobs_window
    }

    /// Number of jobs directly in this scheduler (a nested scheduler counts as one).
    pub fn len(&self) -> usize {
        self.graph.len()
    }

    /// True when there is no job.
    pub fn is_empty(&self) -> bool {
        self.graph.is_empty()
    }

    /// Makes `job` require `reqs`, after both were added.
    ///
    /// `job` must be a job of this scheduler; requirements on jobs of other
    /// schedulers are reported when the scheduler is run or checked.
    pub fn add_requirement(
        &mut self,
        job: &impl AsJobRef,
        reqs: impl Requirements,
    ) -> Result<(), SchedulerError> {
        let job = self.own(job.as_job_ref())?;
        let mut refs = Vec::new();
        reqs.push_refs(&mut refs);
        for r in refs {
            self.graph.require(job, r);
        }
        Ok(())
    }

    /// Removes a requirement; an error if `job` is not here or did not have it.
    pub fn remove_requirement(
        &mut self,
        job: &impl AsJobRef,
        req: &impl AsJobRef,
    ) -> Result<(), SchedulerError> {
        let job = self.own(job.as_job_ref())?;
        if self.graph.unrequire(job, req.as_job_ref()) {
            Ok(())
        } else {
            Err(SchedulerError::NoSuchRequirement {
                scheduler: self.get_label(),
                job: self.graph.record(job).label(),
            })
        }
    }

    /// A typed handle on one of this scheduler's jobs, from its [`JobRef`]
    /// (or any handle): e.g. for a job found by a graph query.
    /// [`SchedulerError::WrongResultType`] when its result is not a `T`.
    ///
    /// ```
    /// use asyncjobs_core::{Job, Scheduler};
    /// let mut s = Scheduler::new();
    /// let a = s.add(Job::ok(async { 1 }).label("a"));
    /// s.add(Job::ok(async { "two" }).label("b").requires(&a));
    /// let b = s.successors(&a)?[0];
    /// assert!(s.handle::<u8>(&b).is_err());
    /// let b = s.handle::<&str>(&b)?;
    /// assert!(s.run()?);
    /// assert_eq!(b.result(), Some(&"two"));
    /// # Ok::<(), asyncjobs_core::SchedulerError>(())
    /// ```
    pub fn handle<T>(&self, job: &impl AsJobRef) -> Result<JobHandle<T>, SchedulerError>
    where
        T: Debug + Send + Sync + 'static,
    {
        let i = self.own(job.as_job_ref())?;
        let record = self.graph.record(i);
        match record.cell_any().downcast::<Cell<T>>() {
            Ok(cell) => Ok(JobHandle::new(cell, self.graph.uid())),
            Err(_) => Err(SchedulerError::WrongResultType {
                scheduler: self.get_label(),
                job: record.label(),
                asked: std::any::type_name::<T>(),
            }),
        }
    }

    /// The jobs and their requirements, for the modules above this one.
    pub(crate) fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The graph to change; [`Graph`]'s methods keep it consistent.
    pub(crate) fn graph_mut(&mut self) -> &mut Graph {
        &mut self.graph
    }

    /// The index of one of this scheduler's jobs, or [`SchedulerError::NotInScheduler`].
    pub(crate) fn own(&self, job: JobRef) -> Result<u32, SchedulerError> {
        self.graph
            .resolve(job)
            .ok_or_else(|| SchedulerError::NotInScheduler {
                scheduler: self.get_label(),
            })
    }

    /// Adds a job whose body `make` builds from its new cell; its handle.
    pub(crate) fn push_job<T>(
        &mut self,
        opts: JobOptions,
        make: impl FnOnce(Arc<Cell<T>>) -> (Body, Option<BoxFuture<'static, ()>>),
    ) -> JobHandle<T>
    where
        T: Debug + Send + Sync + 'static,
    {
        let cell = Arc::new(Cell::new(self.graph.next_serial()));
        let (body, shutdown) = make(Arc::clone(&cell));
        self.graph.push(cell.clone(), body, shutdown, opts);
        JobHandle::new(cell, self.graph.uid())
    }

    /// The options this scheduler is added to a parent with; its label stays
    /// inside it (listings ask it), its critical and forever flags too (its run needs them).
    pub(crate) fn take_job_options(&mut self) -> JobOptions {
        JobOptions {
            label: None,
            graph_label: None,
            critical: self.as_job.critical,
            forever: self.as_job.forever,
            requires: std::mem::take(&mut self.as_job.requires),
            text: None,
        }
    }

    /// Called when a parent cancels this scheduler's run (its lease is dropped).
    pub(crate) fn mark_cancelled_if_running(&mut self) {
        if self.outcome == Outcome::Running {
            self.outcome = Outcome::Cancelled;
        }
    }

    /// `"{done}D + {ongoing}R + {idle}I = {total}"`, as the reference's `stats()`.
    pub fn stats(&self) -> String {
        let (mut done, mut running) = (0, 0);
        for r in self.graph.records() {
            match r.state() {
                JobState::Done => done += 1,
                JobState::Running | JobState::Cancelled => running += 1,
                JobState::Idle | JobState::Scheduled => {}
            }
        }
        let total = self.graph.len();
        format!(
            "{done}D + {running}R + {}I = {total}",
            total - done - running
        )
    }

    /// True when the last run ended because a critical job failed.
    pub fn failed_critical(&self) -> bool {
        self.outcome == Outcome::CriticalFailed
    }

    /// The timeout, when the last run ended because of it.
    pub fn failed_time_out(&self) -> Option<Duration> {
        match self.outcome {
            Outcome::TimedOut => self.timeout,
            _ => None,
        }
    }

    /// True when the last run was cancelled by a parent scheduler before it ended.
    pub fn was_cancelled(&self) -> bool {
        self.outcome == Outcome::Cancelled
    }

    /// Whether the scheduler has been run (or is running).
    pub fn has_run(&self) -> bool {
        self.outcome != Outcome::NotRun
    }

    /// Why the last run failed: `"TIMED OUT after {t}s"`, `"a CRITICAL job has raised an exception"`, or `"FINE"`.
    pub fn why(&self) -> String {
        if let Some(t) = self.failed_time_out() {
            format!("TIMED OUT after {}s", format_secs(t))
        } else if self.failed_critical() {
            "a CRITICAL job has raised an exception".to_string()
        } else if self.was_cancelled() {
            "CANCELLED by its parent before it ended".to_string()
        } else {
            "FINE".to_string()
        }
    }

    /// Removes requirements on jobs that are not directly in this scheduler
    /// (outsiders, jobs of nested schedulers, removed jobs), here and in nested
    /// schedulers. Returns true when nothing had to be removed.
    pub fn sanitize(&mut self) -> bool {
        let mut clean = self.graph.drop_foreign();
        for nested in self.graph.nested() {
            clean &= nested.sanitize();
        }
        clean
    }

    /// Checks the whole tree (this scheduler and nested ones): no cycle, no
    /// requirement on a job of another scheduler. Errors name the jobs.
    pub fn check(&self) -> Result<(), SchedulerError> {
        self.graph.check().map_err(|f| self.fault(f))?;
        self.graph.nested().try_for_each(|n| n.check())
    }

    /// True when neither this scheduler nor a nested one has a cycle (or an
    /// unsanitized requirement, which would make the graph unrunnable too).
    pub fn check_cycles(&self) -> bool {
        self.check().is_ok()
    }

    /// The error a fault of this level's graph is reported as.
    pub(crate) fn fault(&self, fault: Fault) -> SchedulerError {
        match fault {
            Fault::Foreign(job) => SchedulerError::ForeignRequirement {
                scheduler: self.get_label(),
                job: self.graph.record(job).label(),
            },
            Fault::Cycle(path) => SchedulerError::Cycle {
                scheduler: self.get_label(),
                jobs: path.iter().map(|&i| self.graph.record(i).label()).collect(),
            },
        }
    }

    /// Runs the scheduler to completion on a runtime of its own (blocking).
    ///
    /// Returns `Ok(true)` iff every non-forever job completed within the timeout
    /// and no critical job failed. Otherwise a non-critical scheduler returns
    /// `Ok(false)` and a critical one (the default) returns the error: timeout, or
    /// the critical job that failed with its error. Structural problems (cycle,
    /// requirement on another scheduler's job, second run) are errors before any
    /// job starts. Called from inside a tokio runtime, it returns
    /// [`SchedulerError::InsideRuntime`]: use [`co_run`](Self::co_run) there.
    ///
    /// Whatever it returns, the scheduler is left as the run left it: list it,
    /// draw it and shut it down first, then propagate the outcome with `?`.
    ///
    /// ```
    /// use asyncjobs_core::{ErrorChain, Job, JobError, Scheduler, SchedulerError};
    ///
    /// fn deploy() -> Result<bool, SchedulerError> {
    ///     let mut s = Scheduler::new().label("deploy");
    ///     let fetch = s.add(Job::ok(async { "v1.2" }).label("fetch"));
    ///     s.add(Job::new(async { Err::<(), _>(JobError::msg("disk full")) })
    ///         .label("install").requires(&fetch));
    ///     let outcome = s.run(); // not `?` yet: list and shut down first
    ///     s.list();              // states, results and errors, whatever happened
    ///     s.shutdown()?;
    ///     outcome                // now the caller gets it, `?` and all
    /// }
    ///
    /// let e = deploy().unwrap_err();
    /// assert_eq!(
    ///     ErrorChain(&e).to_string(),
    ///     "critical job `install` in scheduler `deploy` failed: disk full"
    /// );
    /// ```
    pub fn run(&mut self) -> Result<bool, SchedulerError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(SchedulerError::InsideRuntime);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(SchedulerError::runtime)?;
        rt.block_on(self.co_run())
    }

    /// Runs the scheduler on the current tokio runtime; same result as
    /// [`run`](Self::run), and the same idiom: list and shut down, then `?`.
    ///
    /// ```
    /// # use asyncjobs_core::{Job, Scheduler, SchedulerError};
    /// # async fn demo() -> Result<(), SchedulerError> {
    /// let mut s = Scheduler::new();
    /// s.add(Job::ok(async { 1 }));
    /// let outcome = s.co_run().await;
    /// s.list();
    /// s.co_shutdown().await;
    /// outcome?;
    /// # Ok(()) }
    /// ```
    pub async fn co_run(&mut self) -> Result<bool, SchedulerError> {
        if self.outcome != Outcome::NotRun {
            return Err(SchedulerError::AlreadyRun {
                scheduler: self.get_label(),
            });
        }
        self.check()?;
        let plan = self.graph.take_checked_plan().map_err(|f| self.fault(f))?;
        self.outcome = Outcome::Running;
        let feed = match self.feedback.as_deref_mut() {
            Some(out) => Some((
                out,
                self.label
                    .clone()
                    .unwrap_or_else(|| format!("Scheduler[{} jobs]", self.graph.len())),
            )),
            None => None,
        };
        let settings = Settings {
            timeout: self.timeout,
            window: self.jobs_window,
            feed,
        };
        let end = run_graph(&mut self.graph, plan, settings).await;
        let (outcome, result) = match end {
            End::Fine => (Outcome::Fine, Ok(true)),
            End::TimedOut => (
                Outcome::TimedOut,
                Err(SchedulerError::Timeout {
                    scheduler: self.get_label(),
                    timeout: self.timeout.unwrap_or_default(),
                }),
            ),
            End::Critical(i, error) => (
                Outcome::CriticalFailed,
                Err(SchedulerError::CriticalJobFailed {
                    scheduler: self.get_label(),
                    job: self.graph.record(i).label(),
                    error,
                }),
            ),
        };
        self.outcome = outcome;
        match result {
            Err(e) if self.as_job.critical => Err(e),
            Err(_) => Ok(false),
            Ok(fine) => Ok(fine),
        }
    }

    /// Calls `co_shutdown` on every job, nested schedulers included, concurrently
    /// and once per scheduler; never called by a run. Waits at most the
    /// `shutdown_timeout` (1 s by default): true when every hook finished in time.
    pub async fn co_shutdown(&mut self) -> bool {
        if self.shut_down {
            return true;
        }
        self.shut_down = true;
        let mut hooks: Vec<BoxFuture<'_, bool>> = self
            .graph
            .take_shutdown_hooks()
            .into_iter()
            .map(|hook| hook.map(|()| true).boxed())
            .collect();
        hooks.extend(self.graph.records().iter().filter_map(|r| r.shutdown()));
        shutdown_all(hooks, self.shutdown_timeout).await
    }

    /// Blocking [`co_shutdown`](Self::co_shutdown) on a runtime of its own;
    /// [`SchedulerError::InsideRuntime`] when called from inside a runtime.
    pub fn shutdown(&mut self) -> Result<bool, SchedulerError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(SchedulerError::InsideRuntime);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SchedulerError::runtime)?;
        Ok(rt.block_on(self.co_shutdown()))
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }
}
