//! A 50 MiB push and pull on loopback: checks the copies are intact and
//! prints the throughput (informative only; never asserted).

use std::time::Instant;

use crate::sftp_support::{
    connect, exec, local_sha256, random_bytes, remote_area, shell_quote, write_file,
};
use asyncjobs_ssh::sftp::{open_sftp, pull, push, TransferOptions};
use asyncjobs_tests::Testbed;

const SIZE: usize = 50 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread")]
async fn a_50_mib_file_survives_push_and_pull() {
    let bed = Testbed::start(1).expect("testbed");
    let handle = connect(&bed).await;
    let sftp = open_sftp(&handle).await.expect("sftp opens");
    let local = tempfile::tempdir().unwrap();
    let big = local.path().join("big.bin");
    write_file(&big, &random_bytes(SIZE, 50), 0o644);
    let sha = local_sha256(std::slice::from_ref(&big)).remove(0);
    let remote = remote_area(&bed, "big.bin");
    let opts = TransferOptions::default();

    let start = Instant::now();
    let pushed = push(&sftp, std::slice::from_ref(&big), &remote, &opts)
        .await
        .expect("push");
    let push_secs = start.elapsed().as_secs_f64();
    assert_eq!(pushed.bytes, SIZE as u64);
    let remote_sum = exec(&handle, &format!("sha256sum {}", shell_quote(&remote))).await;
    assert!(
        remote_sum.stdout.starts_with(&sha),
        "remote copy differs: {}",
        remote_sum.stdout
    );

    let back = local.path().join("back.bin");
    let start = Instant::now();
    let pulled = pull(&sftp, &[remote], &back, &opts).await.expect("pull");
    let pull_secs = start.elapsed().as_secs_f64();
    assert_eq!(pulled.bytes, SIZE as u64);
    assert_eq!(local_sha256(&[back]).remove(0), sha, "pulled copy differs");

    let mb = SIZE as f64 / 1e6;
    eprintln!(
        "sftp throughput on loopback: push {:.0} MB/s ({push_secs:.2}s), pull {:.0} MB/s ({pull_secs:.2}s)",
        mb / push_secs,
        mb / pull_secs
    );
}
