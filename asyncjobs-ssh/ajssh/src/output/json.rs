//! The `--json` records: plain serde structs, one JSON object per line.
//! Stable for scripts: fields are only ever added, and [`VERSION`] is bumped
//! if one changes meaning or goes away.
//!
//! ```json
//! {"version":1,"type":"host","host":"web1","target":"deploy@web1:22","status":"failed",
//!  "exit_code":3,"signal":null,"stdout":"...","stderr":"...","stdout_truncated":false,
//!  "stderr_truncated":false,"start":0.012,"duration":0.231,"error_kind":"CommandFailed",
//!  "error":"command `false` failed on web1 (exit code 3)","commands":[...]}
//! {"version":1,"type":"summary","hosts":3,"ok":1,"failed":1,"unreachable":1,"duration":2.5,"exit_code":2}
//! ```

use serde::{Deserialize, Serialize};

/// Version of the record format.
pub const VERSION: u32 = 1;

/// How a host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    /// Every command exited 0 (or an allowed status), every transfer completed.
    Ok,
    /// Reached, but a command or transfer failed or timed out.
    Failed,
    /// Not reached, or refused us (DNS, refused, timeout, host key, authentication).
    Unreachable,
}

/// One command (run, script, push or pull) on a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// The command's label (the command line for a plain command).
    pub command: String,
    /// Exit code, when it exited.
    pub exit_code: Option<u32>,
    /// Signal name (`TERM`), when it was killed by one.
    pub signal: Option<String>,
    /// Seconds from its start to its end.
    pub duration: f64,
}

/// One host: `"type": "host"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRecord {
    /// [`VERSION`].
    pub version: u32,
    /// Always `"host"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The host as shown in outputs (its name, `:port` when not 22).
    pub host: String,
    /// Where we connected: `[gateways->]user@hostname:port`.
    pub target: String,
    /// How it ended.
    pub status: HostStatus,
    /// Exit code of the last command that ran, if it exited.
    pub exit_code: Option<u32>,
    /// Signal that killed the last command that ran, if any.
    pub signal: Option<String>,
    /// Standard output of all commands, as text: bytes that are not UTF-8
    /// are written `\xNN` (then `stdout_base64` has the exact bytes).
    pub stdout: String,
    /// Standard error of all commands (as `stdout`).
    pub stderr: String,
    /// The exact bytes of stdout in base64, only when they are not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_base64: Option<String>,
    /// The exact bytes of stderr in base64, only when they are not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_base64: Option<String>,
    /// True when stdout was longer than what is kept (16 MiB per stream and
    /// host, 256 MiB for all hosts at once): the beginning is kept.
    pub stdout_truncated: bool,
    /// True when stderr was longer than the capture limit.
    pub stderr_truncated: bool,
    /// Seconds from the start of `ajssh` to the start of this host.
    pub start: f64,
    /// Seconds this host took, connection included.
    pub duration: f64,
    /// Short error name (`CommandFailed`, `ConnectionRefused`, `AuthRefused`, ...).
    pub error_kind: Option<String>,
    /// The error, when not ok.
    pub error: Option<String>,
    /// The commands that ran, in order.
    pub commands: Vec<CommandRecord>,
}

/// The last line: `"type": "summary"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRecord {
    /// [`VERSION`].
    pub version: u32,
    /// Always `"summary"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Hosts selected.
    pub hosts: usize,
    /// Hosts that succeeded.
    pub ok: usize,
    /// Hosts where something failed.
    pub failed: usize,
    /// Hosts not reached.
    pub unreachable: usize,
    /// Hosts that never ran (interrupted run).
    pub not_run: usize,
    /// Seconds of the whole run.
    pub duration: f64,
    /// The exit code of `ajssh`.
    pub exit_code: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_records_serialize_with_version_and_type() {
        let r = HostRecord {
            version: VERSION,
            kind: "host".into(),
            host: "h".into(),
            target: "u@h:22".into(),
            status: HostStatus::Unreachable,
            exit_code: None,
            signal: None,
            stdout: String::new(),
            stderr: String::new(),
            stdout_base64: None,
            stderr_base64: None,
            stdout_truncated: false,
            stderr_truncated: false,
            start: 0.5,
            duration: 1.0,
            error_kind: Some("ConnectionRefused".into()),
            error: Some("connection refused by h:22".into()),
            commands: vec![],
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            text.starts_with(r#"{"version":1,"type":"host","host":"h""#),
            "{text}"
        );
        assert!(text.contains(r#""status":"unreachable""#), "{text}");
        let back: HostRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
    }
}
