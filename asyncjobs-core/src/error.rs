//! Errors: [`JobError`], what a job fails with, and [`SchedulerError`], what a run or a check reports.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::listing::format_secs;

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
    error: Box<dyn std::error::Error + Send + Sync + 'static>,
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
            error: Box::new(error),
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
            error,
        }))
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

/// Why a run could not start, or how a critical scheduler failed.
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
    /// A job requires a job that belongs to another scheduler (a parent, a sibling,
    /// a nested one). [`Scheduler::sanitize`](crate::Scheduler::sanitize) removes such requirements.
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
    /// The scheduler has already been run; a scheduler runs once.
    AlreadyRun {
        /// Label of the scheduler.
        scheduler: String,
    },
    /// [`Scheduler::run`](crate::Scheduler::run) was called from inside a tokio runtime; use `co_run().await` there.
    InsideRuntime,
    /// The runtime for [`Scheduler::run`](crate::Scheduler::run) could not be built.
    Runtime(String),
    /// A critical scheduler did not complete within its timeout.
    Timeout {
        /// Label of the scheduler.
        scheduler: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// A critical job failed, so the critical scheduler holding it failed.
    CriticalJobFailed {
        /// Label of the scheduler.
        scheduler: String,
        /// Label of the critical job that failed.
        job: String,
        /// The job's own error, unchanged through nesting levels.
        error: JobError,
    },
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
            SchedulerError::Runtime(e) => write!(f, "cannot build a tokio runtime: {e}"),
            SchedulerError::Timeout { scheduler, timeout } => {
                write!(f, "critical scheduler `{scheduler}` TIMED OUT after {}s", format_secs(*timeout))
            }
            SchedulerError::CriticalJobFailed { scheduler, job, error } => {
                write!(f, "critical job `{job}` in scheduler `{scheduler}` failed: {error}")
            }
        }
    }
}

impl std::error::Error for SchedulerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SchedulerError::CriticalJobFailed { error, .. } => Some(error.as_error()),
            _ => None,
        }
    }
}
