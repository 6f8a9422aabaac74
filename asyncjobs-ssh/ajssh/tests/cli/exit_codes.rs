//! The documented exit codes of `ajssh`: 0 all succeeded, 1 some command
//! failed, 2 some host unreachable or refused (wins over 1), 64 usage error,
//! with the final summary naming the failed and unreachable hosts.

use crate::support::{ajssh, ajssh_bare, fail_on, label, run, target, testbed};

#[test]
fn all_hosts_succeeding_exit_0() {
    let bed = testbed(2);
    let r = run(ajssh(&bed)
        .args(bed.hosts().iter().map(target))
        .args(["--", "true"]));
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn a_failing_command_exits_1_and_the_summary_names_the_host() {
    let bed = testbed(3);
    let bad = &bed.hosts()[1];
    let r = run(ajssh(&bed)
        .args(bed.hosts().iter().map(target))
        .args(["--", &fail_on(bad, 7)]));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("ajssh: 3 hosts: 2 ok, 1 failed, 0 unreachable"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("failed (1):\n  {}: command", label(bad))),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("(exit code 7)"), "{}", r.stderr);
}

#[test]
fn an_unreachable_host_exits_2_even_when_a_command_also_failed() {
    let bed = testbed(2);
    let (good, bad) = (&bed.hosts()[0], &bed.hosts()[1]);
    let closed = bed.closed_port();
    let r = run(ajssh(&bed)
        .args([target(good), target(&closed)])
        .args(["--", "true"]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "unreachable (1):\n  {}: connection refused",
            label(&closed)
        )),
        "{}",
        r.stderr
    );
    let r = run(ajssh(&bed)
        .args([target(good), target(bad), target(&closed)])
        .args(["--", &fail_on(bad, 1)]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("1 ok, 1 failed, 1 unreachable"),
        "{}",
        r.stderr
    );
}

#[test]
fn refused_authentication_and_unknown_host_keys_count_as_unreachable() {
    let bed = testbed(1);
    let h = target(&bed.hosts()[0]);
    let mut wrong_key = ajssh_bare();
    wrong_key
        .args(["-F", "none", "-u", bed.user(), "-i"])
        .arg(bed.wrong_identity())
        .arg("--known-hosts")
        .arg(bed.known_hosts());
    let r = run(wrong_key.args([&h, "--", "true"]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("authentication refused"), "{}", r.stderr);
    let empty = bed.write_known_hosts("empty_known_hosts", &[]);
    let mut unknown = ajssh_bare();
    unknown
        .args(["-F", "none", "-u", bed.user(), "-i"])
        .arg(bed.identity())
        .arg("--known-hosts")
        .arg(&empty);
    let r = run(unknown.args([&h, "--", "true"]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("is UNKNOWN"), "{}", r.stderr);
}

#[test]
fn accept_new_host_keys_records_them_then_connects() {
    let bed = testbed(1);
    let h = target(&bed.hosts()[0]);
    let kh = bed.write_known_hosts("fresh_known_hosts", &[]);
    let mut c = ajssh_bare();
    c.args(["-F", "none", "-u", bed.user(), "-i"])
        .arg(bed.identity())
        .arg("--known-hosts")
        .arg(&kh);
    let r = run(c.args(["--accept-new-host-keys", &h, "--", "true"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(std::fs::read_to_string(&kh)
        .unwrap()
        .contains(&bed.hosts()[0].known_hosts_name()));
}

#[test]
fn a_command_timeout_is_a_failure_naming_the_timeout() {
    let bed = testbed(1);
    let h = target(&bed.hosts()[0]);
    let r = run(ajssh(&bed).args(["--timeout", "0.5", &h, "--", "sleep 30"]));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("timed out after 0.500s"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_64_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["--", "true"], "no target given"),
        // without a command, `ajssh h1` is an interactive session; -n still needs one
        (&["-n", "h1"], "nothing to run"),
        (&["h:99999", "--", "true"], "bad port `99999`"),
        (&["n[3-1]", "--", "true"], "reversed range `3-1`"),
        (
            &["-t", "/nonexistent/hosts", "--", "true"],
            "cannot read targets from /nonexistent/hosts",
        ),
        (&["-J", "gw:port", "h", "--", "true"], "bad port `port`"),
        (
            &["-F", "/nonexistent/cfg", "h", "--", "true"],
            "ssh config /nonexistent/cfg",
        ),
        (
            &["h", "-s", "/nonexistent/s.sh"],
            "script /nonexistent/s.sh",
        ),
        (&["h", "-x", "h", "--", "true"], "no target left"),
        (&["-f", "0", "h", "--", "true"], "invalid value '0'"),
        (&["-b", "--json", "h", "--", "true"], "cannot be used with"),
        (
            &["--bogus", "h", "--", "true"],
            "unexpected argument '--bogus'",
        ),
        (&["h", "ls", "-a"], "'-- -a'"),
    ];
    for (args, expected) in cases {
        let r = run(ajssh_bare().args(*args));
        assert_eq!(r.code, 64, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains(expected),
            "{args:?}: expected {expected:?} in {}",
            r.stderr
        );
        assert_eq!(r.stdout, "", "{args:?}");
    }
}

#[test]
fn help_documents_exit_codes_and_exits_0() {
    let r = run(ajssh_bare().arg("--help"));
    assert_eq!(r.code, 0);
    for text in [
        "Exit codes:",
        "64  usage error",
        "node[01-20,35]",
        "--push <LOCAL>",
        "--into <LOCALDIR>",
        "scenario run|check|dot FILE",
    ] {
        assert!(
            r.stdout.contains(text),
            "{text:?} missing from --help:\n{}",
            r.stdout
        );
    }
}
