//! Interactive mode (`ajssh TARGETS` with no command), with commands piped
//! on stdin: each line runs on every host over connections kept open (the
//! client port in `$SSH_CONNECTION` stays the same from one command to the
//! next), outputs prefixed or gathered (`:gather` / `:prefix`), failed
//! hosts reported after each command, a dropped connection opened again,
//! Ctrl-C stopping the running command only, and no remote process left.
//! The limits below only keep a broken build from hanging the suite.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::{Duration, Instant};

use asyncjobs_tests::Testbed;

use crate::support::{ajssh, eventually, fail_on, label, run_with_stdin, target, testbed};

/// Bound on waiting for a line of output, for ajssh to exit, for processes to go.
const LIMIT: Duration = Duration::from_secs(60);

/// A session fed line by line, its stdout read line by line.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Session {
    fn start(bed: &Testbed, hosts: &[String]) -> Session {
        let mut child = ajssh(bed)
            .arg(hosts.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ajssh");
        let stdin = child.stdin.take();
        let out: ChildStdout = child.stdout.take().expect("piped");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Session {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .expect("write to ajssh");
    }

    /// The next `n` lines of stdout (the test fails after [`LIMIT`]).
    fn read(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + LIMIT;
        (0..n)
            .map(|_| {
                let left = deadline.saturating_duration_since(Instant::now());
                self.lines
                    .recv_timeout(left)
                    .unwrap_or_else(|_| panic!("no output line within {LIMIT:?}"))
            })
            .collect()
    }

    /// Closes stdin (end of the session); returns the exit code and stderr.
    fn end(mut self) -> (i32, String) {
        drop(self.stdin.take());
        self.child.stdout = None;
        let run = wait_output_stderr_only(self.child);
        (run.0, run.1)
    }
}

/// Waits for `child` (stdout already taken) and reads its stderr.
fn wait_output_stderr_only(mut child: Child) -> (i32, String) {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut err = child.stderr.take().expect("piped");
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        let _ = tx.send(s);
    });
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ajssh did not end within {LIMIT:?} after its input ended");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = rx.recv_timeout(LIMIT).unwrap_or_default();
    (status.code().unwrap_or(-1), err)
}

/// `host:value` lines → host → value.
fn by_host(lines: &[String]) -> HashMap<String, String> {
    lines
        .iter()
        .map(|l| {
            let (h, v) = l.rsplit_once(':').unwrap_or_else(|| panic!("{l:?}"));
            (h.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn piped_commands_run_over_the_same_connections_prefixed_then_gathered() {
    let bed = testbed(3);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let input = "echo $SSH_CONNECTION\n\
                 # a comment, then an empty line\n\
                 \n\
                 echo $SSH_CONNECTION\n\
                 :gather\n\
                 echo same; echo warn >&2\n\
                 :prefix\n\
                 echo back\n";
    let run = run_with_stdin(ajssh(&bed).arg(hosts.join(",")), Some(input));
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<String> = run.stdout.lines().map(str::to_string).collect();
    // two prefixed rounds: every host twice, from the same client port
    let first = by_host(&lines[0..3]);
    let second = by_host(&lines[3..6]);
    assert_eq!(first.len(), 3, "{run:?}");
    assert_eq!(
        first, second,
        "each host answered both commands on one connection: {run:?}"
    );
    // the gathered round: one block for the three hosts, stderr in its own
    let header = lines[7].clone();
    assert!(header.ends_with(" (3)"), "{run:?}");
    assert_eq!(lines[6], "-".repeat(lines[6].len()));
    assert_eq!(lines[9], "same", "{run:?}");
    assert_eq!(run.stdout.matches("same").count(), 1, "{run:?}");
    assert_eq!(run.stderr.matches("warn").count(), 1, "{run:?}");
    assert!(run.stderr.contains(&header), "{run:?}");
    // back to prefixed
    let back: HashSet<&str> = lines[10..].iter().map(String::as_str).collect();
    assert_eq!(back.len(), 3, "{run:?}");
    assert!(back.iter().all(|l| l.ends_with(":back")), "{run:?}");
    // nothing left open on the servers
    assert!(eventually(|| bed.established_connections() == 0));
}

#[test]
fn failed_hosts_are_reported_per_command_and_the_last_command_gives_the_exit_code() {
    let bed = testbed(3);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let failing = &bed.hosts()[1];
    let input = format!("{}\ntrue\n", fail_on(failing, 3));
    let run = run_with_stdin(ajssh(&bed).arg(hosts.join(",")), Some(&input));
    assert_eq!(
        run.code, 0,
        "the last command succeeded everywhere: {run:?}"
    );
    let report = format!("ajssh: {} (1): exit code 3", label(failing));
    assert_eq!(run.stderr.matches(&report).count(), 1, "{run:?}");
    assert_eq!(run.stdout.matches(":ok").count(), 2, "{run:?}");

    let input = format!("true\n{}\n", fail_on(failing, 3));
    let run = run_with_stdin(ajssh(&bed).arg(hosts.join(",")), Some(&input));
    assert_eq!(run.code, 1, "the last command failed on a host: {run:?}");

    // an unreachable host is reported at each command; exit code 2
    let closed = bed.closed_port();
    let all = format!("{},{}", hosts[0], target(&closed));
    let run = run_with_stdin(ajssh(&bed).arg(all), Some("echo a\necho b\n"));
    assert_eq!(run.code, 2, "{run:?}");
    let unreachable = format!("ajssh: {} (1): unreachable: ", label(&closed));
    assert_eq!(run.stderr.matches(&unreachable).count(), 2, "{run:?}");
    assert_eq!(run.stdout.lines().count(), 2, "{run:?}");
}

/// Process ids under the testbed's listening servers: the per-connection
/// sshd processes and what runs under them.
fn server_children(bed: &Testbed) -> Vec<i32> {
    let mut parent: HashMap<i32, i32> = HashMap::new();
    for entry in std::fs::read_dir("/proc").expect("list /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, the last ')' ends it
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parent.insert(pid, ppid);
        }
    }
    let roots: HashSet<i32> = bed.sshd_pids().iter().map(|&p| p as i32).collect();
    parent
        .keys()
        .copied()
        .filter(|&pid| {
            let mut p = parent.get(&pid).copied();
            for _ in 0..16 {
                match p {
                    Some(pp) if roots.contains(&pp) => return true,
                    Some(pp) => p = parent.get(&pp).copied(),
                    None => return false,
                }
            }
            false
        })
        .collect()
}

#[test]
fn a_dropped_connection_is_opened_again_and_ctrl_c_stops_only_the_running_command() {
    let bed = testbed(2);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let mut s = Session::start(&bed, &hosts);
    s.send("echo $SSH_CONNECTION");
    let before = by_host(&s.read(2));
    assert!(eventually(|| bed.established_connections() == 2));

    // the servers drop every connection
    for pid in server_children(&bed) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    assert!(eventually(|| bed.established_connections() == 0));
    s.send("echo $SSH_CONNECTION");
    let after = by_host(&s.read(2));
    assert_eq!(after.len(), 2);
    for (host, conn) in &after {
        assert_ne!(
            before.get(host),
            Some(conn),
            "{host} answered on a new connection"
        );
    }

    // Ctrl-C during a command stops it on every host; the session goes on
    let sleep = format!("sleep 8{}", std::process::id());
    s.send(&format!("echo started; {sleep}"));
    assert_eq!(
        s.read(2).iter().filter(|l| l.ends_with(":started")).count(),
        2
    );
    assert!(eventually(|| bed.remote_processes(&sleep) > 0));
    let status = std::process::Command::new("kill")
        .args(["-INT", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        eventually(|| bed.remote_processes(&sleep) == 0),
        "the interrupted command was left running"
    );
    s.send("echo still here");
    let here = s.read(2);
    assert!(here.iter().all(|l| l.ends_with(":still here")), "{here:?}");
    let (code, err) = s.end();
    assert_eq!(code, 0, "the last command succeeded: {err}");
    assert!(err.contains("(2): stopped (interrupted)"), "{err}");
    assert!(eventually(|| bed.established_connections() == 0));
    assert_eq!(bed.remote_processes(&sleep), 0);
}

#[test]
fn interactive_mode_refuses_options_that_need_a_command() {
    let bed = testbed(1);
    let host = target(&bed.hosts()[0]);
    for opt in ["--json", "-I", "-r"] {
        let run = run_with_stdin(ajssh(&bed).arg(opt).arg(&host), Some("true\n"));
        assert_eq!(run.code, 64, "{opt}: {run:?}");
        assert!(run.stderr.contains("interactive mode"), "{opt}: {run:?}");
    }
    // a session command that does not exist is said so, and nothing runs
    let run = run_with_stdin(
        ajssh(&bed).arg(&host),
        Some(":frob\n:help\n:quit\necho no\n"),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("unknown session command `:frob`"),
        "{run:?}"
    );
    assert!(run.stderr.contains(":gather"), "{run:?}");
    assert!(!run.stdout.contains("no"), "{run:?}");
    // the targets given as clush's -w: the same session
    let run = run_with_stdin(ajssh(&bed).args(["-w", &host]), Some("echo via-w\n"));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!("{}:via-w\n", label(&bed.hosts()[0])),
        "{run:?}"
    );
    // nothing on stdin: nothing runs, and it is said
    let run = crate::support::run(ajssh(&bed).arg(&host));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("no command read on stdin"), "{run:?}");
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn on_a_terminal_the_prompt_has_history_and_ctrl_d_ends_the_session() {
    let bed = testbed(2);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let args = ajssh(&bed)
        .arg(hosts.join(","))
        .get_args()
        .map(|a| sh_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let line = format!("{} {args}", sh_quote(env!("CARGO_BIN_EXE_ajssh")));
    // util-linux `script` runs ajssh on a pty: stdin and stdout are terminals
    let mut child = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs ajssh on a terminal");
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut out, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let wait_for = |what: &str, count: usize, seen: &mut Vec<u8>| {
        let deadline = Instant::now() + LIMIT;
        while String::from_utf8_lossy(seen).matches(what).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(b) => seen.extend(b),
                Err(_) => panic!(
                    "no {count} × {what:?} within {LIMIT:?}: {:?}",
                    String::from_utf8_lossy(seen)
                ),
            }
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let mut type_in = |bytes: &[u8]| {
        stdin.write_all(bytes).and_then(|()| stdin.flush()).unwrap();
    };
    wait_for("ajssh> ", 1, &mut seen);
    type_in(b"echo typed\r");
    wait_for(":typed", 2, &mut seen);
    wait_for("ajssh> ", 2, &mut seen);
    // the up arrow brings the last command back
    type_in(b"\x1b[A\r");
    wait_for(":typed", 4, &mut seen);
    // the prompt after the second run (the up arrow redraws the line too)
    let deadline = Instant::now() + LIMIT;
    loop {
        let text = String::from_utf8_lossy(&seen);
        let last_run = text.rfind(":typed").unwrap_or(0);
        if text[last_run..].contains("ajssh> ") {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        seen.extend(
            rx.recv_timeout(left)
                .expect("a prompt after the second run"),
        );
    }
    type_in(b"\x04");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            while let Ok(b) = rx.recv_timeout(Duration::from_millis(200)) {
                seen.extend(b);
            }
            let procs = std::process::Command::new("ps")
                .args(["-ef", "--forest"])
                .output()
                .unwrap();
            panic!(
                "the session did not end at Ctrl-D: {:?}\n{}",
                String::from_utf8_lossy(&seen),
                String::from_utf8_lossy(&procs.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert!(eventually(|| bed.established_connections() == 0));
}
