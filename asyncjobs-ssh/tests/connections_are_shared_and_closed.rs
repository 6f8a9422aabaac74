//! Connection lifetime: one per node however many jobs, closed by shutdown and by `close`.

mod support;

use std::time::Duration;

use asyncjobs_core::Scheduler;
use asyncjobs_ssh::SshJob;
use support::{eventually, node, testbed, Output};

#[test]
fn node_shared_by_ten_jobs_uses_exactly_one_connection() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    let handles: Vec<_> = (0..10)
        .map(|i| s.add(SshJob::new(&n).run(format!("sleep 0.3; echo {i}"))))
        .collect();
    assert!(matches!(s.run(), Ok(true)), "{}", out.stderr());
    for (i, h) in handles.iter().enumerate() {
        assert_eq!(h.result().unwrap().stdout(), format!("{i}\n"));
    }
    // the connection stays open after the run, for later jobs
    assert_eq!(bed.established_connections(), 1);
    assert!(s.shutdown().unwrap());
    assert!(eventually(Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}

#[test]
fn scheduler_shutdown_closes_every_connection() {
    let bed = testbed(5);
    let out = Output::new();
    let nodes: Vec<_> = bed.hosts().iter().map(|h| node(&bed, h, &out)).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut s = Scheduler::new();
        for n in &nodes {
            s.add(SshJob::new(n).run("true"));
        }
        assert!(s.co_run().await.unwrap());
        assert_eq!(bed.established_connections(), 5);
        assert!(s.co_shutdown().await, "every co_shutdown finished in time");
    });
    assert!(nodes.iter().all(|n| !n.is_connected()));
    assert!(eventually(Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}

#[test]
fn close_is_idempotent_and_the_next_use_reconnects() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        n.connect().await.unwrap();
        assert_eq!(bed.established_connections(), 1);
        tokio::join!(n.close(), n.close());
        n.close().await;
        assert!(!n.is_connected());
        let out = SshJob::new(&n).run("echo again").execute().await.unwrap();
        assert_eq!(out.stdout(), "again\n");
        n.close().await;
    });
    assert!(eventually(Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}
