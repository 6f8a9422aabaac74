//! A fan-out: 20 nodes, one job each, all in one scheduler.

use crate::support::{node, testbed, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::SshJob;

#[test]
fn twenty_nodes_each_run_their_own_command() {
    let bed = testbed(20);
    let out = Output::new();
    let nodes: Vec<_> = bed.hosts().iter().map(|h| node(&bed, h, &out)).collect();
    let mut s = Scheduler::new();
    let handles: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| s.add(SshJob::new(n).run(format!("echo node-{i} on $(hostname)"))))
        .collect();
    let ok = s.run();
    assert!(matches!(ok, Ok(true)), "{ok:?}\n{}", bed.sshd_log());
    let hostname = String::from_utf8(
        std::process::Command::new("hostname")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let mut expected_lines = Vec::new();
    for (i, (h, n)) in handles.iter().zip(&nodes).enumerate() {
        let result = h.result().expect("every job has a result");
        assert_eq!(result.host, n.display_name());
        assert_eq!(result.stdout(), format!("node-{i} on {hostname}"));
        expected_lines.push(format!(
            "{}:node-{i} on {}",
            n.display_name(),
            hostname.trim_end()
        ));
    }
    let mut lines: Vec<String> = out.stdout().lines().map(str::to_string).collect();
    lines.sort();
    expected_lines.sort();
    assert_eq!(lines, expected_lines);
    assert!(s.shutdown().unwrap());
}
