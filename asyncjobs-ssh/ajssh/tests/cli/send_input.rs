//! Standard input: remote commands read end-of-file at once (as `ssh -n`),
//! even when ajssh's own stdin is an open pipe; `-I` sends ajssh's stdin to
//! every host (as `pssh -I`), read once.

use std::io::Write;
use std::process::Stdio;

use crate::support::{ajssh, label, run, run_with_stdin, target, testbed};

#[test]
fn remote_commands_read_end_of_file_without_dash_i() {
    let bed = testbed(2);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    // ajssh's stdin is a pipe that stays open (never written, never closed)
    // for the whole run: without -I the commands must not wait on it
    let mut child = ajssh(&bed)
        .arg(hosts.join(","))
        .args([
            "--",
            "cat; if read x; then echo got; else echo eof; fi; wc -c",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let open_stdin = child.stdin.take();
    let out = crate::support::wait_output(child);
    drop(open_stdin);
    assert_eq!(out.code, 0, "{out:?}");
    let mut expected: Vec<String> = bed
        .hosts()
        .iter()
        .map(label)
        .flat_map(|h| [format!("{h}:eof"), format!("{h}:0")])
        .collect();
    expected.sort();
    assert_eq!(out.sorted_lines(), expected);
}

#[test]
fn send_input_replays_stdin_to_every_host() {
    let bed = testbed(3);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let r = run_with_stdin(
        ajssh(&bed)
            .arg("-I")
            .arg(hosts.join(","))
            .args(["--", "read x; echo \"first=$x\"; wc -l"]),
        Some("line one\nline two\nline three\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let mut expected: Vec<String> = bed
        .hosts()
        .iter()
        .map(label)
        .flat_map(|h| [format!("{h}:first=line one"), format!("{h}:2")])
        .collect();
    expected.sort();
    assert_eq!(r.sorted_lines(), expected);
}

#[test]
fn send_input_past_the_memory_limit_is_spooled_and_arrives_whole() {
    // 17 MiB: more than the 16 MiB kept in memory, so it goes through the spool file
    let bed = testbed(2);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let size = 17 * 1024 * 1024 + 3;
    let mut child = ajssh(&bed)
        .args(["--send-input", "-vv"])
        .arg(hosts.join(","))
        .args(["--", "cksum"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let chunk: Vec<u8> = (0..=255u8).cycle().take(1024 * 1024).collect();
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len());
            stdin.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
    });
    let out = crate::support::wait_output(child);
    feeder.join().unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("{size} bytes of input, spooled")),
        "{}",
        out.stderr
    );
    // the same checksum as computed locally, on every host
    let local = {
        let mut c = std::process::Command::new("cksum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut i = c.stdin.take().unwrap();
        let data: Vec<u8> = (0..=255u8).cycle().take(1024 * 1024).collect();
        let mut left = size;
        while left > 0 {
            let n = left.min(data.len());
            i.write_all(&data[..n]).unwrap();
            left -= n;
        }
        drop(i);
        String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap()
    };
    let mut expected: Vec<String> = bed
        .hosts()
        .iter()
        .map(|h| format!("{}:{}", label(h), local.trim_end()))
        .collect();
    expected.sort();
    assert_eq!(out.sorted_lines(), expected);
}

#[test]
fn send_input_and_targets_from_stdin_are_a_usage_error() {
    let bed = testbed(1);
    let r = run_with_stdin(
        ajssh(&bed).args(["-I", "-t", "-", "--", "cat"]),
        Some("127.0.0.1\n"),
    );
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr
            .contains("-I/--send-input and -t - both read stdin"),
        "{}",
        r.stderr
    );
}

#[test]
fn empty_input_is_end_of_file() {
    let bed = testbed(1);
    let h = target(&bed.hosts()[0]);
    let r = run_with_stdin(ajssh(&bed).args(["-I", &h, "--", "wc -c"]), Some(""));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("{}:0\n", label(&bed.hosts()[0])));
    let r = run(ajssh(&bed).args([&h, "--", "wc -c"]));
    assert_eq!(r.stdout, format!("{}:0\n", label(&bed.hosts()[0])));
}
