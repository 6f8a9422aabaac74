//! [`HostCapture`]: the formatter of one host's job. It forwards lines to the
//! streaming formatter of the output mode (if any), keeps them when the mode
//! needs the whole output (`-b`, `--json`), and records each command's end.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use asyncjobs_ssh::{Event, Formatter, Stream};

use super::json::CommandRecord;

/// Bytes kept per stream and host for `-b` / `--json`; past it the
/// beginning is kept and the record says `truncated`.
pub const KEEP_LIMIT: usize = 16 * 1024 * 1024;

/// The output kept for one stream.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The bytes, up to the limit.
    pub bytes: Vec<u8>,
    /// True when more came.
    pub truncated: bool,
}

impl Kept {
    fn push(&mut self, line: &[u8], limit: usize) {
        let room = limit.saturating_sub(self.bytes.len());
        if line.len() > room {
            self.truncated = true;
        }
        self.bytes.extend_from_slice(&line[..line.len().min(room)]);
    }
}

#[derive(Default)]
struct State {
    stdout: Kept,
    stderr: Kept,
    commands: Vec<CommandRecord>,
    started: Option<Instant>,
}

/// One host's formatter (see the module doc).
pub struct HostCapture {
    inner: Option<Arc<dyn Formatter>>,
    keep: Option<usize>,
    state: Mutex<State>,
}

impl HostCapture {
    /// Forwards to `inner`; keeps up to `keep` bytes per stream when `Some`.
    pub fn new(inner: Option<Arc<dyn Formatter>>, keep: Option<usize>) -> Self {
        HostCapture {
            inner,
            keep,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What was kept, and the commands that ended; empties the capture.
    pub fn take(&self) -> (Kept, Kept, Vec<CommandRecord>) {
        let mut s = self.state();
        (
            std::mem::take(&mut s.stdout),
            std::mem::take(&mut s.stderr),
            std::mem::take(&mut s.commands),
        )
    }
}

impl Formatter for HostCapture {
    fn line(&self, host: &str, stream: Stream, line: &[u8]) -> io::Result<()> {
        if let Some(limit) = self.keep {
            let mut s = self.state();
            match stream {
                Stream::Stdout => s.stdout.push(line, limit),
                Stream::Stderr => s.stderr.push(line, limit),
            }
        }
        match &self.inner {
            Some(f) => f.line(host, stream, line),
            None => Ok(()),
        }
    }

    fn event(&self, host: &str, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::CommandStart { .. } => self.state().started = Some(Instant::now()),
            Event::CommandEnd { command, status } => {
                let mut s = self.state();
                let duration = s.started.take().map_or(0.0, |t| t.elapsed().as_secs_f64());
                s.commands.push(CommandRecord {
                    command: command.to_string(),
                    exit_code: status.and_then(|st| st.code()),
                    signal: status.and_then(|st| st.signal().map(str::to_string)),
                    duration,
                });
            }
            _ => {}
        }
        match &self.inner {
            Some(f) => f.event(host, event),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncjobs_ssh::{ExitStatus, HostFormatter, SharedBuffer};

    #[test]
    fn lines_are_forwarded_and_kept_up_to_the_limit() {
        let out = SharedBuffer::new();
        let inner: Arc<dyn Formatter> =
            Arc::new(HostFormatter::with_writers(out.clone(), io::sink()));
        let c = HostCapture::new(Some(inner), Some(6));
        c.line("h", Stream::Stdout, b"abcd\n").unwrap();
        c.line("h", Stream::Stdout, b"efgh\n").unwrap();
        c.line("h", Stream::Stderr, b"e\n").unwrap();
        let (o, e, _) = c.take();
        assert_eq!(
            o,
            Kept {
                bytes: b"abcd\ne".to_vec(),
                truncated: true
            }
        );
        assert_eq!(
            e,
            Kept {
                bytes: b"e\n".to_vec(),
                truncated: false
            }
        );
        assert_eq!(out.contents_lossy(), "h:abcd\nh:efgh\n");
    }

    #[test]
    fn nothing_is_kept_without_a_limit() {
        let c = HostCapture::new(None, None);
        c.line("h", Stream::Stdout, b"x\n").unwrap();
        assert_eq!(c.take().0, Kept::default());
    }

    #[test]
    fn command_ends_are_recorded_with_status() {
        let c = HostCapture::new(None, None);
        c.event("h", &Event::CommandStart { command: "a" }).unwrap();
        c.event(
            "h",
            &Event::CommandEnd {
                command: "a",
                status: Some(&ExitStatus::Code(3)),
            },
        )
        .unwrap();
        c.event("h", &Event::CommandStart { command: "b" }).unwrap();
        c.event(
            "h",
            &Event::CommandEnd {
                command: "b",
                status: Some(&ExitStatus::from("TERM")),
            },
        )
        .unwrap();
        let (_, _, cmds) = c.take();
        assert_eq!(cmds.len(), 2);
        assert_eq!(
            (cmds[0].exit_code, cmds[0].signal.as_deref()),
            (Some(3), None)
        );
        assert_eq!(
            (cmds[1].exit_code, cmds[1].signal.as_deref()),
            (None, Some("TERM"))
        );
    }
}
