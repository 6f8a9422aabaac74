//! [`AbstractJob`]: the small interface every kind of job implements.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::error::{short_type_name, JobError};
use crate::text::default_text;

/// The interface every kind of job implements (object-safe, via `async-trait`).
///
/// Per-job options (label, critical, forever, requirements) are not part of the
/// trait: the scheduler keeps them, so every job kind gets them for free through
/// [`JobExt`](crate::JobExt) or [`Job::from_abstract`](crate::Job::from_abstract).
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

    /// Releases what the job holds; called by [`Scheduler::shutdown`](crate::Scheduler::shutdown), never automatically.
    async fn co_shutdown(&self) {}

    /// The kind shown in listings, as in `<Job `label`>`; defaults to the type's short name.
    fn kind(&self) -> String {
        short_type_name::<Self>().to_string()
    }

    /// The label used when none is given.
    fn default_label(&self) -> String {
        self.kind()
    }

    /// The label graphs draw for this job instead of `{id}: {label}` (the
    /// reference's `graph_label()`); `None` (the default) keeps that one.
    /// [`Job::graph_label`](crate::Job::graph_label) overrides it per job.
    fn default_graph_label(&self) -> Option<String> {
        None
    }

    /// Extra lines for detailed listings.
    fn details(&self) -> Option<String> {
        None
    }

    /// The lines graphs draw under the label; by default the
    /// [`details`](Self::details). A job whose details name where it runs at
    /// length (an ssh job's `user@gateway->user@host` chain) gives shorter
    /// ones here, and names the place with [`graph_target`](Self::graph_target).
    fn graph_details(&self) -> Option<String> {
        self.details()
    }

    /// Where the job runs, in a word (an ssh job: its node's name), if it is
    /// one of a fan-out. Graphs show it under the label, and draw alike jobs
    /// that differ only by their target (same label once the target is left
    /// out, same details, flags, outcome and requirements) as one box with
    /// the count and the set of targets.
    fn graph_target(&self) -> Option<String> {
        None
    }

    /// How listings show a result, as in `[[ -> {text}]]`. By default a string
    /// shows as its text and any other type through `Debug` (Rust cannot ask
    /// a generic type whether it implements `Display`: override this to use
    /// it). Keep it short and on one line.
    fn result_text(output: &Self::Output) -> String
    where
        Self: Sized,
    {
        default_text(output)
    }
}
