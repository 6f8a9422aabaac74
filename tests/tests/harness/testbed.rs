//! Behaviour of the loopback sshd testbed, checked with the OpenSSH client.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use asyncjobs_tests::{HarnessError, Host, Testbed, TestbedConfig, LISTEN_PER_SSHD};

/// Upper bound for waits on asynchronous effects (never a performance threshold).
const PATIENCE: Duration = Duration::from_secs(20);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

fn expect_echo_ok(bed: &Testbed, outputs: Vec<std::io::Result<Output>>) {
    assert_eq!(outputs.len(), bed.hosts().len());
    for (host, out) in bed.hosts().iter().zip(outputs) {
        let out = out.expect("ssh runs");
        assert!(
            out.status.success() && text(&out.stdout) == "ok",
            "{}: status {}, stdout {:?}, stderr {:?}\n{}",
            host.address(),
            out.status,
            text(&out.stdout),
            text(&out.stderr),
            bed.sshd_log()
        );
    }
}

/// Runs `command` on `host` with the OpenSSH client; its output.
fn ssh_output(bed: &Testbed, host: &Host, command: impl AsRef<std::ffi::OsStr>) -> Output {
    bed.ssh_command(host).arg(command).output().unwrap()
}

/// Asserts that `out` printed `expected`, showing its stderr and the sshd log otherwise.
fn assert_stdout(bed: &Testbed, out: &Output, expected: &str) {
    assert_eq!(
        text(&out.stdout),
        expected,
        "{}\n{}",
        text(&out.stderr),
        bed.sshd_log()
    );
}

/// Polls `probe` until it returns true; false if `PATIENCE` runs out.
fn eventually(mut probe: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if probe() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    probe()
}

/// Kills and reaps a spawned client even when an assertion fails first.
struct Reaped(Child);
impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn one_host_answers_echo_over_openssh() {
    let bed = Testbed::start(1).expect("testbed starts");
    assert_eq!(bed.hosts().len(), 1);
    expect_echo_ok(&bed, bed.ssh_all("echo ok", 1));
}

#[test]
fn twenty_hosts_all_answer_echo_concurrently() {
    let bed = Testbed::start(20).expect("testbed starts");
    let mut addrs: Vec<String> = bed.hosts().iter().map(|h| h.address()).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 20, "hosts are distinct");
    expect_echo_ok(&bed, bed.ssh_all("echo ok", 8));
}

#[test]
fn forty_hosts_are_served_by_three_sshd_processes() {
    let bed = Testbed::start(40).expect("testbed starts");
    assert_eq!(bed.sshd_pids().len(), 40_usize.div_ceil(LISTEN_PER_SSHD));
    assert_eq!(bed.sshd_pids().len(), 3);
    assert_eq!(bed.listening_hosts(), 40);
    let last = bed.hosts().last().unwrap();
    let out = ssh_output(&bed, last, "echo ok");
    assert_stdout(&bed, &out, "ok");
}

#[test]
fn known_hosts_lists_every_host_with_the_host_key() {
    let bed = Testbed::start(3).expect("testbed starts");
    let lines: Vec<String> = std::fs::read_to_string(bed.known_hosts())
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let expected: Vec<String> = bed
        .hosts()
        .iter()
        .map(|h| format!("{} {}", h.known_hosts_name(), bed.host_public_key()))
        .collect();
    assert_eq!(lines, expected);
    assert!(bed.host_public_key().starts_with("ssh-ed25519 AAAA"));
}

#[test]
fn established_connections_count_a_running_session() {
    let bed = Testbed::start(2).expect("testbed starts");
    assert_eq!(bed.established_connections(), 0);
    let child = bed
        .ssh_command(&bed.hosts()[1])
        .arg("sleep 2")
        .spawn()
        .unwrap();
    let mut child = Reaped(child);
    let seen = eventually(|| {
        bed.established_connections() > 0 || matches!(child.0.try_wait(), Ok(Some(_)))
    });
    assert!(
        seen && bed.established_connections() > 0,
        "no connection seen\n{}",
        bed.sshd_log()
    );
    assert!(child.0.wait().unwrap().success());
    assert!(
        eventually(|| bed.established_connections() == 0),
        "connections left open"
    );
}

#[test]
fn remote_processes_see_a_running_remote_sleep() {
    use std::io::BufRead;
    let bed = Testbed::start(1).expect("testbed starts");
    let pattern = "sleep 7373";
    assert_eq!(bed.remote_processes(pattern), 0);
    // The remote shell prints its PID, then becomes the sleep: we can stop it by PID.
    let mut cmd = bed.ssh_command(&bed.hosts()[0]);
    let child = cmd
        .arg("echo $$; exec sleep 7373")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Reaped(child);
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: u32 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no pid in {line:?}\n{}", bed.sshd_log()));
    assert!(
        eventually(|| bed.remote_processes(pattern) == 1),
        "remote sleep not seen\n{}",
        bed.sshd_log()
    );
    let kill = ssh_output(&bed, &bed.hosts()[0], format!("kill {pid}"));
    assert!(kill.status.success(), "{}", text(&kill.stderr));
    assert!(
        eventually(|| bed.remote_processes(pattern) == 0),
        "remote sleep still running"
    );
    assert!(
        !child.0.wait().unwrap().success(),
        "the session ends with the killed sleep"
    );
}

fn pid_runs_in(pid: u32, dir: &Path) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(&*dir.to_string_lossy()))
        .unwrap_or(false)
}

#[test]
fn drop_stops_every_sshd_and_removes_the_directory() {
    let bed = Testbed::start(20).expect("testbed starts");
    let pids = bed.sshd_pids();
    let dir = bed.dir().to_path_buf();
    assert_eq!(pids.len(), 2);
    assert!(pids.iter().all(|p| pid_runs_in(*p, &dir)));
    let hosts = bed.hosts().to_vec();
    drop(bed);
    for pid in pids {
        assert!(!pid_runs_in(pid, &dir), "sshd {pid} still running");
    }
    assert!(!dir.exists());
    for h in hosts {
        assert!(
            std::net::TcpStream::connect(h.address()).is_err(),
            "{} still accepts",
            h.address()
        );
    }
}

#[test]
fn wrong_identity_is_refused() {
    let bed = Testbed::start(1).expect("testbed starts");
    let out = bed
        .ssh_command_with_identity(&bed.hosts()[0], bed.wrong_identity())
        .arg("echo ok")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "");
    assert!(
        text(&out.stderr).contains("Permission denied"),
        "stderr: {}",
        text(&out.stderr)
    );
}

fn askpass_script(bed: &Testbed, answer: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = bed.dir().join(format!("askpass-{answer}.sh"));
    std::fs::write(&path, format!("#!/bin/sh\necho '{answer}'\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    path
}

fn ssh_with_passphrase(bed: &Testbed, answer: &str) -> Output {
    let mut cmd = bed.ssh_command_with_identity(&bed.hosts()[0], bed.encrypted_identity());
    // BatchMode=no (first value wins) so ssh asks the askpass program for the passphrase.
    let args: Vec<_> = cmd.get_args().map(|a| a.to_os_string()).collect();
    let mut with_prompt = Command::new("ssh");
    with_prompt
        .args(["-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1"])
        .args(args)
        .arg("echo ok");
    with_prompt
        .env("SSH_ASKPASS", askpass_script(bed, answer))
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env_remove("DISPLAY")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
    cmd = with_prompt;
    cmd.output().unwrap()
}

#[test]
fn encrypted_identity_logs_in_with_its_passphrase_only() {
    let bed = Testbed::start(1).expect("testbed starts");
    let ok = ssh_with_passphrase(&bed, asyncjobs_tests::PASSPHRASE);
    assert_eq!(
        text(&ok.stdout),
        "ok",
        "stderr: {}\n{}",
        text(&ok.stderr),
        bed.sshd_log()
    );
    let bad = ssh_with_passphrase(&bed, "not-the-passphrase");
    assert!(!bad.status.success());
    assert_eq!(text(&bad.stdout), "");
    // In batch mode ssh cannot decrypt it and has no other key.
    let batch = bed
        .ssh_command_with_identity(&bed.hosts()[0], bed.encrypted_identity())
        .arg("echo ok")
        .output();
    assert!(!batch.unwrap().status.success());
}

#[test]
fn known_hosts_with_another_key_fails_host_verification() {
    let bed = Testbed::start(1).expect("testbed starts");
    let other = Testbed::start(1).expect("second testbed starts");
    let host = &bed.hosts()[0];
    let lying = bed.write_known_hosts(
        "known_hosts_wrong",
        &[format!(
            "{} {}",
            host.known_hosts_name(),
            other.host_public_key()
        )],
    );
    assert_eq!(lying.parent(), Some(bed.dir()));
    let mut cmd = bed.ssh_command(host);
    let args: Vec<_> = cmd.get_args().map(|a| a.to_os_string()).collect();
    cmd = Command::new("ssh");
    cmd.arg("-o")
        .arg(format!("UserKnownHostsFile={}", lying.display()))
        .args(args)
        .arg("echo ok");
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Host key verification failed"),
        "stderr: {}",
        text(&out.stderr)
    );
}

#[test]
fn closed_port_refuses_connections() {
    let bed = Testbed::start(1).expect("testbed starts");
    let closed = bed.closed_port();
    assert!(!bed.hosts().contains(&closed));
    let err = std::net::TcpStream::connect(closed.address()).expect_err("nothing listens");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn zero_or_too_many_hosts_is_an_invalid_config() {
    assert!(matches!(
        Testbed::start(0),
        Err(HarnessError::InvalidConfig(_))
    ));
    let err = Testbed::start(asyncjobs_tests::MAX_HOSTS + 1).unwrap_err();
    assert!(
        err.to_string().contains("hosts must be between 1 and"),
        "{err}"
    );
}

#[test]
fn concurrent_testbeds_get_distinct_addresses() {
    let beds: Vec<Testbed> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| Testbed::start(5).expect("testbed starts")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ips: Vec<&str> = beds
        .iter()
        .flat_map(|b| b.hosts())
        .map(|h| h.ip.as_str())
        .collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 20);
    for bed in &beds {
        expect_echo_ok(bed, bed.ssh_all("echo ok", 5));
    }
}

#[test]
fn extra_sshd_config_lines_take_effect() {
    let cfg = TestbedConfig {
        extra_sshd_config: vec!["ForceCommand echo forced".into()],
        ..Default::default()
    };
    let bed = Testbed::start_with(cfg).expect("testbed starts");
    let out = ssh_output(&bed, &bed.hosts()[0], "echo ok");
    assert_stdout(&bed, &out, "forced");
}

#[test]
fn x11_testbed_forwards_a_display() {
    let remote_display = |x11: bool| {
        let bed = Testbed::start_with(TestbedConfig {
            x11,
            ..Default::default()
        })
        .expect("testbed starts");
        let mut cmd = bed.ssh_command(&bed.hosts()[0]);
        // A fake local display: ssh then forwards with made-up auth data.
        cmd.args([
            "-o",
            "ForwardX11=yes",
            "-o",
            "ForwardX11Trusted=yes",
            "echo \"[$DISPLAY]\"",
        ])
        .env("DISPLAY", ":97");
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            text(&out.stderr),
            bed.sshd_log()
        );
        text(&out.stdout)
    };
    let with = remote_display(true);
    assert!(
        with.starts_with("[localhost:") && with.ends_with(".0]"),
        "{with}"
    );
    assert_eq!(remote_display(false), "[]");
}

#[test]
fn remote_dir_is_writable_by_the_login_user() {
    let bed = Testbed::start(1).expect("testbed starts");
    let target = bed.remote_dir().join("written-remotely");
    let out = ssh_output(
        &bed,
        &bed.hosts()[0],
        format!("echo hello > {}", target.display()),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello\n");
    let home = ssh_output(&bed, &bed.hosts()[0], "echo $HOME");
    assert_eq!(Path::new(&text(&home.stdout)), bed.user_home());
    let whoami = ssh_output(&bed, &bed.hosts()[0], "id -un");
    assert_eq!(text(&whoami.stdout), bed.user());
}

#[test]
fn sftp_subsystem_accepts_uploads() {
    let bed = Testbed::start(1).expect("testbed starts");
    let host = &bed.hosts()[0];
    let local = bed.dir().join("upload-source");
    std::fs::write(&local, "payload\n").unwrap();
    let batch = bed.dir().join("sftp-batch");
    std::fs::write(
        &batch,
        format!(
            "put {} {}/uploaded\n",
            local.display(),
            bed.remote_dir().display()
        ),
    )
    .unwrap();
    let out = Command::new("sftp")
        .args(["-F", "/dev/null", "-i"])
        .arg(bed.identity())
        .args(["-P", &host.port.to_string(), "-o"])
        .arg(format!(
            "UserKnownHostsFile={}",
            bed.known_hosts().display()
        ))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-b",
        ])
        .arg(&batch)
        .arg(format!("{}@{}", bed.user(), host.ip))
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stderr),
        bed.sshd_log()
    );
    assert_eq!(
        std::fs::read_to_string(bed.remote_dir().join("uploaded")).unwrap(),
        "payload\n"
    );
}

#[test]
fn hosts_allow_tcp_forwarding_for_jump_hosts() {
    let bed = Testbed::start(2).expect("testbed starts");
    let (jump, target) = (&bed.hosts()[0], &bed.hosts()[1]);
    let jump_cmd = bed.ssh_command(jump);
    let proxy: Vec<String> = jump_cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .chain(["-W".into(), "%h:%p".into()])
        .collect();
    let mut cmd = bed.ssh_command(target);
    let args: Vec<_> = cmd.get_args().map(|a| a.to_os_string()).collect();
    cmd = Command::new("ssh");
    cmd.arg("-o")
        .arg(format!("ProxyCommand=ssh {}", proxy.join(" ")))
        .args(args)
        .arg("echo ok")
        .stdin(Stdio::null());
    let out = cmd.env_remove("SSH_AUTH_SOCK").output().unwrap();
    assert_stdout(&bed, &out, "ok");
}
