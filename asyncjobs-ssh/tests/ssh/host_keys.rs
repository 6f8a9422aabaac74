//! Host key verification: unknown, accept-new, changed, hashed entries.

use crate::support::{testbed, Output};
use asyncjobs_ssh::{ConnectError, HostKeyPolicy, SshNode};
use asyncjobs_tests::{Host, Testbed};

fn builder(
    bed: &Testbed,
    host: &Host,
    known_hosts: &std::path::Path,
) -> asyncjobs_ssh::SshNodeBuilder {
    SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(bed.user())
        .identity(bed.identity())
        .agent(false)
        .known_hosts_file(known_hosts)
        .formatter(Output::new().formatter())
}

fn connect(node: &SshNode) -> Result<(), ConnectError> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node.connect())
}

/// The key blob of the testbed's host key.
fn key_blob(bed: &Testbed) -> String {
    bed.host_public_key()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

#[test]
fn unknown_host_is_refused_by_default_with_how_to_accept_it() {
    let bed = testbed(2);
    let (known, unknown) = (&bed.hosts()[0], &bed.hosts()[1]);
    let kh = bed.write_known_hosts(
        "only_first",
        &[format!(
            "{} {}",
            known.known_hosts_name(),
            bed.host_public_key()
        )],
    );
    let err = connect(&builder(&bed, unknown, &kh).build()).unwrap_err();
    match &err {
        ConnectError::HostKeyUnknown {
            target,
            key_type,
            fingerprint,
            files,
        } => {
            assert_eq!(target, &unknown.address());
            assert_eq!(key_type, "ssh-ed25519");
            assert!(fingerprint.starts_with("SHA256:"));
            assert_eq!(files, &vec![kh.clone()]);
        }
        other => panic!("expected HostKeyUnknown, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("AcceptNew")
            && text.contains(&format!("ssh-keyscan -p {} {}", unknown.port, unknown.ip)),
        "{text}"
    );
    // the known one still connects with the same file
    connect(&builder(&bed, known, &kh).build()).unwrap();
}

#[test]
fn missing_known_hosts_file_refuses_every_host() {
    let bed = testbed(1);
    let missing = bed.dir().join("no_such_known_hosts");
    let err = connect(&builder(&bed, &bed.hosts()[0], &missing).build()).unwrap_err();
    assert!(
        matches!(err, ConnectError::HostKeyUnknown { .. }),
        "{err:?}"
    );
    assert!(!missing.exists(), "strict checking never writes");
}

#[test]
fn accept_new_accepts_an_unknown_host_and_records_it() {
    let bed = testbed(2);
    let kh = bed.dir().join("fresh").join("known_hosts");
    for host in bed.hosts() {
        let node = builder(&bed, host, &kh)
            .host_key_policy(HostKeyPolicy::AcceptNew)
            .build();
        connect(&node).unwrap();
    }
    let text = std::fs::read_to_string(&kh).unwrap();
    let expected: String = bed
        .hosts()
        .iter()
        .map(|h| format!("{} {}\n", h.known_hosts_name(), bed.host_public_key()))
        .collect();
    assert_eq!(text, expected);
    // recorded: a strict node now accepts it, and a second accept-new adds nothing
    connect(&builder(&bed, &bed.hosts()[0], &kh).build()).unwrap();
    let node = builder(&bed, &bed.hosts()[0], &kh)
        .host_key_policy(HostKeyPolicy::AcceptNew)
        .build();
    connect(&node).unwrap();
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), expected);
}

#[test]
fn changed_host_key_is_refused_with_file_and_line_even_with_accept_new() {
    let bed = testbed(1);
    let host = &bed.hosts()[0];
    // a valid ed25519 key that is not the host's
    let other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let kh = bed.write_known_hosts(
        "changed",
        &[
            "# comment".to_string(),
            format!("other.example ssh-ed25519 {}", key_blob(&bed)),
            format!("{} ssh-ed25519 {other}", host.known_hosts_name()),
        ],
    );
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        let err = connect(&builder(&bed, host, &kh).host_key_policy(policy).build()).unwrap_err();
        match &err {
            ConnectError::HostKeyChanged { file, line, .. } => {
                assert_eq!(file, &kh);
                assert_eq!(*line, 3);
            }
            other => panic!("expected HostKeyChanged, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("HAS CHANGED") && text.contains(&format!("{}:3", kh.display())),
            "{text}"
        );
    }
    // only the explicit insecure opt-out connects
    connect(
        &builder(&bed, host, &kh)
            .host_key_policy(HostKeyPolicy::AcceptAny)
            .build(),
    )
    .unwrap();
}

#[test]
fn hashed_known_hosts_entry_is_accepted() {
    let bed = testbed(1);
    let host = &bed.hosts()[0];
    let plain = bed.write_known_hosts(
        "to_hash",
        &[format!(
            "{} {}",
            host.known_hosts_name(),
            bed.host_public_key()
        )],
    );
    // let OpenSSH hash it: the test then checks our reading of the real format
    let status = std::process::Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&plain)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(&plain).unwrap();
    assert!(
        text.starts_with("|1|") && !text.contains(&host.ip),
        "{text}"
    );
    connect(&builder(&bed, host, &plain).build()).unwrap();
}
