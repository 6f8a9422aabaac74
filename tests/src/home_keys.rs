//! `~/.ssh/authorized_keys` in the login account's real home, for the servers
//! that read it only from there (Dropbear, tinysshd).
//!
//! The account is shared by every testbed on the machine, so each testbed adds
//! its keys as lines tagged with its directory name (the comment field) and
//! removes exactly those lines on drop. Edits hold an exclusive lock on a file
//! next to `authorized_keys` and replace the file by rename, so a server reading
//! it never sees half a file. Lines of testbeds whose process is gone (killed
//! before dropping) are removed by the next edit.
//!
//! tinysshd refuses a login whose home path has a group- or world-writable
//! component, and wants `.ssh` 700 and the file 600, owned by the user.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::server::DIR_PREFIX;
use crate::user::LoginUser;
use crate::HarnessError;

const LOCK_NAME: &str = "authorized_keys.asyncjobs-lock";

/// Keys of one testbed in the login account's `authorized_keys`, removed on drop.
#[derive(Debug)]
pub(crate) struct HomeKeys {
    file: PathBuf,
    lock: PathBuf,
    user: LoginUser,
    tag: String,
}

impl HomeKeys {
    /// Adds `keys` (`type base64` lines) tagged `tag` to `user`'s
    /// `~/.ssh/authorized_keys`, creating `.ssh` and fixing modes as tinysshd wants.
    pub(crate) fn authorize(
        user: &LoginUser,
        keys: &[String],
        tag: &str,
    ) -> Result<HomeKeys, HarnessError> {
        let ssh_dir = user.home.join(".ssh");
        prepare_dirs(user, &ssh_dir)?;
        let this = HomeKeys {
            file: ssh_dir.join("authorized_keys"),
            lock: ssh_dir.join(LOCK_NAME),
            user: user.clone(),
            tag: tag.to_string(),
        };
        this.edit(|lines| {
            lines.retain(|l| !is_stale(l));
            lines.extend(keys.iter().map(|k| format!("{k} {tag}")));
        })?;
        Ok(this)
    }

    /// Rewrites the file under the lock with `change` applied to its lines.
    fn edit(&self, change: impl FnOnce(&mut Vec<String>)) -> Result<(), HarnessError> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|e| HarnessError::io(format!("opening {}", self.lock.display()), e))?;
        lock.lock()
            .map_err(|e| HarnessError::io(format!("locking {}", self.lock.display()), e))?;
        let mut lines: Vec<String> = match std::fs::read_to_string(&self.file) {
            Ok(text) => text.lines().map(str::to_string).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(HarnessError::io(
                    format!("reading {}", self.file.display()),
                    e,
                ))
            }
        };
        change(&mut lines);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let tmp = self
            .file
            .with_extension(format!("tmp-{}", std::process::id()));
        write_owned(&tmp, &text, &self.user)?;
        std::fs::rename(&tmp, &self.file).map_err(|e| {
            HarnessError::io(
                format!("renaming {} to {}", tmp.display(), self.file.display()),
                e,
            )
        })
        // The lock is released when `lock` is dropped.
    }
}

impl Drop for HomeKeys {
    fn drop(&mut self) {
        let tag = self.tag.clone();
        // Best effort: a leftover line is removed by the next testbed's edit.
        let _ = self.edit(|lines| lines.retain(|l| l.split_whitespace().last() != Some(&tag)));
    }
}

/// Home without group/world write, `.ssh` 700, both owned by the user.
fn prepare_dirs(user: &LoginUser, ssh_dir: &Path) -> Result<(), HarnessError> {
    let home_mode = std::fs::metadata(&user.home)
        .map_err(|e| HarnessError::io(format!("reading {}", user.home.display()), e))?
        .permissions()
        .mode();
    if home_mode & 0o022 != 0 {
        set_mode(&user.home, home_mode & 0o7755)?;
    }
    match std::fs::create_dir(ssh_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(HarnessError::io(
                format!("creating {}", ssh_dir.display()),
                e,
            ))
        }
    }
    chown(ssh_dir, user)?;
    set_mode(ssh_dir, 0o700)
}

fn write_owned(path: &Path, text: &str, user: &LoginUser) -> Result<(), HarnessError> {
    let mut file = File::create(path)
        .map_err(|e| HarnessError::io(format!("creating {}", path.display()), e))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))?;
    set_mode(path, 0o600)?;
    chown(path, user)
}

fn chown(path: &Path, user: &LoginUser) -> Result<(), HarnessError> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
        .map_err(|e| HarnessError::io(format!("giving {} to {}", path.display(), user.name), e))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), HarnessError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| HarnessError::io(format!("chmod {mode:o} {}", path.display()), e))
}

/// A line added by a testbed whose process no longer exists.
fn is_stale(line: &str) -> bool {
    owner_of(line).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
}

/// The owner PID in a line's `asyncjobs-testbed-PID-xxxx` tag.
fn owner_of(line: &str) -> Option<u32> {
    let tag = line.split_whitespace().last()?;
    tag.strip_prefix(DIR_PREFIX)?
        .split_once('-')?
        .0
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_the_owning_process() {
        assert_eq!(
            owner_of("ssh-ed25519 AAAA asyncjobs-testbed-4242-Ab12"),
            Some(4242)
        );
        assert_eq!(owner_of("ssh-ed25519 AAAA someone@laptop"), None);
        assert_eq!(owner_of(""), None);
        let mine = format!(
            "ssh-ed25519 AAAA asyncjobs-testbed-{}-x",
            std::process::id()
        );
        assert!(!is_stale(&mine));
        assert!(!is_stale("ssh-ed25519 AAAA someone@laptop"));
    }

    #[test]
    fn lines_are_added_tagged_and_removed_on_drop_leaving_others() {
        let dir = tempfile::tempdir().unwrap();
        let me = crate::user::current_user_for_tests();
        let user = LoginUser {
            home: dir.path().join("home"),
            ..me
        };
        std::fs::create_dir(&user.home).unwrap();
        set_mode(&user.home, 0o777).unwrap();
        std::fs::create_dir(user.home.join(".ssh")).unwrap();
        let file = user.home.join(".ssh/authorized_keys");
        // A foreign key, a leftover of a dead testbed (PID far above pid_max).
        std::fs::write(
            &file,
            "ssh-ed25519 FOREIGN a@b\nssh-ed25519 OLD asyncjobs-testbed-4999999-x\n",
        )
        .unwrap();
        let keys = HomeKeys::authorize(&user, &["ssh-ed25519 NEW".into()], "asyncjobs-testbed-1-t")
            .expect("authorizes");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "ssh-ed25519 FOREIGN a@b\nssh-ed25519 NEW asyncjobs-testbed-1-t\n"
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&user.home), 0o755);
        assert_eq!(mode(&user.home.join(".ssh")), 0o700);
        assert_eq!(mode(&file), 0o600);
        drop(keys);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "ssh-ed25519 FOREIGN a@b\n"
        );
    }
}
