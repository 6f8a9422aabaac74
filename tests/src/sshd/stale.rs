//! Clean-up of servers leaked by test processes that were killed before their
//! `Testbed` was dropped (SIGKILL, a timeout): such an sshd runs a config from a
//! directory named after a process id that no longer exists.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use super::{DIR_PREFIX, SSHD_PATH};
use crate::procfs::processes;

static ONCE: Once = Once::new();

/// Runs [`reap_leaked_sshd`] once per process.
pub(crate) fn reap_once() {
    ONCE.call_once(|| {
        reap_leaked_sshd();
    });
}

/// Kills (by PID) every testbed sshd whose owning test process is gone and removes
/// its directory; returns how many were killed. [`Testbed::start_with`](crate::Testbed::start_with)
/// calls it once per process. Best effort: a failure leaves that server as it was.
pub fn reap_leaked_sshd() -> usize {
    let Ok(procs) = processes() else { return 0 };
    let tmp = std::env::temp_dir();
    let mut killed_count = 0;
    for p in procs {
        let Some((dir, owner)) = leaked_dir(&p.cmdline, &tmp) else {
            continue;
        };
        if Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        let killed = Command::new("kill")
            .args(["-KILL", &p.pid.to_string()])
            .output();
        if killed.is_ok_and(|o| o.status.success()) {
            killed_count += 1;
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    killed_count
}

/// For `/usr/sbin/sshd -D -f TMP/asyncjobs-testbed-PID-xxxx/sshd-0.conf ...`
/// (which the listener rewrites to `sshd: /usr/sbin/sshd -D -f ... [listener] ...`),
/// the testbed directory and its owner's PID.
fn leaked_dir(cmdline: &str, tmp: &Path) -> Option<(PathBuf, u32)> {
    let mut args = cmdline.strip_prefix("sshd: ").unwrap_or(cmdline).split(' ');
    if args.next()? != SSHD_PATH {
        return None;
    }
    let config = Path::new(args.skip_while(|a| *a != "-f").nth(1)?);
    let dir = config.parent()?;
    if dir.parent()? != tmp {
        return None;
    }
    let rest = dir.file_name()?.to_str()?.strip_prefix(DIR_PREFIX)?;
    let owner = rest.split_once('-')?.0.parse().ok()?;
    Some((dir.to_path_buf(), owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaked_dir_reads_owner_from_testbed_config_path_only() {
        let tmp = Path::new("/tmp");
        let line =
            "/usr/sbin/sshd -D -f /tmp/asyncjobs-testbed-4242-Ab12/sshd-0.conf -E /tmp/x.log";
        let expected = Some((PathBuf::from("/tmp/asyncjobs-testbed-4242-Ab12"), 4242));
        assert_eq!(leaked_dir(line, tmp), expected);
        let listener = format!("sshd: {line} [listener] 0 of 1000-1000 startups");
        assert_eq!(leaked_dir(&listener, tmp), expected);
        assert_eq!(
            leaked_dir("/usr/sbin/sshd -D -f /etc/ssh/sshd_config", tmp),
            None
        );
        assert_eq!(leaked_dir("sshd: ajtest [priv]", tmp), None);
        assert_eq!(
            leaked_dir("/usr/sbin/sshd -D -f /home/asyncjobs-testbed-1-x/c", tmp),
            None
        );
    }
}
