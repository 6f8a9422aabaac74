//! `cargo xtask bench scenario`: how long `ajssh scenario check` takes to
//! load, fan out, check and print scenario files of 1k to 100k jobs (TOML
//! and apssh YAML; flat, chained, and fanned over a node set), with the
//! cost per job; then pathological files (deep nesting, a huge string, YAML
//! alias bombs, `/dev/zero`), each of which must be refused quickly and in
//! little memory. Each file is loaded by a fresh release-built process; its
//! peak RSS is read from /proc while it runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::{checkout, machine, markdown, table};

const USAGE: &str = "usage: cargo xtask bench scenario [--quick]
  --quick: up to 10k jobs, BENCHMARKS.md untouched";

/// A run longer than this is killed and reported.
const CAP: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No requirement.
    Flat,
    /// Each job requires the previous one.
    Chained,
    /// Three jobs fanned over n/3 nodes, paired node by node.
    Fanned,
}

impl Shape {
    const ALL: [Shape; 3] = [Shape::Flat, Shape::Chained, Shape::Fanned];
    fn name(self) -> &'static str {
        match self {
            Shape::Flat => "flat",
            Shape::Chained => "chained",
            Shape::Fanned => "fanned",
        }
    }
}

/// A scenario of `n` jobs on one node, in TOML.
fn toml_text(n: usize, shape: Shape) -> String {
    let mut s = String::from("[nodes.n]\nhost = \"127.0.0.1\"\n\n");
    if shape == Shape::Fanned {
        let k = (n / 3).max(1);
        let _ = write!(s, "[nodes.\"h[1-{k}]\"]\nhost = \"127.0.0.1\"\n\n");
        for (i, id) in ["deploy", "run", "collect"].iter().enumerate() {
            let _ = write!(s, "[[job]]\nid = \"{id}\"\nnodes = \"h[1-{k}]\"\n");
            if i > 0 {
                let _ = writeln!(s, "requires = \"{}\"", ["deploy", "run"][i - 1]);
            }
            s.push_str("run = \"echo {node}\"\n\n");
        }
        return s;
    }
    for i in 0..n {
        let _ = write!(
            s,
            "[[job]]\nid = \"j{i}\"\nnode = \"n\"\nrun = \"true {i}\"\n"
        );
        if shape == Shape::Chained && i > 0 {
            let _ = writeln!(s, "requires = \"j{}\"", i - 1);
        }
    }
    s
}

/// The same in apssh's YAML.
fn yaml_text(n: usize, shape: Shape) -> String {
    let mut s = String::from("nodes:\n  - id: n\n    hostname: 127.0.0.1\n");
    if shape == Shape::Fanned {
        let k = (n / 3).max(1);
        let _ = write!(s, "  - id: h[1-{k}]\n    hostname: 127.0.0.1\njobs:\n");
        for (i, id) in ["deploy", "run", "collect"].iter().enumerate() {
            let _ = write!(s, "  - id: {id}\n    nodes: h[1-{k}]\n");
            if i > 0 {
                let _ = writeln!(s, "    required: {}", ["deploy", "run"][i - 1]);
            }
            s.push_str("    commands:\n      - type: Run\n        command: echo {node}\n");
        }
        return s;
    }
    s.push_str("jobs:\n");
    for i in 0..n {
        let _ = write!(
            s,
            "  - id: j{i}\n    node: n\n    commands:\n      - type: Run\n        command: true {i}\n"
        );
        if shape == Shape::Chained && i > 0 {
            let _ = writeln!(s, "    required: j{}", i - 1);
        }
    }
    s
}

/// What one `scenario check` cost.
struct Measure {
    secs: f64,
    peak_kib: u64,
    code: Option<i32>,
    stderr: String,
}

fn hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Runs `ajssh scenario check FILE` (stdout discarded), sampling its peak RSS.
fn check(ajssh: &Path, file: &Path) -> Result<Measure> {
    let err_file = tempfile::NamedTempFile::new()?;
    let start = Instant::now();
    let mut child = Command::new(ajssh)
        .args(["scenario", "check"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(err_file.reopen()?)
        .spawn()
        .context("spawning ajssh")?;
    let mut peak = 0;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if let Some(k) = hwm_kib(child.id()) {
            peak = peak.max(k);
        }
        if start.elapsed() > CAP {
            let _ = child.kill();
            child.wait()?;
            bail!(
                "`ajssh scenario check {}` ran over {CAP:?}: killed",
                file.display()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let secs = start.elapsed().as_secs_f64();
    let stderr = std::fs::read_to_string(err_file.path()).unwrap_or_default();
    Ok(Measure {
        secs,
        peak_kib: peak,
        code: status.code(),
        stderr,
    })
}

/// The best of `runs` (time), the highest peak.
fn best_of(ajssh: &Path, file: &Path, runs: usize) -> Result<Measure> {
    let mut best: Option<Measure> = None;
    for _ in 0..runs {
        let m = check(ajssh, file)?;
        if m.code != Some(0) {
            bail!(
                "`ajssh scenario check {}` failed: {}",
                file.display(),
                m.stderr
            );
        }
        best = Some(match best {
            Some(b) if b.secs <= m.secs => Measure {
                peak_kib: b.peak_kib.max(m.peak_kib),
                ..b
            },
            Some(b) => Measure {
                peak_kib: b.peak_kib.max(m.peak_kib),
                ..m
            },
            None => m,
        });
    }
    best.context("no run")
}

fn build_ajssh(root: &Path) -> Result<PathBuf> {
    eprintln!("building ajssh (release)...");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "-p", "ajssh", "--bin", "ajssh"])
        .args(["--message-format", "json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .output()
        .context("cargo build of ajssh")?;
    if !out.status.success() {
        bail!("cargo build of ajssh failed");
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["target"]["name"] == "ajssh")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo build did not report the ajssh executable")
}

/// The pathological inputs: (name, file name, content); `/dev/zero` is read as is.
fn hostile() -> Vec<(&'static str, &'static str, String)> {
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        let _ = writeln!(bomb, "a{i}: &a{i} [{refs}]");
    }
    bomb.push_str("nodes: *a9\njobs: []\n");
    let wide_anchor = vec!["\"x\""; 5000].join(",");
    let wide_refs = vec!["*a"; 5000].join(",");
    vec![
        (
            "TOML nested 100,000 deep (200 KB)",
            "deep.toml",
            format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "YAML nested 100,000 deep (200 KB)",
            "deep.yaml",
            format!(
                "nodes: {}{}\njobs: []\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        ),
        (
            "TOML string of 50 MB on one line",
            "bigstr.toml",
            format!("label = \"{}\"\n", "a".repeat(50 << 20)),
        ),
        ("YAML billion laughs (10 levels of 9)", "bomb.yaml", bomb),
        (
            "YAML 5,000 aliases of a 5,000-item anchor (60 KB)",
            "wide.yaml",
            format!("a: &a [{wide_anchor}]\nnodes: [{wide_refs}]\njobs: []\n"),
        ),
        ("a 100 MB file", "huge.toml", "# padding\n".repeat(10 << 20)),
    ]
}

/// Runs the benchmark.
pub fn main(args: &[String]) -> Result<()> {
    let mut quick = false;
    for a in args {
        match a.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown option `{other}`\n{USAGE}"),
        }
    }
    let root = checkout::workspace_root();
    let ajssh = build_ajssh(&root)?;
    let dir = tempfile::tempdir()?;
    let sizes: &[usize] = if quick {
        &[1_000, 10_000]
    } else {
        &[1_000, 10_000, 100_000]
    };
    let mut rows: Vec<[String; 7]> = Vec::new();
    for (format, ext) in [("TOML", "toml"), ("YAML", "yaml")] {
        for shape in Shape::ALL {
            for &n in sizes {
                let text = if ext == "toml" {
                    toml_text(n, shape)
                } else {
                    yaml_text(n, shape)
                };
                let file = dir.path().join(format!("{}-{n}.{ext}", shape.name()));
                std::fs::write(&file, &text)?;
                let jobs = if shape == Shape::Fanned {
                    3 * (n / 3).max(1)
                } else {
                    n
                };
                let m = best_of(&ajssh, &file, if n >= 100_000 { 2 } else { 3 })?;
                let row = [
                    format.to_string(),
                    shape.name().to_string(),
                    jobs.to_string(),
                    format!("{:.1} MB", text.len() as f64 / 1e6),
                    format!("{:.3} s", m.secs),
                    format!("{:.1} µs", m.secs * 1e6 / jobs as f64),
                    format!("{:.0} MB", m.peak_kib as f64 / 1024.0),
                ];
                eprintln!("{}", row.join("  "));
                rows.push(row);
            }
        }
    }
    let header = [
        "format",
        "shape",
        "jobs",
        "file",
        "check time",
        "per job",
        "peak RSS",
    ];
    let loads = table::aligned(header, rows.clone(), |c| c < 2);
    let mut bad_rows: Vec<[String; 4]> = Vec::new();
    let mut inputs: Vec<(&str, PathBuf)> = Vec::new();
    for (name, file, text) in hostile() {
        let path = dir.path().join(file);
        std::fs::write(&path, text)?;
        inputs.push((name, path));
    }
    inputs.push(("/dev/zero (never ends)", PathBuf::from("/dev/zero")));
    for (name, path) in inputs {
        let m = check(&ajssh, &path)?;
        if m.code == Some(0) {
            bail!("{name}: accepted, but it must be refused");
        }
        let msg = m
            .stderr
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("ajssh: error: ")
            .replace(&format!("{}/", dir.path().display()), "");
        let row = [
            name.to_string(),
            format!("{:.3} s", m.secs),
            format!("{:.0} MB", m.peak_kib as f64 / 1024.0),
            msg,
        ];
        eprintln!("{}", row.join("  "));
        bad_rows.push(row);
    }
    let refused = table::aligned(
        ["input", "time", "peak RSS", "error"],
        bad_rows.clone(),
        |c| c == 0 || c == 3,
    );
    println!("{loads}\n\n{refused}");
    if quick {
        return Ok(());
    }
    let mut body = String::from(
        "`ajssh scenario check FILE` (read, fan out, check every requirement, print the plan; \
         no connection) in a fresh release-built process per file, best of 3 runs (2 at 100k); \
         peak RSS sampled from /proc. Flat: jobs without requirements; chained: each job \
         requires the previous one; fanned: three jobs (`deploy`, `run`, `collect`) over a \
         node set of n/3 nodes, paired node by node. Reproduce with `cargo xtask bench scenario`.\n\n",
    );
    for (k, v) in machine::describe() {
        let _ = writeln!(body, "- {k}: {v}");
    }
    let _ = writeln!(
        body,
        "- load average at the end: {}",
        machine::load_average()
    );
    if let Some(c) = checkout::commit(&root, &["asyncjobs-ssh"]) {
        let _ = writeln!(body, "- asyncjobs-ssh at {c}");
    }
    body.push_str("\n| format | shape | jobs | file | check time | per job | peak RSS |\n|---|---|--:|--:|--:|--:|--:|\n");
    for r in &rows {
        let _ = writeln!(body, "| {} |", r.join(" | "));
    }
    body.push_str("\nPathological files, each refused (exit 64) with the error shown:\n\n| input | time | peak RSS | error |\n|---|--:|--:|---|\n");
    for r in &bad_rows {
        let _ = writeln!(
            body,
            "| {} | {} | {} | {} |",
            r[0],
            r[1],
            r[2],
            r[3].replace('|', "\\|")
        );
    }
    markdown::update(
        &root.join("BENCHMARKS.md"),
        "Scenario loading",
        "scenario",
        &body,
    )?;
    eprintln!("wrote BENCHMARKS.md (section Scenario loading)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_scenarios_have_the_jobs_asked_for() {
        let t = toml_text(4, Shape::Chained);
        assert_eq!(t.matches("[[job]]").count(), 4);
        assert_eq!(t.matches("requires").count(), 3);
        let y = yaml_text(4, Shape::Flat);
        assert_eq!(y.matches("  - id: j").count(), 4);
        assert!(toml_text(9, Shape::Fanned).contains("nodes = \"h[1-3]\""));
        assert!(yaml_text(9, Shape::Fanned).contains("required: run"));
    }
}
