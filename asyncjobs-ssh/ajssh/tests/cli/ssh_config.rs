//! `ajssh` with an ssh config against real sshd: issue 10's Match repro
//! (unknown keys refused, nothing recorded), ProxyCommand reported by `-v`
//! and used, HostKeyAlias, warnings for what is not done, errors for what
//! cannot be honoured.

use std::path::Path;

use crate::support::{ajssh_bare, run, testbed};
use asyncjobs_tests::{Host, Testbed};

/// A `Host` block for `alias`: `host`'s address, port, user and key.
fn block(bed: &Testbed, alias: &str, host: &Host) -> String {
    format!(
        "Host {alias}\n    HostName {}\n    Port {}\n    User {}\n    IdentityFile {}\n    IdentitiesOnly yes\n",
        host.ip,
        host.port,
        bed.user(),
        bed.identity().display()
    )
}

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let p = dir.join("ssh_config");
    std::fs::write(&p, text).expect("write config");
    p
}

#[test]
fn a_match_block_for_another_host_leaves_unknown_host_keys_refused_and_unrecorded() {
    let bed = testbed(1);
    let h = &bed.hosts()[0];
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    std::fs::write(&kh, "").unwrap();
    // issue 10: with ssh2-config these two settings applied to 127.*
    let cfg = write(
        dir.path(),
        &format!(
            "Host 127.*\n    Port {}\n    User {}\n    IdentityFile {}\n    UserKnownHostsFile {}\n    \
             GlobalKnownHostsFile none\n\
             Match host some-other-vm\n    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n",
            h.port,
            bed.user(),
            bed.identity().display(),
            kh.display()
        ),
    );
    let g = run(ajssh_bare().arg("-G").arg("-F").arg(&cfg).arg(&h.ip));
    assert!(g.stdout.contains("stricthostkeychecking ask\n"), "{g:?}");
    let r = run(ajssh_bare()
        .arg("-F")
        .arg(&cfg)
        .arg(&h.ip)
        .args(["--", "true"]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("is UNKNOWN"), "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&kh).unwrap(),
        "",
        "nothing was recorded"
    );
}

#[test]
fn proxy_command_is_used_and_verbose_says_so() {
    let bed = testbed(2);
    let (gw, target) = (&bed.hosts()[0], &bed.hosts()[1]);
    let dir = tempfile::tempdir().unwrap();
    let proxy = format!(
        "ssh -F /dev/null -i {} -p {} -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes \
         -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR -W %h:%p {}@{}",
        bed.identity().display(),
        gw.port,
        bed.known_hosts().display(),
        bed.user(),
        gw.ip
    );
    let cfg = write(
        dir.path(),
        &format!(
            "{}    ProxyCommand {proxy}\n",
            block(&bed, "behind", target)
        ),
    );
    let r = run(ajssh_bare()
        .arg("-v")
        .arg("-F")
        .arg(&cfg)
        .arg("--known-hosts")
        .arg(bed.known_hosts())
        .arg("behind")
        .args(["--", "echo $SSH_CONNECTION"]));
    assert_eq!(r.code, 0, "{r:?}\n{}", bed.sshd_log());
    let expanded = proxy.replace("%h:%p", &format!("{}:{}", target.ip, target.port));
    assert!(
        r.stderr
            .contains(&format!("Connecting (through ProxyCommand `{expanded}`)")),
        "{r:?}"
    );
    // the target's sshd saw the connection come from the gateway's sshd, not from us directly
    assert!(
        r.stdout
            .trim_end()
            .ends_with(&format!("{} {}", target.ip, target.port)),
        "{r:?}"
    );
    let g = run(ajssh_bare().arg("-G").arg("-F").arg(&cfg).arg("behind"));
    assert!(
        g.stdout.contains(&format!("proxycommand {proxy}\n")),
        "{g:?}"
    );
}

#[test]
fn a_failing_proxy_command_is_an_unreachable_host_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "Host gone\n    ProxyCommand sh -c 'echo no route to %h >&2; exit 255'\n",
    );
    let r = run(ajssh_bare()
        .arg("-F")
        .arg(&cfg)
        .arg("gone")
        .args(["--", "true"]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("exit status: 255"), "{r:?}");
    assert!(r.stderr.contains("no route to gone"), "{r:?}");
}

#[test]
fn settings_not_acted_upon_are_warned_about_once_and_unsafe_ones_refused() {
    let bed = testbed(2);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        &format!(
            "{}{}Host *\n    ControlMaster auto\n    ControlPath ~/.ssh/cm-%C\n    SendEnv LANG\n",
            block(&bed, "a", &bed.hosts()[0]),
            block(&bed, "b", &bed.hosts()[1])
        ),
    );
    let r = run(ajssh_bare()
        .arg("-F")
        .arg(&cfg)
        .arg("--known-hosts")
        .arg(bed.known_hosts())
        .args(["a,b", "--", "echo ok"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stderr.matches("`ControlMaster auto` ignored").count(),
        1,
        "once, not once per host: {r:?}"
    );
    assert!(r.stderr.contains("ssh_config:15: `ControlPath"), "{r:?}");
    assert!(
        !r.stderr.contains("SendEnv"),
        "harmless keywords are silent: {r:?}"
    );

    let bad = write(
        dir.path(),
        &format!(
            "{}    CanonicalizeHostname yes\n",
            block(&bed, "a", &bed.hosts()[0])
        ),
    );
    let r = run(ajssh_bare().arg("-F").arg(&bad).args(["a", "--", "true"]));
    assert_eq!(r.code, 64, "{r:?}");
    assert!(
        r.stderr
            .contains("ssh_config:7: `CanonicalizeHostname yes` applies to a but is not supported"),
        "{r:?}"
    );
}

#[test]
fn a_bad_config_line_is_a_usage_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "Host a\n    User x\nMatch localnetwork 10.0.0.0/8\n",
    );
    for args in [&["-G", "a"][..], &["a", "--", "true"][..]] {
        let r = run(ajssh_bare().arg("-F").arg(&cfg).args(args));
        assert_eq!(r.code, 64, "{r:?}");
        assert!(
            r.stderr.contains(
                "ssh_config:3: bad Match condition: unsupported Match criterion `localnetwork`"
            ),
            "{r:?}"
        );
    }
}
