//! The results table, for the terminal and for BENCHMARKS.md.

use super::results::Cell;
use super::targets::{self, Verdict};
use super::tools::Tool;
use crate::bench::runs::CellRuns;

/// `153 ms`, `1.23 s`.
pub fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// `9.1 MiB`.
pub fn kib(k: f64) -> String {
    format!("{:.1} MiB", k / 1024.0)
}

const HEADER: [&str; 11] = [
    "N",
    "tool",
    "runs",
    "median wall",
    "min–max",
    "vs ajssh",
    "client CPU",
    "sshd CPU",
    "peak RSS, largest process",
    "peak RSS, all processes",
    "status",
];

/// CPU seconds and per host; `getrusage` and `/proc` count in 10 ms ticks.
fn per_host(total: Option<f64>, n: usize) -> String {
    match total {
        None => "-".into(),
        Some(s) if s < 0.01 => "< 10 ms".into(),
        Some(s) => format!("{} ({:.1} ms/host)", secs(s), s * 1e3 / n as f64),
    }
}

fn cells_of(c: &Cell, ajssh: Option<&Cell>) -> [String; 11] {
    let dash = || "-".to_string();
    let ratio = match (c.tool, c.wall(), ajssh.and_then(Cell::wall)) {
        (Tool::Ajssh, _, _) => dash(),
        (_, Some(w), Some(a)) if a > 0.0 => format!("{:.1}x", w / a),
        _ => dash(),
    };
    let largest = c
        .max_rss()
        .map(|k| {
            if c.tool.process_per_host() {
                format!("{} (one ssh)", kib(k))
            } else {
                kib(k)
            }
        })
        .unwrap_or_else(dash);
    let all = match (c.total_rss(), c.processes()) {
        (Some(k), Some(p)) if p > 1 => format!("{} ({p} processes)", kib(k)),
        (Some(k), _) => kib(k),
        _ => dash(),
    };
    [
        c.n.to_string(),
        c.tool.name().to_string(),
        format!("{}/{}", c.runs.len(), c.planned),
        c.wall().map(secs).unwrap_or_else(dash),
        c.wall_range()
            .map(|(lo, hi)| format!("{}–{}", secs(lo), secs(hi)))
            .unwrap_or_else(dash),
        ratio,
        per_host(c.client_cpu(), c.n),
        per_host(c.sshd_cpu(), c.n),
        largest,
        all,
        match c.problem() {
            None => "ok".into(),
            Some(p) => format!("INVALID: {p}"),
        },
    ]
}

fn rows(cells: &[Cell]) -> Vec<[String; 11]> {
    cells
        .iter()
        .map(|c| {
            let aj = cells.iter().find(|a| a.tool == Tool::Ajssh && a.n == c.n);
            cells_of(c, aj)
        })
        .collect()
}

/// One line while the benchmark runs.
pub fn progress_line(c: &Cell) -> String {
    cells_of(c, None).join("  ")
}

/// Aligned columns for the terminal.
pub fn text_table(cells: &[Cell]) -> String {
    // tool and status are text
    crate::bench::table::aligned(HEADER, rows(cells), |c| c == 1 || c == 10)
}

fn markdown_table(cells: &[Cell]) -> String {
    let mut out = format!(
        "| {} |\n|--:|---|{}---|\n",
        HEADER.join(" | "),
        "--:|".repeat(8)
    );
    for r in rows(cells) {
        let escaped: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", escaped.join(" | ")));
    }
    out
}

/// What the markdown section says besides the tables.
pub struct Setting {
    pub window: usize,
    pub cap_s: u64,
    pub reps: String,
    pub machine: Vec<(&'static str, String)>,
    pub versions: Vec<(&'static str, String)>,
    pub load: String,
    /// Tools not measured, and why.
    pub skipped: Vec<String>,
}

/// The generated part of the "SSH fan-out" section.
pub fn markdown(cells: &[Cell], verdicts: &[Verdict], s: &Setting) -> String {
    let mut out = String::from(
        "How to reproduce: `cargo xtask bench fanout` (about 10 minutes; installs pdsh and GNU time \
         with apt-get when missing, builds `ajssh` in release, makes the venv; rewrites this part \
         of the section). `cargo xtask bench fanout --quick` (N = 10 and 100, 3 runs) and \
         `--sizes`, `--tools`, `--window` write nothing, for fast iteration.\n\nMachine:\n",
    );
    for (k, v) in &s.machine {
        out.push_str(&format!("- {k}: {v}\n"));
    }
    out.push_str("\nTools:\n");
    for (k, v) in &s.versions {
        out.push_str(&format!("- {k}: {v}\n"));
    }
    out.push_str(&format!(
        "\nMethod. For each N, one loopback farm from the test harness \
         (`asyncjobs_tests::Testbed`: N distinct `127.A.B.C` addresses, each with its own port, \
         16 per `sshd`; OpenSSH's defaults otherwise, so key exchange is what each client \
         negotiates). Every tool runs `true` on all N hosts as the same user with the same \
         ed25519 key, window (hosts in flight) **{w}** for every tool. First one untimed \
         validation run per tool runs `echo ajbench $SSH_CONNECTION` and must print the \
         address of every host exactly (the memory of the tool's whole process tree is sampled \
         every 10 ms during it); then {reps} timed runs per tool, the tools taking turns \
         (the order rotates each round) so that other work on this shared machine spreads over \
         all of them. A run counts only if the tool exited 0 (pdsh with `-S`, xargs: 123/124 \
         when an ssh fails; the Python drivers check every host's exit status); otherwise the \
         tool's row says INVALID and is not compared. Every run is capped at {cap} s \
         (`timeout`, which kills the whole process group). *median wall*: spawn to exit, \
         including the 2 wrappers' start (~2 ms); *client CPU*: user + system of the tool and all \
         its processes (GNU `time`); *sshd CPU*: the servers and their per-connection processes \
         (`/proc/PID/stat` with reaped children); *peak RSS, largest process*: GNU `time`'s \
         `%M` (`ru_maxrss` from `wait4`: the largest single process; for pdsh and xargs that is \
         one `ssh`, and they run up to W of them at once); *peak RSS, all processes*: the \
         highest sum of the RSS of all the tool's processes seen at one instant in the \
         validation run, never less than the largest process (shared library pages count once \
         per process). Load average (1 min) as each N started: {load} (this machine is \
         shared; the previous N's own processes still weigh on it for a minute).\n\n",
        w = s.window,
        reps = s.reps,
        cap = s.cap_s,
        load = s.load,
    ));
    out.push_str("How each tool is run:\n");
    for t in Tool::ALL {
        out.push_str(&format!("- {}: {}\n", t.name(), t.how()));
    }
    for why in &s.skipped {
        out.push_str(&format!("- not measured: {why}\n"));
    }
    out.push('\n');
    out.push_str(&markdown_table(cells));
    out.push_str("\nTargets (issue 6):\n\n");
    out.push_str(&targets::markdown(verdicts));
    out
}
