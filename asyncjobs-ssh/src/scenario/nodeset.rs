//! Node sets in scenario files (`fit[01-40]`, `r[1-2]n[1-3]`), as ClusterShell
//! and pdsh write them, through the library's parser ([`crate::targets`]).

/// Expands every `[...]` group of `pattern` (cartesian product, left to
/// right; zero padding kept) with the library's node-set parser
/// ([`crate::targets::expand`]), at most `max` names. A pattern without
/// brackets is one name. The message says what is wrong.
pub(crate) fn expand(pattern: &str, max: usize) -> Result<Vec<String>, String> {
    let names = crate::targets::expand(pattern).map_err(|e| e.to_string())?;
    if names.len() > max {
        return Err(format!("node set `{pattern}` has more than {max} names"));
    }
    Ok(names)
}

/// A field of node `id`, expanded from the entry `key`: in an entry that
/// names a node set (`fit[01-40]`), `{node}` stands for each node's name; a
/// single node's entry is taken as written.
pub(crate) fn field_of(key: &str, id: &str, text: &str) -> String {
    if key.contains('[') {
        text.replace("{node}", id)
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn ex(p: &str) -> Vec<String> {
        expand(p, 1000).unwrap()
    }

    #[test]
    fn sets_expand_with_padding_steps_and_products() {
        assert_eq!(ex("fit[01-03,35]"), ["fit01", "fit02", "fit03", "fit35"]);
        assert_eq!(ex("n[8-10]"), ["n8", "n9", "n10"]);
        assert_eq!(ex("n[1-7/3]"), ["n1", "n4", "n7"]);
        assert_eq!(ex("r[1-2]n[1-2]"), ["r1n1", "r1n2", "r2n1", "r2n2"]);
        assert_eq!(ex("web"), ["web"]);
    }

    #[test]
    fn bad_or_huge_sets_are_errors() {
        for (p, m) in [
            ("n[1-", "n[1-"),
            ("n[a-3]", "a-3"),
            ("n[5-3]", "5-3"),
            ("n[1-3/0]", "1-3/0"),
            ("n[1-5000]", "more than 1000 names"),
            ("n[0-18446744073709551615]", "n[0-18446744073709551615]"),
            ("a[1-100]b[1-100]", "more than 1000 names"),
        ] {
            let e = expand(p, 1000).unwrap_err();
            assert!(e.contains(m), "{p}: {e}");
        }
    }

    #[test]
    fn node_fields_name_each_node_of_a_set_only() {
        use super::field_of;
        assert_eq!(field_of("fit[01-02]", "fit02", "{node}.lab"), "fit02.lab");
        assert_eq!(field_of("web", "web", "{node}.lab"), "{node}.lab");
    }
}
