//! [`topology_dot`]: a Graphviz picture of the nodes and gateways a scheduler
//! uses (apssh's `topology_dot` / `topology_as_dotfile`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use asyncjobs_core::Scheduler;
use asyncjobs_graph::escape;

use crate::used_nodes::used_nodes;

/// Why [`topology_as_dotfile`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// The dot file could not be written.
    #[error("cannot write the topology to {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
}

/// The nodes used by `scheduler`'s [`SshJob`](crate::SshJob)s (nested
/// schedulers included) and their gateways, as a Graphviz `digraph`.
///
/// * One node `this machine` (id `local`), where direct connections start;
///   [`LocalNode`](crate::LocalNode) jobs run there: their nodes' names are
///   listed under it.
/// * One box per SSH node (id `n1`, `n2`, ... in order of first use, each
///   gateway before the nodes behind it), labelled `user@host:port`, with the
///   display name on a first line when one was set. A node that only serves
///   as a gateway (no job of its own) is dashed.
/// * An edge from each gateway to the nodes behind it; direct nodes hang off
///   `this machine`.
///
/// Nodes are told apart by identity, as connections are: clones of a node are
/// one box, two nodes built for the same host are two. The output only
/// depends on the scheduler's jobs, so it is the same from run to run.
///
/// ```
/// use asyncjobs_core::Scheduler;
/// use asyncjobs_ssh::{topology_dot, LocalNode, SshJob, SshNode};
///
/// let gw = SshNode::builder("gw.example.org").user("admin").build();
/// let web = SshNode::builder("10.0.0.2").user("root").gateway(&gw).display_name("web").build();
/// let mut s = Scheduler::new();
/// s.add(SshJob::new(&web).run("uptime"));
/// s.add(SshJob::new(LocalNode::new()).run("date"));
/// let dot = topology_dot(&s);
/// assert!(dot.starts_with("digraph asyncjobs_topology {\n"));
/// assert!(dot.contains(r#"local [label="this machine\n(localnode)", shape="ellipse"];"#));
/// assert!(dot.contains(r#"n1 [label="admin@gw.example.org:22", shape="box", style="dashed"];"#));
/// assert!(dot.contains(r#"n2 [label="web\nroot@10.0.0.2:22", shape="box"];"#));
/// assert!(dot.contains("local -> n1;\n  n1 -> n2;\n"));
/// ```
pub fn topology_dot(scheduler: &Scheduler) -> String {
    let used = used_nodes(scheduler);
    let mut dot = String::from("digraph asyncjobs_topology {\n  graph [rankdir=\"LR\"];\n");
    let mut local = String::from("this machine");
    if !used.local.is_empty() {
        let _ = write!(local, "\n({})", used.local.join(", "));
    }
    let _ = writeln!(
        dot,
        "  local [label=\"{}\", shape=\"ellipse\"];",
        escape(&local)
    );
    let ids: HashMap<usize, String> = used
        .ssh
        .iter()
        .enumerate()
        .map(|(i, u)| (u.node.identity(), format!("n{}", i + 1)))
        .collect();
    for (i, u) in used.ssh.iter().enumerate() {
        let n = &u.node;
        let mut label = format!("{}@{}", n.user(), n.target());
        if n.has_custom_display_name() {
            label = format!("{}\n{label}", n.display_name());
        }
        let style = if u.runs_jobs {
            ""
        } else {
            ", style=\"dashed\""
        };
        let _ = writeln!(
            dot,
            "  n{} [label=\"{}\", shape=\"box\"{style}];",
            i + 1,
            escape(&label)
        );
    }
    for (i, u) in used.ssh.iter().enumerate() {
        // every gateway is in `used.ssh`, before the nodes behind it
        let from = u
            .node
            .gateway()
            .and_then(|gw| ids.get(&gw.identity()))
            .map_or("local", String::as_str);
        let _ = writeln!(dot, "  {from} -> n{};", i + 1);
    }
    dot.push_str("}\n");
    dot
}

/// Writes [`topology_dot`] into `path` (replacing the file); returns
/// `(Over)wrote {path}`, as apssh does.
///
/// ```
/// use asyncjobs_core::Scheduler;
/// use asyncjobs_ssh::{topology_as_dotfile, SshJob, SshNode};
///
/// let mut s = Scheduler::new();
/// s.add(SshJob::new(SshNode::new("web1")).run("uptime"));
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("topology.dot");
/// let said = topology_as_dotfile(&s, &path).unwrap();
/// assert_eq!(said, format!("(Over)wrote {}", path.display()));
/// assert!(std::fs::read_to_string(&path).unwrap().contains("local -> n1;"));
/// ```
pub fn topology_as_dotfile(
    scheduler: &Scheduler,
    path: impl AsRef<Path>,
) -> Result<String, TopologyError> {
    let path = path.as_ref();
    std::fs::write(path, topology_dot(scheduler)).map_err(|source| TopologyError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(format!("(Over)wrote {}", path.display()))
}
