//! `ajssh` against Dropbear and tinysshd, and with IPv6 targets (`[::1]:PORT`,
//! `user@[::1]:PORT`, jump hosts on `::1`): output, exit codes, signals, host
//! keys, transfers where the server has SFTP and the error where it has none.

use crate::support::{ajssh, ajssh_bare, label, labels, run, target, Run};
use asyncjobs_tests::{SshServer, Testbed, TestbedConfig};

fn bed(server: SshServer, ipv6: bool, hosts: usize) -> Testbed {
    Testbed::start_with(TestbedConfig {
        hosts,
        server,
        ipv6,
        ..TestbedConfig::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the {server} testbed (ipv6: {ipv6}): {e}"))
}

/// Runs `command` on every host of `bed` with the default output.
fn on_all(bed: &Testbed, command: &str) -> Run {
    run(ajssh(bed)
        .args(bed.hosts().iter().map(target))
        .args(["--", command]))
}

/// The same CLI behaviour on every server kind.
macro_rules! every_server {
    ($name:ident, $server:expr, $ipv6:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn output_is_prefixed_and_a_failure_exits_1_naming_host_and_code() {
                let bed = bed($server, $ipv6, 2);
                let r = on_all(&bed, "echo hello; echo oops >&2");
                assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
                let shown = labels(bed.hosts());
                let mut expected: Vec<String> =
                    shown.iter().map(|h| format!("{h}:hello")).collect();
                expected.sort();
                assert_eq!(r.sorted_lines(), expected);
                for h in &shown {
                    assert!(r.stderr.contains(&format!("{h}:oops\n")), "{}", r.stderr);
                }
                let r = on_all(&bed, "exit 7");
                assert_eq!(r.code, 1, "{r:?}");
                assert!(
                    r.stderr.contains("0 ok, 2 failed, 0 unreachable"),
                    "{}",
                    r.stderr
                );
                // the two hosts failed alike: one folded summary line
                assert!(r.stderr.contains(" (2): exit 7\n"), "{}", r.stderr);
            }

            #[test]
            fn a_command_killed_by_a_signal_is_reported_with_the_signal() {
                let bed = bed($server, $ipv6, 1);
                let r = on_all(&bed, "kill -TERM $$");
                assert_eq!(r.code, 1, "{r:?}\n{}", bed.sshd_log());
                assert!(r.stderr.contains("killed by signal TERM"), "{}", r.stderr);
            }

            #[test]
            fn unknown_and_changed_host_keys_make_the_host_unreachable() {
                let bed = bed($server, $ipv6, 1);
                let host = &bed.hosts()[0];
                let h = target(host);
                let with_known_hosts = |file: &std::path::Path| {
                    let mut c = ajssh_bare();
                    c.args(["-F", "none", "-u", bed.user(), "-i"])
                        .arg(bed.identity())
                        .arg("--known-hosts")
                        .arg(file);
                    c
                };
                let empty = bed.write_known_hosts("empty", &[]);
                let r = run(with_known_hosts(&empty).args([&h, "--", "true"]));
                assert_eq!(r.code, 2, "{r:?}");
                assert!(r.stderr.contains("is UNKNOWN"), "{}", r.stderr);
                let other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
                let changed = bed.write_known_hosts(
                    "changed",
                    &[format!("{} ssh-ed25519 {other}", host.known_hosts_name())],
                );
                let r = run(with_known_hosts(&changed).args([&h, "--", "true"]));
                assert_eq!(r.code, 2, "{r:?}");
                assert!(r.stderr.contains("HAS CHANGED"), "{}", r.stderr);
                let r = run(with_known_hosts(bed.known_hosts()).args([&h, "--", "true"]));
                assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
            }
        }
    };
}

every_server!(dropbear, SshServer::Dropbear, false);
every_server!(tinysshd, SshServer::Tinysshd, false);
every_server!(openssh_ipv6, SshServer::OpenSsh, true);

#[test]
fn dropbear_push_script_and_pull() {
    let bed = bed(SshServer::Dropbear, false, 2);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("check.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"args: $*\"\n").unwrap();
    let remote = bed
        .remote_dir()
        .join(format!("cli-dropbear-{}", std::process::id()));
    let payload = dir.path().join("payload.txt");
    std::fs::write(&payload, "pushed\n").unwrap();
    let h0 = target(&bed.hosts()[0]);
    let r = run(ajssh(&bed)
        .args([&h0, "--push"])
        .arg(&payload)
        .arg("--to")
        .arg(format!("{}/", remote.display()))
        .arg("-s")
        .arg(&script)
        .args(["--", "one", "'two words'"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert_eq!(
        r.stdout,
        format!("{}:args: one two words\n", label(&bed.hosts()[0]))
    );
    let into = dir.path().join("pulled");
    let r = run(ajssh(&bed)
        .args(bed.hosts().iter().map(target))
        .arg("--pull")
        .arg(remote.join("payload.txt"))
        .arg("--into")
        .arg(&into));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    for h in bed.hosts() {
        assert_eq!(
            std::fs::read_to_string(into.join(target(h)).join("payload.txt")).unwrap(),
            "pushed\n"
        );
    }
}

#[test]
fn tinysshd_transfers_fail_saying_the_server_has_no_sftp_and_commands_still_run() {
    let bed = bed(SshServer::Tinysshd, false, 1);
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("payload.txt");
    std::fs::write(&payload, "x\n").unwrap();
    let h = target(&bed.hosts()[0]);
    let remote = bed.remote_dir().join("never");
    let r = run(ajssh(&bed)
        .args([&h, "--push"])
        .arg(&payload)
        .arg("--to")
        .arg(&remote));
    assert_eq!(r.code, 1, "{r:?}\n{}", bed.sshd_log());
    assert!(
        r.stderr.contains("SFTP subsystem unavailable")
            && r.stderr.contains("tinysshd: `-x sftp=PATH`"),
        "{}",
        r.stderr
    );
    assert!(!remote.exists());
    let script = dir.path().join("s.sh");
    std::fs::write(&script, "#!/bin/sh\necho ran\n").unwrap();
    let r = run(ajssh(&bed).args([&h, "-s"]).arg(&script));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("SFTP subsystem unavailable"),
        "{}",
        r.stderr
    );
    let r = run(ajssh(&bed).args([&h, "--", "echo still fine"]));
    assert_eq!(
        r.stdout,
        format!("{}:still fine\n", label(&bed.hosts()[0])),
        "{r:?}"
    );
}

#[test]
fn ipv6_targets_take_a_user_and_reach_the_server_on_loopback_v6() {
    let bed = bed(SshServer::OpenSsh, true, 2);
    let [a, b] = [0, 1].map(|i| bed.hosts()[i].port);
    let with_user = format!("{}@[::1]:{b}", bed.user());
    let r = run(ajssh(&bed).args([
        &format!("[::1]:{a}"),
        &with_user,
        "--",
        "echo $SSH_CONNECTION",
    ]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    // `[::1]:PORT:` then $SSH_CONNECTION: the client and the server on ::1.
    let mut expected: Vec<String> = [a, b]
        .iter()
        .map(|p| format!("[::1]:{p}:::1 ::1 {p}"))
        .collect();
    expected.sort();
    let seen: Vec<String> = r
        .sorted_lines()
        .iter()
        .map(|l| {
            // drop the client's ephemeral port
            let words: Vec<&str> = l.split(' ').collect();
            format!("{} {} {}", words[0], words[2], words[3])
        })
        .collect();
    assert_eq!(seen, expected, "{r:?}");
    // Without brackets the port cannot be told from the address.
    let r = run(ajssh(&bed).args([&format!("::1:{a}"), "--", "true"]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(r.stderr.contains("[::1]:22"), "{}", r.stderr);
}

#[test]
fn ipv6_jump_hosts_and_per_target_gateways() {
    let bed = bed(SshServer::OpenSsh, true, 3);
    let [gw, h1, h2] = [0, 1, 2].map(|i| target(&bed.hosts()[i]));
    let jump = format!("{}@{gw}", bed.user());
    let r = run(ajssh(&bed)
        .args(["-v", "-J", &jump, &h1, &format!("{gw}->{h2}")])
        .args(["--", "echo up"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert_eq!(
        r.stdout.lines().filter(|l| l.ends_with(":up")).count(),
        2,
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(&format!(
            "{h1}:========== Connecting (tunnelled via {jump})"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn ipv6_out_dir_and_pull_into_use_the_bracketed_target_as_name() {
    let bed = bed(SshServer::Dropbear, true, 1);
    let h = target(&bed.hosts()[0]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let r = run(ajssh(&bed).arg("-d").arg(&out).args([&h, "--", "echo six"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert_eq!(std::fs::read_to_string(out.join(&h)).unwrap(), "six\n");
    let file = bed.remote_dir().join("v6.txt");
    std::fs::write(&file, "pulled over ::1\n").unwrap();
    let into = dir.path().join("pulled");
    let r = run(ajssh(&bed)
        .args([&h, "--pull"])
        .arg(&file)
        .arg("--into")
        .arg(&into));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert_eq!(
        std::fs::read_to_string(into.join(&h).join("v6.txt")).unwrap(),
        "pulled over ::1\n"
    );
}
