//! [`HostJob`]: one host of a fan-out, as a scheduler job. It builds the
//! host's node when it starts (not before: memory and descriptors stay flat
//! however many hosts wait), runs the steps, closes the connection, and hands
//! the outcome to the output at once; the scheduler only keeps a `()`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use asyncjobs_core::{AbstractJob, JobError};
use asyncjobs_ssh::{SshError, SshJob, SshNode, SshOutput};

use crate::hosts::{HostSpec, NodeFactory};
use crate::input::Input;
use crate::output::json::HostStatus;
use crate::output::{HostResult, Output};
use crate::steps::Step;
use crate::stop::Stop;

/// Output bytes the library keeps per command for error messages (the stderr
/// tail); the outputs themselves go through the formatters.
const ERROR_CAPTURE: usize = 16 * 1024;

/// What every host of a fan-out shares.
pub struct Fanout {
    /// Where results go.
    pub output: Output,
    /// Builds the nodes.
    pub factory: NodeFactory,
    /// What to run.
    pub steps: Vec<Step>,
    /// Per-command timeout.
    pub timeout: Option<Duration>,
    /// What commands read on their stdin (`-I`).
    pub input: Input,
    /// Set when the run must end early (signal, closed stdout).
    pub stop: Arc<Stop>,
    /// Set when a result could not be written locally.
    pub local_error: AtomicBool,
    /// Nodes of the hosts in flight, by rank: after an interrupt, closing
    /// them waits until their cancelled commands have been stopped.
    pub active: Mutex<HashMap<usize, SshNode>>,
}

impl Fanout {
    fn active(&self) -> MutexGuard<'_, HashMap<usize, SshNode>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the connections of the hosts that were in flight when the run
    /// was cut short; returns how many there were.
    pub async fn close_active(&self) -> usize {
        let nodes: Vec<SshNode> = self.active().drain().map(|(_, n)| n).collect();
        futures::future::join_all(nodes.iter().map(SshNode::close)).await;
        nodes.len()
    }
}

/// One host.
pub struct HostJob {
    /// Rank among the targets.
    pub order: usize,
    /// The host.
    pub spec: HostSpec,
    /// Shared state.
    pub fanout: Arc<Fanout>,
}

/// Status, error kind and error text of a host's result.
pub fn classify(
    result: &Result<SshOutput, SshError>,
) -> (HostStatus, Option<String>, Option<String>) {
    match result {
        Ok(_) => (HostStatus::Ok, None, None),
        Err(e @ SshError::Connect(_)) => (
            HostStatus::Unreachable,
            Some(e.kind().into()),
            Some(crate::advice::ssh_error(e)),
        ),
        Err(e) => (
            HostStatus::Failed,
            Some(e.kind().into()),
            Some(crate::advice::ssh_error(e)),
        ),
    }
}

#[asyncjobs_core::async_trait]
impl AbstractJob for HostJob {
    type Output = ();

    async fn co_run(&self) -> Result<(), JobError> {
        let f = &self.fanout;
        let start = f.output.started().elapsed();
        let t0 = Instant::now();
        let node = f.factory.node(&self.spec);
        f.active().insert(self.order, node.clone());
        let capture = f.output.host_formatter();
        let mut job = SshJob::new(&node)
            .formatter(capture.clone())
            .capture_limit(ERROR_CAPTURE);
        if let Some(t) = f.timeout {
            job = job.command_timeout(t);
        }
        for step in &f.steps {
            job = job.command_arc(step.command(&self.spec.name, f.timeout, &f.input.stdin));
        }
        let result = job.execute().await;
        // free the socket now: thousands of finished hosts must not pile up
        node.close().await;
        f.active().remove(&self.order);
        if result.is_err() && f.stop.reason().is_some() {
            // failed because the run is stopping (output released, command
            // stopped): counted as stopped, not as failed
            f.output.hosts_stopped(1);
            return Ok(());
        }
        let (status, error_kind, error) = classify(&result);
        let exit_status = match &result {
            Err(e) => e.status().cloned(),
            Ok(_) => None,
        };
        let r = HostResult {
            order: self.order,
            label: self.spec.label.clone(),
            target: self.spec.target(),
            status,
            error_kind,
            error,
            exit_code: exit_status.as_ref().and_then(|s| s.code()),
            signal: exit_status
                .as_ref()
                .and_then(|s| s.signal().map(str::to_string)),
            start,
            duration: t0.elapsed(),
            capture,
        };
        if let Err(e) = f.output.finish_host(r) {
            // once the run is stopping, writes fail on purpose: not an error to report
            if f.stop.reason().is_none() && !f.local_error.swap(true, Ordering::SeqCst) {
                eprintln!("ajssh: error: {e}");
            }
        }
        Ok(())
    }

    fn kind(&self) -> String {
        "HostJob".into()
    }

    fn default_label(&self) -> String {
        self.spec.label.clone()
    }
}
