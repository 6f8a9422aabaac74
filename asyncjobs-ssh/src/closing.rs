//! [`close_all`]: closing every SSH connection a scheduler's jobs opened,
//! the remotest first (apssh's `close_ssh_in_scheduler`).

use std::collections::BTreeMap;

use asyncjobs_core::{Scheduler, SchedulerError};
use futures::future::join_all;

use crate::node::SshNode;
use crate::used_nodes::used_nodes;

/// Closes the connection of every node used by `scheduler`'s
/// [`SshJob`](crate::SshJob)s — nested schedulers included — and of their
/// gateways, each node once (clones of a node are one node).
///
/// The remotest nodes close first: nodes are grouped by
/// [`distance`](SshNode::distance), the groups closed from the largest
/// distance down, the nodes of a group concurrently; so a gateway closes after
/// every node behind it. Unlike `Scheduler::shutdown()`, this also closes
/// nodes kept with [`keep_connection`](crate::SshJob::keep_connection).
/// Nodes that are not connected are skipped; a closed node reconnects if used
/// again. Each close is bounded in time (see [`SshNode::close`]).
///
/// ```
/// use asyncjobs_core::Scheduler;
/// use asyncjobs_ssh::{close_all, SshJob, SshNode};
///
/// let gateway = SshNode::builder("gw.example.org").build();
/// let node = SshNode::builder("10.0.0.2").gateway(&gateway).build();
/// let mut s = Scheduler::new();
/// s.add(SshJob::new(&node).run("hostname").keep_connection(true));
/// // ... s.run() ...
/// let rt = tokio::runtime::Runtime::new().unwrap();
/// rt.block_on(close_all(&s)); // 10.0.0.2 first, then gw.example.org
/// assert!(!node.is_connected() && !gateway.is_connected());
/// ```
pub async fn close_all(scheduler: &Scheduler) {
    let mut by_distance: BTreeMap<usize, Vec<SshNode>> = BTreeMap::new();
    for used in used_nodes(scheduler).ssh {
        by_distance
            .entry(used.node.distance())
            .or_default()
            .push(used.node);
    }
    for group in by_distance.into_values().rev() {
        join_all(group.iter().map(SshNode::close)).await;
    }
}

/// [`close_all`] for callers outside any async runtime (e.g. after
/// `Scheduler::run()`); [`SchedulerError::InsideRuntime`] when called from
/// async code, which must use [`close_all`].
///
/// ```
/// use asyncjobs_core::Scheduler;
/// use asyncjobs_ssh::{close_all_blocking, LocalNode, SshJob};
///
/// let mut s = Scheduler::new();
/// s.add(SshJob::new(LocalNode::new()).run("true"));
/// assert!(s.run().unwrap());
/// close_all_blocking(&s).unwrap(); // nothing to close on a LocalNode
/// ```
pub fn close_all_blocking(scheduler: &Scheduler) -> Result<(), SchedulerError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(SchedulerError::InsideRuntime);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(SchedulerError::runtime)?;
    rt.block_on(close_all(scheduler));
    Ok(())
}
