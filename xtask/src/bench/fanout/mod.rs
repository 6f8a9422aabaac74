//! `cargo xtask bench fanout`: `true` on N loopback sshd hosts (N = 10, 100,
//! 500, from the test harness) with `ajssh` and its peers — apssh, asyncssh,
//! parallel-ssh and ClusterShell's clush (PyPI), pdsh and an `xargs -P` loop of
//! OpenSSH `ssh` (Debian), bssh (crates.io, when built with `--with-bssh`) —
//! with the same window, several runs each in turns; medians, ratios to ajssh,
//! client and sshd CPU, peak RSS; every run validated and capped in time.

pub(crate) mod farm;
mod procs;
pub(crate) mod report;
mod results;
pub(crate) mod run;
pub(crate) mod setup;
mod targets;
pub(crate) mod tools;

use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::{checkout, machine};
use crate::bench::runs::CellRuns;

use farm::Farm;
use results::Cell;
use run::{Outcome, VALIDATION_COMMAND};
use tools::{Kit, Tool};

/// Wall-clock cap of one run of one tool.
const CAP: Duration = Duration::from_secs(120);
/// ajssh's default window, and pdsh's default fanout.
const WINDOW: usize = 32;

struct Options {
    quick: bool,
    window: usize,
    sizes: Vec<(usize, usize)>,
    tools: Vec<Tool>,
    /// Build bssh with `cargo install` if it is not there.
    with_bssh: bool,
    /// Only the full default run writes BENCHMARKS.md.
    write: bool,
}

const OPTIONS_HELP: &str = "options of `bench fanout`: --quick (N = 10 and 100, 3 runs), \
    --window W (default 32), --sizes N[,N...] (default 10,100,500), \
    --tools T[,T...] (ajssh,apssh,parallel-ssh,pdsh,xargs,asyncssh,clush,bssh); any of them: \
    BENCHMARKS.md untouched. --with-bssh: build bssh (cargo install into target/bench-bssh) \
    when it is not there; without it bssh is skipped with a note unless an earlier build left it";

/// Timed runs at size n: fewer where one run takes long.
fn reps(n: usize, quick: bool) -> usize {
    match (quick, n) {
        (true, _) => 3,
        (false, 0..=100) => 5,
        _ => 3,
    }
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options {
        quick: false,
        window: WINDOW,
        sizes: Vec::new(),
        tools: Tool::ALL.to_vec(),
        with_bssh: false,
        write: true,
    };
    let mut tools_given = false;
    let mut sizes: Option<Vec<usize>> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n{OPTIONS_HELP}"))
        };
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--with-bssh" => opts.with_bssh = true,
            "--window" => {
                let v = value("--window")?;
                opts.window = v
                    .parse()
                    .ok()
                    .filter(|&w| w > 0)
                    .with_context(|| format!("--window: `{v}` is not a positive number"))?;
            }
            "--sizes" => {
                let v = value("--sizes")?;
                let list = v
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse::<usize>()
                            .ok()
                            .filter(|&n| (1..=1000).contains(&n))
                    })
                    .collect::<Option<Vec<_>>>()
                    .with_context(|| format!("--sizes: `{v}` is not a list of 1..=1000"))?;
                sizes = Some(list);
            }
            "--tools" => {
                tools_given = true;
                let v = value("--tools")?;
                opts.tools = v
                    .split(',')
                    .map(|name| {
                        Tool::ALL
                            .into_iter()
                            .find(|t| t.name().split_whitespace().next() == Some(name.trim()))
                            .with_context(|| format!("--tools: unknown tool `{name}`"))
                    })
                    .collect::<Result<Vec<_>>>()?;
            }
            other => bail!("unknown option `{other}`\n{OPTIONS_HELP}"),
        }
    }
    opts.write = !opts.quick && sizes.is_none() && !tools_given;
    let sizes = sizes.unwrap_or_else(|| {
        if opts.quick {
            vec![10, 100]
        } else {
            vec![10, 100, 500]
        }
    });
    opts.sizes = sizes
        .into_iter()
        .map(|n| (n, reps(n, opts.quick)))
        .collect();
    Ok(opts)
}

fn log_run(tool: Tool, n: usize, what: &str, outcome: &Outcome) {
    let text = match outcome {
        Outcome::Done(t) => format!(
            "{:.3} s, client CPU {:.2} s, sshd CPU {:.2} s, max RSS {:.1} MiB{}",
            t.wall_s,
            t.client_cpu_s,
            t.sshd_cpu_s,
            t.max_rss_kib / 1024.0,
            t.tree
                .map(|p| format!(
                    ", all processes {:.1} MiB ({} at most)",
                    p.kib as f64 / 1024.0,
                    p.processes
                ))
                .unwrap_or_default()
        ),
        Outcome::Invalid(why) => format!("INVALID: {why}"),
        Outcome::TimedOut => format!("killed at {} s", CAP.as_secs()),
    };
    eprintln!("  N={n} {:<13} {what}: {text}", tool.name());
}

/// All tools at one size, on one farm.
fn measure_size(kit: &Kit, opts: &Options, n: usize, reps: usize) -> Result<Vec<Cell>> {
    eprintln!(
        "N={n}: starting the loopback sshd farm (load average {})...",
        machine::load_average()
    );
    let farm = Farm::start(n)?;
    let mut cells: Vec<Cell> = opts.tools.iter().map(|&t| Cell::new(t, n, reps)).collect();
    for cell in &mut cells {
        let inv = kit.invocation(cell.tool, &farm, opts.window, VALIDATION_COMMAND);
        let outcome = run::once(&inv, &farm, CAP, true)?;
        log_run(cell.tool, n, "validation", &outcome);
        cell.validation = outcome
            .timing(CAP.as_secs())
            .map(|t| t.tree.unwrap_or_default());
    }
    for round in 0..reps {
        for k in 0..cells.len() {
            let i = (k + round) % cells.len();
            let cell = &mut cells[i];
            // a tool that cannot reach every host, or runs past the cap, is not run again
            if cell.validation.is_err() || !cell.failures.is_empty() {
                continue;
            }
            let inv = kit.invocation(cell.tool, &farm, opts.window, "true");
            let outcome = run::once(&inv, &farm, CAP, false)?;
            log_run(cell.tool, n, &format!("run {}/{reps}", round + 1), &outcome);
            cell.add(outcome, CAP.as_secs());
        }
    }
    if cells.iter().any(|c| !c.valid()) {
        let log = farm.sshd_log();
        if !log.trim().is_empty() {
            eprintln!("N={n}: sshd log:\n{}", log.trim_end());
        }
    }
    for c in &cells {
        eprintln!("{}", report::progress_line(c));
    }
    Ok(cells)
}

/// Drops the tools that cannot be run here (`missing` says why), naming each
/// on stderr; returns `name: why` for each.
pub(crate) fn drop_missing<T: Copy>(
    tools: &mut Vec<T>,
    name: impl Fn(T) -> &'static str,
    missing: impl Fn(T) -> Option<String>,
) -> Vec<String> {
    let mut skipped = Vec::new();
    tools.retain(|&t| match missing(t) {
        None => true,
        Some(why) => {
            eprintln!("{}: {why}", name(t));
            skipped.push(format!("{}: {why}", name(t)));
            false
        }
    });
    skipped
}

/// Runs the benchmark; see the module doc.
pub fn main(args: &[String]) -> Result<()> {
    let mut opts = parse(args)?;
    let root = checkout::workspace_root();
    let (kit, versions) = setup::prepare(&root, opts.with_bssh)?;
    let skipped = drop_missing(&mut opts.tools, Tool::name, |t| kit.missing(t));
    // the load before each size: other work on the machine (the tools' own
    // processes are gone by then, the load average decays over a minute)
    let mut loads = Vec::new();
    let mut cells = Vec::new();
    for &(n, reps) in &opts.sizes {
        loads.push(format!("{} at N={n}", machine::load_average()));
        cells.extend(measure_size(&kit, &opts, n, reps)?);
    }
    let verdicts = targets::evaluate(&cells);
    println!("window {} for every tool", opts.window);
    println!("{}", report::text_table(&cells));
    println!("{}", targets::text(&verdicts));
    if !opts.write {
        println!("(partial run: BENCHMARKS.md not written)");
        return Ok(());
    }
    let reps: Vec<String> = opts
        .sizes
        .iter()
        .map(|(n, r)| format!("{r} at N={n}"))
        .collect();
    let setting = report::Setting {
        window: opts.window,
        cap_s: CAP.as_secs(),
        reps: reps.join(", "),
        machine: super::machine::describe(),
        versions,
        load: loads.join(", "),
        skipped,
    };
    let body = report::markdown(&cells, &verdicts, &setting);
    let path = root.join("BENCHMARKS.md");
    super::markdown::update(&path, "SSH fan-out", "fanout", &body)?;
    println!("wrote the SSH fan-out section of {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::drop_missing;
    use super::run::Outcome;

    #[test]
    fn drops_missing_tools() {
        let mut tools = vec![1, 2, 3];
        let skipped = drop_missing(
            &mut tools,
            |t| if t == 2 { "two" } else { "other" },
            |t| (t == 2).then(|| "not built".to_string()),
        );
        assert_eq!(tools, [1, 3]);
        assert_eq!(skipped, ["two: not built"]);
    }

    #[test]
    fn outcome_timing() {
        assert_eq!(
            Outcome::TimedOut.timing(60).err().as_deref(),
            Some("still running at 60 s: killed")
        );
        assert_eq!(
            Outcome::Invalid("why".into()).timing(60).err().as_deref(),
            Some("why")
        );
    }
}
