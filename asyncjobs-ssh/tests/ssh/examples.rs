//! The programs of `asyncjobs-ssh/examples/`, run against the loopback
//! harness: each example's body is a function its `main` calls with nodes
//! from an ssh config; here the config is one the harness writes.

#[allow(dead_code)]
#[path = "../../examples/testbed.rs"]
mod testbed_example;

#[allow(dead_code)]
#[path = "../../examples/fanout.rs"]
mod fanout_example;

#[allow(dead_code)]
#[path = "../../examples/monitor.rs"]
mod monitor_example;

#[allow(dead_code)]
#[path = "../../examples/pipeline.rs"]
mod pipeline_example;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use asyncjobs_ssh::config::SshConfig;
use asyncjobs_ssh::SshNode;

use crate::support::{node, testbed, unique, Output};

/// The lines of the example's body, between its signature and its closing brace.
fn body_lines(source: &str, signature: &str) -> usize {
    let start = source.find(signature).expect("the function");
    let rest = &source[start..];
    let end = rest.find("\n}\n").expect("its end");
    rest[..end].lines().count() + 1
}

#[test]
fn the_testbed_script_pushes_runs_pulls_lists_and_draws_through_a_gateway() {
    let bed = testbed(6);
    let config = SshConfig::load_file(bed.write_ssh_config(&["gw", "n1", "n2", "n3", "n4", "n5"]))
        .expect("the harness's ssh config");
    let local = tempfile::tempdir().expect("tempdir");
    std::fs::write(local.path().join("data.txt"), "a\nb\nc\n").expect("data");
    let script = local.path().join("process.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nwc -l < \"$1/$2.txt\" > \"$1/$2.out\"\n",
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // the harness's remote directory belongs to the login user; it is this testbed's
    let remote = bed.remote_dir().display().to_string();

    assert!(testbed_example::testbed(&config, local.path(), &remote).expect("the script"));
    for name in ["n1", "n2", "n3", "n4", "n5"] {
        let out = std::fs::read_to_string(local.path().join(format!("{name}.out"))).expect(name);
        assert_eq!(out.trim(), "3", "{name}");
    }
    let dot = std::fs::read_to_string(local.path().join("testbed.dot")).expect("the graph");
    for name in ["n1", "n5"] {
        assert!(dot.contains(name), "{dot}");
    }
    // the script fits in 20 lines, signature and closing brace included
    let lines = body_lines(include_str!("../../examples/testbed.rs"), "pub fn testbed(");
    assert!(lines <= 20, "the testbed script takes {lines} lines");
}

#[test]
fn the_testbed_script_lists_and_shuts_down_when_a_node_fails() {
    let bed = testbed(6);
    let config = SshConfig::load_file(bed.write_ssh_config(&["gw", "n1", "n2", "n3", "n4", "n5"]))
        .expect("the harness's ssh config");
    let local = tempfile::tempdir().expect("tempdir");
    std::fs::write(local.path().join("data.txt"), "a\n").expect("data");
    // no process.sh: the first node's script upload fails, a critical job
    let err = testbed_example::testbed(
        &config,
        local.path(),
        &bed.remote_dir().display().to_string(),
    )
    .expect_err("a critical failure");
    assert!(err.to_string().contains("critical job"), "{err}");
    // the graph was still written, and every connection closed
    assert!(local.path().join("testbed.dot").exists());
    assert!(
        crate::support::eventually(Duration::from_secs(10), || bed.established_connections()
            == 0),
        "connections left open"
    );
}

#[test]
fn the_fanout_keeps_going_past_a_refusing_host() {
    let bed = testbed(4);
    let out = Output::new();
    let mut nodes: Vec<SshNode> = bed.hosts().iter().map(|h| node(&bed, h, &out)).collect();
    let down = bed.closed_port();
    nodes.insert(2, node(&bed, &down, &out));
    let report = fanout_example::fanout(&nodes, "echo up", 2).expect("the fan-out");
    assert_eq!(report.len(), 5);
    for (i, (host, result)) in report.iter().enumerate() {
        if i == 2 {
            let e = result.as_ref().expect_err("the closed port");
            assert_eq!(
                e,
                &format!("connection refused by {}", down.address()),
                "{host}"
            );
        } else {
            assert_eq!(result.as_deref(), Ok("up"), "{host}");
        }
    }
}

#[test]
fn the_monitor_runs_beside_the_work_and_stops_with_it() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let tag = unique("monitored-");
    let work = format!("sleep 1.5; echo {tag}");
    let result = monitor_example::monitor(&n, &work, Duration::from_secs(60)).expect("the work");
    assert_eq!(result.stdout().trim(), tag);
    // the monitor printed the load at least once, through the node's formatter
    let lines = out.stdout();
    assert!(
        lines.lines().any(|l| l
            .rsplit(':')
            .next()
            .is_some_and(|v| v.split_whitespace().count() == 5)),
        "{lines}"
    );
    // a work that outlives the timeout is an error, after the listing
    let err =
        monitor_example::monitor(&n, "sleep 30", Duration::from_secs(1)).expect_err("timeout");
    assert!(err.to_string().contains("TIMED OUT"), "{err}");
}

#[test]
fn the_pipeline_packs_locally_and_deploys_everywhere() {
    let bed = testbed(3);
    let out = Output::new();
    let nodes: Vec<SshNode> = bed.hosts().iter().map(|h| node(&bed, h, &out)).collect();
    let source = tempfile::tempdir().expect("tempdir");
    std::fs::write(source.path().join("VERSION"), "1.2.3\n").expect("version");
    std::fs::write(source.path().join("app.sh"), "echo app\n").expect("app");
    let remote = bed.remote_dir().join(unique("pipeline-"));
    let remote_s = remote.display().to_string();
    assert!(pipeline_example::pipeline(&nodes, source.path(), &remote_s).expect("the pipeline"));
    for i in 0..3 {
        assert!(
            remote.join(i.to_string()).join("app.sh").exists(),
            "node {i}"
        );
    }
    // a node that refuses: the pipeline fails with the node's error as the cause
    let down = node(&bed, &bed.closed_port(), &out);
    let err = pipeline_example::pipeline(&[down], source.path(), &remote_s).expect_err("refused");
    let chain = asyncjobs_core::ErrorChain(&*err).to_string();
    assert!(chain.contains("connection refused by"), "{chain}");
}
