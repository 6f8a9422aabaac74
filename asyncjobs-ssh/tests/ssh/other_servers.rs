//! The library against SSH servers other than OpenSSH: Dropbear and tinysshd
//! (started by the harness on loopback). Commands, output, exit codes and
//! signals, host key checks, several sessions on one connection, jump hosts,
//! and file transfers where the server has SFTP (Dropbear) or a clear error
//! where it has none (tinysshd).

use std::time::Duration;

use crate::support::{node, node_builder, unique, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{
    ConnectError, ExitStatus, Pull, Push, Run, SshError, SshJob, SshNode, SshNodeBuilder,
};
use asyncjobs_tests::{SshServer, Testbed};

/// Starts a testbed of `server`, or fails the test saying what to install.
pub fn bed(server: SshServer, hosts: usize) -> Testbed {
    Testbed::start_server(server, hosts)
        .unwrap_or_else(|e| panic!("cannot start the loopback {server} testbed: {e}"))
}

fn connect(node: &SshNode) -> Result<(), ConnectError> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node.connect())
}

/// A node for host `i` of `bed` with only its user, port and no agent: the
/// test adds the key and known_hosts (the builder accumulates both).
fn bare_builder(bed: &Testbed, i: usize) -> SshNodeBuilder {
    let host = &bed.hosts()[i];
    SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(bed.user())
        .agent(false)
        .connect_timeout(Duration::from_secs(20))
        .formatter(Output::new().formatter())
}

/// The node of host `i` of `bed` checking keys against `known_hosts`.
fn node_with_known_hosts(bed: &Testbed, i: usize, known_hosts: &std::path::Path) -> SshNode {
    bare_builder(bed, i)
        .identity(bed.identity())
        .known_hosts_file(known_hosts)
        .build()
}

/// The same tests for every server kind, one module per kind.
macro_rules! every_server {
    ($name:ident, $server:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn commands_stream_stdout_and_stderr_and_return_exit_codes() {
                let bed = bed($server, 1);
                let out = Output::new();
                let n = node(&bed, &bed.hosts()[0], &out);
                let mut s = Scheduler::new().critical(false);
                let ok = s.add(SshJob::new(&n).run("echo out; echo err >&2"));
                let failed = s.add(SshJob::new(&n).run("echo oops >&2; exit 3").critical(false));
                assert!(
                    s.run().unwrap(),
                    "{}\n{}",
                    out.stderr(),
                    bed.sshd_log()
                );
                assert_eq!(ok.result().unwrap().stdout(), "out\n");
                let prefix = n.display_name();
                assert!(out.stdout().contains(&format!("{prefix}:out")), "{}", out.stdout());
                assert!(out.stderr().contains(&format!("{prefix}:err")), "{}", out.stderr());
                let e = failed.raised_exception().expect("exit 3 fails the job");
                match e.downcast_ref::<SshError>() {
                    Some(SshError::CommandFailed {
                        status,
                        stderr_tail,
                        ..
                    }) => {
                        assert_eq!(status, &ExitStatus::Code(3));
                        assert_eq!(stderr_tail, "oops");
                    }
                    other => panic!("expected CommandFailed, got {other:?}"),
                }
                s.shutdown().unwrap();
            }

            #[test]
            fn a_command_killed_by_a_signal_reports_the_signal() {
                let bed = bed($server, 1);
                let out = Output::new();
                let n = node(&bed, &bed.hosts()[0], &out);
                let mut s = Scheduler::new().critical(false);
                let killed = s.add(SshJob::new(&n).run("kill -TERM $$; sleep 5").critical(false));
                let allowed = s.add(
                    SshJob::new(&n).command(Run::new("kill -KILL $$").allow_exits(["KILL"])),
                );
                assert!(s.run().unwrap(), "{}", bed.sshd_log());
                let e = killed.raised_exception().expect("the signal fails the job");
                assert_eq!(
                    e.downcast_ref::<SshError>().and_then(SshError::status),
                    Some(&ExitStatus::Signal("TERM".into())),
                    "{e}"
                );
                assert!(e.to_string().contains("killed by signal TERM"), "{e}");
                assert_eq!(
                    allowed.result().unwrap().status(),
                    Some(&ExitStatus::Signal("KILL".into()))
                );
                s.shutdown().unwrap();
            }

            #[test]
            fn known_host_key_connects_and_unknown_or_changed_keys_are_refused() {
                let bed = bed($server, 2);
                let (known, other) = (&bed.hosts()[0], &bed.hosts()[1]);
                let only_first = bed.write_known_hosts(
                    "only_first",
                    &[format!("{} {}", known.known_hosts_name(), bed.host_public_key())],
                );
                connect(&node_with_known_hosts(&bed, 0, &only_first))
                    .unwrap_or_else(|e| panic!("{e}\n{}", bed.sshd_log()));
                let err = connect(&node_with_known_hosts(&bed, 1, &only_first)).unwrap_err();
                assert!(
                    matches!(&err, ConnectError::HostKeyUnknown { target, key_type, .. }
                        if *target == other.address() && key_type == "ssh-ed25519"),
                    "{err:?}"
                );
                // Another ed25519 key recorded for the host: a changed key.
                let impostor = std::fs::read_to_string(bed.wrong_identity().with_extension("pub"))
                    .unwrap_or_default();
                let impostor: Vec<&str> = impostor.split_whitespace().take(2).collect();
                let changed = bed.write_known_hosts(
                    "changed",
                    &[format!("{} {}", known.known_hosts_name(), impostor.join(" "))],
                );
                let err = connect(&node_with_known_hosts(&bed, 0, &changed)).unwrap_err();
                assert!(
                    matches!(&err, ConnectError::HostKeyChanged { line: 1, .. }),
                    "{err:?}"
                );
                assert!(err.to_string().contains("HAS CHANGED"), "{err}");
            }

            #[test]
            fn concurrent_jobs_and_successive_commands_on_one_node_all_run() {
                let bed = bed($server, 1);
                let out = Output::new();
                let n = node(&bed, &bed.hosts()[0], &out);
                let mut s = Scheduler::new();
                let jobs: Vec<_> = (0..4)
                    .map(|i| {
                        s.add(SshJob::new(&n).run(format!("sleep 0.2; echo job{i}")).run("echo next"))
                    })
                    .collect();
                let ran = s.run();
                let errors: Vec<String> = jobs
                    .iter()
                    .filter_map(|j| j.raised_exception().map(|e| e.to_string()))
                    .collect();
                assert!(
                    matches!(ran, Ok(true)),
                    "{ran:?} {errors:?}\n{}\n{}",
                    out.stderr(),
                    bed.sshd_log()
                );
                for (i, j) in jobs.iter().enumerate() {
                    assert_eq!(j.result().unwrap().stdout(), format!("job{i}\nnext\n"));
                }
                s.shutdown().unwrap();
            }

            #[test]
            fn wrong_key_is_refused_naming_the_user() {
                let bed = bed($server, 1);
                let n = bare_builder(&bed, 0)
                    .identity(bed.wrong_identity())
                    .known_hosts_file(bed.known_hosts())
                    .build();
                let err = connect(&n).unwrap_err();
                assert!(
                    matches!(&err, ConnectError::AuthRefused { user, .. } if user == bed.user()),
                    "{err:?}"
                );
            }
        }
    };
}

every_server!(dropbear, SshServer::Dropbear);
every_server!(tinysshd, SshServer::Tinysshd);

#[test]
fn dropbear_loses_no_command_among_many_concurrent_jobs_on_one_connection() {
    // Dropbear 2022.82 to 2024.85 may close a session opened while another
    // one's command exits, losing its output and status (its GitHub #321):
    // the library runs one session at a time on those versions.
    let bed = bed(SshServer::Dropbear, 1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    let jobs: Vec<_> = (0..40)
        .map(|i| s.add(SshJob::new(&n).run(format!("echo job{i}"))))
        .collect();
    let ran = s.run();
    let errors: Vec<String> = jobs
        .iter()
        .filter_map(|j| j.raised_exception().map(|e| e.to_string()))
        .collect();
    assert!(matches!(ran, Ok(true)), "{ran:?} {errors:?}");
    for (i, j) in jobs.iter().enumerate() {
        assert_eq!(j.result().unwrap().stdout(), format!("job{i}\n"));
    }
    assert_eq!(bed.established_connections(), 1);
    s.shutdown().unwrap();
}

#[test]
fn tinysshd_serves_one_session_per_connection_so_the_node_reconnects_for_each() {
    let bed = bed(SshServer::Tinysshd, 1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    // Three concurrent jobs (refused channels wait for a free slot) and one
    // job of two commands: five sessions.
    for i in 0..3 {
        s.add(SshJob::new(&n).run(format!("echo job{i}")));
    }
    let two = s.add(SshJob::new(&n).run("echo one").run("echo two"));
    assert!(
        matches!(s.run(), Ok(true)),
        "{}\n{}",
        out.stderr(),
        bed.sshd_log()
    );
    assert_eq!(two.result().unwrap().stdout(), "one\ntwo\n");
    let logins = bed.sshd_log().matches(" accepted ").count();
    assert_eq!(logins, 5, "one connection per session\n{}", bed.sshd_log());
    s.shutdown().unwrap();
}

#[test]
fn dropbear_push_and_pull_round_trip_through_openssh_sftp_server() {
    let bed = bed(SshServer::Dropbear, 1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let local = tempfile::tempdir().unwrap();
    let src = local.path().join("payload");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), "alpha\n").unwrap();
    let big: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    std::fs::write(src.join("sub/b.bin"), &big).unwrap();
    let remote = bed.remote_dir().join(unique("dropbear"));
    let remote = remote.to_str().unwrap().to_string();
    // Rounds of push, command, pull: each session starts as the one before
    // ends (Dropbear 2022.83 loses sessions opened while an sftp-server exits).
    let mut s = Scheduler::new();
    let mut before = None;
    let mut counts = Vec::new();
    for round in 0..3 {
        let dest = format!("{remote}/{round}/");
        let push = SshJob::new(&n).command(Push::new([&src], dest.clone()));
        let up = match &before {
            Some(b) => s.add(push.requires(b)),
            None => s.add(push),
        };
        let count = s.add(
            SshJob::new(&n)
                .run(format!("find {dest} -type f | wc -l"))
                .requires(&up),
        );
        let back = local.path().join(format!("back{round}"));
        before = Some(
            s.add(
                SshJob::new(&n)
                    .command(Pull::new([format!("{dest}payload")], &back))
                    .requires(&count),
            ),
        );
        counts.push(count);
    }
    let ok = s.run();
    assert!(
        matches!(ok, Ok(true)),
        "{ok:?}\n{}\n{}",
        out.stderr(),
        bed.sshd_log()
    );
    for (round, count) in counts.iter().enumerate() {
        assert_eq!(count.result().unwrap().stdout().trim(), "2");
        let back = local.path().join(format!("back{round}"));
        assert_eq!(std::fs::read(back.join("a.txt")).unwrap(), b"alpha\n");
        assert_eq!(std::fs::read(back.join("sub/b.bin")).unwrap(), big);
    }
    s.shutdown().unwrap();
}

#[test]
fn tinysshd_transfers_fail_saying_the_server_has_no_sftp() {
    let bed = bed(SshServer::Tinysshd, 1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let local = tempfile::tempdir().unwrap();
    let src = local.path().join("file.txt");
    std::fs::write(&src, "x\n").unwrap();
    let remote = bed.remote_dir().join(unique("tiny"));
    let mut s = Scheduler::new().critical(false);
    let push = s.add(
        SshJob::new(&n)
            .command(Push::new([&src], remote.to_str().unwrap()))
            .critical(false),
    );
    let pull = s.add(
        SshJob::new(&n)
            .command(Pull::new(["/etc/hostname"], local.path().join("h")))
            .critical(false)
            .requires(&push),
    );
    // Exec still works on the same node afterwards.
    let after = s.add(SshJob::new(&n).run("echo still here").requires(&pull));
    let ran = s.run();
    assert!(
        matches!(ran, Ok(true)),
        "{ran:?}: push {:?}, pull {:?}, after {:?}\n{}",
        push.raised_exception().map(|e| e.to_string()),
        pull.raised_exception().map(|e| e.to_string()),
        after.raised_exception().map(|e| e.to_string()),
        bed.sshd_log()
    );
    for job in [&push, &pull] {
        let e = job.raised_exception().expect("no SFTP: the transfer fails");
        let text = asyncjobs_core::ErrorChain(e.as_error()).to_string();
        assert!(
            text.contains("SFTP subsystem unavailable: the server refused the sftp subsystem")
                && text.contains("tinysshd: `-x sftp="),
            "{text}"
        );
    }
    assert!(!remote.exists());
    assert_eq!(after.result().unwrap().stdout(), "still here\n");
    s.shutdown().unwrap();
}

#[test]
fn a_node_behind_a_dropbear_gateway_runs_through_it() {
    let bed = bed(SshServer::Dropbear, 2);
    let out = Output::new();
    let gw = node(&bed, &bed.hosts()[0], &out);
    let target = node_builder(&bed, &bed.hosts()[1], &out)
        .gateway(&gw)
        .connect_timeout(Duration::from_secs(30))
        .build();
    let mut s = Scheduler::new();
    let h = s.add(SshJob::new(&target).run("echo behind"));
    assert!(
        matches!(s.run(), Ok(true)),
        "{}\n{}",
        out.stderr(),
        bed.sshd_log()
    );
    assert_eq!(h.result().unwrap().stdout(), "behind\n");
    s.shutdown().unwrap();
}

#[test]
fn tinysshd_as_a_gateway_refuses_the_tunnel_and_the_error_says_so() {
    // tinysshd does no port forwarding (no direct-tcpip channels).
    let gw_bed = bed(SshServer::Tinysshd, 1);
    let target_bed = bed(SshServer::Dropbear, 1);
    let out = Output::new();
    let gw = node(&gw_bed, &gw_bed.hosts()[0], &out);
    let target = node_builder(&target_bed, &target_bed.hosts()[0], &out)
        .gateway(&gw)
        .build();
    let err = connect(&target).unwrap_err();
    match &err {
        ConnectError::Tunnel {
            gateway, message, ..
        } => {
            assert_eq!(gateway, &gw.to_string());
            assert!(message.contains("channel open refused"), "{message}");
        }
        other => panic!("expected Tunnel, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("gateway {gw} could not open a tunnel")),
        "{err}"
    );
}
