//! Host key verification against known_hosts files, parsed once and cached.
//!
//! `russh`'s own `check_known_hosts_path` re-reads the file for every host,
//! which is quadratic over a fan-out; here each file is parsed once per
//! process into a map (plain names), a list of hashed entries (`|1|salt|hash`,
//! HMAC-SHA1) and a list of wildcard lines, and re-parsed only when its size
//! or modification time changes behind our back. Keys are compared as their
//! base64 blobs, so nothing but the matching line is ever decoded.
//!
//! A file is read up to [`MAX_FILE_BYTES`]; parsing and lookups are linear
//! in its size.
//!
//! Host names are compared as OpenSSH compares them: the name looked up is
//! lower-cased first (plain entries match whatever their case, hashed ones
//! are computed over the lower-cased name), and names are recorded in lower
//! case.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// What to do with a host key that is not in known_hosts.
///
/// A key that differs from the recorded one is refused under every policy
/// but [`AcceptAny`](HostKeyPolicy::AcceptAny).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Unknown hosts are refused with an error that says how to accept them (default).
    #[default]
    Strict,
    /// Unknown hosts are accepted and their key appended to the user's
    /// known_hosts file (OpenSSH's `StrictHostKeyChecking accept-new`).
    AcceptNew,
    /// No verification at all: any key is accepted, nothing is read or written.
    /// Insecure (man-in-the-middle); for throwaway test machines only.
    AcceptAny,
}

/// The known_hosts files OpenSSH reads by default: `~/.ssh/known_hosts` then
/// `/etc/ssh/ssh_known_hosts`. The first one is where accept-new writes.
pub fn default_known_hosts_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        v.push(Path::new(&home).join(".ssh").join("known_hosts"));
    }
    v.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
    v
}

/// The name a host has in known_hosts: `host` on port 22, else `[host]:port`.
pub fn known_hosts_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The outcome of a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Known,
    Unknown,
    /// The host has entries, none with this key: first the one with the same key type if any.
    Changed {
        file: PathBuf,
        line: usize,
    },
    Revoked {
        file: PathBuf,
        line: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

#[derive(Debug)]
struct Entry {
    line: usize,
    marker: Marker,
    key_type: String,
    key_b64: String,
}

/// One parsed known_hosts file.
#[derive(Debug, Default)]
struct Parsed {
    entries: Vec<Entry>,
    /// Plain host names → entry indices.
    plain: HashMap<String, Vec<usize>>,
    /// (salt, hash, entry) of hashed names.
    hashed: Vec<(Vec<u8>, Vec<u8>, usize)>,
    /// Pattern lists with wildcards or negations → entry.
    patterned: Vec<(Vec<String>, usize)>,
    /// Number of lines, so the next appended line's number is known.
    lines: usize,
    /// Whether the text ends without a newline (an append must add one first).
    unterminated: bool,
}

impl Parsed {
    fn parse(text: &str) -> Parsed {
        let mut p = Parsed::default();
        for (i, raw) in text.lines().enumerate() {
            p.add_line(raw, i + 1);
        }
        p.lines = text.lines().count();
        p.unterminated = !text.is_empty() && !text.ends_with('\n');
        p
    }

    fn add_line(&mut self, raw: &str, line: usize) {
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            return;
        }
        let mut words = text.split_whitespace();
        let mut first = words.next();
        let marker = match first {
            Some("@revoked") => Marker::Revoked,
            Some("@cert-authority") => Marker::CertAuthority,
            _ => Marker::None,
        };
        if marker != Marker::None {
            first = words.next();
        }
        let (Some(hosts), Some(key_type), Some(key_b64)) = (first, words.next(), words.next())
        else {
            return; // malformed line: ignored, as OpenSSH does
        };
        let idx = self.entries.len();
        self.entries.push(Entry {
            line,
            marker,
            key_type: key_type.into(),
            key_b64: key_b64.into(),
        });
        if let Some(rest) = hosts.strip_prefix("|1|") {
            let mut parts = rest.split('|');
            let decode =
                |s: Option<&str>| s.and_then(|s| data_encoding::BASE64.decode(s.as_bytes()).ok());
            if let (Some(salt), Some(hash)) = (decode(parts.next()), decode(parts.next())) {
                self.hashed.push((salt, hash, idx));
            }
            return;
        }
        if hosts.contains(['*', '?', '!']) {
            self.patterned
                .push((hosts.split(',').map(str::to_string).collect(), idx));
        } else {
            for h in hosts.split(',') {
                self.plain
                    .entry(h.to_ascii_lowercase())
                    .or_default()
                    .push(idx);
            }
        }
    }

    /// Entries whose host part matches `name` (compared in lower case).
    fn matching(&self, name: &str) -> Vec<&Entry> {
        let name = name.to_ascii_lowercase();
        let name = name.as_str();
        let mut out: Vec<usize> = self.plain.get(name).cloned().unwrap_or_default();
        for (salt, hash, idx) in &self.hashed {
            if let Ok(mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(salt) {
                if mac.chain_update(name.as_bytes()).verify_slice(hash).is_ok() {
                    out.push(*idx);
                }
            }
        }
        for (patterns, idx) in &self.patterned {
            if pattern_list_matches(patterns, name) {
                out.push(*idx);
            }
        }
        out.sort_unstable();
        out.dedup();
        out.into_iter().map(|i| &self.entries[i]).collect()
    }
}

/// OpenSSH semantics: some positive pattern matches and no negated one does.
fn pattern_list_matches(patterns: &[String], name: &str) -> bool {
    let mut positive = false;
    for p in patterns {
        if let Some(neg) = p.strip_prefix('!') {
            if glob(neg.as_bytes(), name.as_bytes()) {
                return false;
            }
        } else if glob(p.as_bytes(), name.as_bytes()) {
            positive = true;
        }
    }
    positive
}

/// `*` and `?` wildcards, case-insensitive as host names are.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&s[si])) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// A cached file: its content and the (mtime, size) it was parsed at.
struct Cached {
    stamp: Option<(SystemTime, u64)>,
    parsed: Arc<RwLock<Parsed>>,
}

fn cache() -> &'static Mutex<HashMap<PathBuf, Cached>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Cached>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let md = std::fs::metadata(path).ok()?;
    Some((md.modified().ok()?, md.len()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Most bytes read from one known_hosts file (about 150,000 RSA host keys):
/// a larger file, or an endless one such as `/dev/zero`, is an error rather
/// than memory exhausted.
pub(crate) const MAX_FILE_BYTES: u64 = 64 << 20;

/// The parsed file, from the cache unless it changed on disk. A missing file
/// is empty; one larger than [`MAX_FILE_BYTES`] is an error naming it.
fn parsed(path: &Path) -> io::Result<Arc<RwLock<Parsed>>> {
    let now = stamp(path);
    if let Some(c) = lock(cache()).get(path) {
        if c.stamp == now {
            return Ok(Arc::clone(&c.parsed));
        }
    }
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let parsed = match std::fs::File::open(path) {
        Ok(f) => {
            let mut bytes = Vec::new();
            f.take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(named)?;
            if bytes.len() as u64 > MAX_FILE_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: larger than {} MiB (not a known_hosts file?)",
                        path.display(),
                        MAX_FILE_BYTES >> 20
                    ),
                ));
            }
            Parsed::parse(&String::from_utf8_lossy(&bytes))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Parsed::default(),
        Err(e) => return Err(named(e)),
    };
    let parsed = Arc::new(RwLock::new(parsed));
    lock(cache()).insert(
        path.to_path_buf(),
        Cached {
            stamp: now,
            parsed: Arc::clone(&parsed),
        },
    );
    Ok(parsed)
}

/// Checks a host's key (`key_b64`: the base64 blob, `key_type`: e.g. `ssh-ed25519`)
/// against `files`, in order. Unreadable files (other than missing) are errors.
pub(crate) fn check(
    files: &[PathBuf],
    name: &str,
    key_type: &str,
    key_b64: &str,
) -> io::Result<Verdict> {
    let mut known = false;
    let mut changed: Option<(PathBuf, usize, bool)> = None;
    for path in files {
        let parsed = parsed(path)?;
        let parsed = parsed.read().unwrap_or_else(|e| e.into_inner());
        for e in parsed.matching(name) {
            match e.marker {
                Marker::Revoked if e.key_b64 == key_b64 => {
                    return Ok(Verdict::Revoked {
                        file: path.clone(),
                        line: e.line,
                    });
                }
                Marker::Revoked | Marker::CertAuthority => {}
                Marker::None if e.key_b64 == key_b64 => known = true,
                Marker::None => {
                    let same_type = e.key_type == key_type;
                    if changed.as_ref().is_none_or(|c| !c.2 && same_type) {
                        changed = Some((path.clone(), e.line, same_type));
                    }
                }
            }
        }
    }
    Ok(match (known, changed) {
        (true, _) => Verdict::Known,
        (false, Some((file, line, _))) => Verdict::Changed { file, line },
        (false, None) => Verdict::Unknown,
    })
}

/// Key types recorded for `name` (plain entries only), so the client can ask the
/// server for a key it can verify, as OpenSSH does.
pub(crate) fn known_key_types(files: &[PathBuf], name: &str) -> Vec<String> {
    let mut types = Vec::new();
    for path in files {
        let Ok(parsed) = parsed(path) else { continue };
        let parsed = parsed.read().unwrap_or_else(|e| e.into_inner());
        for e in parsed.matching(name) {
            if e.marker == Marker::None && !types.contains(&e.key_type) {
                types.push(e.key_type.clone());
            }
        }
    }
    types
}

/// `|1|salt|hash` for `name` (OpenSSH's hashed host names), with a random salt.
fn hashed_name(name: &str) -> io::Result<String> {
    let mut salt = [0u8; 20];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut salt)?;
    let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&salt)
        .map_err(|e| io::Error::other(e.to_string()))?
        .chain_update(name.as_bytes());
    Ok(format!(
        "|1|{}|{}",
        data_encoding::BASE64.encode(&salt),
        data_encoding::BASE64.encode(&mac.finalize().into_bytes())
    ))
}

/// Appends `name key_type key_b64` to `path` (accept-new), the name in lower
/// case (hashed with `hash`), creating the file and its directory (mode
/// 0700) if needed, and updates the cache in place.
pub(crate) fn append(
    path: &Path,
    name: &str,
    key_type: &str,
    key_b64: &str,
    hash: bool,
) -> io::Result<()> {
    let name = name.to_ascii_lowercase();
    let name = if hash { hashed_name(&name)? } else { name };
    static APPEND: Mutex<()> = Mutex::new(());
    let _serial = lock(&APPEND);
    let parsed = parsed(path)?;
    let mut p = parsed.write().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    let mut line = String::new();
    if p.unterminated {
        line.push('\n');
    }
    line.push_str(&format!("{name} {key_type} {key_b64}\n"));
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(line.as_bytes())?;
    drop(f);
    p.unterminated = false;
    p.lines += 1;
    let n = p.lines;
    p.add_line(&format!("{name} {key_type} {key_b64}"), n);
    // the file changed because of us: keep the cached parse, with its new stamp
    if let Some(c) = lock(cache()).get_mut(path) {
        if Arc::ptr_eq(&c.parsed, &parsed) {
            c.stamp = stamp(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIKey1";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIKey2";

    fn hashed_name_with(name: &str, salt: &[u8]) -> String {
        let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(salt)
            .unwrap()
            .chain_update(name.as_bytes());
        let hash = mac.finalize().into_bytes();
        format!(
            "|1|{}|{}",
            data_encoding::BASE64.encode(salt),
            data_encoding::BASE64.encode(&hash)
        )
    }

    fn write(dir: &Path, text: &str) -> Vec<PathBuf> {
        let p = dir.join(format!("kh{}", text.len()));
        std::fs::write(&p, text).unwrap();
        vec![p]
    }

    #[test]
    fn plain_bracketed_and_listed_names_match() {
        let d = tempfile::tempdir().unwrap();
        let f = write(
            d.path(),
            &format!("# c\n\nalpha,[10.0.0.1]:2222 ssh-ed25519 {K1} c\n"),
        );
        assert_eq!(
            check(&f, "alpha", "ssh-ed25519", K1).unwrap(),
            Verdict::Known
        );
        assert_eq!(
            check(&f, "[10.0.0.1]:2222", "ssh-ed25519", K1).unwrap(),
            Verdict::Known
        );
        assert_eq!(
            check(&f, "10.0.0.1", "ssh-ed25519", K1).unwrap(),
            Verdict::Unknown
        );
    }

    #[test]
    fn hashed_entry_matches_its_name_only() {
        let d = tempfile::tempdir().unwrap();
        let f = write(
            d.path(),
            &format!(
                "{} ssh-ed25519 {K1}\n",
                hashed_name_with("[127.0.0.9]:2222", b"0123456789abcdefghij")
            ),
        );
        assert_eq!(
            check(&f, "[127.0.0.9]:2222", "ssh-ed25519", K1).unwrap(),
            Verdict::Known
        );
        assert_eq!(
            check(&f, "[127.0.0.8]:2222", "ssh-ed25519", K1).unwrap(),
            Verdict::Unknown
        );
    }

    #[test]
    fn different_key_is_changed_with_its_line() {
        let d = tempfile::tempdir().unwrap();
        let f = write(
            d.path(),
            &format!("other ssh-ed25519 {K2}\nalpha ssh-rsa AAAAB3Nz\nalpha ssh-ed25519 {K2}\n"),
        );
        assert_eq!(
            check(&f, "alpha", "ssh-ed25519", K1).unwrap(),
            Verdict::Changed {
                file: f[0].clone(),
                line: 3
            }
        );
    }

    #[test]
    fn wildcards_and_negations_follow_openssh() {
        let d = tempfile::tempdir().unwrap();
        let f = write(d.path(), &format!("*.lab,!bad.lab ssh-ed25519 {K1}\n"));
        assert_eq!(
            check(&f, "web.lab", "ssh-ed25519", K1).unwrap(),
            Verdict::Known
        );
        assert_eq!(
            check(&f, "bad.lab", "ssh-ed25519", K1).unwrap(),
            Verdict::Unknown
        );
        assert!(glob(b"h?st*", b"HOST-1"));
        assert!(!glob(b"h?st", b"hoost"));
    }

    #[test]
    fn host_names_match_whatever_their_case_as_in_openssh() {
        let d = tempfile::tempdir().unwrap();
        let f = write(
            d.path(),
            &format!(
                "WEB.example.org ssh-ed25519 {K1}\n{} ssh-ed25519 {K2}\n",
                hashed_name_with("db.example.org", b"0123456789abcdefghij")
            ),
        );
        assert_eq!(
            check(&f, "web.example.org", "ssh-ed25519", K1).unwrap(),
            Verdict::Known,
            "a plain entry in capitals matches the lower-case name"
        );
        assert_eq!(
            check(&f, "Web.Example.ORG", "ssh-ed25519", K1).unwrap(),
            Verdict::Known,
            "the name looked up is lower-cased"
        );
        assert_eq!(
            check(&f, "DB.example.org", "ssh-ed25519", K2).unwrap(),
            Verdict::Known,
            "hashed entries are computed over the lower-cased name"
        );
    }

    #[test]
    fn names_are_recorded_in_lower_case_and_hashed_on_request() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("known_hosts");
        append(&p, "[Web.Lan]:2222", "ssh-ed25519", K1, false).unwrap();
        append(&p, "DB.lan", "ssh-ed25519", K2, true).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("[web.lan]:2222 ssh-ed25519 {K1}"));
        assert!(
            lines[1].starts_with("|1|") && !lines[1].contains("db.lan"),
            "{text}"
        );
        assert_eq!(
            check(std::slice::from_ref(&p), "db.lan", "ssh-ed25519", K2).unwrap(),
            Verdict::Known
        );
        // and read back from the file by a fresh parse
        let reparsed = Parsed::parse(&text);
        assert_eq!(reparsed.matching("db.lan").len(), 1);
    }

    #[test]
    fn revoked_key_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = write(
            d.path(),
            &format!("@revoked * ssh-ed25519 {K1}\nalpha ssh-ed25519 {K1}\n"),
        );
        assert_eq!(
            check(&f, "alpha", "ssh-ed25519", K1).unwrap(),
            Verdict::Revoked {
                file: f[0].clone(),
                line: 1
            }
        );
    }

    #[test]
    fn append_creates_the_file_and_is_seen_at_once() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub").join("known_hosts");
        let files = vec![p.clone()];
        assert_eq!(
            check(&files, "alpha", "ssh-ed25519", K1).unwrap(),
            Verdict::Unknown
        );
        append(&p, "alpha", "ssh-ed25519", K1, false).unwrap();
        append(&p, "[beta]:2200", "ssh-ed25519", K2, false).unwrap();
        assert_eq!(
            check(&files, "alpha", "ssh-ed25519", K1).unwrap(),
            Verdict::Known
        );
        assert_eq!(
            check(&files, "[beta]:2200", "ssh-ed25519", K2).unwrap(),
            Verdict::Known
        );
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            format!("alpha ssh-ed25519 {K1}\n[beta]:2200 ssh-ed25519 {K2}\n")
        );
    }

    #[test]
    fn a_file_changed_on_disk_is_parsed_again() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("kh");
        std::fs::write(&p, format!("alpha ssh-ed25519 {K1}\n")).unwrap();
        let files = vec![p.clone()];
        assert_eq!(
            check(&files, "alpha", "ssh-ed25519", K1).unwrap(),
            Verdict::Known
        );
        std::fs::write(&p, format!("alpha ssh-ed25519 {K2} longer\n")).unwrap();
        assert_eq!(
            check(&files, "alpha", "ssh-ed25519", K1).unwrap(),
            Verdict::Changed { file: p, line: 1 }
        );
    }

    #[test]
    fn endless_or_oversized_files_are_clear_errors_and_dev_null_is_empty() {
        let zero = vec![PathBuf::from("/dev/zero")];
        let e = check(&zero, "alpha", "ssh-ed25519", K1).unwrap_err();
        assert!(
            e.to_string().starts_with("/dev/zero: larger than 64 MiB"),
            "{e}"
        );
        assert!(known_key_types(&zero, "alpha").is_empty());
        let null = vec![PathBuf::from("/dev/null")];
        assert_eq!(
            check(&null, "alpha", "ssh-ed25519", K1).unwrap(),
            Verdict::Unknown
        );
        let d = tempfile::tempdir().unwrap();
        let big = d.path().join("kh");
        std::fs::write(&big, format!("alpha ssh-ed25519 {K1}\n")).unwrap();
        // sparse: no disk space used
        let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        let e = check(std::slice::from_ref(&big), "alpha", "ssh-ed25519", K1).unwrap_err();
        assert!(e.to_string().contains("larger than 64 MiB"), "{e}");
        assert!(e.to_string().contains(&big.display().to_string()), "{e}");
        let e = append(&big, "beta", "ssh-ed25519", K2, false).unwrap_err();
        assert!(e.to_string().contains("larger than 64 MiB"), "{e}");
    }
}
