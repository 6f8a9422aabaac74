//! Signals and pipes: SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the remote
//! commands and exit 130 / 143 / 129; a closed stdout (`ajssh ... | head`)
//! ends the run quietly with 141 and stops the remote commands; a signal is
//! acted on even while stdout is a full pipe nobody reads. Every case checks
//! with the harness's process probe that no remote process is left. The
//! limits below only keep a broken build from hanging the suite.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use asyncjobs_tests::Testbed;

use crate::support::{ajssh, target, testbed};

/// Bound on waiting for ajssh to exit, and for the remote processes to go.
const LIMIT: Duration = Duration::from_secs(60);

fn kill(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the exit code (the test fails after [`LIMIT`]).
fn exit_code(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ajssh did not exit within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True once no process matching `pattern` runs on the testbed (false after [`LIMIT`]).
fn no_remote_process(bed: &Testbed, pattern: &str) -> bool {
    let deadline = Instant::now() + LIMIT;
    while Instant::now() < deadline {
        if bed.remote_processes(pattern) == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A command line unique to this test and process, to count its processes.
fn unique(tag: &str) -> String {
    format!("{tag}{}", std::process::id())
}

fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

#[test]
fn each_stopping_signal_stops_the_remote_commands_and_exits_128_plus_its_number() {
    let bed = testbed(2);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let sleep = format!("sleep 7{}{code}", std::process::id());
        let mut child = ajssh(&bed)
            .arg(hosts.join(","))
            .args(["--", &format!("echo started; {sleep}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        for _ in &hosts {
            let mut line = String::new();
            lines.read_line(&mut line).unwrap();
            assert!(line.ends_with(":started\n"), "{line:?}");
        }
        kill(&child, signal);
        assert_eq!(exit_code(&mut child), Some(code), "SIG{signal}");
        let err = stderr_of(&mut child);
        assert!(
            err.contains(&format!("ajssh: interrupted (SIG{signal})")),
            "SIG{signal}: {err}"
        );
        assert!(
            err.contains("2 stopped (interrupted)"),
            "SIG{signal}: {err}"
        );
        assert!(
            no_remote_process(&bed, &sleep),
            "SIG{signal}: the remote commands were left running"
        );
    }
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_and_stops_the_remote_commands() {
    // `ajssh hosts -- 'yes X' | head -2`
    let bed = testbed(2);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let tag = unique("closed-pipe-");
    let mut child = ajssh(&bed)
        .arg(hosts.join(","))
        .args(["--", &format!("exec yes {tag}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..2 {
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        assert!(line.ends_with(&format!(":{tag}\n")), "{line:?}");
    }
    drop(lines); // what `head -2` does once it has its lines
    assert_eq!(exit_code(&mut child), Some(141));
    let err = stderr_of(&mut child);
    assert_eq!(err, "", "a closed pipe is not an error to report");
    assert!(
        no_remote_process(&bed, &tag),
        "the remote `yes` was left running"
    );
}

#[test]
fn piped_into_head_the_pipeline_ends_with_141_and_no_remote_process() {
    // the shell's own pipeline, as users write it
    let bed = testbed(2);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let tag = unique("head-pipe-");
    let mut cmd = ajssh(&bed);
    cmd.arg(hosts.join(",")).args(["--", &format!("yes {tag}")]);
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_str().unwrap().replace('\'', "'\\''"));
    let line: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(quote)
        .collect();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; env -u SSH_AUTH_SOCK {} | head -2; echo \"status=$?\"",
            line.join(" ")
        ))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[..2].iter().all(|l| l.ends_with(&format!(":{tag}"))),
        "{text}"
    );
    assert_eq!(lines[2], "status=141", "{text}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(
        no_remote_process(&bed, &tag),
        "the remote `yes` was left running"
    );
}

/// Bytes waiting in the pipe whose read end is `fd`.
#[allow(unsafe_code)]
fn pipe_fill(fd: &impl std::os::fd::AsRawFd) -> (usize, usize) {
    let mut queued: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int; F_GETPIPE_SZ only reads the descriptor.
    let (q, size) = unsafe {
        (
            libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut queued),
            libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ),
        )
    };
    assert!(q == 0 && size > 0, "cannot probe the pipe");
    (
        usize::try_from(queued).unwrap_or(0),
        usize::try_from(size).unwrap_or(0),
    )
}

#[test]
fn ctrl_c_acts_while_stdout_is_a_full_pipe_nobody_reads() {
    let bed = testbed(1);
    let h = target(&bed.hosts()[0]);
    let tag = unique("blocked-out-");
    let mut child = ajssh(&bed)
        .arg(&h)
        .args(["--", &format!("exec yes {tag}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    // wait until the pipe is full (no free page left: a page is 4 KiB, and
    // small writes share the last one): ajssh's writes to stdout now block
    let deadline = Instant::now() + LIMIT;
    loop {
        let (queued, size) = pipe_fill(&out);
        if queued + 4096 > size {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the pipe never filled: {queued} of {size} bytes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(&child, "INT");
    assert_eq!(exit_code(&mut child), Some(130));
    drop(out);
    assert!(
        no_remote_process(&bed, &tag),
        "the remote `yes` was left running"
    );
}
