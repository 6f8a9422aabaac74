//! `close_all`: every node of a scheduler (nested jobs, gateways) closed, the
//! remotest first; `keep_connection` nodes survive `shutdown()` but not `close_all`.

use std::sync::Arc;
use std::time::Duration;

use crate::support::{eventually, node_builder, testbed, Output};
use asyncjobs_core::{ListOptions, Scheduler, Symbols};
use asyncjobs_ssh::{
    close_all, close_all_blocking, Formatter, HostFormatter, SharedBuffer, SshJob,
};

/// A formatter whose stderr collects the verbose connection events.
fn verbose_events() -> (Arc<dyn Formatter>, SharedBuffer) {
    let events = SharedBuffer::new();
    let f: Arc<dyn Formatter> =
        Arc::new(HostFormatter::with_writers(std::io::sink(), events.clone()).verbose(true));
    (f, events)
}

/// The hosts whose "Connection closed" event was seen, in order.
fn closed_order(events: &SharedBuffer) -> Vec<String> {
    events
        .contents_lossy()
        .lines()
        .filter(|l| l.ends_with("Connection closed"))
        .map(|l| l.split(':').take(2).collect::<Vec<_>>().join(":"))
        .collect()
}

#[test]
fn close_all_closes_nested_jobs_nodes_and_gateways_remotest_first() {
    let bed = testbed(4);
    let (verbose, events) = verbose_events();
    let out = Output::new();
    let h = bed.hosts();
    let gw = node_builder(&bed, &h[0], &out)
        .formatter(verbose.clone())
        .build();
    let b1 = node_builder(&bed, &h[1], &out)
        .gateway(&gw)
        .formatter(verbose.clone())
        .build();
    let c = node_builder(&bed, &h[2], &out)
        .gateway(&b1)
        .formatter(verbose.clone())
        .build();
    let direct = node_builder(&bed, &h[3], &out).formatter(verbose).build();
    assert_eq!((gw.distance(), b1.distance(), c.distance()), (1, 2, 3));

    let mut s = Scheduler::new();
    s.add(SshJob::new(&b1).run("true"));
    s.add(SshJob::new(&b1).run("true").run("exit 0")); // the same node twice
    s.add(SshJob::new(&direct).run("true"));
    let mut inner = Scheduler::new().label("inner");
    inner.add(SshJob::new(&c).run("echo deep"));
    s.add(inner);
    assert!(
        matches!(s.run(), Ok(true)),
        "{}\n{}",
        out.stderr(),
        bed.sshd_log()
    );
    // gw (no job of its own) + b1 + c through the tunnels + direct
    assert_eq!(bed.established_connections(), 4);
    let listing = s
        .listing(&ListOptions {
            symbols: Symbols::Ascii,
            ..ListOptions::default()
        })
        .unwrap();
    assert!(
        listing.contains("<SshJob `true + 1 more`>[[ -> 0, 0]]"),
        "{listing}"
    );
    assert!(
        listing.contains("<SshJob `echo deep`>[[ -> 0]]"),
        "{listing}"
    );

    close_all_blocking(&s).unwrap();
    assert!([&gw, &b1, &c, &direct].iter().all(|n| !n.is_connected()));
    assert!(eventually(Duration::from_secs(10), || bed
        .established_connections()
        == 0));
    let order = closed_order(&events);
    assert_eq!(order.len(), 4, "each node closed once: {order:?}");
    let pos = |name: &str| order.iter().position(|o| o == name).unwrap();
    assert_eq!(pos(c.display_name()), 0, "distance 3 first: {order:?}");
    assert_eq!(pos(b1.display_name()), 1, "then distance 2: {order:?}");
    let last_two = [pos(gw.display_name()), pos(direct.display_name())];
    assert!(
        last_two.contains(&2) && last_two.contains(&3),
        "distance 1 last, gateway and direct node alike: {order:?}"
    );
}

#[test]
fn kept_connections_survive_shutdown_but_not_close_all() {
    let bed = testbed(3);
    let out = Output::new();
    let h = bed.hosts();
    let gw = node_builder(&bed, &h[0], &out).build();
    let kept = node_builder(&bed, &h[1], &out).gateway(&gw).build();
    let other = node_builder(&bed, &h[2], &out).gateway(&gw).build();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut s = Scheduler::new();
        s.add(SshJob::new(&kept).run("true").keep_connection(true));
        // the same node without keeping it, and another node behind the same gateway
        s.add(SshJob::new(&kept).run("true"));
        s.add(SshJob::new(&other).run("true"));
        assert!(s.co_run().await.unwrap(), "{}", out.stderr());
        assert_eq!(bed.established_connections(), 3);

        assert!(s.co_shutdown().await);
        assert!(!other.is_connected(), "not kept: closed by shutdown");
        assert!(kept.is_connected(), "kept by one of its jobs");
        assert!(
            gw.is_connected(),
            "closing the gateway would cut the kept node"
        );
        assert!(eventually(Duration::from_secs(10), || bed
            .established_connections()
            == 2));

        close_all(&s).await;
        assert!(!kept.is_connected() && !gw.is_connected());
    });
    assert!(eventually(Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}

#[test]
fn dropping_the_keeping_job_lets_shutdown_close_the_node_again() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node_builder(&bed, &bed.hosts()[0], &out).build();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        {
            let mut s = Scheduler::new();
            s.add(SshJob::new(&n).run("true").keep_connection(true));
            assert!(s.co_run().await.unwrap(), "{}", out.stderr());
            assert!(s.co_shutdown().await);
            assert!(n.is_connected(), "kept");
        } // the scheduler and its keeping job are gone
        let mut s = Scheduler::new();
        s.add(SshJob::new(&n).run("true"));
        // a job that asked to keep, then changed its mind, keeps nothing
        s.add(
            SshJob::new(&n)
                .run("true")
                .keep_connection(true)
                .keep_connection(false),
        );
        assert!(s.co_run().await.unwrap());
        assert!(s.co_shutdown().await);
        assert!(!n.is_connected(), "nothing keeps it any more");
    });
    assert!(eventually(Duration::from_secs(10), || bed
        .established_connections()
        == 0));
}
