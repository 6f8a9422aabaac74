//! `ajssh scenario run|check|dot FILE`: scenario files (TOML, format in
//! [`model`]; or apssh's YAML, see [`yaml`]) into a scheduler of SSH jobs.
//! Every error in a file names its line and the job (or node, or group).

mod build;
mod model;
mod plan;
mod toml_file;
mod yaml;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use asyncjobs_core::{ErrorChain, ListOptions, Scheduler};
use asyncjobs_graph::DotOptions;
use asyncjobs_ssh::{Formatter, HostFormatter};

use crate::args::{ConnectOpts, ScenarioCheck, ScenarioDot, ScenarioRun};
use crate::exit;
use crate::fanout::Fail;
use crate::hosts::Resolver;
use crate::limits;

pub use plan::Plan;

const INTERRUPTED: &str = "interrupted (signal)";

/// An error in a scenario file: `file:line: job `x`: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    file: PathBuf,
    line: usize,
    what: Option<String>,
    message: String,
}

impl ScenarioError {
    /// An error on `line` (0 when unknown) about `what` (e.g. "job `deploy`").
    pub fn at(
        file: &Path,
        line: usize,
        what: Option<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            file: file.to_path_buf(),
            line,
            what,
            message: message.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(w) = &self.what {
            write!(f, ": {w}")?;
        }
        write!(f, ": {}", self.message)
    }
}

fn is_yaml(file: &Path) -> bool {
    matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Reads and checks a scenario file.
pub fn load(file: &Path) -> Result<Plan, ScenarioError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ScenarioError::at(file, 0, None, format!("cannot read: {e}")))?;
    let plan = if is_yaml(file) {
        yaml::parse(&text, file)?
    } else {
        let base = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        toml_file::parse(&text, file, base)?
    };
    plan.check(file)?;
    Ok(plan)
}

fn build(file: &Path, connect: &ConnectOpts) -> Result<Scheduler, Fail> {
    let plan = load(file).map_err(Fail::usage)?;
    let resolver = Resolver::new(connect).map_err(Fail::usage)?;
    let formatter: Arc<dyn Formatter> = Arc::new(HostFormatter::new().verbose(connect.verbose > 0));
    let s = build::scheduler(&plan, &resolver, formatter)
        .map_err(|e| Fail::usage(format!("{}: {e}", file.display())))?;
    Ok(s)
}

/// `scenario run`: runs, closes the connections, prints the listing; exit 0 if the scenario succeeded, else 1.
pub fn run(r: &ScenarioRun) -> Result<u8, Fail> {
    let mut s = build(&r.file, &r.connect)?;
    // many nodes may be connected at once: make room for their sockets
    let _ = limits::raise_nofile();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Fail::local)?;
    // SIGINT, SIGTERM and SIGHUP stop the run as Ctrl-C does (see crate::stop)
    let stop = crate::stop::Stop::new();
    crate::stop::watch_signals(&stop)
        .map_err(|e| Fail::local(format!("cannot watch signals: {e}")))?;
    let outcome = rt.block_on(async {
        let outcome = tokio::select! {
            r = s.co_run() => r.map_err(|e| ErrorChain(&e).to_string()),
            _ = stop.wait() => Err(INTERRUPTED.to_string()),
        };
        // closes every connection, hosts before their gateways
        s.co_shutdown().await;
        outcome
    });
    // the listing; after a failure, the debrief: listing, then each error with its causes
    let opts = ListOptions::default();
    let text = match &outcome {
        Ok(true) => s.listing(&opts).unwrap_or_else(|_| s.listing_safe(&opts)),
        _ => s.debrief_text(&opts),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(Fail::local)?;
    out.flush().map_err(Fail::local)?;
    if let Some(path) = &r.dot {
        let msg = asyncjobs_graph::export_as_dotfile_with(&s, path, &DotOptions::outcomes())
            .map_err(|e| Fail::local(ErrorChain(&e)))?;
        eprintln!("ajssh: {msg}");
    }
    match outcome {
        Ok(true) => Ok(exit::OK),
        Ok(false) => {
            eprintln!("ajssh: scenario {} failed: {}", r.file.display(), s.why());
            Ok(exit::FAILED)
        }
        Err(e) => {
            eprintln!("ajssh: scenario {}: {e}", r.file.display());
            Ok(match stop.reason() {
                Some(reason) if e == INTERRUPTED => reason.exit_code(),
                _ => exit::FAILED,
            })
        }
    }
}

/// `scenario dot`: writes the graph (no connection is made).
pub fn dot(d: &ScenarioDot) -> Result<u8, Fail> {
    let s = build(&d.file, &ConnectOpts::default())?;
    let text = asyncjobs_graph::dot_format(&s).map_err(|e| Fail::usage(ErrorChain(&e)))?;
    match d.output.as_deref() {
        Some(p) if p == Path::new("-") => {
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(Fail::local)?;
        }
        other => {
            let path = other
                .map(Path::to_path_buf)
                .unwrap_or_else(|| d.file.with_extension("dot"));
            std::fs::write(&path, text)
                .map_err(|e| Fail::local(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("ajssh: (over)wrote {}", path.display());
        }
    }
    Ok(exit::OK)
}

/// `scenario check`: the checks and what would run, in order, without running.
pub fn check(c: &ScenarioCheck) -> Result<u8, Fail> {
    let s = build(&c.file, &ConnectOpts::default())?;
    let text = s
        .dry_run()
        .map_err(|e| Fail::usage(format!("{}: {e}", c.file.display())))?;
    print!("{text}");
    Ok(exit::OK)
}
