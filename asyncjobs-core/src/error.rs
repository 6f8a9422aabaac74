//! Errors: [`JobError`], what a job fails with, [`SchedulerError`], what a
//! run, a check or an edit reports, and [`ErrorChain`] to print an error with
//! its causes.
//!
//! Each message says what failed at its own level; the cause is the error's
//! `source()`, never copied into the message, so a chain prints each cause once.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::text::format_secs;

/// The error a job failed with (Python's "raised exception").
///
/// Cheap to clone (one `Arc`), so the same error is kept by the job, shown by
/// listings, and returned by critical schedulers through any number of nesting
/// levels unchanged. Any `std::error::Error + Send + Sync + 'static` converts into
/// it with `?` or `.into()`; [`JobError::downcast_ref`] gets the original back.
///
/// ```
/// use asyncjobs_core::JobError;
/// let e: JobError = std::io::Error::other("disk full").into();
/// assert_eq!(e.to_string(), "disk full");
/// assert_eq!(e.kind(), "Error");
/// assert!(e.downcast_ref::<std::io::Error>().is_some());
/// ```
#[derive(Clone)]
pub struct JobError(Arc<Inner>);

struct Inner {
    kind: Cow<'static, str>,
    /// Shared, so [`JobError::with_brief`] can rewrap an error already cloned.
    error: Arc<dyn std::error::Error + Send + Sync + 'static>,
    brief: Option<Box<str>>,
}

impl JobError {
    /// Wraps any error; its kind (shown in listings) is the short name of its type.
    pub fn new<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        Self::with_kind(short_type_name::<E>(), error)
    }

    /// Wraps an error under an explicit kind, as listings show it (`!! exception => KIND:message!!`).
    pub fn with_kind<E: std::error::Error + Send + Sync + 'static>(
        kind: impl Into<Cow<'static, str>>,
        error: E,
    ) -> Self {
        JobError(Arc::new(Inner {
            kind: kind.into(),
            error: Arc::new(error),
            brief: None,
        }))
    }

    /// An error made of a message only, of kind `Error`.
    pub fn msg(message: impl Into<String>) -> Self {
        Self::with_kind("Error", Message(message.into()))
    }

    /// Wraps an already boxed error (e.g. from `anyhow::Error::into()`), of kind `Error`.
    pub fn from_boxed(error: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        JobError(Arc::new(Inner {
            kind: Cow::Borrowed("Error"),
            error: Arc::from(error),
            brief: None,
        }))
    }

    /// The same error with a one-line summary for pictures and summaries,
    /// where the whole message would not fit: a failed command gives its exit
    /// status and the last line of its stderr rather than the command again.
    /// Listings and chains still show the whole message.
    ///
    /// ```
    /// use asyncjobs_core::JobError;
    /// let e = JobError::msg("command `make` failed on web1 (exit 2)\nno rule")
    ///     .with_brief("exit 2: no rule");
    /// assert_eq!(e.brief(), Some("exit 2: no rule"));
    /// assert_eq!(JobError::msg("a\nb").brief(), None);
    /// ```
    pub fn with_brief(mut self, brief: impl Into<String>) -> Self {
        let brief = Some(brief.into().into_boxed_str());
        match Arc::get_mut(&mut self.0) {
            Some(inner) => inner.brief = brief,
            None => {
                self = JobError(Arc::new(Inner {
                    kind: self.0.kind.clone(),
                    error: Arc::clone(&self.0.error),
                    brief,
                }))
            }
        }
        self
    }

    /// The one-line summary given by [`with_brief`](Self::with_brief), if any.
    pub fn brief(&self) -> Option<&str> {
        self.0.brief.as_deref()
    }

    /// The kind shown in listings: by default the short name of the error's type.
    pub fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The wrapped error, for `source()` chains.
    pub fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0.error
    }

    /// The wrapped error as its concrete type, if it is one.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.error.downcast_ref::<E>()
    }

    /// True when both values are the very same error (one was cloned from the other).
    pub fn same_as(&self, other: &JobError) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for JobError {
    fn from(error: E) -> Self {
        JobError::new(error)
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.error, f)
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.0.kind, self.0.error)
    }
}

#[derive(Debug)]
struct Message(String);
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Message {}

/// The last path segment of a type name, without generic arguments.
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Why a run could not start, how a critical scheduler failed, or why an
/// edit or a query was refused.
///
/// Messages name the scheduler and the job; causes are in
/// [`source()`](std::error::Error::source) (print them with [`ErrorChain`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SchedulerError {
    /// The requirement graph has a cycle; the labels of the jobs on it, in order.
    Cycle {
        /// Label of the scheduler holding the cycle.
        scheduler: String,
        /// Labels of the jobs on the cycle, the first one repeated at the end.
        jobs: Vec<String>,
    },
    /// A job requires a job that is not in its scheduler: one of another
    /// scheduler (a parent, a sibling, a nested one) or one
    /// [removed](crate::Scheduler::remove) since.
    /// [`Scheduler::sanitize`](crate::Scheduler::sanitize) drops such requirements.
    ForeignRequirement {
        /// Label of the scheduler holding the job.
        scheduler: String,
        /// Label of the job that has the requirement.
        job: String,
    },
    /// A job handle given to a scheduler that does not hold that job.
    NotInScheduler {
        /// Label of the scheduler.
        scheduler: String,
    },
    /// `remove_requirement` of a requirement the job does not have.
    NoSuchRequirement {
        /// Label of the scheduler.
        scheduler: String,
        /// Label of the job.
        job: String,
    },
    /// [`Scheduler::handle`](crate::Scheduler::handle) asked for a result type
    /// the job does not have.
    WrongResultType {
        /// Label of the scheduler.
        scheduler: String,
        /// Label of the job.
        job: String,
        /// The result type asked for.
        asked: &'static str,
    },
    /// A nested scheduler cannot be reached: its parent is running it (or it is
    /// already being edited, e.g. from inside its own edit).
    NestedBusy {
        /// Label of the nested scheduler.
        scheduler: String,
    },
    /// The scheduler has already been run; a scheduler runs once.
    AlreadyRun {
        /// Label of the scheduler.
        scheduler: String,
    },
    /// [`Scheduler::run`](crate::Scheduler::run) was called from inside a tokio runtime; use `co_run().await` there.
    InsideRuntime,
    /// The runtime for [`Scheduler::run`](crate::Scheduler::run) could not be
    /// built; the cause is the I/O error.
    Runtime(Arc<std::io::Error>),
    /// A critical scheduler did not complete within its timeout.
    Timeout {
        /// Label of the scheduler.
        scheduler: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// A critical job failed, so the critical scheduler holding it failed; the
    /// cause (`source()`) is the job's own error.
    CriticalJobFailed {
        /// Label of the scheduler.
        scheduler: String,
        /// Label of the critical job that failed.
        job: String,
        /// The job's own error, unchanged through nesting levels.
        error: JobError,
    },
}

impl SchedulerError {
    /// [`SchedulerError::Runtime`] from the error of building a tokio runtime.
    pub fn runtime(error: std::io::Error) -> Self {
        SchedulerError::Runtime(Arc::new(error))
    }
}

impl fmt::Display for SchedulerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedulerError::Cycle { scheduler, jobs } => {
                let chain: Vec<String> = jobs.iter().map(|j| format!("`{j}`")).collect();
                write!(f, "scheduler `{scheduler}`: cycle in requirements: {}", chain.join(" requires "))
            }
            SchedulerError::NotInScheduler { scheduler } => {
                write!(f, "the job given is not in scheduler `{scheduler}`")
            }
            SchedulerError::NoSuchRequirement { scheduler, job } => {
                write!(f, "scheduler `{scheduler}`: job `{job}` has no such requirement")
            }
            SchedulerError::WrongResultType { scheduler, job, asked } => write!(
                f,
                "scheduler `{scheduler}`: the result of job `{job}` is not of type `{asked}`"
            ),
            SchedulerError::NestedBusy { scheduler } => write!(
                f,
                "nested scheduler `{scheduler}` is in use (its parent is running it, or it is being edited)"
            ),
            SchedulerError::ForeignRequirement { scheduler, job } => write!(
                f,
                "scheduler `{scheduler}`: job `{job}` requires a job of another scheduler \
                 or a removed one (requirements must stay within one scheduler; sanitize() drops them)"
            ),
            SchedulerError::AlreadyRun { scheduler } => {
                write!(f, "scheduler `{scheduler}` has already run; build a new one to run again")
            }
            SchedulerError::InsideRuntime => f.write_str(
                "Scheduler::run() called from inside a tokio runtime; use `scheduler.co_run().await` there",
            ),
            SchedulerError::Runtime(_) => f.write_str("cannot build a tokio runtime"),
            SchedulerError::Timeout { scheduler, timeout } => {
                write!(f, "critical scheduler `{scheduler}` TIMED OUT after {}s", format_secs(*timeout))
            }
            SchedulerError::CriticalJobFailed { scheduler, job, .. } => {
                write!(f, "critical job `{job}` in scheduler `{scheduler}` failed")
            }
        }
    }
}

impl std::error::Error for SchedulerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SchedulerError::CriticalJobFailed { error, .. } => Some(error.as_error()),
            SchedulerError::Runtime(error) => Some(&**error),
            _ => None,
        }
    }
}

/// Shows an error and each of its causes once, joined by `: ` —
/// `critical job `x` in scheduler `s` failed: connection refused` — the way
/// `anyhow` shows a chain with `{:#}`. With `{:#}`, one cause per line, each
/// after `caused by: `.
///
/// ```
/// use asyncjobs_core::{ErrorChain, Job, Scheduler};
///
/// let mut s = Scheduler::new().label("s");
/// s.add(Job::new(async { Err::<(), _>(std::io::Error::other("disk full")) }).label("save"));
/// let e = s.run().unwrap_err();
/// assert_eq!(e.to_string(), "critical job `save` in scheduler `s` failed");
/// assert_eq!(ErrorChain(&e).to_string(), "critical job `save` in scheduler `s` failed: disk full");
/// assert_eq!(
///     format!("{:#}", ErrorChain(&e)),
///     "critical job `save` in scheduler `s` failed\n  caused by: disk full"
/// );
/// ```
#[derive(Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            if f.alternate() {
                write!(f, "\n  caused by: {c}")?;
            } else {
                write!(f, ": {c}")?;
            }
            cause = c.source();
        }
        Ok(())
    }
}

impl fmt::Debug for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
