//! Property tests: any node set or target word gives names or a clear
//! error, never a panic, within the budget. Time and memory are bounded by
//! construction (nothing is expanded before its size is charged to the
//! budget), which the tests check through the budget, not with a clock.

use proptest::prelude::*;

use super::*;

/// Small budget: the property is "refused or expanded", not "expanded".
fn budget() -> Budget {
    Budget::new(20_000, 1 << 20)
}

/// Texts made of the pieces that matter to the parsers.
fn word() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("n".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("-".to_string()),
        Just("/".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("@".to_string()),
        Just("->".to_string()),
        Just("None".to_string()),
        Just(" ".to_string()),
        Just("\x1b".to_string()),
        Just("18446744073709551615".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0".to_string()),
        Just("007".to_string()),
        (0u64..100_000).prop_map(|n| n.to_string()),
        "[a-z.]{1,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn check_error_text(e: &str) {
    assert!(!e.is_empty());
    assert!(!e.contains('\x1b'), "control character in error: {e:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn node_sets_expand_within_budget_or_fail_clearly(text in word()) {
        let mut b = budget();
        match NodeSet::parse_with(&text, &mut b) {
            Ok(set) => {
                prop_assert!(set.len() as u64 <= 20_000);
                prop_assert!(b.names_used() >= set.len() as u64);
                // folding then parsing gives the same names back
                let folded = set.to_string();
                if set.iter().all(|n| !n.contains(['[', ']', ',', ' '])) && !set.is_empty() {
                    let again = NodeSet::parse_with(&folded, &mut budget());
                    if let Ok(again) = again {
                        let mut a: Vec<&str> = set.iter().collect();
                        let mut b: Vec<&str> = again.iter().collect();
                        a.sort_unstable();
                        b.sort_unstable();
                        prop_assert_eq!(a, b, "fold of {:?} is {:?}", text, folded);
                    }
                }
            }
            Err(e) => check_error_text(&e.to_string()),
        }
    }

    #[test]
    fn target_words_parse_within_budget_or_fail_clearly(text in word()) {
        let mut p = TargetParser::new().budget(budget());
        match p.word(&text) {
            Ok(targets) => {
                prop_assert!(targets.len() as u64 <= 20_000);
                for t in &targets {
                    prop_assert!(!t.hop.host.is_empty());
                    prop_assert!(t.hop.port != Some(0));
                }
                let (kept, excluded) = resolve(targets.clone(), &targets);
                prop_assert!(kept.is_empty());
                prop_assert!(excluded <= targets.len());
            }
            Err(e) => check_error_text(&e.to_string()),
        }
        prop_assert!(p.names_used() <= 20_000);
    }

    #[test]
    fn ranges_have_the_size_they_announce(lo in 0u64..50, len in 0u64..50, step in 1u64..7, pad in 0usize..4) {
        let hi = lo + len;
        let text = format!("n[{:0pad$}-{hi}/{step}]", lo, pad = pad);
        let p = Pattern::parse(&text).unwrap();
        let names = p.expand(&mut budget()).unwrap();
        prop_assert_eq!(Some(names.len() as u64), p.count());
        prop_assert_eq!(names.len() as u64, len / step + 1);
        prop_assert!(names.iter().map(|n| n.len() as u64).sum::<u64>() <= p.max_bytes().unwrap());
    }

    #[test]
    fn huge_ranges_are_refused_not_expanded(lo in 0u64..1000, hi in 10_000_000u64..=u64::MAX, step in 1u64..3) {
        let text = format!("n[{lo}-{hi}/{step}],m[1-2]");
        let mut b = Budget::default();
        let refused = matches!(NodeSet::parse_with(&text, &mut b), Err(NodeSetError::TooLarge { .. }));
        prop_assert!(refused, "{} was not refused", text);
        // refused before expanding anything: nothing was charged
        prop_assert_eq!(b.names_used(), 0);
    }
}
