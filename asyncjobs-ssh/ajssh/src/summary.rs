//! The final summary on stderr: counts, then every failed and unreachable
//! host with its reason (the first [`MAX_LISTED`] of each, the others as a
//! node set, so ten thousand failures stay readable).

use std::fmt::Write as _;
use std::time::Duration;

use asyncjobs_ssh::escape::escape_control;

use crate::exit;
use crate::nodeset;
use crate::output::json::HostStatus;

/// Hosts listed one per line in each category; the rest are folded.
pub const MAX_LISTED: usize = 100;

/// Tallies of a fan-out.
#[derive(Debug, Default)]
pub struct Summary {
    /// Hosts that had started when the run was interrupted, and were stopped.
    stopped: usize,
    total: usize,
    ok: usize,
    /// (rank among targets, host, reason)
    failed: Vec<(usize, String, String)>,
    unreachable: Vec<(usize, String, String)>,
}

impl Summary {
    /// A summary for `total` selected hosts.
    pub fn new(total: usize) -> Summary {
        Summary {
            total,
            ..Summary::default()
        }
    }

    /// Records how the host of rank `order` ended.
    pub fn record(&mut self, order: usize, host: &str, status: HostStatus, reason: Option<&str>) {
        let entry = || {
            (
                order,
                host.to_string(),
                reason.unwrap_or("no reason given").to_string(),
            )
        };
        match status {
            HostStatus::Ok => self.ok += 1,
            HostStatus::Failed => self.failed.push(entry()),
            HostStatus::Unreachable => self.unreachable.push(entry()),
        }
    }

    /// (ok, failed, unreachable) so far.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.ok, self.failed.len(), self.unreachable.len())
    }

    /// Hosts selected.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Hosts that never finished (interrupted run).
    pub fn not_run(&self) -> usize {
        self.total
            .saturating_sub(self.ok + self.failed.len() + self.unreachable.len())
    }

    /// Records `n` hosts stopped while running (the run was interrupted):
    /// they count as not run, but as started.
    pub fn record_stopped(&mut self, n: usize) {
        self.stopped += n;
    }

    /// The exit code these tallies call for.
    pub fn exit_code(&self) -> u8 {
        exit::for_fanout(self.failed.len() + self.not_run(), self.unreachable.len())
    }

    /// True when some host did not succeed.
    pub fn has_problems(&self) -> bool {
        self.ok < self.total
    }

    /// The summary text (ends with a newline).
    pub fn render(&self, elapsed: Duration) -> String {
        let mut s = format!(
            "ajssh: {} host{}: {} ok, {} failed, {} unreachable",
            self.total,
            if self.total == 1 { "" } else { "s" },
            self.ok,
            self.failed.len(),
            self.unreachable.len()
        );
        // of the hosts that did not finish: those stopped while running,
        // and those that had not started yet
        let not_started = self.not_run().saturating_sub(self.stopped);
        if self.not_run() > not_started {
            let _ = write!(
                s,
                ", {} stopped (interrupted)",
                self.not_run() - not_started
            );
        }
        if not_started > 0 {
            let _ = write!(s, ", {not_started} not started (interrupted)");
        }
        let _ = writeln!(s, ", in {:.2}s", elapsed.as_secs_f64());
        list(&mut s, "failed", &self.failed);
        list(&mut s, "unreachable", &self.unreachable);
        s
    }
}

fn list(s: &mut String, what: &str, entries: &[(usize, String, String)]) {
    if entries.is_empty() {
        return;
    }
    let mut sorted: Vec<&(usize, String, String)> = entries.iter().collect();
    sorted.sort_by_key(|e| e.0);
    let _ = writeln!(s, "{what} ({}):", entries.len());
    for (_, host, reason) in sorted.iter().take(MAX_LISTED) {
        // one line per host: multi-line reasons (stderr tails) are joined;
        // the reason quotes what hosts sent (signal names, stderr, file
        // names): control characters are escaped, never sent to the terminal
        let reason = reason
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(escape_control)
            .collect::<Vec<_>>()
            .join(" | ");
        let _ = writeln!(s, "  {}: {reason}", escape_control(host));
    }
    if sorted.len() > MAX_LISTED {
        let rest: Vec<&str> = sorted[MAX_LISTED..].iter().map(|e| e.1.as_str()).collect();
        let _ = writeln!(
            s,
            "  ... and {} more: {} (--json gives every reason)",
            rest.len(),
            nodeset::fold(&rest)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lists_failed_and_unreachable_hosts_in_target_order() {
        let mut s = Summary::new(4);
        s.record(
            3,
            "h4",
            HostStatus::Unreachable,
            Some("connection refused by h4:22"),
        );
        s.record(0, "h1", HostStatus::Ok, None);
        s.record(
            2,
            "h3",
            HostStatus::Failed,
            Some("exit code 1 from `false`\nstderr line"),
        );
        s.record(1, "h2", HostStatus::Failed, Some("timed out"));
        let text = s.render(Duration::from_millis(1500));
        assert_eq!(
            text,
            "ajssh: 4 hosts: 1 ok, 2 failed, 1 unreachable, in 1.50s\n\
             failed (2):\n  h2: timed out\n  h3: exit code 1 from `false` | stderr line\n\
             unreachable (1):\n  h4: connection refused by h4:22\n"
        );
        assert_eq!(s.exit_code(), exit::UNREACHABLE);
    }

    #[test]
    fn long_lists_are_cut_and_folded() {
        let mut s = Summary::new(MAX_LISTED + 3);
        for i in 0..MAX_LISTED + 3 {
            s.record(i, &format!("n{i}"), HostStatus::Failed, Some("boom"));
        }
        let text = s.render(Duration::ZERO);
        assert_eq!(
            text.lines().filter(|l| l.ends_with(": boom")).count(),
            MAX_LISTED
        );
        assert!(text.contains("... and 3 more: n[100-102]"), "{text}");
        assert_eq!(s.exit_code(), exit::FAILED);
    }

    #[test]
    fn interrupted_runs_count_hosts_not_run_as_failures() {
        let mut s = Summary::new(3);
        s.record(0, "a", HostStatus::Ok, None);
        assert_eq!(s.not_run(), 2);
        assert!(s
            .render(Duration::ZERO)
            .contains(", 2 not started (interrupted)"));
        s.record_stopped(1);
        let text = s.render(Duration::ZERO);
        assert!(
            text.contains(", 1 stopped (interrupted), 1 not started (interrupted), in"),
            "{text}"
        );
        assert_eq!(s.exit_code(), exit::FAILED);
        let mut all = Summary::new(1);
        all.record(0, "a", HostStatus::Ok, None);
        assert!(!all.has_problems());
        assert_eq!(all.exit_code(), exit::OK);
    }
}
