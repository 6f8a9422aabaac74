//! Target syntax: which hosts to run on, as `ajssh` and its users write them.
//!
//! A target word is a list separated by commas (outside brackets) or
//! whitespace; each item is `[GATEWAY->]...[user@]host[:port]`:
//! * `host` may be a node set (`node[01-20,35]`, `n[1-9/2]`: see
//!   [`NodeSet`]), an IPv6 literal in brackets (`[::1]:2222`), an alias of
//!   `~/.ssh/config`, or an `@group` of ClusterShell's group files
//!   ([`Groups`]; `user@@group:port` too);
//! * `gw->host` (also `→`) goes through `gw`, `a->b->host` through `a` then
//!   `b`; `None->host` connects directly even when a jump host is given.
//!
//! A target *source* ([`TargetParser::source`]) is a file (one or more
//! targets per line, `#` starts a comment), `-` for stdin, or a directory
//! whose regular file names are hosts. [`resolve`] applies the excludes
//! and drops duplicates, keeping the order, in linear time.
//!
//! Every count is checked and every expansion charged to a [`Budget`]
//! (by default [`MAX_NAMES`] names and [`MAX_NAME_BYTES`] bytes of names
//! for all the words a [`TargetParser`] reads) before anything is
//! allocated: any input gives targets or a clear error, never a panic.

mod groups;
mod nodeset;
#[cfg(test)]
mod proptests;
mod word;

pub use groups::{GroupError, GroupSource, Groups, MAX_GROUP_FILE};
pub use nodeset::{
    expand, fold, Budget, NodeSet, NodeSetError, Pattern, MAX_NAMES, MAX_NAME_BYTES,
};
pub use word::{
    excludes, from_source, parse_hop, parse_text, parse_word, resolve, Hop, Target, TargetError,
    TargetParser, Via, MAX_GROUP_DEPTH, MAX_TARGET_FILE,
};
