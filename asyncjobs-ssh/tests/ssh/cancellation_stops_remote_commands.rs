//! A job dropped while its command runs (scheduler timeout, critical failure
//! elsewhere) stops the remote command: no orphan process is left on the host.

use std::time::Duration;

use crate::support::{eventually, node, testbed, unique, Output};
use asyncjobs_core::{Job, Scheduler, SchedulerError};
use asyncjobs_ssh::SshJob;

/// A `sleep` whose command line is unique to this call, e.g. `sleep 4242.5123`.
fn unique_sleep() -> String {
    let tag = unique("");
    format!("sleep 4242.{tag}")
}

#[test]
fn scheduler_timeout_stops_the_remote_sleep() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let sleep = unique_sleep();
    std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            let mut s = Scheduler::new().timeout(Duration::from_secs(2));
            s.add(SshJob::new(&n).run(sleep.clone()));
            s.run()
        });
        assert!(
            eventually(Duration::from_secs(20), || bed.remote_processes(&sleep)
                >= 1),
            "the remote sleep started"
        );
        let outcome = run.join().unwrap();
        assert!(
            matches!(outcome, Err(SchedulerError::Timeout { .. })),
            "{outcome:?}"
        );
    });
    assert!(
        eventually(Duration::from_secs(15), || bed.remote_processes(&sleep)
            == 0),
        "orphan left: {} process(es) match {sleep}",
        bed.remote_processes(&sleep)
    );
}

#[test]
fn critical_failure_elsewhere_stops_the_remote_sleep() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let sleep = unique_sleep();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // the timeout only bounds the test if the critical failure did not end the run
        let mut s = Scheduler::new().timeout(Duration::from_secs(60));
        s.add(SshJob::new(&n).run(sleep.clone()));
        let probe = sleep.clone();
        // fails once the sleep is seen running on the host (or after 20 s: the test then fails below)
        s.add(Job::new(async move {
            for _ in 0..400 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if processes_matching(&probe) >= 1 {
                    return Err(std::io::Error::other("boom"));
                }
            }
            Err::<(), _>(std::io::Error::other("the remote sleep never started"))
        }));
        let err = s.co_run().await.unwrap_err();
        let chain = asyncjobs_core::ErrorChain(&err).to_string();
        assert!(chain.contains("boom"), "{chain}");
    });
    assert!(
        eventually(Duration::from_secs(15), || bed.remote_processes(&sleep)
            == 0),
        "orphan left: {} process(es) match {sleep}",
        bed.remote_processes(&sleep)
    );
}

/// Processes of any user whose command line contains `pattern` (the probe runs inside a job).
fn processes_matching(pattern: &str) -> usize {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                })
                .filter(|e| {
                    std::fs::read(e.path().join("cmdline"))
                        .map(|c| {
                            String::from_utf8_lossy(&c)
                                .replace('\0', " ")
                                .contains(pattern)
                        })
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn per_command_timeout_names_host_command_and_duration_and_stops_it() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let sleep = unique_sleep();
    let mut s = Scheduler::new().critical(false);
    let h = s.add(
        SshJob::new(&n)
            .run("echo before")
            .run(sleep.clone())
            .command_timeout(Duration::from_millis(1500))
            .critical(false),
    );
    assert!(s.run().unwrap());
    let e = h.raised_exception().expect("the job timed out");
    assert_eq!(e.kind(), "CommandTimeout");
    match e.downcast_ref::<asyncjobs_ssh::SshError>() {
        Some(asyncjobs_ssh::SshError::CommandTimeout {
            host,
            command,
            after,
        }) => {
            assert_eq!(host, n.display_name());
            assert_eq!(command, &sleep);
            assert_eq!(*after, Duration::from_millis(1500));
        }
        other => panic!("expected CommandTimeout, got {other:?}"),
    }
    assert!(e.to_string().contains("timed out after 1.500s"), "{e}");
    assert!(
        eventually(Duration::from_secs(15), || bed.remote_processes(&sleep)
            == 0),
        "orphan left: {} process(es) match {sleep}",
        bed.remote_processes(&sleep)
    );
    s.shutdown().unwrap();
}

/// A formatter whose writes fail after `ok` lines, as a closed pipe does.
struct ClosesAfter {
    ok: std::sync::atomic::AtomicUsize,
}

impl asyncjobs_ssh::Formatter for ClosesAfter {
    fn line(&self, _: &str, _: asyncjobs_ssh::Stream, _: &[u8]) -> std::io::Result<()> {
        use std::sync::atomic::Ordering;
        let left = self.ok.load(Ordering::SeqCst);
        if left == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        self.ok.store(left - 1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn output_that_cannot_be_written_stops_the_command() {
    let bed = testbed(1);
    let tag = unique("yes-pipe-");
    let remote = crate::support::node_builder(&bed, &bed.hosts()[0], &Output::new()).build();
    let local = asyncjobs_ssh::LocalNode::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for node in [asyncjobs_ssh::Node::from(remote), local.into()] {
        let formatter = std::sync::Arc::new(ClosesAfter {
            ok: std::sync::atomic::AtomicUsize::new(2),
        });
        // `yes` never ends by itself: only the write error can end it (the
        // timeout only bounds the test)
        let job = SshJob::new(node.clone())
            .formatter(formatter)
            .command_timeout(Duration::from_secs(120))
            .run(format!("exec yes {tag}"));
        let err = rt.block_on(job.execute()).unwrap_err();
        assert_eq!(err.kind(), "OutputError", "{err}");
        assert!(err.to_string().contains("could not be written"), "{err}");
        drop(job);
        // (the probe does not see local processes: a LocalNode's group is killed by its guard)
        if let asyncjobs_ssh::Node::Ssh(n) = &node {
            rt.block_on(n.close());
            assert!(
                eventually(Duration::from_secs(15), || bed.remote_processes(&tag) == 0),
                "{} `yes` process(es) left",
                bed.remote_processes(&tag)
            );
        }
    }
}
