//! `ajssh TARGETS -- COMMAND` against the loopback sshd: every output mode,
//! node sets through ~/.ssh/config aliases, target files, jump hosts, scripts
//! and transfers.

use crate::support::{ajssh, fail_on, label, run, ssh_config, target, testbed};

#[test]
fn default_output_prefixes_every_line_with_its_host() {
    let bed = testbed(3);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let r = run(ajssh(&bed)
        .arg(hosts.join(","))
        .args(["--", "echo hello; echo oops >&2"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    // each host shown by its address alone: the ports are not needed to tell them apart
    let shown: Vec<String> = bed.hosts().iter().map(label).collect();
    let mut expected: Vec<String> = shown.iter().map(|h| format!("{h}:hello")).collect();
    expected.sort();
    assert_eq!(r.sorted_lines(), expected);
    for h in &shown {
        assert!(r.stderr.contains(&format!("{h}:oops\n")), "{}", r.stderr);
    }
    assert!(
        !r.stderr.contains("ajssh:"),
        "no summary when all succeeded and stderr is not a terminal: {}",
        r.stderr
    );
}

#[test]
fn raw_output_has_no_prefix() {
    let bed = testbed(2);
    let r = run(ajssh(&bed)
        .arg("-r")
        .args(bed.hosts().iter().map(target))
        .args(["--", "printf 'a b\\n'"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "a b\na b\n");
}

#[test]
fn time_output_prefixes_time_and_host() {
    let bed = testbed(1);
    let h = target(&bed.hosts()[0]);
    let r = run(ajssh(&bed).args(["--time", &h, "--", "echo t"]));
    assert_eq!(r.code, 0, "{r:?}");
    let line = r.stdout.trim_end();
    let (time, rest) = line.split_at(8);
    assert_eq!(rest, format!(":{}:t", label(&bed.hosts()[0])));
    assert!(
        time.bytes().enumerate().all(|(i, b)| if i == 2 || i == 5 {
            b == b':'
        } else {
            b.is_ascii_digit()
        }),
        "{line}"
    );
}

#[test]
fn out_dir_writes_one_file_per_host_and_marks_reusable_as_targets() {
    let bed = testbed(2);
    let (good, bad) = (&bed.hosts()[0], &bed.hosts()[1]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cmd = format!("echo err >&2; {}", fail_on(bad, 5));
    let r = run(ajssh(&bed)
        .arg("-d")
        .arg(&out)
        .arg("-m")
        .arg(target(good))
        .arg(target(bad))
        .args(["--", &cmd]));
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.stdout, "", "nothing on stdout with -d");
    assert_eq!(
        std::fs::read_to_string(out.join(target(good))).unwrap(),
        "ok\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join(format!("{}.err", target(good)))).unwrap(),
        "err\n"
    );
    assert_eq!(std::fs::read_to_string(out.join(target(bad))).unwrap(), "");
    assert_eq!(
        std::fs::read_to_string(out.join("0ok").join(target(good))).unwrap(),
        "0\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("1failed").join(target(bad))).unwrap(),
        "5\n"
    );
    // the marks directory is a target source: re-run on the failed hosts only
    let r = run(ajssh(&bed).arg("-t").arg(out.join("1failed")).args(["-L"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("{}@{}\n", bed.user(), target(bad)));
}

#[test]
fn node_sets_expand_through_ssh_config_aliases_and_gather_folds_them_back() {
    let bed = testbed(3);
    let dir = tempfile::tempdir().unwrap();
    let aliases: Vec<(String, _)> = bed
        .hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("node{:02}", i + 1), h))
        .collect();
    let cfg = ssh_config(&bed, dir.path(), &aliases);
    let mut cmd = crate::support::ajssh_bare();
    cmd.arg("-F")
        .arg(&cfg)
        .arg("--known-hosts")
        .arg(bed.known_hosts());
    // node03 prints something else: two blocks
    let line = format!(
        "{} ; true",
        fail_on(&bed.hosts()[2], 0).replace("exit 0", "echo other; exit 0")
    );
    let r = run(cmd.args(["-b", "node[01-03]", "--", &line]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert_eq!(
        r.stdout,
        "---------------\nnode[01-02] (2)\n---------------\nok\n---------------\nnode03 (1)\n---------------\nother\n"
    );
}

#[test]
fn json_gives_one_record_per_host_then_a_summary() {
    let bed = testbed(2);
    let (good, bad) = (&bed.hosts()[0], &bed.hosts()[1]);
    let closed = bed.closed_port();
    let cmd = format!("echo e >&2; {}", fail_on(bad, 3));
    let r = run(ajssh(&bed)
        .arg("--json")
        .args([target(good), target(bad), target(&closed)])
        .args(["--", &cmd]));
    assert_eq!(r.code, 2, "{r:?}");
    let recs: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(recs.len(), 4, "{}", r.stdout);
    let by_host = |h: &str| {
        recs.iter()
            .find(|v| v["host"] == h)
            .unwrap_or_else(|| panic!("no record for {h}: {}", r.stdout))
    };
    let g = by_host(&label(good));
    assert_eq!(
        (g["version"].as_u64(), g["type"].as_str()),
        (Some(1), Some("host"))
    );
    assert_eq!(
        (g["status"].as_str(), g["exit_code"].as_u64()),
        (Some("ok"), Some(0))
    );
    assert_eq!(
        (g["stdout"].as_str(), g["stderr"].as_str()),
        (Some("ok\n"), Some("e\n"))
    );
    assert_eq!(
        g["target"].as_str(),
        Some(format!("{}@{}", bed.user(), target(good)).as_str())
    );
    assert!(g["duration"].as_f64().unwrap() > 0.0 && g["commands"].as_array().unwrap().len() == 1);
    let b = by_host(&label(bad));
    assert_eq!(
        (
            b["status"].as_str(),
            b["exit_code"].as_u64(),
            b["error_kind"].as_str()
        ),
        (Some("failed"), Some(3), Some("CommandFailed"))
    );
    let u = by_host(&label(&closed));
    assert_eq!(
        (u["status"].as_str(), u["error_kind"].as_str()),
        (Some("unreachable"), Some("ConnectionRefused"))
    );
    assert!(u["error"].as_str().unwrap().contains("refused"), "{u}");
    let s = recs.last().unwrap();
    assert_eq!(s["type"], "summary");
    assert_eq!(
        (
            s["hosts"].as_u64(),
            s["ok"].as_u64(),
            s["failed"].as_u64(),
            s["unreachable"].as_u64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );
    assert_eq!(s["exit_code"].as_u64(), Some(2));
}

#[test]
fn target_file_with_comments_excludes_and_dry_run() {
    let bed = testbed(3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts");
    let [a, b, c] = [0, 1, 2].map(|i| target(&bed.hosts()[i]));
    std::fs::write(&file, format!("# the fleet\n{a} {b}  # two here\n\n{c}\n")).unwrap();
    // with -t, all words are the command (no `--` needed)
    let r = run(ajssh(&bed)
        .arg("-t")
        .arg(&file)
        .args(["-x", &b, "echo", "from-file"]));
    assert_eq!(r.code, 0, "{r:?}");
    let [la, lc] = [0, 2].map(|i| label(&bed.hosts()[i]));
    let mut expected = vec![format!("{la}:from-file"), format!("{lc}:from-file")];
    expected.sort();
    assert_eq!(r.sorted_lines(), expected);
    // `-t -` reads the same syntax from stdin
    let r = crate::support::run_with_stdin(
        ajssh(&bed).args(["-t", "-", "--", "echo stdin"]),
        Some(&format!("{a} # one\n{c}\n")),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let mut expected = vec![format!("{la}:stdin"), format!("{lc}:stdin")];
    expected.sort();
    assert_eq!(r.sorted_lines(), expected);
    let r = run(ajssh(&bed)
        .arg("-t")
        .arg(&file)
        .args(["-x", &b, "-n", "--", "uptime"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!(
            "========== 1 excludes found:\n{b}\n========== 2 hostnames selected (1 excluded):\n"
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .ends_with("========== each host runs 1 step(s):\n1. run uptime\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn jump_host_option_and_per_target_gateways() {
    let bed = testbed(3);
    let [gw, h1, h2] = [0, 1, 2].map(|i| target(&bed.hosts()[i]));
    let jump = format!("{}@{gw}", bed.user());
    let via_gw = format!("{gw}->{h2}");
    let direct = format!("None->{gw}");
    let r = run(ajssh(&bed)
        .args(["-v", "-J", &jump, &h1, &via_gw, &direct])
        .args(["--", "echo up"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert_eq!(
        r.stdout.lines().filter(|l| l.ends_with(":up")).count(),
        3,
        "{}",
        r.stdout
    );
    // -J applies to h1, the per-target gateway to h2, None-> bypasses -J
    let [shown_gw, shown1, shown2] = [0, 1, 2].map(|i| label(&bed.hosts()[i]));
    assert!(
        r.stderr.contains(&format!(
            "{shown1}:========== Connecting (tunnelled via {jump}) as {}",
            bed.user()
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "{shown2}:========== Connecting (tunnelled via {}@{gw})",
            bed.user()
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("{shown_gw}:========== Connecting (direct)")),
        "{}",
        r.stderr
    );
    let r = run(ajssh(&bed).args(["-J", &jump, "-L", &h1, &format!("None->{h2}")]));
    assert_eq!(
        r.stdout,
        format!("{jump}->{}@{h1}\n{}@{h2}\n", bed.user(), bed.user())
    );
}

#[test]
fn script_push_and_pull_on_every_host() {
    let bed = testbed(2);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("check.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"args: $*\"\n").unwrap();
    let remote = bed
        .remote_dir()
        .join(format!("cli-push-{}", std::process::id()));
    let payload = dir.path().join("payload.txt");
    std::fs::write(&payload, "pushed\n").unwrap();
    let h0 = target(&bed.hosts()[0]);
    // push (to one host: all testbed hosts share one file system), then the script
    let r = run(ajssh(&bed)
        .args([&h0, "--push"])
        .arg(&payload)
        .arg("--to")
        .arg(format!("{}/", remote.display()))
        .arg("-s")
        .arg(&script)
        .args(["--", "one", "'two words'"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("{}:args: one two words\n", label(&bed.hosts()[0]))
    );
    assert_eq!(
        std::fs::read_to_string(remote.join("payload.txt")).unwrap(),
        "pushed\n"
    );
    // pull the same file from both hosts: one subdirectory per host
    let into = dir.path().join("pulled");
    let r = run(ajssh(&bed)
        .args(bed.hosts().iter().map(target))
        .arg("--pull")
        .arg(remote.join("payload.txt"))
        .arg("--into")
        .arg(&into));
    assert_eq!(r.code, 0, "{r:?}");
    for h in bed.hosts() {
        assert_eq!(
            std::fs::read_to_string(into.join(target(h)).join("payload.txt")).unwrap(),
            "pushed\n"
        );
    }
}
