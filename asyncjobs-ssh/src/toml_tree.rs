//! TOML read fast, for valid files: `toml_parser`'s events become a small
//! tree that serde then reads ([`de`]).
//!
//! Why: the `toml` crate keeps a list of every token, then a list of every
//! event, then a document of hash maps, before serde reads it: that was
//! most of the time and memory of checking a 100,000-job scenario.
//!
//! This reader takes only the common path. Anything unusual — a syntax
//! error, a duplicate key, a table defined twice, a header reaching into a
//! table made by dotted keys or written inline, a date-time, a number out
//! of range, a value serde refuses — gives `None`, and the caller reads
//! the file again with the `toml` crate, which decides and words the error
//! exactly as before. So this reader never has to be right about an error,
//! only about the documents it accepts; the tests hold it to the `toml`
//! crate on those ([`tests`]).

mod de;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use toml_parser::decoder::{Encoding, ScalarKind};
use toml_parser::lexer::{Token, TokenKind};
use toml_parser::parser::{EventReceiver, RecursionGuard, ValidateWhitespace};
use toml_parser::{ErrorSink, ParseError, Source, Span};

pub(crate) use de::Node;

/// Nesting the `toml` crate allows (its own recursion guard).
const MAX_DEPTH: u32 = 80;

/// Tables with more entries than this get an index (most have a handful,
/// where a scan is faster than hashing).
const INDEX_FROM: usize = 16;

/// A parsed document: its nodes, the root first.
pub(crate) struct Tree<'a> {
    slots: Vec<Slot<'a>>,
}

impl<'a> Tree<'a> {
    /// The document's root table.
    pub(crate) fn root(&self) -> Node<'_, 'a> {
        Node::new(self, ROOT)
    }
}

const ROOT: u32 = 0;

/// One value with its span in the file.
struct Slot<'a> {
    start: u32,
    end: u32,
    value: Value<'a>,
}

enum Value<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Table(Box<Table<'a>>),
    Array { items: Vec<u32>, of_tables: bool },
}

/// How a table came to be, which decides what may still be written into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    Root,
    /// A parent named by a header (`a` of `[a.b]`): a later `[a]` defines it.
    Implicit,
    /// `[a]`, or an element of `[[a]]`.
    Header,
    /// `a` of `a.b = 1`.
    Dotted,
    /// `{ ... }`: closed once written.
    Inline,
}

struct Table<'a> {
    entries: Vec<(Cow<'a, str>, u32)>,
    made: Made,
    index: Option<HashMap<Cow<'a, str>, u32>>,
}

/// Tokens parsed at a time: a file's tokens are not all held at once (they
/// were 24 bytes for every 2–3 bytes of a scenario). The crate's tests cut
/// after a few tokens, so that every test document crosses chunk ends.
const CHUNK_TOKENS: usize = if cfg!(test) { 8 } else { 4096 };

/// Reads `text`; `None` when it is not a plain valid document (see the
/// module's text), for the `toml` crate to read instead. `root_keys`, if
/// given, are the keys the caller's root accepts: any other ends the
/// reading at once (serde would refuse it), so that a large file of wrong
/// keys is not read twice in full.
///
/// The tokens are parsed a chunk at a time, each chunk ending on a new
/// line outside any bracket or brace: there a TOML document is between
/// two expressions (the grammar is one expression a line; arrays and
/// inline tables are bracketed; a multi-line string is one token), and the
/// tree being built knows which table comes next.
pub(crate) fn parse<'a>(text: &'a str, root_keys: Option<&[&str]>) -> Option<Tree<'a>> {
    if u32::try_from(text.len()).is_err() {
        return None;
    }
    let source = Source::new(text);
    let mut builder = Builder::new(source, root_keys);
    // any error at all: the `toml` crate will say which
    let mut failed: Option<ParseError> = None;
    let mut chunk = Vec::with_capacity(CHUNK_TOKENS + 64);
    // brackets and braces open: signed, so that a stray `]` never lets a
    // chunk end inside a value
    let mut depth = 0i64;
    for token in source.lex() {
        match token.kind() {
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => depth += 1,
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => depth -= 1,
            _ => {}
        }
        let ends = token.kind() == TokenKind::Newline && depth == 0;
        chunk.push(token);
        if ends && chunk.len() >= CHUNK_TOKENS {
            builder.parse_chunk(&chunk, &mut failed);
            chunk.clear();
            if failed.is_some() || builder.failed {
                return None;
            }
        }
    }
    builder.parse_chunk(&chunk, &mut failed);
    if failed.is_some()
        || builder.failed
        || builder.in_header.is_some()
        || builder.frames.len() != 1
    {
        return None;
    }
    Some(Tree {
        slots: builder.slots,
    })
}

/// Where the next value goes.
enum Frame<'a> {
    /// A table's key-values: the document's current table, or an inline
    /// table; `pending` is the table and key of the value being read.
    Table {
        table: u32,
        pending: Option<(u32, Cow<'a, str>)>,
    },
    /// An array's items.
    Array(u32),
}

struct Builder<'a, 'k> {
    source: Source<'a>,
    slots: Vec<Slot<'a>>,
    frames: Vec<Frame<'a>>,
    /// The keys of the header or key-value being read, with their spans.
    keys: Vec<(Cow<'a, str>, Span)>,
    /// Inside `[...]` (false) or `[[...]]` (true), from this offset.
    in_header: Option<(bool, usize)>,
    /// The keys the root may hold (`None`: any).
    root_keys: Option<&'k [&'k str]>,
    failed: bool,
}

impl<'a, 'k> Builder<'a, 'k> {
    fn new(source: Source<'a>, root_keys: Option<&'k [&'k str]>) -> Builder<'a, 'k> {
        let root = Slot {
            start: 0,
            end: 0,
            value: Value::Table(Box::new(Table::new(Made::Root))),
        };
        Builder {
            source,
            slots: vec![root],
            frames: vec![Frame::Table {
                table: ROOT,
                pending: None,
            }],
            keys: Vec::new(),
            in_header: None,
            root_keys,
            failed: false,
        }
    }

    fn push(&mut self, span: Span, value: Value<'a>) -> u32 {
        // the file is under 4 GiB (checked), and so is every offset
        self.slots.push(Slot {
            start: span.start() as u32,
            end: span.end() as u32,
            value,
        });
        (self.slots.len() - 1) as u32
    }

    fn table(&self, id: u32) -> Option<&Table<'a>> {
        match &self.slots[id as usize].value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    fn table_mut(&mut self, id: u32) -> Option<&mut Table<'a>> {
        match &mut self.slots[id as usize].value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    fn new_table(&mut self, span: Span, made: Made) -> u32 {
        self.push(span, Value::Table(Box::new(Table::new(made))))
    }

    /// `key` set to `node` in table `table`; `None` if it is there already,
    /// or is not one of the root's keys.
    fn insert(&mut self, table: u32, key: Cow<'a, str>, node: u32) -> Option<()> {
        if table == ROOT
            && self
                .root_keys
                .is_some_and(|keys| !keys.contains(&key.as_ref()))
        {
            return None;
        }
        self.table_mut(table)?.insert(key, node).then_some(())
    }

    /// A header's path: through tables and the last element of arrays of
    /// tables, creating what is missing.
    fn descend_header(&mut self, table: u32, key: &(Cow<'a, str>, Span)) -> Option<u32> {
        let Some(found) = self.table(table)?.get(&key.0) else {
            let t = self.new_table(key.1, Made::Implicit);
            self.insert(table, key.0.clone(), t)?;
            return Some(t);
        };
        match &self.slots[found as usize].value {
            Value::Table(t) if matches!(t.made, Made::Root | Made::Implicit | Made::Header) => {
                Some(found)
            }
            Value::Array {
                items,
                of_tables: true,
            } => items.last().copied(),
            _ => None,
        }
    }

    /// `[a.b]` or `[[a.b]]` read: the table its key-values go into.
    fn header(&mut self, array: bool, start: usize, end: usize) -> Option<u32> {
        let keys = std::mem::take(&mut self.keys);
        let (last, path) = keys.split_last()?;
        let mut table = ROOT;
        for k in path {
            table = self.descend_header(table, k)?;
        }
        let span = Span::new_unchecked(start, end);
        let found = self.table(table)?.get(&last.0);
        match (found, array) {
            (None, false) => {
                let t = self.new_table(span, Made::Header);
                self.insert(table, last.0.clone(), t)?;
                Some(t)
            }
            (None, true) => {
                let t = self.new_table(span, Made::Header);
                let a = self.push(
                    span,
                    Value::Array {
                        items: vec![t],
                        of_tables: true,
                    },
                );
                self.insert(table, last.0.clone(), a)?;
                Some(t)
            }
            (Some(found), false) => {
                let slot = &mut self.slots[found as usize];
                match &mut slot.value {
                    Value::Table(t) if t.made == Made::Implicit => {
                        t.made = Made::Header;
                        slot.start = start as u32;
                        slot.end = end as u32;
                        Some(found)
                    }
                    _ => None,
                }
            }
            (Some(found), true) => {
                let t = self.new_table(span, Made::Header);
                match &mut self.slots[found as usize].value {
                    Value::Array {
                        items,
                        of_tables: true,
                    } => {
                        items.push(t);
                        Some(t)
                    }
                    _ => None,
                }
            }
        }
    }

    /// `a.b.c =` read in `table`: the table and key its value goes to.
    fn key_value(&mut self, table: u32) -> Option<(u32, Cow<'a, str>)> {
        let mut keys = std::mem::take(&mut self.keys);
        let (last, _) = keys.pop()?;
        let mut table = table;
        for (key, span) in keys {
            table = match self.table(table)?.get(&key) {
                None => {
                    let t = self.new_table(span, Made::Dotted);
                    self.insert(table, key, t)?;
                    t
                }
                Some(found) => match self.table(found) {
                    Some(t) if t.made == Made::Dotted => found,
                    _ => return None,
                },
            };
        }
        // (a key written twice is found when its value is put)
        Some((table, last))
    }

    /// A value read: into the array or under the key it belongs to.
    fn put(&mut self, node: u32) -> Option<()> {
        match self.frames.last_mut()? {
            Frame::Array(a) => {
                let a = *a;
                match &mut self.slots[a as usize].value {
                    Value::Array { items, .. } => items.push(node),
                    _ => return None,
                }
                Some(())
            }
            Frame::Table { pending, .. } => {
                let (table, key) = pending.take()?;
                self.insert(table, key, node)
            }
        }
    }

    fn scalar_value(&self, span: Span, encoding: Option<Encoding>) -> Option<Value<'a>> {
        let raw = self.raw(span, encoding)?;
        let mut decoded: Cow<'a, str> = Cow::Borrowed("");
        let mut failed: Option<ParseError> = None;
        let kind = raw.decode_scalar(&mut decoded, &mut failed);
        if failed.is_some() {
            return None;
        }
        Some(match kind {
            ScalarKind::String => Value::Str(decoded),
            ScalarKind::Boolean(b) => Value::Bool(b),
            ScalarKind::Integer(radix) => {
                Value::Int(i64::from_str_radix(&decoded, radix.value()).ok()?)
            }
            ScalarKind::Float => {
                let f: f64 = decoded.parse().ok()?;
                // as the `toml` crate: an overflow is an error, `inf` is not
                if f.is_infinite() && !decoded.contains("inf") {
                    return None;
                }
                Value::Float(f)
            }
            ScalarKind::DateTime => return None,
        })
    }

    /// The text of a token, with its quoting (which `Source::get` of a
    /// bare span does not know).
    fn raw(&self, span: Span, encoding: Option<Encoding>) -> Option<toml_parser::Raw<'a>> {
        let text = self.source.input().get(span.start()..span.end())?;
        Some(toml_parser::Raw::new_unchecked(text, encoding, span))
    }

    /// Runs `step`; a `None` marks the document as one to leave to the
    /// `toml` crate.
    fn step(&mut self, step: impl FnOnce(&mut Self) -> Option<()>) {
        if !self.failed && step(self).is_none() {
            self.failed = true;
        }
    }
}

impl<'a> Table<'a> {
    fn new(made: Made) -> Table<'a> {
        Table {
            entries: Vec::new(),
            made,
            index: None,
        }
    }

    fn get(&self, key: &str) -> Option<u32> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().find(|(k, _)| k == key).map(|(_, n)| *n),
        }
    }

    /// Adds `key`; false if it is there already (one lookup).
    fn insert(&mut self, key: Cow<'a, str>, node: u32) -> bool {
        match &mut self.index {
            Some(index) => match index.entry(key.clone()) {
                Entry::Occupied(_) => return false,
                Entry::Vacant(v) => {
                    v.insert(node);
                }
            },
            None => {
                if self.entries.iter().any(|(k, _)| *k == key) {
                    return false;
                }
                if self.entries.len() >= INDEX_FROM {
                    let mut index: HashMap<Cow<'a, str>, u32> =
                        self.entries.iter().cloned().collect();
                    index.insert(key.clone(), node);
                    self.index = Some(index);
                }
            }
        }
        self.entries.push((key, node));
        true
    }
}

impl<'a> EventReceiver for Builder<'a, '_> {
    fn std_table_open(&mut self, span: Span, _error: &mut dyn ErrorSink) {
        self.in_header = Some((false, span.start()));
    }

    fn array_table_open(&mut self, span: Span, _error: &mut dyn ErrorSink) {
        self.in_header = Some((true, span.start()));
    }

    fn std_table_close(&mut self, span: Span, _error: &mut dyn ErrorSink) {
        self.close_header(span);
    }

    fn array_table_close(&mut self, span: Span, _error: &mut dyn ErrorSink) {
        self.close_header(span);
    }

    fn simple_key(&mut self, span: Span, encoding: Option<Encoding>, _error: &mut dyn ErrorSink) {
        self.step(|b| {
            let raw = b.raw(span, encoding)?;
            let mut decoded: Cow<'a, str> = Cow::Borrowed("");
            let mut failed: Option<ParseError> = None;
            raw.decode_key(&mut decoded, &mut failed);
            if failed.is_some() {
                return None;
            }
            b.keys.push((decoded, span));
            Some(())
        });
    }

    fn key_val_sep(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.step(|b| {
            let Frame::Table { table, .. } = b.frames.last()? else {
                return None;
            };
            let target = b.key_value(*table)?;
            match b.frames.last_mut()? {
                Frame::Table { pending, .. } if pending.is_none() => *pending = Some(target),
                _ => return None,
            }
            Some(())
        });
    }

    fn scalar(&mut self, span: Span, encoding: Option<Encoding>, _error: &mut dyn ErrorSink) {
        self.step(|b| {
            let value = b.scalar_value(span, encoding)?;
            let node = b.push(span, value);
            b.put(node)
        });
    }

    fn array_open(&mut self, span: Span, _error: &mut dyn ErrorSink) -> bool {
        self.step(|b| {
            let a = b.push(
                span,
                Value::Array {
                    items: Vec::new(),
                    of_tables: false,
                },
            );
            b.frames.push(Frame::Array(a));
            Some(())
        });
        true
    }

    fn array_close(&mut self, span: Span, _error: &mut dyn ErrorSink) {
        self.step(|b| {
            let Frame::Array(a) = b.frames.pop()? else {
                return None;
            };
            b.slots[a as usize].end = span.end() as u32;
            b.put(a)
        });
    }

    fn inline_table_open(&mut self, span: Span, _error: &mut dyn ErrorSink) -> bool {
        self.step(|b| {
            let t = b.new_table(span, Made::Inline);
            b.frames.push(Frame::Table {
                table: t,
                pending: None,
            });
            Some(())
        });
        true
    }

    fn inline_table_close(&mut self, span: Span, _error: &mut dyn ErrorSink) {
        self.step(|b| match b.frames.pop()? {
            Frame::Table {
                table,
                pending: None,
            } if !b.frames.is_empty() => {
                b.slots[table as usize].end = span.end() as u32;
                b.put(table)
            }
            _ => None,
        });
    }

    fn error(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.failed = true;
    }
}

impl Builder<'_, '_> {
    /// Parses the tokens of one chunk into the tree: through the `toml`
    /// crate's own checks (whitespace and comments, nesting). Both hold no
    /// state between chunks: a chunk ends outside any bracket.
    fn parse_chunk(&mut self, tokens: &[Token], failed: &mut Option<ParseError>) {
        let source = self.source;
        let mut guard = RecursionGuard::new(self, MAX_DEPTH);
        let mut receiver = ValidateWhitespace::new(&mut guard, source);
        toml_parser::parser::parse_document(tokens, &mut receiver, failed);
    }

    fn close_header(&mut self, span: Span) {
        self.step(|b| {
            let (array, start) = b.in_header.take()?;
            // a header comes between key-values of the document only
            if b.frames.len() != 1 {
                return None;
            }
            let table = b.header(array, start, span.end())?;
            b.frames[0] = Frame::Table {
                table,
                pending: None,
            };
            Some(())
        });
    }
}
