//! Encrypted keys, SSH_ASKPASS and agent errors, as `ssh` users expect: one
//! passphrase prompt per key file for a whole fan-out, SSH_ASKPASS_REQUIRE
//! honoured, clear errors naming the key and what to do (CLI options, never
//! library types), agent problems said as they are.

use std::path::Path;
use std::process::Command;

use asyncjobs_tests::{Testbed, PASSPHRASE};

use crate::support::{ajssh_bare, run, target, testbed};

/// `ajssh` for `bed` without its plain key: only `key`, no agent, a HOME
/// of its own, and no controlling terminal (`setsid`), so nothing can be
/// typed and the prompt must come from SSH_ASKPASS or fail.
fn ajssh_with_key(bed: &Testbed, key: &Path, home: &Path) -> Command {
    let mut c = Command::new("setsid");
    c.arg("-w")
        .arg(env!("CARGO_BIN_EXE_ajssh"))
        .args(["-F", "none", "-u", bed.user(), "-i"])
        .arg(key)
        .arg("--known-hosts")
        .arg(bed.known_hosts())
        .args(["--connect-timeout", "30"])
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("SSH_ASKPASS")
        .env_remove("SSH_ASKPASS_REQUIRE")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("HOME", home)
        .stdin(std::process::Stdio::null());
    c
}

/// An askpass script printing `answer` and counting its calls in `calls`.
fn askpass_script(dir: &Path, answer: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let calls = dir.join("askpass-calls");
    let script = dir.join("askpass.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\necho '{answer}'\n",
            calls.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, calls)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn forced_askpass_is_asked_once_for_the_whole_fan_out() {
    let bed = testbed(4);
    let dir = tempfile::tempdir().unwrap();
    let (script, calls) = askpass_script(dir.path(), PASSPHRASE);
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let r = run(ajssh_with_key(&bed, bed.encrypted_identity(), dir.path())
        .env("SSH_ASKPASS", &script)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .arg(hosts.join(","))
        .args(["--", "echo ok"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 4, "{r:?}");
    let asked = lines(&calls);
    assert_eq!(
        asked,
        [format!(
            "Enter passphrase for key '{}': ",
            bed.encrypted_identity().display()
        )],
        "one prompt for four hosts"
    );
}

#[test]
fn a_wrong_passphrase_is_asked_again_then_fails_naming_the_key() {
    let bed = testbed(2);
    let dir = tempfile::tempdir().unwrap();
    let (script, calls) = askpass_script(dir.path(), "not-the-passphrase");
    let hosts: Vec<String> = bed.hosts().iter().map(target).collect();
    let r = run(ajssh_with_key(&bed, bed.encrypted_identity(), dir.path())
        .env("SSH_ASKPASS", &script)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .arg(hosts.join(","))
        .args(["--", "echo ok"]));
    assert_eq!(r.code, 2, "{r:?}");
    let asked = lines(&calls);
    assert_eq!(
        asked.len(),
        3,
        "three attempts for the key, not per host: {asked:?}"
    );
    assert!(
        asked[1].starts_with("Bad passphrase, try again"),
        "{asked:?}"
    );
    let key = bed.encrypted_identity().display().to_string();
    assert!(
        r.stderr.contains(&format!(
            "cannot load private key {key}: wrong passphrase (3 attempts)"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn without_terminal_or_askpass_the_error_names_the_key_and_the_ways_out() {
    let bed = testbed(1);
    let dir = tempfile::tempdir().unwrap();
    let r = run(ajssh_with_key(&bed, bed.encrypted_identity(), dir.path())
        .arg(target(&bed.hosts()[0]))
        .args(["--", "echo ok"]));
    assert_eq!(r.code, 2, "{r:?}");
    let key = bed.encrypted_identity().display().to_string();
    for part in [
        format!("cannot load private key {key}: it is encrypted and there is no terminal"),
        format!("ssh-add {key}"),
        "SSH_ASKPASS".to_string(),
        "-i".to_string(),
    ] {
        assert!(r.stderr.contains(&part), "{part:?} missing: {}", r.stderr);
    }
    for library in ["SshNodeBuilder", "HostKeyPolicy", "::"] {
        assert!(!r.stderr.contains(library), "{}", r.stderr);
    }
}

#[test]
fn an_unknown_host_key_advises_the_cli_option() {
    let bed = testbed(1);
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("known_hosts");
    std::fs::write(&empty, "").unwrap();
    let r = run(ajssh_bare()
        .args(["-F", "none", "-u", bed.user(), "-i"])
        .arg(bed.identity())
        .arg("--known-hosts")
        .arg(&empty)
        .arg(target(&bed.hosts()[0]))
        .args(["-v", "--", "true"]));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--accept-new-host-keys"), "{}", r.stderr);
    assert!(!r.stderr.contains("HostKeyPolicy"), "{}", r.stderr);
}

#[test]
fn agent_problems_are_said_as_they_are() {
    let bed = testbed(1);
    let home = tempfile::tempdir().unwrap(); // no default key files
    let base = || {
        let mut c = ajssh_bare();
        c.args(["-F", "none", "-u", bed.user(), "--known-hosts"])
            .arg(bed.known_hosts())
            .env("HOME", home.path())
            .arg(target(&bed.hosts()[0]))
            .args(["--", "true"]);
        c
    };
    let r = run(base().env("SSH_AUTH_SOCK", ""));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("SSH_AUTH_SOCK is set to '': no agent there"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("os error 22"), "{}", r.stderr);
    let dangling = home.path().join("agent.sock");
    let r = run(base().env("SSH_AUTH_SOCK", &dangling));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "SSH_AUTH_SOCK points to {}: no agent there (no such file)",
            dangling.display()
        )),
        "{}",
        r.stderr
    );
}
