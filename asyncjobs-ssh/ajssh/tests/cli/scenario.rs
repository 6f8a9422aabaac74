//! `ajssh scenario run|check|dot`: TOML scenarios end to end against the
//! loopback sshd (push, script, pull, gateway, local node, nested group),
//! push and pull on a local node (local copies), apssh YAML scenarios, and
//! bad files whose errors name the line and the job.

use std::path::Path;

use crate::support::{ajssh_bare, run, ssh_config, testbed, Run};
use asyncjobs_tests::{Host, Testbed};

fn node(bed: &Testbed, id: &str, h: &Host, extra: &str) -> String {
    format!(
        "[nodes.{id}]\nhost = \"{}\"\nport = {}\nuser = \"{}\"\nidentity = \"{}\"\n{extra}\n",
        h.ip,
        h.port,
        bed.user(),
        bed.identity().display()
    )
}

/// Asserts that the listing printed after the run names every one of `labels`.
fn assert_listed(r: &Run, labels: &[&str]) {
    for label in labels {
        assert!(
            r.stdout.contains(label),
            "listing lacks {label}: {}",
            r.stdout
        );
    }
}

fn scenario(bed: &Testbed, dir: &Path) -> String {
    let remote = bed
        .remote_dir()
        .join(format!("cli-scenario-{}", std::process::id()));
    let r = remote.display();
    let d = dir.display();
    std::fs::write(dir.join("payload.txt"), "payload\n").unwrap();
    std::fs::write(
        dir.join("copy.sh"),
        "#!/bin/sh\ncp \"$1\" \"$2\" && echo \"copied $(cat \"$2\")\"\n",
    )
    .unwrap();
    format!(
        "label = \"e2e\"\nwindow = 4\ntimeout = 120\n\n{}{}[nodes.here]\nlocal = true\n\n\
         [[job]]\nid = \"push\"\nnode = \"gw\"\ncommands = [{{ push = \"payload.txt\", to = \"{r}/\" }}]\n\n\
         [[job]]\nid = \"script\"\nnode = \"behind\"\nrequires = \"push\"\n\
         commands = [{{ script = \"copy.sh\", args = [\"{r}/payload.txt\", \"{r}/copy.txt\"] }}]\n\n\
         [[group]]\nid = \"finish\"\nrequires = [\"script\"]\n\
           [[group.job]]\n  id = \"pull\"\n  node = \"gw\"\n  commands = [{{ pull = \"{r}/copy.txt\", into = \"pulled/\" }}]\n\
           [[group.job]]\n  id = \"check\"\n  node = \"here\"\n  requires = \"pull\"\n  run = \"cat {d}/pulled/copy.txt\"\n\n\
         [[job]]\nid = \"watch\"\nnode = \"gw\"\nforever = true\nrun = \"sleep 6{pid}\"\n",
        node(bed, "gw", &bed.hosts()[0], ""),
        node(bed, "behind", &bed.hosts()[1], "gateway = \"gw\""),
        pid = std::process::id(),
    )
}

#[test]
fn toml_scenario_runs_end_to_end_and_prints_its_listing() {
    let bed = testbed(2);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e2e.toml");
    std::fs::write(&file, scenario(&bed, dir.path())).unwrap();
    let r = run(ajssh_bare()
        .args(["scenario", "run"])
        .arg(&file)
        .args(["-F", "none", "--known-hosts"])
        .arg(bed.known_hosts()));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert!(r.stdout.contains("behind:copied payload\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("here:payload\n"),
        "the local job read the pulled file: {}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pulled/copy.txt")).unwrap(),
        "payload\n"
    );
    // the forever job does not hold the run: it is cancelled once the others are done
    assert_listed(
        &r,
        &[
            "`push`", "`script`", "`pull`", "`check`", "finish", "`watch`",
        ],
    );
    let pattern = format!("sleep 6{}", std::process::id());
    let gone = (0..500).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        bed.remote_processes(&pattern) == 0
    });
    assert!(
        gone,
        "the cancelled forever job left its remote command running"
    );
}

#[test]
fn a_local_node_pushes_and_pulls_as_local_copies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tree/sub")).unwrap();
    std::fs::write(dir.path().join("tree/top.txt"), "top\n").unwrap();
    std::fs::write(dir.path().join("tree/sub/deep.txt"), "deep\n").unwrap();
    let d = dir.path().display();
    // `push` sources and `into` are local paths (relative to the scenario's
    // directory); `to` and `pull` sources are the node's, absolute here
    let file = dir.path().join("local.toml");
    std::fs::write(
        &file,
        format!(
            "[nodes.here]\nlocal = true\n\n\
             [[job]]\nid = \"push\"\nnode = \"here\"\n\
             commands = [{{ push = \"tree\", to = \"{d}/pushed/\" }}]\n\n\
             [[job]]\nid = \"pull\"\nnode = \"here\"\nrequires = \"push\"\n\
             commands = [{{ pull = [\"{d}/pushed/tree/sub\", \"{d}/pushed/tree/top.txt\"], into = \"pulled/\" }}]\n"
        ),
    )
    .unwrap();
    let r = run(ajssh_bare().args(["scenario", "check"]).arg(&file));
    assert_eq!(r.code, 0, "a local push/pull is a valid scenario: {r:?}");
    let r = run(ajssh_bare()
        .args(["scenario", "run"])
        .arg(&file)
        .args(["-F", "none"]));
    assert_eq!(r.code, 0, "{r:?}");
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    assert_eq!(read("pushed/tree/top.txt"), "top\n");
    assert_eq!(read("pushed/tree/sub/deep.txt"), "deep\n");
    assert_eq!(read("pulled/top.txt"), "top\n");
    assert_eq!(read("pulled/sub/deep.txt"), "deep\n");
    assert_listed(&r, &["`push`", "`pull`"]);
}

#[test]
fn a_failing_critical_job_makes_the_run_exit_1_and_skips_what_requires_it() {
    let bed = testbed(1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fail.toml");
    let text = format!(
        "{}[[job]]\nid = \"boom\"\nnode = \"h\"\nrun = \"exit 3\"\n[[job]]\nid = \"after\"\nnode = \"h\"\nrequires = \"boom\"\nrun = \"echo never\"\n",
        node(&bed, "h", &bed.hosts()[0], "")
    );
    std::fs::write(&file, text).unwrap();
    let dot = dir.path().join("after-run.dot");
    let r = run(ajssh_bare()
        .args(["scenario", "run"])
        .arg(&file)
        .arg("--dot")
        .arg(&dot)
        .args(["-F", "none", "--known-hosts"])
        .arg(bed.known_hosts()));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains("h:never"), "{}", r.stdout);
    assert!(
        r.stderr.contains("scenario") && r.stderr.contains("failed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("CommandFailed"),
        "the listing shows the error: {}",
        r.stdout
    );
    assert!(
        std::fs::read_to_string(&dot).unwrap().contains("legend"),
        "outcome colours after the run"
    );
}

#[test]
fn scenario_dot_and_check_need_no_connection() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.toml");
    std::fs::write(
        &file,
        "[nodes.n]\nhost = \"127.0.0.1\"\nport = 1\n[[job]]\nid = \"a\"\nnode = \"n\"\nrun = \"true\"\n\
         [[job]]\nid = \"b\"\nnode = \"n\"\nrequires = \"a\"\nrun = \"true\"\n",
    )
    .unwrap();
    let r = run(ajssh_bare().args(["scenario", "dot"]).arg(&file));
    assert_eq!(r.code, 0, "{r:?}");
    let dot = std::fs::read_to_string(dir.path().join("plan.dot")).unwrap();
    assert!(
        dot.starts_with("digraph") && dot.contains("1 -> 2;"),
        "{dot}"
    );
    let r = run(ajssh_bare()
        .args(["scenario", "dot"])
        .arg(&file)
        .args(["-o", "-"]));
    assert_eq!(r.stdout, dot);
    let r = run(ajssh_bare().args(["scenario", "check"]).arg(&file));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(": 1 nodes, 2 jobs\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("n: 127.0.0.1:1\n")
            && r.stdout
                .contains("b on n [wave 2]\n    requires a\n    run: true\n")
            && r.stdout.contains("========== 2 waves\n1. a\n2. b\n"),
        "the plan: nodes, jobs with requirements and commands, waves: {}",
        r.stdout
    );
}

#[test]
fn apssh_yaml_scenario_runs_with_ssh_config_aliases() {
    let bed = testbed(1);
    let dir = tempfile::tempdir().unwrap();
    let cfg = ssh_config(
        &bed,
        dir.path(),
        &[("faraday".to_string(), &bed.hosts()[0])],
    );
    let file = dir.path().join("apssh.yaml");
    std::fs::write(
        &file,
        "nodes:\n  - id: faraday\n    hostname: faraday\n    formatter: TimeHostFormatter\n    verbose: True\n  - id: thisbox\n    localnode: true\n\n\
         jobs:\n  - id: remote-run\n    node: faraday\n    critical: False\n    label: remote node on Run\n    commands:\n      - type: Run\n        command: echo from remote\n\
         \x20 - id: local-run\n    required: remote-run\n    node: thisbox\n    commands:\n      - type: Run\n        command: echo from local\n",
    )
    .unwrap();
    let r = run(ajssh_bare()
        .args(["scenario", "run"])
        .arg(&file)
        .arg("-F")
        .arg(&cfg)
        .arg("--known-hosts")
        .arg(bed.known_hosts()));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    assert!(
        r.stdout.contains("faraday:from remote\n") && r.stdout.contains("thisbox:from local\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("remote node on Run"), "{}", r.stdout);
}

#[test]
fn bad_scenario_files_name_the_line_and_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = "[nodes.n]\nhost = \"h\"\n";
    let cases: &[(&str, String, &str)] = &[
        (
            "requires.toml",
            format!("{nodes}[[job]]\nid = \"prepare\"\nnode = \"n\"\nrun = \"x\"\n[[job]]\nid = \"deploy\"\nnode = \"n\"\nrequires = \"prepar\"\nrun = \"y\"\n"),
            "requires.toml:10: job `deploy`: unknown job `prepar` (did you mean `prepare`?)",
        ),
        (
            "cycle.toml",
            format!("{nodes}[[job]]\nid = \"a\"\nnode = \"n\"\nrequires = \"b\"\nrun = \"x\"\n[[job]]\nid = \"b\"\nnode = \"n\"\nrequires = \"a\"\nrun = \"y\"\n"),
            "cycle.toml:4: job `a`: requirement cycle: a -> b -> a",
        ),
        (
            "field.toml",
            format!("{nodes}[[job]]\nid = \"deploy\"\nnode = \"n\"\ncomand = \"x\"\n"),
            "field.toml:6: job `deploy`: unknown field `comand`",
        ),
        (
            "node.toml",
            "[[job]]\nid = \"j\"\nnode = \"ghost\"\nrun = \"x\"\n".to_string(),
            "node.toml:3: job `j`: unknown node `ghost` (none is defined)",
        ),
        (
            "bad.yaml",
            "nodes:\n  - id: n\n    hostname: h\njobs:\n  - id: j1\n    node: n\n    required: nope\n    commands:\n      - type: Run\n        command: 'true'\n".to_string(),
            "bad.yaml:7: job `j1`: unknown job `nope`",
        ),
    ];
    for (name, text, expected) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        for sub in ["run", "check", "dot"] {
            let r = run(ajssh_bare()
                .args(["scenario", sub])
                .arg(&file)
                .args(["-F", "none"].iter().take(if sub == "run" { 2 } else { 0 })));
            assert_eq!(r.code, 64, "{name} {sub}: {r:?}");
            let want = format!("ajssh: error: {}", dir.path().join(expected).display());
            assert!(
                r.stderr.starts_with(&want),
                "{name} {sub}: expected {want:?}, got {}",
                r.stderr
            );
        }
    }
    let r = run(ajssh_bare().args(["scenario", "run", "/nonexistent/s.toml"]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr.contains("/nonexistent/s.toml: cannot read"),
        "{}",
        r.stderr
    );
}

#[test]
fn hostile_scenario_files_are_refused_quickly_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    bomb.push_str("nodes: *a9\njobs: []\n");
    let cases = [
        ("bomb.yaml", bomb, "alias bomb"),
        (
            "deep.yaml",
            format!(
                "nodes: {}{}\njobs: []\n",
                "[".repeat(50_000),
                "]".repeat(50_000)
            ),
            "deep.yaml:1:",
        ),
        (
            "deep.toml",
            format!("x = {}{}\n", "[".repeat(50_000), "]".repeat(50_000)),
            "deep.toml:1: nested more than 64 levels deep",
        ),
        (
            "long.toml",
            format!("label = \"{}\"\n", "a".repeat(2 << 20)),
            "long.toml:1: line longer than",
        ),
    ];
    for (name, text, expected) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let r = run(ajssh_bare().args(["scenario", "check"]).arg(&file));
        assert_eq!(r.code, 64, "{name}: {r:?}");
        assert!(r.stderr.contains(expected), "{name}: {}", r.stderr);
    }
    let r = run(ajssh_bare().args(["scenario", "check", "/dev/zero"]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
}

#[test]
fn fanned_jobs_pair_node_by_node_and_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fan.toml");
    let head = "[nodes.\"w[1-3]\"]\nhost = \"{node}.lab\"\nvars = { role = \"web\" }\n\n\
                [[job]]\nid = \"a\"\nnodes = \"w[1-3]\"\nrun = \"echo {role} {node} {host} ${HOME} {x,y}\"\n\n";
    std::fs::write(
        &file,
        format!(
            "{head}[[job]]\nid = \"b\"\nnodes = [\"w[2-3]\"]\nrequires = \"a\"\nrun = \"true\"\n"
        ),
    )
    .unwrap();
    let r = run(ajssh_bare().args(["scenario", "check"]).arg(&file));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("a@w1 on w1 [wave 1]\n    run: echo web w1 w1.lab ${HOME} {x,y}\n")
            && r.stdout
                .contains("b@w3 on w3 [wave 2]\n    requires a@w3\n"),
        "{}",
        r.stdout
    );
    std::fs::write(
        &file,
        format!(
            "{head}[[job]]\nid = \"b\"\nnodes = \"v[1-2]\"\nrequires = \"a\"\nrun = \"true\"\n"
        ),
    )
    .unwrap();
    let r = run(ajssh_bare().args(["scenario", "check"]).arg(&file));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr
            .contains("fan.toml:13: job `b`: `a` does not run on `v1`"),
        "{}",
        r.stderr
    );
    std::fs::write(
        &file,
        format!("{head}[[job]]\nid = \"b\"\nnodes = \"w[1-3]\"\nrequires_all = \"a\"\nrun = \"cat missing.sh\"\ncommands = [{{ script = \"missing.sh\" }}]\n"),
    )
    .unwrap();
    let r = run(ajssh_bare().args(["scenario", "check"]).arg(&file));
    assert_eq!(r.code, 64, "a missing local file: {r:?}");
    assert!(
        r.stderr.contains("fan.toml:11: job `b@w1`: local file")
            && r.stderr.contains("missing.sh does not exist"),
        "{}",
        r.stderr
    );
}

#[test]
fn scenario_run_takes_the_fanout_output_options_and_apssh_formatters() {
    let bed = testbed(2);
    let dir = tempfile::tempdir().unwrap();
    let cfg = ssh_config(
        &bed,
        dir.path(),
        &[
            ("n1".to_string(), &bed.hosts()[0]),
            ("n2".to_string(), &bed.hosts()[1]),
        ],
    );
    let file = dir.path().join("out.toml");
    std::fs::write(
        &file,
        "[[job]]\nid = \"hello\"\nnodes = \"n[1-2]\"\nrun = \"echo hello from {node}\"\n\n\
         [[job]]\nid = \"bye\"\nnodes = \"n[1-2]\"\nrequires = \"hello\"\nrun = \"echo bye\"\n",
    )
    .unwrap();
    let go = |extra: &[&str]| {
        run(ajssh_bare()
            .args(["scenario", "run"])
            .arg(&file)
            .args(["-F"])
            .arg(&cfg)
            .arg("--known-hosts")
            .arg(bed.known_hosts())
            .args(extra))
    };
    // --json: one record per job, then the summary; the listing goes to stderr
    let r = go(&["--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", r.stdout);
    assert!(lines.iter().all(|l| l.starts_with('{')), "{}", r.stdout);
    for id in ["hello@n1", "hello@n2", "bye@n1", "bye@n2"] {
        assert!(
            r.stdout.contains(&format!("\"host\":\"{id}\"")),
            "{id}: {}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("\"type\":\"summary\""), "{}", r.stdout);
    assert!(
        r.stderr.contains("hello@n1"),
        "listing on stderr: {}",
        r.stderr
    );
    // -d: one file per host
    let out = dir.path().join("outdir");
    let r = go(&["-d", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(out.join("n2")).unwrap(),
        "hello from n2\nbye\n"
    );
    // -b: identical outputs gathered
    let r = go(&["-b"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("---------------\nbye@n[1-2] (2)\n---------------\nbye\n"),
        "{}",
        r.stdout
    );
    // --time: time-prefixed lines
    let r = go(&["--time"]);
    assert_eq!(r.code, 0, "{r:?}");
    let timed = r
        .stdout
        .lines()
        .find(|l| l.ends_with("n1:hello from n1"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        timed.as_bytes()[2] == b':' && timed.as_bytes()[5] == b':',
        "{timed}"
    );
    // apssh's `formatter: TimeHostFormatter` of a YAML node, with no option
    let yaml = dir.path().join("fmt.yaml");
    std::fs::write(
        &yaml,
        "nodes:\n  - id: n1\n    hostname: n1\n    formatter: TimeHostFormatter\n  - id: n2\n    hostname: n2\n\
         jobs:\n  - id: a\n    node: n1\n    commands:\n      - {type: Run, command: echo timed}\n\
         \x20 - id: b\n    node: n2\n    commands:\n      - {type: Run, command: echo plain}\n",
    )
    .unwrap();
    let r = run(ajssh_bare()
        .args(["scenario", "run"])
        .arg(&yaml)
        .arg("-F")
        .arg(&cfg)
        .arg("--known-hosts")
        .arg(bed.known_hosts()));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("n2:plain\n"), "{}", r.stdout);
    let timed = r
        .stdout
        .lines()
        .find(|l| l.ends_with("n1:timed"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(timed.len(), "HH:MM:SS:n1:timed".len(), "{timed}");
}
