//! Nodes behind gateways: one gateway, and a chain of two.

use crate::support::{eventually, node, node_builder, testbed, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{SshJob, SshNode};

#[test]
fn node_behind_a_gateway_runs_through_the_gateway_connection() {
    let bed = testbed(2);
    let out = Output::new();
    let gw = node(&bed, &bed.hosts()[0], &out);
    let target = node_builder(&bed, &bed.hosts()[1], &out)
        .gateway(&gw)
        .build();
    assert_eq!(target.distance(), 2);
    let mut s = Scheduler::new();
    let h = s.add(SshJob::new(&target).run("echo behind"));
    assert!(
        matches!(s.run(), Ok(true)),
        "{}\n{}",
        out.stderr(),
        bed.sshd_log()
    );
    assert_eq!(h.result().unwrap().stdout(), "behind\n");
    assert!(
        gw.is_connected(),
        "the gateway's connection carries the tunnel"
    );
    // server side: the gateway's session, and the tunnelled one the gateway's sshd opened
    assert_eq!(bed.established_connections(), 2);
    assert!(s.shutdown().unwrap());
    assert!(eventually(std::time::Duration::from_secs(10), || bed
        .established_connections()
        == 0));
    assert!(
        !gw.is_connected(),
        "shutdown closes the gateway after the node behind it"
    );
}

#[test]
fn chain_of_two_gateways_reaches_the_third_host() {
    let bed = testbed(3);
    let out = Output::new();
    let gw1 = node(&bed, &bed.hosts()[0], &out);
    let gw2 = node_builder(&bed, &bed.hosts()[1], &out)
        .gateway(&gw1)
        .build();
    let target: SshNode = node_builder(&bed, &bed.hosts()[2], &out)
        .gateway(&gw2)
        .build();
    assert_eq!(target.distance(), 3);
    let mut s = Scheduler::new();
    let h = s.add(SshJob::new(&target).run("echo two hops away"));
    assert!(
        matches!(s.run(), Ok(true)),
        "{}\n{}",
        out.stderr(),
        bed.sshd_log()
    );
    assert_eq!(h.result().unwrap().stdout(), "two hops away\n");
    assert!(gw1.is_connected() && gw2.is_connected());
    assert_eq!(bed.established_connections(), 3);
    s.shutdown().unwrap();
    assert!(eventually(std::time::Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}

#[test]
fn closing_a_gateway_closes_the_nodes_behind_it_first() {
    let bed = testbed(3);
    let events = asyncjobs_ssh::SharedBuffer::new();
    let verbose: std::sync::Arc<dyn asyncjobs_ssh::Formatter> = std::sync::Arc::new(
        asyncjobs_ssh::HostFormatter::with_writers(std::io::sink(), events.clone()).verbose(true),
    );
    let out = Output::new();
    let gw = node_builder(&bed, &bed.hosts()[0], &out)
        .formatter(verbose.clone())
        .build();
    let b1 = node_builder(&bed, &bed.hosts()[1], &out)
        .gateway(&gw)
        .formatter(verbose.clone())
        .build();
    let b2 = node_builder(&bed, &bed.hosts()[2], &out)
        .gateway(&gw)
        .formatter(verbose)
        .build();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        b1.connect().await.unwrap();
        b2.connect().await.unwrap();
        assert_eq!(bed.established_connections(), 3);
        gw.close().await;
    });
    assert!(!b1.is_connected() && !b2.is_connected() && !gw.is_connected());
    let closed: Vec<String> = events
        .contents_lossy()
        .lines()
        .filter(|l| l.ends_with("Connection closed"))
        .map(|l| l.split(':').take(2).collect::<Vec<_>>().join(":"))
        .collect();
    assert_eq!(closed.len(), 3, "{closed:?}");
    assert_eq!(
        closed[2],
        gw.display_name(),
        "the gateway closes last: {closed:?}"
    );
    assert!(eventually(std::time::Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}
