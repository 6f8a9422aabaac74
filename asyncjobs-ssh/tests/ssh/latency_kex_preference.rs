//! Key exchange preferences (`SshNodeBuilder::kex_algorithms`): the preferred
//! algorithm is the one sshd negotiates (read from its DEBUG1 log), the default
//! stays the x25519 family, and a bad list fails before anything is sent.

use std::time::Duration;

use crate::support::{node_builder, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{ConnectError, KexError, SshJob, SshNode};
use asyncjobs_tests::{Testbed, TestbedConfig};

/// A testbed whose sshd logs each connection's key exchange (`kex: algorithm: NAME`).
fn verbose_testbed(hosts: usize) -> Testbed {
    Testbed::start_with(TestbedConfig {
        hosts,
        extra_sshd_config: vec!["LogLevel DEBUG1".into()],
        ..TestbedConfig::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the loopback sshd testbed: {e}"))
}

/// Runs `true` on `node` in a scheduler, then closes it; panics with the logs on failure.
fn run_true(bed: &Testbed, node: &SshNode, out: &Output) {
    let mut s = Scheduler::new();
    s.add(SshJob::new(node).run("true"));
    assert!(
        matches!(s.run(), Ok(true)),
        "{}\n{}",
        out.stderr(),
        bed.sshd_log()
    );
    assert!(s.shutdown().unwrap());
}

fn connect(node: &SshNode) -> Result<(), ConnectError> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node.connect())
}

#[test]
fn preferred_ecdh_nistp256_is_negotiated_and_the_command_runs() {
    let bed = verbose_testbed(1);
    let out = Output::new();
    let node = node_builder(&bed, &bed.hosts()[0], &out)
        .kex_algorithms(["ecdh-sha2-nistp256", "curve25519-sha256"])
        .build();
    assert_eq!(
        node.kex_algorithms(),
        Some(&["ecdh-sha2-nistp256".to_string(), "curve25519-sha256".into()][..])
    );
    run_true(&bed, &node, &out);
    assert_eq!(
        bed.negotiated_kex(),
        ["ecdh-sha2-nistp256"],
        "{}",
        bed.sshd_log()
    );
}

#[test]
fn default_key_exchange_is_the_x25519_family() {
    let bed = verbose_testbed(1);
    let out = Output::new();
    let node = node_builder(&bed, &bed.hosts()[0], &out).build();
    assert_eq!(node.kex_algorithms(), None);
    run_true(&bed, &node, &out);
    let kex = bed.negotiated_kex();
    assert_eq!(kex.len(), 1, "{}", bed.sshd_log());
    assert!(
        ["mlkem768x25519-sha256", "curve25519-sha256"].contains(&kex[0].as_str()),
        "negotiated {kex:?}"
    );
}

#[test]
fn each_node_of_a_gateway_chain_uses_its_own_preference() {
    let bed = verbose_testbed(2);
    let out = Output::new();
    let gw = node_builder(&bed, &bed.hosts()[0], &out)
        .kex_algorithms(["curve25519-sha256"])
        .build();
    let behind = node_builder(&bed, &bed.hosts()[1], &out)
        .kex_algorithms(["ecdh-sha2-nistp256"])
        .gateway(&gw)
        .build();
    run_true(&bed, &behind, &out);
    let mut kex = bed.negotiated_kex();
    kex.sort();
    assert_eq!(
        kex,
        ["curve25519-sha256", "ecdh-sha2-nistp256"],
        "{}",
        bed.sshd_log()
    );
}

#[test]
fn unsupported_kex_name_fails_before_connecting_with_a_clear_error() {
    let bed = verbose_testbed(1);
    // nothing listens there: an attempt to connect would be `Refused`
    let closed = bed.closed_port();
    let node = SshNode::builder(closed.ip.clone())
        .port(closed.port)
        .user(bed.user())
        .identity(bed.identity())
        .agent(false)
        .known_hosts_file(bed.known_hosts())
        .connect_timeout(Duration::from_secs(20))
        .formatter(Output::new().formatter())
        .kex_algorithms(["curve25519-sha256", "ecdh-sha2-nistp999"])
        .build();
    let err = connect(&node).unwrap_err();
    match &err {
        ConnectError::Kex { target, source } => {
            assert_eq!(target, &closed.address());
            assert_eq!(
                source,
                &KexError::Unsupported {
                    name: "ecdh-sha2-nistp999".into()
                }
            );
        }
        other => panic!("expected ConnectError::Kex, got {other:?}"),
    }
    assert_eq!(err.kind(), "UnsupportedKex");
    assert!(!err.is_unreachable(), "a local configuration error");
    // the KexError is the cause, printed once by the chain
    let text = asyncjobs_core::ErrorChain(&err).to_string();
    assert!(
        text.starts_with(&format!(
            "cannot connect to {}: unsupported key exchange algorithm `ecdh-sha2-nistp999` (supported: ",
            closed.address()
        )) && text.contains("ecdh-sha2-nistp256"),
        "{text}"
    );

    let empty = SshNode::builder(closed.ip.clone())
        .port(closed.port)
        .formatter(Output::new().formatter())
        .kex_algorithms(Vec::<String>::new())
        .build();
    assert!(matches!(
        connect(&empty),
        Err(ConnectError::Kex {
            source: KexError::Empty,
            ..
        })
    ));
}
