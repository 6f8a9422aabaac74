//! `ajssh TARGETS -- COMMAND`: the same steps on every host, `-w` hosts at
//! a time, on a scheduler of [`HostJob`]s.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use asyncjobs_core::{JobExt, Scheduler};
use asyncjobs_ssh::escape::escape_control;

use crate::args::Cli;
use crate::exit;
use crate::hostjob::{Fanout, HostJob};
use crate::hosts::{HostSpec, NodeFactory, Resolver};
use crate::input::{self, Input};
use crate::limits;
use crate::output::{Mode, Output};
use crate::passphrase::CliPrompt;
use crate::progress::Progress;
use crate::steps::{self, Step};
use crate::stop::{self, Reason, Stop};
use crate::targets::{self, Target, TargetError};
use crate::writer::Writer;
use asyncjobs_ssh::targets::resolve;

/// An error that ends the run before it starts, with its exit code.
#[derive(Debug)]
pub struct Fail {
    /// What to print after `ajssh: error: `.
    pub message: String,
    /// The exit code.
    pub code: u8,
}

impl Fail {
    /// A usage error (bad argument, target or file): nothing ran.
    pub fn usage(message: impl ToString) -> Fail {
        Fail {
            message: message.to_string(),
            code: exit::USAGE,
        }
    }

    /// A local error (output not writable, too few file descriptors).
    pub fn local(message: impl ToString) -> Fail {
        Fail {
            message: message.to_string(),
            code: exit::LOCAL,
        }
    }
}

fn usage(message: impl ToString) -> Fail {
    Fail::usage(message)
}

fn local(message: impl ToString) -> Fail {
    Fail::local(message)
}

/// The targets given (words and `-t` sources) and the excludes.
pub fn collect(cli: &Cli) -> Result<(Vec<Target>, Vec<Target>), TargetError> {
    targets::collect(cli)
}

/// `ajssh -G`: the resolved ssh config of each target, as `ssh -G` prints it.
pub fn print_config(cli: &Cli) -> Result<u8, Fail> {
    let (all, _) = collect(cli).map_err(usage)?;
    if all.is_empty() {
        return Err(usage("-G needs a target"));
    }
    let text = crate::hosts::print_config(&cli.connect, &all).map_err(usage)?;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(local)?;
    Ok(exit::OK)
}

/// Runs the fan-out described by `cli`; returns the exit code.
pub fn run(cli: Cli) -> Result<u8, Fail> {
    let (all, excludes) = collect(&cli).map_err(usage)?;
    if all.is_empty() {
        return Err(usage(crate::advice::no_target(cli.connect.port)));
    }
    let (selected, excluded) = resolve(all, &excludes);
    let resolver = Resolver::new(&cli.connect).map_err(usage)?;
    let resolved = resolver.resolve(&selected).map_err(usage)?;
    if cli.connect.verbose > 0 {
        for (dup, first) in &resolved.duplicates {
            eprintln!(
                "ajssh: {} is the same destination as {}: run once",
                escape_control(dup),
                escape_control(first)
            );
        }
    }
    let mut specs = resolved.specs;
    if cli.output.mode.out_dir.is_some() {
        // with -d, hosts are named as their files everywhere (stderr, marks)
        for s in &mut specs {
            s.label = s.name.clone();
        }
    }
    if cli.list_targets {
        let mut out = std::io::stdout().lock();
        for s in &specs {
            writeln!(out, "{}", s.target()).map_err(local)?;
        }
        return Ok(exit::OK);
    }
    if specs.is_empty() {
        return Err(usage(format!(
            "no target left: all {excluded} were excluded"
        )));
    }
    if !cli.dry_run && crate::interactive::wanted(&cli) {
        return crate::interactive::run(&cli, specs);
    }
    let steps = steps::from_options(&cli.run, &cli.command).map_err(usage)?;
    if cli.dry_run {
        print!("{}", dry_run(&excludes, &specs, excluded, &steps));
        return Ok(exit::OK);
    }
    let input = read_input(&cli)?;
    let window = check_limits(&cli, &specs, &steps, &input)?;
    let mode = mode(&cli);
    let verbose = cli.connect.verbose > 0;
    let stop = Stop::new();
    let progress = Arc::new(Progress::new(specs.len(), !cli.output.no_progress));
    let writer = Writer::start(Arc::clone(&progress), Arc::clone(&stop)).map_err(local)?;
    let output = Output::new(
        mode,
        verbose,
        cli.output.mark,
        specs.len(),
        Arc::clone(&progress),
        writer.clone(),
        crate::color::Colors::detect(cli.output.color),
    )
    .map_err(local)?;
    let factory = NodeFactory::new(output.node_formatter())
        .with_prompt(CliPrompt::new(Some(writer.clone()), Some(progress)));
    let fanout = Arc::new(Fanout {
        output,
        factory,
        steps,
        timeout: cli.run.timeout,
        input,
        stop: Arc::clone(&stop),
        local_error: AtomicBool::new(false),
        active: Default::default(),
    });
    let mut sched = Scheduler::new()
        .critical(false)
        .jobs_window(window)
        .label("ajssh");
    for (order, spec) in specs.into_iter().enumerate() {
        sched.add(
            HostJob {
                order,
                spec,
                fanout: Arc::clone(&fanout),
            }
            .critical(false),
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(local)?;
    stop::watch_signals(&stop).map_err(|e| local(format!("cannot watch signals: {e}")))?;
    rt.block_on(async {
        tokio::select! {
            r = sched.co_run() => {
                r.map_err(|e| local(format!("scheduler: {}", asyncjobs_core::ErrorChain(&e))))?;
            }
            _ = stop.wait() => {}
        };
        // the hosts' jobs are dropped with the scheduler: that stops their
        // commands (TERM, then KILL); closing the connections waits for it
        drop(sched);
        let stopped = fanout.close_active().await;
        if stop.reason().is_some() {
            // the hosts in flight had started: the summary says so
            fanout.output.hosts_stopped(stopped);
        }
        fanout.factory.close_gateways().await;
        Ok::<(), Fail>(())
    })?;
    let reason = stop.reason();
    if let Some(Reason::Signal(sig)) = reason {
        writer.eprint(&format!(
            "ajssh: interrupted ({}): running commands were stopped\n",
            sig.name()
        ));
    }
    let code = match reason {
        // the reader of stdout went away: exit quietly, as `yes | head` does
        Some(Reason::ClosedStdout) => None,
        _ => Some(fanout.output.finish(verbose)),
    };
    if let (Some(Ok(exit::UNREACHABLE)), Some(hint)) =
        (&code, crate::advice::port_hint(cli.connect.port))
    {
        writer.eprint(&format!("ajssh: hint: {hint}\n"));
    }
    let written = writer.finish();
    match (reason, code, written) {
        (Some(r @ (Reason::ClosedStdout | Reason::StdoutError)), _, Err(e)) => {
            if r == Reason::StdoutError {
                eprintln!("ajssh: error: {e}");
            }
            Ok(r.exit_code())
        }
        (Some(r), _, _) => Ok(r.exit_code()),
        (None, _, Err(e)) => Err(local(e)),
        (None, Some(Err(e)), _) => Err(local(e)),
        (None, Some(Ok(_)), _) if fanout.local_error.load(Ordering::SeqCst) => Ok(exit::LOCAL),
        (None, Some(Ok(code)), _) => Ok(code),
        (None, None, _) => Ok(exit::OK),
    }
}

/// `-I`: reads ajssh's stdin once, for every host.
fn read_input(cli: &Cli) -> Result<Input, Fail> {
    if !cli.run.send_input {
        return Ok(Input::none());
    }
    if cli.target_sources.iter().any(|s| s == "-") {
        return Err(usage(
            "-I/--send-input and -t - both read stdin: give the targets in a file or on the command line",
        ));
    }
    let input = input::read(std::io::stdin().lock(), input::MEMORY_LIMIT)
        .map_err(|e| local(format!("-I: cannot read stdin: {e}")))?;
    if cli.connect.verbose > 1 {
        eprintln!(
            "ajssh: -I: {} bytes of input, {}",
            input.len,
            if input.is_spooled() {
                "spooled to a temporary file"
            } else {
                "kept in memory"
            }
        );
    }
    Ok(input)
}

fn mode(cli: &Cli) -> Mode {
    mode_of(&cli.output.mode)
}

/// The output mode the options select (shared with `scenario run`).
pub fn mode_of(m: &crate::args::ModeOpts) -> Mode {
    if m.raw {
        Mode::Raw
    } else if m.time {
        Mode::Time
    } else if let Some(d) = &m.out_dir {
        Mode::Dir(d.clone())
    } else if m.gather {
        Mode::Gather
    } else if m.json {
        Mode::Json
    } else {
        Mode::Prefixed
    }
}

/// Raises the descriptor limit and checks the window fits; returns the window.
fn check_limits(
    cli: &Cli,
    specs: &[HostSpec],
    steps: &[Step],
    input: &Input,
) -> Result<usize, Fail> {
    let window = usize::try_from(cli.run.window)
        .unwrap_or(usize::MAX)
        .min(specs.len())
        .max(1);
    let transfers = steps.iter().any(|s| !matches!(s, Step::Run(_)));
    // the socket, slack for the SSH runtime, files of -d and of transfers
    let per_host =
        2 + if cli.output.mode.out_dir.is_some() {
            2
        } else {
            0
        } + if transfers { 2 } else { 0 }
            + u64::from(input.is_spooled());
    let nofile = limits::raise_nofile()
        .map_err(|e| local(format!("cannot read the file descriptor limit: {e}")))?;
    if let Some(msg) = limits::check_window(window, per_host, nofile) {
        return Err(local(msg));
    }
    if cli.connect.verbose > 1 {
        eprintln!(
            "ajssh: {} hosts, window {window}, file descriptor limit {}",
            specs.len(),
            nofile.soft
        );
    }
    Ok(window)
}

/// `-n`: the excludes, the hosts selected and the steps, as apssh lists them.
fn dry_run(excludes: &[Target], specs: &[HostSpec], excluded: usize, steps: &[Step]) -> String {
    let mut s = format!("========== {} excludes found:\n", excludes.len());
    for x in excludes {
        s.push_str(&format!("{x}\n"));
    }
    s.push_str(&format!(
        "========== {} hostnames selected ({excluded} excluded):\n",
        specs.len()
    ));
    for spec in specs {
        s.push_str(&format!("{}: {}\n", spec.label, spec.target()));
    }
    s.push_str(&format!(
        "========== each host runs {} step(s):\n",
        steps.len()
    ));
    for (i, step) in steps.iter().enumerate() {
        s.push_str(&format!("{}. {}\n", i + 1, step.describe()));
    }
    s
}
