//! The reference: Python asynciojobs 0.21.3 from PyPI, in a venv under the
//! target directory, running `xtask/bench/asynciojobs_bench.py` in a fresh
//! process per configuration, each capped in time (the reference is quadratic
//! on some shapes, so big sizes are skipped when they would not fit the cap).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::{Config, Shape, Variant};
use crate::bench::capped::{self, Capped};
use crate::bench::pip;

/// Wall-clock cap of one Python configuration (interpreter start, build, check, run).
pub const CAP: Duration = Duration::from_secs(60);
const VERSION: &str = "0.21.3";

/// What the reference did with one configuration.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Best times over `reps` processes, in seconds.
    Measured {
        build_s: f64,
        check_s: f64,
        run_s: f64,
        reps: usize,
    },
    /// Not run, or killed: it would take longer than [`CAP`].
    Skipped,
}

/// (jobs, wall seconds) of each size measured for one shape and variant, or
/// None once a size was skipped (bigger ones are skipped too).
type History = Option<Vec<(usize, f64)>>;

/// The venv and what has been measured so far (to predict what will not fit).
pub struct Reference {
    python: PathBuf,
    script: PathBuf,
    /// `Python 3.x.y, asynciojobs 0.21.3`.
    pub version: String,
    history: HashMap<(Shape, Variant), History>,
}

fn checked(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Reference {
    /// Makes `<target>/bench-venv` (once) with asynciojobs 0.21.3 from PyPI.
    pub fn setup(root: &Path, target_dir: &Path) -> Result<Reference> {
        let venv = target_dir.join("bench-venv");
        let python = venv.join("bin").join("python");
        if !python.exists() {
            eprintln!("creating {} (python3 -m venv)...", venv.display());
            checked(
                Command::new("python3").args(["-m", "venv"]).arg(&venv),
                "python3 -m venv",
            )
            .context(
                "the Python reference needs python3 with the venv module (Debian: python3-venv)",
            )?;
        }
        let installed = Command::new(&python)
            .args(["-c", "import asynciojobs; print(asynciojobs.__version__)"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        if installed != VERSION {
            let spec = format!("asynciojobs=={VERSION}");
            pip::install(&venv, &python, &[&spec], "pip install asynciojobs")?;
        }
        let py = checked(Command::new(&python).arg("--version"), "python --version")?;
        let script = root
            .join("xtask")
            .join("bench")
            .join("asynciojobs_bench.py");
        if !script.exists() {
            bail!("missing {}", script.display());
        }
        Ok(Reference {
            python,
            script,
            version: format!("{py}, asynciojobs {VERSION}"),
            history: HashMap::new(),
        })
    }

    /// Wall time predicted for `n` jobs from the sizes measured before (at least linear).
    fn predict(points: &[(usize, f64)], n: usize) -> Option<f64> {
        let &(n1, w1) = points.last()?;
        let exponent = match points {
            [.., (n0, w0), _] if *w0 > 0.0 && n1 > *n0 => {
                ((w1 / w0).ln() / (n1 as f64 / *n0 as f64).ln()).clamp(1.0, 2.0)
            }
            _ => 1.0,
        };
        Some(w1 * (n as f64 / n1 as f64).powf(exponent))
    }

    fn once(&self, c: &Config) -> Result<Option<(Value, f64)>> {
        let mut cmd = Command::new(&self.python);
        cmd.arg(&self.script)
            .args([c.shape.name(), c.variant.arg(), &c.n.to_string()]);
        let start = Instant::now();
        match capped::run(cmd, CAP)? {
            Capped::TimedOut => Ok(None),
            Capped::Done(out) => {
                let v: Value = serde_json::from_str(out.trim()).with_context(|| {
                    format!("asynciojobs_bench.py: unreadable output `{}`", out.trim())
                })?;
                if v["ok"] != true {
                    bail!(
                        "asynciojobs_bench.py {} {} {}: the run did not complete every job: {v}",
                        c.shape.name(),
                        c.variant.arg(),
                        c.n
                    );
                }
                Ok(Some((v, start.elapsed().as_secs_f64())))
            }
        }
    }

    /// One configuration: best of a few processes, or skipped when it would exceed the cap.
    pub fn measure(&mut self, c: &Config) -> Result<Outcome> {
        let key = (c.shape, c.variant);
        let Some(points) = self
            .history
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .clone()
        else {
            return Ok(Outcome::Skipped);
        };
        if Self::predict(&points, c.n).is_some_and(|w| w > CAP.as_secs_f64()) {
            self.history.insert(key, None);
            return Ok(Outcome::Skipped);
        }
        let reps = if c.n <= 10_000 { 3 } else { 1 };
        let mut runs = Vec::new();
        for _ in 0..reps {
            match self.once(c)? {
                Some(run) => runs.push(run),
                None => {
                    self.history.insert(key, None);
                    return Ok(Outcome::Skipped);
                }
            }
        }
        let col = |key: &str| {
            let mut v: Vec<f64> = runs.iter().filter_map(|(r, _)| r[key].as_f64()).collect();
            v.sort_by(f64::total_cmp);
            v.first()
                .copied()
                .context("asynciojobs_bench.py: missing a time")
        };
        let wall = runs.iter().map(|(_, w)| *w).fold(0.0, f64::max);
        if let Some(Some(p)) = self.history.get_mut(&key) {
            p.push((c.n, wall));
        }
        Ok(Outcome::Measured {
            build_s: col("build_s")?,
            check_s: col("check_s")?,
            run_s: col("run_s")?,
            reps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Reference;

    #[test]
    fn prediction_follows_the_growth_seen_between_linear_and_quadratic() {
        // nothing measured yet: nothing to predict
        assert_eq!(Reference::predict(&[], 1000), None);
        // one size: assume linear
        let one = Reference::predict(&[(1000, 1.0)], 10_000).unwrap();
        assert!((one - 10.0).abs() < 1e-9);
        // quadratic growth seen: quadratic prediction
        let quad = Reference::predict(&[(1000, 0.1), (10_000, 10.0)], 100_000).unwrap();
        assert!((quad - 1000.0).abs() < 1e-6);
        // faster than quadratic is capped at quadratic, slower than linear at linear
        let steep = Reference::predict(&[(1000, 0.001), (10_000, 10.0)], 100_000).unwrap();
        assert!((steep - 1000.0).abs() < 1e-6);
        let flat = Reference::predict(&[(1000, 1.0), (10_000, 1.0)], 100_000).unwrap();
        assert!((flat - 10.0).abs() < 1e-9);
    }
}
