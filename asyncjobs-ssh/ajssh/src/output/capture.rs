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

/// Bytes kept for `-b` / `--json` in all, every host and stream together
/// (hosts in flight, and for `-b` each distinct output gathered so far):
/// memory stays bounded whatever the number of hosts. Past it, outputs are
/// cut (and flagged) as at [`KEEP_LIMIT`]; `-d DIR` keeps everything.
pub const TOTAL_KEEP_LIMIT: usize = 256 * 1024 * 1024;

/// A kept output grows by at most this much at a time.
const GROWTH: usize = 1024 * 1024;

/// The bytes kept so far against [`TOTAL_KEEP_LIMIT`], shared by all hosts.
#[derive(Debug, Clone)]
pub struct Budget {
    used: Arc<std::sync::atomic::AtomicUsize>,
    total: usize,
}

impl Budget {
    /// A budget of `total` bytes.
    pub fn new(total: usize) -> Budget {
        Budget {
            used: Default::default(),
            total,
        }
    }

    /// Takes up to `want` bytes; returns how many were granted.
    fn take(&self, want: usize) -> usize {
        use std::sync::atomic::Ordering;
        let mut granted = 0;
        let _ = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                granted = want.min(self.total.saturating_sub(used));
                Some(used + granted)
            });
        granted
    }

    /// Gives `n` bytes back (an output written or dropped).
    pub fn give_back(&self, n: usize) {
        use std::sync::atomic::Ordering;
        let _ = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                Some(used.saturating_sub(n))
            });
    }

    /// Bytes in use.
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.used.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// How much a host may keep: per stream, and out of the shared budget.
#[derive(Debug, Clone)]
pub struct Keep {
    /// Bytes per stream.
    pub limit: usize,
    /// The budget of all hosts.
    pub budget: Budget,
}

/// The output kept for one stream.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The bytes, up to the limit.
    pub bytes: Vec<u8>,
    /// True when more came.
    pub truncated: bool,
}

impl Kept {
    fn push(&mut self, line: &[u8], keep: &Keep) {
        let room = keep.limit.saturating_sub(self.bytes.len()).min(line.len());
        let granted = keep.budget.take(room);
        if line.len() > granted {
            self.truncated = true;
        }
        // grow by doubling up to GROWTH, then by steps of GROWTH: the memory
        // held stays within GROWTH of what the budget granted
        if self.bytes.capacity() - self.bytes.len() < granted {
            let step = self.bytes.len().clamp(4096, GROWTH).max(granted);
            let step = step.min(keep.limit.saturating_sub(self.bytes.len()).max(granted));
            self.bytes.reserve_exact(step);
        }
        self.bytes.extend_from_slice(&line[..granted]);
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
    keep: Option<Keep>,
    state: Mutex<State>,
}

impl HostCapture {
    /// Forwards to `inner`; keeps what `keep` allows when `Some`.
    pub fn new(inner: Option<Arc<dyn Formatter>>, keep: Option<Keep>) -> Self {
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
        if let Some(keep) = &self.keep {
            let mut s = self.state();
            match stream {
                Stream::Stdout => s.stdout.push(line, keep),
                Stream::Stderr => s.stderr.push(line, keep),
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
        let budget = Budget::new(100);
        let keep = Keep {
            limit: 6,
            budget: budget.clone(),
        };
        let c = HostCapture::new(Some(inner), Some(keep));
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
        assert_eq!(budget.used(), 8);
    }

    #[test]
    fn kept_output_grows_in_steps_not_by_doubling() {
        let keep = Keep {
            limit: 10 * GROWTH,
            budget: Budget::new(100 * GROWTH),
        };
        let mut k = Kept::default();
        let line = vec![b'x'; 1000];
        while k.bytes.len() + line.len() <= 5 * GROWTH + 500 {
            k.push(&line, &keep);
        }
        assert!(
            k.bytes.capacity() <= k.bytes.len() + GROWTH,
            "{}",
            k.bytes.capacity()
        );
        assert!(k.bytes.capacity() <= keep.limit);
    }

    #[test]
    fn all_hosts_together_keep_no_more_than_the_budget() {
        let budget = Budget::new(10);
        let keep = Keep {
            limit: 8,
            budget: budget.clone(),
        };
        let (a, b) = (
            HostCapture::new(None, Some(keep.clone())),
            HostCapture::new(None, Some(keep)),
        );
        a.line("a", Stream::Stdout, b"123456\n").unwrap();
        b.line("b", Stream::Stdout, b"abcdef\n").unwrap();
        let (ka, kb) = (a.take().0, b.take().0);
        assert_eq!((ka.bytes.len(), ka.truncated), (7, false));
        assert_eq!((kb.bytes, kb.truncated), (b"abc".to_vec(), true));
        budget.give_back(7);
        let c = HostCapture::new(
            None,
            Some(Keep {
                limit: 8,
                budget: budget.clone(),
            }),
        );
        c.line("c", Stream::Stdout, b"xy\n").unwrap();
        assert_eq!(c.take().0.bytes, b"xy\n", "room again once given back");
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
