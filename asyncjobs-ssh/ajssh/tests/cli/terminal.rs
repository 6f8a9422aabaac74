//! A terminal that helps: colours (`--color=always|never|auto`, `NO_COLOR`,
//! `CLICOLOR_FORCE`), and Ctrl-C: the summary tells the hosts stopped while
//! running from those not started, and on a terminal (a pty, through
//! util-linux `script`) the progress bar is gone from the screen afterwards,
//! the interruption said once. The limits below only keep a broken build
//! from hanging the suite.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use asyncjobs_tests::Testbed;

use crate::support::{ajssh, eventually, label, run, run_with_stdin, target, testbed};

const LIMIT: Duration = Duration::from_secs(60);
const CYAN: &str = "\x1b[36m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

fn out_and_err() -> &'static str {
    "echo out; echo err >&2"
}

#[test]
fn color_always_colours_host_prefixes_and_stderr_in_another_colour() {
    let bed = testbed(2);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let r = run(ajssh(&bed)
        .args(["--color=always", &hosts.join(","), "--"])
        .arg(out_and_err()));
    assert_eq!(r.code, 0, "{r:?}");
    for h in bed.hosts().iter().map(label) {
        assert!(
            r.stdout.contains(&format!("{CYAN}{h}{RESET}:out\n")),
            "{r:?}"
        );
        assert!(
            r.stderr.contains(&format!("{RED}{h}:err{RESET}\n")),
            "{r:?}"
        );
    }
    // -b: the block headers are coloured, stdout's and stderr's differently
    let r = run(ajssh(&bed)
        .args(["--color=always", "-b", &hosts.join(","), "--"])
        .arg(out_and_err()));
    assert!(r.stdout.starts_with(CYAN), "{r:?}");
    assert!(r.stdout.contains("\nout\n"), "{r:?}");
    assert!(r.stderr.starts_with(RED), "{r:?}");
    // interactive mode: prefixes coloured, the failure report in red
    let r = run_with_stdin(
        ajssh(&bed).args(["--color=always", &hosts.join(",")]),
        Some("echo out\nfalse\n"),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("{CYAN}{}{RESET}:out\n", label(&bed.hosts()[0]))),
        "{r:?}"
    );
    assert!(r.stderr.contains(&format!("{RED}ajssh: ")), "{r:?}");
}

#[test]
fn no_color_never_and_pipes_give_plain_text() {
    let bed = testbed(1);
    let host = target(&bed.hosts()[0]);
    let shown = label(&bed.hosts()[0]);
    let plain = |cmd: &mut Command, why: &str| {
        let r = run(cmd.args([&host, "--"]).arg(out_and_err()));
        assert_eq!(r.code, 0, "{why}: {r:?}");
        assert_eq!(r.stdout, format!("{shown}:out\n"), "{why}: {r:?}");
        assert!(!r.stderr.contains('\x1b'), "{why}: {r:?}");
    };
    // auto into pipes
    plain(ajssh(&bed).env_remove("CLICOLOR_FORCE"), "pipes");
    // auto, forced (CLICOLOR_FORCE) but NO_COLOR set: NO_COLOR wins
    plain(
        ajssh(&bed).env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1"),
        "NO_COLOR",
    );
    plain(
        ajssh(&bed).env("CLICOLOR_FORCE", "1").arg("--color=never"),
        "never",
    );
    // forced without NO_COLOR: coloured (the check above could fail)
    let r = run(ajssh(&bed)
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .args([&host, "--"])
        .arg(out_and_err()));
    assert_eq!(r.stdout, format!("{CYAN}{shown}{RESET}:out\n"), "{r:?}");
    let r = run(ajssh(&bed).args(["--color=sometimes", &host, "--", "true"]));
    assert_eq!(r.code, 64, "{r:?}");
}

fn wait(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not exit within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_counts_the_hosts_stopped_apart_from_those_not_started() {
    let bed = testbed(3);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let sleep = format!("sleep 9{}", std::process::id());
    // a window of 2: two hosts run, the third waits for a slot
    let mut child = ajssh(&bed)
        .args(["--window", "2", &hosts.join(","), "--"])
        .arg(format!("echo started; {sleep}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..2 {
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        assert!(line.ends_with(":started\n"), "{line:?}");
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(wait(&mut child), Some(130));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("3 hosts: 0 ok, 0 failed, 0 unreachable, 2 stopped (interrupted), 1 not started (interrupted)"),
        "{err}"
    );
    assert!(eventually(|| bed.remote_processes(&sleep) == 0));
}

/// The screen a terminal shows after `bytes`: enough of a VT100 for what
/// ajssh and indicatif write (text, CR, LF, erase line/below, cursor up/down/column).
fn screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
                if rows.len() <= row {
                    rows.push(Vec::new());
                }
            }
            '\x1b' => {
                if chars.peek() != Some(&'[') {
                    chars.next();
                    continue;
                }
                chars.next();
                let mut params = String::new();
                let mut end = ' ';
                for p in chars.by_ref() {
                    if p.is_ascii_alphabetic() || p == '~' {
                        end = p;
                        break;
                    }
                    params.push(p);
                }
                let n: usize = params
                    .trim_start_matches('?')
                    .split(';')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let line = &mut rows[row];
                match end {
                    'K' if n == 2 => line.clear(),
                    'K' if n == 0 => line.truncate(col),
                    'J' if n == 0 || n == 2 => {
                        line.truncate(col);
                        rows.truncate(row + 1);
                    }
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => {
                        row += n.max(1);
                        while rows.len() <= row {
                            rows.push(Vec::new());
                        }
                    }
                    'G' => col = n.saturating_sub(1),
                    _ => {}
                }
            }
            c if c.is_control() => {}
            c => {
                let line = &mut rows[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    rows.into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect()
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn after_ctrl_c_on_a_terminal_the_bar_is_gone_and_the_interruption_said_once() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("util-linux `script` is needed to run ajssh on a terminal");
    }
    let bed: Testbed = testbed(3);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let sleep = format!("sleep 10{}", std::process::id());
    let cmd = ajssh(&bed)
        .args(["--window", "2", &hosts.join(","), "--"])
        .arg(format!("echo started; {sleep}"))
        .get_args()
        .map(|a| sh_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let line = format!("{} {cmd}", sh_quote(env!("CARGO_BIN_EXE_ajssh")));
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + LIMIT;
    // both running hosts started, and the bar drawn
    while String::from_utf8_lossy(&seen).matches(":started").count() < 2
        || !String::from_utf8_lossy(&seen).contains("remaining")
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(b) => seen.extend(b),
            Err(_) => panic!(
                "no start and bar within {LIMIT:?}: {:?}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    // Ctrl-C typed on the terminal
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let code = wait(&mut child);
    drop(stdin);
    while let Ok(b) = rx.recv_timeout(Duration::from_secs(5)) {
        seen.extend(b);
    }
    let shown = screen(&seen);
    let text = shown.join("\n");
    assert_eq!(code, Some(130), "{text}");
    assert!(
        !shown.iter().any(|l| l.contains("remaining")),
        "a progress bar is left on the screen:\n{text}"
    );
    assert_eq!(
        shown
            .iter()
            .filter(|l| l.contains("ajssh: interrupted"))
            .count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("2 stopped (interrupted), 1 not started (interrupted)"),
        "{text}"
    );
    assert!(eventually(|| bed.remote_processes(&sleep) == 0));
}

#[test]
fn the_screen_model_erases_lines_as_a_terminal_does() {
    let s = screen(b"a\r\n[bar 1]\r\x1b[2K[bar 2]\r\x1b[2Kdone\r\nx\x1b[1A\r\x1b[0Jy");
    assert_eq!(s, ["a", "y"]);
}
