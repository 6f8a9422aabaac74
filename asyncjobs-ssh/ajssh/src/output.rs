//! Where a fan-out's output goes, by mode: host-prefixed lines (default),
//! raw, time-prefixed, one file per host (`-d`, with `-m` marks), gathered
//! blocks (`-b`) or JSON records (`--json`). Streaming modes keep nothing per
//! host; `-b` keeps one copy of each distinct output; `--json` writes each
//! host's record as soon as it is done.

pub mod capture;
pub mod gather;
pub mod json;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use asyncjobs_ssh::escape::escape_invalid_utf8;
use asyncjobs_ssh::{
    Event, Formatter, HostFormatter, RawFormatter, Stream, SubdirFormatter, TimeHostFormatter,
};

use crate::color::{ColorFormatter, Colors};
use crate::progress::Progress;
use crate::summary::Summary;
use crate::writer::Writer;
use capture::{Budget, HostCapture, Keep, KEEP_LIMIT, TOTAL_KEEP_LIMIT};
use gather::Gather;
use json::{HostRecord, HostStatus, SummaryRecord, VERSION};

/// The output mode (one per run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `host:line`.
    Prefixed,
    /// `HH:MM:SS:host:line`.
    Time,
    /// Bytes as they come.
    Raw,
    /// `DIR/host`, `DIR/host.err`.
    Dir(PathBuf),
    /// Gathered blocks at the end.
    Gather,
    /// JSON lines.
    Json,
}

impl Mode {
    fn keeps_output(&self) -> bool {
        matches!(self, Mode::Gather | Mode::Json)
    }
}

/// How one host ended, for [`Output::finish_host`].
pub struct HostResult {
    /// Rank among the targets.
    pub order: usize,
    /// Name shown in outputs.
    pub label: String,
    /// `[gw->]user@host:port`.
    pub target: String,
    /// Ok, failed or unreachable.
    pub status: HostStatus,
    /// Short error name.
    pub error_kind: Option<String>,
    /// The full error.
    pub error: Option<String>,
    /// Exit code of the failing command, if it exited.
    pub exit_code: Option<u32>,
    /// Signal of the failing command, if killed.
    pub signal: Option<String>,
    /// When the host started, from the start of the run.
    pub start: Duration,
    /// How long it took.
    pub duration: Duration,
    /// Its formatter, holding what it kept.
    pub capture: Arc<HostCapture>,
}

struct State {
    summary: Summary,
    gather: Gather,
}

/// The output of a fan-out.
pub struct Output {
    mode: Mode,
    stream: Option<Arc<dyn Formatter>>,
    events: Arc<dyn Formatter>,
    marks: Option<PathBuf>,
    progress: Arc<Progress>,
    writer: Writer,
    budget: Budget,
    state: Mutex<State>,
    started: Instant,
    colors: Colors,
}

/// Connection failures in ajssh's words ([`advice`](crate::advice)), escaped:
/// the error may quote what the server sent.
struct CliEvents {
    inner: Arc<dyn Formatter>,
}

impl Formatter for CliEvents {
    fn line(&self, host: &str, stream: Stream, line: &[u8]) -> io::Result<()> {
        self.inner.line(host, stream, line)
    }
    fn event(&self, host: &str, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::ConnectFailed { cause, .. } => {
                let text = crate::advice::connect_error(cause);
                let error = asyncjobs_ssh::escape::escape_control(&text);
                self.inner.event(
                    host,
                    &Event::ConnectFailed {
                        error: &error,
                        cause,
                    },
                )
            }
            other => self.inner.event(host, other),
        }
    }
}

/// `-d`: lines into the host's files, events (verbose) on stderr through the output thread.
struct DirFormatter {
    files: SubdirFormatter,
    events: HostFormatter,
}

impl Formatter for DirFormatter {
    fn line(&self, host: &str, stream: Stream, line: &[u8]) -> io::Result<()> {
        self.files.line(host, stream, line)
    }
    fn event(&self, host: &str, event: &Event<'_>) -> io::Result<()> {
        self.files.event(host, event)?;
        self.events.event(host, event)
    }
}

impl Output {
    /// Sets up `mode` for `total` hosts (creates the `-d` directory and its
    /// marks dirs); everything printed goes through `writer`, with `colors`
    /// (host-prefixed lines and gathered headers only: raw, `-d` and JSON
    /// outputs are never coloured).
    pub fn new(
        mode: Mode,
        verbose: bool,
        marks: bool,
        total: usize,
        progress: Arc<Progress>,
        writer: Writer,
        colors: Colors,
    ) -> io::Result<Output> {
        let (out, err) = (
            || writer.sink(Stream::Stdout),
            || writer.sink(Stream::Stderr),
        );
        let stream: Option<Arc<dyn Formatter>> = match &mode {
            Mode::Prefixed => Some(Arc::new(
                HostFormatter::with_writers(out(), err()).verbose(verbose),
            )),
            Mode::Time => Some(Arc::new(
                TimeHostFormatter::with_writers(out(), err()).verbose(verbose),
            )),
            Mode::Raw => Some(Arc::new(
                RawFormatter::with_writers(out(), err()).verbose(verbose),
            )),
            Mode::Dir(dir) => {
                create_dir(dir)?;
                Some(Arc::new(DirFormatter {
                    files: SubdirFormatter::new(dir),
                    events: HostFormatter::with_writers(err(), err()).verbose(verbose),
                }))
            }
            Mode::Gather | Mode::Json => None,
        };
        let stream = match (stream, &mode) {
            (Some(plain), Mode::Prefixed | Mode::Time) if colors.any() => {
                let colored: Arc<dyn Formatter> = Arc::new(ColorFormatter::new(
                    plain,
                    colors,
                    mode == Mode::Time,
                    out(),
                    err(),
                ));
                Some(colored)
            }
            (stream, _) => stream,
        };
        // connection events (verbose) always go to stderr, never into -b/--json stdout
        let events: Arc<dyn Formatter> = Arc::new(CliEvents {
            inner: match &stream {
                Some(s) => Arc::clone(s),
                None => Arc::new(HostFormatter::with_writers(err(), err()).verbose(verbose)),
            },
        });
        let marks = match (&mode, marks) {
            (Mode::Dir(dir), true) => {
                create_dir(&dir.join("0ok"))?;
                create_dir(&dir.join("1failed"))?;
                Some(dir.clone())
            }
            _ => None,
        };
        Ok(Output {
            mode,
            stream,
            events,
            marks,
            progress,
            writer,
            budget: Budget::new(TOTAL_KEEP_LIMIT),
            state: Mutex::new(State {
                summary: Summary::new(total),
                gather: Gather::default(),
            }),
            started: Instant::now(),
            colors,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the run started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// A fresh formatter for one host's job.
    pub fn host_formatter(&self) -> Arc<HostCapture> {
        let keep = self.mode.keeps_output().then(|| Keep {
            limit: KEEP_LIMIT,
            budget: self.budget.clone(),
        });
        Arc::new(HostCapture::new(self.stream.clone(), keep))
    }

    /// The formatter of nodes (connection events).
    pub fn node_formatter(&self) -> Arc<dyn Formatter> {
        Arc::clone(&self.events)
    }

    /// Records a finished host: its JSON record, gathered output, mark, tallies.
    /// An error here is a local write error (stdout closed, marks dir gone).
    pub fn finish_host(&self, r: HostResult) -> io::Result<()> {
        let (stdout, stderr, commands) = r.capture.take();
        let mut result = Ok(());
        match self.mode {
            Mode::Json => {
                let kept = stdout.bytes.len() + stderr.bytes.len();
                let (stdout_truncated, stderr_truncated) = (stdout.truncated, stderr.truncated);
                let (stdout_text, stdout_base64) = text_and_bytes(stdout.bytes);
                let (stderr_text, stderr_base64) = text_and_bytes(stderr.bytes);
                let last = commands.last();
                let rec = HostRecord {
                    version: VERSION,
                    kind: "host".into(),
                    host: r.label.clone(),
                    target: r.target.clone(),
                    status: r.status,
                    exit_code: r.exit_code.or_else(|| last.and_then(|c| c.exit_code)),
                    signal: r
                        .signal
                        .clone()
                        .or_else(|| last.and_then(|c| c.signal.clone())),
                    stdout: stdout_text,
                    stderr: stderr_text,
                    stdout_base64,
                    stderr_base64,
                    stdout_truncated,
                    stderr_truncated,
                    start: r.start.as_secs_f64(),
                    duration: r.duration.as_secs_f64(),
                    error_kind: r.error_kind.clone(),
                    error: r.error.clone(),
                    commands,
                };
                result = self.write_json(&rec);
                drop(rec);
                self.budget.give_back(kept);
            }
            Mode::Gather => {
                let dropped = self.state().gather.add(r.order, &r.label, stdout, stderr);
                self.budget.give_back(dropped);
            }
            _ => {}
        }
        if let Some(dir) = &self.marks {
            let mark = write_mark(dir, &r);
            result = result.and(mark);
        }
        let mut state = self.state();
        state.summary.record_result(&r);
        let (ok, failed, unreachable) = state.summary.counts();
        self.progress
            .update(ok, failed, unreachable, state.summary.total());
        result
    }

    /// Records `n` hosts stopped while running (an interrupted run): the
    /// summary counts them apart from the hosts that never started.
    pub fn hosts_stopped(&self, n: usize) {
        if n > 0 {
            self.state().summary.record_stopped(n);
        }
    }

    fn write_json<T: serde::Serialize>(&self, rec: &T) -> io::Result<()> {
        let mut line = serde_json::to_vec(rec).map_err(io::Error::other)?;
        line.push(b'\n');
        self.writer.sink(Stream::Stdout).send(line)
    }

    /// Ends the run: removes the bar, prints the gathered blocks, the JSON
    /// summary and the summary on stderr (always when a host did not
    /// succeed, else only if `verbose`); returns the exit code.
    pub fn finish(&self, verbose: bool) -> io::Result<u8> {
        self.progress.finish();
        let elapsed = self.started.elapsed();
        let state = self.state();
        let code = state.summary.exit_code();
        if let Mode::Gather = self.mode {
            self.writer
                .sink(Stream::Stdout)
                .send(state.gather.stdout_colored(self.colors))?;
            self.writer
                .sink(Stream::Stderr)
                .send(state.gather.stderr_colored(self.colors))?;
        }
        if let Mode::Json = self.mode {
            let (ok, failed, unreachable) = state.summary.counts();
            self.write_json(&SummaryRecord {
                version: VERSION,
                kind: "summary".into(),
                hosts: state.summary.total(),
                ok,
                failed,
                unreachable,
                not_run: state.summary.not_run(),
                duration: elapsed.as_secs_f64(),
                exit_code: code,
            })?;
        }
        if state.summary.has_problems() || verbose || self.progress.is_shown() {
            self.writer.eprint(&state.summary.render(elapsed));
        }
        Ok(code)
    }
}

/// Output as JSON text (moved, not copied, when it is UTF-8), and its exact
/// bytes in base64 when it is not (the text then shows them as `\xNN`).
fn text_and_bytes(bytes: Vec<u8>) -> (String, Option<String>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let bytes = e.into_bytes();
            (
                escape_invalid_utf8(&bytes).into_owned(),
                Some(data_encoding::BASE64.encode(&bytes)),
            )
        }
    }
}

fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot create directory {}: {e}", dir.display()),
        )
    })
}

/// `DIR/0ok/HOST` or `DIR/1failed/HOST`, holding the exit code or the error kind
/// (the other one is removed, so a re-run leaves consistent marks).
fn write_mark(dir: &Path, r: &HostResult) -> io::Result<()> {
    let name = asyncjobs_ssh::escape::escape_file_name(&r.label);
    let name: &str = &name;
    let (yes, no) = match r.status {
        HostStatus::Ok => ("0ok", "1failed"),
        _ => ("1failed", "0ok"),
    };
    let content = match (&r.exit_code, &r.signal, &r.error_kind) {
        (Some(c), _, _) => c.to_string(),
        (_, Some(s), _) => s.clone(),
        (_, _, Some(k)) => k.clone(),
        _ => "0".into(),
    };
    let path = dir.join(yes).join(name);
    std::fs::write(&path, format!("{content}\n")).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot write mark {}: {e}", path.display()),
        )
    })?;
    match std::fs::remove_file(dir.join(no).join(name)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_writer() -> Writer {
        Writer::start(Arc::new(Progress::hidden()), crate::stop::Stop::new()).unwrap()
    }

    fn result(
        order: usize,
        label: &str,
        status: HostStatus,
        capture: Arc<HostCapture>,
    ) -> HostResult {
        HostResult {
            order,
            label: label.into(),
            target: format!("u@{label}:22"),
            status,
            error_kind: (status != HostStatus::Ok).then(|| "CommandFailed".into()),
            error: (status != HostStatus::Ok).then(|| "boom".into()),
            exit_code: (status == HostStatus::Failed).then_some(3),
            signal: None,
            start: Duration::ZERO,
            duration: Duration::ZERO,
            capture,
        }
    }

    #[test]
    fn marks_name_hosts_in_ok_and_failed_dirs_and_replace_older_ones() {
        let dir = tempfile::tempdir().unwrap();
        let out = Output::new(
            Mode::Dir(dir.path().to_path_buf()),
            false,
            true,
            2,
            Arc::new(Progress::hidden()),
            test_writer(),
            Colors::NONE,
        )
        .unwrap();
        std::fs::write(dir.path().join("1failed/h1"), "1\n").unwrap();
        out.finish_host(result(0, "h1", HostStatus::Ok, out.host_formatter()))
            .unwrap();
        out.finish_host(result(
            1,
            "h2:2222",
            HostStatus::Failed,
            out.host_formatter(),
        ))
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("0ok/h1")).unwrap(),
            "0\n"
        );
        assert!(!dir.path().join("1failed/h1").exists());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("1failed/h2:2222")).unwrap(),
            "3\n"
        );
        let (_, failed, _) = out.state().summary.counts();
        assert_eq!(failed, 1);
    }

    #[test]
    fn only_keeping_modes_keep_output() {
        let keep = Output::new(
            Mode::Gather,
            false,
            false,
            1,
            Arc::new(Progress::hidden()),
            test_writer(),
            Colors::NONE,
        )
        .unwrap()
        .host_formatter();
        keep.line("h", Stream::Stdout, b"x\n").unwrap();
        assert_eq!(keep.take().0.bytes, b"x\n");
        let dir = tempfile::tempdir().unwrap();
        let stream = Output::new(
            Mode::Dir(dir.path().into()),
            false,
            false,
            1,
            Arc::new(Progress::hidden()),
            test_writer(),
            Colors::NONE,
        )
        .unwrap();
        let f = stream.host_formatter();
        f.event("h", &Event::CommandStart { command: "c" }).unwrap();
        f.line("h", Stream::Stdout, b"x\n").unwrap();
        assert!(f.take().0.bytes.is_empty());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("h")).unwrap(),
            "x\n"
        );
    }
}
