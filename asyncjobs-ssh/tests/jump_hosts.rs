//! Nodes behind gateways: one gateway, and a chain of two.

mod support;

use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{SshJob, SshNode};
use support::{eventually, node, node_builder, testbed, Output};

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
