//! Colours on a terminal, as clush shows them: the host prefix of stdout
//! lines in cyan, stderr lines (prefix and text) in red, the headers of
//! gathered blocks in cyan (stdout) or red (stderr), ajssh's own failure
//! reports in red.
//!
//! `--color=auto` (the default) colours a stream when it is a terminal
//! (and `TERM` is not `dumb`), unless `NO_COLOR` is set to a non-empty value
//! (<https://no-color.org>); `CLICOLOR_FORCE` set to a non-empty value other
//! than `0` colours even when it is not a terminal (NO_COLOR still wins).
//! `--color=always` and `--color=never` decide alone, whatever the
//! environment says.

use std::ffi::OsString;
use std::io::{self, IsTerminal};
use std::sync::{Arc, Mutex};

use asyncjobs_ssh::escape::{escape_control, escape_invalid_utf8};
use asyncjobs_ssh::{Event, Formatter, Stream};

use crate::writer::Sink;

/// Host prefix of stdout lines, headers of stdout blocks.
pub const HOST: &str = "\x1b[36m";
/// stderr lines, headers of stderr blocks, failure reports.
pub const ERROR: &str = "\x1b[31m";
/// Back to the terminal's default.
pub const RESET: &str = "\x1b[0m";

/// `--color=WHEN`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour the streams that are terminals, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour, even into a file or a pipe.
    Always,
    /// Never colour.
    Never,
}

/// Which streams get colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Colors {
    /// Colour what goes to stdout.
    pub stdout: bool,
    /// Colour what goes to stderr.
    pub stderr: bool,
}

impl Colors {
    /// No colour anywhere.
    pub const NONE: Colors = Colors {
        stdout: false,
        stderr: false,
    };

    /// The decision for this process: its environment and its streams.
    pub fn detect(choice: ColorChoice) -> Colors {
        Colors::decide(
            choice,
            |name| std::env::var_os(name),
            io::stdout().is_terminal(),
            io::stderr().is_terminal(),
        )
    }

    /// The decision for `choice`, given the environment (`env`) and whether
    /// stdout and stderr are terminals (see the module doc).
    pub fn decide(
        choice: ColorChoice,
        env: impl Fn(&str) -> Option<OsString>,
        stdout_tty: bool,
        stderr_tty: bool,
    ) -> Colors {
        let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
        match choice {
            ColorChoice::Never => Colors::NONE,
            ColorChoice::Always => Colors {
                stdout: true,
                stderr: true,
            },
            ColorChoice::Auto if set("NO_COLOR") => Colors::NONE,
            ColorChoice::Auto
                if set("CLICOLOR_FORCE") && env("CLICOLOR_FORCE").is_some_and(|v| v != "0") =>
            {
                Colors {
                    stdout: true,
                    stderr: true,
                }
            }
            ColorChoice::Auto => {
                let dumb = env("TERM").is_some_and(|t| t == "dumb");
                Colors {
                    stdout: stdout_tty && !dumb,
                    stderr: stderr_tty && !dumb,
                }
            }
        }
    }

    /// True when some stream is coloured.
    pub fn any(self) -> bool {
        self.stdout || self.stderr
    }

    /// Whether `stream` is coloured.
    pub fn on(self, stream: Stream) -> bool {
        match stream {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        }
    }

    /// `text` in the stderr colour when stderr is coloured (each line reset
    /// before its newline, so a cut line never leaves the terminal red).
    pub fn error_text(self, text: &str) -> String {
        if !self.stderr {
            return text.to_string();
        }
        paint_lines(text, ERROR)
    }
}

/// Each line of `text` wrapped in `color` and a reset (before the newline).
pub fn paint_lines(text: &str, color: &str) -> String {
    let mut s = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        s.push_str(color);
        s.push_str(body);
        s.push_str(RESET);
        s.push_str(nl);
    }
    s
}

/// Host-prefixed lines (`host:line`, or `HH:MM:SS:host:line` with `time`)
/// with colours on the coloured streams; the other stream's lines and the
/// events go to `plain`, the formatter used without colours, unchanged.
pub struct ColorFormatter {
    plain: Arc<dyn Formatter>,
    colors: Colors,
    time: bool,
    out: Mutex<Sink>,
    err: Mutex<Sink>,
}

impl ColorFormatter {
    /// Colours what `plain` would print, writing to `out` and `err`.
    pub fn new(
        plain: Arc<dyn Formatter>,
        colors: Colors,
        time: bool,
        out: Sink,
        err: Sink,
    ) -> ColorFormatter {
        ColorFormatter {
            plain,
            colors,
            time,
            out: Mutex::new(out),
            err: Mutex::new(err),
        }
    }

    /// The record of one line, coloured for `stream`.
    pub fn record(&self, host: &str, stream: Stream, line: &[u8]) -> Vec<u8> {
        let mut rec = String::with_capacity(host.len() + line.len() + 24);
        if self.time {
            rec.push_str(&chrono::Local::now().format("%H:%M:%S:").to_string());
        }
        let text = escape_invalid_utf8(line);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        match stream {
            Stream::Stdout => {
                rec.push_str(HOST);
                rec.push_str(&escape_control(host));
                rec.push_str(RESET);
                rec.push(':');
                // the command's own text, its own colours included (as ssh shows them)
                rec.push_str(text);
            }
            Stream::Stderr => {
                rec.push_str(ERROR);
                rec.push_str(&escape_control(host));
                rec.push(':');
                rec.push_str(text);
                rec.push_str(RESET);
            }
        }
        rec.push('\n');
        rec.into_bytes()
    }
}

impl Formatter for ColorFormatter {
    fn line(&self, host: &str, stream: Stream, line: &[u8]) -> io::Result<()> {
        if !self.colors.on(stream) {
            return self.plain.line(host, stream, line);
        }
        let rec = self.record(host, stream, line);
        let sink = match stream {
            Stream::Stdout => &self.out,
            Stream::Stderr => &self.err,
        };
        sink.lock().unwrap_or_else(|e| e.into_inner()).send(rec)
    }

    fn event(&self, host: &str, event: &Event<'_>) -> io::Result<()> {
        self.plain.event(host, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    const BOTH: Colors = Colors {
        stdout: true,
        stderr: true,
    };

    #[test]
    fn auto_follows_the_terminals() {
        let c = Colors::decide(ColorChoice::Auto, env(&[]), true, false);
        assert_eq!(
            c,
            Colors {
                stdout: true,
                stderr: false
            }
        );
        let c = Colors::decide(ColorChoice::Auto, env(&[("TERM", "dumb")]), true, true);
        assert_eq!(c, Colors::NONE);
    }

    #[test]
    fn no_color_wins_over_auto_and_clicolor_force_but_not_over_always() {
        let no = [("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")];
        assert_eq!(
            Colors::decide(ColorChoice::Auto, env(&no), true, true),
            Colors::NONE
        );
        assert_eq!(
            Colors::decide(ColorChoice::Always, env(&no), false, false),
            BOTH
        );
        // an empty NO_COLOR is not set
        assert_eq!(
            Colors::decide(ColorChoice::Auto, env(&[("NO_COLOR", "")]), true, true),
            BOTH
        );
    }

    #[test]
    fn clicolor_force_colours_pipes_in_auto_mode() {
        let force = [("CLICOLOR_FORCE", "1")];
        assert_eq!(
            Colors::decide(ColorChoice::Auto, env(&force), false, false),
            BOTH
        );
        let off = [("CLICOLOR_FORCE", "0")];
        assert_eq!(
            Colors::decide(ColorChoice::Auto, env(&off), false, false),
            Colors::NONE
        );
        assert_eq!(
            Colors::decide(ColorChoice::Never, env(&force), true, true),
            Colors::NONE
        );
    }

    #[test]
    fn painted_lines_are_reset_before_their_newline() {
        assert_eq!(
            paint_lines("a\nb", ERROR),
            "\x1b[31ma\x1b[0m\n\x1b[31mb\x1b[0m"
        );
        assert_eq!(BOTH.error_text("x\n"), "\x1b[31mx\x1b[0m\n");
        assert_eq!(Colors::NONE.error_text("x\n"), "x\n");
    }
}
