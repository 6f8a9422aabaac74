//! Where the commands of an interactive session come from: a prompt with
//! line editing and history (rustyline) when stdin and stdout are
//! terminals, else plain lines read from stdin (a pipe, a file, or a
//! terminal when stdout is not one: the prompt then goes to stderr).
//!
//! The reading runs on a thread of its own (reading blocks), one line per
//! request: the session asks for the next line only once the output of the
//! command before is written, so the prompt always comes after it.

use std::io::{self, BufRead, IsTerminal, Write};

use tokio::sync::mpsc;

/// The prompt shown on a terminal.
pub const PROMPT: &str = "ajssh> ";

/// What the reader read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A line, without its end of line.
    Line(String),
    /// Ctrl-C at the prompt: the line typed so far is dropped.
    Interrupted,
    /// End of input (Ctrl-D on a terminal, the end of a pipe).
    Eof,
    /// Reading failed; the session ends.
    Failed(String),
}

/// The reading thread: ask for a line with [`Lines::request`], get it from
/// [`Lines::next`].
pub struct Lines {
    ask: std::sync::mpsc::Sender<()>,
    answers: mpsc::Receiver<Read>,
}

impl Lines {
    /// Starts the reading thread on ajssh's stdin.
    pub fn start() -> io::Result<Lines> {
        let editing = io::stdin().is_terminal() && io::stdout().is_terminal();
        let prompt_on_stderr = !editing && io::stdin().is_terminal();
        let (ask, asked) = std::sync::mpsc::channel::<()>();
        let (tx, answers) = mpsc::channel(1);
        std::thread::Builder::new()
            .name("ajssh-lines".into())
            .spawn(move || {
                let mut source = if editing {
                    match rustyline::DefaultEditor::new() {
                        Ok(ed) => Source::Editor(Box::new(ed)),
                        Err(_) => Source::Plain(prompt_on_stderr),
                    }
                } else {
                    Source::Plain(prompt_on_stderr)
                };
                while asked.recv().is_ok() {
                    let read = source.read();
                    let last = matches!(read, Read::Eof | Read::Failed(_));
                    if tx.blocking_send(read).is_err() || last {
                        break;
                    }
                }
            })?;
        Ok(Lines { ask, answers })
    }

    /// Asks the thread for the next line (shows the prompt on a terminal).
    pub fn request(&self) {
        let _ = self.ask.send(());
    }

    /// The answer to the last request (`Eof` if the thread is gone).
    pub async fn next(&mut self) -> Read {
        self.answers.recv().await.unwrap_or(Read::Eof)
    }
}

enum Source {
    Editor(Box<rustyline::DefaultEditor>),
    /// Plain lines; `true`: show the prompt on stderr.
    Plain(bool),
}

impl Source {
    fn read(&mut self) -> Read {
        match self {
            Source::Editor(ed) => match ed.readline(PROMPT) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = ed.add_history_entry(line.as_str());
                    }
                    Read::Line(line)
                }
                Err(rustyline::error::ReadlineError::Interrupted) => Read::Interrupted,
                Err(rustyline::error::ReadlineError::Eof) => Read::Eof,
                Err(e) => Read::Failed(e.to_string()),
            },
            Source::Plain(prompt) => {
                if *prompt {
                    let mut err = io::stderr().lock();
                    let _ = err.write_all(PROMPT.as_bytes()).and_then(|()| err.flush());
                }
                read_plain(&mut io::stdin().lock())
            }
        }
    }
}

/// One line from `input`: its end of line (`\n`, `\r\n`) removed, bytes that
/// are not UTF-8 replaced (a command line is text).
pub fn read_plain(input: &mut impl BufRead) -> Read {
    let mut buf = Vec::new();
    match input.read_until(b'\n', &mut buf) {
        Ok(0) => Read::Eof,
        Ok(_) => {
            if buf.ends_with(b"\n") {
                buf.pop();
                if buf.ends_with(b"\r") {
                    buf.pop();
                }
            }
            Read::Line(String::from_utf8_lossy(&buf).into_owned())
        }
        Err(e) => Read::Failed(format!("cannot read stdin: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_lose_their_end_of_line_and_end_with_eof() {
        let mut input = io::Cursor::new(b"uptime\r\necho a\n\xff\nlast".to_vec());
        assert_eq!(read_plain(&mut input), Read::Line("uptime".into()));
        assert_eq!(read_plain(&mut input), Read::Line("echo a".into()));
        assert_eq!(read_plain(&mut input), Read::Line("\u{fffd}".into()));
        assert_eq!(read_plain(&mut input), Read::Line("last".into()));
        assert_eq!(read_plain(&mut input), Read::Eof);
    }
}
