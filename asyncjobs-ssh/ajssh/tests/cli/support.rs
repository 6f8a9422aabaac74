//! Helpers of the `ajssh` command-line tests: the binary preset for a
//! loopback sshd testbed (its user, key and known_hosts; never the user's
//! ~/.ssh or agent), and a bounded run.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use asyncjobs_tests::{Host, Testbed};

/// A run that takes longer than this is killed and fails the test (no test hangs).
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// Starts a testbed of `n` hosts, or fails the test with the harness's reason.
pub fn testbed(n: usize) -> Testbed {
    Testbed::start(n).unwrap_or_else(|e| panic!("cannot start the loopback sshd testbed: {e}"))
}

/// `ajssh` with no option, no ssh config, no agent.
pub fn ajssh_bare() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ajssh"));
    c.env_remove("SSH_AUTH_SOCK").stdin(Stdio::null());
    c
}

/// `ajssh` preset for `bed`: its user, key and known_hosts, no ssh config.
pub fn ajssh(bed: &Testbed) -> Command {
    let mut c = ajssh_bare();
    c.arg("-F")
        .arg("none")
        .arg("-u")
        .arg(bed.user())
        .arg("-i")
        .arg(bed.identity());
    c.arg("--known-hosts")
        .arg(bed.known_hosts())
        .arg("--connect-timeout")
        .arg("30");
    c
}

/// `ip:port` of a host, as a target (`[::1]:port` for IPv6).
pub fn target(h: &Host) -> String {
    h.address()
}

/// The name `ajssh` shows for a host given as [`target`] among hosts of
/// distinct addresses: the address alone (`[::1]` for IPv6), no port.
pub fn label(h: &Host) -> String {
    if h.ip.contains(':') {
        format!("[{}]", h.ip)
    } else {
        h.ip.clone()
    }
}

/// The names `ajssh` shows for `hosts` given as [`target`]s: [`label`],
/// or `[address]:port` for hosts that share their address (an IPv6
/// testbed: all on `::1`), where the port is what tells them apart.
pub fn labels(hosts: &[Host]) -> Vec<String> {
    hosts
        .iter()
        .map(|h| {
            if hosts.iter().filter(|o| o.ip == h.ip).count() > 1 {
                format!("[{}]:{}", h.ip, h.port)
            } else {
                label(h)
            }
        })
        .collect()
}

/// What a run of `ajssh` gave.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl Run {
    /// stdout lines, sorted (hosts finish in any order).
    pub fn sorted_lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self.stdout.lines().map(str::to_string).collect();
        v.sort();
        v
    }
}

/// True once `probe` holds, polled every 50 ms; false after 60 s.
pub fn eventually(mut probe: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if probe() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Runs `cmd` to completion (killed after [`RUN_LIMIT`]).
pub fn run(cmd: &mut Command) -> Run {
    run_with_stdin(cmd, None)
}

/// [`run`], feeding `input` to its stdin.
pub fn run_with_stdin(cmd: &mut Command, input: Option<&str>) -> Run {
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ajssh");
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        use std::io::Write;
        // a run refused before it reads its input closes the pipe first
        if let Err(e) = stdin.write_all(text.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
        }
    }
    wait_output(child)
}

/// Reads the outputs of a spawned `ajssh` (stdout and stderr piped) until it
/// exits (killed after [`RUN_LIMIT`]).
pub fn wait_output(mut child: std::process::Child) -> Run {
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ajssh did not finish within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// A remote command that prints `ok` on every host but exits `code` on `failing`
/// (recognised by the server address in `$SSH_CONNECTION`).
pub fn fail_on(failing: &Host, code: u8) -> String {
    format!(
        "case \"$SSH_CONNECTION\" in *' {} {}') exit {code};; esac; echo ok",
        failing.ip, failing.port
    )
}

/// Writes an ssh config giving each `(alias, host)` its HostName, Port, User and IdentityFile.
pub fn ssh_config(bed: &Testbed, dir: &Path, aliases: &[(String, &Host)]) -> PathBuf {
    let mut text = String::new();
    for (alias, h) in aliases {
        text.push_str(&format!(
            "Host {alias}\n    HostName {}\n    Port {}\n    User {}\n    IdentityFile {}\n\n",
            h.ip,
            h.port,
            bed.user(),
            bed.identity().display()
        ));
    }
    let path = dir.join("ssh_config");
    std::fs::write(&path, text).expect("write ssh config");
    path
}
