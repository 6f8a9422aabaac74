//! [`Node`]: where a job runs, an [`SshNode`] or a [`LocalNode`].

use std::sync::Arc;

use crate::formatter::Formatter;
use crate::local::LocalNode;
use crate::node::SshNode;

/// Where an [`SshJob`](crate::SshJob) runs. Built with `.into()` (or
/// implicitly by `SshJob::new`) from an `SshNode` or a `LocalNode`, owned or
/// borrowed (borrowing clones the node, which shares its connection).
#[derive(Clone, Debug)]
pub enum Node {
    /// A remote host over SSH.
    Ssh(SshNode),
    /// This machine.
    Local(LocalNode),
}

impl Node {
    /// The name shown in output lines and errors.
    pub fn display_name(&self) -> &str {
        match self {
            Node::Ssh(n) => n.display_name(),
            Node::Local(n) => n.display_name(),
        }
    }
    /// The login user.
    pub fn user(&self) -> String {
        match self {
            Node::Ssh(n) => n.user().to_string(),
            Node::Local(n) => n.user(),
        }
    }
    /// The node's formatter.
    pub fn formatter(&self) -> &Arc<dyn Formatter> {
        match self {
            Node::Ssh(n) => n.formatter(),
            Node::Local(n) => n.formatter(),
        }
    }
    /// The SSH node, if it is one.
    pub fn as_ssh(&self) -> Option<&SshNode> {
        match self {
            Node::Ssh(n) => Some(n),
            Node::Local(_) => None,
        }
    }
    /// `user@host` (with gateways) for an SSH node, `user@localnode` otherwise.
    pub fn describe(&self) -> String {
        match self {
            Node::Ssh(n) => n.to_string(),
            Node::Local(n) => format!("{}@{}", n.user(), n.display_name()),
        }
    }
}

impl From<SshNode> for Node {
    fn from(n: SshNode) -> Self {
        Node::Ssh(n)
    }
}
impl From<&SshNode> for Node {
    fn from(n: &SshNode) -> Self {
        Node::Ssh(n.clone())
    }
}
impl From<LocalNode> for Node {
    fn from(n: LocalNode) -> Self {
        Node::Local(n)
    }
}
impl From<&LocalNode> for Node {
    fn from(n: &LocalNode) -> Self {
        Node::Local(n.clone())
    }
}
impl From<&Node> for Node {
    fn from(n: &Node) -> Self {
        n.clone()
    }
}
