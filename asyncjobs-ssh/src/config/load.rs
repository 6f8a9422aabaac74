//! Reading config files into entries, once: every line split and checked
//! (as OpenSSH rejects a bad line wherever it is), `Include` globs resolved
//! and the included files read once each, however often they are included.
//! Everything is bounded: bytes per file and in all, line length, files,
//! include depth and the number of file inclusions a query walks through.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::keyword::{self, Kind, Report};
use super::lexer;
use super::matching::{self, Term};
use super::tokens::{self, Local};
use super::values::{self, Setting};

/// Limits on what is read (each one, exceeded, is a clear error).
pub(crate) mod limits {
    /// Bytes of one file.
    pub const FILE_BYTES: u64 = 16 << 20;
    /// Bytes of all the files read.
    pub const TOTAL_BYTES: usize = 32 << 20;
    /// Bytes of one line.
    pub const LINE_BYTES: usize = 64 << 10;
    /// Distinct files.
    pub const FILES: usize = 256;
    /// Nesting of `Include` (OpenSSH's `READCONF_MAX_DEPTH`).
    pub const INCLUDE_DEPTH: usize = 16;
    /// File inclusions in all, counting a file each time it is included.
    pub const INCLUDED: usize = 1024;
    /// Entries a query walks through, counting included files each time.
    pub const WALKED_ENTRIES: usize = 4_000_000;
    /// `Host` patterns in all the files.
    pub const HOST_PATTERNS: usize = 1_000_000;
}

/// Index of a file in [`Loaded::files`].
pub(crate) type FileId = usize;

/// One meaningful line.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub line: usize,
    pub item: Item,
}

/// What a line says.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Host(Box<[Box<str>]>),
    Match(Box<[Term]>),
    Include(Box<[FileId]>),
    Set(Setting),
    /// A keyword this crate does not act on, to report if it applies.
    Other {
        keyword: Box<str>,
        value: Box<str>,
        report: Report,
        accumulates: bool,
    },
    /// A keyword OpenSSH does not know: an error unless `IgnoreUnknown` covers it.
    Unknown(Box<str>),
}

/// One file.
#[derive(Debug, Clone)]
pub(crate) struct ConfigFile {
    pub path: PathBuf,
    /// A user file (relative includes from ~/.ssh, `~` allowed), not a system one.
    pub user: bool,
    pub entries: Vec<Entry>,
}

/// All the files of a config.
#[derive(Debug, Clone, Default)]
pub(crate) struct Loaded {
    pub files: Vec<ConfigFile>,
    /// The top files, read in order (user config, then system config).
    pub roots: Vec<FileId>,
    /// Some `Match` asks for `final`: every query takes a second pass.
    pub wants_final: bool,
}

/// Reads config files.
pub(crate) struct Loader<'a> {
    local: &'a Local,
    loaded: Loaded,
    index: HashMap<(PathBuf, bool), FileId>,
    bytes: usize,
    patterns: usize,
}

fn read_err(path: &Path, message: impl Into<String>) -> ConfigError {
    ConfigError::Read {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn invalid(path: &Path, line: usize, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

impl<'a> Loader<'a> {
    pub fn new(local: &'a Local) -> Self {
        Loader {
            local,
            loaded: Loaded::default(),
            index: HashMap::new(),
            bytes: 0,
            patterns: 0,
        }
    }

    /// Adds a top file. `required`: a missing file is an error (`-F`).
    /// `checked`: its owner and mode are checked (`~/.ssh/config`).
    pub fn root(
        &mut self,
        path: &Path,
        user: bool,
        required: bool,
        checked: bool,
    ) -> Result<(), ConfigError> {
        match self.file(path, user, checked)? {
            Some(id) => self.loaded.roots.push(id),
            None if required => return Err(read_err(path, "no such file")),
            None => {}
        }
        Ok(())
    }

    /// Adds a top file from text (no file system access but for its includes).
    pub fn root_text(&mut self, name: &Path, text: &[u8]) -> Result<(), ConfigError> {
        let id = self.reserve(name, true)?;
        let entries = self.parse(name, true, text)?;
        self.loaded.files[id].entries = entries;
        self.loaded.roots.push(id);
        Ok(())
    }

    /// The files, once the include tree is checked against the limits.
    pub fn finish(self) -> Result<Loaded, ConfigError> {
        let mut count = 0usize;
        let mut walked = 0usize;
        for &root in &self.loaded.roots {
            walked += self.loaded.files[root].entries.len();
            check_tree(&self.loaded, root, 0, &mut count, &mut walked)?;
        }
        Ok(self.loaded)
    }

    fn reserve(&mut self, path: &Path, user: bool) -> Result<FileId, ConfigError> {
        if self.loaded.files.len() >= limits::FILES {
            return Err(read_err(
                path,
                format!("more than {} config files", limits::FILES),
            ));
        }
        let id = self.loaded.files.len();
        self.loaded.files.push(ConfigFile {
            path: path.to_path_buf(),
            user,
            entries: Vec::new(),
        });
        self.index.insert((path.to_path_buf(), user), id);
        Ok(id)
    }

    /// Reads and parses a file once; `None` if it does not exist.
    fn file(
        &mut self,
        path: &Path,
        user: bool,
        checked: bool,
    ) -> Result<Option<FileId>, ConfigError> {
        if let Some(&id) = self.index.get(&(path.to_path_buf(), user)) {
            return Ok(Some(id));
        }
        let Some(bytes) = read_bounded(path, checked, self.local)? else {
            return Ok(None);
        };
        self.bytes += bytes.len();
        if self.bytes > limits::TOTAL_BYTES {
            return Err(read_err(
                path,
                format!(
                    "the config files hold more than {} MiB in all",
                    limits::TOTAL_BYTES >> 20
                ),
            ));
        }
        let id = self.reserve(path, user)?;
        let entries = self.parse(path, user, &bytes)?;
        self.loaded.files[id].entries = entries;
        Ok(Some(id))
    }

    fn parse(&mut self, path: &Path, user: bool, bytes: &[u8]) -> Result<Vec<Entry>, ConfigError> {
        let mut entries = Vec::new();
        for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            if raw.len() > limits::LINE_BYTES {
                return Err(invalid(
                    path,
                    n,
                    format!("line longer than {} KiB", limits::LINE_BYTES >> 10),
                ));
            }
            let text = match std::str::from_utf8(raw) {
                Ok(t) => t,
                Err(_) => {
                    let start = raw.iter().position(|b| !b" \t\r".contains(b));
                    if start.is_none_or(|s| raw[s] == b'#') {
                        continue; // a comment or blank line: its bytes do not matter
                    }
                    return Err(invalid(path, n, "line is not valid UTF-8"));
                }
            };
            let line = match lexer::split(text) {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(msg) => return Err(invalid(path, n, msg)),
            };
            let item = match keyword::lookup(&line.keyword) {
                None => Item::Unknown(line.keyword.clone().into()),
                Some(Kind::Host) => {
                    if line.args.iter().any(String::is_empty) {
                        return Err(invalid(path, n, "keyword host empty argument"));
                    }
                    self.patterns += line.args.len();
                    if self.patterns > limits::HOST_PATTERNS {
                        return Err(invalid(
                            path,
                            n,
                            format!("more than {} Host patterns in all", limits::HOST_PATTERNS),
                        ));
                    }
                    Item::Host(line.args.iter().map(|a| a.as_str().into()).collect())
                }
                Some(Kind::Match) => {
                    let terms = matching::parse(line.rest)
                        .map_err(|m| invalid(path, n, format!("bad Match condition: {m}")))?;
                    self.loaded.wants_final |= matching::wants_final(&terms);
                    Item::Match(terms.into())
                }
                Some(Kind::Include) => Item::Include(self.include(path, n, user, &line.args)?),
                Some(Kind::Set(key)) => {
                    Item::Set(values::setting(key, &line).map_err(|m| invalid(path, n, m))?)
                }
                Some(Kind::Other {
                    syntax,
                    report,
                    accumulates,
                }) => {
                    let value =
                        values::check_syntax(syntax, &line).map_err(|m| invalid(path, n, m))?;
                    if matches!(report, Report::Ignore) {
                        continue;
                    }
                    Item::Other {
                        keyword: line.written.clone().into(),
                        value: value.into(),
                        report,
                        accumulates,
                    }
                }
            };
            entries.push(Entry { line: n, item });
        }
        entries.shrink_to_fit();
        Ok(entries)
    }

    /// The files an `Include` line names, read (in glob order).
    fn include(
        &mut self,
        path: &Path,
        n: usize,
        user: bool,
        args: &[String],
    ) -> Result<Box<[FileId]>, ConfigError> {
        let mut ids = Vec::new();
        for arg in args {
            if arg.is_empty() {
                return Err(invalid(path, n, "keyword include empty argument"));
            }
            if arg.starts_with('~') && !user {
                return Err(invalid(path, n, format!("bad include path {arg}")));
            }
            let full = if arg.starts_with('/') || arg.starts_with('~') {
                arg.clone()
            } else if user {
                format!("~/.ssh/{arg}")
            } else {
                format!("/etc/ssh/{arg}")
            };
            let Ok(full) = tokens::tilde(&full, &self.local.glob_home) else {
                continue; // ~user of no user: glob(3) matches nothing
            };
            let matched = super::glob::glob(&full, limits::FILES)
                .map_err(|m| invalid(path, n, format!("Include {arg}: {m}")))?;
            for file in matched {
                if let Some(id) = self.file(&file, user, true)? {
                    ids.push(id);
                }
            }
        }
        Ok(ids.into())
    }
}

/// Checks include depth and the inclusions a query would walk through.
fn check_tree(
    loaded: &Loaded,
    id: FileId,
    depth: usize,
    count: &mut usize,
    walked: &mut usize,
) -> Result<(), ConfigError> {
    let file = &loaded.files[id];
    for e in &file.entries {
        let Item::Include(ids) = &e.item else {
            continue;
        };
        if ids.is_empty() {
            continue;
        }
        if depth + 1 > limits::INCLUDE_DEPTH {
            return Err(invalid(
                &file.path,
                e.line,
                format!(
                    "Include nested more than {} levels deep (a file including itself?)",
                    limits::INCLUDE_DEPTH
                ),
            ));
        }
        for &child in ids.iter() {
            *count += 1;
            *walked += loaded.files[child].entries.len();
            if *count > limits::INCLUDED || *walked > limits::WALKED_ENTRIES {
                return Err(invalid(
                    &file.path,
                    e.line,
                    format!(
                        "Include: the files are included more than {} times in all \
                         (or hold more than {} lines counted each time they are included)",
                        limits::INCLUDED,
                        limits::WALKED_ENTRIES
                    ),
                ));
            }
            check_tree(loaded, child, depth + 1, count, walked)?;
        }
    }
    Ok(())
}

/// A file's bytes, at most [`limits::FILE_BYTES`]; `None` if it does not exist.
fn read_bounded(path: &Path, checked: bool, local: &Local) -> Result<Option<Vec<u8>>, ConfigError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(path, e.to_string())),
    };
    let ft = meta.file_type();
    if ft.is_dir() {
        // OpenSSH reads nothing from a directory, without an error
        return Ok(Some(Vec::new()));
    }
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() || ft.is_socket() {
            return Err(read_err(path, "not a regular file"));
        }
    }
    if checked && !secure(&meta, local) {
        return Err(read_err(
            path,
            "bad owner or permissions (it must be owned by you or root, and writable by no one else)",
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| read_err(path, e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(limits::FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| read_err(path, e.to_string()))?;
    if bytes.len() as u64 > limits::FILE_BYTES {
        return Err(read_err(
            path,
            format!("larger than {} MiB", limits::FILE_BYTES >> 20),
        ));
    }
    Ok(Some(bytes))
}

/// OpenSSH's permission check of user config files: owned by the user or
/// root, writable by nobody else; group-writable is accepted for the user's
/// private group (as Debian's OpenSSH does).
fn secure(meta: &std::fs::Metadata, local: &Local) -> bool {
    let mode = meta.mode();
    if meta.uid() != 0 && meta.uid() != local.uid {
        return false;
    }
    if mode & 0o002 != 0 {
        return false;
    }
    if mode & 0o020 != 0 {
        let group = nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(meta.gid()))
            .ok()
            .flatten();
        return group
            .is_some_and(|g| g.name == local.user && g.mem.iter().all(|m| *m == local.user));
    }
    true
}
