//! `cargo xtask bench interactive`: 20 commands on 100 loopback sshd hosts
//! (the test harness's farm), given to one interactive `ajssh` session on
//! its stdin, one after the other, against 20 separate `ajssh ... -- CMD`
//! runs. Each command is timed from the moment it is written to the session
//! until every host's output line has been read; the separate runs from
//! spawn to exit. The per-command cost after the first (connections open) is
//! reported as a ratio to a fresh fan-out (target: under 10%). Every output
//! is checked: one line per host, with the command's own marker.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use asyncjobs_tests::Testbed;

use super::capped::{self, Capped};
use super::{checkout, machine, markdown, table};

/// Hosts in the farm.
const HOSTS: usize = 100;
/// Commands per session, and separate runs.
const COMMANDS: usize = 20;
/// Cap of one separate run and of one command in the session.
const CAP: Duration = Duration::from_secs(120);
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

/// What one session measured.
struct Session {
    /// Each command's time.
    cmds: Vec<f64>,
    /// Spawn to exit.
    total: f64,
    /// CPU seconds of ajssh, and of the servers, over the commands after the first.
    client_cpu_later: f64,
    sshd_cpu_later: f64,
}

/// One session of 20 commands; the time of each command and of the whole
/// session (spawn to exit, connections closed).
fn session(exe: &Path, bed: &Testbed, targets: &Path, hosts: usize) -> Result<Session> {
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
    let pid = child.id();
    let mut cpu_after_first = (0.0, 0.0);
    let mut cpu_end = (0.0, 0.0);
    let result = (|| -> Result<()> {
        for i in 0..COMMANDS {
            if i == 1 {
                cpu_after_first = (tree_cpu(pid), sshd_cpu(bed));
            }
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
        cpu_end = (tree_cpu(pid), sshd_cpu(bed));
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
    Ok(Session {
        cmds: times,
        total: t0.elapsed().as_secs_f64(),
        client_cpu_later: cpu_end.0 - cpu_after_first.0,
        sshd_cpu_later: cpu_end.1 - cpu_after_first.1,
    })
}

/// CPU seconds of `pid` and its descendants, living ones and those reaped
/// (utime + stime + cutime + cstime of each living process).
fn tree_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // pid (comm) state ppid ...: comm may hold spaces, the last ')' ends it
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    // after the comm: state is field 3 (index 0), utime 14, stime 15, cutime 16, cstime 17
    let ticks: u64 = (11..15)
        .filter_map(|i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    let mut children = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            children.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    ticks as f64 / 100.0 + children.into_iter().map(tree_cpu).sum::<f64>()
}

fn sshd_cpu(bed: &Testbed) -> f64 {
    bed.sshd_pids().into_iter().map(tree_cpu).sum()
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
    session: Session,
}

impl Rep {
    fn separate_total(&self) -> f64 {
        self.separate.iter().sum()
    }
    fn later(&self) -> f64 {
        median(&self.session.cmds[1..])
    }
    /// CPU ms per later command: (ajssh, sshd).
    fn later_cpu_ms(&self) -> (f64, f64) {
        let n = (COMMANDS - 1) as f64;
        (
            1000.0 * self.session.client_cpu_later / n,
            1000.0 * self.session.sshd_cpu_later / n,
        )
    }
    fn ratio(&self) -> f64 {
        self.later() / median(&self.separate)
    }
}

fn rows(reps: &[Rep]) -> Vec<[String; 9]> {
    reps.iter()
        .enumerate()
        .map(|(i, r)| {
            let (client, sshd) = r.later_cpu_ms();
            [
                format!("{}", i + 1),
                format!("{:.2}", r.separate_total()),
                format!("{:.3}", median(&r.separate)),
                format!("{:.2}", r.session.total),
                format!("{:.3}", r.session.cmds[0]),
                format!("{:.4}", r.later()),
                format!("{:.1}%", 100.0 * r.ratio()),
                format!("{client:.0}"),
                format!("{sshd:.0}"),
            ]
        })
        .collect()
}

const HEADER: [&str; 9] = [
    "rep",
    "20 runs total s",
    "one run s (median)",
    "session total s",
    "1st command s",
    "later command s (median)",
    "later / fresh run",
    "later: ajssh CPU ms",
    "later: sshd CPU ms",
];

/// Runs the benchmark; see the module doc.
pub fn main(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let root = checkout::workspace_root();
    crate::setup::ensure(&[crate::setup::SSHD])?;
    let exe = super::fanout::setup::build_ajssh(&root)?;
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
        let (separate, session) = if rep % 2 == 0 {
            let s = separate_runs(&exe, &bed, &targets, opts.hosts)?;
            (s, session(&exe, &bed, &targets, opts.hosts)?)
        } else {
            let t = session(&exe, &bed, &targets, opts.hosts)?;
            (separate_runs(&exe, &bed, &targets, opts.hosts)?, t)
        };
        let r = Rep { separate, session };
        let (client, sshd) = r.later_cpu_ms();
        eprintln!(
            "rep {}: 20 runs {:.2} s, session {:.2} s (first command {:.3} s, later {:.4} s = {:.1}% of a run; \
             CPU per later command: ajssh {client:.0} ms, sshd {sshd:.0} ms)",
            rep + 1,
            r.separate_total(),
            r.session.total,
            r.session.cmds[0],
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
    s.push_str("| rep | 20 runs total (s) | one run, median (s) | session total (s) | 1st command (s) | later command, median (s) | later / fresh run | later: ajssh CPU (ms) | later: sshd CPU (ms) |\n");
    s.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
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
