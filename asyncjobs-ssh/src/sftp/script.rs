//! Installing scripts for `RunScript` / `RunString`.

use std::{
    collections::HashSet,
    hash::{BuildHasher, Hasher, RandomState},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use russh_sftp::{
    client::SftpSession,
    protocol::{OpenFlags, StatusCode},
};
use tokio::io::AsyncRead;

use super::error::{local, remote, shown, status_code};
use super::remote::{join, mkdir_p, set_attributes, stat};
use super::stream::{copy, open_for_write, upload_file, CreateMode, Ends, Limit};
use super::{Op, SftpError, Side};

/// Remote directory (relative to the login home) where scripts and their
/// include files are installed.
pub const REMOTE_SCRIPT_DIR: &str = ".asyncjobs-remote";

/// Mode of installed scripts.
const SCRIPT_MODE: u32 = 0o755;

/// Unique names tried before giving up (a clash needs 26^8 bad luck).
const NAME_ATTEMPTS: usize = 8;

/// Longest script base name kept from the hint.
const MAX_BASE_LEN: usize = 64;

/// The script to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptSource {
    /// A local file (symbolic links are followed).
    File(PathBuf),
    /// The script's text (it should start with a `#!` line).
    Text(String),
}

/// Installs a script into [`REMOTE_SCRIPT_DIR`] (created if needed) and
/// returns its remote path, relative to the login home, ready to execute
/// (e.g. `.asyncjobs-remote/deploy.sh-qzkfhwra`).
///
/// The remote name is `<base>-<8 random lowercase letters>`, created
/// exclusively so concurrent runs never share (or overwrite a running)
/// file; `<base>` is the last component of `name_hint` (or of the file for
/// [`ScriptSource::File`] when the hint is empty, else `script`) with
/// characters other than `A-Za-z0-9._+-` replaced by `_`. Its mode is 0755.
///
/// Each of `includes` is installed next to it under its own file name, with
/// its own mode, replacing an older copy (written to a temporary name and
/// renamed into place, so readers see a whole file). Includes are checked
/// before anything is uploaded: a missing one is a
/// [`SftpError::MissingInclude`] error.
///
/// Remove the script with [`remove_remote`](super::remove_remote) once it has run. Includes are
/// left in place: concurrent runs of other scripts may share them.
pub async fn upload_script(
    sftp: &SftpSession,
    name_hint: &str,
    body: &ScriptSource,
    includes: &[PathBuf],
) -> Result<String, SftpError> {
    let base = script_base(name_hint, body);
    let includes = check_includes(&base, includes).await?;
    // Open a local script before touching the remote host.
    let (mut reader, from): (Box<dyn AsyncRead + Send + Unpin + '_>, String) = match body {
        ScriptSource::File(path) => {
            let md = tokio::fs::metadata(path)
                .await
                .map_err(|e| local(Op::Open, path, e))?;
            if !md.is_file() {
                return Err(SftpError::InvalidPath {
                    side: Side::Local,
                    path: shown(path),
                    reason: "a script must be a regular file",
                });
            }
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| local(Op::Open, path, e))?;
            (Box::new(file), shown(path))
        }
        ScriptSource::Text(text) => (Box::new(text.as_bytes()), "<script text>".to_owned()),
    };

    mkdir_p(sftp, REMOTE_SCRIPT_DIR).await?;
    for (path, md, name) in &includes {
        install_include(sftp, path, md, name).await?;
    }

    let flags = OpenFlags::CREATE | OpenFlags::EXCLUDE | OpenFlags::WRITE;
    for _ in 0..NAME_ATTEMPTS {
        let remote_path = join(REMOTE_SCRIPT_DIR, &format!("{base}-{}", random_letters()));
        let mut file = match open_for_write(sftp, &remote_path, flags, SCRIPT_MODE).await {
            Ok(file) => file,
            Err(SftpError::AlreadyExists { .. }) => continue,
            Err(e) => return Err(e),
        };
        let ends = Ends {
            from: &from,
            from_side: Side::Local,
            to: &remote_path,
            to_side: Side::Remote,
        };
        let mut filled = copy(&mut reader, &mut file, ends, Limit::default())
            .await
            .map(drop);
        if filled.is_ok() {
            // The create mode went through the server's umask: set it for real.
            filled = set_attributes(sftp, &remote_path, Some(SCRIPT_MODE), None).await;
        }
        if let Err(e) = filled {
            // Do not leave a half-written script behind; the original error
            // matters more than a failed clean-up.
            let _ = sftp.remove_file(remote_path.as_str()).await;
            return Err(e);
        }
        return Ok(remote_path);
    }
    Err(SftpError::AlreadyExists {
        side: Side::Remote,
        path: join(REMOTE_SCRIPT_DIR, &format!("{base}-*")),
    })
}

/// Checks every include is a local regular file with a distinct UTF-8 name.
async fn check_includes(
    script: &str,
    includes: &[PathBuf],
) -> Result<Vec<(PathBuf, std::fs::Metadata, String)>, SftpError> {
    let mut checked = Vec::with_capacity(includes.len());
    let mut names = HashSet::new();
    for path in includes {
        let md = match tokio::fs::metadata(path).await {
            Ok(md) => md,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SftpError::MissingInclude {
                    script: script.to_owned(),
                    path: path.clone(),
                })
            }
            Err(e) => return Err(local(Op::Stat, path, e)),
        };
        if !md.is_file() {
            return Err(SftpError::InvalidPath {
                side: Side::Local,
                path: shown(path),
                reason: "an include must be a regular file",
            });
        }
        let name = path
            .file_name()
            .ok_or_else(|| SftpError::InvalidPath {
                side: Side::Local,
                path: shown(path),
                reason: "an include must have a file name",
            })?
            .to_str()
            .ok_or_else(|| SftpError::NonUtf8Path { path: path.clone() })?
            .to_owned();
        if !names.insert(name.clone()) {
            return Err(SftpError::InvalidPath {
                side: Side::Local,
                path: shown(path),
                reason: "two includes have the same file name",
            });
        }
        checked.push((path.clone(), md, name));
    }
    Ok(checked)
}

/// Uploads one include to a temporary name, then moves it into place.
async fn install_include(
    sftp: &SftpSession,
    path: &Path,
    md: &std::fs::Metadata,
    name: &str,
) -> Result<(), SftpError> {
    let target = join(REMOTE_SCRIPT_DIR, name);
    let temp = join(
        REMOTE_SCRIPT_DIR,
        &format!(".{name}.{}.part", random_letters()),
    );
    let uploaded = upload_file(
        sftp,
        path,
        md,
        &temp,
        CreateMode::Exclusive,
        md.mode(),
        false,
    )
    .await;
    if let Err(e) = uploaded {
        let _ = sftp.remove_file(temp.as_str()).await;
        return Err(e);
    }
    // SFTP v3 rename refuses to replace: remove the old copy first. If a
    // concurrent upload puts its copy back in between, that copy is as good.
    if let Err(e) = sftp.remove_file(target.as_str()).await {
        if status_code(&e) != Some(StatusCode::NoSuchFile) {
            let _ = sftp.remove_file(temp.as_str()).await;
            return Err(remote(Op::Remove, &target, e));
        }
    }
    if let Err(e) = sftp.rename(temp.as_str(), target.as_str()).await {
        let _ = sftp.remove_file(temp.as_str()).await;
        if stat(sftp, &target, false).await?.is_none() {
            return Err(remote(Op::Rename, &temp, e));
        }
    }
    Ok(())
}

/// The sanitised base name of the remote script.
fn script_base(name_hint: &str, body: &ScriptSource) -> String {
    let from_hint = name_hint.rsplit('/').next().unwrap_or("");
    let raw = if !from_hint.is_empty() {
        from_hint.to_owned()
    } else if let ScriptSource::File(path) = body {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_BASE_LEN)
        .collect();
    if clean.is_empty() || clean == "." || clean == ".." {
        "script".to_owned()
    } else {
        clean
    }
}

/// Eight random lowercase letters. Uniqueness is enforced by the exclusive
/// create; this only has to make clashes rare, so the standard library's
/// randomly keyed SipHash over a counter, the time and the pid suffices.
fn random_letters() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    let mut bits = hasher.finish();
    (0..8)
        .map(|_| {
            let letter = b'a' + (bits % 26) as u8;
            bits /= 26;
            char::from(letter)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_base_sanitises_the_hint() {
        let text = ScriptSource::Text(String::new());
        assert_eq!(script_base("dir/my script$.sh", &text), "my_script_.sh");
        assert_eq!(script_base("", &text), "script");
        assert_eq!(script_base("..", &text), "script");
        let file = ScriptSource::File(PathBuf::from("/x/run.sh"));
        assert_eq!(script_base("", &file), "run.sh");
    }

    #[test]
    fn random_letters_are_eight_lowercase_and_vary() {
        let a = random_letters();
        let b = random_letters();
        assert_eq!(a.len(), 8);
        assert!(a.chars().all(|c| c.is_ascii_lowercase()));
        assert_ne!(a, b);
    }
}
