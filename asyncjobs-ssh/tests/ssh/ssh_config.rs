//! Nodes resolved from an ssh config against real sshd: aliases of harness
//! hosts, ProxyCommand (`ssh -W` through a gateway host, a plain `socat`
//! relay), HostKeyAlias, and issue 10's Match repro.

use std::path::{Path, PathBuf};
use std::time::Duration;

use asyncjobs_core::Scheduler;
use asyncjobs_ssh::config::{ConfigError, SshConfig};
use asyncjobs_ssh::{ConnectError, SshJob, SshNode};
use asyncjobs_tests::{Host, Testbed};

use crate::support::{eventually, testbed, unique, Output};

/// A `Host` block giving `alias` the address, port, user and key of `host`,
/// checked against `known_hosts` only (no agent, no global file).
fn alias_block(bed: &Testbed, alias: &str, host: &Host, known_hosts: &Path) -> String {
    format!(
        "Host {alias}\n    HostName {}\n    Port {}\n    User {}\n    IdentityFile {}\n    \
         IdentitiesOnly yes\n    UserKnownHostsFile {}\n    GlobalKnownHostsFile none\n    \
         StrictHostKeyChecking yes\n    ConnectTimeout 20\n",
        host.ip,
        host.port,
        bed.user(),
        bed.identity().display(),
        known_hosts.display()
    )
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("ssh_config");
    std::fs::write(&path, text).expect("write ssh config");
    path
}

/// Local processes whose command line contains `marker`.
fn local_processes(marker: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|c| String::from_utf8_lossy(c).contains(marker))
        .count()
}

/// Runs `command` on `node`; its stdout, or the error as text.
fn run_on(node: &SshNode, command: &str) -> Result<String, String> {
    let mut s = Scheduler::new().critical(false);
    let h = s.add(SshJob::new(node).run(command).critical(false));
    let ok = s.run().map_err(|e| e.to_string())?;
    let out = match h.result() {
        Some(r) if ok => Ok(r.stdout().to_string()),
        _ => Err(h
            .raised_exception()
            .map_or_else(|| "no result".into(), |e| e.to_string())),
    };
    s.shutdown().map_err(|e| e.to_string())?;
    out
}

/// The node `cfg` gives `alias`, its output captured (not on the test's stdout).
fn quiet_node(cfg: &SshConfig, alias: &str) -> SshNode {
    cfg.node_builder(alias)
        .unwrap_or_else(|e| panic!("{alias}: {e}"))
        .formatter(Output::new().formatter())
        .build()
}

fn connect(node: &SshNode) -> Result<(), ConnectError> {
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(node.connect())
}

/// `ssh -W %h:%p` through `gw` with the harness's OpenSSH client; `marker`
/// makes the process findable.
fn ssh_w(bed: &Testbed, gw: &Host, marker: &str) -> String {
    format!(
        "ssh -F /dev/null -i {} -p {} -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null \
         -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR \
         -o SendEnv={marker} -W %h:%p {}@{}",
        bed.identity().display(),
        gw.port,
        bed.known_hosts().display(),
        bed.user(),
        gw.ip
    )
}

#[test]
fn a_node_from_the_config_reaches_the_host_an_alias_names_as_ssh_does() {
    let bed = testbed(1);
    let h = &bed.hosts()[0];
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &alias_block(&bed, "node01", h, bed.known_hosts()),
    );
    let ssh = std::process::Command::new("ssh")
        .args(["-F"])
        .arg(&cfg)
        .args(["-o", "BatchMode=yes", "node01", "echo via-ssh"])
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ssh.stdout),
        "via-ssh\n",
        "ssh node01 works"
    );
    let node = quiet_node(&SshConfig::load_file(&cfg).unwrap(), "node01");
    assert_eq!(node.hostname(), h.ip);
    assert_eq!(node.port(), h.port);
    assert_eq!(node.user(), bed.user());
    assert_eq!(run_on(&node, "echo via-config"), Ok("via-config\n".into()));
    // without the config, the alias is just a name that does not resolve
    let err = connect(&SshNode::new("node01")).unwrap_err();
    assert_eq!(err.kind(), "DnsError", "{err}");
}

#[test]
fn jump_hosts_of_the_config_carry_the_connection() {
    let bed = testbed(3);
    let [a, b, c] = [&bed.hosts()[0], &bed.hosts()[1], &bed.hosts()[2]];
    let dir = tempfile::tempdir().unwrap();
    let kh = bed.known_hosts();
    let text = format!(
        "{}    ProxyJump gw2\n{}    ProxyJump gw1\n{}",
        alias_block(&bed, "target", c, kh),
        alias_block(&bed, "gw2", b, kh),
        alias_block(&bed, "gw1", a, kh),
    );
    let cfg = SshConfig::load_file(write_config(dir.path(), &text)).unwrap();
    let node = quiet_node(&cfg, "target");
    assert_eq!(node.distance(), 3);
    assert_eq!(
        run_on(&node, "echo two hops"),
        Ok("two hops\n".into()),
        "{}",
        bed.sshd_log()
    );
}

#[test]
fn proxy_command_ssh_w_through_a_gateway_carries_the_session_and_ends_with_it() {
    let bed = testbed(2);
    let (gw, target) = (&bed.hosts()[0], &bed.hosts()[1]);
    let dir = tempfile::tempdir().unwrap();
    let marker = unique("AJPROXYW");
    let text = format!(
        "{}    ProxyCommand {}\n",
        alias_block(&bed, "behind", target, bed.known_hosts()),
        ssh_w(&bed, gw, &marker)
    );
    let cfg = SshConfig::load_file(write_config(dir.path(), &text)).unwrap();
    let out = Output::new();
    let node = cfg
        .node_builder("behind")
        .unwrap()
        .formatter(out.formatter())
        .build();
    assert!(node
        .proxy_command()
        .is_some_and(|c| c.contains(&format!("-W {}:{}", target.ip, target.port))));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(node.connect())
        .unwrap_or_else(|e| panic!("{e}\n{}", bed.sshd_log()));
    assert_eq!(
        local_processes(&marker),
        1,
        "the proxy runs while connected"
    );
    // the gateway's sshd carries it: its session, and the tunnelled TCP connection
    assert_eq!(bed.established_connections(), 2);
    assert_eq!(
        run_on(&node, "echo through-proxy"),
        Ok("through-proxy\n".into())
    );
    rt.block_on(node.close());
    assert_eq!(
        local_processes(&marker),
        0,
        "closing the connection ends the proxy"
    );
    assert!(eventually(Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}

#[test]
fn proxy_command_through_a_plain_relay_works_and_its_stderr_reaches_the_host_stderr() {
    if std::process::Command::new("socat")
        .arg("-V")
        .output()
        .is_err()
    {
        panic!("socat is needed (apt-get install -y socat): the harness installs it for tinysshd");
    }
    let bed = testbed(1);
    let h = &bed.hosts()[0];
    let dir = tempfile::tempdir().unwrap();
    let marker = unique("AJRELAY");
    let text = format!(
        "{}    ProxyCommand sh -c 'echo relay-{marker}-says-hi >&2; exec socat -lp {marker} - TCP:%h:%p'\n",
        alias_block(&bed, "relayed", h, bed.known_hosts()),
    );
    let cfg = SshConfig::load_file(write_config(dir.path(), &text)).unwrap();
    let out = Output::new();
    let node = cfg
        .node_builder("relayed")
        .unwrap()
        .formatter(out.formatter())
        .build();
    assert_eq!(
        run_on(&node, "echo relayed"),
        Ok("relayed\n".into()),
        "{}",
        bed.sshd_log()
    );
    assert!(
        out.stderr().contains(&format!("relay-{marker}-says-hi")),
        "the proxy's stderr is the host's: {:?}",
        out.stderr()
    );
    assert!(eventually(Duration::from_secs(10), || local_processes(
        &marker
    ) == 0));
}

#[test]
fn a_proxy_command_that_exits_early_is_an_error_with_its_status_and_stderr() {
    let cfg = SshConfig::from_text(
        "Host broken\n    ProxyCommand sh -c 'echo cannot reach %h:%p >&2; exit 3'\n    ConnectTimeout 20\n",
    )
    .unwrap();
    let err = connect(&cfg.node("broken").unwrap()).unwrap_err();
    match &err {
        ConnectError::ProxyCommand {
            message,
            stderr_tail,
            ..
        } => {
            assert!(message.contains("exit status: 3"), "{err}");
            assert_eq!(stderr_tail, "cannot reach broken:22");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().starts_with(
        "cannot connect to broken:22 through ProxyCommand `sh -c 'echo cannot reach broken:22 >&2; exit 3'`: it exited (exit status: 3)"
    ), "{err}");
    let missing =
        SshConfig::from_text("Host m\n    ProxyCommand /nonexistent/aj-proxy %h\n").unwrap();
    let err = connect(&missing.node("m").unwrap()).unwrap_err();
    assert_eq!(err.kind(), "ProxyCommandFailed", "{err}");
    assert!(err.to_string().contains("exit status: 127"), "{err}");
}

#[test]
fn a_refused_host_key_behind_a_proxy_command_still_ends_the_proxy() {
    let bed = testbed(2);
    let (gw, target) = (&bed.hosts()[0], &bed.hosts()[1]);
    let dir = tempfile::tempdir().unwrap();
    let empty = bed.write_known_hosts("empty", &[]);
    let marker = unique("AJPROXYREFUSED");
    let text = format!(
        "{}    ProxyCommand {}\n",
        alias_block(&bed, "behind", target, &empty),
        ssh_w(&bed, gw, &marker)
    );
    let cfg = SshConfig::load_file(write_config(dir.path(), &text)).unwrap();
    let err = connect(&cfg.node("behind").unwrap()).unwrap_err();
    assert_eq!(err.kind(), "HostKeyUnknown", "{err}");
    assert!(eventually(Duration::from_secs(10), || local_processes(
        &marker
    ) == 0));
}

#[test]
fn host_key_alias_names_the_key_in_known_hosts_whatever_its_case() {
    let bed = testbed(1);
    let h = &bed.hosts()[0];
    let dir = tempfile::tempdir().unwrap();
    // the key is known under the alias only, written in capitals
    let kh = bed.write_known_hosts(
        "alias_kh",
        &[format!("MyAlias.Lab {}", bed.host_public_key())],
    );
    let base = alias_block(&bed, "aliased", h, &kh);
    let cfg = SshConfig::load_file(write_config(
        dir.path(),
        &format!("{base}    HostKeyAlias myalias.lab\n"),
    ))
    .unwrap();
    assert_eq!(
        run_on(&quiet_node(&cfg, "aliased"), "echo ok"),
        Ok("ok\n".into())
    );
    let without = SshConfig::load_file(write_config(dir.path(), &base)).unwrap();
    let err = connect(&without.node("aliased").unwrap()).unwrap_err();
    assert_eq!(
        err.kind(),
        "HostKeyUnknown",
        "without the alias the key is unknown: {err}"
    );

    // accept-new records the key under the alias, in lower case
    let fresh = dir.path().join("fresh_kh");
    // first value wins: these come before the block's `StrictHostKeyChecking yes`
    let text = format!(
        "Host learner\n    HostKeyAlias Learned.Alias\n    StrictHostKeyChecking accept-new\n{}",
        alias_block(&bed, "learner", h, &fresh)
    );
    let cfg = SshConfig::load_file(write_config(dir.path(), &text)).unwrap();
    assert_eq!(
        run_on(&quiet_node(&cfg, "learner"), "echo learned"),
        Ok("learned\n".into())
    );
    let recorded = std::fs::read_to_string(&fresh).unwrap();
    assert!(
        recorded.starts_with("learned.alias ssh-ed25519 "),
        "{recorded}"
    );
    assert!(!recorded.contains(&h.ip), "{recorded}");
}

#[test]
fn a_match_block_for_another_host_does_not_relax_host_keys() {
    // issue 10: these settings were applied to 127.0.0.* and the unknown key was recorded
    let bed = testbed(1);
    let h = &bed.hosts()[0];
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    std::fs::write(&kh, "").unwrap();
    let text = format!(
        "Host 127.*\n    Port {}\n    User {}\n    IdentityFile {}\n    IdentitiesOnly yes\n    \
         UserKnownHostsFile {}\n    GlobalKnownHostsFile none\n\
         Match host some-other-vm\n    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n",
        h.port,
        bed.user(),
        bed.identity().display(),
        kh.display()
    );
    let cfg = SshConfig::load_file(write_config(dir.path(), &text)).unwrap();
    let err = connect(&cfg.node(&h.ip).unwrap()).unwrap_err();
    assert_eq!(err.kind(), "HostKeyUnknown", "{err}");
    assert_eq!(
        std::fs::read_to_string(&kh).unwrap(),
        "",
        "nothing recorded"
    );
}

#[test]
fn settings_the_library_cannot_honour_make_the_host_an_error() {
    let cfg =
        SshConfig::from_text("Host pkcs\n    PKCS11Provider /usr/lib/opensc-pkcs11.so\n").unwrap();
    let err = cfg.node("pkcs").unwrap_err();
    assert!(matches!(err, ConfigError::Unsupported { .. }), "{err}");
    assert!(cfg.node("other").is_ok());
}

#[test]
fn an_endless_known_hosts_file_is_a_clear_error_not_an_abort() {
    // issue 15: `UserKnownHostsFile /dev/zero` was read until memory ran out
    let bed = testbed(1);
    let h = &bed.hosts()[0];
    let dir = tempfile::tempdir().unwrap();
    let text = alias_block(&bed, "zero", h, Path::new("/dev/zero"));
    let cfg = SshConfig::load_file(write_config(dir.path(), &text)).unwrap();
    let err = connect(&cfg.node("zero").unwrap()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("cannot read known_hosts: /dev/zero: larger than 64 MiB"),
        "{msg}"
    );
    // and /dev/null is an empty file: the host is merely unknown
    let text = alias_block(&bed, "null", h, Path::new("/dev/null"));
    let cfg = SshConfig::load_file(write_config(dir.path(), &text)).unwrap();
    let err = connect(&cfg.node("null").unwrap()).unwrap_err();
    assert_eq!(err.kind(), "HostKeyUnknown", "{err}");
}
