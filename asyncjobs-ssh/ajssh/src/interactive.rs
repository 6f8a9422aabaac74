//! Interactive mode: `ajssh TARGETS` with no command reads commands line by
//! line (a prompt with line editing and history on a terminal, plain lines
//! from a pipe) and runs each on every host, over connections opened at
//! the first command and kept for the next ones: a command then costs a
//! channel on an open connection, not a new SSH handshake.
//!
//! Each command's output is printed prefixed (`host:line`, as it comes) or
//! gathered (`-b`: hosts with identical output in one block, once all have
//! ended); `:gather` and `:prefix` switch between the two. After each
//! command, the hosts that failed are reported on stderr, folded by
//! identical reason. A connection that dropped is opened again at the next
//! command. Ctrl-C during a command stops it on every host (TERM, then
//! KILL) and the session goes on; at the prompt it drops the line typed.
//! End of input (Ctrl-D, the end of a pipe) or `:quit` ends the session and
//! closes the connections.
//!
//! The exit code is the last command's, as a fan-out's (0, 1 some command
//! failed, 2 some host unreachable, 130 interrupted by Ctrl-C), 0 when no
//! command ran; 129/143 when SIGHUP/SIGTERM ended the session, 141 when
//! stdout was closed.

mod lines;
mod round;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use asyncjobs_ssh::Stream;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;

use crate::args::Cli;
use crate::color::Colors;
use crate::exit;
use crate::fanout::Fail;
use crate::hosts::{HostSpec, NodeFactory};
use crate::limits;
use crate::output::{Mode, Output};
use crate::passphrase::CliPrompt;
use crate::progress::Progress;
use crate::stop::{Reason, Signal, Stop};
use crate::writer::Writer;
use lines::{Lines, Read};
use round::{Host, Round};

/// The session's own commands (`:help` prints them).
pub const HELP: &str = "\
Interactive mode: each line is run on every host, over connections kept open.
  :gather   gather outputs: hosts with identical output in one block (-b)
  :prefix   prefix each line with its host, as it comes (the default)
  :hosts    list the hosts and whether their connection is open
  :help     this help
  :quit     end the session (also Ctrl-D, or the end of the input)
Ctrl-C stops the running command on every host; the session goes on.
Lines starting with # are ignored.";

/// True when `cli` asks for an interactive session: targets and nothing to run.
pub fn wanted(cli: &Cli) -> bool {
    let r = &cli.run;
    cli.command.is_empty()
        && r.script.is_none()
        && r.push.is_empty()
        && r.pull.is_empty()
        && !cli.list_targets
        && !cli.print_config
}

/// A session command, or a remote command line.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// Empty or a comment.
    Nothing,
    Gather,
    Prefix,
    Hosts,
    Help,
    Quit,
    /// `:something` unknown.
    Unknown(&'a str),
    /// A command to run.
    Command(&'a str),
}

fn parse(line: &str) -> Line<'_> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return Line::Nothing;
    }
    match t.strip_prefix(':') {
        Some("gather" | "g" | "b") => Line::Gather,
        Some("prefix" | "p") => Line::Prefix,
        Some("hosts") => Line::Hosts,
        Some("help" | "h" | "?") => Line::Help,
        Some("quit" | "q" | "exit") => Line::Quit,
        Some(other) => Line::Unknown(other),
        None => Line::Command(t),
    }
}

/// Runs the session on `specs`; returns the exit code (see the module doc).
pub fn run(cli: &Cli, specs: Vec<HostSpec>) -> Result<u8, Fail> {
    let m = &cli.output.mode;
    if m.raw || m.time || m.json || m.out_dir.is_some() {
        return Err(Fail::usage(
            "interactive mode (no command given) prints prefixed or gathered (-b) output: \
             -r, --time, --json and -d need a command",
        ));
    }
    if cli.run.send_input {
        return Err(Fail::usage(
            "interactive mode (no command given) reads its commands on stdin: -I needs a command",
        ));
    }
    if cli.target_sources.iter().any(|s| s == "-") {
        return Err(Fail::usage(
            "interactive mode (no command given) reads its commands on stdin: give the targets \
             in a file or on the command line, not with -t -",
        ));
    }
    // every host keeps its connection: all of them are open at once
    let nofile = limits::raise_nofile()
        .map_err(|e| Fail::local(format!("cannot read the file descriptor limit: {e}")))?;
    if let Some(msg) = limits::check_window(specs.len(), 2, nofile) {
        return Err(Fail::local(msg));
    }
    let colors = Colors::detect(cli.output.color);
    let verbose = cli.connect.verbose > 0;
    let stop = Stop::new();
    let progress = Arc::new(Progress::new(0, false));
    let writer = Writer::start(Arc::clone(&progress), Arc::clone(&stop)).map_err(Fail::local)?;
    let output = Output::new(
        Mode::Prefixed,
        verbose,
        false,
        specs.len(),
        Arc::clone(&progress),
        writer.clone(),
        colors,
    )
    .map_err(Fail::local)?;
    let factory = NodeFactory::new(output.node_formatter())
        .with_prompt(CliPrompt::new(Some(writer.clone()), Some(progress)));
    let hosts: Vec<Host> = specs
        .into_iter()
        .enumerate()
        .map(|(order, spec)| Host {
            order,
            node: factory.node(&spec),
            spec,
        })
        .collect();
    let window = usize::try_from(cli.run.window)
        .unwrap_or(usize::MAX)
        .clamp(1, hosts.len().max(1));
    let mut session = Session {
        hosts,
        output,
        writer: writer.clone(),
        colors,
        gather: m.gather,
        connecting: Semaphore::new(window),
        timeout: cli.run.timeout,
        stop: Arc::clone(&stop),
    };
    let mut lines = Lines::start().map_err(Fail::local)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Fail::local)?;
    let end = rt.block_on(async {
        let end = session.serve(&mut lines).await;
        session.close(&factory).await;
        end
    })?;
    let written = writer.finish();
    match (end, written) {
        (End::Stopped(r @ Reason::StdoutError), Err(e)) => {
            eprintln!("ajssh: error: {e}");
            Ok(r.exit_code())
        }
        (End::Stopped(r), _) => Ok(r.exit_code()),
        (End::Done(_), Err(e)) => Err(Fail::local(e)),
        (End::Done(code), Ok(())) => Ok(code),
    }
}

/// How a session ended.
enum End {
    /// End of input or `:quit`: the last command's exit code.
    Done(u8),
    /// A signal, or stdout closed.
    Stopped(Reason),
}

struct Session {
    hosts: Vec<Host>,
    output: Output,
    writer: Writer,
    colors: Colors,
    gather: bool,
    /// Hosts connecting at once (`-f`).
    connecting: Semaphore,
    timeout: Option<Duration>,
    stop: Arc<Stop>,
}

/// What ended a wait: the thing waited for, or a signal.
enum Waited<T> {
    Done(T),
    Signal(Signal),
    Stopped(Reason),
}

impl Session {
    async fn serve(&mut self, lines: &mut Lines) -> Result<End, Fail> {
        let watch =
            |kind| signal(kind).map_err(|e| Fail::local(format!("cannot watch signals: {e}")));
        let mut int = watch(SignalKind::interrupt())?;
        let mut term = watch(SignalKind::terminate())?;
        let mut hup = watch(SignalKind::hangup())?;
        let mut code = exit::OK;
        let mut ran = 0usize;
        loop {
            self.writer.flush();
            lines.request();
            let read = tokio::select! {
                r = lines.next() => Waited::Done(r),
                _ = int.recv() => Waited::Signal(Signal::Int),
                _ = term.recv() => Waited::Signal(Signal::Term),
                _ = hup.recv() => Waited::Signal(Signal::Hup),
                r = self.stop.wait() => Waited::Stopped(r),
            };
            let text = match read {
                Waited::Done(Read::Line(l)) => l,
                Waited::Done(Read::Interrupted) => continue,
                Waited::Done(Read::Eof) => {
                    if ran == 0 && !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                        // `ajssh h1` from a script, stdin empty: say why nothing ran
                        self.eprint(
                            "ajssh: interactive mode (no command given): no command read on stdin; \
                             give one after `--` to run it\n",
                        );
                    }
                    return Ok(End::Done(code));
                }
                Waited::Done(Read::Failed(e)) => {
                    self.eprint(&format!("ajssh: {e}\n"));
                    return Ok(End::Done(exit::LOCAL));
                }
                // a signal while reading a pipe (there is no prompt to go back to)
                Waited::Signal(s) => return Ok(End::Stopped(Reason::Signal(s))),
                Waited::Stopped(r) => return Ok(End::Stopped(r)),
            };
            match parse(&text) {
                Line::Nothing => {}
                Line::Gather => self.gather = true,
                Line::Prefix => self.gather = false,
                Line::Help => self.eprint(&format!("{HELP}\n")),
                Line::Hosts => self.list_hosts(),
                Line::Quit => return Ok(End::Done(code)),
                Line::Unknown(c) => self.eprint(&self.colors.error_text(&format!(
                    "ajssh: unknown session command `:{}` (:help lists them)\n",
                    asyncjobs_ssh::escape::escape_control(c)
                ))),
                Line::Command(cmd) => {
                    ran += 1;
                    let round = Round::new(cmd, self.gather, self.hosts.len(), &self.output);
                    let all = futures::future::join_all(
                        self.hosts
                            .iter()
                            .map(|h| round.run_on(h, &self.connecting, self.timeout)),
                    );
                    // dropping the unfinished commands stops them (TERM, then KILL)
                    let ended = tokio::select! {
                        _ = all => None,
                        _ = int.recv() => Some(Signal::Int),
                        _ = term.recv() => Some(Signal::Term),
                        _ = hup.recv() => Some(Signal::Hup),
                        r = self.stop.wait() => return Ok(End::Stopped(r)),
                    };
                    let outcomes = round.finish();
                    if round.gather {
                        let (out, err) = round.gathered(&self.hosts, self.colors);
                        let _ = self.writer.sink(Stream::Stdout).send(out);
                        let _ = self.writer.sink(Stream::Stderr).send(err);
                    }
                    self.eprint(
                        &self
                            .colors
                            .error_text(&round::report(&self.hosts, &outcomes)),
                    );
                    code = round::exit_code(&outcomes);
                    match ended {
                        Some(Signal::Int) | None => {}
                        Some(s) => return Ok(End::Stopped(Reason::Signal(s))),
                    }
                }
            }
        }
    }

    fn eprint(&self, text: &str) {
        if !text.is_empty() {
            self.writer.eprint(text);
        }
    }

    fn list_hosts(&self) {
        let mut s = String::new();
        for h in &self.hosts {
            s.push_str(&format!(
                "{} ({}): {}\n",
                asyncjobs_ssh::escape::escape_control(&h.spec.label),
                asyncjobs_ssh::escape::escape_control(&h.spec.target()),
                if h.node.is_connected() {
                    "connected"
                } else {
                    "not connected"
                }
            ));
        }
        let _ = self.writer.sink(Stream::Stdout).write_all(s.as_bytes());
    }

    /// Closes every connection (the hosts', then the gateways').
    async fn close(&self, factory: &NodeFactory) {
        futures::future::join_all(self.hosts.iter().map(|h| h.node.close())).await;
        factory.close_gateways().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_commands_start_with_a_colon_and_comments_are_skipped() {
        assert_eq!(parse("  uptime "), Line::Command("uptime"));
        assert_eq!(parse(":gather"), Line::Gather);
        assert_eq!(parse(" :prefix"), Line::Prefix);
        assert_eq!(parse(":q"), Line::Quit);
        assert_eq!(parse(":frob"), Line::Unknown("frob"));
        assert_eq!(parse("# note"), Line::Nothing);
        assert_eq!(parse("   "), Line::Nothing);
        assert_eq!(parse("echo :x"), Line::Command("echo :x"));
    }
}
