//! The runs of one client in one scenario at one round trip, and what is
//! read from them: wall time, CPU, round trips (estimated from the clock and
//! counted by the delay proxy), and ajssh's own phases.

use super::tools::{Scenario, Tool};
use crate::bench::runs::{median, CellRuns, Runs};

/// One timed run that reached every host.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub wall_s: f64,
    /// User + system CPU of the client and all its processes.
    pub cpu_s: f64,
    /// CPU of the servers (every sshd and its per-connection processes).
    pub sshd_cpu_s: f64,
    /// Deepest message flow through the delay proxy, in round trips (none at 0 ms).
    pub counted: Option<f64>,
    /// ajssh's phases (name, ms) for the host that ran the command, as `-v` printed them.
    pub phases: Vec<(String, f64)>,
}

/// One client, one scenario, one round trip.
pub struct Cell {
    pub tool: Tool,
    pub scenario: Scenario,
    pub rtt_ms: u64,
    /// The validation run: every host answered, or why not.
    pub validation: Result<(), String>,
    pub runs: Vec<Run>,
    pub failures: Vec<String>,
    pub planned: usize,
}

impl CellRuns for Cell {
    fn run_check(&self) -> Runs<'_> {
        Runs::new(
            &self.validation,
            &self.failures,
            self.runs.len(),
            self.planned,
        )
    }
}

impl Cell {
    pub fn new(tool: Tool, scenario: Scenario, rtt_ms: u64, planned: usize) -> Cell {
        Cell {
            tool,
            scenario,
            rtt_ms,
            validation: Err("not run".into()),
            runs: Vec::new(),
            failures: Vec::new(),
            planned,
        }
    }

    pub fn wall(&self) -> Option<f64> {
        median(self.runs.iter().map(|r| r.wall_s).collect())
    }

    pub fn cpu(&self) -> Option<f64> {
        median(self.runs.iter().map(|r| r.cpu_s).collect())
    }

    /// The servers' CPU: the median of the runs.
    pub fn sshd_cpu(&self) -> Option<f64> {
        median(self.runs.iter().map(|r| r.sshd_cpu_s).collect())
    }

    /// Round trips from the clock: the median of (wall − CPU) / RTT (none at 0 ms).
    pub fn estimated(&self) -> Option<f64> {
        if self.rtt_ms == 0 {
            return None;
        }
        let rtt = self.rtt_ms as f64 / 1e3;
        median(
            self.runs
                .iter()
                .map(|r| (r.wall_s - r.cpu_s).max(0.0) / rtt)
                .collect(),
        )
    }

    /// Round trips counted by the proxy: the lowest of the runs (a count can
    /// only be raised by a slow reply, never lowered).
    pub fn counted(&self) -> Option<f64> {
        self.runs.iter().filter_map(|r| r.counted).reduce(f64::min)
    }

    /// The median time of each phase, in the order they happen.
    pub fn phases(&self) -> Vec<(String, f64)> {
        let Some(first) = self.runs.iter().find(|r| !r.phases.is_empty()) else {
            return Vec::new();
        };
        first
            .phases
            .iter()
            .filter_map(|(name, _)| {
                let all: Vec<f64> = self
                    .runs
                    .iter()
                    .filter_map(|r| r.phases.iter().find(|p| &p.0 == name).map(|p| p.1))
                    .collect();
                median(all).map(|m| (name.clone(), m))
            })
            .collect()
    }
}

/// The phases of the host that ran the command (the one that reports `exit`),
/// from `ajssh -v`'s lines `HOST... Phase NAME took MS ms`.
pub fn phases_of(stderr: &str) -> Vec<(String, f64)> {
    let mut hosts: Vec<(String, Vec<(String, f64)>)> = Vec::new();
    for line in stderr.lines() {
        let Some((head, rest)) = line.split_once("Phase ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), Some("took"), Some(ms), Some("ms")) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Ok(ms) = ms.parse::<f64>() else {
            continue;
        };
        let host = head.trim_end_matches(['=', ' ', ':', '|']).to_string();
        match hosts.iter_mut().find(|h| h.0 == host) {
            Some(h) => h.1.push((name.to_string(), ms)),
            None => hosts.push((host, vec![(name.to_string(), ms)])),
        }
    }
    hosts
        .into_iter()
        .map(|h| h.1)
        .find(|p| p.iter().any(|(n, _)| n == "exit"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{phases_of, Cell, Run};
    use crate::bench::latency::tools::{Scenario, Tool};
    use crate::bench::runs::CellRuns;

    #[test]
    fn the_phases_are_those_of_the_host_that_ran_the_command() {
        let stderr = "gw ========== Connecting (direct) as u\n\
                      gw ========== Phase tcp took 50.100 ms\n\
                      gw ========== Phase kex took 100.000 ms\n\
                      h1 ========== Phase tcp took 260.5 ms\n\
                      gw ========== Phase auth took 50.000 ms\n\
                      h1 ========== Phase kex took 100.0 ms\n\
                      h1 ========== Phase exit took 0.2 ms\n\
                      h1 ========== Phase garbled\n";
        assert_eq!(
            phases_of(stderr),
            [
                ("tcp".to_string(), 260.5),
                ("kex".to_string(), 100.0),
                ("exit".to_string(), 0.2)
            ]
        );
        assert!(phases_of("no phases here\n").is_empty());
    }

    #[test]
    fn round_trips_from_the_clock_subtract_the_cpu_and_counts_keep_the_lowest() {
        let mut c = Cell::new(Tool::Ajssh, Scenario::Direct, 50, 2);
        c.validation = Ok(());
        for (wall, cpu, counted) in [(0.33, 0.03, 6.5), (0.40, 0.05, 6.0)] {
            c.runs.push(Run {
                wall_s: wall,
                cpu_s: cpu,
                sshd_cpu_s: cpu * 10.0,
                counted: Some(counted),
                phases: vec![],
            });
        }
        assert!(c.valid());
        // (0.30 / 0.05 = 6, 0.35 / 0.05 = 7): median 6.5
        assert!((c.estimated().unwrap() - 6.5).abs() < 1e-9);
        assert_eq!(c.counted(), Some(6.0));
        assert!((c.sshd_cpu().unwrap() - 0.4).abs() < 1e-9);
        let at_zero = Cell::new(Tool::Ajssh, Scenario::Direct, 0, 0);
        assert_eq!(at_zero.estimated(), None);
    }
}
