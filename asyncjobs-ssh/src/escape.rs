//! Remote-controlled text made safe for a terminal.
//!
//! A server is untrusted input: a file name, an exit-signal name, a line of
//! stderr quoted in one of *our* messages must not move the cursor, change
//! the title, ring the bell or hide text from the user. [`escape_control`] is
//! for such messages (one line, no control character survives);
//! [`escape_invalid_utf8`] is for the remote commands' own output, which is
//! passed through as the command wrote it (colours included, as `ssh` does)
//! except for bytes that are not UTF-8, shown as `\xNN` instead of being
//! silently replaced by U+FFFD. [`escape_bytes`] does both, for remote bytes
//! quoted in a message.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw inside one of our messages:
/// C0 controls (newlines included: a message is one line), DEL, C1 controls,
/// and the bidirectional overrides and isolates that reorder what is shown
/// ("trojan source").
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` with every control character (and bidi override) written as an
/// escape: `\n`, `\r`, `\t`, `\x1b`, `\u{202e}`. Borrowed when nothing needed
/// escaping. For remote-controlled strings inside our own messages.
///
/// ```
/// use asyncjobs_ssh::escape::escape_control;
/// assert_eq!(escape_control("TERM"), "TERM");
/// assert_eq!(escape_control("KILL\x1b]0;pwned\x07"), "KILL\\x1b]0;pwned\\x07");
/// ```
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `bytes` as text: valid UTF-8 unchanged (control characters included),
/// each byte of an invalid sequence written `\xNN`. Borrowed when `bytes` is
/// valid UTF-8. For the output of remote commands.
///
/// ```
/// use asyncjobs_ssh::escape::escape_invalid_utf8;
/// assert_eq!(escape_invalid_utf8(b"caf\xc3\xa9"), "café");
/// assert_eq!(escape_invalid_utf8(b"a\xffb"), "a\\xffb");
/// ```
pub fn escape_invalid_utf8(bytes: &[u8]) -> Cow<'_, str> {
    decode(bytes, false)
}

/// `bytes` as one safe line of text: invalid UTF-8 as `\xNN`, and control
/// characters escaped as [`escape_control`] does. For remote bytes quoted in
/// our own messages (a stderr tail, a file name).
///
/// ```
/// use asyncjobs_ssh::escape::escape_bytes;
/// assert_eq!(escape_bytes(b"no such file\x1b[2J\xfe"), "no such file\\x1b[2J\\xfe");
/// ```
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    decode(bytes, true)
}

fn decode(bytes: &[u8], controls: bool) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return if controls {
            escape_control(s)
        } else {
            Cow::Borrowed(s)
        };
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        if controls {
            out.push_str(&escape_control(chunk.valid()));
        } else {
            out.push_str(chunk.valid());
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// `name` (a host name: user-given or remote-controlled) as one file name
/// that stays inside the directory it is joined to: never empty, `.` or
/// `..`, no `/`, no NUL or other control character. Those (and `%`) are
/// written `%XX` (each byte of their UTF-8), the empty name `%`. Other
/// names are unchanged, and different names give different file names.
/// For the per-host files of `-d`, `-m` and `--pull --into`.
///
/// ```
/// use asyncjobs_ssh::escape::escape_file_name;
/// assert_eq!(escape_file_name("web-01:2222"), "web-01:2222");
/// assert_eq!(escape_file_name(".."), "%2E%2E");
/// assert_eq!(escape_file_name("a/../b"), "a%2F..%2Fb");
/// assert_eq!(escape_file_name(""), "%");
/// ```
pub fn escape_file_name(name: &str) -> Cow<'_, str> {
    let special = |c: char| c == '/' || c == '%' || c.is_control();
    match name {
        "" => return Cow::Borrowed("%"),
        "." => return Cow::Borrowed("%2E"),
        ".." => return Cow::Borrowed("%2E%2E"),
        _ => {}
    }
    if !name.chars().any(special) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if special(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(escape_control("web-01: exit 3"), Cow::Borrowed(_)));
        assert!(matches!(
            escape_invalid_utf8(b"ok\x1b[1m"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            escape_bytes("ünïcode ok".as_bytes()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn every_c0_c1_and_del_is_escaped() {
        for c in (0u32..0x20).chain(0x7f..0xa0) {
            let c = char::from_u32(c).unwrap();
            let s = c.to_string();
            let e = escape_control(&s);
            assert!(e.starts_with('\\'), "{c:?} -> {e:?}");
            assert!(!e.chars().any(char::is_control), "{c:?} -> {e:?}");
        }
    }

    #[test]
    fn bidi_overrides_are_escaped() {
        assert_eq!(escape_control("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape_control("\u{2066}x"), "\\u{2066}x");
    }

    #[test]
    fn invalid_utf8_bytes_are_shown_not_replaced() {
        assert_eq!(escape_invalid_utf8(b"\xff\xfe"), "\\xff\\xfe");
        // a truncated sequence at the end
        assert_eq!(escape_invalid_utf8(b"ok\xc3"), "ok\\xc3");
        // controls are kept in output lines, escaped in messages
        assert_eq!(escape_invalid_utf8(b"\x1b[31m\xff"), "\x1b[31m\\xff");
        assert_eq!(escape_bytes(b"\x1b[31m\xff"), "\\x1b[31m\\xff");
    }

    #[test]
    fn file_names_stay_in_their_directory_and_do_not_collide() {
        let names = [
            "",
            ".",
            "..",
            "/",
            "a/b",
            "../x",
            "%",
            "%2E",
            "%2E%2E",
            "a\0b",
            "a\nb",
            "\x1b[2J",
            "h:22",
            "u@h",
            "[::1]:2222",
            "fe80::1%eth0",
            "...",
            ".h",
        ];
        let mut seen = std::collections::HashSet::new();
        for n in names {
            let f = escape_file_name(n).into_owned();
            assert!(!f.is_empty() && f != "." && f != "..", "{n:?} -> {f:?}");
            assert!(
                !f.contains('/') && !f.chars().any(char::is_control),
                "{n:?} -> {f:?}"
            );
            let p = std::path::Path::new("/d").join(&f);
            assert_eq!(
                p.parent(),
                Some(std::path::Path::new("/d")),
                "{n:?} -> {f:?}"
            );
            assert!(seen.insert(f.clone()), "{n:?} collides as {f:?}");
        }
        assert_eq!(escape_file_name("..."), "...");
    }

    #[test]
    fn newlines_tabs_and_returns_have_short_escapes() {
        assert_eq!(escape_control("a\nb\rc\td"), "a\\nb\\rc\\td");
    }
}
