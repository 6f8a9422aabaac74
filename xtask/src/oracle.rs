//! `cargo xtask oracle`: records what the Python reference, asynciojobs
//! 0.21.3 from PyPI, prints and computes for the cases that
//! `asyncjobs-core/tests/integration/oracle.rs` replays — listings,
//! `list_safe()` ids, graph queries and surgery — into the committed golden
//! files `asyncjobs-core/tests/oracle/*.txt`, so the tests compare against the
//! reference without needing Python. Re-run it when a case is added.
//!
//! The cases are in `xtask/oracle/asynciojobs_oracle.py`, which runs in a venv
//! under the target directory (`oracle-venv`, made once).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::bench::capped::{self, Capped};
use crate::bench::checkout::workspace_root;
use crate::bench::pip;

const VERSION: &str = "0.21.3";
/// Wall-clock cap of the script (it runs a few millisecond-long schedulers).
const CAP: Duration = Duration::from_secs(120);

/// Runs the task; see the module doc.
pub fn main(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("`oracle` takes no argument (got `{arg}`)\nusage: cargo xtask oracle");
    }
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let python = venv(&target.join("oracle-venv"))?;
    let version = checked(Command::new(&python).arg("--version"), "python --version")?;
    let out = root.join("asyncjobs-core").join("tests").join("oracle");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut cmd = Command::new(&python);
    cmd.arg(
        root.join("xtask")
            .join("oracle")
            .join("asynciojobs_oracle.py"),
    )
    .arg(&out)
    .arg(&version)
    // the reference picks its listing glyphs from the output encoding
    .env("PYTHONIOENCODING", "utf-8");
    match capped::run(cmd, CAP).context("running asynciojobs_oracle.py")? {
        Capped::Done(stdout) => print!("{stdout}"),
        Capped::TimedOut => bail!("asynciojobs_oracle.py took over {CAP:?}: killed"),
    }
    Ok(())
}

/// The venv's python, with asynciojobs 0.21.3 installed (made once).
fn venv(venv: &Path) -> Result<PathBuf> {
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!("creating {} (python3 -m venv)...", venv.display());
        checked(
            Command::new("python3").args(["-m", "venv"]).arg(venv),
            "python3 -m venv",
        )
        .context("the oracle needs python3 with the venv module (Debian: python3-venv)")?;
    }
    let installed = Command::new(&python)
        .args(["-c", "import asynciojobs; print(asynciojobs.__version__)"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if installed != VERSION {
        let spec = format!("asynciojobs=={VERSION}");
        pip::install(venv, &python, &[&spec], "pip install asynciojobs")?;
    }
    Ok(python)
}

/// Runs `cmd`; its trimmed stdout, or an error with its stderr.
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
