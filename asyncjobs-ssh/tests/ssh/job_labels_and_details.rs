//! How SshJobs show in listings: kind, default label, details.

use asyncjobs_core::{AbstractJob, ListOptions, Scheduler, Symbols};
use asyncjobs_ssh::{LocalNode, Pull, Push, Run, RunString, SshJob, SshNode};

#[test]
fn default_label_is_the_first_command_plus_the_count_of_the_others() {
    let node = SshNode::builder("web1").user("deploy").build();
    let one = SshJob::new(&node).run("uptime");
    assert_eq!(one.task().default_label(), "uptime");
    let three = SshJob::new(&node)
        .run("uptime")
        .command(Push::new(["a"], "b"))
        .command(Pull::new(["c"], "d"));
    assert_eq!(three.task().default_label(), "uptime + 2 more");
    assert_eq!(
        SshJob::new(&node).task().default_label(),
        "SshJob (no command)"
    );
    assert_eq!(one.task().kind(), "SshJob");
}

#[test]
fn details_show_user_at_host_then_each_command() {
    let gw = SshNode::builder("gw").user("admin").build();
    let node = SshNode::builder("10.0.0.7")
        .user("root")
        .port(2222)
        .gateway(&gw)
        .build();
    let job = SshJob::new(&node)
        .command(Run::new("ls").arg("my dir"))
        .command(RunString::new("#!/bin/sh\necho hi\n"));
    assert_eq!(
        job.task().details().unwrap(),
        "admin@gw->root@10.0.0.7:2222\nls 'my dir'\nRunString: echo hi"
    );
    let local = SshJob::new(LocalNode::new()).run("true");
    assert!(local
        .task()
        .details()
        .unwrap()
        .ends_with("@localnode\ntrue"));
}

#[test]
fn listing_shows_the_default_label_unless_one_is_given() {
    let node = SshNode::builder("web1").build();
    let mut s = Scheduler::new();
    s.add(SshJob::new(&node).run("uptime").run("df -h"));
    s.add(SshJob::new(&node).run("true").label("named"));
    let snap = s.snapshot().unwrap();
    let labels: Vec<&str> = snap.jobs.iter().map(|j| j.label.as_str()).collect();
    assert_eq!(labels, ["uptime + 1 more", "named"]);
    assert!(snap.jobs.iter().all(|j| j.kind == "SshJob"));
}

#[test]
fn result_shows_in_listings_as_the_statuses_of_the_commands() {
    let node = LocalNode::new().with_formatter(std::sync::Arc::new(
        asyncjobs_ssh::RawFormatter::with_writers(std::io::sink(), std::io::sink()),
    ));
    let mut s = Scheduler::new();
    s.add(SshJob::new(&node).run("echo hi").label("one"));
    s.add(
        SshJob::new(&node)
            .run("echo hi")
            .command(Run::new("exit 3").allow_exits([3]))
            .command(Run::new("kill -TERM $$").allow_exits(["TERM"]))
            .label("three"),
    );
    assert!(s.run().unwrap());
    let opts = ListOptions {
        symbols: Symbols::Ascii,
        ..ListOptions::default()
    };
    let listing = s.listing(&opts).unwrap();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(lines[0].ends_with("<SshJob `one`>[[ -> 0]]"), "{listing}");
    assert!(
        lines[1].ends_with("<SshJob `three`>[[ -> 0, 3, TERM]]"),
        "{listing}"
    );
}

#[test]
fn graphs_name_the_node_and_show_a_failed_command_by_status_and_last_stderr_line() {
    let gw = SshNode::builder("127.0.0.1")
        .user("admin")
        .port(2500)
        .build();
    let node = SshNode::builder("127.0.0.2")
        .user("root")
        .port(2500)
        .gateway(&gw)
        .display_name("fit01")
        .build();
    let remote = SshJob::new(&node).run("uptime");
    assert_eq!(remote.task().graph_target().as_deref(), Some("fit01"));
    assert_eq!(remote.task().graph_details().as_deref(), Some("uptime"));
    let local = LocalNode::new()
        .with_name("here")
        .with_formatter(std::sync::Arc::new(
            asyncjobs_ssh::RawFormatter::with_writers(std::io::sink(), std::io::sink()),
        ));
    let mut s = Scheduler::new().critical(false);
    s.add(
        SshJob::new(&local)
            .run("echo first >&2; echo 'no space left' >&2; exit 3")
            .label("install"),
    );
    assert!(!s.run().unwrap());
    let dot =
        asyncjobs_graph::dot_format_with(&s, &asyncjobs_graph::DotOptions::outcomes()).unwrap();
    assert!(
        dot.contains(r#"label="1: install\nhere\necho first >&2; echo 'no space left' >&2; exit 3\nCommandFailed: exit code 3: no space left""#),
        "{dot}"
    );
}

#[test]
fn options_and_commands_go_in_any_order() {
    use asyncjobs_core::JobState;
    let node = LocalNode::new();
    let mut s = Scheduler::new().critical(false);
    let first = s.add(SshJob::new(&node).label("first").run("echo one"));
    let failing = s.add(
        SshJob::new(&node)
            .critical(false)
            .label("failing")
            .requires(&first)
            .run("exit 3"),
    );
    let watcher = s.add(
        SshJob::new(&node)
            .forever(true)
            .graph_label("watch\nforever")
            .label("watcher")
            .run("sleep 30"),
    );
    let last = s.add(
        SshJob::new(&node)
            .requires([&first])
            .label("last")
            .run("echo two"),
    );
    assert!(s.run().unwrap());
    let snap = s.snapshot().unwrap();
    let labels: Vec<&str> = snap.jobs.iter().map(|j| j.label.as_str()).collect();
    for l in ["first", "failing", "watcher", "last"] {
        assert!(labels.contains(&l), "{labels:?}");
    }
    assert_eq!(failing.raised_exception().unwrap().kind(), "CommandFailed");
    assert_eq!(last.result().unwrap().stdout(), "two\n");
    assert_ne!(
        watcher.state(),
        JobState::Done,
        "a forever job is cancelled, not waited for"
    );
    assert!(s.shutdown().unwrap());
}
