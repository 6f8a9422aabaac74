//! One command of an interactive session on every host: the outcome of
//! each host, the gathered blocks, and the report of the hosts that failed,
//! folded by identical reason.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use asyncjobs_ssh::escape::escape_control;
use asyncjobs_ssh::{ConnectError, SshError, SshJob, SshNode};
use tokio::sync::Semaphore;

use crate::color::Colors;
use crate::exit;
use crate::hosts::HostSpec;
use crate::output::capture::{Budget, HostCapture, Keep, KEEP_LIMIT, TOTAL_KEEP_LIMIT};
use crate::output::gather::Gather;
use crate::output::Output;
use asyncjobs_ssh::targets as nodeset;

/// Output bytes the library keeps per command for error messages.
const ERROR_CAPTURE: usize = 16 * 1024;

/// One host of the session: its node (and connection) lives as long as the session.
pub struct Host {
    /// Rank among the targets.
    pub order: usize,
    /// The host.
    pub spec: HostSpec,
    /// Its node: the connection is opened on first use and kept.
    pub node: SshNode,
}

/// How a host's command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0.
    Ok,
    /// The command failed (non-zero exit, signal, timeout): the reason.
    Failed(String),
    /// The host could not be reached or refused us: the reason.
    Unreachable(String),
    /// Stopped before it ended (Ctrl-C, SIGTERM).
    Stopped,
}

/// What a command does on every host, and what each host gave.
pub struct Round {
    /// The command line.
    pub line: String,
    /// Gathered (`-b`) rather than prefixed.
    pub gather: bool,
    /// Each host's outcome, by rank, once it ended.
    pub outcomes: Mutex<Vec<Option<Outcome>>>,
    /// Each host's capture, by rank.
    pub captures: Vec<Arc<HostCapture>>,
    budget: Budget,
}

impl Round {
    /// A round of `line` on `hosts`: prefixed lines stream through
    /// `output`, gathered ones are kept until the end.
    pub fn new(line: &str, gather: bool, hosts: usize, output: &Output) -> Round {
        let budget = Budget::new(TOTAL_KEEP_LIMIT);
        let captures = (0..hosts)
            .map(|_| {
                if gather {
                    Arc::new(HostCapture::new(
                        None,
                        Some(Keep {
                            limit: KEEP_LIMIT,
                            budget: budget.clone(),
                        }),
                    ))
                } else {
                    output.host_formatter()
                }
            })
            .collect();
        Round {
            line: line.to_string(),
            gather,
            outcomes: Mutex::new(vec![None; hosts]),
            captures,
            budget,
        }
    }

    /// Runs the command on `host`, connecting first if its connection is
    /// not open (at most `connecting` hosts connect at once); records the
    /// outcome. A connection that dropped since the last command is opened
    /// again; a command refused on a connection that was open (it dropped
    /// unnoticed) is tried once more on a new one.
    pub async fn run_on(
        &self,
        host: &Host,
        connecting: &Semaphore,
        timeout: Option<std::time::Duration>,
    ) {
        let node = &host.node;
        let mut retried = false;
        let result = loop {
            let was_open = node.is_connected();
            if !was_open {
                let _slot = connecting.acquire().await;
                if let Err(e) = node.connect().await {
                    break Err(SshError::Connect(e));
                }
            }
            let mut job = SshJob::new(node)
                .formatter(self.captures[host.order].clone())
                .capture_limit(ERROR_CAPTURE)
                .run(self.line.clone());
            if let Some(t) = timeout {
                job = job.command_timeout(t);
            }
            match job.execute().await {
                Err(SshError::Session { .. } | SshError::Connect(_)) if was_open && !retried => {
                    retried = true;
                    node.close().await;
                }
                other => break other,
            }
        };
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err(SshError::Connect(e)) => Outcome::Unreachable(connect_reason(e)),
            Err(e) => Outcome::Failed(reason(e)),
        };
        self.outcomes.lock().unwrap_or_else(|e| e.into_inner())[host.order] = Some(outcome);
    }

    /// The outcomes, hosts that had not ended counted as stopped.
    pub fn finish(&self) -> Vec<Outcome> {
        self.outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|o| o.clone().unwrap_or(Outcome::Stopped))
            .collect()
    }

    /// The gathered blocks of stdout and of stderr (hosts in target order).
    pub fn gathered(&self, hosts: &[Host], colors: Colors) -> (Vec<u8>, Vec<u8>) {
        let mut g = Gather::default();
        for h in hosts {
            let (out, err, _) = self.captures[h.order].take();
            let kept = out.bytes.len() + err.bytes.len();
            g.add(h.order, &h.spec.label, out, err);
            self.budget.give_back(kept);
        }
        (g.stdout_colored(colors), g.stderr_colored(colors))
    }
}

/// A failed command's reason without the host (so identical failures fold):
/// `exit code 1`, `killed by signal TERM`, `timed out after 5s`...
fn reason(e: &SshError) -> String {
    match e {
        SshError::CommandFailed { status, .. } => status.to_string(),
        SshError::CommandTimeout { .. } => "timed out (stopped)".into(),
        other => crate::advice::ssh_error(other),
    }
}

fn connect_reason(e: &ConnectError) -> String {
    crate::advice::connect_error(e)
}

/// The report of a round on stderr: one line per distinct reason, with its
/// hosts folded into a node set (`node[2,5] (2): exit code 1`), in the order
/// of their first host; nothing when every host succeeded.
pub fn report(hosts: &[Host], outcomes: &[Outcome]) -> String {
    let mut by_reason: BTreeMap<(usize, String), Vec<&str>> = BTreeMap::new();
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (h, o) in hosts.iter().zip(outcomes) {
        let text = match o {
            Outcome::Ok => continue,
            Outcome::Failed(r) => r.clone(),
            Outcome::Unreachable(r) => format!("unreachable: {r}"),
            Outcome::Stopped => "stopped (interrupted)".into(),
        };
        let rank = *first.entry(text.clone()).or_insert(h.order);
        by_reason
            .entry((rank, text))
            .or_default()
            .push(&h.spec.label);
    }
    let mut s = String::new();
    for ((_, text), names) in by_reason {
        // one line per reason: multi-line reasons (stderr tails) are joined,
        // and what the hosts sent is escaped, never sent to the terminal
        let text = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(escape_control)
            .collect::<Vec<_>>()
            .join(" | ");
        s.push_str(&format!(
            "ajssh: {} ({}): {text}\n",
            escape_control(&nodeset::fold(&names)),
            names.len()
        ));
    }
    s
}

/// The exit code of a round: 130 if it was interrupted, else as a fan-out's
/// (2 if a host was unreachable, 1 if a command failed, 0).
pub fn exit_code(outcomes: &[Outcome]) -> u8 {
    if outcomes.contains(&Outcome::Stopped) {
        return exit::INTERRUPTED;
    }
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    exit::for_fanout(
        count(|o| matches!(o, Outcome::Failed(_))),
        count(|o| matches!(o, Outcome::Unreachable(_))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(names: &[&str]) -> Vec<Host> {
        let factory = crate::hosts::NodeFactory::new(Arc::new(asyncjobs_ssh::HostFormatter::new()));
        let resolver = crate::hosts::Resolver::new(&crate::args::ConnectOpts {
            config: Some("none".into()),
            user: Some("u".into()),
            ..Default::default()
        })
        .unwrap();
        let targets: Vec<_> = names
            .iter()
            .flat_map(|n| asyncjobs_ssh::targets::parse_word(n).unwrap())
            .collect();
        resolver
            .resolve(&targets)
            .unwrap()
            .specs
            .into_iter()
            .enumerate()
            .map(|(order, spec)| Host {
                order,
                node: factory.node(&spec),
                spec,
            })
            .collect()
    }

    #[test]
    fn identical_failures_fold_into_one_line_per_reason() {
        let hs = hosts(&["n1", "n2", "n3", "n4"]);
        let outcomes = [
            Outcome::Failed("exit code 1".into()),
            Outcome::Ok,
            Outcome::Failed("exit code 1".into()),
            Outcome::Unreachable("connection refused by n4:22".into()),
        ];
        assert_eq!(
            report(&hs, &outcomes),
            "ajssh: n[1,3] (2): exit code 1\n\
             ajssh: n4 (1): unreachable: connection refused by n4:22\n"
        );
        assert_eq!(exit_code(&outcomes), exit::UNREACHABLE);
        assert_eq!(exit_code(&outcomes[..3]), exit::FAILED);
        assert_eq!(exit_code(&[Outcome::Ok]), exit::OK);
        assert_eq!(report(&hs[..1], &[Outcome::Ok]), "");
    }

    #[test]
    fn a_stopped_host_makes_the_round_interrupted() {
        let hs = hosts(&["a", "b"]);
        let outcomes = [Outcome::Ok, Outcome::Stopped];
        assert_eq!(exit_code(&outcomes), exit::INTERRUPTED);
        assert_eq!(
            report(&hs, &outcomes),
            "ajssh: b (1): stopped (interrupted)\n"
        );
    }
}
