//! IPv6 loopback targets: `SshNode` with host `::1`, known_hosts `[::1]:port`
//! lines (checked, and written by accept-new in the form OpenSSH reads), jump
//! hosts to and through `::1`, transfers; against OpenSSH, Dropbear and tinysshd
//! listening on `::1`. Where `::1` is unusable the harness fails the test
//! saying so (never a silent pass).

use std::process::Stdio;
use std::time::Duration;

use crate::support::{node, node_builder, unique, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{ConnectError, HostKeyPolicy, Pull, Push, SshJob, SshNode, SshNodeBuilder};
use asyncjobs_tests::{SshServer, Testbed, TestbedConfig};

/// A testbed of `server` on `::1`, or the harness's reason (e.g. IPv6 disabled).
fn bed6(server: SshServer, hosts: usize) -> Testbed {
    Testbed::start_with(TestbedConfig {
        hosts,
        server,
        ipv6: true,
        ..TestbedConfig::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the {server} testbed on ::1: {e}"))
}

/// A node for host `i` of `bed` checking host keys against `known_hosts` only
/// (the support builder also names the testbed's own known_hosts).
fn builder(bed: &Testbed, i: usize, known_hosts: &std::path::Path) -> SshNodeBuilder {
    let host = &bed.hosts()[i];
    SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(bed.user())
        .identity(bed.identity())
        .agent(false)
        .known_hosts_file(known_hosts)
        .connect_timeout(Duration::from_secs(20))
        .formatter(Output::new().formatter())
}

fn connect(node: &SshNode) -> Result<(), ConnectError> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node.connect())
}

#[test]
fn commands_run_on_an_ipv6_host_of_every_server_kind() {
    for server in [SshServer::OpenSsh, SshServer::Dropbear, SshServer::Tinysshd] {
        let bed = bed6(server, 1);
        let host = &bed.hosts()[0];
        assert_eq!(host.ip, "::1");
        let out = Output::new();
        let n = node(&bed, host, &out);
        assert_eq!(n.target(), format!("[::1]:{}", host.port));
        let mut s = Scheduler::new();
        // The server sees the client on ::1 too.
        let h = s.add(SshJob::new(&n).run("echo $SSH_CONNECTION"));
        assert!(
            matches!(s.run(), Ok(true)),
            "{server}: {}\n{}",
            out.stderr(),
            bed.sshd_log()
        );
        let seen = h.result().unwrap().stdout();
        assert!(
            seen.starts_with("::1 ") && seen.contains(&format!(" ::1 {}", host.port)),
            "{server}: {seen}"
        );
        s.shutdown().unwrap();
    }
}

#[test]
fn ipv6_host_keys_are_checked_under_their_bracketed_name() {
    let bed = bed6(SshServer::OpenSsh, 2);
    let (known, unknown) = (&bed.hosts()[0], &bed.hosts()[1]);
    let line = format!("[::1]:{} {}", known.port, bed.host_public_key());
    let kh = bed.write_known_hosts("only_first", std::slice::from_ref(&line));
    let with_kh = |i: usize| builder(&bed, i, &kh).build();
    connect(&with_kh(0)).unwrap_or_else(|e| panic!("{e}\n{}", bed.sshd_log()));
    let err = connect(&with_kh(1)).unwrap_err();
    assert!(
        matches!(&err, ConnectError::HostKeyUnknown { target, .. }
            if *target == format!("[::1]:{}", unknown.port)),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("ssh-keyscan -p {} ::1 >>", unknown.port)),
        "{text}"
    );
    // Another key recorded for [::1]:port: changed, refused, with the ssh-keygen -R name.
    let other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let changed = bed.write_known_hosts(
        "changed",
        &[format!("[::1]:{} ssh-ed25519 {other}", known.port)],
    );
    let n = builder(&bed, 0, &changed).build();
    let err = connect(&n).unwrap_err();
    assert!(
        matches!(err, ConnectError::HostKeyChanged { line: 1, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("ssh-keygen -R '[::1]:{}'", known.port)),
        "{err}"
    );
}

#[test]
fn accept_new_records_an_ipv6_host_as_openssh_reads_it() {
    let bed = bed6(SshServer::OpenSsh, 1);
    let host = &bed.hosts()[0];
    let kh = bed.dir().join("recorded_known_hosts");
    let n = builder(&bed, 0, &kh)
        .host_key_policy(HostKeyPolicy::AcceptNew)
        .build();
    connect(&n).unwrap_or_else(|e| panic!("{e}\n{}", bed.sshd_log()));
    let text = std::fs::read_to_string(&kh).unwrap();
    assert_eq!(
        text,
        format!("[::1]:{} {}\n", host.port, bed.host_public_key())
    );
    // The oracle: OpenSSH's client, strict, accepts the file we wrote.
    let out = bed
        .ssh_command(host)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .arg("echo ok")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn jump_hosts_reach_ipv6_targets_and_go_through_ipv6_gateways() {
    let v6 = bed6(SshServer::OpenSsh, 2);
    let v4 = Testbed::start(1).expect("IPv4 testbed starts");
    let out = Output::new();
    let gw6 = node(&v6, &v6.hosts()[0], &out);
    let gw4 = node(&v4, &v4.hosts()[0], &out);
    // ::1 through ::1, ::1 through 127.x, 127.x through ::1
    let routes = [
        (
            node_builder(&v6, &v6.hosts()[1], &out)
                .gateway(&gw6)
                .build(),
            "6 via 6",
        ),
        (
            node_builder(&v6, &v6.hosts()[1], &out)
                .gateway(&gw4)
                .build(),
            "6 via 4",
        ),
        (
            node_builder(&v4, &v4.hosts()[0], &out)
                .gateway(&gw6)
                .build(),
            "4 via 6",
        ),
    ];
    let mut s = Scheduler::new();
    let jobs: Vec<_> = routes
        .iter()
        .map(|(n, name)| (s.add(SshJob::new(n).run(format!("echo {name}"))), *name))
        .collect();
    assert!(
        matches!(s.run(), Ok(true)),
        "{}\n{}\n{}",
        out.stderr(),
        v6.sshd_log(),
        v4.sshd_log()
    );
    for (job, name) in jobs {
        assert_eq!(job.result().unwrap().stdout(), format!("{name}\n"));
    }
    s.shutdown().unwrap();
}

#[test]
fn push_and_pull_work_over_ipv6() {
    for server in [SshServer::OpenSsh, SshServer::Dropbear] {
        let bed = bed6(server, 1);
        let out = Output::new();
        let n = node_builder(&bed, &bed.hosts()[0], &out)
            .connect_timeout(Duration::from_secs(30))
            .build();
        let local = tempfile::tempdir().unwrap();
        let src = local.path().join("six.txt");
        std::fs::write(&src, "over ::1\n").unwrap();
        let remote = bed.remote_dir().join(unique("v6"));
        let remote = remote.to_str().unwrap().to_string();
        let back = local.path().join("back.txt");
        let mut s = Scheduler::new();
        let up = s.add(SshJob::new(&n).command(Push::new([&src], remote.clone())));
        s.add(
            SshJob::new(&n)
                .command(Pull::new([remote], &back))
                .requires(&up),
        );
        assert!(
            matches!(s.run(), Ok(true)),
            "{server}: {}\n{}",
            out.stderr(),
            bed.sshd_log()
        );
        assert_eq!(std::fs::read_to_string(&back).unwrap(), "over ::1\n");
        s.shutdown().unwrap();
    }
}
