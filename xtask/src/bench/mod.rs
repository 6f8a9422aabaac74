//! `cargo xtask bench <benchmark>`: benchmarks side by side with the reference
//! tools. Each benchmark is a module with a `main(&[String])`; the shared
//! pieces (capped child processes, machine description, BENCHMARKS.md
//! sections) live here so every benchmark reports the same way.

pub(crate) mod capped;
pub(crate) mod checkout;
mod fanout;
mod interactive;
mod latency;
mod machine;
mod markdown;
pub(crate) mod pip;
mod runs;
mod scenario;
mod scheduler;
mod table;
mod verdict;

use anyhow::{bail, Result};

const USAGE: &str = "usage: cargo xtask bench <benchmark> [options]
benchmarks:
  scheduler [--quick]   the core scheduler (wide, chain, layered; 1k..1M jobs)
                        next to Python asynciojobs 0.21.3; writes BENCHMARKS.md.
                        --quick: up to 100k jobs, no Python, BENCHMARKS.md untouched
  fanout [--quick] [--window W] [--sizes N,..] [--tools T,..] [--with-bssh]
                        `true` on 10, 100, 500 loopback sshd hosts with ajssh, apssh,
                        asyncssh, parallel-ssh, clush, pdsh, xargs -P ssh (and bssh
                        when built: --with-bssh builds it); writes BENCHMARKS.md.
                        any option but --with-bssh: a partial run, BENCHMARKS.md untouched
  latency [--quick] [--rtts MS,..] [--sizes N,..] [--tools T,..] [--with-bssh]
                        `true` behind a delay proxy (0, 10, 50 ms round trip): one host
                        direct, 1, 10, 100 hosts through a gateway, with ajssh, OpenSSH
                        ssh, apssh, asyncssh (and bssh); wall time, round trips, ajssh's
                        phases; writes BENCHMARKS.md (any option but --with-bssh: not)
  interactive [--reps R] [--hosts N]
                        20 commands in one interactive ajssh session on 100 loopback
                        hosts against 20 separate runs; writes BENCHMARKS.md.
                        any option: a partial run, BENCHMARKS.md untouched
  scenario [--quick]    `ajssh scenario check` of 1k..100k-job TOML and YAML files
                        (flat, chained, fanned) and of pathological files; writes
                        BENCHMARKS.md. --quick: up to 10k, BENCHMARKS.md untouched";

/// Runs the benchmark named by the first argument.
pub fn main(args: &[String]) -> Result<()> {
    let Some((which, rest)) = args.split_first() else {
        bail!("no benchmark given\n{USAGE}");
    };
    match which.as_str() {
        "scheduler" => scheduler::main(rest),
        "fanout" => fanout::main(rest),
        "scenario" => scenario::main(rest),
        "interactive" => interactive::main(rest),
        "latency" => latency::main(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown benchmark `{other}`\n{USAGE}"),
    }
}
