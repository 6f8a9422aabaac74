//! Tests that must not share a process with the others: they change `HOME`
//! and `SSH_AUTH_SOCK` (read by every node without explicit keys), or count
//! the tasks alive on the crate's SSH runtime. Each takes [`ISOLATED`] so
//! they also run one at a time inside this binary.

#[path = "../ssh/support.rs"]
mod support;

mod default_auth_sources;
mod dropped_nodes_leave_no_connection;

/// Held by every test of this binary: one at a time.
pub static ISOLATED: std::sync::Mutex<()> = std::sync::Mutex::new(());
