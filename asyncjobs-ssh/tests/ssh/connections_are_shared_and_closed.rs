//! Connection lifetime: one per node however many jobs, closed by shutdown and by `close`.

use std::time::Duration;

use asyncjobs_core::Scheduler;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use crate::support::{eventually, node, node_builder, testbed, Output};
use asyncjobs_ssh::{Event, Formatter, SshJob, Stream};

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

/// Counts open connections from the client's events: Connected +1, Closed -1.
#[derive(Default)]
struct OpenCount {
    now: AtomicIsize,
    max: AtomicIsize,
}

impl Formatter for OpenCount {
    fn line(&self, _: &str, _: Stream, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn event(&self, _: &str, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::Connected { .. } => {
                let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
                self.max.fetch_max(now, Ordering::SeqCst);
            }
            Event::Closed => {
                self.now.fetch_sub(1, Ordering::SeqCst);
            }
            _ => {}
        }
        Ok(())
    }
}

#[test]
fn close_when_done_keeps_open_connections_within_the_window() {
    let bed = testbed(6);
    let count = Arc::new(OpenCount::default());
    let nodes: Vec<_> = bed
        .hosts()
        .iter()
        .map(|h| {
            node_builder(&bed, h, &Output::new())
                .formatter(count.clone())
                .build()
        })
        .collect();
    let mut s = Scheduler::new().jobs_window(2);
    for n in &nodes {
        s.add(SshJob::new(n).run("sleep 0.2").close_when_done(true));
    }
    assert!(matches!(s.run(), Ok(true)));
    assert_eq!(
        count.max.load(Ordering::SeqCst),
        2,
        "the window's 2 connections at most"
    );
    assert_eq!(
        count.now.load(Ordering::SeqCst),
        0,
        "each closed when its job ended"
    );
    assert!(nodes.iter().all(|n| !n.is_connected()));
    assert!(eventually(Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}
