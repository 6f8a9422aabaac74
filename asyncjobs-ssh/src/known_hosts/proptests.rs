//! Property tests of known_hosts parsing and matching: on any file content
//! and any host name, a lookup answers (or reports an I/O error) without a
//! panic, in time bounded by the input (a bounded number of cases, each of
//! bounded size, runs in the test suite).

use proptest::prelude::*;

use super::*;

/// Pieces of known_hosts syntax, to build lines that get past the first
/// checks (markers, hashed names, patterns, brackets), and arbitrary text.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("|1|".to_owned()),
        Just("|".to_owned()),
        Just("@revoked ".to_owned()),
        Just("@cert-authority ".to_owned()),
        Just("*".to_owned()),
        Just("?".to_owned()),
        Just("!".to_owned()),
        Just("[".to_owned()),
        Just("]:".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("#".to_owned()),
        Just("ssh-ed25519 ".to_owned()),
        Just("AAAAC3NzaC1lZDI1NTE5".to_owned()),
        "[a-zA-Z0-9+/=.:-]{0,12}",
        any::<char>().prop_map(String::from),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..80).prop_map(|v| v.concat())
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9.*?!-]{0,16}",
        "\\[[a-z0-9.]{0,8}\\]:[0-9]{1,5}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_into_at_most_one_entry_per_line(text in text(), host in name()) {
        let parsed = Parsed::parse(&text);
        prop_assert_eq!(parsed.lines, text.lines().count());
        prop_assert!(parsed.entries.len() <= parsed.lines);
        for e in parsed.matching(&host) {
            prop_assert!(e.line >= 1 && e.line <= parsed.lines);
        }
    }

    #[test]
    fn plain_names_match_whatever_their_case(host in "[a-zA-Z0-9.-]{1,30}", port in 1u16.., flip in any::<u64>()) {
        // OpenSSH lower-cases the name it looks up; a file may hold any case
        let written: String = host
            .chars()
            .enumerate()
            .map(|(i, c)| if flip >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let parsed = Parsed::parse(&format!("{} ssh-ed25519 AAAA\n", known_hosts_name(&written, port)));
        prop_assert_eq!(parsed.matching(&known_hosts_name(&host, port)).len(), 1);
        let other = format!("{}x", host);
        prop_assert!(parsed.matching(&known_hosts_name(&other, port)).is_empty());
    }

    #[test]
    fn wildcard_matching_of_any_pattern_and_name_terminates(pattern in "[a*?!.]{0,40}", host in "[a.b]{0,60}") {
        // the backtracking glob is O(pattern x name): no blow-up on `a*a*a*...`
        let starred = glob(pattern.as_bytes(), host.as_bytes());
        let everything = glob(b"*", host.as_bytes());
        prop_assert!(everything);
        if !pattern.is_empty() && pattern.bytes().all(|c| c == b'*') {
            prop_assert!(starred);
        }
    }
}

proptest! {
    // these write a file per case: fewer cases
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_file_content_gives_a_verdict(bytes in prop::collection::vec(any::<u8>(), 0..2048), host in name(), key in "[A-Za-z0-9+/=]{0,40}") {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("known_hosts");
        std::fs::write(&p, &bytes).unwrap();
        let files = vec![p];
        let verdict = check(&files, &host, "ssh-ed25519", &key);
        prop_assert!(verdict.is_ok(), "{:?}", verdict);
        let _ = known_key_types(&files, &host);
    }

    #[test]
    fn written_names_are_found_again(host in "[a-z0-9.-]{1,20}", port in 1u16.., hash in any::<bool>()) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("known_hosts");
        let name = known_hosts_name(&host, port);
        append(&p, &name, "ssh-ed25519", "AAAAkey", hash).unwrap();
        let verdict = check(&[p], &name, "ssh-ed25519", "AAAAkey").unwrap();
        prop_assert_eq!(verdict, Verdict::Known);
    }
}
