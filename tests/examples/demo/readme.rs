//! Second half of the demo:
//! the reference README's examples, run for real, with their timings and listings.

use std::time::Duration;

use asyncjobs_core::{Job, ListOptions, Scheduler, Sequence, Watch};
use tokio::time::sleep;

/// The README's `in_out`: print when entering and leaving, return milliseconds.
async fn in_out(watch: Watch, secs: f64) -> f64 {
    println!("{} -> in_out({secs})", watch.elapsed());
    sleep(Duration::from_secs_f64(secs)).await;
    println!("{} <- in_out({secs})", watch.elapsed());
    1000.0 * secs
}

async fn boom(secs: f64) -> Result<(), std::io::Error> {
    sleep(Duration::from_secs_f64(secs)).await;
    Err(std::io::Error::other(format!("boom after {secs}s")))
}

fn title(t: &str) {
    println!("\n=== {t}");
}

fn show(s: &Scheduler, ok: Result<bool, asyncjobs_core::SchedulerError>) {
    match ok {
        Ok(b) => println!("run() -> {b}"),
        Err(e) => println!("run() -> error: {}", asyncjobs_core::ErrorChain(&e)),
    }
    print!(
        "{}",
        s.listing(&ListOptions::default())
            .unwrap_or_else(|e| e.to_string())
    );
}

pub async fn demo() {
    title("The asynciojobs README examples");
    let w = Watch::new();

    title("Example B: b1 then b2, in parallel with b3");
    let mut sb = Scheduler::new();
    let b1 = sb.add(Job::ok(in_out(w, 0.1)).label("b1"));
    sb.add(Job::ok(in_out(w, 0.2)).label("b2").requires(&b1));
    sb.add(Job::ok(in_out(w, 0.25)));
    let r = sb.co_run().await;
    show(&sb, r);

    title("Example C: a forever monitor, cancelled when the others are done");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let bus = |secs: f64| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(format!("{} -> in_out({secs})", w.elapsed()));
            sleep(Duration::from_secs_f64(secs)).await;
            let _ = tx.send(format!("{} <- in_out({secs})", w.elapsed()));
            10.0 * secs
        }
    };
    let mut sc = Scheduler::new();
    let c1 = sc.add(Job::ok(bus(0.2)).label("c1"));
    sc.add(Job::ok(bus(0.4)).label("c2"));
    sc.add(Job::ok(bus(0.3)).label("c3").requires(&c1));
    sc.add(
        Job::ok(async move {
            while let Some(m) = rx.recv().await {
                println!("BUS: {m}");
            }
        })
        .label("monitor")
        .forever(true),
    );
    let r = sc.co_run().await;
    show(&sc, r);

    title("Example D: a global timeout of 0.25 s");
    let mut sd = Scheduler::new()
        .timeout(Duration::from_millis(250))
        .critical(false);
    sd.add(
        Job::ok(async move {
            for i in 0.. {
                println!("{}: forever {i}", w.elapsed());
                sleep(Duration::from_millis(100)).await;
            }
        })
        .forever(true),
    );
    let r = sd.co_run().await;
    show(&sd, r);
    println!("why(): {}", sd.why());

    for (name, critical) in [
        ("E: a non-critical failure", false),
        ("F: a critical failure", true),
    ] {
        title(&format!("Example {name}"));
        let mut s = Scheduler::new().critical(false);
        s.add(
            Sequence::new()
                .then(Job::ok(in_out(w, 0.2)).label("begin"))
                .then(Job::new(boom(0.2)).label("boom").critical(critical))
                .then(Job::ok(in_out(w, 0.3)).label("end")),
        );
        let r = s.co_run().await;
        show(&s, r);
    }

    title("Jobs window: 8 jobs of 0.5 s, at most 4 at a time");
    let mut s = Scheduler::new().jobs_window(4);
    for i in 1..=8 {
        s.add(Job::ok(async move {
            println!("{} {i}-th job", w.elapsed());
            sleep(Duration::from_millis(500)).await;
        }));
    }
    let start = Watch::new();
    let r = s.co_run().await;
    println!("total duration = {}s (expect about 1 s)", start.elapsed());
    show(&s, r);

    title("Nesting: a critical diamond inside a sequence");
    let mut sub = Scheduler::new().label("critical nested").critical(true);
    let s1 = sub.add(Job::ok(in_out(w, 0.1)).label("subj1"));
    let s2 = sub.add(Job::ok(in_out(w, 0.1)).label("subj2").requires(&s1));
    let s3 = sub.add(Job::ok(in_out(w, 0.1)).label("subj3").requires(&s1));
    sub.add(Job::ok(in_out(w, 0.1)).label("subj4").requires((&s2, &s3)));
    let mut main = Scheduler::new();
    main.add(
        Sequence::new()
            .then(Job::ok(in_out(w, 0.1)).label("main-start"))
            .then(sub)
            .then(Job::ok(in_out(w, 0.1)).label("main-end")),
    );
    let r = main.co_run().await;
    show(&main, r);

    title("Debrief of a failed run");
    let mut s = Scheduler::new().critical(false);
    let q = s.add(Job::new(boom(0.05)).label("quiet").critical(false));
    s.add(Job::new(boom(0.05)).label("loud").requires(&q));
    let _ = s.co_run().await;
    s.debrief();
}
