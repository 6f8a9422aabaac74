//! POSIX shell quoting of words, so that arguments reach the remote program unchanged.

/// Quotes `word` for a POSIX shell: left as is when it only holds safe
/// characters, otherwise wrapped in single quotes (`'` becomes `'\''`).
///
/// ```
/// use asyncjobs_ssh::shell_quote;
/// assert_eq!(shell_quote("plain-word_1.txt"), "plain-word_1.txt");
/// assert_eq!(shell_quote("two words"), "'two words'");
/// assert_eq!(shell_quote("it's"), "'it'\\''s'");
/// assert_eq!(shell_quote(""), "''");
/// ```
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quotes each word and joins them with spaces.
#[cfg(test)]
pub(crate) fn join_quoted<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_survive_a_real_shell() {
        let words = ["a b", "it's", "$HOME", "*", "back\\slash", "new\nline", ""];
        let line = format!("printf '%s|' {}", join_quoted(&words));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .output()
            .unwrap();
        let expected: String = words.iter().map(|w| format!("{w}|")).collect();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    }
}
