//! Scenario files: jobs on nodes with requirements, in TOML (format below)
//! or apssh's YAML (`YamlLoader`'s format, Jinja templates included), loaded
//! into a [`Scheduler`] that a program can extend, run, list and export.
//! `ajssh scenario run|check|dot` uses exactly this API.
//!
//! Every error names the file, the line and the job, group or node
//! ([`ScenarioError`]): ``deploy.toml:12: job `run`: unknown node `fit1`
//! (did you mean `fit01`?)``. Loading is linear in the size of the file and
//! bounded by [`Limits`] (file size, line length, nesting, YAML alias
//! expansion, jobs after fan-out): a few µs per job (0.24–0.56 s for
//! 100,000 jobs on a 2-core Xeon, TOML or YAML), hostile files refused in
//! bounded time and memory. Valid TOML files are read by a tree of our own
//! over `toml_parser`'s events; any other is read again by the `toml`
//! crate, whose error is the one reported.
//!
//! # The TOML format
//!
//! ```toml
//! label = "deploy"            # optional: the scheduler's label
//! window = 8                  # optional: jobs running at once (0: no limit)
//! timeout = 300               # optional: seconds for the whole scenario
//!
//! [nodes.gw]
//! host = "bastion.example.org"   # a host name, an address or an ssh_config alias
//! user = "admin"
//! [nodes."fit[01-10]"]        # a node set: ten nodes, `{node}` is each name
//! host = "{node}.lab"
//! gateway = "gw"              # another node (jump host)
//! vars = { rack = "r1" }      # `{rack}` in the jobs on these nodes
//! [nodes.here]
//! local = true                # this machine
//!
//! [[job]]
//! id = "deploy"
//! nodes = "fit[01-10]"        # one job per node: deploy@fit01 ... deploy@fit10
//! commands = [{ push = "app.sh", to = "/tmp/" }]
//!
//! [[job]]
//! id = "run"
//! nodes = "fit[01-10]"
//! requires = "deploy"         # node by node: run@fit03 requires deploy@fit03
//! timeout = 60                # seconds, for each command
//! run = "sh /tmp/app.sh {node} > /tmp/out.txt"
//!
//! [[job]]
//! id = "collect"
//! node = "here"
//! requires = "run"            # a job on one node waits for every copy
//! commands = [
//!   { run = "mkdir -p results" },
//!   { script = "report.sh", args = ["--all"], allowed_exits = [3, "TERM"] },
//! ]
//! ```
//!
//! * **Nodes**: `host`, `user`, `port`, `identity` (a key file or a
//!   list: only these are tried), `gateway`, `local = true`, `vars`. A key
//!   may be a node set (`"fit[01-10]"`, `"r[1-2]n[1-4]"`), `{node}`
//!   replaced by each name in its fields. Hosts are resolved through
//!   ssh_config (`HostName`, `Port`, `User`, `IdentityFile`, `ProxyJump`
//!   when the file names no gateway...).
//! * **Jobs**: `id`, `node` (one node) or `nodes` (a node set or a list of
//!   names and sets: one job `id@node` per node; names not defined under
//!   `[nodes]` are hosts of ssh_config), `label`, `requires`,
//!   `requires_all`, `critical` (default true), `forever`, `timeout`, and
//!   `run = "..."` or `commands = [...]`, each command exactly one of `run`,
//!   `script` (a local file uploaded and run, with `args` and `includes`),
//!   `string` (a script's text), `push` (with `to`), `pull` (with `into`),
//!   and optionally `label`, `timeout`, `allowed_exits`.
//! * **Fan-out requirements**: between two jobs fanned over the same nodes,
//!   `requires` pairs them node by node; `requires_all` (or `requires` from
//!   a job that is not fanned) waits for every copy.
//! * **Substitution**: `{node}`, `{host}`, `{user}`, `{port}` and the
//!   node's `vars` are replaced in labels, command lines, arguments, script
//!   texts and paths of every job; other braces (`${HOME}`, `{a,b}`,
//!   `awk '{print}'`) are left as they are.
//! * **Groups**: `[[group]]` with `id`, `requires`, `requires_all`,
//!   `window`, `timeout`, `critical`, `forever`, `nodes` (the nodes of the
//!   jobs inside that name none) and `[[group.job]]`/`[[group.group]]`
//!   inside: a nested scheduler, required as one job. Requirements stay
//!   inside a group.
//! * **Paths**: every relative local path (scripts, includes, pushed files,
//!   pull destinations, identity files) is relative to the scenario file's
//!   directory; on a local node, command lines run in that directory too.
//!
//! The YAML format is apssh's (see `yaml.rs`): `nodes:` with `id`,
//! `hostname`, `username`, `gateway`, `localnode`, `formatter`, and `jobs:`
//! with `id`, `node`, `required`, `critical`, `label` and typed `commands`
//! (`Run`, `RunScript`, `RunString`, `Push`, `Pull`); plus the same
//! extensions (`nodes:` on a job, `required_all:`, node sets as node ids,
//! `port`, `vars`). A file whose name ends in `.j2` is rendered with Jinja
//! first (variables from [`Loader::variable`]).
//!
//! # Example
//!
//! ```
//! use asyncjobs_ssh::scenario::{ConfigNodes, Loader};
//! use asyncjobs_ssh::{config::SshConfig, LocalNode, Run, SshJob};
//!
//! let text = r#"
//! [nodes."n[1-3]"]
//! local = true
//!
//! [[job]]
//! id = "hello"
//! nodes = "n[1-3]"
//! run = "echo hello from {node}"
//! "#;
//! let plan = Loader::new().parse(text, "hello.toml".as_ref())?;
//! assert_eq!(plan.jobs().len(), 3);
//! let mut scenario = plan.build(&ConfigNodes::new(SshConfig::none()))?;
//! // extend it: one more job after every copy of `hello`
//! let after: Vec<_> = ["hello@n1", "hello@n2", "hello@n3"]
//!     .iter()
//!     .filter_map(|id| scenario.job(id))
//!     .collect();
//! let s = scenario.scheduler_mut();
//! s.add(SshJob::new(&LocalNode::new()).command(Run::new("echo done")).requires(after));
//! assert!(s.run().unwrap());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod error;
mod expand;
mod limits;
mod lines;
pub(crate) mod model;
mod nodeset;
mod plan;
#[cfg(test)]
mod proptests;
mod template;
mod toml_file;
mod yaml;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use asyncjobs_core::{JobRef, Scheduler};

use crate::Node;

pub use build::{ConfigNodes, NodeMaker, ScenarioJob};
pub use error::{ErrorKind, ScenarioError};
pub use limits::Limits;
pub use plan::{waves, At, CommandDef, GroupDef, Item, JobDef, NodeDef, NodeSel, Plan};
pub use yaml::FORMATTERS;

/// Longest timeout a scenario may give (about 31 years): larger values are
/// typos, and would overflow the clock.
pub const MAX_TIMEOUT_SECS: f64 = 1e9;

/// Seconds from a file: more than 0, at most [`MAX_TIMEOUT_SECS`].
pub(crate) fn secs(v: f64) -> Result<Duration, String> {
    if v > 0.0 && v <= MAX_TIMEOUT_SECS {
        if let Ok(d) = Duration::try_from_secs_f64(v) {
            return Ok(d);
        }
    }
    Err(format!(
        "bad timeout {v}: expected seconds > 0 and at most {MAX_TIMEOUT_SECS:e}"
    ))
}

/// The format of a scenario file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.toml` (and any other name).
    Toml,
    /// `.yaml`, `.yml`: apssh's format.
    Yaml,
}

impl Format {
    /// From a file name (a `.j2` suffix is ignored): `Yaml` for `.yaml`/`.yml`.
    pub fn of(file: &Path) -> Format {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let name = name.strip_suffix(".j2").unwrap_or(name);
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            Format::Yaml
        } else {
            Format::Toml
        }
    }
}

/// Whether `file` is a Jinja template (its name ends in `.j2`).
pub fn is_template(file: &Path) -> bool {
    file.extension().is_some_and(|e| e == "j2")
}

/// Reads scenario files: limits, template variables.
#[derive(Debug, Clone, Default)]
pub struct Loader {
    limits: Limits,
    variables: BTreeMap<String, String>,
}

impl Loader {
    /// Default limits, no variable.
    pub fn new() -> Loader {
        Loader::default()
    }

    /// These limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// A variable of Jinja templates (`.j2` files), as `-D name=value`.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }

    /// Reads, fans out and checks `file`.
    pub fn read(&self, file: &Path) -> Result<Plan, ScenarioError> {
        let text = self.limits.read(file)?;
        self.parse(&text, file)
    }

    /// Parses, fans out and checks `text`, the content of `file` (whose name
    /// gives the format, and whose directory the relative paths are from).
    pub fn parse(&self, text: &str, file: &Path) -> Result<Plan, ScenarioError> {
        self.limits.check_text(text, file)?;
        let rendered;
        let text = if is_template(file) {
            rendered = template::render(text, file, &self.variables, &self.limits)?;
            rendered.as_str()
        } else {
            text
        };
        let empty = Plan::new(file);
        let mut plan = match Format::of(file) {
            Format::Yaml => yaml::parse(text, empty, &self.limits)?,
            Format::Toml => {
                check_toml_depth(text, file, &self.limits)?;
                toml_file::parse(text, empty, self.limits.max_node_set)?
            }
        };
        expand::expand(&mut plan, &self.limits)?;
        plan.check()?;
        Ok(plan)
    }

    /// Reads `file` and builds its nodes (through `maker`) and scheduler.
    pub fn load(&self, file: &Path, maker: &dyn NodeMaker) -> Result<Scenario, ScenarioError> {
        self.read(file)?.build(maker)
    }
}

/// Loads `file` with the default limits, its hosts resolved through
/// `~/.ssh/config` and `/etc/ssh/ssh_config`.
pub fn load(file: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
    let file = file.as_ref();
    let config = crate::config::SshConfig::load_default().map_err(|e| {
        ScenarioError::new(ErrorKind::Node, file, 0, None, format!("ssh config: {e}"))
    })?;
    Loader::new().load(file, &ConfigNodes::new(config))
}

/// Outside strings and comments, `[` and `{` nest at most
/// [`Limits::max_depth`] deep (one pass, before the parser recurses).
fn check_toml_depth(text: &str, file: &Path, limits: &Limits) -> Result<(), ScenarioError> {
    let (mut depth, mut line) = (0usize, 1usize);
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
            comment = false;
        }
        match (quote, b) {
            _ if comment => {}
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'#') => comment = true,
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ScenarioError::new(
                        ErrorKind::Limit,
                        file,
                        line,
                        None,
                        format!("nested more than {} levels deep", limits.max_depth),
                    ));
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

impl Plan {
    /// Builds the nodes (through `maker`) and the scheduler.
    pub fn build(self, maker: &dyn NodeMaker) -> Result<Scenario, ScenarioError> {
        build::scenario(self, maker)
    }
}

/// A loaded scenario: its scheduler (to run, extend, list, export), its
/// nodes by id, and its top-level jobs by id.
pub struct Scenario {
    plan: Plan,
    scheduler: Scheduler,
    nodes: BTreeMap<String, Node>,
    jobs: HashMap<String, JobRef>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("file", &self.plan.file)
            .field("nodes", &self.nodes.len())
            .field("jobs", &self.jobs.len())
            .finish()
    }
}

impl Scenario {
    /// The plan it was built from.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The scheduler.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The scheduler, to add jobs and requirements or to run it.
    pub fn scheduler_mut(&mut self) -> &mut Scheduler {
        &mut self.scheduler
    }

    /// The scheduler alone.
    pub fn into_scheduler(self) -> Scheduler {
        self.scheduler
    }

    /// The node of id `id` (node-set members by their own name).
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// Every node, by id.
    pub fn nodes(&self) -> &BTreeMap<String, Node> {
        &self.nodes
    }

    /// A top-level job or group by id (`run@fit03` for a fanned copy), to
    /// require it from jobs added later.
    pub fn job(&self, id: &str) -> Option<JobRef> {
        self.jobs.get(id).copied()
    }

    /// The file it was read from.
    pub fn file(&self) -> &PathBuf {
        &self.plan.file
    }
}
