//! Push and Pull honour their own timeout and the job's command timeout.

use std::time::Duration;

use crate::support::{node, testbed, unique, Output};
use asyncjobs_ssh::{Pull, Push, SshError, SshJob};

/// 200 MB cannot cross in 20 ms, however fast the machine: the timeout must fire.
const BIG: u64 = 200_000_000;

fn is_timeout(e: &SshError, after: Duration) -> bool {
    matches!(e, SshError::CommandTimeout { after: a, command, .. } if *a == after && (command.starts_with("Push") || command.starts_with("Pull")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_outlasts_its_timeout_fails_with_command_timeout() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let local = tempfile::tempdir().unwrap();
    let big = local.path().join("big.bin");
    std::fs::File::create(&big).unwrap().set_len(BIG).unwrap();
    let remote = bed.remote_dir().join(unique("push-timeout"));
    let after = Duration::from_millis(20);
    let job = SshJob::new(&n).command(Push::new([&big], remote.to_str().unwrap()).timeout(after));
    let err = job.execute().await.unwrap_err();
    assert!(is_timeout(&err, after), "{err:?}");
    // the job's default applies when the command sets none
    let job = SshJob::new(&n)
        .command(Push::new([&big], remote.to_str().unwrap()))
        .command_timeout(after);
    let err = job.execute().await.unwrap_err();
    assert!(is_timeout(&err, after), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_that_outlasts_its_timeout_fails_with_command_timeout() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let remote = bed.remote_dir().join(unique("pull-timeout"));
    let remote = remote.to_str().unwrap().to_string();
    SshJob::new(&n)
        .run(format!("truncate -s {BIG} {remote}"))
        .execute()
        .await
        .unwrap();
    let local = tempfile::tempdir().unwrap();
    let after = Duration::from_millis(20);
    let job = SshJob::new(&n).command(Pull::new([&remote], local.path()).timeout(after));
    let err = job.execute().await.unwrap_err();
    assert!(is_timeout(&err, after), "{err:?}");
    // without a timeout the same pull completes
    let job = SshJob::new(&n).command(Pull::new([&remote], local.path().join("whole")));
    job.execute().await.unwrap();
    assert_eq!(
        std::fs::metadata(local.path().join("whole")).unwrap().len(),
        BIG
    );
}
