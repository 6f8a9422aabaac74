//! One configuration of `cargo xtask bench scheduler`, in a process of its own
//! so that its peak RSS is that configuration's alone.
//!
//! Usage: `bench_scheduler_runner SHAPE VARIANT N [--window W] [--tokio-main]`
//! - SHAPE: `wide` (no edges), `chain` (each job requires the previous one),
//!   `layered` (layers of 100; each job requires 4 jobs of the layer before,
//!   `(i + k*25) % 100` for k = 0..3)
//! - VARIANT: `trivial` (`Job::ok` of an empty `async fn`) or `yield` (awaits
//!   `tokio::task::yield_now()` once)
//! - `--tokio-main`: build, check and `co_run().await` inside `#[tokio::main]`
//!   (multi-thread runtime) instead of `run()`.
//!
//! Prints one JSON object on stdout: times in seconds, RSS in KiB.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use asyncjobs_core::{Job, JobBody, JobRef, Scheduler};

const LAYER: usize = 100;
const FANIN: usize = 4;

#[derive(Clone, Copy)]
enum Shape {
    Wide,
    Chain,
    Layered,
}

struct Config {
    shape: Shape,
    yield_once: bool,
    n: usize,
    window: usize,
    tokio_main: bool,
}

fn parse(args: &[String]) -> Result<Config> {
    let [shape, variant, n, rest @ ..] = args else {
        bail!("usage: bench_scheduler_runner wide|chain|layered trivial|yield N [--window W] [--tokio-main]");
    };
    let shape = match shape.as_str() {
        "wide" => Shape::Wide,
        "chain" => Shape::Chain,
        "layered" => Shape::Layered,
        other => bail!("unknown shape `{other}`: wide, chain or layered"),
    };
    let yield_once = match variant.as_str() {
        "trivial" => false,
        "yield" => true,
        other => bail!("unknown variant `{other}`: trivial or yield"),
    };
    let n = n
        .parse()
        .with_context(|| format!("job count `{n}` is not a number"))?;
    let mut config = Config {
        shape,
        yield_once,
        n,
        window: 0,
        tokio_main: false,
    };
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--tokio-main" => config.tokio_main = true,
            "--window" => {
                let w = rest.next().context("--window needs a number")?;
                config.window = w
                    .parse()
                    .with_context(|| format!("window `{w}` is not a number"))?;
            }
            other => bail!("unknown option `{other}`"),
        }
    }
    Ok(config)
}

/// Adds `n` jobs made by `make` in the given shape.
fn build<B: JobBody>(s: &mut Scheduler, shape: Shape, n: usize, make: impl Fn() -> Job<B>) {
    match shape {
        Shape::Wide => (0..n).for_each(|_| {
            s.add(make());
        }),
        Shape::Chain => {
            let mut prev: Option<JobRef> = None;
            for _ in 0..n {
                prev = Some(s.add(make().requires(prev)).job_ref());
            }
        }
        Shape::Layered => {
            let (mut prev, mut layer) = (Vec::with_capacity(LAYER), Vec::with_capacity(LAYER));
            for _ in 0..n {
                let i = layer.len();
                let job = if prev.is_empty() {
                    make()
                } else {
                    let reqs: [JobRef; FANIN] =
                        std::array::from_fn(|k| prev[(i + k * (LAYER / FANIN)) % prev.len()]);
                    make().requires(reqs)
                };
                layer.push(s.add(job).job_ref());
                if layer.len() == LAYER {
                    std::mem::swap(&mut prev, &mut layer);
                    layer.clear();
                }
            }
        }
    }
}

/// Memory lines of /proc/self/status, in KiB.
fn status_kib(field: &str) -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .with_context(|| format!("no {field} in /proc/self/status"))?;
    let value = line[field.len()..].trim().trim_end_matches("kB").trim();
    value
        .parse()
        .with_context(|| format!("cannot read {field} from `{line}`"))
}

struct Measure {
    build_s: f64,
    check_s: f64,
    run_s: f64,
    baseline_kib: u64,
    /// VmRSS once built and checked: the graph at rest, before the run adds its own.
    built_kib: u64,
}

/// The trivial job's future.
async fn trivial() {}

/// The one-yield job's future, as a job waiting on one I/O event would.
async fn one_yield() {
    tokio::task::yield_now().await
}

/// Size of the job's own future: part of bytes/job that no scheduler can save.
fn future_bytes(c: &Config) -> usize {
    if c.yield_once {
        std::mem::size_of_val(&one_yield())
    } else {
        std::mem::size_of_val(&trivial())
    }
}

/// Build and check, timed; the run is left to the caller (blocking or async).
fn build_and_check(c: &Config) -> Result<(Scheduler, Measure)> {
    let baseline_kib = status_kib("VmRSS:")?;
    let t0 = Instant::now();
    let mut s = Scheduler::new().label("bench").jobs_window(c.window);
    if c.yield_once {
        build(&mut s, c.shape, c.n, || Job::ok(one_yield()));
    } else {
        build(&mut s, c.shape, c.n, || Job::ok(trivial()));
    }
    let t1 = Instant::now();
    s.check().context("check failed")?;
    let t2 = Instant::now();
    let m = Measure {
        build_s: (t1 - t0).as_secs_f64(),
        check_s: (t2 - t1).as_secs_f64(),
        run_s: 0.0,
        baseline_kib,
        built_kib: status_kib("VmRSS:")?,
    };
    Ok((s, m))
}

fn blocking(c: &Config) -> Result<(Scheduler, Measure)> {
    let (mut s, mut m) = build_and_check(c)?;
    let t = Instant::now();
    let fine = s.run().context("run failed")?;
    m.run_s = t.elapsed().as_secs_f64();
    if !fine {
        bail!("run returned false");
    }
    Ok((s, m))
}

#[tokio::main]
async fn in_tokio_main(c: &Config) -> Result<(Scheduler, Measure)> {
    let (mut s, mut m) = build_and_check(c)?;
    let t = Instant::now();
    let fine = s.co_run().await.context("co_run failed")?;
    m.run_s = t.elapsed().as_secs_f64();
    if !fine {
        bail!("co_run returned false");
    }
    Ok((s, m))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let c = parse(&args)?;
    let (s, m) = if c.tokio_main {
        in_tokio_main(&c)?
    } else {
        blocking(&c)?
    };
    let hwm_kib = status_kib("VmHWM:")?;
    // a run that did not complete every job measures nothing
    let expected = format!("{n}D + 0R + 0I = {n}", n = c.n);
    if s.stats() != expected {
        bail!("after the run: {}, expected {expected}", s.stats());
    }
    let report = serde_json::json!({
        "build_s": m.build_s,
        "check_s": m.check_s,
        "run_s": m.run_s,
        "future_bytes": future_bytes(&c),
        "baseline_kib": m.baseline_kib,
        "built_kib": m.built_kib,
        "hwm_kib": hwm_kib,
    });
    println!("{report}");
    // dropping a million jobs is not part of any measure
    std::mem::forget(s);
    Ok(())
}
