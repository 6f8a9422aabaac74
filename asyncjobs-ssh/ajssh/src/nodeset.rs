//! Node sets, as ClusterShell / pdsh write them: `node[01-20,35]` expands to
//! `node01` … `node20`, `node35` (zero padding kept), and a list of names
//! folds back into that form for display (`-b` headers).

use std::collections::HashMap;
use std::fmt::Write as _;

/// Most names one pattern may expand to: a typo like `n[1-99999999]` must
/// fail clearly instead of eating the memory.
pub const MAX_EXPANSION: usize = 1_000_000;

/// Why a node-set pattern cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeSetError {
    /// A `[` without its `]` (or the reverse).
    #[error("unbalanced brackets in `{0}`")]
    Unbalanced(String),
    /// A bracket item that is not `N`, `A-B` or `A-B/STEP`.
    #[error("bad range `{item}` in `{pattern}`: expected N, A-B or A-B/STEP with decimal numbers")]
    BadRange {
        /// The item.
        item: String,
        /// The whole pattern.
        pattern: String,
    },
    /// `A-B` with `A > B`.
    #[error("reversed range `{item}` in `{pattern}`: the start is above the end")]
    Reversed {
        /// The item.
        item: String,
        /// The whole pattern.
        pattern: String,
    },
    /// More than [`MAX_EXPANSION`] names.
    #[error("`{0}` expands to more than {MAX_EXPANSION} names")]
    TooLarge(String),
}

/// Expands every `[...]` group of `pattern` (cartesian product, left to right).
/// A pattern without brackets is returned as is.
pub fn expand(pattern: &str) -> Result<Vec<String>, NodeSetError> {
    let mut names = vec![String::new()];
    let mut rest = pattern;
    while !rest.is_empty() {
        match (rest.find('['), rest.find(']')) {
            (None, None) => {
                append(&mut names, &[rest.to_string()]);
                break;
            }
            (Some(open), Some(close)) if open < close => {
                append(&mut names, &[rest[..open].to_string()]);
                let body = &rest[open + 1..close];
                if body.contains('[') {
                    return Err(NodeSetError::Unbalanced(pattern.to_string()));
                }
                let values = expand_body(body, pattern)?;
                if names.len().saturating_mul(values.len()) > MAX_EXPANSION {
                    return Err(NodeSetError::TooLarge(pattern.to_string()));
                }
                names = names
                    .iter()
                    .flat_map(|n| values.iter().map(move |v| format!("{n}{v}")))
                    .collect();
                rest = &rest[close + 1..];
            }
            _ => return Err(NodeSetError::Unbalanced(pattern.to_string())),
        }
    }
    Ok(names)
}

fn append(names: &mut [String], suffix: &[String]) {
    if let [s] = suffix {
        for n in names.iter_mut() {
            n.push_str(s);
        }
    }
}

/// `01-03,7,10-14/2` → the strings of each value, padded as written.
fn expand_body(body: &str, pattern: &str) -> Result<Vec<String>, NodeSetError> {
    let mut out = Vec::new();
    for item in body.split(',') {
        let bad = || NodeSetError::BadRange {
            item: item.to_string(),
            pattern: pattern.to_string(),
        };
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u64>().ok().filter(|s| *s > 0).ok_or_else(bad)?),
            None => (item, 1),
        };
        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
        if !is_number(lo) || !is_number(hi) {
            return Err(bad());
        }
        let (a, b) = (
            lo.parse::<u64>().map_err(|_| bad())?,
            hi.parse::<u64>().map_err(|_| bad())?,
        );
        if a > b {
            return Err(NodeSetError::Reversed {
                item: item.to_string(),
                pattern: pattern.to_string(),
            });
        }
        let width = pad_width(lo);
        let count = usize::try_from((b - a) / step + 1).unwrap_or(usize::MAX);
        if out.len().saturating_add(count) > MAX_EXPANSION {
            return Err(NodeSetError::TooLarge(pattern.to_string()));
        }
        out.extend(
            (a..=b)
                .step_by(usize::try_from(step).unwrap_or(usize::MAX))
                .map(|v| format!("{v:0width$}")),
        );
    }
    Ok(out)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Zero padding of a number as written: `007` → 3, `7` or `70` → 0 (none).
fn pad_width(digits: &str) -> usize {
    if digits.len() > 1 && digits.starts_with('0') {
        digits.len()
    } else {
        0
    }
}

/// Folds names into the shortest node-set text, e.g. `node01, node02, node03,
/// web` → `node[01-03],web`. Names that differ in one number are merged,
/// starting from the last number (so `10.0.0.1:22, 10.0.0.2:22` gives
/// `10.0.0.[1-2]:22`); duplicates are dropped; groups come out sorted.
pub fn fold<S: AsRef<str>>(names: &[S]) -> String {
    let mut patterns: Vec<Vec<Token>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if seen.insert(n.as_ref()) {
            patterns.push(tokenize(n.as_ref()));
        }
    }
    let longest = patterns.iter().map(Vec::len).max().unwrap_or(0);
    for pos in (0..longest).rev() {
        patterns = merge_at(patterns, pos);
    }
    let mut rendered: Vec<(String, String)> =
        patterns.iter().map(|p| (sort_key(p), render(p))).collect();
    rendered.sort();
    rendered
        .into_iter()
        .map(|(_, r)| r)
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Clone, Debug)]
enum Token {
    Text(String),
    /// Numbers as written, sorted by value then text, without duplicates.
    Num(Vec<String>),
}

fn tokenize(name: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut digits = false;
    for c in name.chars() {
        if c.is_ascii_digit() != digits && !cur.is_empty() {
            tokens.push(token(std::mem::take(&mut cur), digits));
        }
        digits = c.is_ascii_digit();
        cur.push(c);
    }
    if !cur.is_empty() {
        tokens.push(token(cur, digits));
    }
    tokens
}

fn token(text: String, digits: bool) -> Token {
    // very long digit runs do not fit u64: keep them as text
    if digits && text.len() < 19 {
        Token::Num(vec![text])
    } else {
        Token::Text(text)
    }
}

/// Merges patterns equal everywhere except in the number at `pos`.
fn merge_at(patterns: Vec<Vec<Token>>, pos: usize) -> Vec<Vec<Token>> {
    let mut out: Vec<Vec<Token>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for p in patterns {
        if !matches!(p.get(pos), Some(Token::Num(_))) {
            out.push(p);
            continue;
        }
        let mut key = String::new();
        for (i, t) in p.iter().enumerate() {
            match (i == pos, t) {
                (true, _) => key.push('\0'),
                (false, Token::Text(s)) => key.push_str(s),
                (false, Token::Num(_)) => {
                    let _ = write!(key, "\u{1}{}\u{1}", render_token(t));
                }
            }
        }
        match index.get(&key) {
            Some(&i) => {
                if let (Token::Num(into), Token::Num(from)) = (&mut out[i][pos], &p[pos]) {
                    into.extend(from.iter().cloned());
                    into.sort_by(|a, b| num(a).cmp(&num(b)).then(a.cmp(b)));
                    into.dedup();
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(p);
            }
        }
    }
    out
}

fn num(s: &str) -> u64 {
    s.parse().unwrap_or(u64::MAX)
}

fn render(p: &[Token]) -> String {
    p.iter().map(render_token).collect()
}

/// Sorts `node2` before `node10` and `a` before `b`.
fn sort_key(p: &[Token]) -> String {
    p.iter()
        .map(|t| match t {
            Token::Text(s) => s.clone(),
            Token::Num(v) => format!("{:020}", num(&v[0])),
        })
        .collect()
}

fn render_token(t: &Token) -> String {
    match t {
        Token::Text(s) => s.clone(),
        Token::Num(v) if v.len() == 1 => v[0].clone(),
        Token::Num(v) => format!("[{}]", ranges(v)),
    }
}

/// `["01","02","03","07"]` → `01-03,07`: runs of consecutive values that keep
/// the padding of their first element.
fn ranges(values: &[String]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let start = &values[i];
        let width = pad_width(start);
        let mut j = i;
        while j + 1 < values.len()
            && num(&values[j + 1]) == num(&values[j]) + 1
            && format!("{:0width$}", num(&values[j + 1])) == values[j + 1]
        {
            j += 1;
        }
        if j == i {
            parts.push(start.clone());
        } else {
            parts.push(format!("{start}-{}", values[j]));
        }
        i = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(p: &str) -> Vec<String> {
        expand(p).unwrap()
    }

    #[test]
    fn ranges_keep_zero_padding() {
        assert_eq!(
            ex("node[01-03,35]"),
            ["node01", "node02", "node03", "node35"]
        );
        assert_eq!(ex("n[8-10]"), ["n8", "n9", "n10"]);
        assert_eq!(ex("n[008-010]"), ["n008", "n009", "n010"]);
        assert_eq!(ex("n[05]"), ["n05"]);
    }

    #[test]
    fn several_brackets_make_a_cartesian_product() {
        assert_eq!(
            ex("r[1-2]n[1-2].lab"),
            ["r1n1.lab", "r1n2.lab", "r2n1.lab", "r2n2.lab"]
        );
    }

    #[test]
    fn steps_skip_values() {
        assert_eq!(ex("n[1-7/3]"), ["n1", "n4", "n7"]);
    }

    #[test]
    fn plain_names_expand_to_themselves() {
        assert_eq!(ex("web.example.org"), ["web.example.org"]);
    }

    #[test]
    fn bad_patterns_are_errors_naming_the_item() {
        assert_eq!(expand("n[1-"), Err(NodeSetError::Unbalanced("n[1-".into())));
        assert_eq!(expand("n]1["), Err(NodeSetError::Unbalanced("n]1[".into())));
        let e = expand("n[a-3]").unwrap_err().to_string();
        assert!(e.contains("bad range `a-3` in `n[a-3]`"), "{e}");
        let e = expand("n[5-3]").unwrap_err().to_string();
        assert!(e.contains("reversed range `5-3`"), "{e}");
        assert!(matches!(
            expand("n[1-3/0]"),
            Err(NodeSetError::BadRange { .. })
        ));
        assert!(matches!(expand("n[]"), Err(NodeSetError::BadRange { .. })));
    }

    #[test]
    fn huge_expansions_are_refused() {
        assert!(matches!(
            expand("n[1-99999999]"),
            Err(NodeSetError::TooLarge(_))
        ));
        assert!(matches!(
            expand("a[1-1000]b[1-1000]c[1-2]"),
            Err(NodeSetError::TooLarge(_))
        ));
    }

    #[test]
    fn fold_inverts_expand() {
        for p in [
            "node[01-03,35]",
            "n[8-10]",
            "n[008-010]",
            "web",
            "r[1-2]n[1-3]",
        ] {
            assert_eq!(fold(&ex(p)), p, "{p}");
        }
    }

    #[test]
    fn fold_groups_sorts_and_drops_duplicates() {
        assert_eq!(
            fold(&["web", "node2", "node10", "node1", "node2"]),
            "node[1-2,10],web"
        );
        assert_eq!(fold(&["n1", "n01"]), "n[01,1]");
        assert_eq!(fold(&["n09", "n10", "n11"]), "n[09-11]");
    }

    #[test]
    fn fold_picks_the_number_that_varies() {
        let names = ["127.0.3.2:2222", "127.0.3.3:2222", "127.0.3.4:2222"];
        assert_eq!(fold(&names), "127.0.3.[2-4]:2222");
    }

    #[test]
    fn fold_of_nothing_is_empty() {
        assert_eq!(fold::<&str>(&[]), "");
    }
}
