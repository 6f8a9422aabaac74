//! The example schedulers of the README (after the asynciojobs README), used
//! by `cargo xtask graph` to draw the README's pictures and by the golden
//! tests. Durations are the README's, scaled by [`TIME_SCALE`] so a real run
//! takes milliseconds.

use std::time::Duration;

use asyncjobs_core::{Job, JobError, Scheduler, SchedulerError, Sequence};

/// Factor applied to the README's durations (in seconds) when a job sleeps.
pub const TIME_SCALE: f64 = 0.01;

fn scaled(secs: f64) -> Duration {
    Duration::from_secs_f64(secs * TIME_SCALE)
}

/// Sleeps, then returns the README's duration in milliseconds.
async fn in_out(secs: f64) -> f64 {
    tokio::time::sleep(scaled(secs)).await;
    1000.0 * secs
}

/// Sleeps, then fails with `boom after {secs}s`.
async fn boom(secs: f64) -> Result<(), JobError> {
    tokio::time::sleep(scaled(secs)).await;
    Err(JobError::msg(format!("boom after {secs}s")))
}

/// Never returns: the README's monitoring loop, minus the message bus.
async fn monitor_loop() {
    loop {
        tokio::time::sleep(scaled(0.1)).await;
    }
}

/// Example B: `b1 -> b2`, in parallel with an unlabelled job (labelled by its function, `in_out`).
pub fn example_b() -> Scheduler {
    let mut s = Scheduler::new();
    let b1 = s.add(Job::ok(in_out(0.1)).label("b1"));
    s.add(Job::ok(in_out(0.2)).label("b2").requires(&b1));
    s.add(Job::ok(in_out(0.25)));
    s
}

/// Example C: `c1 -> c3`, `c2`, and a forever `monitor` job.
pub fn example_c() -> Scheduler {
    let mut s = Scheduler::new();
    let c1 = s.add(Job::ok(in_out(0.2)).label("c1"));
    s.add(Job::ok(in_out(0.4)).label("c2"));
    s.add(Job::ok(in_out(0.3)).label("c3").requires(&c1));
    s.add(Job::ok(monitor_loop()).label("monitor").forever(true));
    s
}

/// Example E: `begin -> boom -> end` with a non-critical `boom`, in a non-critical scheduler.
pub fn example_e() -> Scheduler {
    boom_sequence(false)
}

/// Example F: as [`example_e`] with a critical `boom`: `end` never runs.
pub fn example_f() -> Scheduler {
    boom_sequence(true)
}

fn boom_sequence(critical_boom: bool) -> Scheduler {
    let mut s = Scheduler::new().critical(false);
    s.add(
        Sequence::new()
            .then(Job::ok(in_out(0.2)).label("begin"))
            .then(Job::new(boom(0.2)).label("boom").critical(critical_boom))
            .then(Job::ok(in_out(0.3)).label("end")),
    );
    s
}

/// The README's diamond `subj1 -> subj2, subj3 -> subj4`, as a critical scheduler labelled `critical nested`.
pub fn sub_scheduler() -> Scheduler {
    let mut sub = Scheduler::new().label("critical nested").critical(true);
    let j1 = sub.add(Job::ok(in_out(0.5)).label("subj1"));
    let j2 = sub.add(Job::ok(in_out(0.5)).label("subj2").requires(&j1));
    let j3 = sub.add(Job::ok(in_out(0.5)).label("subj3").requires(&j1));
    sub.add(Job::ok(in_out(0.5)).label("subj4").requires((&j2, &j3)));
    sub
}

/// The nesting example: `main-start`, then [`sub_scheduler`], then `main-end`.
pub fn nested() -> Scheduler {
    let mut main = Scheduler::new();
    main.add(
        Sequence::new()
            .then(Job::ok(in_out(0.5)).label("main-start"))
            .then(sub_scheduler())
            .then(Job::ok(in_out(0.5)).label("main-end")),
    );
    main
}

/// Example F after a real run (a few milliseconds): `begin` succeeded, `boom`
/// raised, `end` never ran. Draw it with [`DotOptions::outcomes`](crate::DotOptions::outcomes).
pub fn example_f_after_run() -> Result<Scheduler, SchedulerError> {
    let mut s = example_f();
    s.run()?;
    Ok(s)
}

/// The README's pictures: file stem, scheduler, and whether to draw outcome colours.
/// Runs example F for real (see [`example_f_after_run`]).
pub fn readme_pictures() -> Result<Vec<(&'static str, Scheduler, bool)>, SchedulerError> {
    Ok(vec![
        ("readme-example-b", example_b(), false),
        ("readme-example-c", example_c(), false),
        ("readme-example-e", example_e(), false),
        ("readme-example-f", example_f(), false),
        ("readme-nested", nested(), false),
        ("readme-example-f-run", example_f_after_run()?, true),
    ])
}
