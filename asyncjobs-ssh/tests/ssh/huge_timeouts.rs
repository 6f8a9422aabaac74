//! A command or transfer timeout of any size works: one too large for the
//! clock (`Duration::MAX`, what `--timeout 1e19` gives) is no deadline, never
//! a panic "overflow when adding duration to instant".

use std::time::Duration;

use asyncjobs_ssh::{LocalNode, Pull, Run, SshJob, SshNode};
use asyncjobs_tests::hostile::{HostileServer, Lies, Node};

use crate::support::Output;

const HUGE: [Duration; 2] = [
    Duration::MAX,
    Duration::from_secs(10_000_000_000_000_000_000),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_command_with_a_huge_timeout_runs_to_its_end() {
    for huge in HUGE {
        let out = Output::new();
        let node = LocalNode::new().with_formatter(out.formatter());
        let result = SshJob::new(&node)
            .command(Run::new("echo done").timeout(huge))
            .execute()
            .await
            .unwrap();
        assert_eq!(result.stdout(), "done\n");
        let result = SshJob::new(&node)
            .run("echo again")
            .command_timeout(huge)
            .execute()
            .await
            .unwrap();
        assert_eq!(result.stdout(), "again\n");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_command_and_a_pull_with_a_huge_timeout_run_to_their_end() {
    let server = HostileServer::start(Lies {
        tree: Node::dir([("f", Node::file("content"))]),
        ..Lies::default()
    })
    .unwrap();
    let out = Output::new();
    let node = SshNode::builder(server.host().ip.clone())
        .port(server.host().port)
        .user("anyone")
        .identity(server.identity())
        .agent(false)
        .known_hosts_file(server.known_hosts())
        .formatter(out.formatter())
        .build();
    let local = tempfile::tempdir().unwrap();
    for huge in HUGE {
        SshJob::new(&node)
            .command(Run::new("true").timeout(huge))
            .command(Pull::new(["f"], local.path()).timeout(huge))
            .execute()
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(local.path().join("f")).unwrap(),
            "content"
        );
    }
    node.close().await;
}
