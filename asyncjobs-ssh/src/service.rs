//! [`Service`]: a command run as a transient systemd service with
//! `systemd-run`, and the [`Run`] commands that start, stop, inspect it and
//! read its journal (apssh's `Service`).

use crate::commands::Run;
use crate::quote::shell_quote;

/// The service types `systemd-run --service-type=` accepts (`Type=` in systemd.service(5)).
pub const SERVICE_TYPES: &[&str] = &[
    "simple",
    "exec",
    "forking",
    "oneshot",
    "dbus",
    "notify",
    "notify-reload",
    "idle",
];

/// Longest unit name systemd accepts, suffix included.
const UNIT_NAME_MAX: usize = 255;

/// Why a [`Service`] cannot be built or started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The service id is not a valid systemd unit name.
    #[error("invalid service id {id:?}: {reason} (systemd unit names use letters, digits and `:-_.\\@`)")]
    InvalidUnitName {
        /// The id given.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An environment variable name is not a valid one.
    #[error(
        "invalid environment variable name {name:?} for service {id}: \
         use letters, digits and `_`, not starting with a digit"
    )]
    InvalidEnvName {
        /// The service id.
        id: String,
        /// The name given.
        name: String,
    },
    /// A value holds a NUL byte, which no command line can carry.
    #[error("the {what} of service {id} contains a NUL byte")]
    NulByte {
        /// The service id.
        id: String,
        /// Which value: `command`, or `value of FOO`.
        what: String,
    },
    /// The service type is not one systemd knows.
    #[error("unknown systemd service type {given:?} for service {id}: use one of {}", SERVICE_TYPES.join(", "))]
    UnknownType {
        /// The service id.
        id: String,
        /// The type given.
        given: String,
    },
}

/// What the service runs.
#[derive(Debug, Clone)]
enum Program {
    /// Shell text, run with `/bin/sh -c`.
    Shell(String),
    /// A program and its arguments, run as they are.
    Argv(Vec<String>),
}

/// A command run as a transient systemd service on a node, through
/// `systemd-run` (root, or a user allowed to manage system services, is
/// needed on the node). The service keeps running after the command that
/// started it ends, until [`stop_command`](Self::stop_command).
///
/// The methods give ready [`Run`] commands for an [`SshJob`](crate::SshJob):
/// every piece (unit id, environment values, the command, file names) is
/// quoted for the shell, and redirections are POSIX (`>/dev/null 2>&1`), so
/// they work whatever the login shell.
///
/// ```
/// use asyncjobs_ssh::{Service, SshCommand};
///
/// let web = Service::new("python3 -m http.server 8000", "webserver")?
///     .env("GREETING", "hello world")
///     .stop_if_running(false);
/// assert_eq!(
///     web.start_command()?.command_line(),
///     "systemd-run --setenv=GREETING='hello world' --unit=webserver --service-type=simple \
///      -- /bin/sh -c 'python3 -m http.server 8000'"
/// );
/// assert_eq!(web.stop_command().command_line(), "systemctl stop webserver");
/// assert_eq!(web.status_command(None).label(), "status of service webserver");
/// # Ok::<(), asyncjobs_ssh::ServiceError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Service {
    program: Program,
    id: String,
    tty: bool,
    systemd_type: String,
    env: Vec<(String, String)>,
    stop_if_running: bool,
}

impl Service {
    /// A service `service_id` running the shell command line `command`
    /// (through `/bin/sh -c`, so pipes, `&&` and `$VARS` work). Defaults: no
    /// tty, type `simple`, no extra environment, an instance already running
    /// is stopped first.
    pub fn new(
        command: impl Into<String>,
        service_id: impl Into<String>,
    ) -> Result<Self, ServiceError> {
        Self::with_program(Program::Shell(command.into()), service_id.into())
    }

    /// A service running `program` with arguments as given (no shell).
    ///
    /// ```
    /// use asyncjobs_ssh::Service;
    /// let s = Service::argv(["/usr/bin/sleep", "600"], "nap")?.stop_if_running(false);
    /// assert_eq!(
    ///     s.start_command()?.command_line(),
    ///     "systemd-run --unit=nap --service-type=simple -- /usr/bin/sleep 600"
    /// );
    /// # Ok::<(), asyncjobs_ssh::ServiceError>(())
    /// ```
    pub fn argv<I, S>(
        program_and_args: I,
        service_id: impl Into<String>,
    ) -> Result<Self, ServiceError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let words = program_and_args.into_iter().map(Into::into).collect();
        Self::with_program(Program::Argv(words), service_id.into())
    }

    fn with_program(program: Program, id: String) -> Result<Self, ServiceError> {
        validate_unit_name(&id)?;
        Ok(Service {
            program,
            id,
            tty: false,
            systemd_type: "simple".into(),
            env: Vec::new(),
            stop_if_running: true,
        })
    }

    /// Runs the service on a pseudo-terminal (`systemd-run --pty`): the start
    /// command then stays attached to it, showing its output, until it ends.
    pub fn tty(mut self, tty: bool) -> Self {
        self.tty = tty;
        self
    }

    /// The service type (default `simple`; see [`SERVICE_TYPES`]).
    pub fn systemd_type(mut self, systemd_type: impl Into<String>) -> Self {
        self.systemd_type = systemd_type.into();
        self
    }

    /// Sets an environment variable of the service (repeatable).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Whether the start command first stops a running instance and clears a
    /// failed one (default `true`); without it, starting a unit that is
    /// still loaded fails.
    pub fn stop_if_running(mut self, stop: bool) -> Self {
        self.stop_if_running = stop;
        self
    }

    /// The service id (the unit name given to `systemd-run --unit`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Starts the service:
    /// `[systemctl is-active ID >/dev/null 2>&1 && systemctl stop ID; systemctl reset-failed ID >/dev/null 2>&1; ]`
    /// `systemd-run [--pty] [--setenv=K=V ...] --unit=ID --service-type=TYPE -- COMMAND`.
    /// Its status is `systemd-run`'s. An error for an invalid environment
    /// variable name or service type, or a NUL byte.
    ///
    /// ```
    /// use asyncjobs_ssh::Service;
    /// let s = Service::new("echo \"$MSG\"", "hello")?.env("MSG", "it's $5").tty(true);
    /// assert_eq!(
    ///     s.start_command()?.command_line(),
    ///     "systemctl is-active hello >/dev/null 2>&1 && systemctl stop hello; \
    ///      systemctl reset-failed hello >/dev/null 2>&1; \
    ///      systemd-run --pty --setenv=MSG='it'\\''s $5' --unit=hello --service-type=simple \
    ///      -- /bin/sh -c 'echo \"$MSG\"'"
    /// );
    /// # Ok::<(), asyncjobs_ssh::ServiceError>(())
    /// ```
    pub fn start_command(&self) -> Result<Run, ServiceError> {
        let id = shell_quote(&self.id);
        if !SERVICE_TYPES.contains(&self.systemd_type.as_str()) {
            return Err(ServiceError::UnknownType {
                id: self.id.clone(),
                given: self.systemd_type.clone(),
            });
        }
        let mut line = String::new();
        if self.stop_if_running {
            line.push_str(&format!(
                "systemctl is-active {id} >/dev/null 2>&1 && systemctl stop {id}; \
                 systemctl reset-failed {id} >/dev/null 2>&1; "
            ));
        }
        line.push_str("systemd-run");
        if self.tty {
            line.push_str(" --pty");
        }
        for (key, value) in &self.env {
            if !is_env_name(key) {
                return Err(ServiceError::InvalidEnvName {
                    id: self.id.clone(),
                    name: key.clone(),
                });
            }
            self.no_nul(value, || format!("value of {key}"))?;
            line.push_str(&format!(" --setenv={key}={}", shell_quote(value)));
        }
        line.push_str(&format!(
            " --unit={id} --service-type={} --",
            self.systemd_type
        ));
        match &self.program {
            Program::Shell(text) => {
                self.no_nul(text, || "command".into())?;
                line.push_str(&format!(" /bin/sh -c {}", shell_quote(text)));
            }
            Program::Argv(words) => {
                for w in words {
                    self.no_nul(w, || "command".into())?;
                    line.push(' ');
                    line.push_str(&shell_quote(w));
                }
            }
        }
        Ok(Run::new(line).with_label(format!("start service {}", self.id)))
    }

    /// Stops the service: `systemctl stop ID`.
    pub fn stop_command(&self) -> Run {
        Run::new(format!("systemctl stop {}", shell_quote(&self.id)))
            .with_label(format!("stop service {}", self.id))
    }

    /// Shows the service's state: `systemctl --no-pager status ID`, into
    /// `output_file` (taken literally, relative to where commands run: the
    /// login home on an SSH node) when given. `systemctl status` exits with 3
    /// for a service that is not running and 4 for an unknown one: add
    /// `.allow_exits([3, 4])` to the `Run` when that is not a failure.
    ///
    /// ```
    /// use asyncjobs_ssh::Service;
    /// let s = Service::new("sleep 60", "nap")?;
    /// assert_eq!(
    ///     s.status_command(Some("status of nap.txt")).command_line(),
    ///     "systemctl --no-pager status nap >'status of nap.txt'"
    /// );
    /// # Ok::<(), asyncjobs_ssh::ServiceError>(())
    /// ```
    pub fn status_command(&self, output_file: Option<&str>) -> Run {
        let mut line = format!("systemctl --no-pager status {}", shell_quote(&self.id));
        if let Some(file) = output_file {
            line.push_str(&format!(" >{}", shell_quote(file)));
        }
        Run::new(line).with_label(format!("status of service {}", self.id))
    }

    /// The service's journal: `journalctl --no-pager --unit=ID [--since=SINCE]`
    /// (`since` in any form journalctl accepts: `"10 min ago"`, `"today"`, a date).
    ///
    /// ```
    /// use asyncjobs_ssh::Service;
    /// let s = Service::new("sleep 60", "nap")?;
    /// assert_eq!(
    ///     s.journal_command(Some("10 min ago")).command_line(),
    ///     "journalctl --no-pager --unit=nap --since='10 min ago'"
    /// );
    /// # Ok::<(), asyncjobs_ssh::ServiceError>(())
    /// ```
    pub fn journal_command(&self, since: Option<&str>) -> Run {
        let mut line = format!("journalctl --no-pager --unit={}", shell_quote(&self.id));
        if let Some(since) = since {
            line.push_str(&format!(" --since={}", shell_quote(since)));
        }
        Run::new(line).with_label(format!("journal of service {}", self.id))
    }

    fn no_nul(&self, text: &str, what: impl FnOnce() -> String) -> Result<(), ServiceError> {
        if text.contains('\0') {
            return Err(ServiceError::NulByte {
                id: self.id.clone(),
                what: what(),
            });
        }
        Ok(())
    }
}

/// A POSIX environment variable name: letters, digits, `_`, not starting with a digit.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks `id` as systemd checks a unit name (`.service` is added when there
/// is no suffix), and that commands cannot read it as an option.
fn validate_unit_name(id: &str) -> Result<(), ServiceError> {
    let err = |reason| {
        Err(ServiceError::InvalidUnitName {
            id: id.to_string(),
            reason,
        })
    };
    if id.is_empty() {
        return err("it is empty");
    }
    if id.starts_with('-') {
        return err("it starts with `-`, commands would read it as an option");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c))
    {
        return err("it contains a character not allowed in unit names");
    }
    let stem = id.strip_suffix(".service").unwrap_or(id);
    if stem.is_empty() || stem.starts_with('.') {
        return err("it has no name before the suffix");
    }
    if let Some((prefix, instance)) = stem.split_once('@') {
        if prefix.is_empty() || instance.is_empty() || instance.contains('@') {
            return err("`@` must join a non-empty template name and instance, once");
        }
    }
    if stem.len() + ".service".len() > UNIT_NAME_MAX {
        return err("it is longer than systemd allows (255 characters with `.service`)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(r: Result<Run, ServiceError>) -> String {
        r.unwrap().command_line()
    }

    #[test]
    fn start_stops_a_running_instance_first_by_default() {
        let s = Service::new("sleep 100", "nap").unwrap();
        assert_eq!(
            line(s.start_command()),
            "systemctl is-active nap >/dev/null 2>&1 && systemctl stop nap; \
             systemctl reset-failed nap >/dev/null 2>&1; \
             systemd-run --unit=nap --service-type=simple -- /bin/sh -c 'sleep 100'"
        );
    }

    #[test]
    fn every_option_appears_in_order_and_values_are_quoted() {
        let s = Service::new("server --port 80", "web@8080.service")
            .unwrap()
            .tty(true)
            .systemd_type("notify")
            .env("PLAIN", "x")
            .env("SPACES", "a b")
            .env("QUOTES", r#"it's "q""#)
            .env("DOLLAR", "$HOME `id` $(id)")
            .env("EMPTY", "")
            .stop_if_running(false);
        assert_eq!(
            line(s.start_command()),
            "systemd-run --pty --setenv=PLAIN=x --setenv=SPACES='a b' \
             --setenv=QUOTES='it'\\''s \"q\"' --setenv=DOLLAR='$HOME `id` $(id)' \
             --setenv=EMPTY='' --unit=web@8080.service --service-type=notify \
             -- /bin/sh -c 'server --port 80'"
        );
    }

    #[test]
    fn argv_words_are_quoted_one_by_one() {
        let s = Service::argv(["/opt/my app/run", "--name", "x y", "it's"], "app")
            .unwrap()
            .stop_if_running(false);
        assert_eq!(
            line(s.start_command()),
            "systemd-run --unit=app --service-type=simple -- \
             '/opt/my app/run' --name 'x y' 'it'\\''s'"
        );
    }

    #[test]
    fn unit_ids_with_a_backslash_are_quoted_everywhere() {
        let s = Service::new("true", r"a\x2db").unwrap();
        assert_eq!(s.stop_command().command_line(), r"systemctl stop 'a\x2db'");
        assert_eq!(
            s.status_command(None).command_line(),
            r"systemctl --no-pager status 'a\x2db'"
        );
        assert_eq!(
            s.journal_command(None).command_line(),
            r"journalctl --no-pager --unit='a\x2db'"
        );
        assert!(line(s.start_command()).starts_with(
            r"systemctl is-active 'a\x2db' >/dev/null 2>&1 && systemctl stop 'a\x2db'; "
        ));
    }

    #[test]
    fn status_and_journal_take_a_file_and_a_date() {
        let s = Service::new("true", "svc").unwrap();
        assert_eq!(
            s.status_command(Some("/tmp/out.txt")).command_line(),
            "systemctl --no-pager status svc >/tmp/out.txt"
        );
        assert_eq!(
            s.journal_command(Some("2026-01-02 03:04:05"))
                .command_line(),
            "journalctl --no-pager --unit=svc --since='2026-01-02 03:04:05'"
        );
    }

    #[test]
    fn generated_lines_parse_as_intended_in_a_real_shell() {
        // `systemd-run` replaced by a function printing its arguments, one per line
        let s = Service::new("echo \"$V\" | tr a b", "svc")
            .unwrap()
            .env("V", "a 'b' $c \"d\" \\e")
            .stop_if_running(false);
        let script = format!(
            "systemd_run() {{ printf '%s\\n' \"$@\"; }}; {}",
            line(s.start_command()).replacen("systemd-run", "systemd_run", 1)
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "--setenv=V=a 'b' $c \"d\" \\e\n--unit=svc\n--service-type=simple\n--\n\
             /bin/sh\n-c\necho \"$V\" | tr a b\n"
        );
    }

    #[test]
    fn invalid_ids_are_refused_with_the_reason() {
        for (id, reason) in [
            ("", "it is empty"),
            ("-rf", "starts with `-`"),
            ("has space", "not allowed"),
            ("semi;colon", "not allowed"),
            ("ünïcode", "not allowed"),
            (".service", "no name before"),
            (".hidden", "no name before"),
            ("tmpl@", "`@` must join"),
            ("@inst", "`@` must join"),
            ("a@b@c", "`@` must join"),
        ] {
            let err = Service::new("true", id).unwrap_err();
            assert!(
                matches!(&err, ServiceError::InvalidUnitName { id: i, .. } if i == id),
                "{id}: {err:?}"
            );
            assert!(err.to_string().contains(reason), "{id}: {err}");
        }
        let long = "x".repeat(248);
        assert!(Service::new("true", long.as_str()).is_err());
        assert!(Service::new("true", &long[..247]).is_ok());
        for ok in ["a", "web-1_2:3.4", "getty@tty1", "x.service", r"a\x2db"] {
            assert!(Service::new("true", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn bad_env_names_types_and_nul_bytes_are_refused_at_start() {
        let s = Service::new("true", "svc").unwrap();
        let err = s.clone().env("1X", "v").start_command().unwrap_err();
        assert_eq!(
            err,
            ServiceError::InvalidEnvName {
                id: "svc".into(),
                name: "1X".into()
            }
        );
        for bad in ["A=B", "A-B", ""] {
            assert!(s.clone().env(bad, "v").start_command().is_err(), "{bad}");
        }
        let err = s
            .clone()
            .systemd_type("simpel")
            .start_command()
            .unwrap_err();
        assert!(err.to_string().contains("use one of simple, exec"), "{err}");
        let err = s.clone().env("A", "x\0y").start_command().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the value of A of service svc contains a NUL byte"
        );
        assert!(Service::new("a\0b", "svc")
            .unwrap()
            .start_command()
            .is_err());
    }
}
