//! The behaviours of asynciojobs 0.21.3 that the port must match (semantics
//! file, section 3), and the rules we check where it does not.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use asyncjobs_core::{
    AbstractJob, Job, JobError, JobExt, JobState, Scheduler, SchedulerError, Sequence,
};
use tokio::time::{sleep, Instant};

#[derive(Debug)]
struct BoomError;
impl std::fmt::Display for BoomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom")
    }
}
impl std::error::Error for BoomError {}

async fn fail_after(ms: u64) -> Result<(), BoomError> {
    sleep(Duration::from_millis(ms)).await;
    Err(BoomError)
}

/// Counts drops: a cancelled job's future is dropped, not left running.
struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[tokio::test]
async fn empty_scheduler_runs_fine_and_lists_nothing() {
    let mut s = Scheduler::new();
    assert!(s.co_run().await.unwrap());
    assert_eq!(s.listing(&Default::default()).unwrap(), "");
}

#[tokio::test(start_paused = true)]
async fn failed_non_critical_job_still_releases_its_successors() {
    let mut s = Scheduler::new();
    let a = s.add(Job::new(fail_after(10)).critical(false));
    let b = s.add(Job::ok(async { 7 }).requires(&a));
    assert!(s.co_run().await.unwrap());
    assert!(
        a.is_done()
            && a.raised_exception()
                .unwrap()
                .downcast_ref::<BoomError>()
                .is_some()
    );
    assert_eq!(a.raised_exception().unwrap().kind(), "BoomError");
    assert_eq!(b.result(), Some(&7));
}

#[tokio::test(start_paused = true)]
async fn critical_failure_cancels_running_jobs_and_never_starts_others() {
    let drops = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let mut s = Scheduler::new().critical(false);
    let guard = DropCounter(Arc::clone(&drops));
    let long = s.add(Job::ok(async move {
        let _g = guard;
        sleep(Duration::from_secs(100)).await;
    }));
    let f = s.add(Job::new(fail_after(50)));
    let st = Arc::clone(&started);
    let after = s.add(Job::ok(async move { st.fetch_add(1, SeqCst) }).requires(&f));
    let t0 = Instant::now();
    assert!(!s.co_run().await.unwrap());
    assert_eq!(t0.elapsed(), Duration::from_millis(50));
    assert_eq!(drops.load(SeqCst), 1, "the running job was dropped at once");
    assert!(long.was_cancelled() && !long.is_done());
    assert_eq!(after.state(), JobState::Idle);
    assert_eq!(started.load(SeqCst), 0);
    assert!(s.failed_critical());
}

#[tokio::test(start_paused = true)]
async fn timeout_keeps_finished_results_and_cancels_the_rest() {
    let mut s = Scheduler::new()
        .critical(false)
        .timeout(Duration::from_millis(250));
    let one = s.add(Job::ok(async {
        sleep(Duration::from_millis(100)).await;
        1
    }));
    let two = s.add(Job::ok(async {
        sleep(Duration::from_millis(200)).await;
        2
    }));
    let three = s.add(Job::ok(async {
        sleep(Duration::from_millis(300)).await;
        3
    }));
    assert!(!s.co_run().await.unwrap());
    assert_eq!(
        (one.result(), two.result(), three.result()),
        (Some(&1), Some(&2), None)
    );
    assert!(three.was_cancelled());
    assert_eq!(s.why(), "TIMED OUT after 0.25s");
}

#[tokio::test(start_paused = true)]
async fn timeout_counts_the_whole_run_not_each_job() {
    let mut s = Scheduler::new()
        .critical(false)
        .timeout(Duration::from_millis(250));
    s.add(
        Sequence::new()
            .then(Job::ok(async { sleep(Duration::from_millis(150)).await }))
            .then(Job::ok(async { sleep(Duration::from_millis(150)).await })),
    );
    let t0 = Instant::now();
    assert!(!s.co_run().await.unwrap());
    assert_eq!(t0.elapsed(), Duration::from_millis(250));
}

/// (outer critical, inner critical, job critical) -> outer result, as test_critical_exc2.
#[tokio::test(start_paused = true)]
async fn nested_critical_matrix_matches_the_reference() {
    for outer_c in [false, true] {
        for inner_c in [false, true] {
            for job_c in [false, true] {
                let mut inner = Scheduler::new().critical(inner_c);
                inner.add(Job::new(fail_after(10)).critical(job_c));
                let mut outer = Scheduler::new().critical(outer_c);
                outer.add(inner);
                let r = outer.co_run().await;
                match (outer_c, inner_c, job_c) {
                    (true, true, true) => {
                        let e = r.unwrap_err();
                        let SchedulerError::CriticalJobFailed { error, .. } = &e else {
                            panic!("{e}")
                        };
                        assert!(
                            error.downcast_ref::<BoomError>().is_some(),
                            "the job's own error goes up unchanged"
                        );
                    }
                    (false, true, true) => assert!(!r.unwrap()),
                    _ => assert!(r.unwrap(), "{outer_c} {inner_c} {job_c}"),
                }
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn critical_error_propagates_unchanged_through_two_levels() {
    let mut inner = Scheduler::new().label("inner");
    let j = inner.add(Job::new(fail_after(5)).label("deep"));
    let mut middle = Scheduler::new().label("middle");
    middle.add(inner);
    let mut top = Scheduler::new().label("top");
    top.add(middle);
    let e = top.co_run().await.unwrap_err();
    let SchedulerError::CriticalJobFailed { error, job, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(job, "middle");
    assert!(error.same_as(j.raised_exception().unwrap()));
}

#[tokio::test(start_paused = true)]
async fn non_critical_nested_failure_is_a_successful_job_with_result_false() {
    let mut inner = Scheduler::new()
        .critical(false)
        .timeout(Duration::from_millis(10));
    inner.add(Job::ok(async { sleep(Duration::from_secs(1)).await }));
    let mut outer = Scheduler::new();
    let h = outer.add(inner);
    assert!(outer.co_run().await.unwrap());
    assert_eq!(h.result(), Some(&false));
}

#[tokio::test(start_paused = true)]
async fn critical_nested_timeout_fails_the_parent_with_a_timeout_error() {
    let mut inner = Scheduler::new()
        .label("slow")
        .timeout(Duration::from_millis(10));
    inner.add(Job::ok(async { sleep(Duration::from_secs(1)).await }));
    let mut outer = Scheduler::new().critical(false);
    let h = outer.add(inner);
    assert!(!outer.co_run().await.unwrap());
    let e = h.raised_exception().unwrap();
    assert_eq!(e.kind(), "TimeoutError");
    assert!(matches!(
        e.downcast_ref::<SchedulerError>(),
        Some(SchedulerError::Timeout { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn outer_timeout_cancels_jobs_inside_a_nested_scheduler() {
    let drops = Arc::new(AtomicUsize::new(0));
    let g = DropCounter(Arc::clone(&drops));
    let mut inner = Scheduler::new().label("inner");
    let deep = inner.add(Job::ok(async move {
        let _g = g;
        sleep(Duration::from_secs(100)).await;
    }));
    let mut outer = Scheduler::new()
        .critical(false)
        .timeout(Duration::from_millis(30));
    let h = outer.add(inner);
    assert!(!outer.co_run().await.unwrap());
    assert_eq!(drops.load(SeqCst), 1);
    assert!(deep.was_cancelled() && h.was_cancelled());
    let listing = outer.listing(&Default::default()).unwrap();
    assert!(listing.contains("inner"), "{listing}");
}

#[tokio::test(start_paused = true)]
async fn forever_jobs_gate_their_successors_like_any_job() {
    // test_nesting_sequence: a forever sub-scheduler in the middle of a sequence
    let mut sub = Scheduler::new().forever(true);
    sub.add(Job::ok(async { sleep(Duration::from_millis(100)).await }));
    let mut s = Scheduler::new();
    let seq = s.add(
        Sequence::new()
            .then(Job::ok(async {}))
            .then(sub)
            .then(Job::ok(async { "END" })),
    );
    assert!(s.co_run().await.unwrap());
    assert_eq!(seq.jobs().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn only_forever_jobs_end_the_run_when_one_completes() {
    let mut s = Scheduler::new();
    let quick = s.add(Job::ok(async { sleep(Duration::from_millis(10)).await }).forever(true));
    let slow = s.add(Job::ok(std::future::pending::<()>()).forever(true));
    let t0 = Instant::now();
    assert!(s.co_run().await.unwrap());
    assert_eq!(t0.elapsed(), Duration::from_millis(10));
    assert!(quick.is_done() && slow.was_cancelled());
}

#[tokio::test(start_paused = true)]
async fn a_failing_job_gives_its_window_slot_back() {
    // 0.21.3 leaks the slot: with window 1 the second job never starts
    let mut s = Scheduler::new().jobs_window(1);
    s.add(Job::new(fail_after(10)).critical(false));
    let second = s.add(Job::ok(async { 2 }));
    assert!(s.co_run().await.unwrap());
    assert_eq!(second.result(), Some(&2));
}

#[tokio::test(start_paused = true)]
async fn window_of_three_runs_fifteen_jobs_in_five_rounds() {
    let mut s = Scheduler::new().jobs_window(3);
    for _ in 0..15 {
        s.add(Job::ok(async { sleep(Duration::from_millis(100)).await }));
    }
    let t0 = Instant::now();
    assert!(s.co_run().await.unwrap());
    assert_eq!(t0.elapsed(), Duration::from_millis(500));
}

#[tokio::test]
async fn running_twice_is_an_error() {
    let mut s = Scheduler::new().label("once");
    s.add(Job::ok(async {}));
    assert!(s.co_run().await.unwrap());
    let e = s.co_run().await.unwrap_err();
    assert!(matches!(e, SchedulerError::AlreadyRun { .. }));
    assert_eq!(
        e.to_string(),
        "scheduler `once` has already run; build a new one to run again"
    );
}

#[test]
fn run_from_inside_a_runtime_is_an_error_not_a_panic() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let e = rt.block_on(async {
        let mut s = Scheduler::new();
        s.run().unwrap_err()
    });
    assert!(matches!(e, SchedulerError::InsideRuntime));
}

#[tokio::test]
async fn a_cycle_is_reported_with_the_jobs_on_it_before_anything_starts() {
    let started = Arc::new(AtomicUsize::new(0));
    let mut s = Scheduler::new().label("cyclic");
    let st = Arc::clone(&started);
    let free = s.add(Job::ok(async move { st.fetch_add(1, SeqCst) }).label("free"));
    let a = s.add(Job::ok(async {}).label("a"));
    let b = s.add(Job::ok(async {}).label("b").requires(&a));
    let c = s.add(Job::ok(async {}).label("c").requires(&b));
    s.add_requirement(&a, &c).unwrap();
    assert!(!s.check_cycles());
    let e = s.co_run().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "scheduler `cyclic`: cycle in requirements: `a` requires `c` requires `b` requires `a`"
    );
    assert_eq!(started.load(SeqCst), 0);
    assert_eq!(free.state(), JobState::Idle);
    s.remove_requirement(&a, &c).unwrap();
    assert!(s.check_cycles());
}

#[test]
fn check_cycles_looks_into_nested_schedulers() {
    let mut inner = Scheduler::new();
    let a = inner.add(Job::ok(async {}));
    let b = inner.add(Job::ok(async {}).requires(&a));
    inner.add_requirement(&a, &b).unwrap();
    let mut outer = Scheduler::new();
    outer.add(inner);
    assert!(!outer.check_cycles());
}

#[tokio::test]
async fn a_requirement_on_another_schedulers_job_is_an_error_until_sanitized() {
    let mut other = Scheduler::new();
    let outsider = other.add(Job::ok(async {}));
    let mut s = Scheduler::new().label("s");
    s.add(Job::ok(async {}).label("needy").requires(&outsider));
    assert!(!s.check_cycles());
    let e = s.check().unwrap_err();
    assert!(matches!(e, SchedulerError::ForeignRequirement { .. }));
    assert!(
        e.to_string()
            .contains("job `needy` requires a job of another scheduler"),
        "{e}"
    );
    assert!(!s.sanitize(), "something was removed");
    assert!(s.sanitize(), "nothing left to remove");
    assert!(s.co_run().await.unwrap());
}

#[test]
fn requirements_across_nesting_levels_are_rejected_and_sanitized_recursively() {
    let mut outer = Scheduler::new();
    let top = outer.add(Job::ok(async {}).label("top"));
    let mut inner = Scheduler::new();
    let deep = inner.add(Job::ok(async {}).label("deep").requires(&top));
    outer.add(Job::ok(async {}).label("wants deep").requires(&deep));
    let sub = outer.add(inner.requires(&top)); // a nested scheduler may require its siblings
    assert!(outer.check().is_err());
    assert!(!outer.sanitize());
    assert!(outer.check().is_ok());
    let listing = outer.listing(&Default::default()).unwrap();
    assert!(
        listing.contains("`Scheduler[1 jobs]`> - requires {1}"),
        "{listing}"
    );
    let _ = sub;
}

#[test]
fn requires_accepts_collections_and_ignores_self_and_duplicates() {
    let mut s = Scheduler::new();
    let a: Vec<_> = (0..5).map(|i| s.add(Job::ok(async move { i }))).collect();
    let j = s.add(Job::ok(async {}).requires((
        &a[0],
        [&a[1]],
        vec![&a[2], &a[3]],
        Some(&a[4]),
        None::<&asyncjobs_core::JobRef>,
    )));
    s.add_requirement(&j, (&a[0], &a[0])).unwrap();
    s.add_requirement(&j, &j).unwrap(); // ignored, as in the reference
    let text = s.listing(&Default::default()).unwrap();
    assert!(text.ends_with("- requires {1, 2, 3, 4, 5}\n"), "{text}");
    assert!(s.remove_requirement(&a[1], &a[2]).is_err());
    assert!(s.run().unwrap());
}

#[test]
fn sequence_requirements_go_to_its_first_job_and_requiring_it_means_its_last() {
    let mut s = Scheduler::new();
    let x = s.add(Job::ok(async {}).label("x"));
    let seq = s.add(
        Sequence::new()
            .then(Job::ok(async {}).label("s1"))
            .then(
                Sequence::new()
                    .then(Job::ok(async {}).label("s2"))
                    .then(Job::ok(async {}).label("s3")),
            )
            .requires(&x),
    );
    s.add(Job::ok(async {}).label("after").requires(&seq));
    let o = asyncjobs_core::ListOptions {
        symbols: asyncjobs_core::Symbols::Ascii,
        ..Default::default()
    };
    assert_eq!(
        s.listing(&o).unwrap(),
        "1 !    >   <Job `x`>\n\
         2 !    >   <Job `s1`> - requires {1}\n\
         3 !    >   <Job `s2`> - requires {2}\n\
         4 !    >   <Job `s3`> - requires {3}\n\
         5 !    >   <Job `after`> - requires {4}\n"
    );
    assert_eq!(seq.jobs().len(), 3);
}

struct Tracked {
    shutdowns: Arc<AtomicUsize>,
    hook: Duration,
}

#[asyncjobs_core::async_trait]
impl AbstractJob for Tracked {
    type Output = ();
    async fn co_run(&self) -> Result<(), JobError> {
        Ok(())
    }
    async fn co_shutdown(&self) {
        sleep(self.hook).await;
        self.shutdowns.fetch_add(1, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_is_explicit_recursive_and_once() {
    let n = Arc::new(AtomicUsize::new(0));
    let t = |s: &Arc<AtomicUsize>| Tracked {
        shutdowns: Arc::clone(s),
        hook: Duration::ZERO,
    };
    let mut inner = Scheduler::new();
    inner.add(t(&n));
    inner.add(t(&n).critical(false));
    let mut s = Scheduler::new();
    s.add(t(&n));
    s.add(inner);
    let closed = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&closed);
    s.add(Job::ok(async {}).on_shutdown(async move {
        c.fetch_add(1, SeqCst);
    }));
    assert!(s.co_run().await.unwrap());
    assert_eq!(n.load(SeqCst), 0, "a run never shuts down by itself");
    assert!(s.co_shutdown().await);
    assert_eq!((n.load(SeqCst), closed.load(SeqCst)), (3, 1));
    assert!(s.co_shutdown().await);
    assert_eq!(n.load(SeqCst), 3, "a second shutdown does nothing");
}

#[tokio::test(start_paused = true)]
async fn shutdown_reaches_jobs_that_never_ran_and_is_bounded() {
    let n = Arc::new(AtomicUsize::new(0));
    let mut s = Scheduler::new()
        .critical(false)
        .shutdown_timeout(Some(Duration::from_millis(200)));
    s.add(Job::new(fail_after(1)));
    for hook in [100, 100, 500, 500] {
        s.add(
            Tracked {
                shutdowns: Arc::clone(&n),
                hook: Duration::from_millis(hook),
            }
            .critical(false),
        );
    }
    assert!(!s.co_run().await.unwrap());
    let t0 = Instant::now();
    assert!(!s.co_shutdown().await, "two hooks did not finish in time");
    assert_eq!(t0.elapsed(), Duration::from_millis(200));
    assert_eq!(n.load(SeqCst), 2);
}

#[test]
fn abstract_jobs_get_options_and_typed_results() {
    struct Answer;
    #[asyncjobs_core::async_trait]
    impl AbstractJob for Answer {
        type Output = String;
        async fn co_run(&self) -> Result<String, JobError> {
            Ok("forty-two".into())
        }
        fn details(&self) -> Option<String> {
            Some("computes the answer".into())
        }
    }
    let mut s = Scheduler::new();
    let h = s.add(Answer.label("answer").critical(false));
    assert!(s.run().unwrap());
    assert_eq!(h.result().map(String::as_str), Some("forty-two"));
    let o = asyncjobs_core::ListOptions {
        symbols: asyncjobs_core::Symbols::Unicode,
        details: true,
        silence_done_jobs: false,
    };
    assert_eq!(
        s.listing(&o).unwrap(),
        "1   ☉ ☓   <Answer `answer`>[[ -> forty-two]]\n    computes the answer\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn co_run_works_on_a_multi_thread_runtime_with_spawned_work() {
    let mut s = Scheduler::new();
    let mut prev = None;
    let mut last = None;
    for i in 0..1000u32 {
        let j = Job::ok(async move { tokio::spawn(async move { i * 2 }).await.unwrap() })
            .requires(prev.as_ref());
        let h = s.add(j);
        prev = Some(h.job_ref());
        last = Some(h);
    }
    assert!(s.co_run().await.unwrap());
    assert_eq!(last.unwrap().result(), Some(&1998));
}

#[test]
fn stats_count_done_running_and_idle() {
    let mut s = Scheduler::new()
        .critical(false)
        .timeout(Duration::from_millis(20));
    s.add(Job::ok(async {}));
    s.add(Job::ok(std::future::pending::<()>()));
    let p = s.add(Job::ok(std::future::pending::<()>()));
    s.add(Job::ok(async {}).requires(&p));
    assert_eq!(s.stats(), "0D + 0R + 4I = 4");
    assert!(!s.run().unwrap());
    assert_eq!(s.stats(), "1D + 2R + 1I = 4");
}

#[tokio::test]
async fn a_change_after_check_is_checked_again_at_run() {
    let mut s = Scheduler::new();
    let a = s.add(Job::ok(async {}));
    let b = s.add(Job::ok(async {}).requires(&a));
    assert!(s.check().is_ok());
    s.add_requirement(&a, &b).unwrap();
    assert!(matches!(
        s.co_run().await,
        Err(SchedulerError::Cycle { .. })
    ));
}

#[test]
fn schedulers_and_handles_can_move_across_threads() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<Scheduler>();
    send_sync::<asyncjobs_core::JobHandle<String>>();
    send_sync::<JobError>();
    send_sync::<SchedulerError>();
}

#[tokio::test]
async fn a_scheduler_runs_in_a_spawned_task() {
    let mut s = Scheduler::new();
    let h = s.add(Job::ok(async { 5 }));
    let ok = tokio::spawn(async move { s.co_run().await }).await.unwrap();
    assert!(ok.unwrap());
    assert_eq!(h.result(), Some(&5));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_of_any_duration_never_panics_and_a_huge_one_never_expires() {
    for timeout in [
        Duration::MAX,
        Duration::from_secs_f64(1e19),
        Duration::from_secs(u64::MAX / 2),
        Duration::from_secs(200 * 365 * 24 * 3600),
    ] {
        let mut s = Scheduler::new()
            .timeout(timeout)
            .shutdown_timeout(Some(timeout));
        let h = s.add(Job::ok(async { sleep(Duration::from_secs(3600)).await }));
        assert!(s.co_run().await.unwrap(), "{timeout:?}");
        assert!(h.is_done());
        assert!(s.co_shutdown().await);
        assert_eq!(s.why(), "FINE");
    }
}

#[tokio::test(start_paused = true)]
async fn a_long_but_finite_timeout_still_expires() {
    let year = Duration::from_secs(365 * 24 * 3600);
    let mut s = Scheduler::new().critical(false).timeout(year);
    s.add(Job::ok(std::future::pending::<()>()));
    let t0 = Instant::now();
    assert!(!s.co_run().await.unwrap());
    assert_eq!(t0.elapsed(), year);
}

#[tokio::test(start_paused = true)]
async fn after_a_critical_failure_the_scheduler_can_still_be_listed_drawn_and_shut_down() {
    let n = Arc::new(AtomicUsize::new(0));
    let mut s = Scheduler::new().label("deploy");
    let first = s.add(Job::ok(async { "fetched" }).label("fetch"));
    s.add(Job::new(fail_after(10)).label("install").requires(&first));
    s.add(Tracked {
        shutdowns: Arc::clone(&n),
        hook: Duration::ZERO,
    });
    let outcome = s.co_run().await;
    // the idiom: list, draw and shut down whatever the outcome, then propagate it
    let o = asyncjobs_core::ListOptions {
        symbols: asyncjobs_core::Symbols::Ascii,
        ..Default::default()
    };
    let listing = s.listing(&o).unwrap();
    assert!(
        listing.contains("<Job `fetch`>[[ -> fetched]]")
            && listing.contains("<Job `install`>!! CRIT. EXC. => BoomError:boom!!"),
        "{listing}"
    );
    assert_eq!(
        s.snapshot().unwrap().why,
        "a CRITICAL job has raised an exception"
    );
    assert!(s.co_shutdown().await);
    assert_eq!(n.load(SeqCst), 1);
    let e = outcome.unwrap_err();
    assert_eq!(
        asyncjobs_core::ErrorChain(&e).to_string(),
        "critical job `install` in scheduler `deploy` failed: boom"
    );
}

#[test]
fn the_prelude_is_enough_for_a_script() {
    use asyncjobs_core::prelude::*;
    fn script() -> Result<bool, SchedulerError> {
        let mut s = Scheduler::new();
        let (a, b): (JobHandle<u8>, SchedulerHandle) = s
            .add(
                Sequence::new()
                    .then(Job::ok(async { 1u8 }))
                    .then(Scheduler::new()),
            )
            .into_handles();
        b.edit(|inner| inner.add(Job::ok(async {}).label("late")))?;
        let outcome = s.run();
        s.shutdown()?;
        assert_eq!(a.state(), JobState::Done);
        outcome
    }
    assert!(script().unwrap());
}
