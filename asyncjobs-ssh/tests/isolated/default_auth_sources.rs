//! Without explicit identities: the ssh-agent when `SSH_AUTH_SOCK` is set, then
//! the default key files of `~/.ssh`. These tests change `HOME` and
//! `SSH_AUTH_SOCK`, so they run one at a time in their own test binary.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use std::time::Duration;

use crate::support::{eventually, testbed, Output};
use asyncjobs_ssh::{ConnectError, SshNode};
use asyncjobs_tests::Testbed;

/// A node with no identity file given: auth must come from the agent or ~/.ssh.
fn bare_node(bed: &Testbed) -> SshNode {
    let host = &bed.hosts()[0];
    SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(bed.user())
        .known_hosts_file(bed.known_hosts())
        .formatter(Output::new().formatter())
        .build()
}

fn connect(node: &SshNode) -> Result<(), ConnectError> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node.connect())
}

/// An `ssh-agent` of our own, killed on drop.
struct Agent {
    child: Child,
    sock: std::path::PathBuf,
}

impl Agent {
    fn start(dir: &Path, key: &Path) -> Agent {
        let sock = dir.join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let agent = Agent { child, sock };
        assert!(
            eventually(Duration::from_secs(10), || agent.sock.exists()),
            "ssh-agent did not start"
        );
        let added = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &agent.sock)
            .output()
            .unwrap();
        assert!(
            added.status.success(),
            "ssh-add: {}",
            String::from_utf8_lossy(&added.stderr)
        );
        agent
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn empty_home(dir: &Path) -> std::path::PathBuf {
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    home
}

#[test]
fn agent_key_is_used_when_no_identity_is_given() {
    let _env = crate::ISOLATED.lock().unwrap_or_else(|e| e.into_inner());
    let bed = testbed(1);
    let tmp = tempfile::tempdir().unwrap();
    let agent = Agent::start(tmp.path(), bed.identity());
    std::env::set_var("HOME", empty_home(tmp.path()));
    std::env::set_var("SSH_AUTH_SOCK", &agent.sock);
    let result = connect(&bare_node(&bed));
    std::env::remove_var("SSH_AUTH_SOCK");
    result.unwrap();
}

#[test]
fn agent_with_a_wrong_key_is_listed_in_the_refusal() {
    let _env = crate::ISOLATED.lock().unwrap_or_else(|e| e.into_inner());
    let bed = testbed(1);
    let tmp = tempfile::tempdir().unwrap();
    let agent = Agent::start(tmp.path(), bed.wrong_identity());
    std::env::set_var("HOME", empty_home(tmp.path()));
    std::env::set_var("SSH_AUTH_SOCK", &agent.sock);
    let result = connect(&bare_node(&bed));
    std::env::remove_var("SSH_AUTH_SOCK");
    match result {
        Err(ConnectError::AuthRefused { tried, .. }) => {
            assert_eq!(tried.len(), 1, "{tried:?}");
            assert!(
                tried[0].starts_with("agent key ssh-ed25519 SHA256:"),
                "{tried:?}"
            );
        }
        other => panic!("expected AuthRefused, got {other:?}"),
    }
}

#[test]
fn default_key_file_is_used_without_agent() {
    let _env = crate::ISOLATED.lock().unwrap_or_else(|e| e.into_inner());
    let bed = testbed(1);
    let tmp = tempfile::tempdir().unwrap();
    let home = empty_home(tmp.path());
    let key = home.join(".ssh").join("id_ed25519");
    std::fs::copy(bed.identity(), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::env::set_var("HOME", &home);
    std::env::remove_var("SSH_AUTH_SOCK");
    connect(&bare_node(&bed)).unwrap();
}

#[test]
fn encrypted_default_key_without_passphrase_names_the_file() {
    let _env = crate::ISOLATED.lock().unwrap_or_else(|e| e.into_inner());
    let bed = testbed(1);
    let tmp = tempfile::tempdir().unwrap();
    let home = empty_home(tmp.path());
    let key = home.join(".ssh").join("id_ecdsa");
    std::fs::copy(bed.encrypted_identity(), &key).unwrap();
    std::env::set_var("HOME", &home);
    std::env::remove_var("SSH_AUTH_SOCK");
    match connect(&bare_node(&bed)) {
        Err(ConnectError::KeyEncrypted { path }) => assert_eq!(path, key),
        other => panic!("expected KeyEncrypted, got {other:?}"),
    }
}

#[test]
fn no_key_anywhere_says_what_was_looked_for() {
    let _env = crate::ISOLATED.lock().unwrap_or_else(|e| e.into_inner());
    let bed = testbed(1);
    let tmp = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", empty_home(tmp.path()));
    std::env::remove_var("SSH_AUTH_SOCK");
    let err = connect(&bare_node(&bed)).unwrap_err();
    assert!(
        matches!(&err, ConnectError::AuthRefused { tried, .. } if tried.is_empty()),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("no ssh-agent, no default key file ~/.ssh/id_ed25519"),
        "{err}"
    );
}
