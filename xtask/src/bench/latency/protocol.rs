//! Protocol round trips: each client's chain of messages counted once per
//! scenario at a round trip long enough that no CPU time can reorder it.
//!
//! Why a pass of its own: the proxy counts a message one deeper than the
//! last reply delivered before it was read (see `asyncjobs_tests::DelayProxy`).
//! That is exact for a connection that carries one host, but a connection
//! shared by many hosts (every tunnel through one gateway connection, as
//! ajssh, apssh and asyncssh do) interleaves their flights as soon as the
//! servers' key-exchange CPU (a few ms per host, on this machine's 2 cores
//! for all of them) is comparable to the round trip: a message of one host
//! read right after another host's reply then counts one deeper although it
//! did not wait for it. So the count of a shared connection at 10 ms grows
//! with the load (10 hosts: 18 at 10 ms, 11 at 50 ms for the same
//! protocol), while a chain of causes does not depend on the delay. Counted
//! at 200 ms per 10 hosts behind the gateway (2 s for 100), the servers'
//! CPU fits in half a round trip and the count is the protocol's.

use std::time::Duration;

use anyhow::Result;

use super::tools::{self, Route, Scenario, Tool};
use super::{log_line, Delayed, WINDOW};
use crate::bench::fanout::farm::Farm;
use crate::bench::fanout::run;
use crate::bench::fanout::tools::Kit;

/// Cap of one counting run: 2 s round trips, 30 of them for the slowest client.
const CAP: Duration = Duration::from_secs(180);

/// The round trip a scenario is counted at.
pub fn rtt_ms(scenario: Scenario) -> u64 {
    200 * (scenario.hosts().div_ceil(10) as u64).max(1)
}

/// One client's count in one scenario.
pub struct Count {
    pub tool: Tool,
    pub scenario: Scenario,
    /// Round trips of the deepest connection, or why there is none.
    pub trips: Result<f64, String>,
}

/// Counts every client once in every scenario, each scenario behind a delay
/// proxy of its own.
pub fn count_all(
    kit: &Kit,
    farm: &Farm,
    scenarios: &[Scenario],
    clients: &[Tool],
) -> Result<Vec<Count>> {
    let mut counts = Vec::new();
    for &scenario in scenarios {
        let rtt = rtt_ms(scenario);
        let delayed = Delayed::start(farm, rtt)?;
        let hosts = scenario.hosts_of(farm);
        let route = Route {
            entry: delayed.entry.clone(),
            hosts,
            scenario,
        };
        for &tool in clients {
            let inv = tools::invocation(kit, farm, tool, &route, WINDOW, "true")?;
            let from = delayed.flows();
            let outcome = run::once_on(&inv, farm, hosts, CAP, false)?;
            log_line(scenario, rtt, tool, "count", &outcome, CAP);
            let trips = outcome.timing(CAP.as_secs()).and_then(|_| {
                delayed
                    .counted_since(from)
                    .ok_or_else(|| "no connection through the proxy".to_string())
            });
            counts.push(Count {
                tool,
                scenario,
                trips,
            });
        }
    }
    Ok(counts)
}

/// The count of `tool` in `scenario`, if it was measured.
pub fn of(counts: &[Count], tool: Tool, scenario: Scenario) -> Option<&Result<f64, String>> {
    counts
        .iter()
        .find(|c| c.tool == tool && c.scenario == scenario)
        .map(|c| &c.trips)
}

/// Rows: scenario, RTT counted at, then one column per client.
pub fn rows(counts: &[Count], clients: &[Tool]) -> Vec<Vec<String>> {
    let mut scenarios: Vec<Scenario> = Vec::new();
    for c in counts {
        if !scenarios.contains(&c.scenario) {
            scenarios.push(c.scenario);
        }
    }
    scenarios
        .into_iter()
        .map(|s| {
            let mut row = vec![s.name(), format!("{} ms", rtt_ms(s))];
            for &t in clients {
                row.push(match of(counts, t, s) {
                    Some(Ok(n)) => format!("{n:.1}"),
                    Some(Err(why)) => format!("INVALID: {why}"),
                    None => "-".into(),
                });
            }
            row
        })
        .collect()
}

/// The header of [`rows`].
pub fn header(clients: &[Tool]) -> Vec<String> {
    let mut h = vec!["scenario".to_string(), "counted at RTT".to_string()];
    h.extend(clients.iter().map(|t| t.name().to_string()));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_round_trip_grows_with_the_hosts_behind_the_gateway() {
        assert_eq!(rtt_ms(Scenario::Direct), 200);
        assert_eq!(rtt_ms(Scenario::Gateway(1)), 200);
        assert_eq!(rtt_ms(Scenario::Gateway(10)), 200);
        assert_eq!(rtt_ms(Scenario::Gateway(11)), 400);
        assert_eq!(rtt_ms(Scenario::Gateway(100)), 2000);
    }

    #[test]
    fn rows_name_every_client_and_say_why_a_count_is_missing() {
        let counts = vec![
            Count {
                tool: Tool::Ajssh,
                scenario: Scenario::Gateway(10),
                trips: Ok(9.0),
            },
            Count {
                tool: Tool::OpenSsh,
                scenario: Scenario::Gateway(10),
                trips: Err("exit 255".into()),
            },
        ];
        let r = rows(&counts, &[Tool::Ajssh, Tool::OpenSsh, Tool::Apssh]);
        assert_eq!(
            r,
            [[
                "10 hosts via gateway",
                "200 ms",
                "9.0",
                "INVALID: exit 255",
                "-"
            ]]
        );
    }
}
