//! Running a scheduler: one task polls every job future itself (a ready queue
//! beside a `FuturesUnordered`), so each job and each edge costs O(1) and a
//! dependency step needs no cross-thread wake-up.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::time::{Instant, Sleep};

use crate::error::{JobError, SchedulerError};
use crate::feedback::Feedback;
use crate::graph::Plan;
use crate::handle::{Cell, JobState};
use crate::job::{Body, RunFuture, Status};
use crate::scheduler::{NestedSlot, Outcome, Record, Scheduler};

/// How a run ended.
enum End {
    Fine,
    TimedOut,
    Critical(u32, JobError),
}

/// Jobs completed inline in one poll before yielding to the runtime.
const BUDGET: u32 = 4096;

struct Tagged {
    index: u32,
    fut: RunFuture,
}

impl Future for Tagged {
    type Output = (u32, Status);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let index = self.index;
        self.fut.as_mut().poll(cx).map(|s| (index, s))
    }
}

struct Run<'a> {
    records: &'a mut [Record],
    plan: Plan,
    ready: VecDeque<u32>,
    running: FuturesUnordered<Tagged>,
    window: usize,
    in_flight: usize,
    /// Non-forever jobs not done yet.
    remaining: usize,
    deadline: Option<Pin<Box<Sleep>>>,
    end: Option<End>,
    feedback: Option<Feedback<'a>>,
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        // whatever is still in flight is cancelled by dropping it
        for t in self.running.iter() {
            self.records[t.index as usize]
                .cell
                .set_state(JobState::Cancelled);
        }
    }
}

impl Run<'_> {
    fn start(&mut self, i: u32, cx: &mut Context<'_>) {
        if let Some(fb) = &mut self.feedback {
            fb.job("STARTING", i, &self.records[i as usize]);
        }
        let record = &mut self.records[i as usize];
        record.cell.set_state(JobState::Running);
        self.in_flight += 1;
        let mut fut = match &mut record.body {
            // a future runs once: what stays behind is a stand-in that allocates nothing
            Body::Future { fut, .. } => std::mem::replace(fut, Box::pin(AlreadyRan)),
            Body::Abstract(job) => job.start(),
        };
        // poll once here: a job that completes at once never touches the set
        match fut.as_mut().poll(cx) {
            Poll::Ready(status) => self.complete(i, status),
            Poll::Pending => self.running.push(Tagged { index: i, fut }),
        }
    }

    fn complete(&mut self, i: u32, status: Status) {
        let record = &self.records[i as usize];
        record.cell.set_state(JobState::Done);
        self.in_flight -= 1;
        if let Some(fb) = &mut self.feedback {
            fb.job(if status.is_err() { "RAISED" } else { "DONE" }, i, record);
        }
        if let Err(e) = status {
            if record.critical {
                self.end = Some(End::Critical(i, e));
                return;
            }
        }
        // forever jobs do not count, but when there is nothing else, any completion ends the run
        if !record.forever || self.remaining == 0 {
            self.remaining = self.remaining.saturating_sub(1);
            if self.remaining == 0 {
                self.end = Some(End::Fine);
                return;
            }
        }
        let Run {
            plan,
            records,
            ready,
            ..
        } = self;
        let Plan {
            succ_off,
            succ,
            indegree,
        } = plan;
        for &s in &succ[succ_off[i as usize] as usize..succ_off[i as usize + 1] as usize] {
            let unmet = &mut indegree[s as usize];
            *unmet -= 1;
            if *unmet == 0 {
                records[s as usize].cell.set_state(JobState::Scheduled);
                ready.push_back(s);
            }
        }
    }

    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline
            .as_mut()
            .is_some_and(|d| d.as_mut().poll(cx).is_ready())
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<End> {
        let mut budget = BUDGET;
        loop {
            while self.window == 0 || self.in_flight < self.window {
                let Some(i) = self.ready.pop_front() else {
                    break;
                };
                self.start(i, cx);
                if let Some(end) = self.end.take() {
                    return Poll::Ready(end);
                }
                budget -= 1;
                if budget == 0 {
                    return self.yield_now(cx);
                }
            }
            match self.running.poll_next_unpin(cx) {
                Poll::Ready(Some((i, status))) => {
                    self.complete(i, status);
                    if let Some(end) = self.end.take() {
                        return Poll::Ready(end);
                    }
                    budget -= 1;
                    if budget == 0 {
                        return self.yield_now(cx);
                    }
                }
                Poll::Ready(None) | Poll::Pending => {
                    if self.timed_out(cx) {
                        return Poll::Ready(End::TimedOut);
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Lets other tasks run during long bursts of jobs that complete at once.
    fn yield_now(&mut self, cx: &mut Context<'_>) -> Poll<End> {
        if self.timed_out(cx) {
            return Poll::Ready(End::TimedOut);
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Left in place of a job's future once it started (a scheduler runs once).
struct AlreadyRan;
impl Future for AlreadyRan {
    type Output = Status;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Status> {
        Poll::Ready(Err(JobError::msg("internal: job future already consumed")))
    }
}

pub(crate) fn run_nested(slot: Arc<NestedSlot>, cell: Arc<Cell<bool>>) -> RunFuture {
    Box::pin(async move {
        let Some(mut sched) = slot.lease() else {
            return crate::job::finish(
                &cell,
                Err(JobError::msg("nested scheduler is already running")),
            );
        };
        let outcome = match sched.co_run().await {
            Ok(fine) => Ok(fine),
            // a critical job's error goes up unchanged
            Err(SchedulerError::CriticalJobFailed { error, .. }) => Err(error),
            Err(e @ SchedulerError::Timeout { .. }) => Err(JobError::with_kind("TimeoutError", e)),
            Err(e) => Err(JobError::new(e)),
        };
        crate::job::finish(&cell, outcome)
    })
}

impl Scheduler {
    /// Runs the scheduler to completion on a runtime of its own (blocking).
    ///
    /// Returns `Ok(true)` iff every non-forever job completed within the timeout
    /// and no critical job failed. Otherwise a non-critical scheduler returns
    /// `Ok(false)` and a critical one (the default) returns the error: timeout, or
    /// the critical job that failed with its error. Structural problems (cycle,
    /// requirement on another scheduler's job, second run) are errors before any
    /// job starts. Called from inside a tokio runtime, it returns
    /// [`SchedulerError::InsideRuntime`]: use [`co_run`](Self::co_run) there.
    pub fn run(&mut self) -> Result<bool, SchedulerError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(SchedulerError::InsideRuntime);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| SchedulerError::Runtime(e.to_string()))?;
        rt.block_on(self.co_run())
    }

    /// Runs the scheduler on the current tokio runtime; same result as [`run`](Self::run).
    pub async fn co_run(&mut self) -> Result<bool, SchedulerError> {
        if self.outcome != Outcome::NotRun {
            return Err(SchedulerError::AlreadyRun {
                scheduler: self.get_label(),
            });
        }
        let plan = self.checked_plan()?;
        self.outcome = Outcome::Running;
        let end = self.run_jobs(plan).await;
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
                    job: self.records[i as usize].label(),
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

    async fn run_jobs(&mut self, plan: Plan) -> End {
        if self.records.is_empty() {
            return End::Fine;
        }
        let mut ready = VecDeque::new();
        for (i, r) in self.records.iter().enumerate() {
            if plan.indegree[i] == 0 {
                r.cell.set_state(JobState::Scheduled);
                ready.push_back(i as u32);
            }
        }
        let remaining = self.records.iter().filter(|r| !r.forever).count();
        let deadline = self
            .timeout
            .map(|t| Box::pin(tokio::time::sleep_until(Instant::now() + t)));
        // label and listing ids, only for a verbose run (the ids cost a sort)
        let verbose = match self.feedback.is_some().then(|| self.listing_ids()) {
            Some(Ok(ids)) => Some((self.get_label(), ids)),
            _ => None,
        };
        let feedback = match (self.feedback.as_deref_mut(), verbose) {
            (Some(out), Some((label, (ids, width)))) => Some(Feedback {
                out,
                label,
                ids,
                width,
                watch: crate::Watch::new(),
            }),
            _ => None,
        };
        let timeout = self.timeout;
        let mut run = Run {
            records: &mut self.records,
            plan,
            ready,
            running: FuturesUnordered::new(),
            window: self.jobs_window,
            in_flight: 0,
            remaining,
            deadline,
            end: None,
            feedback,
        };
        let end = poll_fn(|cx| run.poll(cx)).await;
        let cancelled = run.running.len();
        if let Some(fb) = &mut run.feedback {
            let what = match &end {
                End::Fine if cancelled > 0 => {
                    format!("FINE, cancelling {cancelled} forever job(s)")
                }
                End::Fine => "FINE".to_string(),
                End::TimedOut => format!(
                    "TIMED OUT after {}s, cancelling {cancelled} running job(s)",
                    crate::listing::format_secs(timeout.unwrap_or_default())
                ),
                End::Critical(i, _) => format!(
                    "critical job {} raised an exception, cancelling {cancelled} running job(s)",
                    fb.ids.get(*i as usize).copied().unwrap_or_default()
                ),
            };
            let event = if matches!(end, End::Fine) {
                "FINISHED"
            } else {
                "ABORTING"
            };
            let message = format!("scheduler `{}`: {what}", fb.label);
            fb.scheduler(event, &message);
        }
        end
    }
}
