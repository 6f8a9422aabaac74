//! Non-zero exits: in critical jobs (the scheduler fails) and non-critical ones
//! (the scheduler is fine, the job holds the error); signals and allowed exits.

use crate::support::{node, testbed, Output};
use asyncjobs_core::{Scheduler, SchedulerError};
use asyncjobs_ssh::{ExitStatus, Run, SshError, SshJob};

#[test]
fn failing_command_in_a_critical_job_fails_the_scheduler_with_host_command_status_and_stderr() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    let failing = "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i >&2; done; exit 3";
    let h = s.add(SshJob::new(&n).run("true").run(failing).run("echo never"));
    let err = s.run().unwrap_err();
    let SchedulerError::CriticalJobFailed { error, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(error.kind(), "CommandFailed");
    match error.downcast_ref::<SshError>() {
        Some(SshError::CommandFailed {
            host,
            command,
            status,
            stderr_tail,
            output,
        }) => {
            assert_eq!(host, n.display_name());
            assert_eq!(command, failing);
            assert_eq!(status, &ExitStatus::Code(3));
            let expected_tail: Vec<String> = (3..=12).map(|i| format!("line{i}")).collect();
            assert_eq!(stderr_tail, &expected_tail.join("\n"));
            assert!(output.stderr.starts_with("line1\nline2\n"));
        }
        other => panic!("expected CommandFailed, got {other:?}"),
    }
    let text = asyncjobs_core::ErrorChain(&err).to_string();
    assert!(
        text.contains(n.display_name()) && text.contains("exit code 3") && text.contains("line12"),
        "{text}"
    );
    assert!(h.result().is_none());
    assert!(
        !out.stdout().contains("never"),
        "commands after the failure do not run"
    );
    s.shutdown().unwrap();
}

#[test]
fn failing_command_in_a_non_critical_job_leaves_the_scheduler_fine() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    let bad = s.add(SshJob::new(&n).run("echo oops >&2; false").critical(false));
    let good = s.add(SshJob::new(&n).run("echo after").requires(&bad));
    assert!(s.run().unwrap());
    let e = bad.raised_exception().expect("the job failed");
    assert_eq!(
        e.downcast_ref::<SshError>().and_then(SshError::status),
        Some(&ExitStatus::Code(1))
    );
    assert_eq!(good.result().unwrap().stdout(), "after\n");
    s.shutdown().unwrap();
}

#[test]
fn command_killed_by_a_signal_reports_the_signal_name() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new().critical(false);
    let killed = s.add(
        SshJob::new(&n)
            .run("kill -TERM $$; sleep 5")
            .critical(false),
    );
    let allowed =
        s.add(SshJob::new(&n).command(Run::new("kill -TERM $$; sleep 5").allow_exits(["TERM"])));
    let allowed_code = s.add(SshJob::new(&n).command(Run::new("exit 7").allow_exits([7u32])));
    assert!(s.run().unwrap());
    let e = killed.raised_exception().unwrap();
    assert_eq!(
        e.downcast_ref::<SshError>().and_then(SshError::status),
        Some(&ExitStatus::Signal("TERM".into()))
    );
    assert!(e.to_string().contains("killed by signal TERM"), "{e}");
    assert_eq!(
        allowed.result().unwrap().status(),
        Some(&ExitStatus::Signal("TERM".into()))
    );
    assert_eq!(
        allowed_code.result().unwrap().status(),
        Some(&ExitStatus::Code(7))
    );
    s.shutdown().unwrap();
}
