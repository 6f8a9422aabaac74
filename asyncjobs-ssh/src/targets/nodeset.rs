//! Node sets, as ClusterShell and pdsh write them: `node[01-20,35]` is
//! `node01` … `node20` and `node35` (zero padding kept), `n[1-9/2]` is every
//! second value, `r[1-2]n[1-3]` a cartesian product; a list of names folds
//! back into that form for display ([`fold`]).
//!
//! Sizes are counted with checked arithmetic and charged to a [`Budget`]
//! *before* anything is allocated: `n[0-18446744073709551615]` or
//! `n[1-999999],m[1-999999]` are refused at once with
//! [`NodeSetError::TooLarge`], never a panic, a wrap or a long wait.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::escape::escape_control;

/// Most names a command line may expand to, in all (the default [`Budget`]).
pub const MAX_NAMES: u64 = 1_000_000;

/// Most bytes of names a command line may expand to, in all (the default
/// [`Budget`]): 64 MiB.
pub const MAX_NAME_BYTES: u64 = 64 << 20;

/// Why a node set cannot be expanded. The texts quoted are escaped (no
/// control character reaches the terminal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeSetError {
    /// A `[` without its `]`, a `]` without its `[`, or nested brackets.
    #[error("unbalanced brackets in `{}`", escape_control(.0))]
    Unbalanced(String),
    /// A bracket item that is not `N`, `A-B` or `A-B/STEP`.
    #[error("bad range `{}` in `{}`: {why}", escape_control(.item), escape_control(.pattern))]
    BadRange {
        /// The item.
        item: String,
        /// The whole pattern.
        pattern: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `A-B` with `A > B`.
    #[error("reversed range `{}` in `{}`: the start is above the end", escape_control(.item), escape_control(.pattern))]
    Reversed {
        /// The item.
        item: String,
        /// The whole pattern.
        pattern: String,
    },
    /// More names (or bytes of names) than the [`Budget`] allows.
    #[error(
        "`{}` expands to {} names: more than the limit of {max_names} names and {} MiB of names{}",
        escape_control(.pattern),
        .count.map_or_else(|| "more than 18446744073709551615".to_string(), |c| c.to_string()),
        .max_bytes >> 20,
        if *.shared { " for the whole command line" } else { "" }
    )]
    TooLarge {
        /// The pattern (or the part of it) that went over.
        pattern: String,
        /// The names it expands to, when that fits in a `u64`.
        count: Option<u64>,
        /// The budget's limit on names.
        max_names: u64,
        /// The budget's limit on bytes.
        max_bytes: u64,
        /// True when earlier patterns had used part of the budget.
        shared: bool,
    },
}

/// What a command line may still expand to: names and bytes of names.
/// Charged before allocating, so a huge pattern costs nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    max_names: u64,
    max_bytes: u64,
    names: u64,
    bytes: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(MAX_NAMES, MAX_NAME_BYTES)
    }
}

impl Budget {
    /// A budget of `max_names` names and `max_bytes` bytes of names.
    pub fn new(max_names: u64, max_bytes: u64) -> Budget {
        Budget {
            max_names,
            max_bytes,
            names: 0,
            bytes: 0,
        }
    }

    /// Names charged so far.
    pub fn names_used(&self) -> u64 {
        self.names
    }

    /// Charges `count` names of `bytes` bytes in all (`None`: too many to
    /// count) for `pattern`; nothing is charged when that goes over.
    pub fn charge(
        &mut self,
        pattern: &str,
        count: Option<u64>,
        bytes: Option<u64>,
    ) -> Result<(), NodeSetError> {
        let names = count.and_then(|c| self.names.checked_add(c));
        let total = bytes.and_then(|b| self.bytes.checked_add(b));
        match (names, total) {
            (Some(n), Some(b)) if n <= self.max_names && b <= self.max_bytes => {
                self.names = n;
                self.bytes = b;
                Ok(())
            }
            _ => Err(NodeSetError::TooLarge {
                pattern: pattern.to_string(),
                count,
                max_names: self.max_names,
                max_bytes: self.max_bytes,
                shared: self.names > 0,
            }),
        }
    }
}

/// One `A-B/STEP` of a bracket, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Range {
    lo: u64,
    hi: u64,
    step: u64,
    /// Zero padding (0: none).
    width: usize,
}

impl Range {
    /// Values in the range; `lo <= hi` and `step >= 1` make this exact.
    fn count(&self) -> Option<u64> {
        ((self.hi - self.lo) / self.step).checked_add(1)
    }

    /// Longest text of a value.
    fn max_len(&self) -> u64 {
        let digits = self.hi.checked_ilog10().unwrap_or(0) + 1;
        u64::from(digits).max(self.width as u64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Values(Vec<Range>),
}

/// A parsed node-set pattern such as `r[1-2]n[01-10/3].lab`: its size is
/// known (checked) before it is expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    segments: Vec<Segment>,
}

impl Pattern {
    /// Parses one pattern (no commas outside brackets: see [`NodeSet`] for lists).
    pub fn parse(pattern: &str) -> Result<Pattern, NodeSetError> {
        let unbalanced = || NodeSetError::Unbalanced(pattern.to_string());
        let mut segments = Vec::new();
        let mut rest = pattern;
        while !rest.is_empty() {
            match (rest.find('['), rest.find(']')) {
                (None, None) => {
                    segments.push(Segment::Text(rest.to_string()));
                    break;
                }
                (Some(open), Some(close)) if open < close => {
                    if open > 0 {
                        segments.push(Segment::Text(rest[..open].to_string()));
                    }
                    let body = &rest[open + 1..close];
                    if body.contains('[') {
                        return Err(unbalanced());
                    }
                    segments.push(Segment::Values(parse_body(body, pattern)?));
                    rest = &rest[close + 1..];
                }
                _ => return Err(unbalanced()),
            }
        }
        Ok(Pattern {
            text: pattern.to_string(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the pattern has brackets (it is not one plain name).
    pub fn has_ranges(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Values(_)))
    }

    /// How many names it expands to (`None`: more than `u64::MAX`).
    pub fn count(&self) -> Option<u64> {
        let mut total: u64 = 1;
        for s in &self.segments {
            if let Segment::Values(ranges) = s {
                let mut n: u64 = 0;
                for r in ranges {
                    n = n.checked_add(r.count()?)?;
                }
                total = total.checked_mul(n)?;
            }
        }
        Some(total)
    }

    /// An upper bound of the bytes of all its names (`None`: too many).
    pub fn max_bytes(&self) -> Option<u64> {
        let mut longest: u64 = 0;
        for s in &self.segments {
            let len = match s {
                Segment::Text(t) => t.len() as u64,
                Segment::Values(ranges) => ranges.iter().map(Range::max_len).max().unwrap_or(0),
            };
            longest = longest.checked_add(len)?;
        }
        self.count()?.checked_mul(longest)
    }

    /// Charges the pattern's size to `budget`, then expands it (cartesian
    /// product, left to right; values in the order written).
    pub fn expand(&self, budget: &mut Budget) -> Result<Vec<String>, NodeSetError> {
        let count = self.count();
        budget.charge(&self.text, count, self.max_bytes())?;
        // charged: the count fits the budget, hence usize
        let count = usize::try_from(count.unwrap_or(0)).unwrap_or(0);
        let mut names = Vec::with_capacity(count);
        self.expand_into(0, &mut String::new(), &mut names);
        Ok(names)
    }

    fn expand_into(&self, i: usize, prefix: &mut String, out: &mut Vec<String>) {
        let Some(seg) = self.segments.get(i) else {
            out.push(prefix.clone());
            return;
        };
        let len = prefix.len();
        match seg {
            Segment::Text(t) => {
                prefix.push_str(t);
                self.expand_into(i + 1, prefix, out);
            }
            Segment::Values(ranges) => {
                for r in ranges {
                    let mut v = r.lo;
                    loop {
                        use std::fmt::Write as _;
                        let _ = write!(prefix, "{v:0width$}", width = r.width);
                        self.expand_into(i + 1, prefix, out);
                        prefix.truncate(len);
                        match v.checked_add(r.step) {
                            Some(next) if next <= r.hi => v = next,
                            _ => break,
                        }
                    }
                }
            }
        }
        prefix.truncate(len);
    }
}

/// `01-03,7,10-14/2` → its ranges.
fn parse_body(body: &str, pattern: &str) -> Result<Vec<Range>, NodeSetError> {
    let mut out = Vec::new();
    for item in body.split(',') {
        let bad = |why| NodeSetError::BadRange {
            item: item.to_string(),
            pattern: pattern.to_string(),
            why,
        };
        const SHAPE: &str = "expected N, A-B or A-B/STEP with decimal numbers";
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                if !is_number(s) {
                    return Err(bad(SHAPE));
                }
                let step = s.parse::<u64>().map_err(|_| bad("the step is too large"))?;
                if step == 0 {
                    return Err(bad("the step must be at least 1"));
                }
                (r, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
        if !is_number(lo) || !is_number(hi) {
            return Err(bad(SHAPE));
        }
        let too_large = "numbers must be below 18446744073709551616";
        let a = lo.parse::<u64>().map_err(|_| bad(too_large))?;
        let b = hi.parse::<u64>().map_err(|_| bad(too_large))?;
        if a > b {
            return Err(NodeSetError::Reversed {
                item: item.to_string(),
                pattern: pattern.to_string(),
            });
        }
        out.push(Range {
            lo: a,
            hi: b,
            step,
            width: pad_width(lo),
        });
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

/// Expands one pattern with the default [`Budget`].
///
/// ```
/// use asyncjobs_ssh::targets::expand;
/// assert_eq!(expand("n[08-10/2]").unwrap(), ["n08", "n10"]);
/// assert!(expand("n[0-18446744073709551615]").is_err());
/// ```
pub fn expand(pattern: &str) -> Result<Vec<String>, NodeSetError> {
    Pattern::parse(pattern)?.expand(&mut Budget::default())
}

/// Splits on commas outside brackets (and on whitespace).
pub(crate) fn split_list(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth = depth.saturating_add(1),
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if (c == ',' && depth == 0) || c.is_whitespace() {
            if start < i {
                items.push(&text[start..i]);
            }
            start = i + c.len_utf8();
        }
    }
    if start < text.len() {
        items.push(&text[start..]);
    }
    items
}

/// A set of node names in the order first given, each once: parsed from a
/// list of patterns (`node[1-4],web[01-02] db`), folded back for display.
/// Exclusion costs time linear in the sizes of both sets.
///
/// ```
/// use asyncjobs_ssh::targets::NodeSet;
/// let all = NodeSet::parse("n[1-6/1],web").unwrap();
/// let rest = all.difference(&NodeSet::parse("n[2-5]").unwrap());
/// assert_eq!(rest.to_string(), "n[1,6],web");
/// assert_eq!(rest.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSet {
    names: Vec<String>,
}

impl NodeSet {
    /// Parses a list of patterns with the default [`Budget`].
    pub fn parse(text: &str) -> Result<NodeSet, NodeSetError> {
        NodeSet::parse_with(text, &mut Budget::default())
    }

    /// Parses a list of patterns, charging `budget`: every item's size is
    /// counted and charged before any is expanded.
    pub fn parse_with(text: &str, budget: &mut Budget) -> Result<NodeSet, NodeSetError> {
        let patterns = split_list(text)
            .into_iter()
            .map(Pattern::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let mut count: Option<u64> = Some(0);
        let mut bytes: Option<u64> = Some(0);
        for p in &patterns {
            count = count.zip(p.count()).and_then(|(a, b)| a.checked_add(b));
            bytes = bytes.zip(p.max_bytes()).and_then(|(a, b)| a.checked_add(b));
        }
        // refused before anything is allocated
        budget.clone().charge(text, count, bytes)?;
        let mut names = Vec::new();
        for p in &patterns {
            names.extend(p.expand(budget)?);
        }
        Ok(NodeSet::from_names(names))
    }

    /// The set of these names (duplicates dropped, first kept).
    pub fn from_names<I, S>(names: I) -> NodeSet
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut names: Vec<String> = names.into_iter().map(Into::into).collect();
        dedup_keep_order(&mut names);
        NodeSet { names }
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there is no name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The names, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// True when `name` is in the set (linear: for repeated look-ups, use
    /// [`NodeSet::difference`] or a `HashSet`).
    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The names of `self` that are not in `other`, in order (linear time).
    pub fn difference(&self, other: &NodeSet) -> NodeSet {
        let drop: HashSet<&str> = other.iter().collect();
        NodeSet {
            names: self
                .names
                .iter()
                .filter(|n| !drop.contains(n.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// The names of `self`, then those of `other` not already there.
    pub fn union(&self, other: &NodeSet) -> NodeSet {
        NodeSet::from_names(self.names.iter().chain(other.names.iter()).cloned())
    }

    /// The names, in order.
    pub fn into_names(self) -> Vec<String> {
        self.names
    }
}

impl fmt::Display for NodeSet {
    /// The folded form: `node[01-03],web`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fold(&self.names))
    }
}

/// Drops repeated names, keeping the first of each, in linear time.
fn dedup_keep_order(names: &mut Vec<String>) {
    let keep: Vec<bool> = {
        let mut seen: HashSet<&str> = HashSet::with_capacity(names.len());
        names.iter().map(|n| seen.insert(n.as_str())).collect()
    };
    let mut flags = keep.into_iter();
    names.retain(|_| flags.next().unwrap_or(false));
}

/// Folds names into the shortest node-set text, e.g. `node01, node02, node03,
/// web` → `node[01-03],web`. Names that differ in one number are merged,
/// starting from the last number (so `10.0.0.1:22, 10.0.0.2:22` gives
/// `10.0.0.[1-2]:22`); duplicates are dropped; groups come out sorted.
/// Near-linear in the number of names.
///
/// ```
/// use asyncjobs_ssh::targets::fold;
/// assert_eq!(fold(&["n2", "n1", "n3", "web"]), "n[1-3],web");
/// ```
pub fn fold<S: AsRef<str>>(names: &[S]) -> String {
    let mut patterns: Vec<Vec<Token>> = Vec::new();
    let mut seen = HashSet::new();
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
    // A name that already holds node-set syntax (`[::1]:22`, a bracketed
    // IPv6 address) is kept whole: folding inside it would read ambiguously.
    if name.contains(['[', ']', ',']) {
        return vec![Token::Text(name.to_owned())];
    }
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
    let mut merged: Vec<usize> = Vec::new();
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
                    key.push('\u{1}');
                    key.push_str(&render_token(t));
                    key.push('\u{1}');
                }
            }
        }
        match index.get(&key) {
            Some(&i) => {
                if let (Some(Token::Num(into)), Some(Token::Num(from))) =
                    (out.get_mut(i).and_then(|o| o.get_mut(pos)), p.get(pos))
                {
                    into.extend(from.iter().cloned());
                    merged.push(i);
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(p);
            }
        }
    }
    // sorted once per merged pattern, not once per name
    merged.sort_unstable();
    merged.dedup();
    for i in merged {
        if let Some(Token::Num(v)) = out.get_mut(i).and_then(|o| o.get_mut(pos)) {
            v.sort_by(|a, b| num(a).cmp(&num(b)).then(a.cmp(b)));
            v.dedup();
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
            Token::Num(v) => format!("{:020}", v.first().map_or(0, |s| num(s))),
        })
        .collect()
}

fn render_token(t: &Token) -> String {
    match t {
        Token::Text(s) => s.clone(),
        Token::Num(v) if v.len() == 1 => v.concat(),
        Token::Num(v) => format!("[{}]", ranges(v)),
    }
}

/// `["01","02","03","07"]` → `01-03,07`: runs of consecutive values that keep
/// the padding of their first element.
fn ranges(values: &[String]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(start) = values.get(i) {
        let width = pad_width(start);
        let mut j = i;
        while let (Some(cur), Some(next)) = (values.get(j), values.get(j + 1)) {
            let (c, n) = (num(cur), num(next));
            if c.checked_add(1) != Some(n) || format!("{n:0width$}") != *next {
                break;
            }
            j += 1;
        }
        match values.get(j) {
            Some(end) if j > i => parts.push(format!("{start}-{end}")),
            _ => parts.push(start.clone()),
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
        assert_eq!(ex("n[1-9/2]"), ["n1", "n3", "n5", "n7", "n9"]);
        assert_eq!(ex("n[1-8/3]"), ["n1", "n4", "n7"]);
        assert_eq!(
            ex("n[18446744073709551610-18446744073709551615/4]"),
            ["n18446744073709551610", "n18446744073709551614"]
        );
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
        let e = expand("n[1-3/0]").unwrap_err().to_string();
        assert!(e.contains("step must be at least 1"), "{e}");
        assert!(matches!(expand("n[]"), Err(NodeSetError::BadRange { .. })));
        let e = expand("n[1-99999999999999999999]").unwrap_err().to_string();
        assert!(e.contains("below 18446744073709551616"), "{e}");
        let e = expand("n[\x1b]").unwrap_err().to_string();
        assert!(e.contains("\\x1b") && !e.contains('\x1b'), "{e}");
    }

    #[test]
    fn huge_expansions_are_refused_before_allocating() {
        for p in [
            "n[1-99999999]",
            "a[1-1000]b[1-1000]c[1-2]",
            "n[0-18446744073709551615]",
            "a[0-18446744073709551615]b[0-18446744073709551615]",
        ] {
            let e = expand(p).unwrap_err();
            assert!(matches!(e, NodeSetError::TooLarge { .. }), "{p}: {e}");
            assert!(e.to_string().contains("more than the limit"), "{e}");
        }
        let e = expand("n[0-18446744073709551615]").unwrap_err().to_string();
        assert!(
            e.contains("expands to more than 18446744073709551615 names"),
            "{e}"
        );
        // bytes count too: 1000 names of 100 KB each
        let long = format!("{}[1-1000]", "x".repeat(100_000));
        assert!(matches!(expand(&long), Err(NodeSetError::TooLarge { .. })));
    }

    #[test]
    fn the_budget_is_shared_and_checked_before_any_item_expands() {
        let mut b = Budget::new(10, 1 << 20);
        assert_eq!(NodeSet::parse_with("n[1-6]", &mut b).unwrap().len(), 6);
        assert_eq!(b.names_used(), 6);
        let e = NodeSet::parse_with("m[1-3],k[1-3]", &mut b).unwrap_err();
        assert!(e.to_string().contains("for the whole command line"), "{e}");
        assert_eq!(b.names_used(), 6, "nothing charged by a refused list");
        assert!(NodeSet::parse("n[1-999999],m[1-999999]").is_err());
    }

    #[test]
    fn node_sets_keep_order_drop_duplicates_and_subtract_linearly() {
        let s = NodeSet::parse("n[3-1/1]");
        assert!(s.is_err());
        let s = NodeSet::parse("n[1-3],web n2 a").unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), ["n1", "n2", "n3", "web", "a"]);
        assert!(s.contains("web") && !s.contains("n4"));
        let d = s.difference(&NodeSet::parse("n2,a,zzz").unwrap());
        assert_eq!(d.iter().collect::<Vec<_>>(), ["n1", "n3", "web"]);
        assert_eq!(d.to_string(), "n[1,3],web");
        let u = d.union(&NodeSet::parse("n[3-4]").unwrap());
        assert_eq!(u.into_names(), ["n1", "n3", "web", "n4"]);
        let big = NodeSet::parse("n[1-200000]").unwrap();
        assert!(big.difference(&big).is_empty());
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
    fn names_with_brackets_are_kept_whole() {
        assert_eq!(
            fold(&["[::1]:36717", "[::1]:32775"]),
            "[::1]:32775,[::1]:36717"
        );
    }

    #[test]
    fn fold_of_nothing_is_empty() {
        assert_eq!(fold::<&str>(&[]), "");
    }

    #[test]
    fn fold_of_many_names_is_one_range() {
        let names = ex("n[1-100000]");
        assert_eq!(fold(&names), "n[1-100000]");
    }
}
