//! OpenSSH is the oracle: `ajssh -G` against `ssh -G` on the corpus of
//! config files in `ssh_config/`, keyword by keyword.
//!
//! Each corpus file lists its cases as `# test: ARGS` lines (the arguments
//! after `-G -F FILE`). The corpus is copied to a scratch directory where
//! `@DIR@` becomes that directory and `@USER@` the local user, and both
//! programs run with `HOME` there (relative `Include`s are from `~/.ssh`).
//! When `ssh` refuses a file, `ajssh` must refuse it too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{ajssh_bare, run};

/// Keywords compared as printed (all their lines, in order).
const COMPARED: &[&str] = &[
    "host",
    "user",
    "hostname",
    "port",
    "addressfamily",
    "canonicalizehostname",
    "hashknownhosts",
    "identitiesonly",
    "stricthostkeychecking",
    "serveralivecountmax",
    "serveraliveinterval",
    "hostkeyalias",
    "identityagent",
    "ignoreunknown",
    "certificatefile",
    "globalknownhostsfile",
    "userknownhostsfile",
    "connecttimeout",
    "proxycommand",
    "proxyjump",
];

/// OpenSSH's default key files: when `ssh -G` lists exactly these, the
/// config named none, and ajssh lists its own defaults instead.
const OPENSSH_DEFAULT_KEYS: &[&str] = &[
    "~/.ssh/id_rsa",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
];

type Resolved = BTreeMap<String, Vec<String>>;

/// Success, stdout, stderr of one `-G` run.
type Outcome = (bool, String, String);

/// `ssh -G` or `ajssh -G` in a scratch dir, on a file, with arguments.
type Runner = fn(&Path, &Path, &[String]) -> Outcome;

fn parse(text: &str) -> Resolved {
    let mut m: Resolved = BTreeMap::new();
    for line in text.lines() {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        m.entry(k.to_string()).or_default().push(v.to_string());
    }
    m
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/ssh_config")
}

/// The corpus copied into `dir`, placeholders replaced; returns the .conf files.
fn install(dir: &Path) -> Vec<PathBuf> {
    let user = String::from_utf8(
        Command::new("id")
            .arg("-un")
            .output()
            .expect("id -un")
            .stdout,
    )
    .expect("user name")
    .trim()
    .to_string();
    let mut files = Vec::new();
    let mut stack = vec![corpus_dir()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus dir") {
            let p = e.expect("entry").path();
            let rel = p.strip_prefix(corpus_dir()).expect("inside");
            let dest = dir.join(rel);
            if p.is_dir() {
                std::fs::create_dir_all(&dest).expect("mkdir");
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("read corpus file");
            let text = text
                .replace("@DIR@", &dir.display().to_string())
                .replace("@USER@", &user);
            std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            std::fs::write(&dest, text).expect("write corpus file");
            if dest.parent() == Some(dir) && dest.extension().is_some_and(|e| e == "conf") {
                files.push(dest);
            }
        }
    }
    let ssh = dir.join("home/.ssh");
    std::fs::create_dir_all(&ssh).expect("mkdir home");
    std::fs::write(ssh.join("relative.conf"), "Port 2102\nUser relative-user\n").expect("write");
    files.sort();
    files
}

fn cases(file: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(file)
        .expect("read")
        .lines()
        .filter_map(|l| l.strip_prefix("# test: "))
        .map(|a| a.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn openssh(dir: &Path, file: &Path, args: &[String]) -> Outcome {
    let out = Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(file)
        .args(args)
        .env("HOME", dir.join("home"))
        .stdin(Stdio::null())
        .output()
        .expect("run ssh -G (openssh-client is needed by the test harness)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ours(dir: &Path, file: &Path, args: &[String]) -> Outcome {
    let mut c = ajssh_bare();
    c.arg("-G")
        .arg("-F")
        .arg(file)
        .args(args)
        .env("HOME", dir.join("home"));
    let r = run(&mut c);
    (r.code == 0, r.stdout, r.stderr)
}

/// Key exchanges: with a plain KexAlgorithms list, the same list (less the
/// names only OpenSSH implements); with none, each side's own defaults.
fn kex_agrees(
    theirs: &[String],
    mine: &[String],
    theirs_default: &str,
    mine_default: &str,
) -> bool {
    let (Some(t), Some(m)) = (theirs.first(), mine.first()) else {
        return false;
    };
    if t == theirs_default {
        return m == mine_default;
    }
    let t: Vec<&str> = t
        .split(',')
        .filter(|a| !a.starts_with("sntrup761"))
        .collect();
    t.join(",") == *m
}

#[test]
fn ajssh_dash_g_agrees_with_openssh_on_the_config_corpus() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = install(dir.path());
    assert!(files.len() >= 8, "corpus not found: {files:?}");
    let defaults = |f: Runner| {
        let (_, out, _) = f(dir.path(), Path::new("/dev/null"), &["x".to_string()]);
        parse(&out)
            .get("kexalgorithms")
            .and_then(|v| v.first().cloned())
            .unwrap_or_default()
    };
    let (theirs_kex, mine_kex) = (defaults(openssh), defaults(ours));
    let mut checked = 0;
    for file in &files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let cases = cases(file);
        assert!(!cases.is_empty(), "{name} has no `# test:` line");
        for args in cases {
            let what = format!("{name}: -G {}", args.join(" "));
            let (t_ok, t_out, t_err) = openssh(dir.path(), file, &args);
            let (m_ok, m_out, m_err) = ours(dir.path(), file, &args);
            assert_eq!(
                t_ok, m_ok,
                "{what}: ssh {} but ajssh {}\nssh stderr: {t_err}\najssh stdout: {m_out}\najssh stderr: {m_err}",
                if t_ok { "succeeds" } else { "fails" },
                if m_ok { "succeeds" } else { "fails" },
            );
            if !t_ok {
                assert!(
                    m_err.contains(&*name),
                    "{what}: the error names the file: {m_err}"
                );
                checked += 1;
                continue;
            }
            let (theirs, mine) = (parse(&t_out), parse(&m_out));
            let none = Vec::new();
            for k in COMPARED {
                let (t, m) = (
                    theirs.get(*k).unwrap_or(&none),
                    mine.get(*k).unwrap_or(&none),
                );
                assert_eq!(
                    t, m,
                    "{what}: `{k}` differs\n--- ssh -G:\n{t_out}\n--- ajssh -G:\n{m_out}"
                );
            }
            let t_keys = theirs.get("identityfile").unwrap_or(&none);
            if t_keys
                .iter()
                .map(String::as_str)
                .ne(OPENSSH_DEFAULT_KEYS.iter().copied())
            {
                assert_eq!(
                    Some(t_keys),
                    mine.get("identityfile"),
                    "{what}: identityfile differs\n{m_out}"
                );
            }
            let (t, m) = (
                theirs.get("kexalgorithms").unwrap_or(&none),
                mine.get("kexalgorithms").unwrap_or(&none),
            );
            assert!(
                kex_agrees(t, m, &theirs_kex, &mine_kex),
                "{what}: kexalgorithms differ: ssh {t:?}, ajssh {m:?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} cases checked");
}

/// OpenSSH's `kex_assemble_names` applied to `defaults`: `^L` first, `+L`
/// appended, `-P` removed by pattern, else `L` only; each name once.
fn assemble(defaults: &[String], value: &str) -> Vec<String> {
    let names = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
    let list = match value.as_bytes().first() {
        Some(b'^') => [names(&value[1..]), defaults.to_vec()].concat(),
        Some(b'+') => [defaults.to_vec(), names(&value[1..])].concat(),
        Some(b'-') => {
            let patterns = names(&value[1..]);
            let glob = |p: &str, a: &str| match p.strip_suffix('*') {
                Some(prefix) => a.starts_with(prefix),
                None => p == a,
            };
            defaults
                .iter()
                .filter(|a| !patterns.iter().any(|p| glob(p, a)))
                .cloned()
                .collect()
        }
        _ => names(value),
    };
    let mut out: Vec<String> = Vec::new();
    for a in list {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

#[test]
fn kex_algorithm_edits_apply_to_each_side_s_defaults_as_openssh_applies_them() {
    // the model is checked against ssh -G on OpenSSH's defaults, then ajssh
    // against the same model on its own defaults
    let dir = tempfile::tempdir().expect("tempdir");
    let values = [
        "curve25519-sha256,diffie-hellman-group14-sha256,curve25519-sha256",
        "^diffie-hellman-group14-sha256",
        "^ecdh-sha2-nistp256,diffie-hellman-group16-sha512",
        "+diffie-hellman-group1-sha1",
        "+curve25519-sha256",
        "-curve25519-sha256,curve25519-sha256@libssh.org",
        "-diffie-hellman-*",
        "-no-such-algorithm",
    ];
    let kex = |f: Runner, file: &Path| -> Vec<String> {
        let (ok, out, err) = f(dir.path(), file, &["h".to_string()]);
        assert!(ok, "{}: {err}", file.display());
        let list = parse(&out)
            .get("kexalgorithms")
            .and_then(|v| v.first().cloned())
            .unwrap_or_default();
        list.split(',').map(str::to_string).collect()
    };
    let (theirs_default, mine_default) = (
        kex(openssh, Path::new("/dev/null")),
        kex(ours, Path::new("/dev/null")),
    );
    for (i, value) in values.iter().enumerate() {
        let file = dir.path().join(format!("kex{i}.conf"));
        std::fs::write(&file, format!("Host h\n    KexAlgorithms {value}\n")).expect("write");
        let theirs = kex(openssh, &file);
        assert_eq!(
            theirs,
            assemble(&theirs_default, value),
            "KexAlgorithms {value}: the model is not OpenSSH's"
        );
        assert_eq!(
            kex(ours, &file),
            assemble(&mine_default, value),
            "KexAlgorithms {value}: ajssh -G"
        );
    }
}
