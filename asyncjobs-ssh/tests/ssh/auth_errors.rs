//! Authentication: wrong key, encrypted key without and with its passphrase.

use crate::support::{testbed, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{ConnectError, SshError, SshJob, SshNode};
use asyncjobs_tests::{Testbed, PASSPHRASE};

fn builder(bed: &Testbed) -> asyncjobs_ssh::SshNodeBuilder {
    let host = &bed.hosts()[0];
    SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(bed.user())
        .agent(false)
        .known_hosts_file(bed.known_hosts())
        .formatter(Output::new().formatter())
}

fn connect(node: &SshNode) -> Result<(), ConnectError> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node.connect())
}

#[test]
fn wrong_key_is_refused_naming_the_user_and_the_key_tried() {
    let bed = testbed(1);
    let err = connect(&builder(&bed).identity(bed.wrong_identity()).build()).unwrap_err();
    match &err {
        ConnectError::AuthRefused {
            user,
            tried,
            target,
        } => {
            assert_eq!(user, bed.user());
            assert_eq!(target, &bed.hosts()[0].address());
            assert_eq!(
                tried,
                &vec![format!("key {}", bed.wrong_identity().display())]
            );
        }
        other => panic!("expected AuthRefused, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("authentication refused for user `{}`", bed.user())),
        "{err}"
    );
}

#[test]
fn wrong_key_fails_the_job_with_kind_auth_refused() {
    let bed = testbed(1);
    let node = builder(&bed).identity(bed.wrong_identity()).build();
    let mut s = Scheduler::new().critical(false);
    let h = s.add(SshJob::new(&node).run("true"));
    assert!(!s.run().unwrap());
    let e = h.raised_exception().unwrap();
    assert_eq!(e.kind(), "AuthRefused");
    assert!(matches!(
        e.downcast_ref::<SshError>(),
        Some(SshError::Connect(ConnectError::AuthRefused { .. }))
    ));
}

#[test]
fn encrypted_key_without_passphrase_names_the_file() {
    let bed = testbed(1);
    let err = connect(&builder(&bed).identity(bed.encrypted_identity()).build()).unwrap_err();
    match &err {
        ConnectError::KeyEncrypted { path } => assert_eq!(path, bed.encrypted_identity()),
        other => panic!("expected KeyEncrypted, got {other:?}"),
    }
    assert!(err.to_string().contains("no passphrase was given"), "{err}");
}

#[test]
fn encrypted_key_with_its_passphrase_connects() {
    let bed = testbed(1);
    connect(
        &builder(&bed)
            .identity_with_passphrase(bed.encrypted_identity(), PASSPHRASE)
            .build(),
    )
    .unwrap();
    // the node-wide passphrase works too
    connect(
        &builder(&bed)
            .identity(bed.encrypted_identity())
            .passphrase(PASSPHRASE)
            .build(),
    )
    .unwrap();
}

#[test]
fn encrypted_key_with_a_wrong_passphrase_says_so() {
    let bed = testbed(1);
    let err = connect(
        &builder(&bed)
            .identity_with_passphrase(bed.encrypted_identity(), "not-it")
            .build(),
    )
    .unwrap_err();
    match &err {
        ConnectError::KeyUnreadable { path, message } => {
            assert_eq!(path, bed.encrypted_identity());
            assert!(message.contains("wrong passphrase"), "{message}");
        }
        other => panic!("expected KeyUnreadable, got {other:?}"),
    }
}
