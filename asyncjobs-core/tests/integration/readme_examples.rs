//! The examples of the reference README, as tests: results, states, start and
//! end order, and returned values, under tokio's paused clock (exact timings).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asyncjobs_core::{
    ErrorChain, Job, JobState, ListOptions, Scheduler, SchedulerError, Sequence, Symbols,
};
use tokio::time::{sleep, Instant};

/// Records `(event, virtual ms since start)` as jobs enter and leave.
#[derive(Clone)]
struct Trace {
    start: Instant,
    events: Arc<Mutex<Vec<(String, u128)>>>,
}

impl Trace {
    fn new() -> Self {
        Trace {
            start: Instant::now(),
            events: Arc::default(),
        }
    }
    fn log(&self, what: String) {
        self.events
            .lock()
            .unwrap()
            .push((what, self.start.elapsed().as_millis()));
    }
    fn events(&self) -> Vec<(String, u128)> {
        self.events.lock().unwrap().clone()
    }
    /// The README's `in_out`: log, sleep, log, return milliseconds.
    fn in_out(
        &self,
        name: &str,
        secs: f64,
    ) -> impl std::future::Future<Output = f64> + Send + 'static {
        let (t, name) = (self.clone(), name.to_string());
        async move {
            t.log(format!("-> {name}"));
            sleep(Duration::from_secs_f64(secs)).await;
            t.log(format!("<- {name}"));
            1000.0 * secs
        }
    }
}

fn ev(list: &[(&str, u128)]) -> Vec<(String, u128)> {
    list.iter().map(|(s, t)| (s.to_string(), *t)).collect()
}

fn unicode() -> ListOptions {
    ListOptions {
        symbols: Symbols::Unicode,
        details: false,
        silence_done_jobs: false,
    }
}

async fn boom(secs: f64) -> Result<(), std::io::Error> {
    sleep(Duration::from_secs_f64(secs)).await;
    Err(std::io::Error::other(format!("boom after {secs}s")))
}

#[tokio::test(start_paused = true)]
async fn example_a_runs_jobs_in_parallel() {
    let t = Trace::new();
    let mut sa = Scheduler::new();
    let a1 = sa.add(Job::ok(t.in_out("a1", 0.1)));
    let a2 = sa.add(Job::ok(t.in_out("a2", 0.2)));
    let a3 = sa.add(Job::ok(t.in_out("a3", 0.25)));
    assert!(sa.co_run().await.unwrap());
    assert_eq!(t.start.elapsed(), Duration::from_millis(250));
    assert_eq!(
        t.events(),
        ev(&[
            ("-> a1", 0),
            ("-> a2", 0),
            ("-> a3", 0),
            ("<- a1", 100),
            ("<- a2", 200),
            ("<- a3", 250)
        ])
    );
    assert_eq!(
        (a1.result(), a2.result(), a3.result()),
        (Some(&100.0), Some(&200.0), Some(&250.0))
    );
}

#[tokio::test(start_paused = true)]
async fn example_b_requirement_delays_the_dependent_job() {
    let t = Trace::new();
    let mut sb = Scheduler::new();
    let b1 = sb.add(Job::ok(t.in_out("b1", 0.1)).label("b1"));
    let b2 = sb.add(Job::ok(t.in_out("b2", 0.2)).label("b2").requires(&b1));
    let b3 = sb.add(Job::ok(t.in_out("b3", 0.25)));
    assert_eq!(b2.state(), JobState::Idle);
    assert!(sb.co_run().await.unwrap());
    assert_eq!(
        t.events(),
        ev(&[
            ("-> b1", 0),
            ("-> b3", 0),
            ("<- b1", 100),
            ("-> b2", 100),
            ("<- b3", 250),
            ("<- b2", 300)
        ])
    );
    assert!(b1.is_done() && b2.is_done() && b3.is_done());
    assert!(b3.raised_exception().is_none());
    let listing = sb.listing(&unicode()).unwrap();
    assert_eq!(
        listing,
        "1 ⚠ ☉ ☓   <Job `b1`>[[ -> 100.0]]\n\
         2 ⚠ ☉ ☓   <Job `b2`>[[ -> 200.0]] - requires {1}\n\
         3 ⚠ ☉ ☓   <Job `in_out`>[[ -> 250.0]]\n"
    );
}

#[tokio::test(start_paused = true)]
async fn example_b_prime_sequence_is_the_same_as_explicit_requirements() {
    let t = Trace::new();
    let mut sb2 = Scheduler::new();
    let seq = sb2.add(
        Sequence::new()
            .then(Job::ok(t.in_out("bp1", 0.1)).label("bp1"))
            .then(Job::ok(t.in_out("bp2", 0.2)).label("bp2")),
    );
    sb2.add(Job::ok(t.in_out("bp3", 0.25)));
    assert_eq!(seq.jobs().len(), 2);
    assert!(sb2.co_run().await.unwrap());
    assert_eq!(
        t.events(),
        ev(&[
            ("-> bp1", 0),
            ("-> bp3", 0),
            ("<- bp1", 100),
            ("-> bp2", 100),
            ("<- bp3", 250),
            ("<- bp2", 300)
        ])
    );
}

#[tokio::test(start_paused = true)]
async fn example_c_forever_job_is_cancelled_when_the_others_are_done() {
    let t = Trace::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let bus = |name: &'static str, secs: f64| {
        let (tx, t) = (tx.clone(), t.clone());
        async move {
            tx.send(format!("{} -> {name}", t.start.elapsed().as_millis()))
                .unwrap();
            sleep(Duration::from_secs_f64(secs)).await;
            tx.send(format!("{} <- {name}", t.start.elapsed().as_millis()))
                .unwrap();
            10.0 * secs
        }
    };
    let mut sc = Scheduler::new();
    let c1 = sc.add(Job::ok(bus("c1", 0.2)).label("c1"));
    let c2 = sc.add(Job::ok(bus("c2", 0.4)).label("c2"));
    let c3 = sc.add(Job::ok(bus("c3", 0.3)).label("c3").requires(&c1));
    let seen2 = Arc::clone(&seen);
    let monitor = sc.add(
        Job::ok(async move {
            while let Some(m) = rx.recv().await {
                seen2.lock().unwrap().push(format!("BUS: {m}"));
            }
        })
        .forever(true)
        .label("monitor"),
    );
    assert!(sc.co_run().await.unwrap());
    // the run ends with c3 (0.2 + 0.3 s), not waiting for the monitor
    assert_eq!(t.start.elapsed(), Duration::from_millis(500));
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "BUS: 0 -> c1",
            "BUS: 0 -> c2",
            "BUS: 200 <- c1",
            "BUS: 200 -> c3",
            "BUS: 400 <- c2"
        ]
    );
    assert!(c1.is_done() && c2.is_done() && c3.is_done());
    assert!(monitor.was_cancelled() && !monitor.is_done() && monitor.result().is_none());
    assert_eq!(c3.result(), Some(&3.0));
    let listing = sc.listing(&unicode()).unwrap();
    assert_eq!(
        listing,
        "1 ⚠ ☉ ☓   <Job `c1`>[[ -> 2.0]]\n\
         2 ⚠ ☉ ☓   <Job `c2`>[[ -> 4.0]]\n\
         3 ⚠ ☉ ☓   <Job `c3`>[[ -> 3.0]] - requires {1}\n\
         4 ⚠ ☉ ↺ ∞ <Job `monitor`>\n"
    );
}

#[tokio::test(start_paused = true)]
async fn example_d_global_timeout_returns_false_for_a_non_critical_scheduler() {
    let t = Trace::new();
    let t2 = t.clone();
    let mut sd = Scheduler::new()
        .timeout(Duration::from_millis(250))
        .critical(false);
    let j = sd.add(
        Job::ok(async move {
            for i in 0..100_000 {
                t2.log(format!("forever {i}"));
                sleep(Duration::from_millis(100)).await;
            }
        })
        .forever(true),
    );
    assert!(!sd.co_run().await.unwrap());
    assert_eq!(t.start.elapsed(), Duration::from_millis(250));
    assert_eq!(
        t.events(),
        ev(&[("forever 0", 0), ("forever 1", 100), ("forever 2", 200)])
    );
    assert!(j.was_cancelled());
    assert_eq!(sd.why(), "TIMED OUT after 0.25s");
    assert_eq!(sd.failed_time_out(), Some(Duration::from_millis(250)));
    assert!(!sd.failed_critical());
}

#[tokio::test(start_paused = true)]
async fn example_d_timeout_of_a_critical_scheduler_is_an_error() {
    let mut sd = Scheduler::new().timeout(Duration::from_millis(250));
    sd.add(Job::ok(async { sleep(Duration::from_secs(10)).await }));
    let err = sd.co_run().await.unwrap_err();
    assert!(
        matches!(err, SchedulerError::Timeout { timeout, .. } if timeout == Duration::from_millis(250))
    );
    assert!(err.to_string().contains("TIMED OUT after 0.25s"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn example_e_non_critical_failure_does_not_stop_the_sequence() {
    let t = Trace::new();
    let mut se = Scheduler::new().critical(false);
    let seq = se.add(
        Sequence::new()
            .then(Job::ok(t.in_out("begin", 0.2)).label("begin"))
            .then(Job::new(boom(0.2)).label("boom").critical(false))
            .then(Job::ok(t.in_out("end", 0.3)).label("end")),
    );
    assert!(se.co_run().await.unwrap());
    assert_eq!(t.start.elapsed(), Duration::from_millis(700));
    assert_eq!(
        t.events(),
        ev(&[
            ("-> begin", 0),
            ("<- begin", 200),
            ("-> end", 400),
            ("<- end", 700)
        ])
    );
    assert_eq!(seq.jobs().len(), 3);
    assert_eq!(
        se.listing(&unicode()).unwrap(),
        "1 ⚠ ☉ ☓   <Job `begin`>[[ -> 200.0]]\n\
         2   ★ ☓   <Job `boom`>!! exception => Error:boom after 0.2s!! - requires {1}\n\
         3 ⚠ ☉ ☓   <Job `end`>[[ -> 300.0]] - requires {2}\n"
    );
}

#[tokio::test(start_paused = true)]
async fn example_f_critical_failure_stops_the_scheduler_at_once() {
    let t = Trace::new();
    let mut sf = Scheduler::new().critical(false);
    sf.add(
        Sequence::new()
            .then(Job::ok(t.in_out("begin", 0.2)).label("begin"))
            .then(Job::new(boom(0.2)).label("boom").critical(true))
            .then(Job::ok(t.in_out("end", 0.3)).label("end")),
    );
    assert!(!sf.co_run().await.unwrap());
    assert_eq!(t.start.elapsed(), Duration::from_millis(400));
    assert_eq!(t.events(), ev(&[("-> begin", 0), ("<- begin", 200)]));
    assert!(sf.failed_critical());
    assert_eq!(sf.why(), "a CRITICAL job has raised an exception");
    assert_eq!(
        sf.listing(&unicode()).unwrap(),
        "1 ⚠ ☉ ☓   <Job `begin`>[[ -> 200.0]]\n\
         2 ⚠ ★ ☓   <Job `boom`>!! CRIT. EXC. => Error:boom after 0.2s!! - requires {1}\n\
         3 ⚠   ⚐   <Job `end`> - requires {2}\n"
    );
}

#[tokio::test(start_paused = true)]
async fn example_f_critical_scheduler_returns_the_failing_jobs_error() {
    let mut sf = Scheduler::new().label("sf");
    let b = sf.add(Job::new(boom(0.2)).label("boom"));
    let err = sf.co_run().await.unwrap_err();
    match &err {
        SchedulerError::CriticalJobFailed { job, error, .. } => {
            assert_eq!(job, "boom");
            assert!(error.same_as(b.raised_exception().unwrap()));
            assert!(error.downcast_ref::<std::io::Error>().is_some());
        }
        other => panic!("unexpected {other}"),
    }
    // the job's error is the cause, printed once by the chain, not copied into the message
    assert_eq!(
        err.to_string(),
        "critical job `boom` in scheduler `sf` failed"
    );
    assert_eq!(
        ErrorChain(&err).to_string(),
        "critical job `boom` in scheduler `sf` failed: boom after 0.2s"
    );
}

#[tokio::test(start_paused = true)]
async fn jobs_window_limits_simultaneous_jobs() {
    let t = Trace::new();
    let mut s = Scheduler::new().jobs_window(4);
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 1..=8 {
        let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
        handles.push(s.add(Job::ok(async move {
            use std::sync::atomic::Ordering::SeqCst;
            let now = running.fetch_add(1, SeqCst) + 1;
            peak.fetch_max(now, SeqCst);
            sleep(Duration::from_millis(500)).await;
            running.fetch_sub(1, SeqCst);
        })));
    }
    assert!(s.co_run().await.unwrap());
    assert_eq!(t.start.elapsed(), Duration::from_secs(1));
    assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn jobs_window_shows_scheduled_jobs_while_they_wait() {
    let mut s = Scheduler::new().jobs_window(1);
    let a = s.add(Job::ok(async { sleep(Duration::from_millis(100)).await }));
    let b = s.add(Job::ok(async { sleep(Duration::from_millis(100)).await }));
    let b2 = b.clone();
    let probe = tokio::spawn(async move {
        sleep(Duration::from_millis(50)).await;
        b2.state()
    });
    assert!(s.co_run().await.unwrap());
    assert_eq!(probe.await.unwrap(), JobState::Scheduled);
    assert!(a.is_done() && b.is_done());
}

fn nested_example() -> (Scheduler, Trace) {
    let t = Trace::new();
    let mut sub = Scheduler::new().label("critical nested").critical(true);
    let s1 = sub.add(Job::ok(t.in_out("subj1", 0.5)).label("subj1"));
    let s2 = sub.add(Job::ok(t.in_out("subj2", 0.5)).label("subj2").requires(&s1));
    let s3 = sub.add(Job::ok(t.in_out("subj3", 0.5)).label("subj3").requires(&s1));
    sub.add(
        Job::ok(t.in_out("subj4", 0.5))
            .label("subj4")
            .requires((&s2, &s3)),
    );
    let mut main = Scheduler::new();
    main.add(
        Sequence::new()
            .then(Job::ok(t.in_out("main-start", 0.5)).label("main-start"))
            .then(sub)
            .then(Job::ok(t.in_out("main-end", 0.5)).label("main-end")),
    );
    (main, t)
}

#[tokio::test(start_paused = true)]
async fn nested_scheduler_runs_as_one_job_of_its_parent() {
    let (mut main, t) = nested_example();
    assert_eq!(
        main.listing(&unicode()).unwrap(),
        "1 ⚠   ⚐   <Job `main-start`>\n\
         2 ⚠   ⚐   <Scheduler `critical nested`> - requires {1} - entries {3}\n\
         3 ⚠   ⚐   > <Job `subj1`>\n\
         4 ⚠   ⚐   > <Job `subj2`> - requires {3}\n\
         5 ⚠   ⚐   > <Job `subj3`> - requires {3}\n\
         6 ⚠   ⚐   > <Job `subj4`> - requires {4, 5}\n\
         2 --end-- < <Scheduler `critical nested`> - exits {6}\n\
         7 ⚠   ⚐   <Job `main-end`> - requires {2}\n"
    );
    assert!(main.co_run().await.unwrap());
    assert_eq!(t.start.elapsed(), Duration::from_millis(2500));
    assert_eq!(
        t.events(),
        ev(&[
            ("-> main-start", 0),
            ("<- main-start", 500),
            ("-> subj1", 500),
            ("<- subj1", 1000),
            ("-> subj2", 1000),
            ("-> subj3", 1000),
            ("<- subj2", 1500),
            ("<- subj3", 1500),
            ("-> subj4", 1500),
            ("<- subj4", 2000),
            ("-> main-end", 2000),
            ("<- main-end", 2500),
        ])
    );
    let after = main.listing(&unicode()).unwrap();
    assert!(
        after.contains(
            "2 ⚠ ☉ ☓   <Scheduler `critical nested`>[[ -> true]] - requires {1} - entries {3}\n"
        ),
        "{after}"
    );
    assert!(
        after.contains("6 ⚠ ☉ ☓   > <Job `subj4`>[[ -> 500.0]] - requires {4, 5}\n"),
        "{after}"
    );
}

#[tokio::test(start_paused = true)]
async fn debrief_shows_why_listing_and_errors() {
    let mut s = Scheduler::new().critical(false);
    let a = s.add(Job::new(boom(0.1)).label("quiet").critical(false));
    s.add(Job::new(boom(0.2)).label("loud").requires(&a));
    assert!(!s.co_run().await.unwrap());
    let text = s.debrief_text(&unicode());
    assert_eq!(
        text,
        "----- a CRITICAL job has raised an exception\n\
         1   ★ ☓   <Job `quiet`>!! exception => Error:boom after 0.1s!!\n\
         2 ⚠ ★ ☓   <Job `loud`>!! CRIT. EXC. => Error:boom after 0.2s!! - requires {1}\n\
         ===== 2 job(s) with an exception, including 1 critical\n\
         non-critical 1 <Job `quiet`>: Error: boom after 0.1s\n\
         CRITICAL 2 <Job `loud`>: Error: boom after 0.2s\n"
    );
}

/// A `Write` whose bytes the test can read afterwards.
#[derive(Clone, Default)]
struct Feed(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Feed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn verbose_run_feeds_starts_ends_and_the_outcome() {
    let t = Trace::new();
    let feed = Feed::default();
    let mut sb = Scheduler::new().label("sb").feedback_to(feed.clone());
    let b1 = sb.add(Job::ok(t.in_out("b1", 0.1)).label("b1"));
    sb.add(Job::ok(t.in_out("b2", 0.2)).label("b2").requires(&b1));
    sb.add(Job::new(boom(0.05)).label("boom").critical(false));
    assert!(sb.co_run().await.unwrap());
    let text = String::from_utf8(feed.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text,
        "000.000 STARTING 1 <Job `b1`>\n\
         000.000 STARTING 3 <Job `boom`>\n\
         000.050 RAISED   3 <Job `boom`>!! exception => Error:boom after 0.05s!!\n\
         000.100 DONE     1 <Job `b1`>[[ -> 100.0]]\n\
         000.100 STARTING 2 <Job `b2`>\n\
         000.300 DONE     2 <Job `b2`>[[ -> 200.0]]\n\
         000.300 FINISHED scheduler `sb`: FINE\n"
    );
}

#[tokio::test(start_paused = true)]
async fn verbose_run_says_why_it_aborts() {
    let feed = Feed::default();
    let mut sd = Scheduler::new()
        .label("sd")
        .critical(false)
        .timeout(Duration::from_millis(250))
        .feedback_to(feed.clone());
    sd.add(Job::ok(async { sleep(Duration::from_secs(10)).await }).label("slow"));
    assert!(!sd.co_run().await.unwrap());
    let text = String::from_utf8(feed.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text,
        "000.000 STARTING 1 <Job `slow`>\n\
         000.250 ABORTING scheduler `sd`: TIMED OUT after 0.25s, cancelling 1 running job(s)\n"
    );
}

#[tokio::test(start_paused = true)]
async fn verbose_ids_are_the_listing_ids_nested_schedulers_included() {
    let (main, _t) = nested_example();
    let feed = Feed::default();
    let mut main = main.feedback_to(feed.clone());
    assert!(main.co_run().await.unwrap());
    let text = String::from_utf8(feed.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains(" STARTING 1 <Job `main-start`>\n"), "{text}");
    assert!(
        text.contains(" STARTING 2 <Scheduler `critical nested`>\n"),
        "{text}"
    );
    assert!(text.contains(" STARTING 7 <Job `main-end`>\n"), "{text}");
}
