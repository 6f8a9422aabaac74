//! Dropping the last reference to nodes closes their connections and ends their
//! session tasks (alone in its test binary: it counts the SSH runtime's tasks).

use std::time::Duration;

use crate::support::{eventually, node, testbed, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{SshJob, SshNode};

#[test]
fn dropping_the_last_node_reference_closes_its_connection_and_tasks() {
    let _one_at_a_time = crate::ISOLATED.lock().unwrap_or_else(|e| e.into_inner());
    let bed = testbed(3);
    let out = Output::new();
    let tasks_before = asyncjobs_ssh::__ssh_runtime_alive_tasks();
    {
        let gw = node(&bed, &bed.hosts()[0], &out);
        let behind = crate::support::node_builder(&bed, &bed.hosts()[1], &out)
            .gateway(&gw)
            .build();
        let direct: SshNode = node(&bed, &bed.hosts()[2], &out);
        let mut s = Scheduler::new();
        s.add(SshJob::new(&behind).run("true"));
        s.add(SshJob::new(&direct).run("true"));
        assert!(s.run().unwrap());
        assert_eq!(bed.established_connections(), 3);
        // no shutdown: everything is dropped here (scheduler, jobs, nodes)
    }
    assert!(
        eventually(Duration::from_secs(10), || bed.established_connections()
            == 0),
        "connections left open"
    );
    assert!(
        eventually(
            Duration::from_secs(10),
            || asyncjobs_ssh::__ssh_runtime_alive_tasks() <= tasks_before
        ),
        "session tasks left running: {} > {tasks_before}",
        asyncjobs_ssh::__ssh_runtime_alive_tasks()
    );
}
