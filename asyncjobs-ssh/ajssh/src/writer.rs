//! The output thread: every byte ajssh prints on stdout and stderr during a
//! run goes through a bounded queue to one thread that does the writing.
//!
//! A write to a full pipe (`ajssh ... | less`, paused) blocks that thread
//! only: the run, which waits for the remote commands and for signals, goes
//! on. Producers wait while the queue holds more than [`QUEUE_LIMIT`] bytes
//! (so memory stays bounded and a slow reader slows the hosts down, as with
//! `ssh`), until a stop is requested: then they are released at once
//! ([`Writer::release`]) and what they write is dropped, since the run is
//! ending. A closed stdout (EPIPE) ends the writing and requests the stop
//! that ends the run ([`Reason::ClosedStdout`]).
//!
//! Each record is written whole, with the progress bar cleared first when
//! it goes to the terminal the bar is on; [`Writer::pause`] keeps the thread
//! from writing (a passphrase prompt is never interleaved with output).

use std::collections::VecDeque;
use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use asyncjobs_ssh::Stream;

use crate::progress::Progress;
use crate::stop::{Reason, Stop};

/// Bytes queued at most before producers wait.
pub const QUEUE_LIMIT: usize = 1024 * 1024;

/// After a stop, the output already queued is still written as long as the
/// thread makes progress; the end of the run gives up waiting for it once
/// no write has completed for this long (stdout may be a pipe nobody reads).
const STALL: Duration = Duration::from_millis(100);

#[derive(Default)]
struct State {
    queue: VecDeque<(Stream, Vec<u8>)>,
    bytes: usize,
    /// Producers no longer wait: their writes fail.
    released: bool,
    /// No more records will come.
    closed: bool,
    /// The thread has ended.
    done: bool,
    /// The error that ended the writing of stdout (not EPIPE).
    error: Option<String>,
    /// Batches written so far (progress, seen by `finish`).
    batches: u64,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// Held while a record is written (and while the writer is paused).
    gate: Mutex<()>,
    progress: Arc<Progress>,
    stop: Arc<Stop>,
    /// Clear the bar before writing to that stream (it is the bar's terminal).
    suspend: [bool; 2],
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The output thread (see the module doc). Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Shared>,
}

/// A [`Write`] into the queue of one stream; each `write` is one record.
pub struct Sink {
    shared: Arc<Shared>,
    stream: Stream,
}

impl Sink {
    /// Queues `record` as one write, without copying it (large JSON records, `-b` blocks).
    pub fn send(&mut self, record: Vec<u8>) -> io::Result<()> {
        self.push(record).map(drop)
    }

    fn push(&mut self, record: Vec<u8>) -> io::Result<usize> {
        let sh = &self.shared;
        let mut st = sh.state();
        loop {
            if st.released || st.done {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            if st.bytes < QUEUE_LIMIT {
                break;
            }
            st = sh.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        let n = record.len();
        st.bytes += n;
        st.queue.push_back((self.stream, record));
        sh.changed.notify_all();
        Ok(n)
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.push(buf.to_vec())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // the thread flushes after each batch
    }
}

impl Writer {
    /// Starts the thread, writing to the process's stdout and stderr. A
    /// stop requested by anyone releases the producers.
    pub fn start(progress: Arc<Progress>, stop: Arc<Stop>) -> io::Result<Writer> {
        let shown = progress.is_shown();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            gate: Mutex::new(()),
            progress,
            stop: Arc::clone(&stop),
            suspend: [
                shown && io::stdout().is_terminal(),
                shown && io::stderr().is_terminal(),
            ],
        });
        let sh = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("ajssh-output".into())
            .spawn(move || write_loop(&sh))?;
        let writer = Writer { shared };
        let w = writer.clone();
        // a stop (Ctrl-C) clears the bar at once, before anything else is
        // printed: the messages that follow may bypass the queue, and a bar
        // still ticking would be drawn again among them
        stop.on_stop(move || {
            w.release();
            w.shared.progress.finish();
        });
        Ok(writer)
    }

    /// A writer into the queue of `stream`.
    pub fn sink(&self, stream: Stream) -> Sink {
        Sink {
            shared: Arc::clone(&self.shared),
            stream,
        }
    }

    /// Releases the producers: their writes fail from now on, without waiting.
    pub fn release(&self) {
        self.shared.state().released = true;
        self.shared.changed.notify_all();
    }

    /// Runs `f` while nothing is written (the record being written, if any,
    /// is finished first): a passphrase prompt is never mixed with output.
    pub fn pause<R>(&self, f: impl FnOnce() -> R) -> R {
        let _gate = self.shared.gate.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }

    /// Writes `text` to stderr after what is queued, or at once when the
    /// producers were released (the queue may be stuck behind stdout).
    pub fn eprint(&self, text: &str) {
        if self
            .sink(Stream::Stderr)
            .write_all(text.as_bytes())
            .is_err()
        {
            let _ = io::stderr().lock().write_all(text.as_bytes());
        }
    }

    /// Waits until what is queued so far is written (or the writing ended,
    /// or the producers were released): the interactive mode shows its
    /// prompt after the output of the command before.
    pub fn flush(&self) {
        let sh = &self.shared;
        let mut st = sh.state();
        while st.bytes > 0 && !st.done && !st.released {
            st = sh.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// No more output: waits until what is queued is written. After a stop,
    /// stops waiting once the writing stalls for [`STALL`] (the pipe may never
    /// drain). Returns the error that stopped the writing of stdout, if any
    /// (not a closed pipe: that is a stop reason).
    pub fn finish(&self) -> Result<(), String> {
        let sh = &self.shared;
        let mut st = sh.state();
        st.closed = true;
        sh.changed.notify_all();
        let mut seen = (st.batches, Instant::now());
        while !st.done {
            if sh.stop.reason().is_none() {
                st = sh.changed.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            if st.batches != seen.0 {
                seen = (st.batches, Instant::now());
            }
            let left = STALL.saturating_sub(seen.1.elapsed());
            if left.is_zero() {
                break;
            }
            st = sh
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        match st.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn write_loop(sh: &Shared) {
    loop {
        let batch: Vec<(Stream, Vec<u8>)> = {
            let mut st = sh.state();
            while st.queue.is_empty() && !st.closed {
                st = sh.changed.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            if st.queue.is_empty() {
                break;
            }
            // the batch still counts against the limit until it is written
            st.queue.drain(..).collect()
        };
        let written = write_batch(sh, &batch);
        {
            let mut st = sh.state();
            let n: usize = batch.iter().map(|(_, b)| b.len()).sum();
            st.bytes = st.bytes.saturating_sub(n);
            st.batches += 1;
            sh.changed.notify_all(); // room for the producers
        }
        if let Err(e) = written {
            let mut st = sh.state();
            st.queue.clear();
            if e.kind() != io::ErrorKind::BrokenPipe {
                st.error = Some(format!("cannot write to stdout: {e}"));
            }
            drop(st);
            sh.stop.request(if e.kind() == io::ErrorKind::BrokenPipe {
                Reason::ClosedStdout
            } else {
                Reason::StdoutError
            });
            break;
        }
    }
    sh.state().done = true;
    sh.changed.notify_all();
}

/// Writes the records in order; an error is stdout's (stderr's are ignored:
/// there is nowhere to report them). Each stream is locked for one record
/// only: while a write to stdout blocks, messages can still go to stderr.
fn write_batch(sh: &Shared, batch: &[(Stream, Vec<u8>)]) -> io::Result<()> {
    let _gate = sh.gate.lock().unwrap_or_else(|e| e.into_inner());
    for (stream, bytes) in batch {
        let write = || match stream {
            Stream::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Stream::Stderr => {
                let _ = io::stderr().lock().write_all(bytes);
                Ok(())
            }
        };
        if sh.suspend[*stream as usize] {
            sh.progress.suspend(write)?;
        } else {
            write()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_producers_fail_at_once_instead_of_waiting() {
        let stop = Stop::new();
        let w = Writer::start(Arc::new(Progress::hidden()), Arc::clone(&stop)).unwrap();
        // pause the thread, then fill the queue: the next write would wait
        let mut sink = w.sink(Stream::Stderr);
        {
            let _paused = w.shared.gate.lock().unwrap();
            sink.write_all(&vec![b'.'; QUEUE_LIMIT]).unwrap();
            let s = Arc::clone(&stop);
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                s.request(Reason::Signal(crate::stop::Signal::Term));
            });
            let e = sink.write(b"more").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
            t.join().unwrap();
        };
        assert_eq!(w.finish(), Ok(()));
    }
}
