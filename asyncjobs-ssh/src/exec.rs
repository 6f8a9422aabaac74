//! Running one command line on a connection: output streamed line by line to
//! the formatter and captured, per-command timeout, and a guard that stops the
//! remote command when the run is cancelled (its future dropped).
//!
//! Stopping: OpenSSH (>= 7.9) delivers a `signal` channel request to the
//! session's process group, which closing the channel alone does not do for a
//! command without a pty. So a cancelled or timed-out command gets `TERM`,
//! then `KILL` if its channel is still open 2 s later, and only then is the
//! channel closed. This runs as a task on the SSH runtime that the
//! connection's `close` waits for.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Sig};
use tokio::sync::OwnedSemaphorePermit;

use crate::connection::{Connection, Session};
use crate::error::SshError;
use crate::formatter::{Formatter, Stream};
use crate::lines::LineSplitter;
use crate::output::CommandOutput;
use crate::phase::{Phase, PhaseClock};
use crate::status::ExitStatus;
use crate::stdin::{OpenStdin, Stdin, CHUNK};

/// The instant `timeout` from now, or `None` when that is beyond what the
/// clock can represent (`Duration::MAX`, `--timeout 1e19`): such a timeout
/// never fires, as no timeout; it must not panic with "overflow when adding
/// duration to instant".
pub(crate) fn deadline_after(timeout: Duration) -> Option<tokio::time::Instant> {
    tokio::time::Instant::now().checked_add(timeout)
}

/// Grace between `TERM` and `KILL` for a stopped command.
const TERM_GRACE: Duration = Duration::from_secs(2);

/// How a command's output is handled.
#[derive(Clone)]
pub(crate) struct ExecOptions {
    /// Where lines go (`None`: nowhere, e.g. internal clean-up commands).
    pub formatter: Option<Arc<dyn Formatter>>,
    /// Stop the command after this long.
    pub timeout: Option<Duration>,
    /// Bytes captured per stream.
    pub capture_limit: usize,
    /// Forward X11 for the command (remote); on a local node, its `DISPLAY`.
    pub x11: Option<crate::x11::X11Forward>,
    /// What the command reads on its standard input.
    pub stdin: Stdin,
}

/// Collects one command's output: lines to the formatter, bytes to the capture.
pub(crate) struct OutputSink<'a> {
    host: &'a str,
    opts: &'a ExecOptions,
    split: [LineSplitter; 2],
    capture: [Vec<u8>; 2],
    truncated: bool,
    error: Option<io::Error>,
}

impl<'a> OutputSink<'a> {
    pub fn new(host: &'a str, opts: &'a ExecOptions) -> Self {
        OutputSink {
            host,
            opts,
            split: Default::default(),
            capture: Default::default(),
            truncated: false,
            error: None,
        }
    }

    pub fn data(&mut self, stream: Stream, bytes: &[u8]) {
        let i = stream as usize;
        let room = self
            .opts
            .capture_limit
            .saturating_sub(self.capture[i].len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.capture[i].extend_from_slice(&bytes[..bytes.len().min(room)]);
        if let Some(f) = &self.opts.formatter {
            let (host, error) = (self.host, &mut self.error);
            self.split[i].push(bytes, &mut |line| {
                emit(f.as_ref(), host, stream, line, error)
            });
        }
    }

    /// True once a line could not be written: the command is then stopped
    /// (its output has nowhere to go) and the job fails with the write error.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The write error, as the job's error.
    pub fn output_error(&mut self, host: &str, label: &str) -> SshError {
        SshError::Output {
            host: host.into(),
            command: label.into(),
            source: std::sync::Arc::new(
                self.error
                    .take()
                    .unwrap_or_else(|| std::io::Error::other("write error")),
            ),
        }
    }

    /// Flushes partial lines; returns (stdout, stderr, truncated) or the first write error.
    pub fn finish(mut self) -> Result<(String, String, bool), io::Error> {
        if let Some(f) = &self.opts.formatter {
            for stream in [Stream::Stdout, Stream::Stderr] {
                let (host, error) = (self.host, &mut self.error);
                self.split[stream as usize]
                    .finish(&mut |line| emit(f.as_ref(), host, stream, line, error));
            }
        }
        if let Some(e) = self.error {
            return Err(e);
        }
        let [out, err] = self.capture;
        let text = |b: Vec<u8>| {
            String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        };
        Ok((text(out), text(err), self.truncated))
    }
}

fn emit(f: &dyn Formatter, host: &str, stream: Stream, line: &[u8], error: &mut Option<io::Error>) {
    // after a write error, keep the first error and stop writing
    if error.is_none() {
        if let Err(e) = f.line(host, stream, line) {
            *error = Some(e);
        }
    }
}

/// Longest signal name kept from a server (real ones are a few letters).
const MAX_SIGNAL_NAME: usize = 32;

/// The signal name of an `exit-signal` message. A name the server made up is
/// untrusted text: its control characters are escaped and it is cut to
/// [`MAX_SIGNAL_NAME`] characters (`...` added).
fn sig_name(sig: &Sig) -> String {
    match sig {
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
        Sig::Custom(name) => {
            let name = name.trim_start_matches("SIG");
            let kept: String = name.chars().take(MAX_SIGNAL_NAME).collect();
            let mut shown = crate::escape::escape_control(&kept).into_owned();
            if kept.len() < name.len() {
                shown.push_str("...");
            }
            return shown;
        }
    }
    .to_string()
}

/// A remote command's session; dropping it before `done` stops the command
/// if it was started, and closes the session in any case.
struct Running {
    rx: Option<ChannelReadHalf>,
    tx: Option<ChannelWriteHalf<Msg>>,
    permit: Option<OwnedSemaphorePermit>,
    conn: Arc<Connection>,
    /// The command was (or may have been) sent.
    started: bool,
    done: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let (Some(rx), Some(tx)) = (self.rx.take(), self.tx.take()) {
            let (permit, started) = (self.permit.take(), self.started);
            self.conn.spawn_cleanup(async move {
                if started {
                    stop(rx, tx).await;
                } else {
                    // e.g. X11 forwarding refused: nothing runs, the server keeps the session until closed
                    let _ = tx.close().await;
                }
                drop(permit);
            });
        }
    }
}

/// TERM, then KILL if the channel is still open after the grace, then close.
async fn stop(mut rx: ChannelReadHalf, tx: ChannelWriteHalf<Msg>) {
    if tx.signal(Sig::TERM).await.is_err() {
        return; // the connection is gone, and with it the session
    }
    if !closed_within(&mut rx, TERM_GRACE).await {
        let _ = tx.signal(Sig::KILL).await;
        let _ = closed_within(&mut rx, TERM_GRACE).await;
    }
    let _ = tx.close().await;
}

/// Whether the server closes the channel within `grace`.
async fn closed_within(rx: &mut ChannelReadHalf, grace: Duration) -> bool {
    let wait = async {
        while let Some(msg) = rx.wait().await {
            if let ChannelMsg::Close = msg {
                break;
            }
        }
    };
    tokio::time::timeout(grace, wait).await.is_ok()
}

/// Runs `command_line` in the `opened` session (through the remote user's
/// shell, as `ssh host cmd` does).
pub(crate) async fn run_remote(
    opened: Session,
    host: &str,
    label: &str,
    command_line: &str,
    opts: &ExecOptions,
) -> Result<CommandOutput, SshError> {
    let start = Instant::now();
    let session = |message: String| SshError::Session {
        host: host.into(),
        command: label.into(),
        message,
    };
    let Session {
        conn,
        channel,
        permit,
        asked,
    } = opened;
    let conn = &conn;
    let mut phases = PhaseClock::start_at(opts.formatter.clone(), host, asked);
    phases.done(Phase::Channel);
    let (rx, tx) = channel.split();
    let mut running = Running {
        rx: Some(rx),
        tx: Some(tx),
        permit: Some(permit),
        conn: Arc::clone(conn),
        started: false,
        done: false,
    };
    // valid until the command ends
    let _x11 = match (&opts.x11, running.rx.as_mut(), running.tx.as_ref()) {
        (Some(forward), Some(rx), Some(tx)) => {
            let formatter = opts.formatter.clone();
            let registration = crate::x11::request(conn.x11(), tx, rx, forward, host, formatter)
                .await
                .map_err(session)?; // dropping `running` closes the session
            Some(registration)
        }
        _ => None,
    };
    let input = opts.stdin.open().map_err(|message| SshError::Input {
        host: host.into(),
        command: label.into(),
        message,
    })?;
    running.started = true; // from here on, a cancelled run must stop the command
    let tx = running.tx.as_ref().expect("set above");
    tx.exec(true, command_line).await.map_err(|e| {
        session(format!(
            "cannot start the command: {}",
            crate::connection::russh_message(&e)
        ))
    })?;

    let mut sink = OutputSink::new(host, opts);
    let deadline = opts.timeout.and_then(deadline_after);
    let mut status: Option<ExitStatus> = None;
    let mut refused = false;
    let rx = running.rx.as_mut().expect("set above");
    {
        // the input is written while the output is read: a command may write
        // before it has read everything; if it exits without reading it all,
        // the feeding is dropped with the loop
        let feeding = feed(tx, input);
        tokio::pin!(feeding);
        let mut fed = false;
        loop {
            let next = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, rx.wait()).await.ok(),
                    None => Some(rx.wait().await),
                }
            };
            let msg = tokio::select! {
                r = &mut feeding, if !fed => {
                    fed = true;
                    match r {
                        Ok(()) => continue,
                        // dropping `running` stops the command
                        Err(e) => return Err(SshError::Input {
                            host: host.into(),
                            command: label.into(),
                            message: format!("cannot read the input file: {e}"),
                        }),
                    }
                }
                m = next => m,
            };
            let Some(msg) = msg else {
                // dropping `running` (not done) stops the command
                return Err(SshError::CommandTimeout {
                    host: host.into(),
                    command: label.into(),
                    after: opts.timeout.unwrap_or_default(),
                });
            };
            match msg {
                Some(ChannelMsg::Data { data }) => sink.data(Stream::Stdout, &data),
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => sink.data(Stream::Stderr, &data),
                Some(ChannelMsg::Success) => phases.done(Phase::Exec),
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    phases.done(Phase::Exit);
                    status = Some(ExitStatus::Code(exit_status))
                }
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                    phases.done(Phase::Exit);
                    status = Some(ExitStatus::Signal(sig_name(&signal_name)))
                }
                Some(ChannelMsg::Failure) if status.is_none() => {
                    refused = true;
                    break;
                }
                Some(ChannelMsg::Close) | None => break,
                Some(_) => {}
            }
            if sink.failed() {
                // the output has nowhere to go: dropping `running` stops the command
                return Err(sink.output_error(host, label));
            }
        }
    } // the feeding (which borrows the channel) ends here
    running.done = true;
    if refused {
        if let Some(tx) = running.tx.take() {
            let _ = tx.close().await; // do not leave the refused channel open
        }
        return Err(session("the server refused to run the command".into()));
    }
    drop(running);
    let (stdout, stderr, truncated) = sink.finish().map_err(|e| SshError::Output {
        host: host.into(),
        command: label.into(),
        source: std::sync::Arc::new(e),
    })?;
    let status = status.ok_or_else(|| {
        session("the session ended without an exit status (connection lost?)".into())
    })?;
    Ok(CommandOutput {
        command: label.into(),
        status,
        stdout,
        stderr,
        truncated,
        duration: start.elapsed(),
    })
}

/// Writes the command's input, then end-of-file. A channel error ends the
/// feeding quietly (the command exited or closed its input: not an error);
/// a local read error is returned: the command must not run on half its input.
async fn feed(tx: &ChannelWriteHalf<Msg>, input: OpenStdin) -> Result<(), std::io::Error> {
    match input {
        OpenStdin::Null => {}
        OpenStdin::Bytes(bytes) => {
            if tx.data(&bytes[..]).await.is_err() {
                return Ok(());
            }
        }
        OpenStdin::File(file) => {
            let mut file = tokio::fs::File::from_std(file);
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = tokio::io::AsyncReadExt::read(&mut file, &mut buf).await?;
                if n == 0 {
                    break;
                }
                if tx.data(&buf[..n]).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
    let _ = tx.eof().await;
    Ok(())
}

/// Runs `command_line` on `conn` in the background, output ignored, bounded in
/// time; `close` waits for it. For clean-ups that must happen even when the
/// job that needed them is cancelled (e.g. removing an installed script).
pub(crate) fn spawn_chore(conn: &Arc<Connection>, command_line: String) {
    let c = Arc::clone(conn);
    conn.spawn_cleanup(async move {
        let chore = async {
            let Ok((channel, _permit)) = c.open_session().await else {
                return;
            };
            let (mut rx, tx) = channel.split();
            if tx.exec(false, command_line).await.is_ok() {
                let _ = closed_within(&mut rx, CHORE_LIMIT).await;
            }
            let _ = tx.close().await;
        };
        let _ = tokio::time::timeout(CHORE_LIMIT, chore).await;
    });
}

/// Bound on a background chore.
const CHORE_LIMIT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formatter::{HostFormatter, SharedBuffer};

    fn opts(formatter: Option<Arc<dyn Formatter>>, limit: usize) -> ExecOptions {
        ExecOptions {
            formatter,
            timeout: None,
            capture_limit: limit,
            x11: None,
            stdin: Stdin::Null,
        }
    }

    #[test]
    fn capture_keeps_the_beginning_and_says_it_was_truncated() {
        let buf = SharedBuffer::new();
        let f: Arc<dyn Formatter> = Arc::new(HostFormatter::with_writers(buf.clone(), io::sink()));
        let o = opts(Some(f), 4);
        let mut sink = OutputSink::new("h", &o);
        sink.data(Stream::Stdout, b"abc\nde");
        sink.data(Stream::Stdout, b"f\n");
        let (out, err, truncated) = sink.finish().unwrap();
        assert_eq!((out.as_str(), err.as_str(), truncated), ("abc\n", "", true));
        assert_eq!(
            buf.contents_lossy(),
            "h:abc\nh:def\n",
            "the formatter still gets everything"
        );
    }

    struct Failing;
    impl Formatter for Failing {
        fn line(&self, _: &str, _: Stream, _: &[u8]) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
    }

    #[test]
    fn a_formatter_write_error_is_reported_not_swallowed() {
        let o = opts(Some(Arc::new(Failing)), 1024);
        let mut sink = OutputSink::new("h", &o);
        sink.data(Stream::Stderr, b"x\ny\n");
        assert_eq!(sink.finish().unwrap_err().to_string(), "disk full");
    }

    #[test]
    fn a_timeout_too_large_for_the_clock_is_no_deadline() {
        assert!(deadline_after(Duration::MAX).is_none());
        assert!(deadline_after(Duration::from_secs_f64(1e19)).is_none());
        assert!(deadline_after(Duration::from_secs(5)).is_some());
    }

    #[test]
    fn signal_names_have_no_sig_prefix() {
        assert_eq!(sig_name(&Sig::TERM), "TERM");
        assert_eq!(sig_name(&Sig::Custom("SIGXCPU".into())), "XCPU");
    }

    #[test]
    fn made_up_signal_names_are_escaped_and_cut() {
        assert_eq!(sig_name(&Sig::Custom("KILL\x1b[2J".into())), "KILL\\x1b[2J");
        let long = sig_name(&Sig::Custom("X".repeat(100_000)));
        assert_eq!(long, format!("{}...", "X".repeat(MAX_SIGNAL_NAME)));
    }
}
