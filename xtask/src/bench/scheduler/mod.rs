//! `cargo xtask bench scheduler`: the core scheduler on three graph shapes and
//! four sizes, each configuration in a fresh release-built process (so its peak
//! RSS is its own), next to Python asynciojobs 0.21.3 up to 100k jobs.

mod python;
mod report;
mod rust;
mod targets;

use anyhow::{bail, Result};

use super::{checkout, machine};

/// Graph shapes, as the issue defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// No edges.
    Wide,
    /// Each job requires the previous one.
    Chain,
    /// Layers of 100; each job requires 4 jobs of the layer before.
    Layered,
}

impl Shape {
    const ALL: [Shape; 3] = [Shape::Wide, Shape::Chain, Shape::Layered];
    fn name(self) -> &'static str {
        match self {
            Shape::Wide => "wide",
            Shape::Chain => "chain",
            Shape::Layered => "layered",
        }
    }
}

/// What each job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Completes at once.
    Trivial,
    /// Yields to the runtime once, as a job waiting on one I/O event would.
    Yield,
}

impl Variant {
    const ALL: [Variant; 2] = [Variant::Trivial, Variant::Yield];
    /// The name both runners take on their command line.
    fn arg(self) -> &'static str {
        match self {
            Variant::Trivial => "trivial",
            Variant::Yield => "yield",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Variant::Trivial => "trivial",
            Variant::Yield => "one-yield",
        }
    }
}

/// How the scheduler is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `run()`: its own multi-thread runtime, `block_on(co_run())`.
    Run,
    /// `run()` with `jobs_window(w)`.
    Window(usize),
    /// `co_run().await` inside `#[tokio::main]` (multi-thread runtime).
    TokioMain,
}

/// One measured configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub shape: Shape,
    pub variant: Variant,
    pub n: usize,
    pub mode: Mode,
}

impl Config {
    /// How the variant column shows it.
    fn variant_label(&self) -> String {
        match self.mode {
            Mode::Run => self.variant.name().to_string(),
            Mode::Window(w) => format!("{}, window {w}", self.variant.name()),
            Mode::TokioMain => format!("{}, #[tokio::main]", self.variant.name()),
        }
    }
}

struct Options {
    quick: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options { quick: false };
    for arg in args {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            other => bail!("unknown option `{other}` for `bench scheduler` (known: --quick)"),
        }
    }
    Ok(opts)
}

/// Every configuration, smallest first; `max_n` bounds the sizes.
fn configs(max_n: usize) -> Vec<Config> {
    let sizes: Vec<usize> = [1_000, 10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|&n| n <= max_n)
        .collect();
    let big = *sizes.last().unwrap_or(&1_000);
    let mut all = Vec::new();
    for shape in Shape::ALL {
        for variant in Variant::ALL {
            for &n in &sizes {
                all.push(Config {
                    shape,
                    variant,
                    n,
                    mode: Mode::Run,
                });
            }
        }
    }
    for variant in Variant::ALL {
        all.push(Config {
            shape: Shape::Wide,
            variant,
            n: big,
            mode: Mode::Window(100),
        });
    }
    for variant in Variant::ALL {
        all.push(Config {
            shape: Shape::Chain,
            variant,
            n: big,
            mode: Mode::TokioMain,
        });
    }
    all
}

/// Largest size the Python reference is run at.
const PYTHON_MAX_N: usize = 100_000;

/// The commit measured, and whether the core had uncommitted changes then.
fn core_version(root: &std::path::Path) -> String {
    checkout::commit(root, &["asyncjobs-core"])
        .unwrap_or_else(|| "unknown (not a git checkout)".into())
}

/// Runs the benchmark; see the module doc.
pub fn main(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let root = checkout::workspace_root();
    let runner = rust::Runner::build(&root)?;
    let mut python = if opts.quick {
        None
    } else {
        Some(python::Reference::setup(&root, &runner.target_dir)?)
    };
    let max_n = if opts.quick { 100_000 } else { 1_000_000 };

    let load_before = machine::load_average();
    let fixed = runner.fixed_cost()?;
    eprintln!(
        "run() of an empty scheduler (runtime start-up and shutdown): {}",
        report::secs(fixed)
    );
    let mut rows = Vec::new();
    for config in configs(max_n) {
        let rust = runner.measure(&config)?;
        let py = match python.as_mut() {
            Some(p) if config.mode == Mode::Run && config.n <= PYTHON_MAX_N => {
                Some(p.measure(&config)?)
            }
            _ => None,
        };
        let row = report::Row {
            config,
            rust,
            python: py,
        };
        eprintln!("{}", report::progress_line(&row));
        rows.push(row);
    }
    let verdicts = targets::evaluate(&rows, fixed);
    println!("{}", report::text_table(&rows));
    println!("{}", targets::text(&verdicts));
    if opts.quick {
        println!("(--quick: sizes up to 100k, no Python; BENCHMARKS.md not written)");
        return Ok(());
    }
    let setting = report::Setting {
        fixed_s: fixed,
        python: python
            .as_ref()
            .map(|p| p.version.clone())
            .unwrap_or_default(),
        core: core_version(&root),
        load: format!("{load_before} before, {} after", machine::load_average()),
    };
    let body = report::markdown(&rows, &verdicts, &setting, python::CAP);
    let path = root.join("BENCHMARKS.md");
    super::markdown::update(&path, "Scheduler", "scheduler", &body)?;
    println!("wrote the Scheduler section of {}", path.display());
    Ok(())
}
