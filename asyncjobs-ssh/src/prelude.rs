//! What a testbed script needs, in one import: `use asyncjobs_ssh::prelude::*;`.
//!
//! Everything of [`asyncjobs_core::prelude`] (the [`Scheduler`], [`Sequence`],
//! [`Job`], [`JobExt`], handles, [`Watch`], [`ErrorChain`] and the errors),
//! the nodes ([`SshNode`], [`LocalNode`], [`SshConfig`] to read them from an
//! ssh config), [`SshJob`] and its commands ([`Run`], [`RunScript`],
//! [`RunString`], [`Push`], [`Pull`], [`Service`], [`Variables`]), the
//! formatters, the errors ([`SshError`], [`ConnectError`]), the graph exports
//! of [`asyncjobs_graph`] ([`export_as_dotfile`], [`DotOptions`]) and
//! [`topology_dot`], [`close_all`], [`shell_quote`] — and `Duration`.
//!
//! ```no_run
//! use asyncjobs_ssh::prelude::*;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let gw = SshNode::builder("gw.example.org").user("admin").build();
//!     let mut s = Scheduler::new().timeout(Duration::from_secs(60));
//!     for i in 1..=5 {
//!         let node = SshNode::builder(format!("n{i}")).user("root").gateway(&gw).build();
//!         s.add(SshJob::new(&node).label(format!("n{i}")).run("uptime"));
//!     }
//!     let outcome = s.run(); // keep it: list and shut down whatever it is
//!     s.list();
//!     s.shutdown()?;
//!     outcome?;
//!     Ok(())
//! }
//! ```

pub use asyncjobs_core::prelude::*;
pub use asyncjobs_graph::{export_as_dotfile, export_as_dotfile_with, DotOptions};
pub use std::time::Duration;

pub use crate::config::SshConfig;
pub use crate::{
    close_all, close_all_blocking, shell_quote, topology_as_dotfile, topology_dot, ConnectError,
    ExitStatus, Formatter, HostFormatter, HostKeyPolicy, LocalNode, Node, Pull, Push, RawFormatter,
    Run, RunScript, RunString, Service, SshCommand, SshError, SshJob, SshNode, SshOutput,
    SubdirFormatter, TimeHostFormatter, Variables,
};
