//! Child processes with a wall-clock cap: a benchmark must bound itself, so a
//! configuration that runs too long is killed and reported as such.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What a capped child produced.
pub enum Capped {
    /// It exited successfully within the cap: its stdout.
    Done(String),
    /// It was still running at the cap and was killed.
    TimedOut,
}

fn drain(stream: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stream {
            // a read error leaves what was read so far; the exit status tells the rest
            let _ = s.read_to_string(&mut text);
        }
        text
    })
}

fn wait_capped(child: &mut Child, cap: Duration) -> Result<Option<std::process::ExitStatus>> {
    let start = Instant::now();
    loop {
        if let Some(status) = child
            .try_wait()
            .context("waiting for a benchmark process")?
        {
            return Ok(Some(status));
        }
        if start.elapsed() >= cap {
            // kill can only fail if it already exited; wait reaps it either way
            let _ = child.kill();
            child.wait().context("reaping a killed benchmark process")?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` for at most `cap`; a failure (non-zero exit) is an error carrying its stderr.
pub fn run(mut cmd: Command, cap: Duration) -> Result<Capped> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {shown}"))?;
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let status = wait_capped(&mut child, cap)?;
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    match status {
        None => Ok(Capped::TimedOut),
        Some(s) if s.success() => Ok(Capped::Done(out)),
        Some(s) => bail!("{shown} failed ({s}):\n{}", err.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::{run, Capped};
    use std::process::Command;
    use std::time::Duration;

    #[test]
    fn a_child_still_running_at_the_cap_is_killed() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let outcome = run(cmd, Duration::from_millis(100)).unwrap();
        assert!(matches!(outcome, Capped::TimedOut));
    }

    #[test]
    fn a_failing_child_is_an_error_with_its_stderr() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo 'no such shape' >&2; exit 3"]);
        let err = run(cmd, Duration::from_secs(30)).err().unwrap().to_string();
        assert!(err.contains("no such shape"), "{err}");
    }

    #[test]
    fn a_child_that_succeeds_gives_its_stdout() {
        let mut cmd = Command::new("echo");
        cmd.arg("{}");
        let Capped::Done(out) = run(cmd, Duration::from_secs(30)).unwrap() else {
            panic!("echo did not finish");
        };
        assert_eq!(out.trim(), "{}");
    }
}
