//! # asyncjobs-ssh
//!
//! Orchestrate commands across remote hosts as a DAG of jobs, on
//! [`asyncjobs_core`]'s scheduler and [russh](https://docs.rs/russh): the Rust
//! counterpart of Python's apssh, safe by default.
//!
//! * [`SshNode`]: a host (user, port, keys, gateway for jump hosts, timeouts,
//!   host key policy, [key exchange preferences](SshNodeBuilder::kex_algorithms)).
//!   One connection per node, opened on first use and shared by all its jobs;
//!   closed by `Scheduler::shutdown()` (unless a job keeps it), by
//!   [`close_all`] (every node of a scheduler, the remotest first), by
//!   [`SshNode::close`], or when the node is dropped. [`LocalNode`] runs the
//!   same commands on this machine, `Push`/`Pull` as local copies.
//! * [`topology_dot`]: the nodes and gateways of a scheduler as a Graphviz graph.
//! * [`SshJob`]: commands run in order on a node — [`Run`], [`RunScript`],
//!   [`RunString`], [`Push`], [`Pull`] — stopping at the first failure, with
//!   a typed [`SshError`] (host, command, exit status, stderr tail) and an
//!   [`SshOutput`] result (listings show the statuses: `0, 0, 3`). Commands
//!   can forward X11 ([`Run::x11`]); [`Service`] gives the commands that run
//!   a transient systemd service.
//! * Commands read end-of-file on their standard input at once, as with
//!   `ssh -n`, unless given input: [`Run::stdin`] (bytes, shared by clones)
//!   or [`Run::stdin_file`] (also on `RunScript`, `RunString`; see [`Stdin`]).
//! * Output streams line by line through a [`Formatter`]: [`HostFormatter`]
//!   (`host:line`, default), [`RawFormatter`], [`TimeHostFormatter`],
//!   [`SubdirFormatter`] (one file per host).
//! * Where the time goes: each step of a connection (TCP, key exchange,
//!   authentication) and of a command (channel, exec, exit) is reported to the
//!   formatter as an [`Event::Phase`] with its duration (see [`Phase`]).
//! * Trust as OpenSSH: host keys checked against known_hosts (plain, hashed,
//!   `[host]:port`), unknown hosts refused unless [`HostKeyPolicy::AcceptNew`],
//!   changed keys always refused; ssh-agent, default or explicit keys; no
//!   prompt unless you give one ([`PassphrasePrompt`]).
//! * Cancellation is safe: a job dropped by a scheduler timeout or a critical
//!   failure stops its remote command (signal through the channel) and
//!   per-command timeouts do the same.
//!
//! One import brings what a script needs ([`prelude`]). Through a gateway,
//! on three nodes: push a file, run a script, pull the result, then list,
//! draw and shut down *whatever the outcome*, and only then propagate it:
//!
//! ```no_run
//! use asyncjobs_ssh::prelude::*;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let gateway = SshNode::builder("bastion.example.org").build();
//!     let mut s = Scheduler::new().timeout(Duration::from_secs(60));
//!     for i in 1..=3 {
//!         let node = SshNode::builder(format!("10.0.0.{i}")).user("root").gateway(&gateway).build();
//!         s.add(SshJob::new(&node)
//!             .label(format!("node {i}"))
//!             .command(Push::new(["setup.sh"], "/tmp/"))
//!             .command(RunScript::new("install.sh").arg("--quick"))
//!             .command(Pull::new(["/tmp/install.log"], format!("logs/{i}.log"))));
//!     }
//!     let outcome = s.run();                 // Ok(true), Ok(false) or the error
//!     s.list();                              // whatever happened
//!     export_as_dotfile(&s, "install.dot")?;
//!     s.shutdown()?;                         // every connection, hosts before their gateway
//!     outcome?;                              // now propagate it
//!     Ok(())
//! }
//! ```
//!
//! Runnable without any remote host, on a [`LocalNode`]:
//!
//! ```
//! use asyncjobs_ssh::prelude::*;
//!
//! let node = LocalNode::new();
//! let mut s = Scheduler::new().critical(false);
//! let ok = s.add(SshJob::new(&node).command(Run::new("echo").arg("it's fine")));
//! let ko = s.add(SshJob::new(&node).run("echo oops >&2; exit 3").critical(false));
//! assert!(s.run().unwrap());
//! assert_eq!(ok.result().unwrap().stdout(), "it's fine\n");
//! let err = ko.raised_exception().unwrap();
//! assert_eq!(err.kind(), "CommandFailed");
//! match err.downcast_ref::<SshError>() {
//!     Some(SshError::CommandFailed { status, stderr_tail, .. }) => {
//!         assert_eq!(status.code(), Some(3));
//!         assert_eq!(stderr_tail, "oops");
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```
//!
//! Connections and the clean-up of cancelled commands run on a small runtime
//! of this crate's own (2 threads), so they outlive the runtime that
//! `Scheduler::run()` creates and drops.
#![warn(missing_docs)]

mod anynode;
mod auth;
mod closing;
mod commands;
pub mod config;
mod connection;
mod context;
mod error;
pub mod escape;
mod exec;
mod formatter;
mod job;
mod kex;
mod known_hosts;
mod lines;
mod local;
mod node;
mod output;
mod phase;
pub mod prelude;
mod proxy_command;
mod quickack;
mod quote;
mod runtime;
pub mod scenario;
mod server_id;
mod service;
mod session_stream;
pub mod sftp;
mod status;
mod stdin;
pub mod targets;
mod toml_tree;
mod topology;
mod used_nodes;
mod variables;
mod x11;
mod yaml_tree;

pub use anynode::Node;
pub use auth::PassphrasePrompt;
pub use closing::{close_all, close_all_blocking};
pub use commands::{Pull, Push, Run, RunScript, RunString, SshCommand};
pub use context::{CommandContext, Sftp};
pub use error::{ConnectError, SshError};
pub use formatter::{
    default_formatter, Event, Formatter, HostFormatter, RawFormatter, SharedBuffer, Stream,
    SubdirFormatter, TimeHostFormatter,
};
pub use job::{SshJob, SshTask, DEFAULT_CAPTURE_LIMIT};
pub use kex::{check_kex_algorithms, default_kex_algorithms, supported_kex_algorithms, KexError};
pub use known_hosts::{default_known_hosts_files, known_hosts_name, HostKeyPolicy};
pub use local::LocalNode;
pub use node::{
    SshNode, SshNodeBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_KEEPALIVE, DEFAULT_MAX_SESSIONS,
};
pub use output::{CommandOutput, SshOutput};
pub use phase::Phase;
pub use quote::shell_quote;
pub use service::{Service, ServiceError, SERVICE_TYPES};
pub use status::ExitStatus;
pub use stdin::Stdin;
pub use topology::{topology_as_dotfile, topology_dot, TopologyError};
pub use variables::Variables;

/// Number of tasks alive on the crate's SSH runtime (session tasks and clean-ups).
/// For leak tests only; not a stable API.
#[doc(hidden)]
pub fn __ssh_runtime_alive_tasks() -> usize {
    runtime::alive_tasks()
}
