//! One run of one tool: under `timeout` (the cap; it kills the tool's whole
//! process group, which `capped` cannot: it kills only its direct child) and
//! GNU `time` (client CPU and largest process RSS from `wait4`), with the wall
//! time taken here to the millisecond and the sshd CPU from `/proc`.

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use asyncjobs_tests::Host;

use super::farm::Farm;
use super::procs::{Sampler, TreePeak};
use super::tools::Invocation;

/// Grace between `timeout`'s TERM and its KILL.
const KILL_AFTER_S: u64 = 5;
/// What the validation run executes: every host names its own address.
pub const VALIDATION_COMMAND: &str = "echo ajbench $SSH_CONNECTION";
const MARK: &str = "ajbench";

/// What a run that completed on every host measured.
#[derive(Debug, Clone)]
pub struct Timing {
    pub wall_s: f64,
    /// User + system CPU of the tool and all its processes.
    pub client_cpu_s: f64,
    /// Largest single process's peak RSS (`ru_maxrss`), KiB.
    pub max_rss_kib: f64,
    /// CPU of the sshd servers and their per-connection processes.
    pub sshd_cpu_s: f64,
    /// Sampled peak of the whole tree (validation runs only).
    pub tree: Option<TreePeak>,
    /// What the tool wrote on stderr (the latency benchmark reads ajssh's phases there).
    pub stderr: String,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Done(Timing),
    /// Some host did not run the command, or the tool failed: why.
    Invalid(String),
    /// Still running at the cap: killed.
    TimedOut,
}

impl Outcome {
    /// The timing of a run that reached every host, or why it did not
    /// (`cap_s`: the cap it was run under).
    pub fn timing(self, cap_s: u64) -> Result<Timing, String> {
        match self {
            Outcome::Done(t) => Ok(t),
            Outcome::Invalid(why) => Err(why),
            Outcome::TimedOut => Err(format!("still running at {cap_s} s: killed")),
        }
    }
}

fn drain(stream: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut s) = stream {
            // a read error leaves what was read; the exit status tells the rest
            let _ = s.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The last three lines of `text`, for error messages.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// `%U %S %M` from GNU time's output file (its last line; a first line may say
/// "Command exited with non-zero status").
fn parse_time(text: &str) -> Option<(f64, f64)> {
    let last = text.trim_end().lines().last()?;
    let v: Vec<f64> = last
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    match v[..] {
        [user, sys, rss] => Some((user + sys, rss)),
        _ => None,
    }
}

/// Which hosts (`ip:port`, as the server saw it) answered the validation command.
pub fn answered(stdout: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in stdout.lines() {
        let mut words = line.split_whitespace().skip_while(|w| !w.ends_with(MARK));
        if words.next().is_none() {
            continue;
        }
        // SSH_CONNECTION: client ip, client port, server ip, server port
        let rest: Vec<&str> = words.collect();
        if let [_, _, ip, port] = rest[..] {
            seen.insert(format!("{ip}:{port}"));
        }
    }
    seen
}

/// Checks that every host of `hosts`, and only they, answered.
pub fn check_answers(stdout: &str, hosts: &[Host]) -> Result<(), String> {
    let seen = answered(stdout);
    let wanted: BTreeSet<String> = hosts.iter().map(|h| h.address()).collect();
    let missing: Vec<&String> = wanted.difference(&seen).collect();
    let extra: Vec<&String> = seen.difference(&wanted).collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} of {} hosts did not answer{}{}",
        missing.len(),
        wanted.len(),
        missing
            .first()
            .map(|m| format!(" (e.g. {m})"))
            .unwrap_or_default(),
        if extra.is_empty() {
            String::new()
        } else {
            format!("; {} unexpected answers", extra.len())
        }
    ))
}

/// Runs `inv` once on `farm`, capped at `cap`. `validate`: check the output
/// of [`VALIDATION_COMMAND`] and sample the memory of the process tree.
pub fn once(inv: &Invocation, farm: &Farm, cap: Duration, validate: bool) -> Result<Outcome> {
    once_on(inv, farm, farm.hosts(), cap, validate)
}

/// [`once`] for a run on some of the farm's hosts: with `validate`, exactly
/// `hosts` must answer.
pub fn once_on(
    inv: &Invocation,
    farm: &Farm,
    hosts: &[Host],
    cap: Duration,
    validate: bool,
) -> Result<Outcome> {
    let time_file = farm.dir().join("bench-time");
    let mut cmd = Command::new("timeout");
    cmd.args(["-k", &KILL_AFTER_S.to_string(), &cap.as_secs().to_string()])
        .args(["/usr/bin/time", "-f", "%U %S %M", "-o"])
        .arg(&time_file)
        .arg(&inv.program)
        .args(&inv.args)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &inv.env {
        cmd.env(k, v);
    }
    farm.settle();
    let sshd_before = farm.sshd_cpu_s();
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", inv.program))?;
    let sampler = validate.then(|| Sampler::start(child.id()));
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    // bounded: `timeout` kills the tool at the cap, and KILLs it 5 s later
    let status = child.wait().context("waiting for a benchmark run")?;
    let wall_s = start.elapsed().as_secs_f64();
    let tree = sampler.map(Sampler::finish);
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    farm.settle();
    let sshd_cpu_s = farm.sshd_cpu_s() - sshd_before;
    // timeout's own codes: 124 after TERM, 137 (128 + KILL) after KILL
    if matches!(status.code(), Some(124) | Some(137)) && wall_s >= cap.as_secs_f64() {
        return Ok(Outcome::TimedOut);
    }
    if !status.success() {
        return Ok(Outcome::Invalid(format!("exit {status}: {}", tail(&err))));
    }
    if validate {
        if let Err(why) = check_answers(&out, hosts) {
            return Ok(Outcome::Invalid(why));
        }
    }
    let text = std::fs::read_to_string(&time_file).unwrap_or_default();
    let Some((client_cpu_s, max_rss_kib)) = parse_time(&text) else {
        return Ok(Outcome::Invalid(format!(
            "no usage from /usr/bin/time: {text:?}"
        )));
    };
    Ok(Outcome::Done(Timing {
        wall_s,
        client_cpu_s,
        max_rss_kib,
        sshd_cpu_s,
        tree,
        stderr: err,
    }))
}

#[cfg(test)]
mod tests {
    use super::{answered, parse_time};

    #[test]
    fn answers_are_read_from_any_tool_prefix() {
        let out = "127.1.0.1: ajbench 127.1.0.1 5000 127.1.0.1 2222\n\
                   127.1.0.2:ajbench 127.1.0.1 5001 127.1.0.2 2223\n\
                   ajbench 127.1.0.1 5002 127.1.0.3 2224\n\
                   noise\n\
                   ajbench truncated\n";
        let seen: Vec<String> = answered(out).into_iter().collect();
        assert_eq!(seen, ["127.1.0.1:2222", "127.1.0.2:2223", "127.1.0.3:2224"]);
    }

    #[test]
    fn time_output_is_read_from_its_last_line() {
        assert_eq!(
            parse_time("0.10 0.05 9000\n"),
            Some((0.15000000000000002, 9000.0))
        );
        let failed = "Command exited with non-zero status 1\n0.50 0.25 100\n";
        assert_eq!(parse_time(failed), Some((0.75, 100.0)));
        assert_eq!(parse_time("Command terminated by signal 9\n"), None);
    }
}
