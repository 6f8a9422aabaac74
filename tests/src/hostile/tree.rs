//! The file tree a [`HostileServer`](super::HostileServer) describes over
//! SFTP: whatever a test builds, including what no real file system has
//! (the same name twice in one directory, names with `/` or `..`, files whose
//! reads never end, directories whose listings never end).

/// One entry of the fake tree (the default: an empty directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A regular file.
    File {
        /// The size announced by `stat`, `lstat` and listings (`None`: no size).
        announced: Option<u64>,
        /// Permission bits announced (e.g. `0o644`).
        mode: u32,
        /// What reads return.
        data: Data,
    },
    /// A directory, its entries in listing order (names may repeat).
    Dir {
        /// Permission bits announced.
        mode: u32,
        /// The entries, listed in this order.
        entries: Vec<(String, Node)>,
    },
    /// A symbolic link with this target text (never resolved by the server
    /// except inside the fake tree).
    Link(String),
    /// A directory whose listing never ends: every `READDIR` returns 2000
    /// new file names (each announced as 1 byte).
    EndlessDir,
}

/// What reading a fake file returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// This byte, as much as asked, forever: reads never reach end of file.
    Endless(u8),
}

impl Default for Node {
    fn default() -> Self {
        Node::dir(Vec::<(String, Node)>::new())
    }
}

impl Node {
    /// A file announcing its real size, mode `0o644`.
    pub fn file(data: impl Into<Vec<u8>>) -> Node {
        let data = data.into();
        Node::File {
            announced: Some(data.len() as u64),
            mode: 0o644,
            data: Data::Bytes(data),
        }
    }

    /// A file whose `stat` says `announced` bytes but whose reads never end.
    pub fn endless_file(announced: u64) -> Node {
        Node::File {
            announced: Some(announced),
            mode: 0o644,
            data: Data::Endless(b'A'),
        }
    }

    /// A directory (mode `0o755`) with these entries, in this order.
    pub fn dir<I, S>(entries: I) -> Node
    where
        I: IntoIterator<Item = (S, Node)>,
        S: Into<String>,
    {
        Node::Dir {
            mode: 0o755,
            entries: entries.into_iter().map(|(n, e)| (n.into(), e)).collect(),
        }
    }

    /// A symbolic link to `target`.
    pub fn link(target: impl Into<String>) -> Node {
        Node::Link(target.into())
    }

    /// The `S_IF*` type bits and permissions announced for this node.
    pub(crate) fn mode_bits(&self) -> u32 {
        match self {
            Node::File { mode, .. } => 0o100000 | (mode & 0o7777),
            Node::Dir { mode, .. } => 0o040000 | (mode & 0o7777),
            Node::EndlessDir => 0o040755,
            Node::Link(_) => 0o120777,
        }
    }

    /// The size announced for this node.
    pub(crate) fn announced_size(&self) -> Option<u64> {
        match self {
            Node::File { announced, .. } => *announced,
            Node::Link(target) => Some(target.len() as u64),
            Node::Dir { .. } | Node::EndlessDir => Some(4096),
        }
    }
}

/// The components of `path` below the root (`.`, empty and `~` components
/// dropped, `..` popping one): every path is looked up from the root, which is
/// also the login home.
pub(crate) fn components(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." | "~" => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Looks `path` up in `root`, following links inside the tree when `follow`
/// (at most 16 of them); for a name listed twice, the *last* entry wins.
pub(crate) fn lookup<'a>(root: &'a Node, path: &str, follow: bool) -> Option<&'a Node> {
    lookup_depth(root, &components(path), follow, 16)
}

fn lookup_depth<'a>(root: &'a Node, parts: &[&str], follow: bool, hops: u32) -> Option<&'a Node> {
    let mut node = root;
    for (i, part) in parts.iter().enumerate() {
        let Node::Dir { entries, .. } = node else {
            return None;
        };
        let (_, child) = entries.iter().rev().find(|(n, _)| n == part)?;
        let last = i + 1 == parts.len();
        node = match child {
            Node::Link(target) if (follow || !last) && hops > 0 => {
                // resolve the link relative to its directory, inside the tree only
                let mut joined: Vec<&str> = if target.starts_with('/') {
                    Vec::new()
                } else {
                    parts[..i].to_vec()
                };
                joined.extend(target.split('/'));
                let text = joined.join("/");
                lookup_depth(root, &components(&text), true, hops - 1)?
            }
            Node::Link(_) if follow || !last => return None,
            other => other,
        };
    }
    Some(node)
}

/// The canonical form of `path` (`/a/b`), as `REALPATH` answers it.
pub(crate) fn canonical(path: &str) -> String {
    format!("/{}", components(path).join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Node {
        Node::dir([
            ("a", Node::dir([("f", Node::file("x"))])),
            ("dup", Node::link("/etc")),
            ("dup", Node::file("second")),
            ("l", Node::link("a")),
        ])
    }

    #[test]
    fn the_last_of_two_entries_with_one_name_wins() {
        assert_eq!(lookup(&tree(), "dup", false), Some(&Node::file("second")));
    }

    #[test]
    fn links_resolve_inside_the_tree_only() {
        let t = tree();
        assert_eq!(lookup(&t, "l/f", false), Some(&Node::file("x")));
        assert!(matches!(lookup(&t, "l", true), Some(Node::Dir { .. })));
        assert!(matches!(lookup(&t, "l", false), Some(Node::Link(_))));
        assert_eq!(canonical("./a/../l/"), "/l");
    }
}
