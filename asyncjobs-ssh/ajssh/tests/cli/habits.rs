//! The habits of pdsh, clush and pssh users: `-w TARGETS`, `-f N`, `-l USER`,
//! `@group` from ClusterShell's files, node sets with steps, advice when an
//! option gets what another tool's option would take, and the summary that
//! folds identical outcomes into node sets as `-b` does.

use std::path::Path;

use asyncjobs_ssh::targets::fold;

use crate::support::{ajssh, ajssh_bare, fail_on, label, run, target, testbed};

/// The hosts of `bed` as one node-set word, as a clush user writes them.
fn folded(bed: &asyncjobs_tests::Testbed) -> String {
    let names: Vec<String> = bed.hosts().iter().map(target).collect();
    fold(&names)
}

#[test]
fn dash_w_takes_targets_and_dash_f_the_hosts_in_flight() {
    let bed = testbed(3);
    let word = folded(&bed);
    // pdsh style: -w, then the command without `--`
    let r = run(ajssh(&bed).args(["-f", "2", "-w", &word, "echo", "hi"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.lines().filter(|l| l.ends_with(":hi")).count(),
        3,
        "{r:?}"
    );
    // -w is repeatable and mixes with positional targets; --window still works
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let r = run(ajssh(&bed)
        .args(["--window", "1", "-w", &hosts[0], "-w", &hosts[1], &hosts[2]])
        .args(["--", "echo", "hi"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 3, "{r:?}");
}

#[test]
fn dash_l_is_the_login_user() {
    let bed = testbed(1);
    let r = run(ajssh_bare()
        .args(["-F", "none", "-l", bed.user(), "-i"])
        .arg(bed.identity())
        .arg("--known-hosts")
        .arg(bed.known_hosts())
        .args([&target(&bed.hosts()[0]), "--", "id", "-un"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.trim_end().ends_with(bed.user()), "{r:?}");
}

#[test]
fn options_given_another_tools_values_say_what_was_meant() {
    for (args, expected) in [
        (
            &["-w", "32", "--", "true"][..],
            "for 32 hosts in flight, use -f 32",
        ),
        (
            &["-f", "node[01-03]", "h", "--", "true"][..],
            "it looks like hosts",
        ),
        (
            &["-p", "web1", "h", "--", "true"][..],
            "it looks like hosts",
        ),
        (
            &["--timeout", "web[1-2]", "h", "--", "true"][..],
            "it looks like hosts",
        ),
        (&["-p", "32", "--", "true"][..], "did you mean -f 32?"),
    ] {
        let r = run(ajssh_bare().args(args));
        assert_eq!(r.code, 64, "{args:?}: {r:?}");
        assert!(r.stderr.contains(expected), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn a_small_port_refused_everywhere_hints_at_the_fanout_option() {
    let bed = testbed(1);
    // nothing listens on port 1 of the loopback host: connection refused
    let r = run(ajssh(&bed).args(["-p", "1", &bed.hosts()[0].ip, "--", "true"]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("hint: -p 1 is the SSH port") && r.stderr.contains("did you mean -f 1?"),
        "{}",
        r.stderr
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn groups_come_from_clustershell_files_and_ajssh_s_own() {
    let bed = testbed(3);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let home = tempfile::tempdir().unwrap();
    // ClusterShell's user file: a source `local` with groups naming groups
    write(
        &home
            .path()
            .join(".local/etc/clustershell/groups.d/lab.yaml"),
        &format!(
            "local:\n  front: '{}'\n  back: ['{}', '{}']\n  all: '@front,@back'\n",
            hosts[0], hosts[1], hosts[2]
        ),
    );
    let own = home.path().join("own-groups.yaml");
    write(&own, &format!("pair: '{},{}'\n", hosts[0], hosts[1]));
    let with_groups = |args: &[&str]| {
        let mut c = ajssh(&bed);
        c.env("HOME", home.path())
            .env("AJSSH_GROUPS", &own)
            .args(args);
        run(&mut c)
    };
    let r = with_groups(&["-w", "@local:all", "-b", "--", "echo", "same"]);
    assert_eq!(r.code, 0, "{r:?}");
    let shown: Vec<String> = bed.hosts().iter().map(label).collect();
    assert!(r.stdout.contains(&format!("{} (3)", fold(&shown))), "{r:?}");
    let r = with_groups(&["-L", "@pair", "@back"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 3, "{r:?}");
    // an unknown group names every source searched
    let r = with_groups(&["-L", "@nope"]);
    assert_eq!(r.code, 64, "{r:?}");
    for source in [
        "unknown group `@nope`",
        "own-groups.yaml (read)",
        ".local/etc/clustershell/groups.d/*.yaml (1 file)",
        "/etc/clustershell/groups.d/*.yaml",
    ] {
        assert!(r.stderr.contains(source), "{source}: {}", r.stderr);
    }
}

#[test]
fn node_sets_take_steps_and_refuse_huge_or_overflowing_ranges_at_once() {
    let r = run(ajssh_bare().args(["-F", "none", "-l", "u", "-L", "n[1-9/4]", "[1-2]:2222"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        ["u@n1", "u@n5", "u@n9", "u@1:2222", "u@2:2222"]
    );
    for word in ["n[0-18446744073709551615]", "n[1-999999],m[1-999999]"] {
        let r = run(ajssh_bare().args(["-F", "none", "-L", word]));
        assert_eq!(r.code, 64, "{word}: {r:?}");
        assert!(
            r.stderr.contains("more than the limit of 1000000 names"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    // excluding as many names as selected leaves none (and is linear)
    let r = run(ajssh_bare().args(["-F", "none", "-L", "n[1-50000]", "-x", "n[1-50000]"]));
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");
}

#[test]
fn the_summary_folds_identical_failures_as_dash_b_does() {
    let bed = testbed(4);
    let hosts = bed.hosts();
    let word = folded(&bed);
    // three hosts fail the same way, one differently
    let cmd = format!(
        "{}; echo bad >&2; echo '\x1b]0;t\x07last line' >&2; exit 3",
        fail_on(&hosts[3], 9).replace("echo ok", "true")
    );
    let r = run(ajssh(&bed).args(["-b", &word, "--", &cmd]));
    assert_eq!(r.code, 1, "{r:?}");
    let three: Vec<String> = hosts[..3].iter().map(label).collect();
    let set = fold(&three);
    // the -b header and the summary name the same node set
    assert!(
        r.stderr.contains(&format!("{set} (3)\n")),
        "-b header: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "failed (4):\n  {set} (3): exit 3: \\x1b]0;t\\x07last line\n"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("  {}: command", label(&hosts[3]))),
        "a host alone keeps its full reason: {}",
        r.stderr
    );
    // the -b blocks pass the output as written; the summary escapes it
    let summary = r.stderr.split("failed (4):").nth(1).unwrap_or_default();
    assert!(
        !summary.contains('\x07') && !summary.contains('\x1b'),
        "{summary:?}"
    );
}

#[test]
fn man_prints_the_manual_page_in_roff() {
    let r = run(ajssh_bare().arg("man"));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(".TH ajssh 1"),
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
    assert!(r.stdout.contains(".SH SYNOPSIS") && r.stdout.contains(".SH OPTIONS"));
    for option in ["\\-\\-fanout", "\\-\\-nodes", "\\-\\-user", "Exit codes:"] {
        assert!(
            r.stdout.contains(option),
            "{option} missing from the man page"
        );
    }
}

#[test]
fn completions_print_each_shell_s_script_and_are_not_hosts() {
    for (shell, marks) in [
        (
            "bash",
            &["_ajssh() {", "complete -F _ajssh", "--fanout"][..],
        ),
        ("zsh", &["#compdef ajssh", "_ajssh()", "--fanout"][..]),
        ("fish", &["complete -c ajssh", "fanout"][..]),
    ] {
        let r = run(ajssh_bare().args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}: {r:?}");
        for m in marks {
            assert!(r.stdout.contains(m), "{shell}: `{m}` missing");
        }
    }
    let r = run(ajssh_bare().args(["completions", "tcsh"]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(r.stderr.contains("possible values"), "{}", r.stderr);
    // a subcommand's name is not a host: nothing is connected to
    let r = run(ajssh_bare().args(["man", "--", "uptime"]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(r.stderr.contains("write `-w man`"), "{}", r.stderr);
    // ... and written as a target, it is one
    let r = run(ajssh_bare().args(["-F", "none", "-l", "u", "-L", "-w", "man", "completions,"]));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "u@man\nu@completions\n"),
        "{r:?}"
    );
}
