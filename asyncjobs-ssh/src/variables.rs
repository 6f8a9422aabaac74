//! [`Variables`]: values captured from command outputs, read by later commands.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A shared map of named values: a command can [capture](crate::Run::capture)
/// its stdout into it, and a later command — on any node — can be built from
/// it when it starts ([`Run::deferred`](crate::Run::deferred)). Cloning shares
/// the map. Each capture belongs to its own command, so concurrent jobs never
/// capture each other's output.
///
/// ```
/// use asyncjobs_ssh::Variables;
/// let vars = Variables::new();
/// vars.set("host", "web1");
/// assert_eq!(vars.get("host").as_deref(), Some("web1"));
/// assert_eq!(vars.get("missing"), None);
/// ```
#[derive(Clone, Default)]
pub struct Variables(Arc<RwLock<HashMap<String, String>>>);

impl Variables {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }
    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }
    /// Sets `name`.
    pub fn set(&self, name: impl Into<String>, value: impl Into<String>) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.into(), value.into());
    }
    /// A copy of all values.
    pub fn to_map(&self) -> HashMap<String, String> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl std::fmt::Debug for Variables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.to_map()).finish()
    }
}

/// Where a command stores its stdout.
#[derive(Clone, Debug)]
pub(crate) struct Capture {
    pub vars: Variables,
    pub name: String,
}

/// A captured stdout as stored: without its one trailing newline (as `$(cmd)` for one line).
pub(crate) fn captured_value(stdout: &str) -> &str {
    let value = stdout.strip_suffix('\n').unwrap_or(stdout);
    value.strip_suffix('\r').unwrap_or(value)
}
