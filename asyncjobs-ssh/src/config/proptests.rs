//! Property tests: any config text, generated from OpenSSH's grammar with
//! hostile variations or as raw bytes, loads and resolves to a value or a
//! clear error (naming the file and line) — never a panic, and in time
//! linear in the input (the inputs are bounded; nothing here can loop).
//! `Match exec` is left out of the vocabulary: generated commands are
//! never run.

use std::path::Path;

use proptest::prelude::*;

use super::tokens::Local;
use super::*;

const KEYWORDS: &[&str] = &[
    "Host",
    "Match",
    "Include",
    "HostName",
    "Port",
    "User",
    "IdentityFile",
    "IdentitiesOnly",
    "CertificateFile",
    "ProxyJump",
    "ProxyCommand",
    "HostKeyAlias",
    "UserKnownHostsFile",
    "GlobalKnownHostsFile",
    "StrictHostKeyChecking",
    "ConnectTimeout",
    "ServerAliveInterval",
    "ServerAliveCountMax",
    "KexAlgorithms",
    "IgnoreUnknown",
    "AddressFamily",
    "HashKnownHosts",
    "IdentityAgent",
    "LocalForward",
    "ControlMaster",
    "ControlPath",
    "CanonicalizeHostname",
    "BindAddress",
    "SendEnv",
    "Compression",
    "UseKeychain",
    "host",
    "PORT",
    "#",
    "",
];

const WORDS: &[&str] = &[
    "web",
    "db*",
    "!web2",
    "?",
    "*",
    "10.0.0.1",
    "[::1]:22",
    "u@gw:2200",
    "gw1,gw2",
    "none",
    "all",
    "!all",
    "final",
    "canonical",
    "host",
    "originalhost",
    "user",
    "localuser",
    "tagged",
    "localnetwork",
    "yes",
    "no",
    "ask",
    "accept-new",
    "off",
    "inet",
    "any",
    "0",
    "22",
    "65536",
    "1h30m",
    "5x",
    "%h",
    "%p",
    "%r",
    "%n",
    "%d",
    "%u",
    "%C",
    "%%",
    "%",
    "%z",
    "${HOME}",
    "${NOPE_AJ_UNSET}",
    "${",
    "~",
    "~/.ssh/id",
    "~nosuchuser/x",
    "/nonexistent/aj-*",
    "conf.d/*",
    "\"",
    "'",
    "\\",
    "=",
    "#",
    "\"quoted word\"",
    "a=b",
    "curve25519-sha256",
    "^ecdh-sha2-nistp256",
    "-mlkem768x25519-sha256",
    "+nope",
    "SSH_AUTH_SOCK",
    "/tmp/agent",
];

fn line() -> impl Strategy<Value = String> {
    (
        0..KEYWORDS.len(),
        prop::collection::vec(0..WORDS.len(), 0..4),
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(|(k, words, indent, equals)| {
            let mut l = String::new();
            if indent {
                l.push_str("  ");
            }
            l.push_str(KEYWORDS[k]);
            l.push_str(if equals { "=" } else { " " });
            let args: Vec<&str> = words.iter().map(|&w| WORDS[w]).collect();
            l.push_str(&args.join(" "));
            l
        })
}

fn local(home: &Path) -> Local {
    Local {
        user: "alice".into(),
        home: home.to_path_buf(),
        glob_home: home.to_path_buf(),
        uid: nix::unistd::getuid().as_raw(),
        hostname: "laptop".into(),
    }
}

/// Loads and resolves a few hosts: every outcome is a value or an error
/// that says where (the file, or the host).
fn exercise(text: &str, home: &Path) {
    match SshConfig::for_test(text, local(home)) {
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty());
            assert!(
                msg.contains("cfg") || msg.contains(&*home.to_string_lossy()),
                "{msg}"
            );
        }
        Ok(cfg) => {
            for host in ["web", "web2", "db1", "10.0.0.1", "WEB"] {
                match cfg.route(host, &Overrides::new()) {
                    Ok(route) => {
                        for h in route.hops() {
                            assert!(h.ssh_g().starts_with("host "));
                            let _ = h.node_builder().build();
                        }
                    }
                    Err(e) => assert!(!e.to_string().is_empty()),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_configs_resolve_or_fail_clearly(lines in prop::collection::vec(line(), 0..40)) {
        let home = tempfile::tempdir().unwrap();
        exercise(&lines.join("\n"), home.path());
    }

    #[test]
    fn arbitrary_text_resolves_or_fails_clearly(text in "\\PC{0,400}") {
        let home = tempfile::tempdir().unwrap();
        exercise(&text, home.path());
    }

    #[test]
    fn arbitrary_bytes_in_a_file_resolve_or_fail_clearly(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("config");
        std::fs::write(&file, &bytes).unwrap();
        if let Ok(cfg) = SshConfig::load_file(&file) {
            for host in ["web", "x"] {
                let _ = cfg.resolve(host).map(|h| h.ssh_g());
            }
        }
    }
}
