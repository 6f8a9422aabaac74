//! The results table, for the terminal and for BENCHMARKS.md.

use std::time::Duration;

use super::python::Outcome;
use super::rust::Measure;
use super::targets::{self, Verdict};
use super::{Config, Mode, Shape, Variant};

/// One configuration's results.
pub struct Row {
    pub config: Config,
    pub rust: Measure,
    /// None where the reference is not run (above 100k, window and tokio::main rows).
    pub python: Option<Outcome>,
}

impl Row {
    /// Peak RSS growth over the RSS before building, per job.
    pub fn bytes_per_job(&self) -> f64 {
        (self.rust.hwm_kib - self.rust.baseline_kib) * 1024.0 / self.config.n as f64
    }
    /// Same, once built and checked (the graph at rest, before the run).
    pub fn built_bytes_per_job(&self) -> f64 {
        (self.rust.built_kib - self.rust.baseline_kib) * 1024.0 / self.config.n as f64
    }
}

/// `153 µs`, `10.3 ms`, `1.23 s`.
pub fn secs(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// `14.8M`, `850k`.
pub fn rate(per_s: f64) -> String {
    if per_s >= 1e6 {
        format!("{:.1}M", per_s / 1e6)
    } else {
        format!("{:.0}k", per_s / 1e3)
    }
}

/// `1k`, `1M`.
pub fn size(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

const HEADER: [&str; 11] = [
    "shape",
    "variant",
    "N",
    "build",
    "check",
    "run",
    "jobs/s",
    "peak RSS",
    "bytes/job",
    "python run",
    "ratio",
];

fn cells(r: &Row) -> [String; 11] {
    let m = &r.rust;
    let (py, ratio) = match &r.python {
        Some(Outcome::Measured { run_s, .. }) => (secs(*run_s), format!("{:.0}x", run_s / m.run_s)),
        Some(Outcome::Skipped) => (
            format!("skipped (>{} s)", super::python::CAP.as_secs()),
            "-".into(),
        ),
        None => ("-".into(), "-".into()),
    };
    [
        r.config.shape.name().into(),
        r.config.variant_label(),
        size(r.config.n),
        secs(m.build_s),
        secs(m.check_s),
        secs(m.run_s),
        rate(r.config.n as f64 / m.run_s),
        format!("{:.1} MiB", m.hwm_kib / 1024.0),
        format!("{:.0}", r.bytes_per_job()),
        py,
        ratio,
    ]
}

/// While the benchmark runs, one line per configuration.
pub fn progress_line(r: &Row) -> String {
    cells(r).join("  ")
}

/// Aligned columns for the terminal.
pub fn text_table(rows: &[Row]) -> String {
    // shape and variant are text
    crate::bench::table::aligned(HEADER, rows.iter().map(cells), |c| c < 2)
}

fn markdown_table(rows: &[Row]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        HEADER.join(" | "),
        "---|".repeat(2) + &"--:|".repeat(9)
    );
    for r in rows {
        out.push_str(&format!(
            "| {} |\n",
            cells(r)
                .join(" | ")
                .replace("#[tokio::main]", "`#[tokio::main]`")
        ));
    }
    out
}

/// Per-job cost at each size, the basis of the "flat" target.
fn cost_table(rows: &[Row], fixed: f64) -> String {
    let sizes: Vec<usize> = {
        let mut s: Vec<usize> = rows
            .iter()
            .filter(|r| r.config.mode == Mode::Run)
            .map(|r| r.config.n)
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let mut out = format!(
        "| shape | variant | {} |\n|---|---|{}\n",
        sizes
            .iter()
            .map(|&n| size(n))
            .collect::<Vec<_>>()
            .join(" | "),
        "--:|".repeat(sizes.len())
    );
    for shape in Shape::ALL {
        for variant in Variant::ALL {
            let costs: Vec<String> = sizes
                .iter()
                .map(|&n| {
                    rows.iter()
                        .find(|r| {
                            r.config.shape == shape
                                && r.config.variant == variant
                                && r.config.n == n
                                && r.config.mode == Mode::Run
                        })
                        .map(|r| format!("{:.0}", targets::cost_per_job_ns(r, fixed)))
                        .unwrap_or_else(|| "-".into())
                })
                .collect();
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                shape.name(),
                variant.name(),
                costs.join(" | ")
            ));
        }
    }
    out
}

fn memory_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| shape | variant | N | after build + check | peak (run) | the job's own future |\n|---|---|--:|--:|--:|--:|\n",
    );
    for r in rows.iter().filter(|r| r.config.n >= 1_000_000) {
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.0} |\n",
            r.config.shape.name(),
            r.config
                .variant_label()
                .replace("#[tokio::main]", "`#[tokio::main]`"),
            size(r.config.n),
            r.built_bytes_per_job(),
            r.bytes_per_job(),
            r.rust.future_bytes,
        ));
    }
    out
}

fn python_table(rows: &[Row]) -> String {
    let mut out = String::from("| shape | variant | N | build | check | run | processes |\n|---|---|--:|--:|--:|--:|--:|\n");
    for r in rows {
        let cols = match &r.python {
            Some(Outcome::Measured {
                build_s,
                check_s,
                run_s,
                reps,
            }) => {
                format!(
                    "{} | {} | {} | {reps}",
                    secs(*build_s),
                    secs(*check_s),
                    secs(*run_s)
                )
            }
            Some(Outcome::Skipped) => {
                format!("skipped (>{} s) | | | ", super::python::CAP.as_secs())
            }
            None => continue,
        };
        out.push_str(&format!(
            "| {} | {} | {} | {cols} |\n",
            r.config.shape.name(),
            r.config.variant.name(),
            size(r.config.n)
        ));
    }
    out
}

/// What the table was measured with, besides the machine.
pub struct Setting {
    /// `run()` of an empty scheduler, in seconds.
    pub fixed_s: f64,
    /// Python and asynciojobs versions.
    pub python: String,
    /// The commit of asyncjobs-core measured.
    pub core: String,
    /// 1-minute load average before and after.
    pub load: String,
}

/// The generated part of the "Scheduler" section of BENCHMARKS.md.
pub fn markdown(rows: &[Row], verdicts: &[Verdict], setting: &Setting, cap: Duration) -> String {
    let (fixed, core_commit, python, load) = (
        setting.fixed_s,
        &setting.core,
        &setting.python,
        &setting.load,
    );
    let machine: String = crate::bench::machine::describe()
        .iter()
        .map(|(k, v)| format!("- {k}: {v}\n"))
        .collect();
    let reps = |n: usize| {
        rows.iter()
            .find(|r| r.config.n == n)
            .map(|r| r.rust.reps.to_string())
            .unwrap_or("-".into())
    };
    format!(
        "How to reproduce: `cargo xtask bench scheduler` (a few minutes; rewrites this part of the section). \
`cargo xtask bench scheduler --quick` runs sizes up to 100k without Python and writes nothing, for fast iteration.

Machine:
{machine}- asyncjobs-core: {core_commit}
- Python reference: {python}, from PyPI in `target/bench-venv`

Method. Each configuration runs in a fresh process of `bench_scheduler_runner` (profile `bench-release`), \
so its peak RSS is its own; times are the best of {} (1k, 10k), {} (100k) and {} (1M) processes \
(other work on this shared machine can only add time; 1-minute load average {load}), RSS the median. \
*build*: creating the jobs (`Job::ok` of an empty `async fn`, or of one awaiting `tokio::task::yield_now()` once) and adding them; \
*check*: `s.check()`; *run*: `s.run()`, all it does, including building its own multi-thread runtime \
({} for an empty scheduler), or, in the `#[tokio::main]` rows, `s.co_run().await` on that runtime; \
*jobs/s*: N / run; *peak RSS*: VmHWM; *bytes/job*: (VmHWM − VmRSS before building) / N. \
Shapes: wide (no edges), chain (each job requires the previous one), layered (layers of 100, job i requiring \
jobs (i + 25k) % 100, k = 0..3, of the layer before). \
Python: `PureScheduler(verbose=False)`, `Job(coro(), required=...)`, `check_cycles()`, then `run()` \
(which in 0.21.3 also runs its automatic `co_shutdown()` pass); best of 3 processes up to 10k, one at 100k; \
a configuration is capped at {} s (killed, or not started when the sizes before predict more) and then shows \
\"skipped (>{} s)\"; *ratio* = python run / rust run.

{}
Cost per job in ns, (build + check + run − the empty `run()`) / N:

{}
Bytes per job at 1M, once built and checked and at the peak of the run, next to the size of the future each job is given:

{}
The Python reference in detail:

{}
Targets (issue 3):

{}",
        reps(1_000),
        reps(100_000),
        reps(1_000_000),
        secs(fixed),
        cap.as_secs(),
        cap.as_secs(),
        markdown_table(rows),
        cost_table(rows, fixed),
        memory_table(rows),
        python_table(rows),
        targets::markdown(verdicts),
    )
}
