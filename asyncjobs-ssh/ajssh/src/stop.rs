//! Why a run stops early: a signal (Ctrl-C's SIGINT, SIGTERM, SIGHUP) or a
//! closed stdout (`ajssh ... | head`). Either way the remote commands are
//! stopped (the library sends them TERM, then KILL) before ajssh exits.
//!
//! [`Stop`] is shared by the run, the output thread and the signal thread:
//! the first reason given wins; its hooks run at once on the thread that
//! gave it (they unblock whatever could keep the run from seeing it, such
//! as a write to a full pipe), and the run waits for it with [`Stop::wait`].
//! The signals are watched on a thread of their own, so that they are seen
//! even while the run's thread is blocked.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Why the run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A signal: `SIGINT` (Ctrl-C), `SIGTERM` or `SIGHUP`.
    Signal(Signal),
    /// stdout is a pipe whose reader went away (EPIPE).
    ClosedStdout,
    /// stdout cannot be written (disk full, I/O error): a local error.
    StdoutError,
}

/// The signals that stop a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Int,
    /// `kill`, service managers.
    Term,
    /// The terminal went away.
    Hup,
}

impl Signal {
    /// Its number.
    pub fn number(self) -> i32 {
        match self {
            Signal::Int => libc::SIGINT,
            Signal::Term => libc::SIGTERM,
            Signal::Hup => libc::SIGHUP,
        }
    }

    /// Its name, as `kill -l` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
        }
    }
}

impl Reason {
    /// The exit code: 128 + the signal number, as shells report a process
    /// killed by it (130, 143, 129; 141 for SIGPIPE on a closed stdout), or
    /// [`LOCAL`](crate::exit::LOCAL) when stdout cannot be written.
    pub fn exit_code(self) -> u8 {
        let n = match self {
            Reason::Signal(Signal::Int) => return crate::exit::INTERRUPTED,
            Reason::Signal(s) => s.number(),
            Reason::ClosedStdout => return crate::exit::CLOSED_STDOUT,
            Reason::StdoutError => return crate::exit::LOCAL,
        };
        u8::try_from(128 + n).unwrap_or(u8::MAX)
    }
}

type Hook = Box<dyn Fn() + Send + Sync>;

/// The stop request of one run (see the module doc).
pub struct Stop {
    reason: watch::Sender<Option<Reason>>,
    hooks: Mutex<Vec<Hook>>,
}

impl Stop {
    /// Nothing requested yet.
    pub fn new() -> Arc<Stop> {
        Arc::new(Stop {
            reason: watch::channel(None).0,
            hooks: Mutex::new(Vec::new()),
        })
    }

    /// Runs `hook` when a stop is requested (at once if it already was).
    pub fn on_stop(&self, hook: impl Fn() + Send + Sync + 'static) {
        if self.reason().is_some() {
            hook();
            return;
        }
        self.hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(hook));
    }

    /// Asks the run to stop; the first reason wins. Returns true the first time.
    pub fn request(&self, reason: Reason) -> bool {
        let first = self.reason.send_if_modified(|r| {
            if r.is_none() {
                *r = Some(reason);
                true
            } else {
                false
            }
        });
        if first {
            let hooks = std::mem::take(&mut *self.hooks.lock().unwrap_or_else(|e| e.into_inner()));
            for h in hooks {
                h();
            }
        }
        first
    }

    /// The reason, once requested.
    pub fn reason(&self) -> Option<Reason> {
        *self.reason.borrow()
    }

    /// Waits until a stop is requested.
    pub async fn wait(&self) -> Reason {
        let mut rx = self.reason.subscribe();
        loop {
            if let Some(r) = *rx.borrow_and_update() {
                return r;
            }
            if rx.changed().await.is_err() {
                // the sender lives in `self`: cannot happen while we wait
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Watches SIGINT, SIGTERM and SIGHUP on a thread of its own: the first one
/// requests a stop; a second one exits at once (with the code of the first),
/// for when stopping the remote commands takes too long for the user.
pub fn watch_signals(stop: &Arc<Stop>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // registered here, before the run starts: from now on these signals do not kill ajssh
    let (mut int, mut term, mut hup) = rt.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        ))
    })?;
    let stop = Arc::clone(stop);
    std::thread::Builder::new()
        .name("ajssh-signals".into())
        .spawn(move || {
            rt.block_on(async move {
                loop {
                    let sig = tokio::select! {
                        _ = int.recv() => Signal::Int,
                        _ = term.recv() => Signal::Term,
                        _ = hup.recv() => Signal::Hup,
                    };
                    if !stop.request(Reason::Signal(sig)) {
                        let code = match stop.reason() {
                            Some(r @ Reason::Signal(_)) => r.exit_code(),
                            _ => Reason::Signal(sig).exit_code(),
                        };
                        eprintln!("ajssh: {} again: exiting without waiting", sig.name());
                        std::process::exit(i32::from(code));
                    }
                }
            })
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(
            Reason::Signal(Signal::Int).exit_code(),
            crate::exit::INTERRUPTED
        );
        assert_eq!(Reason::Signal(Signal::Term).exit_code(), 143);
        assert_eq!(Reason::Signal(Signal::Hup).exit_code(), 129);
        assert_eq!(Reason::ClosedStdout.exit_code(), 128 + libc::SIGPIPE as u8);
    }

    #[test]
    fn the_first_reason_wins_and_hooks_run_once() {
        let stop = Stop::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&runs);
        stop.on_stop(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(stop.reason(), None);
        assert!(stop.request(Reason::ClosedStdout));
        assert!(!stop.request(Reason::Signal(Signal::Term)));
        assert_eq!(stop.reason(), Some(Reason::ClosedStdout));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // a hook added after the request runs at once
        let r = Arc::clone(&runs);
        stop.on_stop(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn wait_returns_the_reason_requested_from_another_thread() {
        let stop = Stop::new();
        let s = Arc::clone(&stop);
        let t = std::thread::spawn(move || s.request(Reason::Signal(Signal::Hup)));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(stop.wait()), Reason::Signal(Signal::Hup));
        assert!(t.join().unwrap());
    }
}
