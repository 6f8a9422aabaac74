//! Test-only helpers for the SFTP tests: a russh connection to a loopback
//! testbed host, remote command execution, data generation and checksums.
#![allow(dead_code)] // each test binary uses a different subset

use std::{
    collections::BTreeMap,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::Duration,
};

use asyncjobs_tests::Testbed;
use russh::{
    client,
    keys::{load_secret_key, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate},
    ChannelMsg,
};

/// Accepts exactly the testbed's host key.
pub struct TestHandler {
    expected: PublicKey,
}

impl client::Handler for TestHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(matches!(key, PublicKeyOrCertificate::PublicKey { key, .. } if *key == self.expected))
    }
}

/// An authenticated connection to the first host of `bed`.
pub async fn connect(bed: &Testbed) -> client::Handle<TestHandler> {
    let expected = PublicKey::from_openssh(bed.host_public_key()).expect("testbed host key parses");
    let config = Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(120)),
        nodelay: true,
        ..Default::default()
    });
    let host = &bed.hosts()[0];
    let mut handle = tokio::time::timeout(
        Duration::from_secs(30),
        client::connect(
            config,
            (host.ip.as_str(), host.port),
            TestHandler { expected },
        ),
    )
    .await
    .expect("connect within 30s")
    .unwrap_or_else(|e| panic!("connect to {}: {e}\n{}", host.address(), bed.sshd_log()));
    let key = load_secret_key(bed.identity(), None).expect("identity loads");
    let auth = handle
        .authenticate_publickey(bed.user(), PrivateKeyWithHashAlg::new(Arc::new(key), None))
        .await
        .expect("publickey auth runs");
    assert!(auth.success(), "publickey auth refused\n{}", bed.sshd_log());
    handle
}

/// Output of a remote command.
#[derive(Debug)]
pub struct Output {
    pub status: Option<u32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` on the remote host over an exec channel (bounded to 60s).
pub async fn exec<H: client::Handler>(handle: &client::Handle<H>, command: &str) -> Output {
    let run = async {
        let mut channel = handle
            .channel_open_session()
            .await
            .expect("session channel opens");
        channel
            .exec(true, command)
            .await
            .expect("exec request sent");
        let (mut stdout, mut stderr, mut status) = (Vec::new(), Vec::new(), None);
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        Output {
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    };
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap_or_else(|_| panic!("remote command {command:?} did not finish within 60s"))
}

/// Single-quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Deterministic pseudo-random bytes (xorshift64*), different per `seed`.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// SHA-256 of local files, by `sha256sum` (hex digest per path).
pub fn local_sha256(paths: &[PathBuf]) -> Vec<String> {
    if paths.is_empty() {
        return Vec::new();
    }
    let out = Command::new("sha256sum")
        .arg("--")
        .args(paths)
        .output()
        .expect("sha256sum runs");
    assert!(
        out.status.success(),
        "sha256sum: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            l.split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_start_matches('\\')
                .to_owned()
        })
        .collect()
}

/// One entry of a tree listing: type, mode bits, and SHA-256 for files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir { mode: u32 },
    File { mode: u32, sha256: String },
    Link { target: String },
}

/// Every entry below `root` (relative path -> entry), checksums included.
pub fn tree(root: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("dir entry");
            let rel_child = rel.join(entry.file_name());
            let key = rel_child.to_string_lossy().into_owned();
            let md = std::fs::symlink_metadata(entry.path()).expect("lstat");
            let mode = md.permissions().mode() & 0o7777;
            if md.file_type().is_symlink() {
                let target = std::fs::read_link(entry.path()).expect("readlink");
                out.insert(
                    key,
                    Entry::Link {
                        target: target.to_string_lossy().into_owned(),
                    },
                );
            } else if md.is_dir() {
                out.insert(key, Entry::Dir { mode });
                stack.push(rel_child);
            } else {
                files.push((key, mode, entry.path()));
            }
        }
    }
    let paths: Vec<PathBuf> = files.iter().map(|f| f.2.clone()).collect();
    for ((key, mode, _), sha256) in files.into_iter().zip(local_sha256(&paths)) {
        out.insert(key, Entry::File { mode, sha256 });
    }
    out
}

/// The same listing computed on the remote host (`find` + `sha256sum`), to
/// check what a push wrote without trusting pull.
pub async fn remote_tree<H: client::Handler>(
    handle: &client::Handle<H>,
    root: &str,
) -> BTreeMap<String, Entry> {
    let root_q = shell_quote(root);
    let listing = exec(
        handle,
        &format!("cd {root_q} && find . -mindepth 1 -printf '%y %m %P\\0%l\\0'"),
    )
    .await;
    assert_eq!(
        listing.status,
        Some(0),
        "remote find failed: {}",
        listing.stderr
    );
    let mut out = BTreeMap::new();
    let mut files = Vec::new();
    let mut fields = listing.stdout.split('\0');
    while let (Some(head), Some(link)) = (fields.next(), fields.next()) {
        let mut parts = head.splitn(3, ' ');
        let (kind, mode, rel) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let mode = u32::from_str_radix(mode, 8).expect("octal mode");
        match kind {
            "d" => {
                out.insert(rel.to_owned(), Entry::Dir { mode });
            }
            "l" => {
                out.insert(
                    rel.to_owned(),
                    Entry::Link {
                        target: link.to_owned(),
                    },
                );
            }
            _ => files.push((rel.to_owned(), mode)),
        }
    }
    for (rel, mode) in files {
        let sum = exec(
            handle,
            &format!("cd {root_q} && sha256sum -- {}", shell_quote(&rel)),
        )
        .await;
        assert_eq!(
            sum.status,
            Some(0),
            "remote sha256sum failed: {}",
            sum.stderr
        );
        let sha256 = sum
            .stdout
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_start_matches('\\')
            .to_owned();
        out.insert(rel, Entry::File { mode, sha256 });
    }
    out
}

/// A local file with `data` and `mode`.
pub fn write_file(path: &Path, data: &[u8], mode: u32) {
    std::fs::write(path, data).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A remote directory path unique to this test, inside the testbed's
/// remote area (owned by the login user).
pub fn remote_area(bed: &Testbed, name: &str) -> String {
    bed.remote_dir().join(name).to_string_lossy().into_owned()
}
