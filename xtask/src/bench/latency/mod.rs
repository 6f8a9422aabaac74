//! `cargo xtask bench latency`: one command (`true`) over a network with
//! latency, emulated on loopback by the harness's delay proxy
//! (`asyncjobs_tests::DelayProxy`, a round trip split evenly between the two
//! directions, TCP's handshake included) in front of the first host of a
//! loopback sshd farm. Scenarios: that host directly; one, 10 and 100 hosts
//! next to it with it as the gateway (`-J`); at 0, 10 and 50 ms round trip.
//! Clients side by side in one run, taking turns: ajssh, OpenSSH's `ssh`,
//! apssh, asyncssh, bssh when built. Reported: wall time, round trips
//! ((wall − CPU) / RTT, and counted from the message flow by the proxy) and
//! ajssh's own phases; every run validated and capped in time.

mod cells;
mod protocol;
mod report;
mod tools;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use asyncjobs_tests::{Delay, DelayProxy};

use super::fanout::farm::Farm;
use super::fanout::run::{self, Outcome, VALIDATION_COMMAND};
use super::fanout::setup;
use super::fanout::tools::Kit;
use super::{checkout, fanout, machine};

use cells::{Cell, Run};
use tools::{Route, Scenario, Tool};

/// Wall-clock cap of one run of one client.
const CAP: Duration = Duration::from_secs(60);
/// Hosts in flight: every host of the largest scenario at once, for every client.
const WINDOW: usize = 100;
const RTTS_MS: [u64; 3] = [0, 10, 50];

struct Options {
    rtts: Vec<u64>,
    scenarios: Vec<Scenario>,
    tools: Vec<Tool>,
    reps: usize,
    with_bssh: bool,
    write: bool,
}

const OPTIONS_HELP: &str = "options of `bench latency`: --quick (1 timed run each instead of 3), \
    --rtts MS[,MS...] (default 0,10,50), --sizes N[,N...] (hosts via the gateway, default 1,10,100; \
    0 drops the direct host), --tools T[,T...] (ajssh,ssh,apssh,asyncssh,bssh), --with-bssh \
    (build bssh with cargo install when missing); any of them but --with-bssh: BENCHMARKS.md untouched";

fn list<T: std::str::FromStr>(v: &str, what: &str) -> Result<Vec<T>> {
    v.split(',')
        .map(|s| s.trim().parse::<T>().ok())
        .collect::<Option<Vec<T>>>()
        .with_context(|| format!("{what}: `{v}` is not a list of numbers\n{OPTIONS_HELP}"))
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options {
        rtts: RTTS_MS.to_vec(),
        scenarios: Scenario::ALL.to_vec(),
        tools: Tool::ALL.to_vec(),
        reps: 3,
        with_bssh: false,
        write: true,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n{OPTIONS_HELP}"))
        };
        match arg.as_str() {
            "--with-bssh" => {
                opts.with_bssh = true;
                continue;
            }
            "--quick" => opts.reps = 1,
            "--rtts" => {
                let v = list::<u64>(&value("--rtts")?, "--rtts")?;
                if v.iter().any(|&ms| ms > 1000) {
                    bail!("--rtts: at most 1000 ms");
                }
                opts.rtts = v;
            }
            "--sizes" => {
                let v = list::<usize>(&value("--sizes")?, "--sizes")?;
                if v.iter().any(|&n| n > 500) {
                    bail!("--sizes: at most 500 hosts");
                }
                opts.scenarios = v
                    .into_iter()
                    .map(|n| match n {
                        0 => Scenario::Direct,
                        n => Scenario::Gateway(n),
                    })
                    .collect();
            }
            "--tools" => {
                let v = value("--tools")?;
                opts.tools = v
                    .split(',')
                    .map(|name| {
                        Tool::ALL
                            .into_iter()
                            .find(|t| t.name() == name.trim())
                            .with_context(|| format!("--tools: unknown tool `{name}`"))
                    })
                    .collect::<Result<Vec<_>>>()?;
            }
            other => bail!("unknown option `{other}`\n{OPTIONS_HELP}"),
        }
        opts.write = false;
    }
    Ok(opts)
}

/// The delay proxy in front of the first host, and what it has relayed.
struct Delayed {
    proxy: Option<DelayProxy>,
    entry: (String, u16),
}

impl Delayed {
    fn start(farm: &Farm, rtt_ms: u64) -> Result<Delayed> {
        let first = &farm.hosts()[0];
        if rtt_ms == 0 {
            return Ok(Delayed {
                proxy: None,
                entry: (first.ip.clone(), first.port),
            });
        }
        let target: SocketAddr = first
            .address()
            .parse()
            .context("the first host's address")?;
        let proxy = DelayProxy::start(target, Delay::round_trip(Duration::from_millis(rtt_ms)))
            .context("starting the delay proxy")?;
        farm.add_known_host(&format!(
            "{} {}",
            proxy.known_hosts_name(),
            farm.host_public_key()
        ))?;
        let entry = (proxy.addr().ip().to_string(), proxy.addr().port());
        Ok(Delayed {
            proxy: Some(proxy),
            entry,
        })
    }

    fn flows(&self) -> usize {
        self.proxy.as_ref().map_or(0, |p| p.flows().len())
    }

    /// The deepest flow of those relayed since `from`, in round trips.
    fn counted_since(&self, from: usize) -> Option<f64> {
        let flows = self.proxy.as_ref()?.flows();
        flows
            .get(from..)?
            .iter()
            .map(|f| f.round_trips())
            .reduce(f64::max)
    }
}

fn log_run(c: &Cell, what: &str, outcome: &Outcome) {
    log_line(c.scenario, c.rtt_ms, c.tool, what, outcome, CAP);
}

/// One line on stderr per run, as the benchmark goes.
fn log_line(
    scenario: Scenario,
    rtt_ms: u64,
    tool: Tool,
    what: &str,
    outcome: &Outcome,
    cap: Duration,
) {
    let text = match outcome {
        Outcome::Done(t) => format!("{:.3} s, CPU {:.2} s", t.wall_s, t.client_cpu_s),
        Outcome::Invalid(why) => format!("INVALID: {why}"),
        Outcome::TimedOut => format!("killed at {} s", cap.as_secs()),
    };
    eprintln!(
        "  {} at {rtt_ms} ms, {:<9} {what}: {text}",
        scenario.name(),
        tool.name()
    );
}

/// One scenario at one round trip: every client, validated then timed in turns.
fn measure(
    kit: &Kit,
    farm: &Farm,
    delayed: &Delayed,
    scenario: Scenario,
    rtt_ms: u64,
    opts: &Options,
) -> Result<Vec<Cell>> {
    let hosts = scenario.hosts_of(farm);
    let route = Route {
        entry: delayed.entry.clone(),
        hosts,
        scenario,
    };
    let mut cells: Vec<Cell> = opts
        .tools
        .iter()
        .map(|&t| Cell::new(t, scenario, rtt_ms, opts.reps))
        .collect();
    for cell in &mut cells {
        let inv = tools::invocation(kit, farm, cell.tool, &route, WINDOW, VALIDATION_COMMAND)?;
        let outcome = run::once_on(&inv, farm, hosts, CAP, true)?;
        log_run(cell, "validation", &outcome);
        cell.validation = outcome.timing(CAP.as_secs()).map(|_| ());
    }
    for round in 0..opts.reps {
        let count = cells.len();
        for k in 0..count {
            let cell = &mut cells[(k + round) % count];
            if cell.validation.is_err() || !cell.failures.is_empty() {
                continue;
            }
            let inv = tools::invocation(kit, farm, cell.tool, &route, WINDOW, "true")?;
            let from = delayed.flows();
            let outcome = run::once_on(&inv, farm, hosts, CAP, false)?;
            log_run(cell, &format!("run {}/{}", round + 1, opts.reps), &outcome);
            match outcome.timing(CAP.as_secs()) {
                Ok(t) => cell.runs.push(Run {
                    wall_s: t.wall_s,
                    cpu_s: t.client_cpu_s,
                    sshd_cpu_s: t.sshd_cpu_s,
                    counted: delayed.counted_since(from),
                    phases: if cell.tool == Tool::Ajssh {
                        cells::phases_of(&t.stderr)
                    } else {
                        Vec::new()
                    },
                }),
                Err(why) => cell.failures.push(why),
            }
        }
    }
    for c in &cells {
        eprintln!("{}", report::progress_line(c));
    }
    Ok(cells)
}

/// Runs the benchmark; see the module doc.
pub fn main(args: &[String]) -> Result<()> {
    let mut opts = parse(args)?;
    let root = checkout::workspace_root();
    let (kit, versions) = setup::prepare(&root, opts.with_bssh)?;
    let skipped = fanout::drop_missing(&mut opts.tools, Tool::name, |t| match t {
        Tool::Bssh => kit.bssh.as_ref().err().cloned(),
        _ => None,
    });
    let largest = opts.scenarios.iter().map(|s| s.hosts()).max().unwrap_or(1);
    let load_before = machine::load_average();
    eprintln!(
        "starting {} loopback sshd hosts (load average {load_before})...",
        largest + 1
    );
    let farm = Farm::start(largest + 1)?;
    let mut cells = Vec::new();
    for &rtt in &opts.rtts {
        let delayed = Delayed::start(&farm, rtt)?;
        for &scenario in &opts.scenarios {
            cells.extend(measure(&kit, &farm, &delayed, scenario, rtt, &opts)?);
        }
    }
    eprintln!("counting protocol round trips (one run per client, long round trips)...");
    let counts = protocol::count_all(&kit, &farm, &opts.scenarios, &opts.tools)?;
    let load_after = machine::load_average();
    let verdicts = report::evaluate(&cells, &counts);
    println!("{}", report::text_table(&cells));
    println!("ajssh's phases (median, and in round trips):");
    println!("{}", report::phases_text(&cells));
    println!("protocol round trips (counted at a long round trip):");
    println!("{}", report::counts_text(&counts, &opts.tools));
    println!("{}", crate::bench::verdict::text("issue 14", &verdicts));
    println!("load average: {load_before} before, {load_after} after");
    if !opts.write {
        println!("(partial run: BENCHMARKS.md not written)");
        return Ok(());
    }
    let body = markdown(
        &cells,
        &counts,
        &opts.tools,
        &verdicts,
        &versions,
        &skipped,
        &load_before,
        &load_after,
    );
    let path = root.join("BENCHMARKS.md");
    super::markdown::update(&path, "SSH over latency", "latency", &body)?;
    println!("wrote the SSH over latency section of {}", path.display());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn markdown(
    cells: &[Cell],
    counts: &[protocol::Count],
    clients: &[Tool],
    verdicts: &[crate::bench::verdict::Verdict],
    versions: &[(&'static str, String)],
    skipped: &[String],
    load_before: &str,
    load_after: &str,
) -> String {
    let mut out = String::from(
        "How to reproduce: `cargo xtask bench latency` (a few minutes after the builds; the same \
         set-up as `bench fanout`: release `ajssh`, the Python venv; `--with-bssh` adds bssh; \
         rewrites this part of the section). `--quick`, `--rtts`, `--sizes`, `--tools` write \
         nothing.\n\nMachine:\n",
    );
    for (k, v) in machine::describe() {
        out.push_str(&format!("- {k}: {v}\n"));
    }
    out.push_str(&format!(
        "- load average (1, 5, 15 min): {load_before} before the run, {load_after} after \
         (a machine shared with other work)\n\nClients:\n"
    ));
    for (k, v) in versions {
        if !["pdsh", "xargs"].contains(k) {
            out.push_str(&format!("- {k}: {v}\n"));
        }
    }
    for why in skipped {
        out.push_str(&format!("- not measured: {why}\n"));
    }
    out.push_str(&format!(
        "\nMethod. One loopback farm of the test harness (`asyncjobs_tests::Testbed`, OpenSSH \
         sshd, 101 hosts). The first host is reached through the harness's delay proxy \
         (`asyncjobs_tests::DelayProxy`: a loopback TCP relay that holds each chunk for half \
         the round trip in each direction, order kept, and emulates TCP's handshake, so that \
         the connect costs its round trip as on a network); at 0 ms the clients reach it \
         directly. *1 host, direct*: `true` on that host; *N hosts via gateway*: `true` on N \
         other hosts of the farm, reached through that first host as the gateway (`-J`), so \
         only the client-to-gateway path has the latency, as for a testbed's front node. \
         Every client runs with the same user, ed25519 key and known_hosts, window {WINDOW} \
         (every host at once). First one untimed validation run per client runs \
         `echo ajbench $SSH_CONNECTION` and must print the address of every host exactly; \
         then the timed runs, the clients taking turns; each run capped at {cap} s. \
         *round trips (wall − CPU) / RTT*: the median over the runs of the wall time less the \
         CPU time of all the client's processes (start-up, key exchange maths), in round \
         trips; *round trips counted*: the deepest chain of messages the proxy relayed for the \
         run (a reply that needed what the client sent after the server's previous message is \
         one round trip deeper; the lowest of the runs; see `tests/src/delay.rs`), a count \
         that does not depend on the machine's speed. For N hosts through OpenSSH, each `ssh` \
         has its own gateway connection: the deepest is shown.\n\nHow each client is run:\n",
        cap = CAP.as_secs(),
    ));
    for t in Tool::ALL {
        out.push_str(&format!("- {}: {}\n", t.name(), t.how()));
    }
    out.push('\n');
    out.push_str(&report::markdown_table(cells));
    out.push_str(
        "\najssh's phases (from `ajssh -v`; median time, and in round trips; for the host that \
         ran the command, whose tcp phase through a gateway includes the gateway's own \
         connection and the tunnel):\n\n",
    );
    out.push_str(&report::phases_markdown(cells));
    out.push_str(
        "\nProtocol round trips: each client's deepest chain of messages, counted in one run \
         per scenario behind a delay proxy whose round trip (200 ms per 10 hosts behind the \
         gateway) is long enough for the servers' CPU time to fit in half of it. The per-RTT \
         counts above are exact for a connection that carries one host; a connection shared \
         by every host behind the gateway (ajssh, apssh, asyncssh) interleaves the hosts' \
         flights when the servers' key exchanges on this 2-core machine take as long as a \
         round trip, and a message of one host read after another host's reply then counts \
         one deeper (see `xtask/src/bench/latency/protocol.rs`); a chain of causes does not \
         depend on the delay, so the protocol's is counted where nothing can reorder it:\n\n",
    );
    out.push_str(&report::counts_markdown(counts, clients));
    out.push_str("\nTargets (issue 14):\n\n");
    out.push_str(&crate::bench::verdict::markdown(verdicts));
    out
}
