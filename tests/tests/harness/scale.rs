//! Large testbeds: hundreds of hosts, ceil(N/16) sshd processes. Start times are
//! printed (run with `--nocapture`), never asserted.

use std::time::Instant;

use asyncjobs_tests::{Testbed, LISTEN_PER_SSHD};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// Starts `n` hosts, checks every one listens and the last host of every sshd answers.
fn start_and_check(n: usize) {
    let t = Instant::now();
    let bed = Testbed::start(n).expect("testbed starts");
    eprintln!("testbed with {n} hosts started in {:?}", t.elapsed());
    assert_eq!(bed.hosts().len(), n);
    assert_eq!(bed.sshd_pids().len(), n.div_ceil(LISTEN_PER_SSHD));
    assert_eq!(bed.listening_hosts(), n, "{}", bed.sshd_log());
    let probes: Vec<_> = bed
        .hosts()
        .chunks(LISTEN_PER_SSHD)
        .map(|c| c.last().unwrap().clone())
        .collect();
    for host in probes {
        let out = bed.ssh_command(&host).arg("echo ok").output().unwrap();
        assert_eq!(
            text(&out.stdout),
            "ok",
            "{}: {}\n{}",
            host.address(),
            text(&out.stderr),
            bed.sshd_log()
        );
    }
    let t = Instant::now();
    drop(bed);
    eprintln!("testbed with {n} hosts dropped in {:?}", t.elapsed());
}

#[test]
fn a_hundred_hosts_all_listen_and_answer() {
    start_and_check(100);
}

#[test]
fn five_hundred_hosts_all_listen_and_answer() {
    start_and_check(500);
}
