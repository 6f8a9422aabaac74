//! The targets, checked against what was measured (nothing here is a
//! measured number: every verdict is computed from the rows).

use super::python::{Outcome, CAP};
use super::report::{rate, secs, Row};
use super::{Mode, Shape, Variant};
pub use crate::bench::verdict::{markdown, Status, Verdict};

/// Largest ratio between the per-job costs of two sizes still called flat:
/// O(V+E) code keeps it near 1, cache misses on big graphs account for the rest.
const FLAT: f64 = 2.0;

/// Build + check + run, minus the fixed start-up of `run()`, per job.
pub fn cost_per_job_ns(row: &Row, fixed_s: f64) -> f64 {
    let m = &row.rust;
    ((m.build_s + m.check_s + m.run_s - fixed_s).max(0.0) / row.config.n as f64) * 1e9
}

fn find(rows: &[Row], shape: Shape, variant: Variant, n: usize, mode: Mode) -> Option<&Row> {
    rows.iter().find(|r| {
        r.config.shape == shape
            && r.config.variant == variant
            && r.config.n == n
            && r.config.mode == mode
    })
}

fn name(r: &Row) -> String {
    format!(
        "{} {} {}",
        r.config.shape.name(),
        r.config.variant_label(),
        super::report::size(r.config.n)
    )
}

/// A verdict from the rows concerned: each gives (ok, text); none means not measured.
fn verdict(target: &'static str, checks: Vec<(bool, String)>) -> Verdict {
    let status = Status::of(&checks);
    // when missed, say which; when met, show every number
    let shown: Vec<String> = checks
        .iter()
        .filter(|c| status != Status::Missed || !c.0)
        .map(|c| c.1.clone())
        .collect();
    let detail = if shown.is_empty() {
        "not measured (run without --quick)".into()
    } else {
        shown.join("; ")
    };
    Verdict {
        target,
        status,
        detail,
    }
}

fn flat(rows: &[Row], fixed: f64) -> Vec<(bool, String)> {
    let mut checks = Vec::new();
    for shape in Shape::ALL {
        for variant in Variant::ALL {
            let costs: Vec<f64> = rows
                .iter()
                .filter(|r| {
                    r.config.shape == shape
                        && r.config.variant == variant
                        && r.config.mode == Mode::Run
                })
                .map(|r| cost_per_job_ns(r, fixed))
                .collect();
            if costs.len() < 2 {
                continue;
            }
            let (lo, hi) = costs
                .iter()
                .fold((f64::MAX, 0.0f64), |(lo, hi), &c| (lo.min(c), hi.max(c)));
            let spread = hi / lo.max(f64::MIN_POSITIVE);
            checks.push((
                spread <= FLAT,
                format!(
                    "{} {}: {lo:.0}–{hi:.0} ns/job ({spread:.1}x)",
                    shape.name(),
                    variant.name()
                ),
            ));
        }
    }
    checks
}

fn throughput(rows: &[Row], variant: Variant, min: f64) -> Vec<(bool, String)> {
    let mut checks = Vec::new();
    for shape in Shape::ALL {
        for n in [100_000, 1_000_000] {
            if let Some(r) = find(rows, shape, variant, n, Mode::Run) {
                let jps = n as f64 / r.rust.run_s;
                checks.push((jps >= min, format!("{}: {}/s", name(r), rate(jps))));
            }
        }
    }
    checks
}

fn chain_1m(rows: &[Row], variant: Variant, max_s: f64) -> Vec<(bool, String)> {
    [Mode::Run, Mode::TokioMain]
        .into_iter()
        .filter_map(|mode| find(rows, Shape::Chain, variant, 1_000_000, mode))
        .map(|r| {
            (
                r.rust.run_s < max_s,
                format!("{}: {}", name(r), secs(r.rust.run_s)),
            )
        })
        .collect()
}

fn build_check_1m(rows: &[Row]) -> Vec<(bool, String)> {
    rows.iter()
        .filter(|r| r.config.n == 1_000_000)
        .map(|r| {
            let t = r.rust.build_s + r.rust.check_s;
            (t < 0.25, format!("{}: {}", name(r), secs(t)))
        })
        .collect()
}

fn memory(rows: &[Row], windowed: bool, max: f64) -> Vec<(bool, String)> {
    rows.iter()
        .filter(|r| r.config.n >= 100_000 && matches!(r.config.mode, Mode::Window(_)) == windowed)
        .map(|r| {
            let b = r.bytes_per_job();
            (b <= max, format!("{}: {b:.0} B", name(r)))
        })
        .collect()
}

fn versus_reference(rows: &[Row]) -> Vec<(bool, String)> {
    rows.iter()
        .filter(|r| r.config.n == 100_000 && r.config.mode == Mode::Run)
        .filter_map(|r| match &r.python {
            Some(Outcome::Measured { run_s, .. }) => {
                let x = run_s / r.rust.run_s;
                Some((x >= 200.0, format!("{}: {x:.0}x", name(r))))
            }
            // the reference did not finish within the cap: the ratio is at least this
            Some(Outcome::Skipped) => {
                let x = CAP.as_secs_f64() / r.rust.run_s;
                Some((
                    x >= 200.0,
                    format!("{}: > {x:.0}x (reference skipped)", name(r)),
                ))
            }
            None => None,
        })
        .collect()
}

/// Every target of the issue, in its order.
pub fn evaluate(rows: &[Row], fixed: f64) -> Vec<Verdict> {
    vec![
        verdict(
            "cost per job flat from 1k to 1M in every shape",
            flat(rows, fixed),
        ),
        verdict(
            ">= 5M trivial jobs/s at 100k and 1M, every shape",
            throughput(rows, Variant::Trivial, 5e6),
        ),
        verdict(
            ">= 2.5M one-yield jobs/s at 100k and 1M, every shape",
            throughput(rows, Variant::Yield, 2.5e6),
        ),
        verdict(
            "1M chain < 0.15 s (trivial), also in #[tokio::main]",
            chain_1m(rows, Variant::Trivial, 0.15),
        ),
        verdict(
            "1M chain < 0.4 s (one-yield), also in #[tokio::main]",
            chain_1m(rows, Variant::Yield, 0.4),
        ),
        verdict("build + check of 1M jobs < 0.25 s", build_check_1m(rows)),
        verdict("<= 400 bytes/job (100k and 1M)", memory(rows, false, 400.0)),
        verdict(
            "<= 200 bytes/job with jobs_window = 100",
            memory(rows, true, 200.0),
        ),
        verdict(
            ">= 200x the reference at 100k, every shape (run time)",
            versus_reference(rows),
        ),
    ]
}

/// For the terminal.
pub fn text(verdicts: &[Verdict]) -> String {
    crate::bench::verdict::text("issue 3", verdicts)
}
