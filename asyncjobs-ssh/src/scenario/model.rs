//! The scenario file format (TOML), as serde structs. Unknown fields are
//! errors; names keep their position in the file for error messages.
//!
//! ```toml
//! label = "deploy"          # optional: the scheduler's label
//! window = 8                # optional: jobs running at once (0: no limit)
//! timeout = 300             # optional: seconds for the whole scenario
//!
//! [nodes.gw]
//! host = "bastion.example.org"
//! user = "admin"
//! [nodes.web1]
//! host = "10.0.0.1"         # or an ~/.ssh/config alias
//! user = "root"
//! port = 22
//! identity = "~/.ssh/deploy_key"   # or a list
//! gateway = "gw"            # another node (jump host)
//! [nodes.here]
//! local = true              # this machine
//!
//! [[job]]
//! id = "prepare"
//! node = "web1"
//! run = "apt-get update"    # shorthand for one command
//!
//! [[job]]
//! id = "deploy"
//! node = "web1"
//! requires = ["prepare"]    # or a single id
//! critical = true           # default true: a failure stops the scenario
//! forever = false
//! timeout = 60              # seconds, for each command of the job
//! commands = [
//!   { push = ["app.tar.gz"], to = "/tmp/" },
//!   { script = "install.sh", args = ["--quick"] },
//!   { string = "echo done", args = [] },
//!   { run = "systemctl restart app", allowed_exits = [3, "TERM"] },
//!   { pull = ["/var/log/app.log"], into = "logs/" },
//! ]
//!
//! [[group]]                 # a nested scheduler
//! id = "checks"
//! requires = ["deploy"]
//! window = 2
//! critical = false
//!   [[group.job]]
//!   id = "check1"
//!   node = "here"
//!   run = "curl -fsS http://10.0.0.1/"
//! ```
//! Relative local paths are relative to the scenario file's directory.
//! On a local node, `push` and `pull` are local copies (same rules); `to` and
//! the `pull` sources are then relative to the current directory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::plan::{At, NodeSel};
use toml::Spanned;

/// One value or a list of them (read without serde's buffering of
/// untagged enums: a scenario has one per job).
#[derive(Debug, Clone, PartialEq)]
pub enum OneOrMany<T> {
    /// `x = "a"`
    One(T),
    /// `x = ["a", "b"]`
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    /// As a list.
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

impl<T> OneOrMany<T> {
    /// As a list, taken.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

impl OneOrMany<String> {
    /// A job's `nodes`, written on `line`: a node set, or a list of names
    /// and sets.
    pub fn into_sel(self, line: usize) -> NodeSel {
        match self {
            OneOrMany::One(s) => NodeSel::Set(At::new(s, line)),
            OneOrMany::Many(v) => NodeSel::List(v.into_iter().map(|s| At::new(s, line)).collect()),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IntoDeserializer, SeqAccess, Visitor};
        struct V<T>(std::marker::PhantomData<T>);
        macro_rules! one {
            ($name:ident, $t:ty) => {
                fn $name<E: serde::de::Error>(self, v: $t) -> Result<Self::Value, E> {
                    T::deserialize(v.into_deserializer()).map(OneOrMany::One)
                }
            };
        }
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(a.size_hint().unwrap_or(0).min(1024));
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(OneOrMany::Many(v))
            }
            one!(visit_str, &str);
            one!(visit_string, String);
            one!(visit_i64, i64);
            one!(visit_u64, u64);
            one!(visit_f64, f64);
            one!(visit_bool, bool);
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// An allowed exit: a code or a signal name.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Exit {
    /// `3`
    Code(u32),
    /// `"TERM"`
    Signal(String),
}

/// The keys of [`File`], the top level (serde's own list is private): the
/// fast TOML reader stops at any other key, for the `toml` crate to word
/// the error.
pub const ROOT_KEYS: &[&str] = &[
    "label", "window", "timeout", "critical", "nodes", "job", "group",
];

/// The whole file: a scope with nodes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Scheduler label.
    pub label: Option<String>,
    /// Jobs window.
    pub window: Option<usize>,
    /// Seconds for the whole scenario.
    pub timeout: Option<Spanned<f64>>,
    /// Whether a failure of a critical job aborts (the scheduler's `critical`).
    pub critical: Option<bool>,
    /// Nodes by id.
    #[serde(default)]
    pub nodes: BTreeMap<String, Spanned<Node>>,
    /// Jobs.
    #[serde(default)]
    pub job: Vec<Spanned<Job>>,
    /// Nested groups.
    #[serde(default)]
    pub group: Vec<Spanned<Group>>,
}

/// A node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Host name, address or ssh_config alias.
    pub host: Option<String>,
    /// Login user.
    pub user: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// Key file(s).
    pub identity: Option<OneOrMany<PathBuf>>,
    /// Gateway node id.
    pub gateway: Option<Spanned<String>>,
    /// This machine.
    #[serde(default)]
    pub local: bool,
    /// Values substituted as `{name}` in the jobs on this node.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

/// A job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Unique id, used by `requires`.
    pub id: Spanned<String>,
    /// Node id.
    pub node: Option<Spanned<String>>,
    /// Node set or list: one job per node.
    pub nodes: Option<Spanned<OneOrMany<String>>>,
    /// Label in listings (default: the id).
    pub label: Option<String>,
    /// Ids of jobs (or groups) of the same scope that must be done first
    /// (node by node between jobs fanned over the same nodes).
    pub requires: Option<Spanned<OneOrMany<String>>>,
    /// Ids of jobs of the same scope whose every copy must be done first.
    pub requires_all: Option<Spanned<OneOrMany<String>>>,
    /// Default true.
    pub critical: Option<bool>,
    /// Default false.
    pub forever: Option<bool>,
    /// Seconds, per command.
    pub timeout: Option<Spanned<f64>>,
    /// One command line (shorthand).
    pub run: Option<String>,
    /// Commands, in order.
    #[serde(default)]
    pub commands: Vec<Spanned<Command>>,
}

/// One command: exactly one of `run`, `script`, `string`, `push`, `pull`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Shell command line.
    pub run: Option<String>,
    /// Local script to upload and run.
    pub script: Option<PathBuf>,
    /// Script text to upload and run.
    pub string: Option<String>,
    /// Arguments of `script` / `string` (shell-quoted), or extra words of `run`.
    #[serde(default)]
    pub args: Vec<String>,
    /// Files uploaded next to a script.
    #[serde(default)]
    pub includes: Vec<PathBuf>,
    /// Local paths to push.
    pub push: Option<OneOrMany<PathBuf>>,
    /// Remote destination of `push`.
    pub to: Option<String>,
    /// Remote paths to pull.
    pub pull: Option<OneOrMany<String>>,
    /// Local destination of `pull`.
    pub into: Option<PathBuf>,
    /// Statuses that count as success besides 0.
    #[serde(default)]
    pub allowed_exits: Vec<Exit>,
    /// Label in outputs.
    pub label: Option<String>,
    /// Seconds (overrides the job's).
    pub timeout: Option<Spanned<f64>>,
}

/// A nested scheduler.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Unique id.
    pub id: Spanned<String>,
    /// Label (default: the id).
    pub label: Option<String>,
    /// Requirements in the enclosing scope.
    pub requires: Option<Spanned<OneOrMany<String>>>,
    /// Requirements on every copy of fanned jobs, in the enclosing scope.
    pub requires_all: Option<Spanned<OneOrMany<String>>>,
    /// Node set or list of the jobs inside that name no node.
    pub nodes: Option<Spanned<OneOrMany<String>>>,
    /// Default true.
    pub critical: Option<bool>,
    /// Default false.
    pub forever: Option<bool>,
    /// Jobs window inside.
    pub window: Option<usize>,
    /// Seconds for the group.
    pub timeout: Option<Spanned<f64>>,
    /// Jobs.
    #[serde(default)]
    pub job: Vec<Spanned<Job>>,
    /// Nested groups.
    #[serde(default)]
    pub group: Vec<Spanned<Group>>,
}

/// The same shape without checks, to find which job or group a serde error
/// falls in (its span), when the strict parse fails.
#[derive(Debug, Deserialize)]
pub struct Loose {
    /// Jobs.
    #[serde(default)]
    pub job: Vec<Spanned<LooseEntry>>,
    /// Groups.
    #[serde(default)]
    pub group: Vec<Spanned<Loose>>,
    /// Nodes.
    #[serde(default)]
    pub nodes: BTreeMap<String, Spanned<toml::Value>>,
    /// Group id.
    pub id: Option<toml::Value>,
}

/// A job's id, if it has a string one.
#[derive(Debug, Deserialize)]
pub struct LooseEntry {
    /// The id.
    pub id: Option<toml::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_keys_are_the_fields_of_the_file() {
        let e = toml::from_str::<File>("zzz = 1\n").expect_err("unknown key");
        let listed: Vec<String> = ROOT_KEYS.iter().map(|k| format!("`{k}`")).collect();
        let expected = format!("expected one of {}", listed.join(", "));
        assert!(e.message().contains(&expected), "{}", e.message());
    }
}
