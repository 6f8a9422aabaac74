//! `cargo xtask bench interactive`: 20 commands on 100 loopback sshd hosts
//! (the test harness's farm), given to one interactive `ajssh` session on
//! its stdin, one after the other, against 20 separate `ajssh ... -- CMD`
//! runs. Each command is timed from the moment it is written to the session
//! until every host's output line has been read; the separate runs from
//! spawn to exit. The per-command cost after the first (connections open) is
//! reported as a ratio to a fresh fan-out (target: under 10%). Every output
//! is checked: one line per host, with the command's own marker.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use asyncjobs_tests::Testbed;
use serde_json::Value;

use super::capped::{self, Capped};
use super::{checkout, machine, markdown, table};

/// Hosts in the farm.
const HOSTS: usize = 100;
/// Commands per session, and separate runs.
const COMMANDS: usize = 20;
/// Cap of one separate run, of one command in the session, of the build.
const CAP: Duration = Duration::from_secs(120);
const BUILD_CAP: Duration = Duration::from_secs(1800);
/// The target: a command on open connections costs less than this share of a fresh fan-out.
const TARGET_RATIO: f64 = 0.10;

const OPTIONS_HELP: &str = "options of `bench interactive`: --reps R (sessions and series \
    of separate runs, default 3), --hosts N (default 100); any of them: BENCHMARKS.md untouched";

struct Options {
    reps: usize,
    hosts: usize,
    write: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options {
        reps: 3,
        hosts: HOSTS,
        write: true,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |name: &str, max: usize| -> Result<usize> {
            let v = it
                .next()
                .with_context(|| format!("{name} needs a value\n{OPTIONS_HELP}"))?;
            v.parse()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .with_context(|| format!("{name}: `{v}` is not a number in 1..={max}"))
        };
        match arg.as_str() {
            "--reps" => opts.reps = number("--reps", 20)?,
            "--hosts" => opts.hosts = number("--hosts", 1000)?,
            other => bail!("unknown option `{other}`\n{OPTIONS_HELP}"),
        }
        opts.write = false;
    }
    Ok(opts)
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo build --release -p ajssh --bin ajssh`; the executable.
fn build_ajssh(root: &Path) -> Result<PathBuf> {
    eprintln!("building ajssh (release)...");
    let mut cmd = cargo();
    cmd.current_dir(root)
        .args(["build", "--release", "-p", "ajssh", "--bin", "ajssh"])
        .args(["--message-format", "json-render-diagnostics"]);
    let out = match capped::run(cmd, BUILD_CAP).context("cargo build of ajssh")? {
        Capped::Done(out) => out,
        Capped::TimedOut => bail!("cargo build of ajssh took over {BUILD_CAP:?}: killed"),
    };
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["target"]["name"] == "ajssh")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo build did not report the ajssh executable")
}

/// `ajssh` preset for the farm: its targets, user, key and known_hosts.
fn ajssh(exe: &Path, bed: &Testbed, targets: &Path) -> Command {
    let mut c = Command::new(exe);
    c.env_remove("SSH_AUTH_SOCK")
        .args(["-F", "none", "-u", bed.user(), "-i"])
        .arg(bed.identity())
        .arg("--known-hosts")
        .arg(bed.known_hosts())
        .args([
            "--connect-timeout",
            "30",
            "--no-progress",
            "--window",
            "32",
            "-t",
        ])
        .arg(targets);
    c
}

/// The command number `i`: prints a marker the output is checked against.
fn command(i: usize) -> String {
    format!("echo mark{i}")
}

/// Checks `out` has one `host:mark{i}` line per host.
fn check(out: &str, i: usize, hosts: usize) -> Result<()> {
    let want = format!(":mark{i}");
    let n = out.lines().filter(|l| l.ends_with(&want)).count();
    if n != hosts {
        bail!("command {i}: {n} of {hosts} hosts answered:\n{out}");
    }
    Ok(())
}

/// 20 separate runs; the wall time of each.
fn separate_runs(exe: &Path, bed: &Testbed, targets: &Path, hosts: usize) -> Result<Vec<f64>> {
    let mut times = Vec::new();
    for i in 0..COMMANDS {
        let mut cmd = ajssh(exe, bed, targets);
        cmd.arg("--").arg(command(i));
        let t0 = Instant::now();
        let out = match capped::run(cmd, CAP)? {
            Capped::Done(out) => out,
            Capped::TimedOut => bail!("a separate run took over {CAP:?}: killed"),
        };
        times.push(t0.elapsed().as_secs_f64());
        check(&out, i, hosts)?;
    }
    Ok(times)
}

/// One session of 20 commands; the time of each command and of the whole
/// session (spawn to exit, connections closed).
fn session(exe: &Path, bed: &Testbed, targets: &Path, hosts: usize) -> Result<(Vec<f64>, f64)> {
    let t0 = Instant::now();
    let mut child = ajssh(exe, bed, targets)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the ajssh session")?;
    let mut stdin = child.stdin.take().context("piped stdin")?;
    let stdout = child.stdout.take().context("piped stdout")?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut times = Vec::new();
    let result = (|| -> Result<()> {
        for i in 0..COMMANDS {
            let start = Instant::now();
            writeln!(stdin, "{}", command(i)).and_then(|()| stdin.flush())?;
            let mut out = String::new();
            for _ in 0..hosts {
                let left = CAP.saturating_sub(start.elapsed());
                let line = rx
                    .recv_timeout(left)
                    .with_context(|| format!("command {i}: no complete output within {CAP:?}"))?;
                out.push_str(&line);
                out.push('\n');
            }
            times.push(start.elapsed().as_secs_f64());
            check(&out, i, hosts)?;
        }
        Ok(())
    })();
    drop(stdin);
    if let Err(e) = result {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    let deadline = Instant::now() + CAP;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the session did not end within {CAP:?} after its input ended");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if !status.success() {
        bail!("the session ended with {status}");
    }
    Ok((times, t0.elapsed().as_secs_f64()))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// What one repetition measured.
struct Rep {
    separate: Vec<f64>,
    session_cmds: Vec<f64>,
    session_total: f64,
}

impl Rep {
    fn separate_total(&self) -> f64 {
        self.separate.iter().sum()
    }
    fn later(&self) -> f64 {
        median(&self.session_cmds[1..])
    }
    fn ratio(&self) -> f64 {
        self.later() / median(&self.separate)
    }
}

fn rows(reps: &[Rep]) -> Vec<[String; 7]> {
    reps.iter()
        .enumerate()
        .map(|(i, r)| {
            [
                format!("{}", i + 1),
                format!("{:.2}", r.separate_total()),
                format!("{:.3}", median(&r.separate)),
                format!("{:.2}", r.session_total),
                format!("{:.3}", r.session_cmds[0]),
                format!("{:.4}", r.later()),
                format!("{:.1}%", 100.0 * r.ratio()),
            ]
        })
        .collect()
}

const HEADER: [&str; 7] = [
    "rep",
    "20 runs total s",
    "one run s (median)",
    "session total s",
    "1st command s",
    "later command s (median)",
    "later / fresh run",
];

/// Runs the benchmark; see the module doc.
pub fn main(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let root = checkout::workspace_root();
    crate::setup::ensure(&[crate::setup::SSHD])?;
    let exe = build_ajssh(&root)?;
    let load = machine::load_average();
    eprintln!(
        "starting {} loopback sshd hosts (load average {load})...",
        opts.hosts
    );
    let bed = Testbed::start(opts.hosts).context("starting the loopback sshd farm")?;
    let targets = bed.dir().join("bench-interactive-targets");
    let list: String = bed
        .hosts()
        .iter()
        .map(|h| format!("{}\n", h.address()))
        .collect();
    std::fs::write(&targets, list).context("writing the target file")?;
    let mut reps = Vec::new();
    for rep in 0..opts.reps {
        // alternate which goes first, so that neither always runs on a warmer machine
        let (separate, (session_cmds, session_total)) = if rep % 2 == 0 {
            let s = separate_runs(&exe, &bed, &targets, opts.hosts)?;
            (s, session(&exe, &bed, &targets, opts.hosts)?)
        } else {
            let t = session(&exe, &bed, &targets, opts.hosts)?;
            (separate_runs(&exe, &bed, &targets, opts.hosts)?, t)
        };
        let r = Rep {
            separate,
            session_cmds,
            session_total,
        };
        eprintln!(
            "rep {}: 20 runs {:.2} s, session {:.2} s (first command {:.3} s, later {:.4} s = {:.1}% of a run)",
            rep + 1,
            r.separate_total(),
            r.session_total,
            r.session_cmds[0],
            r.later(),
            100.0 * r.ratio()
        );
        reps.push(r);
    }
    let text = table::aligned(HEADER, rows(&reps), |_| false);
    let ratios: Vec<f64> = reps.iter().map(Rep::ratio).collect();
    let worst = ratios.iter().copied().fold(0.0, f64::max);
    let verdict = format!(
        "target: a command after the first costs less than {:.0}% of a fresh fan-out: {} \
         (median ratio {:.1}%, worst {:.1}%)",
        100.0 * TARGET_RATIO,
        if worst < TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        },
        100.0 * median(&ratios),
        100.0 * worst
    );
    println!(
        "{} hosts, {COMMANDS} commands (`echo markN`), window 32",
        opts.hosts
    );
    println!("{text}{verdict}");
    if !opts.write {
        println!("(partial run: BENCHMARKS.md not written)");
        return Ok(());
    }
    let body = markdown_body(&reps, &verdict, &load);
    let path = root.join("BENCHMARKS.md");
    markdown::update(&path, "Interactive mode", "interactive", &body)?;
    println!("wrote the Interactive mode section of {}", path.display());
    Ok(())
}

fn markdown_body(reps: &[Rep], verdict: &str, load: &str) -> String {
    let mut s = format!(
        "{COMMANDS} commands (`echo markN`) on {HOSTS} loopback OpenSSH hosts (the test \
         harness's farm): one interactive `ajssh -t TARGETS` session fed the commands on its \
         stdin one after the other (each timed from its line written to its {HOSTS} output \
         lines read; the session from spawn to exit, connections closed), against {COMMANDS} \
         separate `ajssh -t TARGETS -- CMD` runs (spawn to exit). Window 32, host keys checked, \
         release build. Every output is checked (one line per host with its marker).\n\n"
    );
    s.push_str("| rep | 20 runs total (s) | one run, median (s) | session total (s) | 1st command (s) | later command, median (s) | later / fresh run |\n");
    s.push_str("|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows(reps) {
        s.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    s.push_str(&format!("\n{verdict}.\n\nMachine: "));
    let facts: Vec<String> = machine::describe()
        .into_iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    s.push_str(&facts.join("; "));
    s.push_str(&format!("; load average before: {load}.\n"));
    s
}
