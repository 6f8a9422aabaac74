//! The testbed with Dropbear and tinysshd, and on the IPv6 loopback `::1`,
//! checked with the OpenSSH client: the same behaviour as the OpenSSH testbed.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use asyncjobs_tests::{HarnessError, SshServer, Testbed, TestbedConfig};

/// Upper bound for waits on asynchronous effects (never a performance threshold).
const PATIENCE: Duration = Duration::from_secs(20);

fn start(server: SshServer, ipv6: bool, hosts: usize) -> Testbed {
    Testbed::start_with(TestbedConfig {
        hosts,
        server,
        ipv6,
        ..TestbedConfig::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the {server} testbed (ipv6: {ipv6}): {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

fn ssh_output(bed: &Testbed, i: usize, command: &str) -> Output {
    bed.ssh_command(&bed.hosts()[i])
        .arg(command)
        .output()
        .unwrap()
}

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

fn pid_runs_in(pid: u32, dir: &Path) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(&*dir.to_string_lossy()))
        .unwrap_or(false)
}

fn home_authorized_keys(bed: &Testbed) -> String {
    std::fs::read_to_string(bed.user_home().join(".ssh/authorized_keys")).unwrap_or_default()
}

/// `sftp` (OpenSSH) uploading `payload` to `remote_dir()/uploaded` of host 0.
fn sftp_put(bed: &Testbed, payload: &str) -> Output {
    let host = &bed.hosts()[0];
    let local = bed.dir().join("upload-source");
    std::fs::write(&local, payload).unwrap();
    let batch = bed.dir().join("sftp-batch");
    let line = format!(
        "put {} {}/uploaded\n",
        local.display(),
        bed.remote_dir().display()
    );
    std::fs::write(&batch, line).unwrap();
    Command::new("sftp")
        .args(["-F", "/dev/null", "-i"])
        .arg(bed.identity())
        .args(["-P", &host.port.to_string(), "-o"])
        .arg(format!(
            "UserKnownHostsFile={}",
            bed.known_hosts().display()
        ))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args(["-o", "IdentitiesOnly=yes", "-b"])
        .arg(&batch)
        // sftp reads `host:path`: an IPv6 address needs its brackets.
        .arg(format!("{}@[{}]", bed.user(), host.ip))
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The behaviour every server kind shares, as one module of tests per kind.
macro_rules! same_behaviour {
    ($name:ident, $server:expr, $ipv6:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn every_host_answers_with_the_host_key_of_known_hosts() {
                let bed = start($server, $ipv6, 3);
                assert_eq!(bed.server(), $server);
                assert_eq!(bed.hosts().len(), 3);
                assert!(bed.hosts().iter().all(|h| h.is_ipv6() == $ipv6));
                let lines = std::fs::read_to_string(bed.known_hosts()).unwrap();
                for h in bed.hosts() {
                    let line = format!("{} {}", h.known_hosts_name(), bed.host_public_key());
                    assert!(lines.contains(&line), "{line} not in {lines}");
                }
                // ssh_command checks the key strictly: a wrong line would fail here.
                for (h, out) in bed.hosts().iter().zip(bed.ssh_all("echo ok", 3)) {
                    let out = out.unwrap();
                    assert_eq!(
                        text(&out.stdout),
                        "ok",
                        "{}: {}\n{}",
                        h.address(),
                        text(&out.stderr),
                        bed.sshd_log()
                    );
                }
            }

            #[test]
            fn stdout_stderr_and_exit_code_come_back() {
                let bed = start($server, $ipv6, 1);
                let out = ssh_output(&bed, 0, "echo out; echo err >&2; exit 3");
                assert_eq!(text(&out.stdout), "out", "{}", bed.sshd_log());
                assert_eq!(text(&out.stderr), "err");
                assert_eq!(out.status.code(), Some(3));
                let who = ssh_output(&bed, 0, "id -un");
                assert_eq!(text(&who.stdout), bed.user());
            }

            #[test]
            fn wrong_identity_is_refused() {
                let bed = start($server, $ipv6, 1);
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

            #[test]
            fn closed_port_refuses_connections() {
                let bed = start($server, $ipv6, 1);
                let closed = bed.closed_port();
                assert!(!bed.hosts().contains(&closed));
                assert_eq!(closed.is_ipv6(), $ipv6);
                let err = std::net::TcpStream::connect(closed.address()).expect_err("closed");
                assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
            }

            #[test]
            fn probes_see_the_connection_and_the_remote_process() {
                let bed = start($server, $ipv6, 1);
                let pattern = format!("sleep 71{}", std::process::id() % 1000);
                assert_eq!(bed.remote_processes(&pattern), 0);
                assert_eq!(bed.established_connections(), 0);
                let child = bed
                    .ssh_command(&bed.hosts()[0])
                    .arg(format!("echo $$; exec {pattern}"))
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
                    eventually(|| bed.remote_processes(&pattern) == 1),
                    "remote sleep not seen\n{}",
                    bed.sshd_log()
                );
                assert!(bed.established_connections() >= 1);
                let kill = ssh_output(&bed, 0, &format!("kill {pid}"));
                assert!(kill.status.success(), "{}", text(&kill.stderr));
                assert!(
                    eventually(|| bed.remote_processes(&pattern) == 0),
                    "remote sleep still running"
                );
                let _ = child.0.wait();
                assert!(
                    eventually(|| bed.established_connections() == 0),
                    "connections left open"
                );
            }

            #[test]
            fn drop_stops_the_servers_and_removes_the_keys_it_added() {
                let bed = start($server, $ipv6, 2);
                let pids = bed.sshd_pids();
                let dir = bed.dir().to_path_buf();
                let tag = dir.file_name().unwrap().to_string_lossy().into_owned();
                assert!(pids.iter().all(|p| pid_runs_in(*p, &dir)));
                let uses_home = $server != SshServer::OpenSsh;
                assert_eq!(home_authorized_keys(&bed).contains(&tag), uses_home);
                let hosts = bed.hosts().to_vec();
                let home = bed.user_home().to_path_buf();
                drop(bed);
                for pid in pids {
                    assert!(!pid_runs_in(pid, &dir), "server {pid} still running");
                }
                assert!(!dir.exists());
                let keys =
                    std::fs::read_to_string(home.join(".ssh/authorized_keys")).unwrap_or_default();
                assert!(!keys.contains(&tag), "{tag} left in authorized_keys");
                for h in hosts {
                    assert!(
                        std::net::TcpStream::connect(h.address()).is_err(),
                        "{} still accepts",
                        h.address()
                    );
                }
            }
        }
    };
}

same_behaviour!(dropbear, SshServer::Dropbear, false);
same_behaviour!(tinysshd, SshServer::Tinysshd, false);
same_behaviour!(openssh_ipv6, SshServer::OpenSsh, true);
same_behaviour!(dropbear_ipv6, SshServer::Dropbear, true);
same_behaviour!(tinysshd_ipv6, SshServer::Tinysshd, true);

#[test]
fn twelve_dropbear_hosts_run_in_two_processes() {
    let bed = start(SshServer::Dropbear, false, 12);
    assert_eq!(bed.sshd_pids().len(), 2);
    assert_eq!(bed.listening_hosts(), 12);
}

#[test]
fn every_tinysshd_host_has_its_own_socat() {
    let bed = start(SshServer::Tinysshd, false, 3);
    assert_eq!(bed.sshd_pids().len(), 3);
}

#[test]
fn ipv6_hosts_share_the_loopback_address_on_distinct_ports() {
    let bed = start(SshServer::OpenSsh, true, 20);
    let mut ports: Vec<u16> = bed.hosts().iter().map(|h| h.port).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 20);
    assert!(bed.hosts().iter().all(|h| h.ip == "::1"));
    assert_eq!(bed.listening_hosts(), 20);
}

#[test]
fn dropbear_serves_sftp_with_openssh_sftp_server() {
    for ipv6 in [false, true] {
        let bed = start(SshServer::Dropbear, ipv6, 1);
        let out = sftp_put(&bed, "payload\n");
        assert!(
            out.status.success(),
            "{}\n{}",
            text(&out.stderr),
            bed.sshd_log()
        );
        let uploaded = std::fs::read_to_string(bed.remote_dir().join("uploaded")).unwrap();
        assert_eq!(uploaded, "payload\n");
    }
}

#[test]
fn tinysshd_has_no_sftp_subsystem() {
    let bed = start(SshServer::Tinysshd, false, 1);
    let out = sftp_put(&bed, "payload\n");
    assert!(!out.status.success());
    assert!(!bed.remote_dir().join("uploaded").exists());
    // tinysshd rejects the subsystem request and drops the connection.
    assert!(
        text(&out.stderr).contains("Connection closed"),
        "{}\n{}",
        text(&out.stderr),
        bed.sshd_log()
    );
}

#[test]
fn openssh_settings_are_refused_for_other_servers() {
    for server in [SshServer::Dropbear, SshServer::Tinysshd] {
        let err = Testbed::start_with(TestbedConfig {
            server,
            x11: true,
            ..TestbedConfig::default()
        })
        .unwrap_err();
        assert!(matches!(err, HarnessError::InvalidConfig(_)), "{err}");
        assert!(err.to_string().contains(server.name()), "{err}");
    }
}

#[test]
fn concurrent_dropbear_and_tinysshd_testbeds_share_the_home_safely() {
    // Each adds and removes its own authorized_keys lines under the lock.
    let beds: Vec<Testbed> = std::thread::scope(|s| {
        let handles: Vec<_> = [
            SshServer::Dropbear,
            SshServer::Tinysshd,
            SshServer::Dropbear,
            SshServer::Tinysshd,
        ]
        .map(|server| s.spawn(move || start(server, false, 1)))
        .into_iter()
        .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for bed in &beds {
        let out = ssh_output(bed, 0, "echo ok");
        assert_eq!(text(&out.stdout), "ok", "{}", bed.sshd_log());
    }
    let tags: Vec<String> = beds
        .iter()
        .map(|b| b.dir().file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let keys = home_authorized_keys(&beds[0]);
    assert!(tags.iter().all(|t| keys.contains(t)), "{keys}");
    let home = beds[0].user_home().to_path_buf();
    drop(beds);
    let keys = std::fs::read_to_string(home.join(".ssh/authorized_keys")).unwrap_or_default();
    assert!(tags.iter().all(|t| !keys.contains(t)), "{keys}");
}

/// Run by [`an_ipv6_testbed_where_ipv6_is_disabled_fails_saying_so`] inside a
/// network namespace whose loopback has IPv6 disabled; ignored otherwise.
#[test]
#[ignore = "run inside a namespace without IPv6 by the test below"]
fn ipv6_testbed_in_a_namespace_without_ipv6() {
    let err = Testbed::start_with(TestbedConfig {
        ipv6: true,
        ..TestbedConfig::default()
    })
    .expect_err("::1 must be unusable in this namespace");
    assert!(matches!(err, HarnessError::Ipv6Unavailable { .. }), "{err}");
    println!("REPORTED: {err}");
}

#[test]
fn an_ipv6_testbed_where_ipv6_is_disabled_fails_saying_so() {
    // A private network namespace (unprivileged too, through a user namespace)
    // with IPv6 switched off on its loopback, running the test above.
    let exe = std::env::current_exe().unwrap();
    // the test's path in this binary: its module path without the crate's name
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let script = format!(
        "ip link set lo up && echo 1 > /proc/sys/net/ipv6/conf/lo/disable_ipv6 && \
         exec '{}' --ignored --exact {module}::ipv6_testbed_in_a_namespace_without_ipv6 --nocapture",
        exe.display()
    );
    let out = Command::new("unshare")
        .args(["--net", "--map-root-user", "sh", "-c", &script])
        .output()
        .expect("unshare runs (package util-linux)");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("REPORTED: IPv6 loopback [::1] is not usable on this machine")
            && stdout.contains("disable_ipv6 = 1"),
        "{stdout}"
    );
}
