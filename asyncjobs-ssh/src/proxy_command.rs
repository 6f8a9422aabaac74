//! `ProxyCommand`: SSH spoken over a local command's stdin and stdout.
//!
//! The command runs through the user's shell (`$SHELL -c 'exec COMMAND'`,
//! `/bin/sh` without `$SHELL`), as OpenSSH runs it. Its stderr is held
//! while the connection is being set up: if that fails, the last lines go
//! into the error (with the command's exit status when it exited); once the
//! connection is up they are passed on, and later lines too, as stderr
//! lines of the host (the node's formatter). When the stream is dropped (the
//! connection closed or failed) the command's stdin is closed, and the
//! process is waited for, then sent SIGHUP (as OpenSSH does), then killed:
//! it never outlives the connection and is always reaped.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::sync::watch;

use crate::formatter::{Formatter, Stream};
use crate::lines::LineSplitter;

/// How long the command may take to exit after its stdin is closed (then
/// SIGHUP, then as long again before SIGKILL).
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// Lines of stderr kept for an error message.
const TAIL_LINES: usize = 10;
/// Bytes of one kept line.
const TAIL_LINE_BYTES: usize = 512;

/// Where the command's stderr goes.
enum Sink {
    /// Held until the connection is up (or failed).
    Held(Vec<Vec<u8>>),
    /// Passed on to the formatter.
    Passing,
    /// Dropped (the connection is closed).
    Closed,
}

/// What the connection keeps of its command.
pub(crate) struct ProxyProcess {
    command: String,
    status: watch::Receiver<Option<Option<ExitStatus>>>,
    stderr_done: watch::Receiver<bool>,
    tail: Arc<Mutex<VecDeque<String>>>,
    sink: Arc<Mutex<Sink>>,
    host: String,
    formatter: Arc<dyn Formatter>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ProxyProcess {
    /// The command line run.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The connection is up: stderr held so far goes to the formatter, and what follows too.
    pub fn connected(&self) {
        let held = std::mem::replace(&mut *lock(&self.sink), Sink::Passing);
        if let Sink::Held(lines) = held {
            for l in lines {
                let _ = self.formatter.line(&self.host, Stream::Stderr, &l);
            }
        }
    }

    /// The connection is closing: later stderr (e.g. "Killed by signal 1.") is dropped.
    pub fn closing(&self) {
        *lock(&self.sink) = Sink::Closed;
    }

    /// After a failed set-up: the exit status if the command exited within a
    /// short wait, and the last lines of its stderr (escaped).
    pub async fn outcome(&self) -> (Option<ExitStatus>, String) {
        let mut status = self.status.clone();
        let exited = tokio::time::timeout(Duration::from_millis(500), async {
            status
                .wait_for(|s| s.is_some())
                .await
                .ok()
                .and_then(|s| *s)
                .flatten()
        })
        .await
        .ok()
        .flatten();
        let mut done = self.stderr_done.clone();
        let _ = tokio::time::timeout(Duration::from_millis(500), done.wait_for(|d| *d)).await;
        *lock(&self.sink) = Sink::Closed;
        let tail = lock(&self.tail)
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(" / ");
        (exited, tail)
    }

    /// Waits (bounded) until the command has exited and was reaped.
    pub async fn wait_reaped(&self) {
        let mut status = self.status.clone();
        let bound = EXIT_GRACE * 3;
        let _ = tokio::time::timeout(bound, status.wait_for(|s| s.is_some())).await;
    }
}

/// The command's stdin and stdout as one stream; dropping it ends the command.
pub(crate) struct ProxyStream {
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    child: Option<Child>,
    status: Option<watch::Sender<Option<Option<ExitStatus>>>>,
}

/// Starts `command` for the connection of `host`.
pub(crate) fn spawn(
    command: &str,
    host: &str,
    formatter: Arc<dyn Formatter>,
) -> io::Result<(ProxyStream, ProxyProcess)> {
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut child = Command::new(shell)
        .arg("-c")
        .arg(format!("exec {command}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let missing = || io::Error::other("the command's standard streams are not available");
    let stdin = child.stdin.take().ok_or_else(missing)?;
    let stdout = child.stdout.take().ok_or_else(missing)?;
    let stderr = child.stderr.take().ok_or_else(missing)?;
    let (status_tx, status_rx) = watch::channel(None);
    let (done_tx, done_rx) = watch::channel(false);
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let sink = Arc::new(Mutex::new(Sink::Held(Vec::new())));
    let process = ProxyProcess {
        command: command.to_string(),
        status: status_rx,
        stderr_done: done_rx,
        tail: Arc::clone(&tail),
        sink: Arc::clone(&sink),
        host: host.to_string(),
        formatter: Arc::clone(&formatter),
    };
    crate::runtime::spawn(read_stderr(
        stderr,
        tail,
        sink,
        host.to_string(),
        formatter,
        done_tx,
    ));
    let stream = ProxyStream {
        stdin: Some(stdin),
        stdout,
        child: Some(child),
        status: Some(status_tx),
    };
    Ok((stream, process))
}

/// Reads the command's stderr to its end: kept (tail), held or passed on.
async fn read_stderr(
    mut stderr: ChildStderr,
    tail: Arc<Mutex<VecDeque<String>>>,
    sink: Arc<Mutex<Sink>>,
    host: String,
    formatter: Arc<dyn Formatter>,
    done: watch::Sender<bool>,
) {
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 4096];
    let mut emit = |line: &[u8]| {
        {
            let mut t = lock(&tail);
            let text = String::from_utf8_lossy(line);
            let text = text.trim_end();
            if !text.is_empty() {
                let cut: String = text.chars().take(TAIL_LINE_BYTES).collect();
                t.push_back(crate::escape::escape_control(&cut).into_owned());
                if t.len() > TAIL_LINES {
                    t.pop_front();
                }
            }
        }
        let mut s = lock(&sink);
        match &mut *s {
            Sink::Held(lines) => {
                // bounded: only the last lines are held
                lines.push(line.to_vec());
                if lines.len() > TAIL_LINES {
                    lines.remove(0);
                }
            }
            Sink::Passing => {
                let _ = formatter.line(&host, Stream::Stderr, line);
            }
            Sink::Closed => {}
        }
    };
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => splitter.push(&buf[..n], &mut emit),
        }
    }
    splitter.finish(&mut emit);
    let _ = done.send(true);
}

/// Waits for the command to exit: stdin is already closed; then SIGHUP, then SIGKILL.
async fn reap(mut child: Child, status: watch::Sender<Option<Option<ExitStatus>>>) {
    let exited = match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
        Ok(r) => r.ok(),
        Err(_) => {
            if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGHUP,
                );
            }
            match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
                Ok(r) => r.ok(),
                Err(_) => {
                    let _ = child.start_kill();
                    child.wait().await.ok()
                }
            }
        }
    };
    let _ = status.send(Some(exited));
}

impl Drop for ProxyStream {
    fn drop(&mut self) {
        // end of input for the command: a relay exits on its own
        self.stdin = None;
        if let (Some(child), Some(status)) = (self.child.take(), self.status.take()) {
            // if no runtime is left, kill_on_drop still kills it
            crate::runtime::spawn(reap(child, status));
        }
    }
}

impl AsyncRead for ProxyStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for ProxyStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().stdin.as_mut() {
            Some(s) => Pin::new(s).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().stdin.as_mut() {
            Some(s) => Pin::new(s).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.stdin.as_mut() {
            Some(s) => {
                let r = Pin::new(s).poll_shutdown(cx);
                if r.is_ready() {
                    this.stdin = None;
                }
                r
            }
            None => Poll::Ready(Ok(())),
        }
    }
}
