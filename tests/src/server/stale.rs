//! Clean-up of servers leaked by test processes that were killed before their
//! `Testbed` was dropped (SIGKILL, a timeout): such a server (sshd, dropbear,
//! socat or tinysshd) runs with a file from a testbed directory named after a
//! process id that no longer exists.

use std::path::{Path, PathBuf};
use std::sync::Once;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{DIR_PREFIX, SERVER_PATHS};
use crate::procfs::processes;

static ONCE: Once = Once::new();

/// Runs [`reap_leaked_sshd`] once per process.
pub(crate) fn reap_once() {
    ONCE.call_once(|| {
        reap_leaked_sshd();
    });
}

/// Kills (by PID) every testbed server (sshd, dropbear, the socat wrapper of
/// tinysshd and its tinysshd processes) whose owning test process is gone, and
/// removes its directory; returns how many processes were killed.
/// [`Testbed::start_with`](crate::Testbed::start_with) calls it once per process.
/// Best effort: a failure leaves that server as it was.
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
        let Ok(pid) = i32::try_from(p.pid) else {
            continue;
        };
        if kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
            killed_count += 1;
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    killed_count
}

/// For a server command line that names a file in a testbed directory
/// (`/usr/sbin/sshd -D -f TMP/asyncjobs-testbed-PID-xxxx/sshd-0.conf ...`, which
/// the listener rewrites to `sshd: /usr/sbin/sshd -D -f ... [listener] ...`;
/// `/usr/sbin/dropbear ... -r TMP/asyncjobs-testbed-PID-xxxx/dropbear_host_key`;
/// `/usr/bin/socat ... EXEC:/usr/sbin/tinysshd -v TMP/asyncjobs-testbed-PID-xxxx/tinysshd-keys`),
/// the testbed directory and its owner's PID.
fn leaked_dir(cmdline: &str, tmp: &Path) -> Option<(PathBuf, u32)> {
    let line = cmdline.strip_prefix("sshd: ").unwrap_or(cmdline);
    let mut args = line.split(' ');
    let program = args.next()?;
    if !SERVER_PATHS.contains(&program) {
        return None;
    }
    args.find_map(|a| testbed_dir(Path::new(a), tmp))
}

/// `(dir, owner)` when `file` is directly inside `TMP/asyncjobs-testbed-OWNER-*`.
fn testbed_dir(file: &Path, tmp: &Path) -> Option<(PathBuf, u32)> {
    let dir = file.parent()?;
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

    #[test]
    fn leaked_dropbear_socat_and_tinysshd_are_recognised() {
        let tmp = Path::new("/tmp");
        let expected = Some((PathBuf::from("/tmp/asyncjobs-testbed-77-Zz"), 77));
        let dropbear = "/usr/sbin/dropbear -F -E -s -r /tmp/asyncjobs-testbed-77-Zz/dropbear_host_key -p 127.1.2.3:4000";
        assert_eq!(leaked_dir(dropbear, tmp), expected);
        let socat = "/usr/bin/socat TCP-LISTEN:4000,bind=127.1.2.3,reuseaddr,fork EXEC:/usr/sbin/tinysshd -v /tmp/asyncjobs-testbed-77-Zz/tinysshd-keys,nofork";
        assert_eq!(leaked_dir(socat, tmp), expected);
        let tinysshd = "/usr/sbin/tinysshd -v /tmp/asyncjobs-testbed-77-Zz/tinysshd-keys";
        assert_eq!(leaked_dir(tinysshd, tmp), expected);
        // Another program naming a testbed file is none of ours to kill.
        assert_eq!(
            leaked_dir("vim /tmp/asyncjobs-testbed-77-Zz/dropbear-0.0.log", tmp),
            None
        );
    }
}
