//! [`LocalNode`]: the same job API, commands run on this machine with `sh -c`.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::error::SshError;
use crate::exec::{ExecOptions, OutputSink};
use crate::formatter::{default_formatter, Formatter, Stream};
use crate::output::CommandOutput;
use crate::status::ExitStatus;
use crate::stdin::OpenStdin;

/// This machine, as a node: `Push` and `Pull` copy files locally (same
/// rules as over SFTP); `Run`, `RunScript` and `RunString` run locally
/// through `sh -c`, their output streamed line by line through the formatter
/// exactly as for an [`SshNode`](crate::SshNode).
///
/// Each command runs in its own process group, so a timeout or a cancelled job
/// stops the whole command (pipelines and children included), not only `sh`.
///
/// ```
/// use asyncjobs_core::Scheduler;
/// use asyncjobs_ssh::{LocalNode, SshJob, SharedBuffer, HostFormatter};
/// use std::sync::Arc;
///
/// let out = SharedBuffer::new();
/// let node = LocalNode::new().with_formatter(Arc::new(HostFormatter::with_writers(out.clone(), std::io::sink())));
/// let mut s = Scheduler::new();
/// let h = s.add(SshJob::new(&node).run("echo hello"));
/// assert!(s.run().unwrap());
/// assert_eq!(h.result().unwrap().stdout(), "hello\n");
/// assert_eq!(out.contents_lossy(), "localnode:hello\n");
/// ```
#[derive(Clone)]
pub struct LocalNode {
    display: String,
    formatter: Arc<dyn Formatter>,
}

impl Default for LocalNode {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LocalNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalNode({})", self.display)
    }
}

impl LocalNode {
    /// The local machine, shown as `localnode`, output to the [default formatter](default_formatter).
    pub fn new() -> Self {
        LocalNode {
            display: "localnode".into(),
            formatter: default_formatter(),
        }
    }
    /// Sets the name shown in output lines.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.display = name.into();
        self
    }
    /// Sets where command output goes.
    pub fn with_formatter(mut self, formatter: Arc<dyn Formatter>) -> Self {
        self.formatter = formatter;
        self
    }
    /// The name shown in output lines.
    pub fn display_name(&self) -> &str {
        &self.display
    }
    /// The formatter receiving this node's output.
    pub fn formatter(&self) -> &Arc<dyn Formatter> {
        &self.formatter
    }
    /// The local user.
    pub fn user(&self) -> String {
        crate::node::local_user()
    }
}

/// Stops the process group of a running local command when dropped before the end.
struct GroupGuard {
    pgid: Option<Pid>,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            let _ = killpg(pgid, Signal::SIGTERM);
            // escalate if something ignores TERM; ESRCH once the group is gone is fine
            crate::runtime::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                let _ = killpg(pgid, Signal::SIGKILL);
            });
        }
    }
}

/// Runs `command_line` with `sh -c` in its own process group.
pub(crate) async fn run_local(
    host: &str,
    label: &str,
    command_line: &str,
    opts: &ExecOptions,
) -> Result<CommandOutput, SshError> {
    let start = Instant::now();
    let local_err = |message: String| SshError::Local {
        host: host.into(),
        command: label.into(),
        message,
    };
    let mut command = Command::new("sh");
    if let Some(display) = opts.x11.as_ref().and_then(|x| x.display.as_deref()) {
        // X clients of a local command reach the display directly
        command.env("DISPLAY", display);
    }
    let input = opts.stdin.open().map_err(|message| SshError::Input {
        host: host.into(),
        command: label.into(),
        message,
    })?;
    let (stdin, bytes) = match input {
        OpenStdin::Null => (Stdio::null(), None),
        OpenStdin::File(f) => (Stdio::from(f), None),
        OpenStdin::Bytes(b) => (Stdio::piped(), Some(b)),
    };
    let mut child = command
        .arg("-c")
        .arg(command_line)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| local_err(format!("cannot start sh: {e}")))?;
    let mut guard = GroupGuard {
        pgid: child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw),
    };
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    // written while the output is read; a command that exits (or closes its
    // input) before reading it all ends the feeding (EPIPE), not the run
    let pipe = child.stdin.take();
    let feeding = async move {
        if let (Some(bytes), Some(mut pipe)) = (bytes, pipe) {
            let _ = pipe.write_all(&bytes).await;
        }
    };
    let mut sink = OutputSink::new(host, opts);
    let deadline = opts.timeout.and_then(crate::exec::deadline_after);
    let (mut buf_out, mut buf_err) = (vec![0u8; 32 * 1024], vec![0u8; 32 * 1024]);
    let pump = async {
        let mut feeding = std::pin::pin!(feeding);
        let mut fed = false;
        while out.is_some() || err.is_some() {
            if sink.failed() {
                // the output has nowhere to go: the guard stops the process group
                return Err(sink.output_error(host, label));
            }
            tokio::select! {
                n = read_some(&mut out, &mut buf_out), if out.is_some() => match n {
                    Some(n) => sink.data(Stream::Stdout, &buf_out[..n]),
                    None => out = None,
                },
                n = read_some(&mut err, &mut buf_err), if err.is_some() => match n {
                    Some(n) => sink.data(Stream::Stderr, &buf_err[..n]),
                    None => err = None,
                },
                () = &mut feeding, if !fed => fed = true,
            }
        }
        if sink.failed() {
            return Err(sink.output_error(host, label));
        }
        // the command may have closed its outputs and still read its input
        let finish_feeding = async {
            if !fed {
                feeding.await;
            }
        };
        let ((), waited) = futures::join!(finish_feeding, child.wait());
        Ok(waited)
    };
    let waited = match deadline {
        Some(d) => match tokio::time::timeout_at(d, pump).await {
            Ok(w) => w,
            Err(_) => {
                // the guard stops the process group
                return Err(SshError::CommandTimeout {
                    host: host.into(),
                    command: label.into(),
                    after: opts.timeout.unwrap_or_default(),
                });
            }
        },
        None => pump.await,
    }?;
    guard.pgid = None;
    let exit = waited.map_err(|e| local_err(format!("cannot wait for sh: {e}")))?;
    let (stdout, stderr, truncated) = sink.finish().map_err(|e| SshError::Output {
        host: host.into(),
        command: label.into(),
        source: std::sync::Arc::new(e),
    })?;
    use std::os::unix::process::ExitStatusExt;
    let status = match (exit.code(), exit.signal()) {
        (Some(c), _) => ExitStatus::Code(c as u32),
        (None, Some(s)) => ExitStatus::from_signal_number(s),
        (None, None) => return Err(local_err("sh ended without status".into())),
    };
    Ok(CommandOutput {
        command: label.into(),
        status,
        stdout,
        stderr,
        truncated,
        duration: start.elapsed(),
    })
}

/// Reads some bytes; `None` at end of stream or on error.
async fn read_some<R: tokio::io::AsyncRead + Unpin>(
    r: &mut Option<R>,
    buf: &mut [u8],
) -> Option<usize> {
    match r.as_mut()?.read(buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(n),
    }
}
