//! [`Outcome`]: what became of a job after a run, and its colours.

use asyncjobs_core::{JobState, JobView};

/// What became of a job, as outcome colours show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Done, without an error.
    Succeeded,
    /// Done with an error, critical or not (the border tells which).
    Raised,
    /// Started, then cancelled: a forever job at the end of a run, a job cut by
    /// a timeout or by a critical failure elsewhere.
    Cancelled,
    /// Still running when the picture was taken.
    Running,
    /// Never started (idle or scheduled).
    NeverRan,
}

impl Outcome {
    /// Every outcome, in legend order.
    pub const ALL: [Outcome; 5] = [
        Outcome::Succeeded,
        Outcome::Raised,
        Outcome::Cancelled,
        Outcome::NeverRan,
        Outcome::Running,
    ];

    /// The outcome of a job from its state and error.
    ///
    /// A non-critical nested scheduler that failed returns `false` rather than
    /// an error: it counts as raised when one of its critical jobs raised, and
    /// as timed out otherwise.
    pub fn of(job: &JobView) -> Outcome {
        match job.state {
            JobState::Done if job.error.is_some() => Outcome::Raised,
            JobState::Done => match &job.nested {
                Some(inner) if job.result.as_deref() == Some("false") => {
                    let critical_raised = inner
                        .jobs
                        .iter()
                        .any(|j| j.critical && Outcome::of(j) == Outcome::Raised);
                    if critical_raised {
                        Outcome::Raised
                    } else {
                        Outcome::Cancelled
                    }
                }
                _ => Outcome::Succeeded,
            },
            JobState::Cancelled => Outcome::Cancelled,
            JobState::Running => Outcome::Running,
            JobState::Idle | JobState::Scheduled => Outcome::NeverRan,
        }
    }

    /// How the legend names it.
    pub fn text(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Raised => "raised an error",
            Outcome::Cancelled => "cancelled / timed out",
            Outcome::Running => "still running",
            Outcome::NeverRan => "never ran",
        }
    }

    /// Fill colour of a job box.
    pub fn fill(self) -> &'static str {
        match self {
            Outcome::Succeeded => "#b6e3b0",
            Outcome::Raised => "#f4a3a3",
            Outcome::Cancelled => "#ffd591",
            Outcome::Running => "#a9cff2",
            Outcome::NeverRan => "#e4e4e4",
        }
    }

    /// Lighter fill of a nested scheduler's cluster, so its jobs stand out on it.
    pub fn cluster_fill(self) -> &'static str {
        match self {
            Outcome::Succeeded => "#eef8ec",
            Outcome::Raised => "#fcebeb",
            Outcome::Cancelled => "#fff4e0",
            Outcome::Running => "#eaf3fc",
            Outcome::NeverRan => "#f6f6f6",
        }
    }
}
