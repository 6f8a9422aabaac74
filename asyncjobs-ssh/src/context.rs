//! [`CommandContext`]: what a command gets to run with — the node, the
//! formatter, the job's defaults — and the primitives commands are made of.

use std::sync::Arc;
use std::time::Duration;

use crate::anynode::Node;
use crate::error::SshError;
use crate::exec::ExecOptions;
use crate::formatter::Formatter;
use crate::output::CommandOutput;
use crate::session_stream::SessionStream;
use crate::sftp::SftpSession;
use crate::stdin::Stdin;
use crate::x11::X11Forward;

/// How a shell command runs, besides its command line.
#[derive(Clone, Copy)]
pub(crate) struct ShellSpec<'a> {
    /// Overrides the job's command timeout.
    pub timeout: Option<Duration>,
    /// Forward X11 for it.
    pub x11: Option<&'a X11Forward>,
    /// Its standard input.
    pub stdin: &'a Stdin,
}

/// Handed to [`SshCommand::run`](crate::SshCommand::run): the node to run on
/// and the job's settings, with the two primitives every command is built
/// from: [`shell`](Self::shell) and [`sftp`](Self::sftp).
pub struct CommandContext<'a> {
    pub(crate) node: &'a Node,
    pub(crate) formatter: Arc<dyn Formatter>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) capture_limit: usize,
}

/// An SFTP session on a node's connection (it holds one of the connection's
/// session slots until dropped and the server has closed its channel).
/// Derefs to [`SftpSession`].
pub struct Sftp {
    session: SftpSession,
}

impl std::ops::Deref for Sftp {
    type Target = SftpSession;
    fn deref(&self) -> &SftpSession {
        &self.session
    }
}

impl CommandContext<'_> {
    /// The node the job runs on.
    pub fn node(&self) -> &Node {
        self.node
    }
    /// The node's name in outputs.
    pub fn host(&self) -> &str {
        self.node.display_name()
    }
    /// The formatter of this job.
    pub fn formatter(&self) -> &Arc<dyn Formatter> {
        &self.formatter
    }
    /// The job's default per-command timeout.
    pub fn default_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Runs a shell command line on the node (remote login shell, or local
    /// `sh -c`), streaming its output through the formatter and capturing it.
    /// `timeout` overrides the job's default. The exit status is returned, not
    /// judged: the job decides what is a failure.
    /// The command reads end-of-file on its standard input at once
    /// ([`shell_with_stdin`](Self::shell_with_stdin) gives it input).
    pub async fn shell(
        &self,
        label: &str,
        command_line: &str,
        timeout: Option<Duration>,
    ) -> Result<CommandOutput, SshError> {
        self.shell_with_stdin(label, command_line, timeout, &Stdin::Null)
            .await
    }

    /// [`shell`](Self::shell), the command reading `stdin` on its standard input.
    pub async fn shell_with_stdin(
        &self,
        label: &str,
        command_line: &str,
        timeout: Option<Duration>,
        stdin: &Stdin,
    ) -> Result<CommandOutput, SshError> {
        let spec = ShellSpec {
            timeout,
            x11: None,
            stdin,
        };
        self.shell_with(label, command_line, spec).await
    }

    /// [`shell`](Self::shell), with X11 forwarding and input as `spec` says.
    pub(crate) async fn shell_with(
        &self,
        label: &str,
        command_line: &str,
        spec: ShellSpec<'_>,
    ) -> Result<CommandOutput, SshError> {
        let opts = ExecOptions {
            formatter: Some(Arc::clone(&self.formatter)),
            timeout: spec.timeout.or(self.timeout),
            capture_limit: self.capture_limit,
            x11: spec.x11.cloned(),
            stdin: spec.stdin.clone(),
        };
        self.exec(label, command_line, &opts).await
    }

    /// Like [`shell`](Self::shell) without output to the formatter (internal chores).
    pub(crate) async fn quiet_shell(
        &self,
        label: &str,
        command_line: &str,
    ) -> Result<CommandOutput, SshError> {
        let opts = ExecOptions {
            formatter: None,
            timeout: self.timeout,
            capture_limit: 64 * 1024,
            x11: None,
            stdin: Stdin::Null,
        };
        self.exec(label, command_line, &opts).await
    }

    async fn exec(
        &self,
        label: &str,
        command_line: &str,
        opts: &ExecOptions,
    ) -> Result<CommandOutput, SshError> {
        match self.node {
            Node::Ssh(n) => {
                let session = n.open_session(label).await?;
                crate::exec::run_remote(session, self.host(), label, command_line, opts).await
            }
            Node::Local(_) => crate::local::run_local(self.host(), label, command_line, opts).await,
        }
    }

    /// Opens an SFTP session on the node's connection (SSH nodes only).
    pub async fn sftp(&self, label: &str) -> Result<Sftp, SshError> {
        let Node::Ssh(n) = self.node else {
            return Err(SshError::Unsupported {
                host: self.host().into(),
                command: label.into(),
                message: "SFTP needs an SSH node".into(),
            });
        };
        let mut opened = n.open_session(label).await?;
        crate::sftp::start_subsystem(&mut opened.channel)
            .await
            .map_err(|e| self.transfer(label, e))?;
        let stream = SessionStream::new(&opened.conn, opened.channel, opened.permit);
        let session = crate::sftp::sftp_on_stream(stream)
            .await
            .map_err(|e| self.transfer(label, e))?;
        Ok(Sftp { session })
    }

    /// Wraps an SFTP error for this node and command.
    pub fn transfer(&self, label: &str, e: crate::sftp::SftpError) -> SshError {
        SshError::Transfer {
            host: self.host().into(),
            command: label.into(),
            source: Arc::new(e),
        }
    }
}
