//! File transfers over SFTP: `scp`-like push and pull of files and directory
//! trees, and installation of scripts for `RunScript` / `RunString`.
//!
//! Everything here works on an already-open [`SftpSession`], so it does not
//! care how the SSH connection was made; [`open_sftp`] opens one on a russh
//! connection.
//!
//! # Semantics (like `scp -r`)
//! * If the destination is an existing directory, every source is copied
//!   into it under its own basename.
//! * Otherwise, with a single source, the destination is the new name of the
//!   copy; its missing parent directories are created (`mkdir -p`).
//! * Otherwise (several sources, or a destination ending in `/`), the
//!   destination is created as a directory (`mkdir -p`) and the sources are
//!   copied into it.
//! * Copying a directory onto an existing non-directory, or several sources
//!   onto an existing file, is a [`SftpError::NotADirectory`] error.
//! * Directories are copied recursively when [`TransferOptions::recursive`]
//!   is true (the default, unlike `scp` without `-r`, because a `Push` of a
//!   directory nearly always means its contents); when false, a directory
//!   source is a [`SftpError::IsADirectory`] error. Copying into an existing
//!   directory merges with what is there.
//! * Permission bits are always preserved (the remote umask does not apply);
//!   access and modification times only with [`TransferOptions::preserve`].
//! * Symbolic links are recreated as links (same target text) unless
//!   [`TransferOptions::follow_symlinks`] is set, in which case what they
//!   point to is copied (a loop is a [`SftpError::SymlinkLoop`] error).
//!   Other special files (fifos, sockets, devices) are not copied: they are
//!   listed in [`TransferStats::skipped`].
//! * All sources are checked before anything is copied, so a missing source
//!   fails the whole call without a partial copy.
//!
//! # What a server cannot make a transfer do
//! The server is untrusted: it may list anything, lie about sizes and never
//! end a file or a listing. [`pull`] (and a [`LocalNode`](crate::LocalNode)
//! copy, which follows the same rules) therefore:
//! * **writes only below the destination**: the destination directory (the
//!   one you name, links in your own path followed) is opened once, and every
//!   entry below is created relative to its parent's open descriptor
//!   (`openat`, `mkdirat`, `symlinkat`, `renameat` with `O_NOFOLLOW`,
//!   `O_EXCL`, `O_DIRECTORY`), never through a path;
//! * **never follows an existing link**: a link where a file, directory or
//!   link is to be made is replaced (the link itself, not what it points
//!   to), in this run or in a later one that finds a link an earlier one
//!   made; a directory in the way of a file or link is
//!   [`SftpError::DirectoryInTheWay`], a file in the way of a directory
//!   [`SftpError::NotADirectory`];
//! * **recreates the server's links as links** (as `sftp get -R` does),
//!   targets unchanged, even pointing outside: by the rule above, nothing
//!   this crate writes later goes through them (other programs you run on
//!   the copy might follow them: that is true of any `scp -r` copy);
//! * **refuses ambiguous names**: a name listed twice in one directory (say a
//!   link, then a directory of that name) is [`SftpError::DuplicateName`],
//!   a name that is empty, `.`, `..` or contains `/` is
//!   [`SftpError::InvalidPath`], several sources with the same name copied
//!   into one directory are [`SftpError::SameName`], before anything is made;
//! * **sets modes on the open file or directory**, never on a path; pulled
//!   modes lose the setuid, setgid and sticky bits;
//! * **bounds every file**: a copy stops at the size the server announced
//!   (as `scp`; a file announced as empty, like those of `/proc`, is read to
//!   its end) and at [`TransferOptions::max_file_size`] bytes (default
//!   [`DEFAULT_MAX_FILE_SIZE`], 1 GiB): a file announced larger is refused
//!   before it is read, one that grows past it is stopped, both with
//!   [`SftpError::FileTooLarge`];
//! * **bounds every listing**: at most [`MAX_LISTING_ENTRIES`] entries,
//!   [`MAX_LISTING_BYTES`] and [`LISTING_TIMEOUT`], else
//!   [`SftpError::ListingTooLong`];
//! * **leaves no partial file**: a file is written under a temporary name
//!   (`.ajpart-PID-N`, mode 600), then given its mode and times and renamed
//!   over its name. A failed, stopped or cancelled copy removes it: what was
//!   there before stays as it was (a process killed outright can leave a
//!   `.ajpart-*` file). Directories and files completed before a failure stay.
//!
//! [`push`] writes into a remote tree the server describes, where SFTP has
//! no `O_NOFOLLOW`: a remote link found where a file or directory is to be
//! written is removed first (the destination you name yourself is used as
//! it is, links included, as `scp` does), and file modes are set on the open
//! handle.
//!
//! Error messages escape remote-controlled text (names, the server's own
//! messages): control characters are shown as `\x1b`, never sent raw to a
//! terminal.
//!
//! Remote paths are relative to the login home unless absolute; a leading
//! `~/` is accepted and means the same. Data is streamed in chunks with many
//! SFTP requests in flight, never buffered whole.
//!
//! Compatibility note: the SFTP `SYMLINK` request is sent in the argument
//! order OpenSSH's `sftp-server` expects (which swaps the draft's order).

mod error;
mod guard;
mod local;
mod pull;
mod push;
mod remote;
mod script;
mod session;
mod stream;

pub use error::{Op, SftpError, Side};
pub use guard::{MAX_LISTING_BYTES, MAX_LISTING_ENTRIES};
pub(crate) use local::{copy_local, expand_home};
pub use pull::pull;
pub use push::push;
pub use remote::remove_remote;
pub use remote::LISTING_TIMEOUT;
pub use russh_sftp::client::SftpSession;
pub use script::{upload_script, ScriptSource, REMOTE_SCRIPT_DIR};
pub use session::{open_sftp, open_sftp_on_channel};
pub(crate) use session::{sftp_on_stream, start_subsystem};

/// How [`push`] and [`pull`] copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOptions {
    /// Copy directories with their contents (default `true`); when `false`,
    /// a directory source is an error.
    pub recursive: bool,
    /// Also copy access and modification times (default `false`, like
    /// `scp -p`). Permission bits are preserved in every case.
    pub preserve: bool,
    /// Copy what symbolic links point to instead of recreating the links
    /// (default `false`). Applies to the sources themselves and to links
    /// found inside directories, on the reading side of the transfer.
    pub follow_symlinks: bool,
    /// Most bytes accepted per file by a pull (default
    /// [`DEFAULT_MAX_FILE_SIZE`], `None`: no cap). A file that announces
    /// more is refused before it is read; one that grows past it while read
    /// is stopped there. Either way the copy fails with
    /// [`SftpError::FileTooLarge`] and leaves nothing at the destination.
    /// Pushes (the files are your own) ignore it.
    pub max_file_size: Option<u64>,
}

/// The default cap on bytes per pulled file: 1 GiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;

impl Default for TransferOptions {
    fn default() -> Self {
        Self {
            recursive: true,
            preserve: false,
            follow_symlinks: false,
            max_file_size: Some(DEFAULT_MAX_FILE_SIZE),
        }
    }
}

impl TransferOptions {
    /// The defaults: recursive, permissions kept, times not kept, links
    /// recreated as links, pulled files capped at [`DEFAULT_MAX_FILE_SIZE`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TransferOptions::recursive`].
    pub fn recursive(mut self, yes: bool) -> Self {
        self.recursive = yes;
        self
    }

    /// Sets [`TransferOptions::preserve`].
    pub fn preserve(mut self, yes: bool) -> Self {
        self.preserve = yes;
        self
    }

    /// Sets [`TransferOptions::follow_symlinks`].
    pub fn follow_symlinks(mut self, yes: bool) -> Self {
        self.follow_symlinks = yes;
        self
    }

    /// Sets [`TransferOptions::max_file_size`] (`None`: no cap).
    pub fn max_file_size(mut self, bytes: Option<u64>) -> Self {
        self.max_file_size = bytes;
        self
    }
}

/// What a [`push`] or [`pull`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferStats {
    /// Regular files copied.
    pub files: u64,
    /// Directories created or merged into.
    pub dirs: u64,
    /// Symbolic links recreated as links.
    pub symlinks: u64,
    /// Bytes of file data copied.
    pub bytes: u64,
    /// Source paths not copied because they are neither regular files,
    /// directories nor symbolic links (fifos, sockets, devices).
    pub skipped: Vec<String>,
}
