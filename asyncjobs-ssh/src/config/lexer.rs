//! Splitting a config line the way OpenSSH's `readconf.c` does: the keyword
//! (`strdelim`: whitespace, one `=`, double quotes), then the arguments
//! (`argv_split`: whitespace, single and double quotes, `\` escapes, a `#`
//! that starts a word ends the line), and the raw rest of the line for the
//! keywords that take a whole command (`ProxyCommand`).

/// Whitespace as `readconf.c` counts it.
const WHITESPACE: &[char] = &[' ', '\t', '\r', '\n'];

/// One meaningful line: its keyword (lower-cased) and what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// The keyword, lower-cased.
    pub keyword: String,
    /// The keyword as written.
    pub written: String,
    /// The text after the keyword and its separator (whitespace and `=`).
    pub rest: &'a str,
    /// The arguments, as `argv_split` gives them.
    pub args: Vec<String>,
}

/// What is wrong with a line.
pub(crate) type LineError = String;

/// Splits a line; `Ok(None)` for blank lines and comments.
pub(crate) fn split(line: &str) -> Result<Option<Line<'_>>, LineError> {
    // a NUL ends the line, as in C; trailing whitespace (and \f) is dropped
    let line = line.split('\0').next().unwrap_or("");
    let line = line.trim_end_matches([' ', '\t', '\r', '\n', '\x0c']);
    let mut cursor = Some(line);
    let Some(mut keyword) = strdelim(&mut cursor, true) else {
        // an unbalanced quote in the keyword: OpenSSH skips the line
        return Ok(None);
    };
    if keyword.is_empty() {
        // the line started with whitespace
        match strdelim(&mut cursor, true) {
            Some(k) => keyword = k,
            None => return Ok(None),
        }
    }
    if keyword.is_empty() || keyword.starts_with('#') {
        return Ok(None);
    }
    let written = keyword;
    let keyword = written.to_ascii_lowercase();
    let rest = cursor.unwrap_or("").trim_start_matches(WHITESPACE);
    if rest.is_empty() {
        return Err(format!("no argument after keyword \"{keyword}\""));
    }
    let args = argv_split(rest).ok_or_else(|| "invalid quotes".to_string())?;
    Ok(Some(Line {
        keyword,
        written,
        rest,
        args,
    }))
}

/// OpenSSH's `strdelim`: the next word of `*s`, split on whitespace, double
/// quotes and (with `split_equals`) one `=`. `None` for an unbalanced quote
/// or when `*s` is exhausted; `*s` becomes `None` at the end of the text.
pub(crate) fn strdelim(s: &mut Option<&str>, split_equals: bool) -> Option<String> {
    let old = (*s)?;
    let stop =
        old.find(|c: char| WHITESPACE.contains(&c) || c == '"' || (split_equals && c == '='));
    let Some(pos) = stop else {
        *s = None;
        return Some(old.to_string());
    };
    let after = &old[pos + 1..];
    if old[pos..].starts_with('"') {
        // the quote is removed; the word ends at the next quote
        let Some(close) = after.find('"') else {
            *s = None;
            return None;
        };
        let word = format!("{}{}", &old[..pos], &after[..close]);
        *s = Some(after[close + 1..].trim_start_matches(WHITESPACE));
        return Some(word);
    }
    let was_equals = split_equals && old[pos..].starts_with('=');
    let mut rest = after.trim_start_matches(WHITESPACE);
    if split_equals && !was_equals {
        if let Some(r) = rest.strip_prefix('=') {
            rest = r.trim_start_matches(WHITESPACE);
        }
    }
    *s = Some(rest);
    Some(old[..pos].to_string())
}

/// OpenSSH's `argv_split` with `terminate_on_comment`: `None` for an
/// unterminated quote.
pub(crate) fn argv_split(s: &str) -> Option<Vec<String>> {
    let b = s.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        if b[i] == b'#' {
            break;
        }
        let mut arg: Vec<u8> = Vec::new();
        let mut quote: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            if c == b'\\' {
                match b.get(i + 1) {
                    Some(&n)
                        if n == b'\''
                            || n == b'"'
                            || n == b'\\'
                            || (quote.is_none() && n == b' ') =>
                    {
                        arg.push(n);
                        i += 2;
                        continue;
                    }
                    _ => arg.push(c),
                }
            } else if quote.is_none() && (c == b' ' || c == b'\t') {
                break;
            } else if quote.is_none() && (c == b'"' || c == b'\'') {
                quote = Some(c);
            } else if quote == Some(c) {
                quote = None;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if quote.is_some() {
            return None;
        }
        // only ASCII bytes were removed, so the bytes are still UTF-8
        args.push(String::from_utf8_lossy(&arg).into_owned());
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> (String, String, Vec<String>) {
        let l = split(line).unwrap().unwrap();
        (l.keyword, l.rest.to_string(), l.args)
    }

    #[test]
    fn keyword_and_arguments_are_split_as_openssh_does() {
        assert_eq!(
            parts("  HostName   example.org  "),
            (
                "hostname".into(),
                "example.org".into(),
                vec!["example.org".into()]
            )
        );
        assert_eq!(parts("Port=22").2, ["22"]);
        assert_eq!(parts("Port = 22").2, ["22"]);
        assert_eq!(parts("Port =22").2, ["22"]);
        assert_eq!(parts("Port==22").2, ["=22"]);
        assert_eq!(parts("\"User\" bob").0, "user");
        assert_eq!(parts("Host a b # c d").2, ["a", "b"]);
        assert_eq!(parts("Host a#b").2, ["a#b"]);
        assert_eq!(
            parts(r#"IdentityFile "~/my keys/id" 'x y' a\ b \q"#).2,
            ["~/my keys/id", "x y", "a b", "\\q"]
        );
        assert_eq!(
            parts("ProxyCommand ssh -W %h:%p gw # not a comment here").1,
            "ssh -W %h:%p gw # not a comment here"
        );
    }

    #[test]
    fn blank_lines_comments_and_errors() {
        assert_eq!(split("").unwrap(), None);
        assert_eq!(split("   \t ").unwrap(), None);
        assert_eq!(split("# Host x").unwrap(), None);
        assert_eq!(split("  #Host x").unwrap(), None);
        assert!(split("Port").unwrap_err().contains("no argument"));
        assert!(split("Port   ").unwrap_err().contains("no argument"));
        assert_eq!(split("User \"bob").unwrap_err(), "invalid quotes");
    }

    #[test]
    fn strdelim_splits_match_criteria() {
        let mut s = Some("host=a,b exec \"test -f x\"  user bob");
        let mut words = Vec::new();
        while let Some(w) = strdelim(&mut s, true) {
            if w.is_empty() {
                break;
            }
            words.push(w);
        }
        assert_eq!(words, ["host", "a,b", "exec", "test -f x", "user", "bob"]);
    }
}
