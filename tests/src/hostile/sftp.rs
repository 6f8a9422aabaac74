//! The hostile SFTP subsystem: serves the fake [`Node`] tree with its lies
//! (listings, endless reads), accepts writes into it, and logs every request
//! that changes something, so a test can check what a client did.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use russh_sftp::protocol::{
    Attrs, Data as DataPacket, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode,
    Version,
};
use russh_sftp::server::StatusReply;

use super::tree::{canonical, components, lookup, Data, Node};

/// Entries per `READDIR` answer (OpenSSH's sftp-server sends up to 100).
const ENTRIES_PER_READDIR: usize = 100;
/// Entries per answer of an endless listing: as many as a packet holds
/// comfortably, as a server trying to exhaust the client would.
pub const ENDLESS_PER_READDIR: usize = 2000;
/// Bytes per answer to a read of an endless file.
const ENDLESS_READ: u32 = 64 * 1024;

/// What the SFTP side shares with the server and the test.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) tree: Mutex<Node>,
    /// Requests that change the tree, in order: `open-write PATH`, `mkdir PATH`,
    /// `remove PATH`, `rmdir PATH`, `setstat PATH`, `fsetstat PATH`, `symlink PATH`.
    pub(crate) log: Mutex<Vec<String>>,
    /// Bytes of file data sent.
    pub(crate) served: AtomicU64,
    /// Directory entries sent.
    pub(crate) listed: AtomicU64,
}

/// Locks a mutex, ignoring poisoning (a panicking test thread must not hide
/// what the server saw).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

enum Open {
    Dir {
        path: String,
        next: usize,
        endless: u64,
    },
    File {
        path: String,
    },
}

/// One SFTP session of the hostile server.
pub(crate) struct HostileSftp {
    shared: Arc<Shared>,
    handles: HashMap<String, Open>,
    next_handle: u64,
}

impl HostileSftp {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        HostileSftp {
            shared,
            handles: HashMap::new(),
            next_handle: 0,
        }
    }

    fn log(&self, what: &str, path: &str) {
        lock(&self.shared.log).push(format!("{what} {path}"));
    }

    fn handle(&mut self, open: Open) -> String {
        self.next_handle += 1;
        let h = format!("h{}", self.next_handle);
        self.handles.insert(h.clone(), open);
        h
    }
}

fn attrs_of(node: &Node) -> FileAttributes {
    FileAttributes {
        size: node.announced_size(),
        uid: Some(1000),
        user: None,
        gid: Some(1000),
        group: None,
        permissions: Some(node.mode_bits()),
        atime: Some(1_600_000_000),
        mtime: Some(1_600_000_000),
    }
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

fn fail(code: StatusCode) -> StatusReply {
    StatusReply::new(code)
}

/// The canonical components of directory `parts`, links inside the tree
/// resolved (at most 16), or `None` if it is not a directory of the tree.
fn resolve_dir(root: &Node, parts: &[&str]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut todo: Vec<String> = parts.iter().rev().map(|s| s.to_string()).collect();
    let mut hops = 16;
    while let Some(part) = todo.pop() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                out.pop();
                continue;
            }
            _ => {}
        }
        let here: Vec<&str> = out.iter().map(String::as_str).collect();
        let Some(Node::Dir { entries, .. }) = lookup(root, &here.join("/"), true) else {
            return None;
        };
        let (_, child) = entries.iter().rev().find(|(n, _)| *n == part)?;
        match child {
            Node::Link(target) => {
                hops -= 1;
                if hops == 0 {
                    return None;
                }
                if target.starts_with('/') {
                    out.clear();
                }
                todo.extend(target.split('/').rev().map(str::to_string));
            }
            Node::Dir { .. } => out.push(part),
            _ => return None,
        }
    }
    Some(out)
}

/// The entries of a directory of the fake tree, in listing order.
type Entries = Vec<(String, Node)>;

fn entries_mut<'a>(root: &'a mut Node, canon: &[String]) -> Option<&'a mut Entries> {
    let mut node = root;
    for part in canon {
        let Node::Dir { entries, .. } = node else {
            return None;
        };
        node = &mut entries.iter_mut().rev().find(|(n, _)| n == part)?.1;
    }
    match node {
        Node::Dir { entries, .. } => Some(entries),
        _ => None,
    }
}

/// The entries of the parent directory of `path` and its last name.
fn parent_entries<'a>(
    root: &'a mut Node,
    path: &str,
) -> Result<(&'a mut Entries, String), StatusReply> {
    let parts = components(path);
    let (name, dir) = parts.split_last().ok_or(fail(StatusCode::Failure))?;
    let canon = resolve_dir(root, dir).ok_or(fail(StatusCode::NoSuchFile))?;
    let entries = entries_mut(root, &canon).ok_or(fail(StatusCode::NoSuchFile))?;
    Ok((entries, name.to_string()))
}

impl russh_sftp::server::Handler for HostileSftp {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        fail(StatusCode::OpUnsupported)
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        Ok(Name {
            id,
            files: vec![File::dummy(canonical(&path))],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let tree = lock(&self.shared.tree);
        let node = lookup(&tree, &path, true).ok_or(fail(StatusCode::NoSuchFile))?;
        Ok(Attrs {
            id,
            attrs: attrs_of(node),
        })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let tree = lock(&self.shared.tree);
        let node = lookup(&tree, &path, false).ok_or(fail(StatusCode::NoSuchFile))?;
        Ok(Attrs {
            id,
            attrs: attrs_of(node),
        })
    }

    async fn readlink(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let tree = lock(&self.shared.tree);
        // of a name listed twice, the link (as a server that lies would answer)
        let parts = components(&path);
        let link =
            parts
                .split_last()
                .and_then(|(name, dir)| match lookup(&tree, &dir.join("/"), true) {
                    Some(Node::Dir { entries, .. }) => entries
                        .iter()
                        .find(|(n, e)| n == name && matches!(e, Node::Link(_)))
                        .map(|(_, e)| e),
                    _ => None,
                });
        match link.or_else(|| lookup(&tree, &path, false)) {
            Some(Node::Link(target)) => Ok(Name {
                id,
                files: vec![File::dummy(target.clone())],
            }),
            Some(_) => Err(fail(StatusCode::Failure)),
            None => Err(fail(StatusCode::NoSuchFile)),
        }
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let is_dir = matches!(
            lookup(&lock(&self.shared.tree), &path, true),
            Some(Node::Dir { .. } | Node::EndlessDir)
        );
        if !is_dir {
            return Err(fail(StatusCode::NoSuchFile));
        }
        let handle = self.handle(Open::Dir {
            path,
            next: 0,
            endless: 0,
        });
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        let shared = Arc::clone(&self.shared);
        let Some(Open::Dir {
            path,
            next,
            endless,
        }) = self.handles.get_mut(&handle)
        else {
            return Err(fail(StatusCode::Failure));
        };
        let tree = lock(&shared.tree);
        let files: Vec<File> = match lookup(&tree, path, true) {
            Some(Node::Dir { entries, .. }) => entries
                .iter()
                .skip(*next)
                .take(ENTRIES_PER_READDIR)
                .map(|(name, node)| File::new(name.clone(), attrs_of(node)))
                .collect(),
            Some(Node::EndlessDir) => (0..ENDLESS_PER_READDIR)
                .map(|i| {
                    let n = *endless + i as u64;
                    File::new(format!("endless-{n:012}"), attrs_of(&Node::file("x")))
                })
                .collect(),
            _ => return Err(fail(StatusCode::NoSuchFile)),
        };
        if files.is_empty() {
            return Err(fail(StatusCode::Eof));
        }
        *next += files.len();
        *endless += files.len() as u64;
        shared
            .listed
            .fetch_add(files.len() as u64, Ordering::Relaxed);
        Ok(Name { id, files })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        if pflags.contains(OpenFlags::WRITE) {
            self.log("open-write", &filename);
            let mut tree = lock(&self.shared.tree);
            let (entries, name) = parent_entries(&mut tree, &filename)?;
            let existing = entries.iter().rposition(|(n, _)| *n == name);
            match existing {
                Some(i) if matches!(entries[i].1, Node::Dir { .. } | Node::EndlessDir) => {
                    return Err(fail(StatusCode::Failure))
                }
                Some(_) if pflags.contains(OpenFlags::EXCLUDE) => {
                    return Err(fail(StatusCode::Failure))
                }
                // a link is written through only to a file of the tree; a
                // client that cares removes it first
                Some(i) => entries[i].1 = Node::file(Vec::new()),
                None if pflags.contains(OpenFlags::CREATE) => {
                    entries.push((name, Node::file(Vec::new())))
                }
                None => return Err(fail(StatusCode::NoSuchFile)),
            }
        } else if !matches!(
            lookup(&lock(&self.shared.tree), &filename, true),
            Some(Node::File { .. })
        ) {
            return Err(fail(StatusCode::NoSuchFile));
        }
        let handle = self.handle(Open::File { path: filename });
        Ok(Handle { id, handle })
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<DataPacket, Self::Error> {
        let Some(Open::File { path }) = self.handles.get(&handle) else {
            return Err(fail(StatusCode::Failure));
        };
        let tree = lock(&self.shared.tree);
        let data = match lookup(&tree, path, true) {
            Some(Node::File {
                data: Data::Bytes(bytes),
                ..
            }) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                if start >= bytes.len() {
                    return Err(fail(StatusCode::Eof));
                }
                let end = start.saturating_add(len as usize).min(bytes.len());
                bytes[start..end].to_vec()
            }
            Some(Node::File {
                data: Data::Endless(byte),
                ..
            }) => vec![*byte; len.min(ENDLESS_READ) as usize],
            _ => return Err(fail(StatusCode::NoSuchFile)),
        };
        self.shared
            .served
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(DataPacket { id, data })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let Some(Open::File { path }) = self.handles.get(&handle) else {
            return Err(fail(StatusCode::Failure));
        };
        let path = path.clone();
        let mut tree = lock(&self.shared.tree);
        let (entries, name) = parent_entries(&mut tree, &path)?;
        let Some((
            _,
            Node::File {
                data: Data::Bytes(bytes),
                announced,
                ..
            },
        )) = entries.iter_mut().rev().find(|(n, _)| *n == name)
        else {
            return Err(fail(StatusCode::Failure));
        };
        let start = usize::try_from(offset).map_err(|_| fail(StatusCode::Failure))?;
        let end = start.saturating_add(data.len());
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[start..end].copy_from_slice(&data);
        *announced = Some(bytes.len() as u64);
        Ok(ok(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        self.handles.remove(&handle);
        Ok(ok(id))
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let Some(Open::File { path }) = self.handles.get(&handle) else {
            return Err(fail(StatusCode::Failure));
        };
        let tree = lock(&self.shared.tree);
        let node = lookup(&tree, path, true).ok_or(fail(StatusCode::NoSuchFile))?;
        Ok(Attrs {
            id,
            attrs: attrs_of(node),
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        self.log("setstat", &path);
        let mut tree = lock(&self.shared.tree);
        let (entries, name) = parent_entries(&mut tree, &path)?;
        set_mode(entries, &name, attrs.permissions)?;
        Ok(ok(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let Some(Open::File { path }) = self.handles.get(&handle) else {
            return Err(fail(StatusCode::Failure));
        };
        let path = path.clone();
        self.log("fsetstat", &path);
        let mut tree = lock(&self.shared.tree);
        let (entries, name) = parent_entries(&mut tree, &path)?;
        set_mode(entries, &name, attrs.permissions)?;
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        self.log("mkdir", &path);
        let mut tree = lock(&self.shared.tree);
        let (entries, name) = parent_entries(&mut tree, &path)?;
        if entries.iter().any(|(n, _)| *n == name) {
            return Err(fail(StatusCode::Failure));
        }
        entries.push((name, Node::dir(Vec::<(String, Node)>::new())));
        Ok(ok(id))
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        self.log("remove", &filename);
        let mut tree = lock(&self.shared.tree);
        let (entries, name) = parent_entries(&mut tree, &filename)?;
        match entries.iter().rposition(|(n, _)| *n == name) {
            Some(i) if !matches!(entries[i].1, Node::Dir { .. } | Node::EndlessDir) => {
                entries.remove(i);
                Ok(ok(id))
            }
            Some(_) => Err(fail(StatusCode::Failure)),
            None => Err(fail(StatusCode::NoSuchFile)),
        }
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, Self::Error> {
        self.log("rmdir", &path);
        let mut tree = lock(&self.shared.tree);
        let (entries, name) = parent_entries(&mut tree, &path)?;
        match entries.iter().rposition(|(n, _)| *n == name) {
            Some(i) if matches!(&entries[i].1, Node::Dir { entries, .. } if entries.is_empty()) => {
                entries.remove(i);
                Ok(ok(id))
            }
            Some(_) => Err(fail(StatusCode::Failure)),
            None => Err(fail(StatusCode::NoSuchFile)),
        }
    }

    async fn symlink(
        &mut self,
        id: u32,
        linkpath: String,
        targetpath: String,
    ) -> Result<Status, Self::Error> {
        // OpenSSH's argument order, as the client sends it: (target, link)
        let (target, link) = (linkpath, targetpath);
        self.log("symlink", &link);
        let mut tree = lock(&self.shared.tree);
        let (entries, name) = parent_entries(&mut tree, &link)?;
        if entries.iter().any(|(n, _)| *n == name) {
            return Err(fail(StatusCode::Failure));
        }
        entries.push((name, Node::Link(target)));
        Ok(ok(id))
    }
}

fn set_mode(
    entries: &mut [(String, Node)],
    name: &str,
    permissions: Option<u32>,
) -> Result<(), StatusReply> {
    let (_, node) = entries
        .iter_mut()
        .rev()
        .find(|(n, _)| n == name)
        .ok_or(fail(StatusCode::NoSuchFile))?;
    if let (Some(p), Node::File { mode, .. } | Node::Dir { mode, .. }) = (permissions, node) {
        *mode = p & 0o7777;
    }
    Ok(())
}
