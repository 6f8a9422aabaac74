//! Node sets in scenario files (`fit[01-40]`, `r[1-2]n[1-3]`), as ClusterShell
//! and pdsh write them. Every expansion goes through [`expand`]: when the
//! library's target module has a node-set parser of its own, this file
//! becomes a call to it.

/// Expands every `[...]` group of `pattern` (cartesian product, left to
/// right; zero padding kept), at most `max` names. A pattern without
/// brackets is one name. The message says what is wrong.
pub(crate) fn expand(pattern: &str, max: usize) -> Result<Vec<String>, String> {
    let mut names = vec![String::new()];
    let mut rest = pattern;
    let unbalanced = || format!("unbalanced brackets in node set `{pattern}`");
    while !rest.is_empty() {
        match (rest.find('['), rest.find(']')) {
            (None, None) => {
                push_all(&mut names, rest);
                break;
            }
            (Some(open), Some(close)) if open < close => {
                push_all(&mut names, &rest[..open]);
                let body = &rest[open + 1..close];
                if body.contains('[') {
                    return Err(unbalanced());
                }
                let values = expand_body(body, pattern, max)?;
                if names.len().saturating_mul(values.len()) > max {
                    return Err(format!("node set `{pattern}` has more than {max} names"));
                }
                names = names
                    .iter()
                    .flat_map(|n| values.iter().map(move |v| format!("{n}{v}")))
                    .collect();
                rest = &rest[close + 1..];
            }
            _ => return Err(unbalanced()),
        }
    }
    Ok(names)
}

fn push_all(names: &mut [String], suffix: &str) {
    for n in names.iter_mut() {
        n.push_str(suffix);
    }
}

/// `01-03,7,10-14/2` → the values, padded as written.
fn expand_body(body: &str, pattern: &str, max: usize) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in body.split(',') {
        let bad = || {
            format!(
                "bad range `{item}` in node set `{pattern}`: expected N, A-B or A-B/STEP (decimal)"
            )
        };
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u64>().ok().filter(|s| *s > 0).ok_or_else(bad)?),
            None => (item, 1),
        };
        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
        let number = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        };
        let (Some(a), Some(b)) = (number(lo), number(hi)) else {
            return Err(bad());
        };
        if a > b {
            return Err(format!(
                "reversed range `{item}` in node set `{pattern}`: the start is above the end"
            ));
        }
        // checked: `0-18446744073709551615` must not wrap to 0 names
        let count = ((b - a) / step)
            .checked_add(1)
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(usize::MAX);
        if out.len().saturating_add(count) > max {
            return Err(format!("node set `{pattern}` has more than {max} names"));
        }
        let width = if lo.len() > 1 && lo.starts_with('0') {
            lo.len()
        } else {
            0
        };
        let mut v = a;
        loop {
            out.push(format!("{v:0width$}"));
            match v.checked_add(step) {
                Some(n) if n <= b => v = n,
                _ => break,
            }
        }
    }
    Ok(out)
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
            ("n[1-", "unbalanced"),
            ("n[a-3]", "bad range `a-3`"),
            ("n[5-3]", "reversed range"),
            ("n[1-3/0]", "bad range"),
            ("n[]", "bad range"),
            ("n[1-5000]", "more than 1000 names"),
            ("n[0-18446744073709551615]", "more than 1000 names"),
            ("a[1-100]b[1-100]", "more than 1000 names"),
        ] {
            let e = expand(p, 1000).unwrap_err();
            assert!(e.contains(m), "{p}: {e}");
        }
    }
}
