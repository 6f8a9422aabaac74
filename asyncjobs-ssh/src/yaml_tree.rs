//! YAML read once: saphyr's parser events become a small tree of nodes, each
//! knowing its line, which serde then reads ([`de`]) and which callers walk
//! to find where an entry or a key is written.
//!
//! Why a tree of our own rather than a YAML library's value or serde
//! support: the libyaml-based deserializer built a full event list
//! (hundreds of MB for a 10 MB scenario) and lost the lines callers need,
//! so the file was parsed twice. Here the one pass also enforces the
//! [`TreeLimits`]: nesting, string size, and alias expansion, checked
//! before an alias is taken in, so an alias bomb is refused without ever
//! being expanded. Nodes live in one arena and an alias is the anchored
//! node itself (the tree is a DAG): nothing is copied, and the budget
//! bounds what a reader may walk through aliases.

mod de;
mod resolve;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

pub(crate) use resolve::Resolved;

use crate::scenario::{ErrorKind, Limits};

/// What reading one YAML file may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TreeLimits {
    /// Sequences and mappings nested in one another, aliases expanded.
    pub max_depth: usize,
    /// Bytes of one scalar (a key or a value).
    pub max_string_bytes: usize,
    /// Nodes once aliases are expanded: at most this times the file's own
    /// nodes, plus 100,000.
    pub max_alias_expansion_factor: usize,
}

impl From<&Limits> for TreeLimits {
    fn from(l: &Limits) -> TreeLimits {
        TreeLimits {
            max_depth: l.max_depth,
            max_string_bytes: l.max_line_bytes,
            max_alias_expansion_factor: l.max_alias_expansion_factor,
        }
    }
}

/// A YAML file that cannot be read: a syntax error, a limit passed, or a
/// value serde refused (then `path` says where, as `jobs[2].commands[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// [`ErrorKind::Syntax`] or [`ErrorKind::Limit`].
    pub kind: ErrorKind,
    /// 1-based; 0 until a node claims the error.
    pub line: usize,
    /// Keys and indexes from the outermost, filled in as the error leaves
    /// each sequence and mapping.
    path: Vec<Step>,
    message: String,
}

/// One step of a [`YamlError`]'s path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// A mapping's value under this key.
    Key(String),
    /// A sequence's item.
    Index(usize),
}

impl YamlError {
    /// An error of `kind` on `line`.
    pub(crate) fn new(kind: ErrorKind, line: usize, message: impl Into<String>) -> YamlError {
        YamlError {
            kind,
            line,
            path: Vec::new(),
            message: message.into(),
        }
    }

    /// Claimed by the node on `line`, unless a deeper node already did.
    pub(crate) fn at(mut self, line: usize) -> YamlError {
        if self.line == 0 {
            self.line = line;
        }
        self
    }

    /// Inside `step` (errors leave the innermost node first).
    pub(crate) fn within(mut self, step: Step) -> YamlError {
        self.path.insert(0, step);
        self
    }

    /// The message, after its path when it has one (`jobs[0].label: ...`).
    pub(crate) fn message(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            match step {
                Step::Key(k) if out.is_empty() => out.push_str(k),
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if out.is_empty() {
            self.message.clone()
        } else {
            format!("{out}: {}", self.message)
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        f.write_str(&self.message())
    }
}

impl std::error::Error for YamlError {}

/// A node's value, as stored (16 bytes a node with its line: a 100k-job
/// scenario has 1.5M nodes).
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Its text, `text[start..start + len]` of the tree, and whether it is
    /// plain (its type resolved from the text) rather than quoted, a block
    /// or tagged `!!str` (always a string).
    Scalar { start: u32, len: u32, plain: bool },
    /// Items: `children[start..start + len]`.
    Seq { start: u32, len: u32 },
    /// Keys and values alternating: `children[start..start + 2 * len]`.
    Map { start: u32, len: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    line: u32,
    kind: Kind,
}

/// The first document of a YAML file.
#[derive(Debug)]
pub(crate) struct Tree {
    slots: Vec<Slot>,
    /// The items of sequences and the pairs of mappings, each collection's
    /// contiguous.
    children: Vec<u32>,
    /// Every scalar's text, one after the other (one allocation rather
    /// than one a scalar).
    text: String,
    root: u32,
}

impl Tree {
    /// The document's node (an empty file or document: an empty plain
    /// scalar, a null).
    pub(crate) fn root(&self) -> Node<'_> {
        Node {
            tree: self,
            id: self.root,
        }
    }
}

/// A node of a [`Tree`]: cheap to copy, serde reads it
/// (`T::deserialize(node)`).
#[derive(Clone, Copy)]
pub(crate) struct Node<'a> {
    tree: &'a Tree,
    id: u32,
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("line", &self.line())
            .field("kind", &self.slot().kind)
            .finish()
    }
}

impl<'a> Node<'a> {
    fn slot(self) -> &'a Slot {
        &self.tree.slots[self.id as usize]
    }

    fn at(self, id: u32) -> Node<'a> {
        Node {
            tree: self.tree,
            id,
        }
    }

    fn children(self, start: u32, len: usize) -> &'a [u32] {
        let start = start as usize;
        &self.tree.children[start..start + len]
    }

    /// The 1-based line it starts on.
    pub(crate) fn line(self) -> usize {
        self.slot().line as usize
    }

    /// Its text and whether it is plain, if a scalar.
    pub(crate) fn scalar(self) -> Option<(&'a str, bool)> {
        match self.slot().kind {
            Kind::Scalar { start, len, plain } => {
                let start = start as usize;
                Some((&self.tree.text[start..start + len as usize], plain))
            }
            _ => None,
        }
    }

    /// Its text, if a scalar.
    pub(crate) fn text(self) -> Option<&'a str> {
        self.scalar().map(|(t, _)| t)
    }

    /// Its value with its type resolved, if a scalar.
    pub(crate) fn resolved(self) -> Option<Resolved<'a>> {
        self.scalar().map(|(t, plain)| Resolved::of(t, plain))
    }

    /// Its items, if a sequence.
    pub(crate) fn items(self) -> Option<impl ExactSizeIterator<Item = Node<'a>>> {
        match self.slot().kind {
            Kind::Seq { start, len } => Some(
                self.children(start, len as usize)
                    .iter()
                    .map(move |&c| self.at(c)),
            ),
            _ => None,
        }
    }

    /// Its (key, value) pairs in file order, if a mapping.
    pub(crate) fn pairs(self) -> Option<impl ExactSizeIterator<Item = (Node<'a>, Node<'a>)>> {
        match self.slot().kind {
            Kind::Map { start, len } => Some(
                self.children(start, 2 * len as usize)
                    .chunks_exact(2)
                    .map(move |kv| (self.at(kv[0]), self.at(kv[1]))),
            ),
            _ => None,
        }
    }

    /// The first (key, value) whose key is the scalar `key`, if a mapping
    /// (a linear search: entries have a few keys).
    pub(crate) fn get(self, key: &str) -> Option<(Node<'a>, Node<'a>)> {
        self.pairs()?.find(|(k, _)| k.text() == Some(key))
    }

    /// Whether it is an empty plain scalar or a null word (`~`, `null`).
    pub(crate) fn is_null(self) -> bool {
        self.scalar()
            .is_some_and(|(t, plain)| plain && resolve::is_null(t))
    }
}

/// An open sequence or mapping while reading.
struct Frame {
    id: u32,
    map: bool,
    /// Where its children start in `pending`.
    pending: usize,
    anchor: usize,
    /// Expanded nodes counted before it.
    expanded: u64,
    /// Collections nested in it, aliases expanded (itself excluded).
    height: usize,
}

/// An anchored node, once complete.
#[derive(Clone, Copy)]
struct Anchored {
    id: u32,
    /// Nodes it expands to.
    size: u64,
    /// Collections nested in it, itself included.
    height: usize,
}

/// Reads the first document of `text` into a tree, within `limits`; a
/// second document is an error.
pub(crate) fn parse(text: &str, limits: &TreeLimits) -> Result<Tree, YamlError> {
    // node and text indexes are u32: a text has about a node a byte at most,
    // and its scalars hold fewer bytes than it; files read are 64 MiB at most
    if text.len() > (u32::MAX / 2) as usize {
        return Err(YamlError::new(
            ErrorKind::Limit,
            0,
            "a YAML text over 2 GiB",
        ));
    }
    let mut b = Builder::new(limits);
    let mut documents = 0;
    let mut end_line = 1;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| {
            YamlError::new(ErrorKind::Syntax, e.marker().line(), e.info().to_string())
        })?;
        let line = span.start.line();
        match ev {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::new(
                        ErrorKind::Syntax,
                        line,
                        "a second YAML document starts here: the file must hold one",
                    ));
                }
            }
            Event::StreamEnd => end_line = line.max(1),
            Event::Scalar(value, style, anchor, tag) => {
                let plain = style == ScalarStyle::Plain && !tag.as_deref().is_some_and(is_str_tag);
                b.on_scalar(line, &value, plain, anchor)?;
            }
            Event::Alias(anchor) => b.alias(anchor, line)?,
            Event::SequenceStart(anchor, _) => b.open(line, anchor, false)?,
            Event::MappingStart(anchor, _) => b.open(line, anchor, true)?,
            Event::SequenceEnd | Event::MappingEnd => b.close(),
            _ => {}
        }
    }
    let root = match b.root {
        Some(r) => r,
        // no document at all: as an empty one, a null
        None => b.scalar(end_line, "", true),
    };
    Ok(Tree {
        slots: b.slots,
        children: b.children,
        text: b.text,
        root,
    })
}

/// `!!str` and the non-specific `!`: the scalar is a string whatever its
/// text.
fn is_str_tag(tag: &Tag) -> bool {
    (tag.is_yaml_core_schema() && tag.suffix == "str")
        || (tag.handle == "!" && tag.suffix.is_empty())
}

/// The tree being built from the events.
struct Builder {
    limits: TreeLimits,
    slots: Vec<Slot>,
    children: Vec<u32>,
    text: String,
    /// Children of the open collections, innermost last.
    pending: Vec<u32>,
    frames: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    /// Nodes as written, and once aliases are expanded.
    own: u64,
    expanded: u64,
    root: Option<u32>,
}

impl Builder {
    fn new(limits: &TreeLimits) -> Builder {
        Builder {
            limits: *limits,
            slots: Vec::new(),
            children: Vec::new(),
            text: String::new(),
            pending: Vec::new(),
            frames: Vec::new(),
            anchors: HashMap::new(),
            own: 0,
            expanded: 0,
            root: None,
        }
    }

    fn on_scalar(
        &mut self,
        line: usize,
        text: &str,
        plain: bool,
        anchor: usize,
    ) -> Result<(), YamlError> {
        self.count(line, None)?;
        if text.len() > self.limits.max_string_bytes {
            return Err(YamlError::new(
                ErrorKind::Limit,
                line,
                format!(
                    "a string longer than {} bytes",
                    self.limits.max_string_bytes
                ),
            ));
        }
        let id = self.scalar(line, text, plain);
        if anchor != 0 {
            let a = Anchored {
                id,
                size: 1,
                height: 0,
            };
            self.anchors.insert(anchor, a);
        }
        self.attach(id, 0);
        Ok(())
    }

    /// Counts a node (an alias as the nodes it stands for) and checks the
    /// expansion budget, before anything is taken in.
    fn count(&mut self, line: usize, alias: Option<&Anchored>) -> Result<(), YamlError> {
        self.own += 1;
        self.expanded = self.expanded.saturating_add(alias.map_or(1, |a| a.size));
        let factor = self.limits.max_alias_expansion_factor as u64;
        if self.expanded > factor.saturating_mul(self.own).saturating_add(100_000) {
            return Err(YamlError::new(
                ErrorKind::Limit,
                line,
                format!(
                    "YAML aliases expand to more than {factor} times the file's own nodes (an alias bomb?)"
                ),
            ));
        }
        Ok(())
    }

    fn depth_error(&self, line: usize, aliases: bool) -> YamlError {
        let how = if aliases {
            " once aliases are expanded"
        } else {
            ""
        };
        YamlError::new(
            ErrorKind::Limit,
            line,
            format!(
                "nested more than {} levels deep{how}",
                self.limits.max_depth
            ),
        )
    }

    fn push(&mut self, line: usize, kind: Kind) -> u32 {
        let id = self.slots.len() as u32;
        self.slots.push(Slot {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            kind,
        });
        id
    }

    fn scalar(&mut self, line: usize, text: &str, plain: bool) -> u32 {
        let start = self.text.len() as u32;
        self.text.push_str(text);
        let len = text.len() as u32;
        self.push(line, Kind::Scalar { start, len, plain })
    }

    /// A complete node `height` collections high goes into the open
    /// collection (or is the document).
    fn attach(&mut self, id: u32, height: usize) {
        match self.frames.last_mut() {
            Some(f) => {
                f.height = f.height.max(height);
                self.pending.push(id);
            }
            None => {
                self.root.get_or_insert(id);
            }
        }
    }

    fn alias(&mut self, anchor: usize, line: usize) -> Result<(), YamlError> {
        // the parser knows every anchor before it: only one still open
        // (an alias inside the node it names) is missing here
        let Some(a) = self.anchors.get(&anchor).copied() else {
            return Err(YamlError::new(
                ErrorKind::Syntax,
                line,
                "a YAML alias inside the node it refers to (a recursive node)",
            ));
        };
        self.count(line, Some(&a))?;
        if self.frames.len() + a.height > self.limits.max_depth {
            return Err(self.depth_error(line, true));
        }
        self.attach(a.id, a.height);
        Ok(())
    }

    fn open(&mut self, line: usize, anchor: usize, map: bool) -> Result<(), YamlError> {
        self.count(line, None)?;
        if self.frames.len() >= self.limits.max_depth {
            return Err(self.depth_error(line, false));
        }
        let id = self.push(line, Kind::Seq { start: 0, len: 0 });
        self.frames.push(Frame {
            id,
            map,
            pending: self.pending.len(),
            anchor,
            expanded: self.expanded.saturating_sub(1),
            height: 0,
        });
        Ok(())
    }

    fn close(&mut self) {
        let Some(f) = self.frames.pop() else { return };
        let start = self.children.len() as u32;
        let n = self.pending.len() - f.pending;
        self.children.extend(self.pending.drain(f.pending..));
        self.slots[f.id as usize].kind = if f.map {
            Kind::Map {
                start,
                len: (n / 2) as u32,
            }
        } else {
            Kind::Seq {
                start,
                len: n as u32,
            }
        };
        let height = f.height + 1;
        if f.anchor != 0 {
            self.anchors.insert(
                f.anchor,
                Anchored {
                    id: f.id,
                    size: self.expanded.saturating_sub(f.expanded),
                    height,
                },
            );
        }
        self.attach(f.id, height);
    }
}
