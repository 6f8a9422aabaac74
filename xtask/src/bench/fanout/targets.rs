//! Issue 6's targets, checked against the cells (every verdict is computed
//! from what was measured; an invalid peer cannot be beaten and is named).

use super::report::{kib, secs};
use super::results::Cell;
use super::tools::Tool;
use crate::bench::runs::CellRuns;
use crate::bench::verdict::verdict;
pub use crate::bench::verdict::{markdown, Verdict};

fn find(cells: &[Cell], tool: Tool, n: usize) -> Option<&Cell> {
    cells.iter().find(|c| c.tool == tool && c.n == n)
}

fn sizes(cells: &[Cell]) -> Vec<usize> {
    let mut s: Vec<usize> = cells.iter().map(|c| c.n).collect();
    s.dedup();
    s
}

/// ajssh's value and each valid peer's at size `n`: (ok, text).
fn compare(
    cells: &[Cell],
    n: usize,
    peers: &[Tool],
    value: impl Fn(&Cell) -> Option<f64>,
    ok: impl Fn(f64, f64) -> bool,
    show: impl Fn(f64) -> String,
) -> Option<(bool, String)> {
    let aj = find(cells, Tool::Ajssh, n)?;
    let Some(a) = aj.valid().then(|| value(aj)).flatten() else {
        return Some((false, format!("N={n}: ajssh run not valid")));
    };
    let mut all_ok = true;
    let mut parts = vec![format!("ajssh {}", show(a))];
    for &p in peers {
        let Some(cell) = find(cells, p, n) else {
            continue;
        };
        match cell.valid().then(|| value(cell)).flatten() {
            Some(v) => {
                all_ok &= ok(a, v);
                parts.push(format!("{} {} ({:.1}x)", p.name(), show(v), v / a));
            }
            None => parts.push(format!("{} invalid", p.name())),
        }
    }
    Some((all_ok, format!("N={n}: {}", parts.join(", "))))
}

const PEERS: [Tool; 7] = [
    Tool::Apssh,
    Tool::ParallelSsh,
    Tool::Pdsh,
    Tool::Xargs,
    Tool::Asyncssh,
    Tool::Clush,
    Tool::Bssh,
];

/// Every target of the benchmark paragraph.
pub fn evaluate(cells: &[Cell]) -> Vec<Verdict> {
    let fastest = sizes(cells)
        .into_iter()
        .filter_map(|n| compare(cells, n, &PEERS, Cell::wall, |a, v| a < v, secs))
        .collect();
    let twice = compare(
        cells,
        100,
        &[Tool::Apssh, Tool::ParallelSsh],
        Cell::wall,
        |a, v| v >= 2.0 * a,
        secs,
    )
    .into_iter()
    .collect();
    let memory = sizes(cells)
        .into_iter()
        .filter_map(|n| compare(cells, n, &PEERS, Cell::total_rss, |a, v| a < v, kib))
        .collect();
    vec![
        verdict("ajssh fastest at every N (median wall)", fastest),
        verdict(
            "ajssh at least 2x faster than apssh and parallel-ssh at N=100",
            twice,
        ),
        verdict(
            "ajssh lowest memory of all (peak RSS of all the tool's processes), every N",
            memory,
        ),
    ]
}

/// For the terminal.
pub fn text(verdicts: &[Verdict]) -> String {
    crate::bench::verdict::text("issue 6", verdicts)
}

#[cfg(test)]
mod tests {
    use super::evaluate;
    use crate::bench::fanout::procs::TreePeak;
    use crate::bench::fanout::results::Cell;
    use crate::bench::fanout::run::{Outcome, Timing};
    use crate::bench::fanout::tools::Tool;
    use crate::bench::verdict::Status;

    fn cell(tool: Tool, n: usize, wall_s: f64, kib: u64) -> Cell {
        let mut c = Cell::new(tool, n, 1);
        c.validation = Ok(TreePeak { kib, processes: 1 });
        c.add(
            Outcome::Done(Timing {
                wall_s,
                client_cpu_s: 0.0,
                max_rss_kib: kib as f64,
                sshd_cpu_s: 0.0,
                tree: None,
                stderr: String::new(),
            }),
            120,
        );
        c
    }

    #[test]
    fn a_faster_peer_misses_the_target_and_an_invalid_peer_is_named_not_compared() {
        let mut broken = cell(Tool::Pdsh, 100, 0.1, 100);
        broken.add(
            Outcome::Invalid("3 of 100 hosts did not answer".into()),
            120,
        );
        let cells = vec![
            cell(Tool::Ajssh, 100, 1.0, 8000),
            cell(Tool::Apssh, 100, 2.5, 40000),
            cell(Tool::ParallelSsh, 100, 0.9, 30000),
            broken,
        ];
        let v = evaluate(&cells);
        assert_eq!(v[0].status, Status::Missed, "{}", v[0].detail);
        assert!(v[0].detail.contains("pdsh invalid"), "{}", v[0].detail);
        // 2.5x apssh but parallel-ssh is faster
        assert_eq!(v[1].status, Status::Missed);
        assert_eq!(v[2].status, Status::Met, "{}", v[2].detail);
    }

    #[test]
    fn an_invalid_ajssh_run_meets_no_target() {
        let mut aj = cell(Tool::Ajssh, 10, 0.1, 8000);
        aj.add(Outcome::TimedOut, 120);
        let cells = vec![aj, cell(Tool::Xargs, 10, 5.0, 90000)];
        assert!(evaluate(&cells).iter().all(|v| v.status != Status::Met));
    }
}
