//! `Service` end to end: start, status, journal and stop of a transient
//! systemd service, on this machine (a `LocalNode`: starting system services
//! needs root, and the testbed's login user is not root). Skipped, saying
//! why, where systemd is not running or the tests are not root.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{unique, Output};
use asyncjobs_ssh::{LocalNode, Run, Service, SshJob, SshOutput};

/// Why the end-to-end test cannot run here, if it cannot.
fn systemd_unavailable() -> Option<String> {
    if !Path::new("/run/systemd/system").exists() {
        return Some("/run/systemd/system does not exist: systemd is not the init system".into());
    }
    let state = match Command::new("systemctl").arg("is-system-running").output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Err(e) => return Some(format!("`systemctl` cannot be run: {e}")),
    };
    if ![
        "running",
        "degraded",
        "starting",
        "initializing",
        "maintenance",
    ]
    .contains(&state.as_str())
    {
        return Some(format!("`systemctl is-system-running` says {state:?}"));
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("starting system services with systemd-run needs root".into());
    }
    None
}

/// Stops the unit when the test ends, passed or not.
struct StopOnDrop(String);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("systemctl").args(["stop", &self.0]).output();
        let _ = Command::new("systemctl")
            .args(["reset-failed", &self.0])
            .output();
    }
}

async fn run(node: &LocalNode, cmd: Run) -> Result<SshOutput, asyncjobs_ssh::SshError> {
    SshJob::new(node)
        .command(cmd)
        .command_timeout(Duration::from_secs(30))
        .execute()
        .await
}

/// Runs `cmd` until its stdout contains every one of `wanted` (at most 40 tries, 250 ms apart).
async fn run_until(node: &LocalNode, cmd: impl Fn() -> Run, wanted: &[&str]) -> String {
    let mut last = String::new();
    for _ in 0..40 {
        last = match run(node, cmd()).await {
            Ok(out) => out.stdout(),
            Err(e) => e.to_string(),
        };
        if wanted.iter().all(|w| last.contains(w)) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("never saw {wanted:?}; last output:\n{last}");
}

#[test]
fn service_starts_shows_active_logs_its_environment_and_stops() {
    if let Some(reason) = systemd_unavailable() {
        eprintln!("SKIPPED service_starts_shows_active_logs_its_environment_and_stops: {reason}");
        return;
    }
    let out = Output::new();
    let node = LocalNode::new().with_formatter(out.formatter());
    let id = unique("asyncjobs-svc-");
    let _cleanup = StopOnDrop(id.clone());
    let foo = r#"a b 'c' $d "e" \f"#;
    let svc = Service::new(
        r#"echo "FOO=$FOO"; echo "BAR=$BAR"; exec sleep 300"#,
        id.as_str(),
    )
    .unwrap()
    .env("FOO", foo)
    .env("BAR", "x");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        run(&node, svc.start_command().unwrap())
            .await
            .unwrap_or_else(|e| panic!("start: {e}\n{}", out.stderr()));
        // stop_if_running: starting again replaces the running instance
        run(&node, svc.start_command().unwrap())
            .await
            .unwrap_or_else(|e| panic!("restart: {e}\n{}", out.stderr()));
        // without it, systemd refuses a second unit with the same name
        let again = run(
            &node,
            svc.clone().stop_if_running(false).start_command().unwrap(),
        )
        .await;
        assert!(again.is_err(), "a second instance was started: {again:?}");

        run_until(
            &node,
            || svc.status_command(None),
            &["Loaded: loaded", "Active: active"],
        )
        .await;
        let status_file = std::env::temp_dir().join(format!("{id}.status"));
        let status_path = status_file.to_str().unwrap().to_string();
        run(&node, svc.status_command(Some(&status_path)))
            .await
            .unwrap();
        let written = std::fs::read_to_string(&status_file).unwrap();
        let _ = std::fs::remove_file(&status_file);
        assert!(written.contains("Active: active"), "{written}");

        let foo_line = format!("FOO={foo}");
        run_until(&node, || svc.journal_command(None), &[&foo_line, "BAR=x"]).await;
        run_until(
            &node,
            || svc.journal_command(Some("1 hour ago")),
            &[&foo_line],
        )
        .await;

        run(&node, svc.stop_command()).await.unwrap();
        let state = run(
            &node,
            Run::new("systemctl is-active").arg(&id).allow_exits([3, 4]),
        )
        .await
        .unwrap();
        assert_ne!(state.stdout().trim(), "active", "still running after stop");
    });
}
