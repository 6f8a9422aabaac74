//! Text for double-quoted dot strings. dot-writer writes values verbatim
//! between quotes, so everything that dot would read as syntax or as an escape
//! sequence is escaped here first.

/// Escapes `text` for use inside a double-quoted dot string (without the quotes).
///
/// `"` and `\` are backslash-escaped (so `\N`, `\G`… stay literal text),
/// line breaks become dot's `\n`, a tab becomes four spaces (graphviz draws no
/// tab stops) and other control characters are shown as `\u{..}` text, since
/// they are not allowed in the SVG that graphviz writes. Any other character,
/// non-ASCII included, is kept as is: dot files are UTF-8.
///
/// ```
/// use asyncjobs_graph::escape;
/// assert_eq!(escape("say \"hi\"\\n"), r#"say \"hi\"\\n"#);
/// assert_eq!(escape("two\nlines"), r"two\nlines");
/// assert_eq!(escape("café ☕"), "café ☕");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                // "\r\n" is one line break; a lone "\r" is one too
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push_str("    "),
            c if c.is_control() => out.push_str(&format!("\\\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Shortens `text` to at most `max` characters, marking the cut with `…`.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(escape(r#"a "b" \c\"#), r#"a \"b\" \\c\\"#);
    }

    #[test]
    fn line_breaks_become_dot_newlines() {
        assert_eq!(escape("a\nb\r\nc\rd"), r"a\nb\nc\nd");
    }

    #[test]
    fn tabs_and_control_characters_are_made_visible() {
        assert_eq!(escape("a\tb\u{7}"), r"a    b\\u{7}");
    }

    #[test]
    fn non_ascii_text_is_kept() {
        assert_eq!(escape("ĉu vi? 日本 🦀"), "ĉu vi? 日本 🦀");
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("ééééé", 5), "ééééé");
        assert_eq!(truncate("éééééé", 5), "éééé…");
    }
}
