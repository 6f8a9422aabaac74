//! The run engine: one task polls every job future itself (a ready queue
//! beside a `FuturesUnordered`), so each job and each edge costs O(1) and a
//! dependency step needs no cross-thread wake-up. It knows the graph, not the
//! scheduler: [`Scheduler::co_run`](crate::Scheduler::co_run) checks, then
//! hands the graph and its plan to [`run_graph`].

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::time::{Instant, Sleep};

use crate::body::{RunFuture, Status};
use crate::error::JobError;
use crate::feedback::Feedback;
use crate::graph::Graph;
use crate::handle::JobState;
use crate::plan::Plan;
use crate::text::format_secs;

/// How a run ended.
pub(crate) enum End {
    Fine,
    TimedOut,
    /// The critical job at this index failed with this error.
    Critical(u32, JobError),
}

/// A timeout at least this long never expires: it is treated as no timeout,
/// so that no deadline computation can overflow, whatever the `Duration`.
pub(crate) const ENDLESS: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The deadline `timeout` after now; `None` for no timeout, or one so long
/// (see [`ENDLESS`]) that it cannot expire.
fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout
        .filter(|&t| t < ENDLESS)
        .and_then(|t| Instant::now().checked_add(t))
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
    graph: &'a mut Graph,
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
            self.graph.record(t.index).set_state(JobState::Cancelled);
        }
    }
}

impl Run<'_> {
    fn start(&mut self, i: u32, cx: &mut Context<'_>) {
        if let Some(fb) = &mut self.feedback {
            fb.job("STARTING", i, self.graph);
        }
        let record = &mut self.graph.records_mut()[i as usize];
        record.set_state(JobState::Running);
        self.in_flight += 1;
        let mut fut = record.start();
        // poll once here: a job that completes at once never touches the set
        match fut.as_mut().poll(cx) {
            Poll::Ready(status) => self.complete(i, status),
            Poll::Pending => self.running.push(Tagged { index: i, fut }),
        }
    }

    fn complete(&mut self, i: u32, status: Status) {
        let record = self.graph.record(i);
        record.set_state(JobState::Done);
        let (critical, forever) = (record.critical(), record.forever());
        self.in_flight -= 1;
        if let Some(fb) = &mut self.feedback {
            fb.job(
                if status.is_err() { "RAISED" } else { "DONE" },
                i,
                self.graph,
            );
        }
        if let Err(e) = status {
            if critical {
                self.end = Some(End::Critical(i, e));
                return;
            }
        }
        // forever jobs do not count, but when there is nothing else, any completion ends the run
        if !forever || self.remaining == 0 {
            self.remaining = self.remaining.saturating_sub(1);
            if self.remaining == 0 {
                self.end = Some(End::Fine);
                return;
            }
        }
        let Run {
            plan, graph, ready, ..
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
                graph.record(s).set_state(JobState::Scheduled);
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

/// What a run is given besides the graph and its plan.
pub(crate) struct Settings<'a> {
    /// Whole-run limit; see [`ENDLESS`] for very long ones.
    pub timeout: Option<Duration>,
    /// At most this many jobs at once; 0: no limit.
    pub window: usize,
    /// Where a verbose run's feed goes, and the scheduler's label it names.
    pub feed: Option<(&'a mut (dyn std::io::Write + Send + 'static), String)>,
}

/// Runs the jobs of `graph` in the order `plan` allows, until every
/// non-forever job is done, a critical job fails, or the timeout expires;
/// what is still running then is cancelled (dropped).
pub(crate) async fn run_graph(graph: &mut Graph, plan: Plan, settings: Settings<'_>) -> End {
    if graph.is_empty() {
        return End::Fine;
    }
    let mut ready = VecDeque::new();
    for (i, r) in graph.records().iter().enumerate() {
        if plan.indegree[i] == 0 {
            r.set_state(JobState::Scheduled);
            ready.push_back(i as u32);
        }
    }
    let remaining = graph.records().iter().filter(|r| !r.forever()).count();
    let deadline = deadline(settings.timeout).map(|d| Box::pin(tokio::time::sleep_until(d)));
    // listing ids, only for a verbose run (they cost a sort)
    let feedback = settings.feed.and_then(|(out, label)| {
        let (ids, width) = graph.listing_ids().ok()?;
        Some(Feedback {
            out,
            label,
            ids,
            width,
            watch: crate::watch::Watch::new(),
        })
    });
    let timeout = settings.timeout;
    let mut run = Run {
        graph,
        plan,
        ready,
        running: FuturesUnordered::new(),
        window: settings.window,
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
                format_secs(timeout.unwrap_or_default())
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
