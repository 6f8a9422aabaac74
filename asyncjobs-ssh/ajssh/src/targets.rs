//! Which hosts to run on: the command line's target words (positional and
//! `-w`), `-t` sources and `-x` excludes, read with the library's target
//! syntax ([`asyncjobs_ssh::targets`]: node sets, gateways, `@group`s) under
//! one names budget for the targets and one for the excludes.

use std::path::PathBuf;

use asyncjobs_ssh::targets::{Groups, TargetParser};
pub use asyncjobs_ssh::targets::{Hop, Target, TargetError};

use crate::args::Cli;

/// ajssh's own groups file: `$AJSSH_GROUPS`, else
/// `$XDG_CONFIG_HOME/ajssh/groups.yaml`, else `~/.config/ajssh/groups.yaml`.
pub fn own_groups_file() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(f) = var("AJSSH_GROUPS") {
        return Some(PathBuf::from(f));
    }
    let config = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("ajssh").join("groups.yaml"))
}

/// A parser with ajssh's group sources (read only if a word names a group).
pub fn parser() -> TargetParser {
    TargetParser::new().groups(Groups::standard(own_groups_file()))
}

/// The targets given (words, `-w` and `-t` sources) and the excludes.
pub fn collect(cli: &Cli) -> Result<(Vec<Target>, Vec<Target>), TargetError> {
    let mut p = parser();
    let mut all = Vec::new();
    for w in cli.target_words.iter().chain(&cli.words) {
        all.extend(p.word(w)?);
    }
    for s in &cli.target_sources {
        all.extend(p.source(s)?);
    }
    let mut x = parser();
    let mut excludes = Vec::new();
    for s in &cli.exclude {
        excludes.extend(x.source(s)?);
    }
    Ok((all, excludes))
}
