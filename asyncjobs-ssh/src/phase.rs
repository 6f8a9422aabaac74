//! Where the time of a connection and of a command goes: each step, as it
//! completes, is reported to the node's formatter as [`Event::Phase`] with the
//! time it took (a verbose formatter, e.g. `ajssh -v`, prints it).
//!
//! A connection's phases follow each other from the start of the attempt:
//! [`Phase::Tcp`], [`Phase::Kex`], [`Phase::Auth`]; a command's from its start:
//! [`Phase::Channel`], [`Phase::Exec`], [`Phase::Exit`]. Over a network each
//! usually costs whole round trips, which is what the latency benchmark
//! (`cargo xtask bench latency`) reads them for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::formatter::{Event, Formatter};

/// One step of opening a connection or of running a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// The transport is up: the TCP connection, or for a node behind a gateway
    /// the `direct-tcpip` tunnel through it (including the gateway's own
    /// connection when this one opens it).
    Tcp,
    /// Key exchange done and the host key checked.
    Kex,
    /// Authenticated.
    Auth,
    /// A command's session channel is open (the server confirmed it).
    Channel,
    /// The server accepted the command (its reply to the `exec` request).
    Exec,
    /// The command's exit status (or signal) arrived.
    Exit,
}

impl Phase {
    /// Every phase, in the order they happen.
    pub const ALL: [Phase; 6] = [
        Phase::Tcp,
        Phase::Kex,
        Phase::Auth,
        Phase::Channel,
        Phase::Exec,
        Phase::Exit,
    ];

    /// Its name in events: `tcp`, `kex`, `auth`, `channel`, `exec`, `exit`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Tcp => "tcp",
            Phase::Kex => "kex",
            Phase::Auth => "auth",
            Phase::Channel => "channel",
            Phase::Exec => "exec",
            Phase::Exit => "exit",
        }
    }

    /// The phase named `name` (as [`name`](Self::name) gives it).
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Reports the phases of one connection attempt or one command to a formatter,
/// each with the time since the previous one (or since the start).
pub(crate) struct PhaseClock {
    formatter: Option<Arc<dyn Formatter>>,
    host: String,
    last: Instant,
}

impl PhaseClock {
    /// Starts now; `None`: nothing is reported (internal chores).
    pub fn start(formatter: Option<Arc<dyn Formatter>>, host: &str) -> PhaseClock {
        PhaseClock {
            formatter,
            host: host.to_string(),
            last: Instant::now(),
        }
    }

    /// Started at `at` (a step that began before the clock was at hand).
    pub fn start_at(formatter: Option<Arc<dyn Formatter>>, host: &str, at: Instant) -> PhaseClock {
        PhaseClock {
            formatter,
            host: host.to_string(),
            last: at,
        }
    }

    /// `phase` is complete now.
    pub fn done(&mut self, phase: Phase) {
        let now = Instant::now();
        let took: Duration = now - self.last;
        self.last = now;
        if let Some(f) = &self.formatter {
            // an event is informational: a formatter that cannot write it does not fail the run
            let _ = f.event(&self.host, &Event::Phase { phase, took });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formatter::{HostFormatter, SharedBuffer};

    #[test]
    fn names_round_trip_and_follow_the_order_of_a_run() {
        let names: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["tcp", "kex", "auth", "channel", "exec", "exit"]);
        for p in Phase::ALL {
            assert_eq!(Phase::from_name(p.name()), Some(p));
        }
        assert_eq!(Phase::from_name("dns"), None);
    }

    #[test]
    fn a_verbose_formatter_prints_each_phase_with_its_duration() {
        let err = SharedBuffer::new();
        let f: Arc<dyn Formatter> =
            Arc::new(HostFormatter::with_writers(std::io::sink(), err.clone()).verbose(true));
        let mut clock = PhaseClock::start(Some(f), "h1");
        clock.done(Phase::Tcp);
        clock.done(Phase::Kex);
        let text = err.contents_lossy();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with("h1:========== Phase tcp took "),
            "{text}"
        );
        assert!(
            lines[1].starts_with("h1:========== Phase kex took "),
            "{text}"
        );
        assert!(lines.iter().all(|l| l.ends_with(" ms")), "{text}");
        // without a formatter nothing is reported, and nothing fails
        PhaseClock::start(None, "h2").done(Phase::Exit);
    }
}
