//! The account the sshd lets the tests log in as.
//!
//! As root: a dedicated account `ajtest` (shell `/bin/sh`, so no heavy `.bashrc`
//! runs per connection), created on first use. With `UsePAM no` sshd refuses an
//! account whose password field starts with `!`, so it is set to `*`.
//! As any other user: that user itself, since an unprivileged sshd can only
//! authenticate the account it runs as.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::HarnessError;

/// Name of the dedicated account used when the tests run as root.
pub const TEST_ACCOUNT: &str = "ajtest";
const SHELL: &str = "/bin/sh";
/// Several test processes may create the account at once: bounded re-checks.
const ATTEMPTS: usize = 50;
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A login account on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoginUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

static CACHE: Mutex<Option<LoginUser>> = Mutex::new(None);

/// The login user of this process's testbeds, prepared once per process.
pub(crate) fn login_user() -> Result<LoginUser, HarnessError> {
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(u) = cache.as_ref() {
        return Ok(u.clone());
    }
    let uid = current_uid()?;
    let user = if uid == 0 {
        ensure_test_account()?
    } else {
        passwd_entries()?
            .into_iter()
            .find(|e| e.user.uid == uid)
            .map(|e| e.user)
            .ok_or_else(|| {
                HarnessError::User(format!(
                    "uid {uid} has no entry in /etc/passwd; sshd cannot log it in"
                ))
            })?
    };
    *cache = Some(user.clone());
    Ok(user)
}

fn current_uid() -> Result<u32, HarnessError> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .map_err(|e| HarnessError::io("reading the uid of this process from /proc/self", e))
}

struct PasswdEntry {
    user: LoginUser,
    shell: String,
}

fn passwd_entries() -> Result<Vec<PasswdEntry>, HarnessError> {
    let text = std::fs::read_to_string("/etc/passwd")
        .map_err(|e| HarnessError::io("reading /etc/passwd", e))?;
    Ok(text.lines().filter_map(parse_passwd_line).collect())
}

fn parse_passwd_line(line: &str) -> Option<PasswdEntry> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 7 {
        return None;
    }
    let user = LoginUser {
        name: f[0].to_string(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        home: PathBuf::from(f[5]),
    };
    Some(PasswdEntry {
        user,
        shell: f[6].to_string(),
    })
}

/// The password field of `name` in /etc/shadow, if there is one.
fn shadow_password(name: &str) -> Result<Option<String>, HarnessError> {
    let text = std::fs::read_to_string("/etc/shadow")
        .map_err(|e| HarnessError::io("reading /etc/shadow", e))?;
    Ok(text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next() == Some(name)).then(|| f.next().unwrap_or("").to_string())
    }))
}

/// Creates or repairs `ajtest`, tolerating other processes doing the same.
fn ensure_test_account() -> Result<LoginUser, HarnessError> {
    let mut last_problem = String::from("no attempt made");
    for _ in 0..ATTEMPTS {
        let entry = passwd_entries()?
            .into_iter()
            .find(|e| e.user.name == TEST_ACCOUNT);
        let step = match entry {
            None => run("useradd", &["-m", "-s", SHELL, "-p", "*", TEST_ACCOUNT]),
            Some(e) if e.shell != SHELL => run("usermod", &["-s", SHELL, TEST_ACCOUNT]),
            Some(e) => {
                if shadow_password(TEST_ACCOUNT)?.is_some_and(|p| p.starts_with('!')) {
                    run("usermod", &["-p", "*", TEST_ACCOUNT])
                } else if !e.user.home.is_dir() {
                    make_home(&e.user)
                } else {
                    return Ok(e.user);
                }
            }
        };
        // A failure may be another process holding the passwd lock or having just
        // created the account: look again after a pause.
        if let Err(problem) = step {
            last_problem = problem;
            std::thread::sleep(RETRY_PAUSE);
        }
    }
    Err(HarnessError::User(format!(
        "could not create or repair account `{TEST_ACCOUNT}` after {ATTEMPTS} attempts: {last_problem}"
    )))
}

fn make_home(user: &LoginUser) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("creating home {}: {e}", user.home.display());
    std::fs::create_dir_all(&user.home).map_err(fail)?;
    std::os::unix::fs::chown(&user.home, Some(user.uid), Some(user.gid)).map_err(fail)
}

/// Runs a system administration tool; `Err` carries a readable reason.
fn run(tool: &str, args: &[&str]) -> Result<(), String> {
    let path = Path::new("/usr/sbin").join(tool);
    let program = if path.exists() {
        path
    } else {
        PathBuf::from(tool)
    };
    let out = Command::new(&program)
        .args(args)
        .output()
        .map_err(|e| format!("running {tool} (package `passwd`): {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{tool} {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

/// The current user's account, for unit tests that need a real uid and gid.
#[cfg(test)]
pub(crate) fn current_user_for_tests() -> LoginUser {
    let uid = current_uid().expect("uid");
    passwd_entries()
        .expect("passwd")
        .into_iter()
        .find(|e| e.user.uid == uid)
        .expect("the current uid has a passwd entry")
        .user
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_line_parses_and_short_lines_are_skipped() {
        let e = parse_passwd_line("ajtest:x:1001:1002::/home/ajtest:/bin/sh").expect("parses");
        assert_eq!((e.user.uid, e.user.gid), (1001, 1002));
        assert_eq!(e.user.home, PathBuf::from("/home/ajtest"));
        assert_eq!(e.shell, "/bin/sh");
        assert!(parse_passwd_line("broken:x:1").is_none());
    }
}
