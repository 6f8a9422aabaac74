//! What a job produces: [`SshOutput`], one [`CommandOutput`] per command.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::status::ExitStatus;

/// The result of one command: how it ended and what it printed.
///
/// `stdout`/`stderr` hold the captured output (invalid UTF-8 replaced); past
/// the job's capture limit the beginning is kept and `truncated` is set (the
/// formatter still received every line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutput {
    /// The command's label (for `Run`, the command line).
    pub command: String,
    /// How it ended.
    pub status: ExitStatus,
    /// Captured standard output.
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
    /// True when more output came than the capture limit allows.
    pub truncated: bool,
    /// Wall-clock time from start to end.
    #[serde(with = "secs_f64")]
    pub duration: Duration,
}

impl CommandOutput {
    /// The last lines of stderr: at most `lines` lines and 2 KiB.
    pub fn stderr_tail(&self, lines: usize) -> String {
        tail(&self.stderr, lines, 2048)
    }
}

/// The result of an [`SshJob`](crate::SshJob): every command that ran, in order.
///
/// Its `Debug` form is one short line (listings show results with `Debug`);
/// the outputs themselves are in the fields.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshOutput {
    /// The node, as shown in outputs (e.g. `web1` or `127.0.0.2:2222`).
    pub host: String,
    /// The login user (the local user for a `LocalNode`).
    pub user: String,
    /// One entry per command.
    pub commands: Vec<CommandOutput>,
    /// Wall-clock time of the whole job, connection included.
    #[serde(with = "secs_f64")]
    pub duration: Duration,
}

impl SshOutput {
    /// The status of the last command (`None` when there was no command).
    pub fn status(&self) -> Option<&ExitStatus> {
        self.commands.last().map(|c| &c.status)
    }
    /// The stdout of all commands, concatenated.
    pub fn stdout(&self) -> String {
        self.commands.iter().map(|c| c.stdout.as_str()).collect()
    }
    /// The stderr of all commands, concatenated.
    pub fn stderr(&self) -> String {
        self.commands.iter().map(|c| c.stderr.as_str()).collect()
    }

    /// A one-line summary, as listings show an [`SshJob`](crate::SshJob)'s
    /// result: the status of each command in order, separated by `, ` — the
    /// exit code (`0`), or the signal name (`TERM`) for a command killed by a
    /// signal (possible when allowed with `allow_exits`); `no command` when
    /// there was none. A job that failed has no result: listings show its
    /// error instead.
    ///
    /// ```
    /// use asyncjobs_ssh::{CommandOutput, ExitStatus, SshOutput};
    /// use std::time::Duration;
    ///
    /// let cmd = |status: ExitStatus| CommandOutput {
    ///     command: "true".into(),
    ///     status,
    ///     stdout: String::new(),
    ///     stderr: String::new(),
    ///     truncated: false,
    ///     duration: Duration::ZERO,
    /// };
    /// let mut out = SshOutput {
    ///     host: "web1".into(),
    ///     user: "root".into(),
    ///     commands: vec![cmd(0.into())],
    ///     duration: Duration::ZERO,
    /// };
    /// assert_eq!(out.summary(), "0");
    /// out.commands.push(cmd(3.into()));
    /// out.commands.push(cmd("TERM".into()));
    /// assert_eq!(out.summary(), "0, 3, TERM");
    /// ```
    pub fn summary(&self) -> String {
        if self.commands.is_empty() {
            return "no command".into();
        }
        let short = |s: &ExitStatus| match s {
            ExitStatus::Code(c) => c.to_string(),
            ExitStatus::Signal(name) => name.clone(),
        };
        let statuses: Vec<String> = self.commands.iter().map(|c| short(&c.status)).collect();
        statuses.join(", ")
    }
}

impl std::fmt::Debug for SshOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let statuses: Vec<String> = self.commands.iter().map(|c| c.status.to_string()).collect();
        write!(
            f,
            "{}@{}: {} command(s) [{}], {} bytes out, {} bytes err",
            self.user,
            self.host,
            self.commands.len(),
            statuses.join(", "),
            self.commands.iter().map(|c| c.stdout.len()).sum::<usize>(),
            self.commands.iter().map(|c| c.stderr.len()).sum::<usize>()
        )
    }
}

/// The end of `text`: at most `lines` lines and `max_bytes` bytes (cut on a char boundary).
pub(crate) fn tail(text: &str, lines: usize, max_bytes: usize) -> String {
    let trimmed = text.trim_end_matches('\n');
    let mut start = trimmed.len();
    for _ in 0..lines {
        match trimmed[..start].rfind('\n') {
            Some(i) => start = i,
            None => {
                start = 0;
                break;
            }
        }
    }
    let mut t = trimmed[start..].trim_start_matches('\n');
    if t.len() > max_bytes {
        let mut cut = t.len() - max_bytes;
        while !t.is_char_boundary(cut) {
            cut += 1;
        }
        t = &t[cut..];
    }
    t.to_string()
}

mod secs_f64 {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines_only() {
        assert_eq!(tail("a\nb\nc\nd\n", 2, 100), "c\nd");
        assert_eq!(tail("a\nb", 5, 100), "a\nb");
        assert_eq!(tail("", 5, 100), "");
        assert_eq!(tail("0123456789", 5, 4), "6789");
        assert_eq!(tail("ééé", 5, 3), "é");
    }
}
