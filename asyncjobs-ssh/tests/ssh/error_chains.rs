//! Errors as chains: each cause is printed once (it is the `source()`, not a
//! copy in the message), and the causes stay typed for callers to match.

use std::error::Error;

use asyncjobs_ssh::prelude::*;
use asyncjobs_ssh::sftp::SftpError;
use asyncjobs_ssh::SshNodeBuilder;
use asyncjobs_tests::Testbed;

use crate::support::{node_builder, testbed, unique, Output};

/// The messages of `e` and of each of its causes, in order.
fn chain(e: &(dyn Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out
}

/// No message of the chain repeats a later cause's text, and `ErrorChain`
/// shows them all, joined by `: `, each once.
fn assert_each_cause_once(e: &(dyn Error + 'static), causes: usize) -> Vec<String> {
    let messages = chain(e);
    assert_eq!(messages.len(), causes + 1, "{messages:#?}");
    for (i, m) in messages.iter().enumerate() {
        assert!(!m.is_empty(), "{messages:#?}");
        for later in &messages[i + 1..] {
            assert!(
                !m.contains(later.as_str()),
                "`{m}` repeats its cause `{later}`"
            );
        }
    }
    let shown = ErrorChain(e).to_string();
    assert_eq!(shown, messages.join(": "));
    for m in &messages {
        assert_eq!(shown.matches(m.as_str()).count(), 1, "{shown}");
    }
    messages
}

/// Runs `job` alone in a critical scheduler; the run's error.
fn run_error(job: SshJob) -> SchedulerError {
    let mut s = Scheduler::new().label("chain");
    s.add(job.label("the job"));
    let outcome = s.run();
    s.shutdown().expect("shutdown");
    outcome.expect_err("the job fails")
}

/// A node behind a gateway that refuses connections; the gateway's address.
fn gateway_refused(bed: &Testbed) -> (SshNode, String) {
    let out = Output::new();
    let closed = bed.closed_port();
    let gw = node_builder(bed, &closed, &out).build();
    let node = node_builder(bed, &bed.hosts()[0], &out)
        .gateway(&gw)
        .build();
    (node, closed.address())
}

/// A node of `host` that offers only a key the hosts refuse.
fn wrong_key(bed: &Testbed, host: &asyncjobs_tests::Host) -> SshNodeBuilder {
    SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(bed.user())
        .identity(bed.wrong_identity())
        .agent(false)
        .known_hosts_file(bed.known_hosts())
        .connect_timeout(Duration::from_secs(20))
}

#[test]
fn connect_through_a_refusing_gateway_prints_the_refusal_once() {
    let bed = testbed(1);
    let (node, gateway) = gateway_refused(&bed);
    let err = run_error(SshJob::new(&node).run("true"));
    // scheduler -> SshError::Connect(Gateway) (transparent) -> Refused
    let messages = assert_each_cause_once(&err, 2);
    assert!(messages[0].contains("critical job `the job` in scheduler `chain` failed"));
    assert!(messages[1].starts_with("cannot reach "), "{messages:?}");
    assert!(messages[1].contains("through gateway"), "{messages:?}");
    assert_eq!(messages[2], format!("connection refused by {gateway}"));
    // the cause is typed: a caller matches it without parsing text
    let SchedulerError::CriticalJobFailed { error, .. } = &err else {
        panic!("{err:?}")
    };
    match error.downcast_ref::<SshError>() {
        Some(SshError::Connect(ConnectError::Gateway { source, .. })) => {
            assert!(
                matches!(**source, ConnectError::Refused { .. }),
                "{source:?}"
            );
            assert!(source.is_unreachable());
        }
        other => panic!("{other:?}"),
    }
    // listings show the chain too, once
    let mut s = Scheduler::new().critical(false);
    let h = s.add(SshJob::new(&node).run("true").critical(false));
    // a failed non-critical job leaves the run fine
    assert!(s.run().expect("non-critical run"));
    let listing = s.listing(&Default::default()).expect("listing");
    s.shutdown().expect("shutdown");
    assert_eq!(
        listing.matches("connection refused by").count(),
        1,
        "{listing}"
    );
    assert!(h.raised_exception().is_some());
}

#[test]
fn auth_refused_behind_a_gateway_is_one_cause_under_the_gateway() {
    let bed = testbed(2);
    let out = Output::new();
    let gw = wrong_key(&bed, &bed.hosts()[0]).build();
    let node = node_builder(&bed, &bed.hosts()[1], &out)
        .gateway(&gw)
        .build();
    let err = run_error(SshJob::new(&node).run("true"));
    let messages = assert_each_cause_once(&err, 2);
    assert!(
        messages[2].starts_with(&format!("authentication refused for user `{}`", bed.user())),
        "{messages:?}"
    );
    // and directly on the node: the job's error has no cause of its own
    let direct = wrong_key(&bed, &bed.hosts()[1]).build();
    let err = run_error(SshJob::new(&direct).run("true"));
    let messages = assert_each_cause_once(&err, 1);
    assert!(
        messages[1].starts_with("authentication refused"),
        "{messages:?}"
    );
}

#[test]
fn transfer_errors_name_the_command_then_the_file_once() {
    let bed = testbed(1);
    let out = Output::new();
    let node = node_builder(&bed, &bed.hosts()[0], &out).build();
    let missing = bed.dir().join(unique("missing-"));
    // a push of a local file that does not exist
    let err = run_error(SshJob::new(&node).command(Push::new(
        [missing.clone()],
        bed.remote_dir().display().to_string(),
    )));
    let messages = assert_each_cause_once(&err, 2);
    assert!(messages[1].contains("failed"), "{messages:?}");
    assert!(
        messages[2].contains("no such file or directory"),
        "{messages:?}"
    );
    let SchedulerError::CriticalJobFailed { error, .. } = &err else {
        panic!("{err:?}")
    };
    match error.downcast_ref::<SshError>() {
        Some(SshError::Transfer { source, .. }) => {
            assert!(
                matches!(**source, SftpError::LocalNotFound { .. }),
                "{source:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // a pull of a remote file that does not exist
    let remote = bed.remote_dir().join(unique("absent-"));
    let err = run_error(SshJob::new(&node).command(Pull::new(
        [remote.display().to_string()],
        bed.dir().join("x"),
    )));
    let messages = assert_each_cause_once(&err, 2);
    assert!(
        messages[2].contains("(remote): no such file"),
        "{messages:?}"
    );
    // a local I/O error: pulling into a directory under a regular file
    let file = bed.dir().join(unique("plain-"));
    std::fs::write(&file, "x").expect("write");
    std::fs::write(bed.remote_dir().join("pulled"), "y").expect("write");
    let err = run_error(SshJob::new(&node).command(Pull::new(
        [bed.remote_dir().join("pulled").display().to_string()],
        file.join("sub").join("pulled"),
    )));
    assert_each_cause_once(&err, 2);
}
