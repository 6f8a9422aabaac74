//! One node, one job in a scheduler: the command runs and its output is captured and streamed.

use crate::support::{node, testbed, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{ExitStatus, SshJob};

#[test]
fn one_node_runs_hostname_and_echo_in_a_scheduler() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    let h = s.add(
        SshJob::new(&n)
            .run("hostname")
            .run("echo hello; echo to-stderr >&2"),
    );
    let ok = s.run();
    assert!(matches!(ok, Ok(true)), "{ok:?}\n{}", bed.sshd_log());
    let result = h.result().expect("the job has a result");
    let expected_host = String::from_utf8(
        std::process::Command::new("hostname")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(result.commands.len(), 2);
    assert_eq!(result.commands[0].stdout, expected_host);
    assert_eq!(result.commands[1].stdout, "hello\n");
    assert_eq!(result.commands[1].stderr, "to-stderr\n");
    assert_eq!(result.status(), Some(&ExitStatus::Code(0)));
    let host = n.display_name();
    assert_eq!(
        out.stdout(),
        format!("{host}:{expected_host}{host}:hello\n")
    );
    assert_eq!(out.stderr(), format!("{host}:to-stderr\n"));
    s.shutdown().unwrap();
}
