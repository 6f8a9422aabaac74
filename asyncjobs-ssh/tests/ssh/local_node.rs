//! LocalNode: the same job API on this machine; failures and timeouts behave as remotely.

use std::time::Duration;

use crate::support::{eventually, unique, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{ExitStatus, LocalNode, SshError, SshJob};

fn local(out: &Output) -> LocalNode {
    LocalNode::new().with_formatter(out.formatter())
}

#[test]
fn local_commands_stream_lines_and_capture_both_streams() {
    let out = Output::new();
    let node = local(&out);
    let mut s = Scheduler::new();
    let h = s.add(SshJob::new(&node).run("echo one; echo two >&2; printf three"));
    assert!(s.run().unwrap());
    let r = h.result().unwrap();
    assert_eq!(
        (r.stdout().as_str(), r.stderr().as_str()),
        ("one\nthree", "two\n")
    );
    assert_eq!(out.stdout(), "localnode:one\nlocalnode:three\n");
    assert_eq!(out.stderr(), "localnode:two\n");
}

#[test]
fn local_failure_carries_status_and_stderr_tail() {
    let out = Output::new();
    let node = local(&out);
    let mut s = Scheduler::new();
    let h = s.add(
        SshJob::new(&node)
            .run("echo bad >&2; exit 4")
            .critical(false),
    );
    assert!(s.run().unwrap());
    match h.raised_exception().unwrap().downcast_ref::<SshError>() {
        Some(SshError::CommandFailed {
            status,
            stderr_tail,
            host,
            ..
        }) => {
            assert_eq!(status, &ExitStatus::Code(4));
            assert_eq!(stderr_tail, "bad");
            assert_eq!(host, "localnode");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn local_timeout_stops_the_whole_process_group() {
    let out = Output::new();
    let node = local(&out);
    let marker = format!("sleep 4244.{}", unique(""));
    // a pipeline: the shell and its children must all go
    let mut s = Scheduler::new();
    let h = s.add(
        SshJob::new(&node)
            .run(format!("{marker} | cat; echo never"))
            .command_timeout(Duration::from_millis(800))
            .critical(false),
    );
    assert!(s.run().unwrap());
    assert_eq!(h.raised_exception().unwrap().kind(), "CommandTimeout");
    let running = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| {
                        String::from_utf8_lossy(&c)
                            .replace('\0', " ")
                            .contains(&marker)
                    })
                    .unwrap_or(false)
            })
            .count()
    };
    assert!(
        eventually(Duration::from_secs(10), || running() == 0),
        "local orphan: {marker}"
    );
}
