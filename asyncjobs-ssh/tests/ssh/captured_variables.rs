//! Captured outputs: a command stores its stdout, a later command on another node is built from it.

use crate::support::{node, testbed, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{shell_quote, Run, RunString, SshJob, Variables};

#[test]
fn captured_output_feeds_a_later_command_on_another_node() {
    let bed = testbed(2);
    let out = Output::new();
    let (a, b) = (
        node(&bed, &bed.hosts()[0], &out),
        node(&bed, &bed.hosts()[1], &out),
    );
    let vars = Variables::new();
    let v = vars.clone();
    let mut s = Scheduler::new();
    let first = s.add(
        SshJob::new(&a)
            .command(Run::new("echo \"value with 'quotes'\"; echo").capture(&vars, "ignored_blank"))
            .command(Run::new("echo \"value with 'quotes'\"").capture(&vars, "v")),
    );
    let second = s.add(
        SshJob::new(&b)
            .command(Run::deferred("echo the captured value", move || {
                format!("echo got {}", shell_quote(&v.get("v").unwrap_or_default()))
            }))
            .requires(&first),
    );
    assert!(matches!(s.run(), Ok(true)), "{}", out.stderr());
    assert_eq!(vars.get("v").as_deref(), Some("value with 'quotes'"));
    assert_eq!(
        vars.get("ignored_blank").as_deref(),
        Some("value with 'quotes'\n")
    );
    assert_eq!(
        second.result().unwrap().stdout(),
        "got value with 'quotes'\n"
    );
    s.shutdown().unwrap();
}

#[test]
fn concurrent_jobs_on_one_node_capture_only_their_own_output() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let vars = Variables::new();
    let mut s = Scheduler::new();
    for i in 0..8 {
        let body = format!("#!/bin/sh\nfor k in 1 2 3; do echo job{i}-$k; sleep 0.05; done\n");
        s.add(SshJob::new(&n).command(RunString::new(body).capture(&vars, format!("job{i}"))));
    }
    assert!(matches!(s.run(), Ok(true)), "{}", out.stderr());
    for i in 0..8 {
        assert_eq!(
            vars.get(&format!("job{i}")).unwrap(),
            format!("job{i}-1\njob{i}-2\njob{i}-3")
        );
    }
    s.shutdown().unwrap();
}

#[test]
fn failed_command_captures_nothing() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let vars = Variables::new();
    let mut s = Scheduler::new();
    s.add(
        SshJob::new(&n)
            .command(Run::new("echo partial; exit 2").capture(&vars, "x"))
            .critical(false),
    );
    assert!(s.run().unwrap());
    assert_eq!(vars.get("x"), None);
    s.shutdown().unwrap();
}
