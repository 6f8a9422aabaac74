//! File name globbing for `Include`, as glob(3) does it for OpenSSH: `*`,
//! `?` and `[...]` classes (`!`/`^` negated, ranges) in any path component,
//! `\` escaping the next character, names starting with `.` matched only by
//! a pattern starting with `.`, results sorted. A pattern without wildcards
//! gives the path if it exists. Bounded: at most `max` results.

use std::path::{Path, PathBuf};

/// Most directory entries looked at in one directory.
const MAX_DIR_ENTRIES: usize = 100_000;

/// One element of a compiled component pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Any,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(u8, u8)>,
    },
}

fn compile(p: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'*' => out.push(Tok::Star),
            b'?' => out.push(Tok::Any),
            b'\\' if i + 1 < p.len() => {
                i += 1;
                out.push(Tok::Lit(p[i]));
            }
            b'[' => match class(&p[i + 1..]) {
                Some((tok, used)) => {
                    out.push(tok);
                    i += used;
                }
                None => out.push(Tok::Lit(b'[')),
            },
            c => out.push(Tok::Lit(c)),
        }
        i += 1;
    }
    out
}

/// A `[...]` class after its `[`: the token and the bytes used (through `]`).
fn class(p: &[u8]) -> Option<(Tok, usize)> {
    let mut i = 0;
    let negated = matches!(p.first(), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *p.get(i)?;
        if c == b']' && !first {
            return Some((Tok::Class { negated, ranges }, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|&e| e != b']') {
            ranges.push((c, p[i + 2]));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
}

fn one(t: &Tok, c: u8) -> bool {
    match t {
        Tok::Lit(l) => *l == c,
        Tok::Any => true,
        Tok::Star => false,
        Tok::Class { negated, ranges } => ranges.iter().any(|&(a, b)| a <= c && c <= b) != *negated,
    }
}

/// Whether a file name matches a compiled component (two-pointer, no backtracking blow-up).
fn matches(toks: &[Tok], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && toks.first() != Some(&Tok::Lit(b'.')) {
        return false;
    }
    let (mut ti, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < name.len() {
        match toks.get(ti) {
            Some(Tok::Star) => {
                star = Some((ti, ni));
                ti += 1;
            }
            Some(t) if one(t, name[ni]) => {
                ti += 1;
                ni += 1;
            }
            _ => match star {
                Some((st, sn)) => {
                    ti = st + 1;
                    ni = sn + 1;
                    star = Some((st, sn + 1));
                }
                None => return false,
            },
        }
    }
    toks[ti.min(toks.len())..].iter().all(|t| *t == Tok::Star)
}

fn has_magic(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The paths matching `pattern` (an absolute path), sorted; an error when
/// there are more than `max` or a directory cannot be read.
pub(crate) fn glob(pattern: &str, max: usize) -> Result<Vec<PathBuf>, String> {
    let absolute = pattern.starts_with('/');
    let mut paths = vec![PathBuf::from(if absolute { "/" } else { "." })];
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    if !components.iter().any(|c| has_magic(c)) {
        let p = PathBuf::from(unescape(pattern));
        return Ok(if p.symlink_metadata().is_ok() {
            vec![p]
        } else {
            Vec::new()
        });
    }
    for (n, comp) in components.iter().enumerate() {
        let last = n + 1 == components.len();
        let mut next = Vec::new();
        for dir in &paths {
            if !has_magic(comp) {
                let p = dir.join(unescape(comp));
                if p.symlink_metadata().is_ok() {
                    next.push(p);
                }
                continue;
            }
            let toks = compile(comp.as_bytes());
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue; // not a directory, or unreadable: no match there (glob(3))
            };
            let mut found = Vec::new();
            for (seen, entry) in entries.enumerate() {
                if seen >= MAX_DIR_ENTRIES {
                    return Err(format!(
                        "{}: more than {MAX_DIR_ENTRIES} entries",
                        dir.display()
                    ));
                }
                let Ok(entry) = entry else { continue };
                let name = entry.file_name();
                if matches(&toks, name.as_encoded_bytes()) {
                    let p = dir.join(&name);
                    if last || p.is_dir() {
                        found.push(p);
                    }
                }
            }
            found.sort();
            next.extend(found);
            if next.len() > max {
                return Err(format!("`{pattern}` matches more than {max} files"));
            }
        }
        paths = next;
        if paths.is_empty() {
            break;
        }
    }
    let strip_dot = |p: PathBuf| -> PathBuf {
        if absolute {
            p
        } else {
            p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p)
        }
    };
    Ok(paths.into_iter().map(strip_dot).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, name: &str) -> bool {
        matches(&compile(p.as_bytes()), name.as_bytes())
    }

    #[test]
    fn component_patterns_match_as_glob_does() {
        assert!(m("*.conf", "a.conf"));
        assert!(!m("*.conf", ".hidden.conf"));
        assert!(m(".*", ".hidden"));
        assert!(m("h?st[0-9]", "host7"));
        assert!(!m("h?st[!0-9]", "host7"));
        assert!(m("[]a]", "]"));
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(m("[", "["));
    }

    #[test]
    fn globs_list_sorted_files_and_are_bounded() {
        let d = tempfile::tempdir().unwrap();
        for n in ["b.conf", "a.conf", ".x.conf", "c.txt"] {
            std::fs::write(d.path().join(n), "").unwrap();
        }
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/z.conf"), "").unwrap();
        let base = d.path().display().to_string();
        let got = glob(&format!("{base}/*.conf"), 10).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.conf", "b.conf"]);
        assert_eq!(glob(&format!("{base}/*/z.conf"), 10).unwrap().len(), 1);
        assert_eq!(glob(&format!("{base}/c.txt"), 10).unwrap().len(), 1);
        assert!(glob(&format!("{base}/missing"), 10).unwrap().is_empty());
        assert!(glob(&format!("{base}/*"), 2)
            .unwrap_err()
            .contains("more than 2"));
    }
}
