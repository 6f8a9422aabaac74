//! Passphrases of encrypted private keys, asked for as `ssh` does: on the
//! terminal (`/dev/tty`, without echo), or with the `SSH_ASKPASS` program.
//!
//! `SSH_ASKPASS_REQUIRE` as in OpenSSH: `force` always uses `SSH_ASKPASS`;
//! `prefer` uses it when set, else the terminal; `never` only the terminal.
//! Otherwise the terminal is used, and `SSH_ASKPASS` (with `DISPLAY` or
//! `WAYLAND_DISPLAY` set) when there is no terminal. Without either, the key
//! is not used and the error says what to do.
//!
//! The library asks once per key file for the whole fan-out (hosts needing
//! the same key wait for that one answer); while the prompt is on the
//! terminal, ajssh's output and progress bar are held back.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use asyncjobs_ssh::PassphrasePrompt;

use crate::progress::Progress;
use crate::writer::Writer;

/// Bytes read at most from an `SSH_ASKPASS` program.
const ASKPASS_LIMIT: u64 = 64 * 1024;

/// The prompt of `ajssh` (see the module doc).
pub struct CliPrompt {
    writer: Option<Writer>,
    progress: Option<Arc<Progress>>,
}

impl CliPrompt {
    /// A prompt that holds `writer`'s output and `progress`'s bar back while it asks.
    pub fn new(writer: Option<Writer>, progress: Option<Arc<Progress>>) -> Arc<CliPrompt> {
        Arc::new(CliPrompt { writer, progress })
    }

    fn quiet<R>(&self, f: impl FnOnce() -> R) -> R {
        let with_bar = || match &self.progress {
            Some(p) => p.suspend(f),
            None => f(),
        };
        match &self.writer {
            Some(w) => w.pause(with_bar),
            None => with_bar(),
        }
    }
}

/// How `SSH_ASKPASS_REQUIRE` and the environment say to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// Run this `SSH_ASKPASS` program.
    Askpass(String),
    /// Ask on `/dev/tty` (if it opens).
    Terminal {
        /// `SSH_ASKPASS` to fall back on when there is no terminal.
        fallback: Option<String>,
    },
    /// Neither: the reason.
    Nothing(String),
}

/// Chooses the method from `SSH_ASKPASS`, `SSH_ASKPASS_REQUIRE` and whether a display is set.
pub fn method(askpass: Option<&str>, require: Option<&str>, display: bool) -> Method {
    let askpass = askpass.filter(|a| !a.is_empty()).map(str::to_string);
    match require.map(str::to_ascii_lowercase).as_deref() {
        Some("force") => match askpass {
            Some(a) => Method::Askpass(a),
            None => Method::Nothing("SSH_ASKPASS_REQUIRE=force but SSH_ASKPASS is not set".into()),
        },
        Some("prefer") => match askpass {
            Some(a) => Method::Askpass(a),
            None => Method::Terminal { fallback: None },
        },
        Some("never") => Method::Terminal { fallback: None },
        _ => Method::Terminal {
            fallback: askpass.filter(|_| display),
        },
    }
}

impl PassphrasePrompt for CliPrompt {
    fn passphrase(&self, key: &Path, retry: bool) -> Result<String, String> {
        let env = |v: &str| std::env::var(v).ok();
        let display = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| env(v).is_some_and(|d| !d.is_empty()));
        let text = if retry {
            format!("Bad passphrase, try again for {}: ", key.display())
        } else {
            format!("Enter passphrase for key '{}': ", key.display())
        };
        let method = method(
            env("SSH_ASKPASS").as_deref(),
            env("SSH_ASKPASS_REQUIRE").as_deref(),
            display,
        );
        let answer = match method {
            Method::Askpass(program) => askpass(&program, &text),
            Method::Terminal { fallback } => match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
            {
                Ok(tty) => self.quiet(|| terminal(tty, &text)),
                Err(_) => match fallback {
                    Some(program) => askpass(&program, &text),
                    None => Err(no_way(
                        key,
                        "there is no terminal to ask for its passphrase",
                    )),
                },
            },
            Method::Nothing(why) => Err(no_way(key, &why)),
        }?;
        if answer.is_empty() {
            return Err("no passphrase given (empty answer): key skipped".into());
        }
        Ok(answer)
    }
}

/// The reason a key is not used, with what to do (CLI and OpenSSH words).
fn no_way(key: &Path, why: &str) -> String {
    format!(
        "it is encrypted and {why}: add it to ssh-agent (`ssh-add {}`), or set SSH_ASKPASS \
         to a program that prints the passphrase (SSH_ASKPASS_REQUIRE=force to use it even \
         with a terminal), or give another key with -i",
        key.display()
    )
}

/// Runs the askpass program with the prompt as its argument; its stdout is the passphrase.
fn askpass(program: &str, text: &str) -> Result<String, String> {
    let mut child = Command::new(program)
        .arg(text)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run SSH_ASKPASS program `{program}`: {e}"))?;
    let mut out = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|o| o.take(ASKPASS_LIMIT).read_to_end(&mut out));
    let status = child
        .wait()
        .map_err(|e| format!("SSH_ASKPASS program `{program}`: {e}"))?;
    if let Some(Err(e)) = read {
        return Err(format!(
            "cannot read from SSH_ASKPASS program `{program}`: {e}"
        ));
    }
    if !status.success() {
        return Err(format!(
            "SSH_ASKPASS program `{program}` gave no passphrase ({status})"
        ));
    }
    let text = String::from_utf8(out)
        .map_err(|_| format!("SSH_ASKPASS program `{program}` printed invalid UTF-8"))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// Asks on the terminal without echo.
fn terminal(mut tty: std::fs::File, text: &str) -> Result<String, String> {
    let fail = |e: io::Error| format!("cannot ask on the terminal: {e}");
    tty.write_all(text.as_bytes()).map_err(fail)?;
    tty.flush().map_err(fail)?;
    let line = {
        let _quiet = NoEcho::set(&tty).map_err(fail)?;
        read_line(&tty).map_err(fail)
    };
    let _ = tty.write_all(b"\n");
    line
}

/// Reads up to a newline, byte by byte (nothing past it is consumed).
fn read_line(mut tty: &std::fs::File) -> io::Result<String> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match tty.read(&mut b)? {
            0 => break,
            _ if b[0] == b'\n' || b[0] == b'\r' => break,
            _ if line.len() < 64 * 1024 => line.push(b[0]),
            _ => {}
        }
    }
    String::from_utf8(line)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the passphrase is not UTF-8"))
}

/// Terminal echo off until dropped.
struct NoEcho<'a> {
    tty: &'a std::fs::File,
    saved: libc::termios,
}

impl<'a> NoEcho<'a> {
    #[allow(unsafe_code)]
    fn set(tty: &'a std::fs::File) -> io::Result<NoEcho<'a>> {
        use std::os::fd::AsRawFd;
        let fd = tty.as_raw_fd();
        // SAFETY: tcgetattr fills the struct we own; tcsetattr reads it; fd is open.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut saved) != 0 {
                return Err(io::Error::last_os_error());
            }
            let mut quiet = saved;
            quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
            quiet.c_lflag |= libc::ICANON;
            if libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(NoEcho { tty, saved })
        }
    }
}

impl Drop for NoEcho<'_> {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: restores the attributes read in `set` on the same open fd.
        unsafe {
            libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSAFLUSH, &self.saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn askpass_require_chooses_as_openssh() {
        let t = |fallback: Option<&str>| Method::Terminal {
            fallback: fallback.map(str::to_string),
        };
        assert_eq!(
            method(Some("/a"), Some("force"), false),
            Method::Askpass("/a".into())
        );
        assert_eq!(
            method(Some("/a"), Some("FORCE"), true),
            Method::Askpass("/a".into())
        );
        assert!(matches!(
            method(None, Some("force"), true),
            Method::Nothing(_)
        ));
        assert_eq!(
            method(Some("/a"), Some("prefer"), false),
            Method::Askpass("/a".into())
        );
        assert_eq!(method(None, Some("prefer"), false), t(None));
        assert_eq!(method(Some("/a"), Some("never"), true), t(None));
        // default: the terminal, SSH_ASKPASS only without one and with a display
        assert_eq!(method(Some("/a"), None, true), t(Some("/a")));
        assert_eq!(method(Some("/a"), None, false), t(None));
        assert_eq!(
            method(Some(""), Some("force"), true),
            method(None, Some("force"), true)
        );
    }

    #[test]
    fn askpass_output_is_the_passphrase_without_its_newline() {
        assert_eq!(askpass("echo", "prompt: ").unwrap(), "prompt: ");
        let e = askpass("false", "p").unwrap_err();
        assert!(e.contains("gave no passphrase"), "{e}");
        let e = askpass("/nonexistent/askpass", "p").unwrap_err();
        assert!(
            e.contains("cannot run SSH_ASKPASS program `/nonexistent/askpass`"),
            "{e}"
        );
    }
}
