//! Measures a fan-out of `true` over N loopback hosts (the test harness's sshd):
//! wall time, client CPU and peak RSS. Not a test: numbers depend on the machine.
//!
//! `cargo run --release -p asyncjobs-ssh --example fanout_probe -- 100 16`
//! (hosts, window, rounds, `close` to close each connection when its job
//! ends; window 0 = all at once).

use std::sync::Arc;
use std::time::{Duration, Instant};

use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{RawFormatter, SshJob, SshNode};
use asyncjobs_tests::Testbed;

/// (user + system) CPU seconds of this process, from /proc.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let window: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let bed = Testbed::start(n).expect("testbed");
    let quiet = Arc::new(RawFormatter::with_writers(std::io::sink(), std::io::sink()));
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let close_when_done = args.next().is_some_and(|a| a == "close");
    for round in 0..rounds {
        let nodes: Vec<SshNode> = bed
            .hosts()
            .iter()
            .map(|h| {
                SshNode::builder(h.ip.clone())
                    .port(h.port)
                    .user(bed.user())
                    .identity(bed.identity())
                    .agent(false)
                    .known_hosts_file(bed.known_hosts())
                    .formatter(quiet.clone())
                    .build()
            })
            .collect();
        let (cpu0, t0) = (cpu_secs(), Instant::now());
        let mut s = Scheduler::new()
            .jobs_window(window)
            .timeout(Duration::from_secs(120));
        for node in &nodes {
            s.add(
                SshJob::new(node)
                    .run("true")
                    .close_when_done(close_when_done),
            );
        }
        let ok = s.run();
        s.shutdown().expect("shutdown");
        let wall = t0.elapsed().as_secs_f64();
        println!(
            "round {round}: N={n} window={window} ok={ok:?} wall={wall:.3}s client_cpu={:.3}s rss={:.1}MB peak_rss={:.1}MB ssh_tasks={}",
            cpu_secs() - cpu0,
            rss_mb("VmRSS:"),
            rss_mb("VmHWM:"),
            asyncjobs_ssh::__ssh_runtime_alive_tasks()
        );
    }
}
