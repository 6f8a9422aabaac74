//! Writing below an already-opened local directory, so that names chosen by
//! someone else (an SFTP server, a tree being copied) cannot lead a write
//! anywhere else.
//!
//! Every entry is created relative to the file descriptor of its parent
//! directory (`openat`, `mkdirat`, `symlinkat`, `renameat`), never through a
//! path, and no existing symbolic link is ever followed:
//! * a directory is created with mode 700 and opened with
//!   `O_DIRECTORY | O_NOFOLLOW`; an existing link in its place is removed
//!   (not followed) and a directory made; an existing file is an error;
//! * a file is written under a temporary name (`.ajpart-*`, created with
//!   `O_EXCL | O_NOFOLLOW`, mode 600), given its mode and times on the open
//!   descriptor, then renamed over the name, which replaces a file or a link
//!   (the link itself, never what it points to); a directory in the way is an
//!   error. If the copy fails or is cancelled, the temporary file is removed
//!   and whatever had the name before is left as it was;
//! * a link is made under a temporary name and renamed over the name the same way;
//! * modes and times of directories are set on their open descriptors.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps, CWD};
use rustix::io::Errno;

use super::super::error::{local, shown};
use super::super::{Op, SftpError, Side};

/// Runs a few file-system calls off the async runtime, as `tokio::fs` does.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|join| Err(io::Error::other(join)))
}

/// A name for a file being written, unique in this process and hidden;
/// short, so that it fits whatever the final name's length.
fn temp_name() -> OsString {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    OsString::from(format!(".ajpart-{}-{n}", std::process::id()))
}

/// What is at a name now, links not followed (`None`: nothing).
fn kind_at(dir: &OwnedFd, name: &OsStr) -> io::Result<Option<FileType>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A rename or link creation refused because a directory holds the name.
fn is_dir_in_the_way(e: &io::Error) -> bool {
    matches!(
        Errno::from_io_error(e),
        Some(Errno::ISDIR | Errno::NOTEMPTY | Errno::EXIST)
    )
}

/// An open local directory; entries are created relative to it.
#[derive(Clone, Debug)]
pub(crate) struct Dir {
    fd: Arc<OwnedFd>,
    /// Its path, for messages only (never used to reach it again).
    path: Arc<PathBuf>,
}

impl Dir {
    /// Opens directory `path`, as given by the user (links in it are
    /// followed: it is their own path, like a `~/logs` that links elsewhere).
    pub(crate) async fn open(path: &Path) -> Result<Dir, SftpError> {
        let owned = path.to_path_buf();
        let fd = blocking(move || {
            Ok(rustix::fs::openat(
                CWD,
                &owned,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?)
        })
        .await
        .map_err(|e| local(Op::Open, path, e))?;
        Ok(Dir {
            fd: Arc::new(fd),
            path: Arc::new(path.to_path_buf()),
        })
    }

    /// The path of `name` in this directory, for messages.
    pub(crate) fn child_path(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    /// The directory `name` in this one, created (mode 700) if missing, a
    /// link there replaced by a new directory; opened without following links.
    pub(crate) async fn subdir(&self, name: &OsStr) -> Result<Dir, SftpError> {
        let (fd, owned) = (Arc::clone(&self.fd), name.to_owned());
        let path = self.child_path(name);
        let opened = blocking(move || {
            match kind_at(&fd, &owned)? {
                Some(FileType::Directory) => {}
                Some(FileType::Symlink) => {
                    rustix::fs::unlinkat(&*fd, &owned, AtFlags::empty())?;
                    make_dir(&fd, &owned)?;
                }
                Some(_) => return Ok(None),
                None => make_dir(&fd, &owned)?,
            }
            let sub = rustix::fs::openat(
                &*fd,
                &owned,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(Some(sub))
        })
        .await
        .map_err(|e| local(Op::Mkdir, &path, e))?;
        match opened {
            Some(fd) => Ok(Dir {
                fd: Arc::new(fd),
                path: Arc::new(path),
            }),
            None => Err(SftpError::NotADirectory {
                op: Op::Mkdir,
                side: Side::Local,
                path: shown(&path),
            }),
        }
    }

    /// A new file to be named `name` once complete (see [`PartialFile`]).
    /// A directory at `name` is refused at once.
    pub(crate) async fn create_file(&self, name: &OsStr) -> Result<PartialFile, SftpError> {
        let path = self.child_path(name);
        let (fd, owned) = (Arc::clone(&self.fd), name.to_owned());
        let temp = temp_name();
        let temp2 = temp.clone();
        let created = blocking(move || {
            if kind_at(&fd, &owned)? == Some(FileType::Directory) {
                return Ok(None);
            }
            let file = rustix::fs::openat(
                &*fd,
                &temp2,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            Ok(Some(file))
        })
        .await
        .map_err(|e| local(Op::Create, &path, e))?;
        let Some(file) = created else {
            return Err(SftpError::DirectoryInTheWay {
                side: Side::Local,
                path: shown(&path),
            });
        };
        Ok(PartialFile {
            dir: self.clone(),
            temp,
            name: name.to_owned(),
            file: tokio::fs::File::from_std(std::fs::File::from(file)),
            committed: false,
        })
    }

    /// An existing device, fifo or socket at `name` (as `/dev/null` given as
    /// the destination of a single file), opened for writing without
    /// following links; `None` for anything else or nothing.
    pub(crate) async fn open_special(
        &self,
        name: &OsStr,
    ) -> Result<Option<tokio::fs::File>, SftpError> {
        let path = self.child_path(name);
        let (fd, owned) = (Arc::clone(&self.fd), name.to_owned());
        let opened = blocking(move || {
            let special = matches!(
                kind_at(&fd, &owned)?,
                Some(FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo)
            );
            if !special {
                return Ok(None);
            }
            let f = rustix::fs::openat(
                &*fd,
                &owned,
                OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(Some(f))
        })
        .await
        .map_err(|e| local(Op::Open, &path, e))?;
        Ok(opened.map(|f| tokio::fs::File::from_std(std::fs::File::from(f))))
    }

    /// Makes `name` a symbolic link to `target` (the text, as it is),
    /// replacing a file or link there; a directory there is an error.
    pub(crate) async fn symlink(&self, name: &OsStr, target: &OsStr) -> Result<(), SftpError> {
        let path = self.child_path(name);
        let (fd, owned, target) = (Arc::clone(&self.fd), name.to_owned(), target.to_owned());
        let made = blocking(move || {
            let temp = temp_name();
            rustix::fs::symlinkat(&target, &*fd, &temp)?;
            if let Err(e) = rustix::fs::renameat(&*fd, &temp, &*fd, &owned) {
                let _ = rustix::fs::unlinkat(&*fd, &temp, AtFlags::empty());
                let e = io::Error::from(e);
                return if is_dir_in_the_way(&e) {
                    Ok(false)
                } else {
                    Err(e)
                };
            }
            Ok(true)
        })
        .await
        .map_err(|e| local(Op::Symlink, &path, e))?;
        if made {
            Ok(())
        } else {
            Err(SftpError::DirectoryInTheWay {
                side: Side::Local,
                path: shown(&path),
            })
        }
    }

    /// Sets this directory's permission bits and, if given, its times.
    pub(crate) async fn set_attributes(
        &self,
        mode: u32,
        times: Option<(SystemTime, SystemTime)>,
    ) -> Result<(), SftpError> {
        let fd = Arc::clone(&self.fd);
        blocking(move || set_fd_attributes(&*fd, mode, times))
            .await
            .map_err(|e| local(Op::SetAttributes, &self.path, e))
    }
}

fn make_dir(dir: &OwnedFd, name: &OsStr) -> io::Result<()> {
    match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o700)) {
        // made meanwhile (two copies into one place): the open that follows checks what it is
        Ok(()) | Err(Errno::EXIST) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn timespec(t: SystemTime) -> Timespec {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    };
    Timespec {
        tv_sec: secs,
        tv_nsec: 0,
    }
}

fn set_fd_attributes(
    fd: impl AsFd,
    mode: u32,
    times: Option<(SystemTime, SystemTime)>,
) -> io::Result<()> {
    if let Some((atime, mtime)) = times {
        rustix::fs::futimens(
            &fd,
            &Timestamps {
                last_access: timespec(atime),
                last_modification: timespec(mtime),
            },
        )?;
    }
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o7777))?;
    Ok(())
}

/// A file being written under a temporary name in its directory: renamed to
/// its name by [`commit`](Self::commit), removed if dropped before.
#[derive(Debug)]
pub(crate) struct PartialFile {
    dir: Dir,
    temp: OsString,
    name: OsString,
    file: tokio::fs::File,
    committed: bool,
}

impl PartialFile {
    /// Where to write the data.
    pub(crate) fn file(&mut self) -> &mut tokio::fs::File {
        &mut self.file
    }

    /// Gives the complete file `mode` (and the times, if given) on its
    /// descriptor, then renames it over its name.
    pub(crate) async fn commit(
        mut self,
        mode: u32,
        times: Option<(SystemTime, SystemTime)>,
    ) -> Result<(), SftpError> {
        let path = self.dir.child_path(&self.name);
        set_fd_attributes(&self.file, mode, times)
            .map_err(|e| local(Op::SetAttributes, &path, e))?;
        let (fd, temp, name) = (
            Arc::clone(&self.dir.fd),
            self.temp.clone(),
            self.name.clone(),
        );
        let renamed = blocking(
            move || match rustix::fs::renameat(&*fd, &temp, &*fd, &name) {
                Ok(()) => Ok(true),
                Err(e) if is_dir_in_the_way(&e.into()) => Ok(false),
                Err(e) => Err(e.into()),
            },
        )
        .await
        .map_err(|e| local(Op::Rename, &path, e))?;
        if !renamed {
            // dropped below: the temporary file goes
            return Err(SftpError::DirectoryInTheWay {
                side: Side::Local,
                path: shown(&path),
            });
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.committed {
            // a failed or cancelled copy leaves nothing behind
            let _ = rustix::fs::unlinkat(&*self.dir.fd, &self.temp, AtFlags::empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[tokio::test]
    async fn a_link_in_place_of_a_directory_is_replaced_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o700)).unwrap();
        let dest = t.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        std::os::unix::fs::symlink(&outside, dest.join("d")).unwrap();
        let dir = Dir::open(&dest).await.unwrap();
        let sub = dir.subdir(OsStr::new("d")).await.unwrap();
        let mut f = sub.create_file(OsStr::new("f")).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(f.file(), b"x")
            .await
            .unwrap();
        f.commit(0o644, None).await.unwrap();
        sub.set_attributes(0o755, None).await.unwrap();
        assert!(std::fs::symlink_metadata(dest.join("d")).unwrap().is_dir());
        assert_eq!(std::fs::read(dest.join("d/f")).unwrap(), b"x");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert_eq!(mode(&outside), 0o700);
    }

    #[tokio::test]
    async fn a_file_replaces_a_link_and_leaves_its_target_alone() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("bashrc");
        std::fs::write(&target, "mine").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&target, t.path().join("link")).unwrap();
        let dir = Dir::open(t.path()).await.unwrap();
        let mut f = dir.create_file(OsStr::new("link")).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(f.file(), b"theirs")
            .await
            .unwrap();
        f.commit(0o644, None).await.unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine");
        assert_eq!(mode(&target), 0o600);
        assert_eq!(std::fs::read(t.path().join("link")).unwrap(), b"theirs");
        assert_eq!(mode(&t.path().join("link")), 0o644);
    }

    #[tokio::test]
    async fn an_abandoned_file_leaves_nothing_and_keeps_the_old_content() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), "old").unwrap();
        let dir = Dir::open(t.path()).await.unwrap();
        let mut f = dir.create_file(OsStr::new("f")).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(f.file(), b"half")
            .await
            .unwrap();
        drop(f);
        let names: Vec<_> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsString::from("f")]);
        assert_eq!(std::fs::read_to_string(t.path().join("f")).unwrap(), "old");
    }

    #[tokio::test]
    async fn a_directory_in_the_way_of_a_file_or_link_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("d")).unwrap();
        let dir = Dir::open(t.path()).await.unwrap();
        assert!(matches!(
            dir.create_file(OsStr::new("d")).await,
            Err(SftpError::DirectoryInTheWay { .. })
        ));
        assert!(matches!(
            dir.symlink(OsStr::new("d"), OsStr::new("/etc")).await,
            Err(SftpError::DirectoryInTheWay { .. })
        ));
        std::fs::write(t.path().join("f"), "").unwrap();
        assert!(matches!(
            dir.subdir(OsStr::new("f")).await,
            Err(SftpError::NotADirectory { .. })
        ));
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 2);
    }
}
