//! The nodes a scheduler's [`SshJob`]s use, nested schedulers included, with
//! their gateways: what [`close_all`](crate::close_all) closes and
//! [`topology_dot`](crate::topology_dot) draws.

use std::collections::HashMap;

use asyncjobs_core::Scheduler;

use crate::anynode::Node;
use crate::job::SshTask;
use crate::node::SshNode;

/// One SSH node in use.
pub(crate) struct UsedNode {
    pub node: SshNode,
    /// False for a node that is only a gateway of others.
    pub runs_jobs: bool,
}

/// Every node in use, each once.
pub(crate) struct UsedNodes {
    /// SSH nodes de-duplicated by identity (clones are one node; two nodes
    /// built for the same host are two), in order of first use, each
    /// gateway before the nodes behind it.
    pub ssh: Vec<UsedNode>,
    /// Display names of the [`LocalNode`](crate::LocalNode)s used, sorted, each once.
    pub local: Vec<String>,
}

/// The nodes used by `scheduler`'s SshJobs (nested ones too) and their gateways.
pub(crate) fn used_nodes(scheduler: &Scheduler) -> UsedNodes {
    let mut ssh: Vec<UsedNode> = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut local: Vec<String> = Vec::new();
    for job in scheduler.jobs_of::<SshTask>() {
        let node = match job.node() {
            Node::Ssh(n) => n,
            Node::Local(l) => {
                local.push(l.display_name().to_string());
                continue;
            }
        };
        // the chain from the outermost gateway to the node
        let mut chain = vec![node.clone()];
        while let Some(gw) = chain.last().and_then(SshNode::gateway) {
            chain.push(gw.clone());
        }
        for n in chain.into_iter().rev() {
            index.entry(n.identity()).or_insert_with(|| {
                ssh.push(UsedNode {
                    node: n,
                    runs_jobs: false,
                });
                ssh.len() - 1
            });
        }
        ssh[index[&node.identity()]].runs_jobs = true;
    }
    local.sort();
    local.dedup();
    UsedNodes { ssh, local }
}
