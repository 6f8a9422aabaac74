//! Formatters with real remote output: whole lines per host, per-host files, raw bytes.

use std::sync::Arc;

use crate::support::{node_builder, testbed, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{HostFormatter, RawFormatter, SharedBuffer, SshJob, SshNode, SubdirFormatter};

#[test]
fn host_prefixed_lines_from_twenty_hosts_never_interleave_mid_line() {
    let bed = testbed(20);
    let (out, err) = (SharedBuffer::new(), SharedBuffer::new());
    let shared = Arc::new(HostFormatter::with_writers(out.clone(), err.clone()));
    let filler = "x".repeat(300);
    let mut s = Scheduler::new();
    let nodes: Vec<_> = bed
        .hosts()
        .iter()
        .map(|h| {
            node_builder(&bed, h, &Output::new())
                .formatter(shared.clone())
                .build()
        })
        .collect();
    for n in &nodes {
        // 300 long lines as fast as the shell can print them, on both streams
        let cmd = format!("i=0; while [ $i -lt 300 ]; do echo \"$i {filler}\"; echo \"e$i\" >&2; i=$((i+1)); done");
        s.add(SshJob::new(n).run(cmd));
    }
    assert!(matches!(s.run(), Ok(true)));
    let stdout = out.contents_lossy();
    let stderr = err.contents_lossy();
    for n in &nodes {
        let host = n.display_name();
        let mine: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{host}:")))
            .collect();
        let expected: Vec<String> = (0..300).map(|i| format!("{host}:{i} {filler}")).collect();
        assert_eq!(mine, expected, "stdout lines of {host}, whole and in order");
        let mine_err: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with(&format!("{host}:")))
            .collect();
        assert_eq!(mine_err.len(), 300);
    }
    assert_eq!(stdout.lines().count(), 20 * 300, "no stray or merged line");
    assert_eq!(stderr.lines().count(), 20 * 300);
    s.shutdown().unwrap();
}

#[test]
fn subdir_formatter_writes_one_file_per_host_and_err_files() {
    let bed = testbed(3);
    let dir = tempfile::tempdir().unwrap();
    let sub = Arc::new(SubdirFormatter::new(dir.path().join("run")));
    let nodes: Vec<_> = bed
        .hosts()
        .iter()
        .map(|h| {
            node_builder(&bed, h, &Output::new())
                .formatter(sub.clone())
                .build()
        })
        .collect();
    let mut s = Scheduler::new();
    for (i, n) in nodes.iter().enumerate() {
        let cmd = if i == 0 {
            "echo out-0; echo err-0 >&2".to_string()
        } else {
            format!("echo out-{i}")
        };
        s.add(SshJob::new(n).run(cmd).run("printf 'no newline'"));
    }
    assert!(matches!(s.run(), Ok(true)));
    for (i, n) in nodes.iter().enumerate() {
        let text = std::fs::read_to_string(dir.path().join("run").join(n.display_name())).unwrap();
        assert_eq!(text, format!("out-{i}\nno newline"));
        let err = dir
            .path()
            .join("run")
            .join(format!("{}.err", n.display_name()));
        if i == 0 {
            assert_eq!(std::fs::read_to_string(err).unwrap(), "err-0\n");
        } else {
            assert!(!err.exists(), "no .err file without stderr output");
        }
    }
    s.shutdown().unwrap();
}

#[test]
fn raw_formatter_passes_bytes_through_and_host_formatter_shows_them_escaped() {
    let bed = testbed(1);
    let raw_out = SharedBuffer::new();
    let host_out = SharedBuffer::new();
    let raw = node_builder(&bed, &bed.hosts()[0], &Output::new())
        .formatter(Arc::new(RawFormatter::with_writers(
            raw_out.clone(),
            std::io::sink(),
        )))
        .build();
    let prefixed = node_builder(&bed, &bed.hosts()[0], &Output::new())
        .formatter(Arc::new(HostFormatter::with_writers(
            host_out.clone(),
            std::io::sink(),
        )))
        .build();
    let cmd = r"printf 'a\377b\nlast'";
    let mut s = Scheduler::new();
    let h = s.add(SshJob::new(&raw).run(cmd));
    s.add(SshJob::new(&prefixed).run(cmd));
    assert!(matches!(s.run(), Ok(true)));
    assert_eq!(raw_out.contents(), b"a\xffb\nlast");
    let host = prefixed.display_name();
    assert_eq!(
        host_out.contents(),
        format!("{host}:a\\xffb\n{host}:last\n").into_bytes(),
        "not UTF-8: shown as \\xff, neither dropped nor replaced"
    );
    assert_eq!(h.result().unwrap().stdout(), "a\u{fffd}b\nlast");
    s.shutdown().unwrap();
}

#[test]
fn line_prefixes_name_hosts_as_the_cli_does_and_keep_ports_apart_from_output() {
    // two nodes on one address, told apart by their ports; one named as
    // ajssh names its hosts; one IPv6 address without a port
    let bed = testbed(2);
    let out = SharedBuffer::new();
    let f = Arc::new(HostFormatter::with_writers(out.clone(), std::io::sink()));
    let hosts = bed.hosts();
    let by_port = node_builder(&bed, &hosts[0], &Output::new())
        .formatter(f.clone())
        .build();
    let named = node_builder(&bed, &hosts[1], &Output::new())
        .formatter(f.clone())
        .display_name("node01")
        .build();
    let mut s = Scheduler::new();
    s.add(SshJob::new(&by_port).run("echo 22:00 up"));
    s.add(SshJob::new(&named).run("echo 22:00 up"));
    assert!(matches!(s.run(), Ok(true)));
    let mut lines: Vec<String> = out.contents_lossy().lines().map(str::to_string).collect();
    lines.sort();
    let (ip, port) = (&hosts[0].ip, hosts[0].port);
    // `[127.0.0.2]:2222` (or `[::1]:2222`)
    let by_port_line = format!("[{ip}]:{port}:22:00 up");
    assert_eq!(lines, [by_port_line, "node01:22:00 up".to_string()]);
    // the host ends at `]`: the port cannot be read as output, nor the
    // output's colons as a port; port 22 needs no port, IPv6 brackets
    assert_eq!(by_port.display_name(), format!("[{ip}]:{port}"));
    let v6 = SshNode::builder("fe80::1").build();
    assert_eq!(v6.display_name(), "[fe80::1]");
    assert_eq!(SshNode::builder("web").build().display_name(), "web");
    s.shutdown().unwrap();
}
