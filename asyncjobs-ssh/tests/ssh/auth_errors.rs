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

/// Counts its calls; answers with `answer`.
struct Counting {
    answer: Result<String, String>,
    calls: std::sync::atomic::AtomicUsize,
}

impl asyncjobs_ssh::PassphrasePrompt for Counting {
    fn passphrase(&self, _key: &std::path::Path, _retry: bool) -> Result<String, String> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.answer.clone()
    }
}

#[test]
fn a_passphrase_prompt_is_asked_once_for_many_nodes_with_the_same_key() {
    let bed = testbed(3);
    // a copy of the key: the key cache of this process must not already hold it
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_copy");
    std::fs::copy(bed.encrypted_identity(), &key).unwrap();
    let prompt = std::sync::Arc::new(Counting {
        answer: Ok(PASSPHRASE.into()),
        calls: Default::default(),
    });
    let nodes: Vec<SshNode> = bed
        .hosts()
        .iter()
        .map(|h| {
            SshNode::builder(h.ip.clone())
                .port(h.port)
                .user(bed.user())
                .agent(false)
                .identity(&key)
                .known_hosts_file(bed.known_hosts())
                .passphrase_prompt(prompt.clone())
                .formatter(Output::new().formatter())
                .build()
        })
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let results = rt.block_on(futures::future::join_all(nodes.iter().map(|n| n.connect())));
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(prompt.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn a_refused_prompt_is_remembered_and_its_reason_given() {
    let bed = testbed(2);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_copy2");
    std::fs::copy(bed.encrypted_identity(), &key).unwrap();
    let prompt = std::sync::Arc::new(Counting {
        answer: Err("the user cancelled".into()),
        calls: Default::default(),
    });
    for h in bed.hosts() {
        let node = SshNode::builder(h.ip.clone())
            .port(h.port)
            .user(bed.user())
            .agent(false)
            .identity(&key)
            .known_hosts_file(bed.known_hosts())
            .passphrase_prompt(prompt.clone())
            .formatter(Output::new().formatter())
            .build();
        match connect(&node) {
            Err(ConnectError::KeyUnreadable { path, message }) => {
                assert_eq!(path, key);
                assert_eq!(message, "the user cancelled");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(prompt.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}
