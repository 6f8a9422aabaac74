//! The final summary on stderr: counts, then the failed and unreachable
//! hosts folded by outcome, as clush does: hosts that ended the same way
//! share one line, their names folded into a node set with the same
//! [`fold`] as the `-b` headers (`127.0.0.[1-20] (20): exit 1: <last stderr
//! line>`); a host alone keeps its full reason. The first [`MAX_LISTED`]
//! lines of each category are printed, the other hosts as one node set.
//! Remote text (stderr, signal names) is escaped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use asyncjobs_ssh::escape::escape_control;
use asyncjobs_ssh::targets::fold;

use crate::exit;
use crate::output::json::HostStatus;
use crate::output::HostResult;

/// Lines (outcomes) listed in each category; the other hosts are folded.
pub const MAX_LISTED: usize = 100;

/// A host that did not succeed.
#[derive(Debug)]
struct Entry {
    /// Rank among the targets.
    order: usize,
    host: String,
    /// The full reason, one line.
    reason: String,
    /// The reason without what names the host: hosts whose `outcome`s are
    /// equal share a line.
    outcome: String,
}

/// Tallies of a fan-out.
#[derive(Debug, Default)]
pub struct Summary {
    /// Hosts that had started when the run was interrupted, and were stopped.
    stopped: usize,
    total: usize,
    ok: usize,
    failed: Vec<Entry>,
    unreachable: Vec<Entry>,
}

/// A multi-line reason (a stderr tail) on one line, escaped.
fn one_line(reason: &str) -> String {
    reason
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(escape_control)
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The library's text before a command's stderr tail.
const STDERR_TAIL: &str = "stderr ends with:\n";

/// How a host ended, in words that do not name it: `exit 1: <last stderr
/// line>` for a command that failed, else the reason with the host's names
/// replaced by `%h` (as pdsh writes the host in its templates).
fn outcome(r: &HostResult, reason: &str) -> String {
    let status = match (r.exit_code, &r.signal) {
        (Some(c), _) => Some(format!("exit {c}")),
        (None, Some(sig)) => Some(format!("killed by signal {}", escape_control(sig))),
        _ => None,
    };
    if let (Some(status), Some("CommandFailed")) = (status, r.error_kind.as_deref()) {
        let last = reason
            .split_once(STDERR_TAIL)
            .and_then(|(_, tail)| tail.lines().rev().map(str::trim).find(|l| !l.is_empty()));
        return match last {
            Some(line) => format!("{status}: {}", escape_control(line)),
            None => status,
        };
    }
    without_host(&one_line(reason), &r.label, &r.target)
}

/// `text` with the names of the host (label, target, `host:port`) as `%h`.
fn without_host(text: &str, label: &str, target: &str) -> String {
    let last = target.rsplit("->").next().unwrap_or(target);
    let bare = last.rsplit_once('@').map_or(last, |(_, h)| h);
    let mut names = vec![target.to_string(), last.to_string(), bare.to_string()];
    if !bare.contains(':') || bare.starts_with('[') {
        names.push(format!("{bare}:22"));
    }
    names.push(label.to_string());
    // longest first: `u@h:22` before `h`
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_string();
    for n in names.iter().filter(|n| !n.is_empty()) {
        out = replace_word(&out, n);
    }
    out
}

/// Replaces `name` by `%h` where it is not part of a longer name.
fn replace_word(text: &str, name: &str) -> String {
    let part = |c: Option<char>| {
        c.is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(name) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + name.len()..].chars().next();
        out.push_str(&rest[..i]);
        if part(before) || part(after) {
            out.push_str(name);
        } else {
            out.push_str("%h");
        }
        rest = &rest[i + name.len()..];
    }
    out.push_str(rest);
    out
}

impl Summary {
    /// A summary for `total` selected hosts.
    pub fn new(total: usize) -> Summary {
        Summary {
            total,
            ..Summary::default()
        }
    }

    /// Records how a host ended.
    pub fn record_result(&mut self, r: &HostResult) {
        let reason = r.error.as_deref().unwrap_or("no reason given");
        let entry = Entry {
            order: r.order,
            host: r.label.clone(),
            reason: one_line(reason),
            outcome: outcome(r, reason),
        };
        self.push(r.status, entry);
    }

    /// Records how the host of rank `order` ended (no exit status known).
    #[cfg(test)]
    pub fn record(&mut self, order: usize, host: &str, status: HostStatus, reason: Option<&str>) {
        let reason = one_line(reason.unwrap_or("no reason given"));
        let entry = Entry {
            order,
            host: host.to_string(),
            outcome: without_host(&reason, host, host),
            reason,
        };
        self.push(status, entry);
    }

    fn push(&mut self, status: HostStatus, entry: Entry) {
        match status {
            HostStatus::Ok => self.ok += 1,
            HostStatus::Failed => self.failed.push(entry),
            HostStatus::Unreachable => self.unreachable.push(entry),
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

fn list(s: &mut String, what: &str, entries: &[Entry]) {
    if entries.is_empty() {
        return;
    }
    // one line per outcome, in the order of its first host among the targets
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut lines: Vec<Vec<&Entry>> = Vec::new();
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.order);
    for e in sorted {
        let i = *index.entry(e.outcome.as_str()).or_insert_with(|| {
            lines.push(Vec::new());
            lines.len() - 1
        });
        if let Some(l) = lines.get_mut(i) {
            l.push(e);
        }
    }
    let _ = writeln!(s, "{what} ({}):", entries.len());
    for hosts in lines.iter().take(MAX_LISTED) {
        match hosts.as_slice() {
            [one] => {
                let _ = writeln!(s, "  {}: {}", escape_control(&one.host), one.reason);
            }
            many => {
                let names: Vec<&str> = many.iter().map(|e| e.host.as_str()).collect();
                let outcome = many.first().map_or("", |e| e.outcome.as_str());
                let _ = writeln!(
                    s,
                    "  {} ({}): {outcome}",
                    escape_control(&fold(&names)),
                    names.len()
                );
            }
        }
    }
    if lines.len() > MAX_LISTED {
        let rest: Vec<&str> = lines[MAX_LISTED..]
            .iter()
            .flatten()
            .map(|e| e.host.as_str())
            .collect();
        let _ = writeln!(
            s,
            "  ... and {} more host{} in {} other outcomes: {} (--json gives every reason)",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" },
            lines.len() - MAX_LISTED,
            escape_control(&fold(&rest))
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
            s.record(
                i,
                &format!("n{i}"),
                HostStatus::Failed,
                Some(&format!("boom {i}")),
            );
        }
        let text = s.render(Duration::ZERO);
        assert_eq!(
            text.lines().filter(|l| l.contains(": boom")).count(),
            MAX_LISTED
        );
        assert!(
            text.contains("... and 3 more hosts in 3 other outcomes: n[100-102]"),
            "{text}"
        );
        assert_eq!(s.exit_code(), exit::FAILED);
    }

    fn result(order: usize, label: &str, code: Option<u32>, error: &str) -> HostResult {
        HostResult {
            order,
            label: label.into(),
            target: format!("u@{label}:2222"),
            status: HostStatus::Failed,
            error_kind: Some(
                if code.is_some() {
                    "CommandFailed"
                } else {
                    "Timeout"
                }
                .into(),
            ),
            error: Some(error.into()),
            exit_code: code,
            signal: None,
            start: Duration::ZERO,
            duration: Duration::ZERO,
            capture: std::sync::Arc::new(crate::output::capture::HostCapture::new(None, None)),
        }
    }

    #[test]
    fn identical_outcomes_share_one_line_with_a_node_set() {
        let mut s = Summary::new(22);
        for i in 1..=20 {
            let host = format!("127.0.0.{i}");
            let err = format!(
                "command `false` failed on {host}:2222 (exit code 1); stderr ends with:\nfirst\nno \x1b[31mway\n"
            );
            s.record_result(&result(i, &host, Some(1), &err));
        }
        s.record_result(&result(
            30,
            "w1",
            None,
            "command `x` on u@w1:2222 timed out after 5s",
        ));
        s.record_result(&result(
            31,
            "w2",
            None,
            "command `x` on u@w2:2222 timed out after 5s",
        ));
        let text = s.render(Duration::ZERO);
        assert_eq!(
            text,
            "ajssh: 22 hosts: 0 ok, 22 failed, 0 unreachable, in 0.00s\n\
             failed (22):\n  127.0.0.[1-20] (20): exit 1: no \\x1b[31mway\n\
             \x20 w[1-2] (2): command `x` on %h timed out after 5s\n"
        );
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
