//! OpenSSH's wildcard patterns (`match.c`): `*` and `?` over bytes, pattern
//! lists with `!` negation, host names compared in lower case.
//!
//! The matcher is the classic two-pointer one: it gives the same answers as
//! OpenSSH's recursive `match_pattern`, but in O(pattern × name) time at
//! worst instead of exponential time for patterns such as `*a*a*a*a*b`.

/// OpenSSH's limit on one pattern of a comma-separated list: a longer one
/// makes the whole list fail to match (`match_pattern_list`).
const MAX_SUBPATTERN: usize = 1022;

/// `s` matches `pattern` (`*` any run of bytes, `?` one byte; case-sensitive).
pub(crate) fn matches(s: &str, pattern: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), s.as_bytes());
    let (mut pi, mut si) = (0usize, 0usize);
    // where the last `*` was, and the name position it currently absorbs up to
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                // let the last `*` absorb one more byte, and retry after it
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'*')
}

/// The outcome of a pattern list (`match_pattern_list`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListMatch {
    /// A negated pattern matched: the list refuses the name.
    Negated,
    /// No pattern matched.
    No,
    /// A positive pattern matched and no negated one did.
    Yes,
}

/// Matches `s` against a comma-separated list of patterns, each possibly
/// negated with `!`; with `lower`, the patterns are lower-cased first.
pub(crate) fn match_list(s: &str, list: &str, lower: bool) -> ListMatch {
    let mut positive = false;
    for sub in list.split(',') {
        let (negated, sub) = match sub.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, sub),
        };
        if sub.len() >= MAX_SUBPATTERN {
            return ListMatch::No;
        }
        let hit = if lower {
            matches(s, &sub.to_ascii_lowercase())
        } else {
            matches(s, sub)
        };
        if hit {
            if negated {
                return ListMatch::Negated;
            }
            positive = true;
        }
    }
    if positive {
        ListMatch::Yes
    } else {
        ListMatch::No
    }
}

/// `match_hostname`: the host in lower case against a lower-cased pattern list.
pub(crate) fn match_hostname(host: &str, list: &str) -> ListMatch {
    match_list(&host.to_ascii_lowercase(), list, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenSSH's recursive algorithm, as the reference for the fast one.
    fn reference(s: &[u8], p: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') => (0..=s.len()).any(|i| reference(&s[i..], &p[1..])),
            Some(&c) => !s.is_empty() && (c == b'?' || c == s[0]) && reference(&s[1..], &p[1..]),
        }
    }

    #[test]
    fn wildcards_match_as_openssh_does() {
        let cases = [
            ("web01", "web*", true),
            ("web01", "web?1", true),
            ("web01", "web?", false),
            ("web01", "*", true),
            ("", "*", true),
            ("", "?", false),
            ("a.b.c", "*.c", true),
            ("abcabd", "*abd", true),
            ("aaaa", "a*a*a*a", true),
            ("aaa", "a*a*a*a", false),
            ("Web01", "web*", false),
            ("x", "", false),
            ("", "", true),
        ];
        for (s, p, want) in cases {
            assert_eq!(matches(s, p), want, "{s} ~ {p}");
            assert_eq!(reference(s.as_bytes(), p.as_bytes()), want, "{s} ~ {p}");
        }
    }

    #[test]
    fn fast_matcher_agrees_with_the_recursive_one() {
        let alphabet = ["a", "b", "*", "?"];
        let mut patterns = vec![String::new()];
        for _ in 0..4 {
            let next: Vec<String> = patterns
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            patterns.extend(next);
        }
        patterns.sort();
        patterns.dedup();
        let names = ["", "a", "b", "ab", "ba", "aab", "abab", "bbba", "aaaaa"];
        for p in &patterns {
            for s in names {
                assert_eq!(
                    matches(s, p),
                    reference(s.as_bytes(), p.as_bytes()),
                    "{s} ~ {p}"
                );
            }
        }
    }

    #[test]
    fn pathological_patterns_take_polynomial_time() {
        let name = "a".repeat(5000);
        let pattern = format!("{}b", "*a".repeat(2000));
        assert!(!matches(&name, &pattern));
    }

    #[test]
    fn lists_honour_negation_and_case_folding() {
        assert_eq!(match_list("web1", "web*,!web2", false), ListMatch::Yes);
        assert_eq!(match_list("web2", "web*,!web2", false), ListMatch::Negated);
        assert_eq!(match_list("db", "web*,!web2", false), ListMatch::No);
        assert_eq!(match_list("root", "ROOT", false), ListMatch::No);
        assert_eq!(match_hostname("WEB1", "Web*"), ListMatch::Yes);
        let long = format!("x,{}", "y".repeat(MAX_SUBPATTERN));
        assert_eq!(match_list("x", &long, false), ListMatch::No);
    }
}
