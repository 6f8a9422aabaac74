//! Formatters: where the output lines of commands go, line by line.
//!
//! A [`Formatter`] receives whole lines (a line is never split between two
//! calls, except past 64 KiB without a newline) and connection events. The
//! formatters here write each line with one `write_all` under a lock, so lines
//! from concurrent hosts never interleave mid-line, and they keep stdout and
//! stderr apart. They write to the process's stdout/stderr by default or to any
//! [`Write`] (e.g. a [`SharedBuffer`] in tests).

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::escape::{escape_control, escape_invalid_utf8};
use crate::phase::Phase;
use crate::status::ExitStatus;

/// Which output stream of a command a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Connection and command events, shown by formatters in verbose mode.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A connection is being opened (`via` names the gateway, if any).
    Connecting {
        /// The login user.
        user: &'a str,
        /// The gateway node, for a tunnelled connection.
        via: Option<&'a str>,
    },
    /// A connection is being opened through a local command (`ProxyCommand`).
    ConnectingThroughCommand {
        /// The login user.
        user: &'a str,
        /// The command line.
        command: &'a str,
    },
    /// The connection is up and authenticated.
    Connected {
        /// The login user.
        user: &'a str,
    },
    /// The connection could not be opened.
    ConnectFailed {
        /// Why, as the error displays it.
        error: &'a str,
        /// The error itself (a program may word it its own way).
        cause: &'a crate::error::ConnectError,
    },
    /// The connection was closed.
    Closed,
    /// A command starts.
    CommandStart {
        /// The command's label.
        command: &'a str,
    },
    /// A command ended (`status` is `None` when it did not run to an exit status).
    CommandEnd {
        /// The command's label.
        command: &'a str,
        /// How it ended.
        status: Option<&'a ExitStatus>,
    },
    /// A step of opening the connection or of running a command completed
    /// (see [`Phase`]), `took` after the previous one.
    Phase {
        /// Which step.
        phase: Phase,
        /// Time since the previous phase (or the start of the connection
        /// attempt, or of the command).
        took: Duration,
    },
}

impl std::fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SEP: &str = "==========";
        match self {
            Event::Connecting { user, via: None } => {
                write!(f, "{SEP} Connecting (direct) as {user}")
            }
            Event::Connecting {
                user,
                via: Some(gw),
            } => write!(f, "{SEP} Connecting (tunnelled via {gw}) as {user}"),
            Event::ConnectingThroughCommand { user, command } => {
                write!(
                    f,
                    "{SEP} Connecting (through ProxyCommand `{command}`) as {user}"
                )
            }
            Event::Connected { user } => write!(f, "{SEP} Connected and authenticated as {user}"),
            Event::ConnectFailed { error, .. } => {
                write!(f, "{SEP} Connection failed: {error}")
            }
            Event::Closed => write!(f, "{SEP} Connection closed"),
            Event::CommandStart { command } => write!(f, "{SEP} Session started for {command}"),
            Event::CommandEnd {
                command,
                status: Some(s),
            } => write!(f, "{SEP} Session ended ({s}) for {command}"),
            Event::CommandEnd {
                command,
                status: None,
            } => write!(f, "{SEP} Session ended for {command}"),
            Event::Phase { phase, took } => write!(
                f,
                "{SEP} Phase {phase} took {:.3} ms",
                took.as_secs_f64() * 1e3
            ),
        }
    }
}

/// Receives the output of commands, one line at a time, and connection events.
///
/// `line` gets the bytes of one line including its `\n` (the last line of a
/// stream may lack it). Implementations must be cheap and must not block for
/// long: they are called from the task that reads the command's output. An
/// error from `line` stops the command (its output has nowhere to go, as when
/// `ssh`'s stdout is a closed pipe) and fails the job with
/// [`SshError::Output`](crate::SshError::Output): output is never dropped
/// silently.
pub trait Formatter: Send + Sync + 'static {
    /// One line of output of a command on `host`.
    fn line(&self, host: &str, stream: Stream, line: &[u8]) -> io::Result<()>;

    /// A connection or command event on `host`; ignored by default.
    fn event(&self, host: &str, event: &Event<'_>) -> io::Result<()> {
        let _ = (host, event);
        Ok(())
    }
}

/// An in-memory [`Write`] that can be cloned and read back: for tests, or to
/// gather outputs before printing them.
///
/// ```
/// use asyncjobs_ssh::SharedBuffer;
/// use std::io::Write;
/// let buf = SharedBuffer::new();
/// buf.clone().write_all(b"hello\n").unwrap();
/// assert_eq!(buf.contents_lossy(), "hello\n");
/// ```
#[derive(Debug, Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }
    /// A copy of the bytes written so far.
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.0).clone()
    }
    /// The bytes written so far, as text (invalid UTF-8 replaced).
    pub fn contents_lossy(&self) -> String {
        String::from_utf8_lossy(&lock(&self.0)).into_owned()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

type Writer = Mutex<Box<dyn Write + Send>>;

/// The pair of writers a terminal-style formatter writes to.
struct Writers {
    out: Writer,
    err: Writer,
}

impl Writers {
    fn process() -> Self {
        Self::new(io::stdout(), io::stderr())
    }
    fn new(out: impl Write + Send + 'static, err: impl Write + Send + 'static) -> Self {
        Writers {
            out: Mutex::new(Box::new(out)),
            err: Mutex::new(Box::new(err)),
        }
    }
    /// Writes one complete record with a single `write_all`, then flushes.
    fn write(&self, stream: Stream, record: &[u8]) -> io::Result<()> {
        let mut w = lock(match stream {
            Stream::Stdout => &self.out,
            Stream::Stderr => &self.err,
        });
        w.write_all(record)?;
        w.flush()
    }
}

/// How a terminal-style formatter lays a line out.
#[derive(Clone, Copy)]
enum Layout {
    Host,
    TimeHost,
    Raw,
}

struct Terminal {
    layout: Layout,
    writers: Writers,
    verbose: bool,
}

/// One output record: the line laid out, ending with `\n` unless raw.
fn record(layout: Layout, host: &str, line: &[u8]) -> Vec<u8> {
    let mut rec = Vec::with_capacity(host.len() + line.len() + 12);
    if let Layout::TimeHost = layout {
        rec.extend_from_slice(
            chrono::Local::now()
                .format("%H:%M:%S")
                .to_string()
                .as_bytes(),
        );
        rec.push(b':');
    }
    if !matches!(layout, Layout::Raw) {
        // the node's display name, as given (ajssh's label) or by default
        // the host, `[host]:port` when the port is not 22 (the brackets
        // keep the port apart from the output)
        rec.extend_from_slice(escape_control(host).as_bytes());
        rec.push(b':');
        // prefixed lines show text as the command wrote it (colours
        // included, as ssh shows them), except bytes that are not UTF-8:
        // shown as `\xNN`, never dropped nor replaced
        rec.extend_from_slice(escape_invalid_utf8(line).as_bytes());
        if !line.ends_with(b"\n") {
            rec.push(b'\n');
        }
    } else {
        rec.extend_from_slice(line);
    }
    rec
}

impl Terminal {
    fn line(&self, host: &str, stream: Stream, line: &[u8]) -> io::Result<()> {
        self.writers.write(stream, &record(self.layout, host, line))
    }

    fn event(&self, host: &str, event: &Event<'_>) -> io::Result<()> {
        if !self.verbose {
            return Ok(());
        }
        // our message, quoting remote-controlled text (exit-signal names, errors)
        let mut text = escape_control(&event.to_string()).into_owned();
        text.push('\n');
        // events are always prefixed, even in raw mode: they are not command output
        let layout = if let Layout::Raw = self.layout {
            Layout::Host
        } else {
            self.layout
        };
        self.writers
            .write(Stream::Stderr, &record(layout, host, text.as_bytes()))
    }
}

macro_rules! terminal_formatter {
    ($(#[$doc:meta])* $name:ident, $layout:expr) => {
        $(#[$doc])*
        pub struct $name(Terminal);

        impl $name {
            /// Writes to the process's stdout and stderr.
            pub fn new() -> Self {
                $name(Terminal { layout: $layout, writers: Writers::process(), verbose: false })
            }
            /// Writes stdout lines to `out` and stderr lines and events to `err`.
            pub fn with_writers(out: impl Write + Send + 'static, err: impl Write + Send + 'static) -> Self {
                $name(Terminal { layout: $layout, writers: Writers::new(out, err), verbose: false })
            }
            /// Also shows connection and command events on the stderr side.
            pub fn verbose(mut self, verbose: bool) -> Self {
                self.0.verbose = verbose;
                self
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl Formatter for $name {
            fn line(&self, host: &str, stream: Stream, line: &[u8]) -> io::Result<()> {
                self.0.line(host, stream, line)
            }
            fn event(&self, host: &str, event: &Event<'_>) -> io::Result<()> {
                self.0.event(host, event)
            }
        }
    };
}

terminal_formatter!(
    /// `host:line` — the default: each line prefixed with the host it comes from.
    /// A last line without `\n` gets one, so the next host starts on its own line.
    ///
    /// ```
    /// use asyncjobs_ssh::{Formatter, HostFormatter, SharedBuffer, Stream};
    /// let (out, err) = (SharedBuffer::new(), SharedBuffer::new());
    /// let f = HostFormatter::with_writers(out.clone(), err.clone());
    /// f.line("web1", Stream::Stdout, b"up\n").unwrap();
    /// f.line("web1", Stream::Stderr, b"warning").unwrap();
    /// assert_eq!(out.contents_lossy(), "web1:up\n");
    /// assert_eq!(err.contents_lossy(), "web1:warning\n");
    /// ```
    HostFormatter,
    Layout::Host
);

terminal_formatter!(
    /// `HH:MM:SS:host:line` (local time of reception).
    TimeHostFormatter,
    Layout::TimeHost
);

terminal_formatter!(
    /// The output bytes unchanged, without any prefix.
    RawFormatter,
    Layout::Raw
);

/// One file per host in a directory: stdout lines go to `DIR/host`, stderr
/// lines to `DIR/host.err`. A host's stdout file is created (truncated) when
/// its first command starts, so every host that ran has one, even empty; the
/// `.err` file only exists when there was stderr output. Events go to the
/// process's stderr in verbose mode.
///
/// ```no_run
/// use asyncjobs_ssh::SubdirFormatter;
/// let f = SubdirFormatter::new("outputs");
/// ```
pub struct SubdirFormatter {
    dir: PathBuf,
    state: Mutex<SubdirState>,
    events: Terminal,
}

#[derive(Default)]
struct SubdirState {
    open: HashMap<(String, Stream), File>,
    /// Files already created by this formatter: appended to, not truncated, later on.
    created: HashSet<(String, Stream)>,
}

impl SubdirFormatter {
    /// Writes into `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SubdirFormatter {
            dir: dir.into(),
            state: Mutex::new(SubdirState::default()),
            events: Terminal {
                layout: Layout::Host,
                writers: Writers::process(),
                verbose: false,
            },
        }
    }

    /// Shows connection and command events on the process's stderr.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.events.verbose = verbose;
        self
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that receives `host`'s lines of `stream`: always inside the
    /// directory, whatever the host's name (see
    /// [`escape_file_name`](crate::escape::escape_file_name)).
    pub fn path_for(&self, host: &str, stream: Stream) -> PathBuf {
        let name = crate::escape::escape_file_name(host);
        match stream {
            Stream::Stdout => self.dir.join(name.as_ref()),
            Stream::Stderr => self.dir.join(format!("{name}.err")),
        }
    }

    fn with_file(
        &self,
        host: &str,
        stream: Stream,
        f: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut state = lock(&self.state);
        let key = (host.to_string(), stream);
        if !state.open.contains_key(&key) {
            let path = self.path_for(host, stream);
            let first = state.created.insert(key.clone());
            let file = std::fs::create_dir_all(&self.dir)
                .and_then(|()| {
                    let mut o = OpenOptions::new();
                    o.create(true);
                    if first {
                        o.write(true).truncate(true);
                    } else {
                        o.append(true);
                    }
                    o.open(&path)
                })
                .map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
                })?;
            state.open.insert(key.clone(), file);
        }
        let file = state.open.get_mut(&key).expect("inserted above");
        f(file)
    }
}

impl Formatter for SubdirFormatter {
    fn line(&self, host: &str, stream: Stream, line: &[u8]) -> io::Result<()> {
        self.with_file(host, stream, |f| f.write_all(line))
    }

    fn event(&self, host: &str, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::CommandStart { .. } => self.with_file(host, Stream::Stdout, |_| Ok(()))?,
            Event::CommandEnd { .. } | Event::Closed => {
                // close this host's files between commands: no descriptor kept per finished host
                let mut state = lock(&self.state);
                state.open.remove(&(host.to_string(), Stream::Stdout));
                state.open.remove(&(host.to_string(), Stream::Stderr));
            }
            _ => {}
        }
        self.events.event(host, event)
    }
}

/// The formatter nodes use unless told otherwise: one [`HostFormatter`] on the
/// process's stdout/stderr, shared by all, so their lines never interleave.
pub fn default_formatter() -> Arc<dyn Formatter> {
    static DEFAULT: std::sync::OnceLock<Arc<dyn Formatter>> = std::sync::OnceLock::new();
    Arc::clone(DEFAULT.get_or_init(|| Arc::new(HostFormatter::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_formatter_passes_bytes_unchanged() {
        let out = SharedBuffer::new();
        let f = RawFormatter::with_writers(out.clone(), io::sink());
        f.line("h", Stream::Stdout, b"\xffbin").unwrap();
        assert_eq!(out.contents(), b"\xffbin");
    }

    #[test]
    fn host_formatter_shows_invalid_utf8_escaped_not_replaced() {
        let out = SharedBuffer::new();
        let f = HostFormatter::with_writers(out.clone(), io::sink());
        f.line("h", Stream::Stdout, b"a\xffb\xc3\n").unwrap();
        f.line("h", Stream::Stdout, b"\x1b[1mbold\x1b[0m\n")
            .unwrap();
        assert_eq!(
            out.contents(),
            b"h:a\\xffb\\xc3\nh:\x1b[1mbold\x1b[0m\n".to_vec(),
            "colours pass as ssh shows them"
        );
        let time = TimeHostFormatter::with_writers(out.clone(), io::sink());
        time.line("h", Stream::Stdout, b"\xfe\n").unwrap();
        assert!(out.contents_lossy().ends_with(":h:\\xfe\n"));
    }

    #[test]
    fn events_and_host_names_never_carry_control_characters() {
        let err = SharedBuffer::new();
        let f = HostFormatter::with_writers(io::sink(), err.clone()).verbose(true);
        let status = ExitStatus::Signal("KILL\x1b]0;pwned\x07".into());
        f.event(
            "h\x1b[2J",
            &Event::CommandEnd {
                command: "c",
                status: Some(&status),
            },
        )
        .unwrap();
        let text = err.contents_lossy();
        assert!(!text.trim_end().chars().any(char::is_control), "{text:?}");
        assert!(
            text.contains("h\\x1b[2J:") && text.contains("KILL\\x1b]0;pwned\\x07"),
            "{text}"
        );
    }

    #[test]
    fn time_host_formatter_prefixes_time_then_host() {
        let out = SharedBuffer::new();
        let f = TimeHostFormatter::with_writers(out.clone(), io::sink());
        f.line("h", Stream::Stdout, b"x\n").unwrap();
        let text = out.contents_lossy();
        let (time, rest) = text.split_at(8);
        assert!(
            time.chars().filter(|c| *c == ':').count() == 2 && time.len() == 8,
            "{text}"
        );
        assert_eq!(rest, ":h:x\n");
    }

    #[test]
    fn verbose_events_go_to_stderr_only_when_asked() {
        let err = SharedBuffer::new();
        let quiet = HostFormatter::with_writers(io::sink(), err.clone());
        quiet.event("h", &Event::Closed).unwrap();
        assert_eq!(err.contents_lossy(), "");
        let loud = HostFormatter::with_writers(io::sink(), err.clone()).verbose(true);
        loud.event("h", &Event::Closed).unwrap();
        assert_eq!(err.contents_lossy(), "h:========== Connection closed\n");
    }

    #[test]
    fn subdir_formatter_separates_streams_and_truncates_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("h1"), "stale\n").unwrap();
        let f = SubdirFormatter::new(dir.path());
        f.event("h1", &Event::CommandStart { command: "c1" })
            .unwrap();
        f.line("h1", Stream::Stdout, b"one\n").unwrap();
        f.line("h1", Stream::Stderr, b"oops\n").unwrap();
        f.event(
            "h1",
            &Event::CommandEnd {
                command: "c1",
                status: None,
            },
        )
        .unwrap();
        f.event("h1", &Event::CommandStart { command: "c2" })
            .unwrap();
        f.line("h1", Stream::Stdout, b"two\n").unwrap();
        f.event("h2", &Event::CommandStart { command: "c" })
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("h1")).unwrap(),
            "one\ntwo\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("h1.err")).unwrap(),
            "oops\n"
        );
        assert_eq!(std::fs::read_to_string(dir.path().join("h2")).unwrap(), "");
        assert!(!dir.path().join("h2.err").exists());
    }
}
