//! The library's errors in ajssh's words: where the library's text advises
//! a library call (`HostKeyPolicy::AcceptNew`, `SshNodeBuilder::passphrase`),
//! ajssh names its own option or the OpenSSH way instead. Everything else is
//! the library's text. The tests below fail if a library text changes so
//! that a library name would reach the user again.

use asyncjobs_ssh::{ConnectError, SshError};

/// Library advice → CLI advice, applied to the text of a connection error.
const REWORDS: &[(&str, &str)] = &[
    (
        "either use HostKeyPolicy::AcceptNew (accept-new) or add it with",
        "either run again with --accept-new-host-keys or add it with",
    ),
    (
        "no passphrase was given: pass one (SshNodeBuilder::passphrase), or load the key into ssh-agent",
        "no passphrase could be asked for: add it to ssh-agent (ssh-add), or set SSH_ASKPASS",
    ),
];

/// When `-p PORT` is a small number other than 22, it was probably meant
/// as pssh's `-p` (parallelism): the advice to give when no target is left
/// or hosts refuse that port.
pub fn port_hint(port: Option<u16>) -> Option<String> {
    let p = port.filter(|p| *p < 1024 && *p != 22)?;
    Some(format!(
        "-p {p} is the SSH port: for {p} hosts in flight (pssh's -p), did you mean -f {p}?"
    ))
}

/// The error when no target was given, with the habit it may come from.
pub fn no_target(port: Option<u16>) -> String {
    let mut s = "no target given (see --help: TARGETS, -w TARGETS, -t FILE)".to_string();
    if let Some(h) = port_hint(port) {
        s.push_str("; ");
        s.push_str(&h);
    }
    s
}

/// A connection error as ajssh says it.
pub fn connect_error(e: &ConnectError) -> String {
    reword(asyncjobs_core::ErrorChain(e).to_string())
}

/// A host's error as ajssh says it (may span lines: a stderr tail).
pub fn ssh_error(e: &SshError) -> String {
    reword(asyncjobs_core::ErrorChain(e).to_string())
}

fn reword(mut text: String) -> String {
    for (library, cli) in REWORDS {
        if text.contains(library) {
            text = text.replace(library, cli);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// No library type or builder name in what ajssh prints.
    fn assert_cli_words(text: &str) {
        for library in ["HostKeyPolicy", "SshNodeBuilder", "SshNode::", "::"] {
            assert!(!text.contains(library), "library name in: {text}");
        }
    }

    #[test]
    fn a_small_port_suggests_the_fanout_option() {
        assert!(port_hint(Some(22)).is_none() && port_hint(Some(2222)).is_none());
        assert!(port_hint(None).is_none());
        let e = no_target(Some(32));
        assert!(
            e.contains("no target given") && e.contains("did you mean -f 32?"),
            "{e}"
        );
        assert!(!no_target(Some(22)).contains("-f"));
    }

    #[test]
    fn unknown_host_keys_advise_the_accept_new_option() {
        let e = ConnectError::HostKeyUnknown {
            target: "10.0.0.1:2222".into(),
            key_type: "ssh-ed25519".into(),
            fingerprint: "SHA256:abc".into(),
            files: vec![PathBuf::from("/home/u/.ssh/known_hosts")],
        };
        let text = connect_error(&e);
        assert_cli_words(&text);
        assert!(text.contains("--accept-new-host-keys"), "{text}");
        assert!(text.contains("ssh-keyscan -p 2222 10.0.0.1"), "{text}");
    }

    #[test]
    fn encrypted_keys_advise_the_agent_or_askpass() {
        let e = SshError::Connect(ConnectError::KeyEncrypted {
            path: "/k/id_ed25519".into(),
        });
        let text = ssh_error(&e);
        assert_cli_words(&text);
        assert!(
            text.contains("ssh-add") && text.contains("SSH_ASKPASS"),
            "{text}"
        );
        assert!(text.contains("/k/id_ed25519"), "{text}");
    }

    #[test]
    fn gateway_errors_are_reworded_too() {
        let e = ConnectError::Gateway {
            target: "h:22".into(),
            gateway: "u@gw:22".into(),
            source: Box::new(ConnectError::HostKeyUnknown {
                target: "gw:22".into(),
                key_type: "ssh-ed25519".into(),
                fingerprint: "SHA256:x".into(),
                files: vec![],
            }),
        };
        let text = connect_error(&e);
        assert_cli_words(&text);
        assert!(text.contains("--accept-new-host-keys"), "{text}");
    }
}
