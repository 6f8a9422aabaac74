//! [`SshJob`]: commands run in order on one node, as one scheduler job.

use std::sync::Arc;
use std::time::{Duration, Instant};

use asyncjobs_core::{
    AbstractJob, AbstractJobBody, Addable, Job, JobError, JobHandle, JobRef, Requirements,
    Scheduler,
};

use crate::anynode::Node;
use crate::commands::{Run, SshCommand};
use crate::context::CommandContext;
use crate::error::SshError;
use crate::formatter::{Event, Formatter};
use crate::output::SshOutput;

/// Default bytes of stdout (and of stderr) captured per command in the result.
pub const DEFAULT_CAPTURE_LIMIT: usize = 16 * 1024 * 1024;

/// Lines of stderr kept in a [`SshError::CommandFailed`] error.
const STDERR_TAIL_LINES: usize = 10;

/// A job that runs one or more commands in order on a node, stopping at the
/// first failure. Its builder takes the commands and the scheduler options in
/// any order — [`label`](Self::label), [`critical`](Self::critical),
/// [`forever`](Self::forever), [`requires`](Self::requires),
/// [`graph_label`](Self::graph_label) — and it goes into a
/// [`Scheduler`] (or a [`Sequence`](asyncjobs_core::Sequence)) as it is;
/// once added, the job object is an [`SshTask`].
///
/// * A command fails when it ends with a status other than 0 and not in its
///   allowed exits: the job fails with [`SshError::CommandFailed`] (host,
///   command, status, last lines of stderr). A connection problem is an
///   [`SshError::Connect`]. Job errors carry the error's
///   [`kind`](SshError::kind) (`CommandFailed`, `AuthRefused`, ...).
/// * The result is an [`SshOutput`]: status and captured output of every command.
/// * Dropping the running job (scheduler timeout, critical failure elsewhere)
///   stops the command still running on the node.
/// * `co_shutdown` (called by `Scheduler::shutdown`) closes the node's
///   connection and those of its gateways, unless they are kept (see
///   [`keep_connection`](Self::keep_connection)); [`close_all`](crate::close_all)
///   closes every node of a scheduler, kept ones included.
///
/// ```no_run
/// use asyncjobs_ssh::prelude::*;
///
/// let node = SshNode::builder("web1").user("deploy").build();
/// let mut s = Scheduler::new();
/// let h = s.add(
///     SshJob::new(&node)
///         .label("check web1")
///         .critical(false)
///         .command(Run::new("uname -a"))
///         .command(Run::new("systemctl is-active").arg("nginx")),
/// );
/// let ok = s.run().unwrap();
/// s.shutdown().unwrap(); // closes the connection
/// println!("{ok}: {:?}", h.result().map(|o| o.stdout()));
/// ```
#[must_use = "a job does nothing until added to a scheduler"]
pub struct SshJob {
    task: SshTask,
    label: Option<String>,
    graph_label: Option<String>,
    critical: Option<bool>,
    forever: Option<bool>,
    requires: Vec<JobRef>,
}

impl SshJob {
    /// A job on `node` (an `SshNode`, a `LocalNode`, or a reference to one), with no command yet.
    pub fn new(node: impl Into<Node>) -> Self {
        SshJob {
            task: SshTask::new(node.into()),
            label: None,
            graph_label: None,
            critical: None,
            forever: None,
            requires: Vec::new(),
        }
    }

    /// Appends a command.
    pub fn command(mut self, command: impl SshCommand) -> Self {
        self.task.commands.push(Arc::new(command));
        self
    }

    /// Appends an already shared command.
    pub fn command_arc(mut self, command: Arc<dyn SshCommand>) -> Self {
        self.task.commands.push(command);
        self
    }

    /// Appends a [`Run`] of a raw shell command line: `job.run("uptime")`.
    pub fn run(self, command_line: impl Into<String>) -> Self {
        self.command(Run::new(command_line))
    }

    /// Overrides the node's formatter for this job's output.
    pub fn formatter(mut self, formatter: Arc<dyn Formatter>) -> Self {
        self.task.formatter = Some(formatter);
        self
    }

    /// Default timeout of each command (commands may set their own).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.task.timeout = Some(timeout);
        self
    }

    /// Bytes of stdout and of stderr kept per command in the result (default 16 MiB).
    /// The formatter receives all output regardless.
    pub fn capture_limit(mut self, bytes: usize) -> Self {
        self.task.capture_limit = bytes;
        self
    }

    /// Keep the node's connection open at `co_shutdown` (default: close it,
    /// and its gateways').
    ///
    /// A node is *kept* while any `SshJob` on it with `keep_connection(true)`
    /// exists: `Scheduler::shutdown()` then leaves its connection open, and
    /// those of its gateways (closing a gateway would cut it), even when other
    /// jobs of the scheduler use the same node or gateways without keeping
    /// them. [`close_all`](crate::close_all), [`SshNode::close`](crate::SshNode::close)
    /// and dropping the last clone of the node still close it.
    pub fn keep_connection(mut self, keep: bool) -> Self {
        self.task.set_keep_connection(keep);
        self
    }

    /// Close the node's connection as soon as this job ends (default: keep it
    /// for later jobs until shutdown). For fan-outs over many hosts with one
    /// job each: open connections then stay bounded by the jobs window.
    pub fn close_when_done(mut self, close: bool) -> Self {
        self.task.close_when_done = close;
        self
    }

    /// The label shown in listings and graphs (default: the first command,
    /// and how many others follow, e.g. `uptime + 2 more`).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The label graphs draw instead of `{id}: {label}`; listings keep [`label`](Self::label).
    pub fn graph_label(mut self, label: impl Into<String>) -> Self {
        self.graph_label = Some(label.into());
        self
    }

    /// Whether a failure of this job aborts the scheduler (default: true).
    pub fn critical(mut self, critical: bool) -> Self {
        self.critical = Some(critical);
        self
    }

    /// Whether the job runs forever: not waited for, cancelled once all other
    /// jobs are done (a monitor, a `tail -f`).
    pub fn forever(mut self, forever: bool) -> Self {
        self.forever = Some(forever);
        self
    }

    /// Adds requirements: jobs (handles, sequences, nested schedulers, lists
    /// of them) that must be done before this one starts.
    pub fn requires(mut self, reqs: impl Requirements) -> Self {
        reqs.push_refs(&mut self.requires);
        self
    }

    /// The node this job runs on.
    pub fn node(&self) -> &Node {
        &self.task.node
    }

    /// The labels of the commands, in order.
    pub fn command_labels(&self) -> Vec<String> {
        self.task.command_labels()
    }

    /// The job object as the scheduler will hold it (its default label, kind, details).
    pub fn task(&self) -> &SshTask {
        &self.task
    }

    /// Runs the commands outside any scheduler, with typed errors.
    pub async fn execute(&self) -> Result<SshOutput, SshError> {
        self.task.execute().await
    }

    /// The core [`Job`] with this job's options, for what only a `Job` offers
    /// (e.g. [`Job::result_text`]); [`Scheduler::add`] takes the `SshJob` itself.
    pub fn into_job(self) -> Job<AbstractJobBody<SshTask>> {
        let mut job = Job::from_abstract(self.task).requires(self.requires);
        if let Some(label) = self.label {
            job = job.label(label);
        }
        if let Some(label) = self.graph_label {
            job = job.graph_label(label);
        }
        if let Some(critical) = self.critical {
            job = job.critical(critical);
        }
        if let Some(forever) = self.forever {
            job = job.forever(forever);
        }
        job
    }
}

impl Addable for SshJob {
    type Handle = JobHandle<SshOutput>;
    fn add_after(
        self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (Self::Handle, Option<(JobRef, JobRef)>) {
        self.into_job().add_after(s, prev)
    }
}

/// What an [`SshJob`] becomes once added to a scheduler: the node and the
/// commands, run by the scheduler as an [`AbstractJob`] (kind `SshJob`).
/// [`Scheduler::jobs_of::<SshTask>()`](Scheduler::jobs_of) lists them.
pub struct SshTask {
    node: Node,
    commands: Vec<Arc<dyn SshCommand>>,
    formatter: Option<Arc<dyn Formatter>>,
    timeout: Option<Duration>,
    capture_limit: usize,
    keep_connection: bool,
    close_when_done: bool,
}

impl SshTask {
    fn new(node: Node) -> Self {
        SshTask {
            node,
            commands: Vec::new(),
            formatter: None,
            timeout: None,
            capture_limit: DEFAULT_CAPTURE_LIMIT,
            keep_connection: false,
            close_when_done: false,
        }
    }

    fn set_keep_connection(&mut self, keep: bool) {
        if keep != self.keep_connection {
            if let Node::Ssh(n) = &self.node {
                if keep {
                    n.hold();
                } else {
                    n.release();
                }
            }
            self.keep_connection = keep;
        }
    }

    /// The node this job runs on.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The labels of the commands, in order.
    pub fn command_labels(&self) -> Vec<String> {
        self.commands.iter().map(|c| c.label()).collect()
    }

    /// Runs the commands outside any scheduler, with typed errors.
    pub async fn execute(&self) -> Result<SshOutput, SshError> {
        let start = Instant::now();
        let host = self.node.display_name().to_string();
        let formatter = self
            .formatter
            .clone()
            .unwrap_or_else(|| Arc::clone(self.node.formatter()));
        if let Node::Ssh(n) = &self.node {
            // connect before the first command, so errors are about the connection;
            // the first command's session channel is opened behind authentication
            let then = match self.commands.is_empty() {
                true => crate::connection::Early::Nothing,
                false => crate::connection::Early::Session,
            };
            n.connection_for(then).await?;
        }
        let ctx = CommandContext {
            node: &self.node,
            formatter: Arc::clone(&formatter),
            timeout: self.timeout,
            capture_limit: self.capture_limit,
        };
        let mut outputs = Vec::with_capacity(self.commands.len());
        for cmd in &self.commands {
            let label = cmd.label();
            let output_err = |e: std::io::Error| SshError::Output {
                host: host.clone(),
                command: label.clone(),
                source: Arc::new(e),
            };
            formatter
                .event(&host, &Event::CommandStart { command: &label })
                .map_err(output_err)?;
            let result = cmd.run(&ctx).await;
            let status = result.as_ref().ok().map(|o| &o.status);
            formatter
                .event(
                    &host,
                    &Event::CommandEnd {
                        command: &label,
                        status,
                    },
                )
                .map_err(output_err)?;
            let out = result?;
            if !out.status.success() && !cmd.allowed_exits().contains(&out.status) {
                return Err(SshError::CommandFailed {
                    host,
                    command: label,
                    status: out.status.clone(),
                    stderr_tail: out.stderr_tail(STDERR_TAIL_LINES),
                    output: Box::new(out),
                });
            }
            if let Some((vars, name)) = cmd.capture_target() {
                vars.set(name, crate::variables::captured_value(&out.stdout));
            }
            outputs.push(out);
        }
        Ok(SshOutput {
            host,
            user: self.node.user(),
            commands: outputs,
            duration: start.elapsed(),
        })
    }
}

impl Drop for SshTask {
    fn drop(&mut self) {
        if let (Node::Ssh(n), true) = (&self.node, self.keep_connection) {
            n.release();
        }
    }
}

#[asyncjobs_core::async_trait]
impl AbstractJob for SshTask {
    type Output = SshOutput;

    async fn co_run(&self) -> Result<SshOutput, JobError> {
        let outcome = self.execute().await;
        if let (Node::Ssh(n), true) = (&self.node, self.close_when_done) {
            n.close().await;
        }
        outcome.map_err(SshError::into_job_error)
    }

    async fn co_shutdown(&self) {
        if let (Node::Ssh(n), false) = (&self.node, self.keep_connection) {
            n.close_with_gateways_unless_kept().await;
        }
    }

    fn kind(&self) -> String {
        "SshJob".into()
    }

    fn default_label(&self) -> String {
        match self.commands.as_slice() {
            [] => "SshJob (no command)".into(),
            [one] => one.label(),
            [first, rest @ ..] => format!("{} + {} more", first.label(), rest.len()),
        }
    }

    /// The statuses of the commands, e.g. `0` or `0, 0, 3` (see [`SshOutput::summary`]).
    fn result_text(output: &SshOutput) -> String {
        output.summary()
    }

    fn details(&self) -> Option<String> {
        let mut lines = vec![self.node.describe()];
        lines.extend(self.commands.iter().map(|c| c.label()));
        Some(lines.join("\n"))
    }

    /// The commands only: graphs name the node by [`graph_target`](Self::graph_target),
    /// not by its `user@gateway->user@host` chain.
    fn graph_details(&self) -> Option<String> {
        let lines = self.command_labels();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// The node's name as outputs show it (a scenario's node id).
    fn graph_target(&self) -> Option<String> {
        Some(self.node.display_name().to_string())
    }
}
