//! Connection failures: refused port, connect timeout, and a failed connect is retried.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::{testbed, Output};
use asyncjobs_ssh::{ConnectError, SshNode};

fn connect(node: &SshNode) -> Result<(), ConnectError> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node.connect())
}

#[test]
fn closed_port_is_connection_refused_not_a_timeout() {
    let bed = testbed(1);
    let closed = bed.closed_port();
    let n = SshNode::builder(closed.ip.clone())
        .port(closed.port)
        .identity(bed.identity())
        .connect_timeout(Duration::from_secs(120))
        .formatter(Output::new().formatter())
        .build();
    let err = connect(&n).unwrap_err();
    match &err {
        ConnectError::Refused { target } => assert_eq!(target, &closed.address()),
        other => panic!("expected Refused, got {other:?}"),
    }
    assert!(err.is_unreachable());
    assert_eq!(
        err.to_string(),
        format!("connection refused by {}", closed.address())
    );
}

#[test]
fn connect_timeout_fires_when_the_server_never_speaks() {
    // accepts TCP connections (all of them: anything may probe the port), never sends the SSH banner
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let silent = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            // bounded: at most 30 s, or until the test is done
            for _ in 0..3000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                if let Ok((sock, _)) = listener.accept() {
                    held.push(sock);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            held.len()
        })
    };
    let n = SshNode::builder("127.0.0.1")
        .port(port)
        .connect_timeout(Duration::from_millis(700))
        .agent(false)
        .formatter(Output::new().formatter())
        .build();
    let err = connect(&n).unwrap_err();
    match &err {
        ConnectError::Timeout { target, after } => {
            assert_eq!(target, &format!("127.0.0.1:{port}"));
            assert_eq!(*after, Duration::from_millis(700));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(err.to_string().contains("connect timeout"), "{err}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        silent.join().unwrap() >= 1,
        "the client did reach the silent server"
    );
}

#[test]
fn failed_connection_is_not_cached_the_next_use_retries() {
    let bed = testbed(1);
    let host = &bed.hosts()[0];
    let missing = bed.dir().join("late_known_hosts");
    let n = SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(bed.user())
        .identity(bed.identity())
        .agent(false)
        .known_hosts_file(&missing)
        .formatter(Output::new().formatter())
        .build();
    assert!(matches!(
        connect(&n),
        Err(ConnectError::HostKeyUnknown { .. })
    ));
    std::fs::copy(bed.known_hosts(), &missing).unwrap();
    connect(&n).unwrap();
    assert!(n.is_connected());
}
