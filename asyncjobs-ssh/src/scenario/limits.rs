//! Bounds on what a scenario file may cost to read: whatever the input (a
//! typo, a hostile file, `/dev/zero`), loading ends in bounded time and
//! memory with a clear error.

use std::io::Read;
use std::path::Path;

use super::error::{ErrorKind, ScenarioError};

/// Limits applied while loading; [`Limits::default`] suits any real scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Bytes read from the file (and produced by a Jinja template); default 64 MiB.
    pub max_file_bytes: usize,
    /// Bytes in one line (so in any one-line string); default 1 MiB.
    pub max_line_bytes: usize,
    /// Nesting of arrays, tables, sequences and mappings; default 64.
    pub max_depth: usize,
    /// YAML nodes once aliases are expanded (alias bombs): default
    /// 4 × the file's own nodes + 100,000.
    pub max_alias_expansion_factor: usize,
    /// Jobs once node sets are expanded; default 2,000,000.
    pub max_jobs: usize,
    /// Requirement edges once node sets are expanded; default 20,000,000.
    pub max_requirements: usize,
    /// Names one node set may produce; default 1,000,000.
    pub max_node_set: usize,
    /// Fuel of the Jinja engine (its instructions); default 50,000,000.
    pub template_fuel: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 64 << 20,
            max_line_bytes: 1 << 20,
            max_depth: 64,
            max_alias_expansion_factor: 4,
            max_jobs: 2_000_000,
            max_requirements: 20_000_000,
            max_node_set: 1_000_000,
            template_fuel: 50_000_000,
        }
    }
}

impl Limits {
    fn err(file: &Path, line: usize, message: String) -> ScenarioError {
        ScenarioError::new(ErrorKind::Limit, file, line, None, message)
    }

    /// Reads `file` as UTF-8, at most [`max_file_bytes`](Self::max_file_bytes)
    /// (a device or a pipe that never ends included).
    pub(crate) fn read(&self, file: &Path) -> Result<String, ScenarioError> {
        let read_err = |e: std::io::Error| {
            ScenarioError::new(ErrorKind::Read, file, 0, None, format!("cannot read: {e}"))
        };
        let f = std::fs::File::open(file).map_err(read_err)?;
        if f.metadata().map_err(read_err)?.is_dir() {
            return Err(ScenarioError::new(
                ErrorKind::Read,
                file,
                0,
                None,
                "cannot read: is a directory",
            ));
        }
        let cap = self.max_file_bytes;
        let mut bytes = Vec::new();
        f.take(cap.saturating_add(1) as u64)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() > cap {
            return Err(Self::err(
                file,
                0,
                format!("larger than {cap} bytes: not a scenario file"),
            ));
        }
        String::from_utf8(bytes).map_err(|e| {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            ScenarioError::new(ErrorKind::Read, file, line, None, "not valid UTF-8")
        })
    }

    /// Checks the text's size and line lengths (one pass).
    pub(crate) fn check_text(&self, text: &str, file: &Path) -> Result<(), ScenarioError> {
        if text.len() > self.max_file_bytes {
            return Err(Self::err(
                file,
                0,
                format!(
                    "larger than {} bytes (after templating)",
                    self.max_file_bytes
                ),
            ));
        }
        for (i, l) in text.split('\n').enumerate() {
            if l.len() > self.max_line_bytes {
                return Err(Self::err(
                    file,
                    i + 1,
                    format!(
                        "line longer than {} bytes (strings of a scenario are short)",
                        self.max_line_bytes
                    ),
                ));
            }
        }
        Ok(())
    }
}
