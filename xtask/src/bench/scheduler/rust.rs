//! The Rust side: builds the runner binary (`bench_scheduler_runner`, profile
//! `bench-release`) once, then runs it in a fresh process per repetition.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::{Config, Mode, Shape, Variant};
use crate::bench::capped::{self, Capped};

const BIN: &str = "bench_scheduler_runner";
const PROFILE: &str = "bench-release";
/// A Rust configuration takes well under a second; this only guards against a hang.
const CAP: Duration = Duration::from_secs(120);

/// One configuration over its repetitions: best times (s), median RSS (KiB).
#[derive(Debug, Clone)]
pub struct Measure {
    pub build_s: f64,
    pub check_s: f64,
    pub run_s: f64,
    pub baseline_kib: f64,
    pub built_kib: f64,
    pub hwm_kib: f64,
    /// Size of the job's own future (what `Job::ok` is given).
    pub future_bytes: f64,
    pub reps: usize,
}

/// The release-built runner.
pub struct Runner {
    exe: PathBuf,
    pub target_dir: PathBuf,
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Repetitions per size: small sizes are noisy and cheap.
fn reps(n: usize) -> usize {
    match n {
        0..=10_000 => 9,
        10_001..=100_000 => 7,
        _ => 5,
    }
}

/// How the repetitions of one column are summed up.
#[derive(Clone, Copy)]
enum Pick {
    /// Times: other work on the machine can only add to them, so the best is the
    /// closest to what the code costs.
    Best,
    /// Memory does not suffer from other processes: the middle value.
    Median,
}

fn pick(mut v: Vec<f64>, how: Pick) -> f64 {
    v.sort_by(f64::total_cmp);
    match how {
        Pick::Best => v[0],
        Pick::Median => v[v.len() / 2],
    }
}

impl Runner {
    /// `cargo build --profile bench-release --bin bench_scheduler_runner`.
    pub fn build(root: &Path) -> Result<Runner> {
        let meta = cargo()
            .current_dir(root)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .context("running cargo metadata")?;
        if !meta.status.success() {
            bail!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&meta.stderr).trim_end()
            );
        }
        let meta: Value = serde_json::from_slice(&meta.stdout).context("reading cargo metadata")?;
        let target_dir = meta["target_directory"]
            .as_str()
            .context("no target_directory in cargo metadata")?
            .into();

        eprintln!("building {BIN} (profile {PROFILE})...");
        let out = cargo()
            .current_dir(root)
            .args(["build", "--profile", PROFILE, "-p", "xtask", "--bin", BIN])
            .args(["--message-format", "json-render-diagnostics"])
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("running cargo build")?;
        if !out.status.success() {
            bail!("cargo build of {BIN} failed (see above)");
        }
        let exe = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["target"]["name"] == BIN)
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .with_context(|| format!("cargo build did not report the {BIN} executable"))?;
        Ok(Runner { exe, target_dir })
    }

    fn once(&self, args: &[String]) -> Result<Value> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(args);
        match capped::run(cmd, CAP)? {
            Capped::Done(out) => serde_json::from_str(out.trim()).with_context(|| {
                format!(
                    "{BIN} {}: unreadable output `{}`",
                    args.join(" "),
                    out.trim()
                )
            }),
            Capped::TimedOut => bail!(
                "{BIN} {} still running after {CAP:?}: killed",
                args.join(" ")
            ),
        }
    }

    fn repeat(&self, args: &[String], reps: usize) -> Result<Measure> {
        let runs = (0..reps)
            .map(|_| self.once(args))
            .collect::<Result<Vec<_>>>()?;
        let col = |key: &str, how: Pick| -> Result<f64> {
            let values = runs.iter().map(|r| {
                r[key]
                    .as_f64()
                    .with_context(|| format!("{BIN}: no `{key}` in {r}"))
            });
            Ok(pick(values.collect::<Result<Vec<_>>>()?, how))
        };
        Ok(Measure {
            build_s: col("build_s", Pick::Best)?,
            check_s: col("check_s", Pick::Best)?,
            run_s: col("run_s", Pick::Best)?,
            baseline_kib: col("baseline_kib", Pick::Median)?,
            built_kib: col("built_kib", Pick::Median)?,
            hwm_kib: col("hwm_kib", Pick::Median)?,
            future_bytes: col("future_bytes", Pick::Median)?,
            reps,
        })
    }

    /// One configuration, over a few fresh processes.
    pub fn measure(&self, c: &Config) -> Result<Measure> {
        let mut args = vec![
            c.shape.name().to_string(),
            c.variant.arg().to_string(),
            c.n.to_string(),
        ];
        match c.mode {
            Mode::Run => {}
            Mode::Window(w) => args.extend(["--window".to_string(), w.to_string()]),
            Mode::TokioMain => args.push("--tokio-main".to_string()),
        }
        self.repeat(&args, reps(c.n))
    }

    /// `run()` of an empty scheduler: the runtime's start-up and shutdown, paid once per run.
    pub fn fixed_cost(&self) -> Result<f64> {
        let empty = Config {
            shape: Shape::Wide,
            variant: Variant::Trivial,
            n: 0,
            mode: Mode::Run,
        };
        Ok(self.measure(&empty)?.run_s)
    }
}
