//! Standard input of commands: end-of-file at once by default (as `ssh -n`),
//! or the bytes / the local file given with `.stdin(..)` / `.stdin_file(..)`,
//! on a real sshd and on a LocalNode alike.

use std::time::Duration;

use crate::support::{node, testbed, Output};
use asyncjobs_ssh::{
    LocalNode, Node, Run, RunScript, RunString, SshCommand, SshError, SshJob, SshOutput,
};

/// Bound on every run here: a command waiting for input that never ends fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(60);

fn execute(node: &Node, command: impl SshCommand) -> Result<SshOutput, SshError> {
    let job = SshJob::new(node.clone())
        .command(command)
        .command_timeout(LIMIT);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(job.execute())
}

/// Runs `check` on a LocalNode and on a node of a real sshd.
fn on_both(check: impl Fn(&Node)) {
    check(
        &LocalNode::new()
            .with_formatter(Output::new().formatter())
            .into(),
    );
    let bed = testbed(1);
    let n = node(&bed, &bed.hosts()[0], &Output::new());
    check(&n.clone().into());
    drop(n);
}

fn stdout(node: &Node, command: impl SshCommand) -> String {
    match execute(node, command) {
        Ok(out) => out.stdout(),
        Err(e) => panic!("on {}: {e}", node.display_name()),
    }
}

#[test]
fn commands_reading_stdin_see_end_of_file_at_once_by_default() {
    on_both(|n| {
        assert_eq!(stdout(n, Run::new("cat; echo done")), "done\n");
        assert_eq!(stdout(n, Run::new("wc -c")).trim(), "0");
        // `read` fails at end-of-file
        assert_eq!(
            stdout(n, Run::new("if read x; then echo got; else echo eof; fi")),
            "eof\n"
        );
    });
}

#[test]
fn stdin_bytes_are_read_then_end_of_file() {
    on_both(|n| {
        assert_eq!(stdout(n, Run::new("cat").stdin("one\ntwo\n")), "one\ntwo\n");
        assert_eq!(
            stdout(
                n,
                Run::new("read x; echo \"[$x]\"").stdin("first line\nrest\n")
            ),
            "[first line]\n"
        );
        assert_eq!(
            stdout(n, Run::new("wc -c").stdin(b"\x00\xff\n".to_vec())).trim(),
            "3"
        );
    });
}

#[test]
fn large_input_goes_through_whole_while_output_is_read() {
    // more than the channel windows (2 MiB) in both directions at once: `cat`
    // writes while it reads, so feeding and reading must not wait for each other
    let big: Vec<u8> = (0..5_000_000u32)
        .map(|i| {
            if i % 100 == 99 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect();
    on_both(|n| {
        let out = execute(n, Run::new("cat | wc -c").stdin(big.clone())).unwrap();
        assert_eq!(out.stdout().trim(), "5000000");
        let out = execute(n, Run::new("cat").stdin(big.clone())).unwrap();
        assert_eq!(out.commands[0].stdout.as_bytes(), &big[..]);
    });
}

#[test]
fn a_command_that_does_not_read_its_input_ends_normally() {
    let big = vec![b'x'; 8_000_000];
    on_both(|n| {
        assert_eq!(
            stdout(n, Run::new("echo quick").stdin(big.clone())),
            "quick\n"
        );
        assert_eq!(
            stdout(n, Run::new("head -c 3; echo").stdin(big.clone())),
            "xxx\n"
        );
    });
}

#[test]
fn stdin_file_is_streamed_to_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.txt");
    let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&file, &text).unwrap();
    on_both(|n| {
        assert_eq!(
            stdout(n, Run::new("wc -c").stdin_file(&file)).trim(),
            text.len().to_string()
        );
        assert_eq!(
            stdout(n, Run::new("tail -n 1").stdin_file(&file)),
            "line 19999\n"
        );
    });
}

#[test]
fn a_missing_stdin_file_fails_the_command_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let missing = dir.path().join("no-such-input");
    let local: Node = LocalNode::new()
        .with_formatter(Output::new().formatter())
        .into();
    let cmd = Run::new(format!("touch {}", marker.display())).stdin_file(&missing);
    match execute(&local, cmd.clone()) {
        Err(e @ SshError::Input { .. }) => {
            assert_eq!(e.kind(), "InputError");
            let text = e.to_string();
            assert!(
                text.contains("no-such-input") && text.contains("No such file"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!marker.exists(), "the command must not have run");
    let bed = testbed(1);
    let n = node(&bed, &bed.hosts()[0], &Output::new());
    let remote_marker = bed.remote_dir().join("ran");
    let cmd = Run::new(format!("touch {}", remote_marker.display())).stdin_file(&missing);
    assert!(matches!(
        execute(&n.clone().into(), cmd),
        Err(SshError::Input { .. })
    ));
    assert!(!remote_marker.exists(), "the command must not have run");
    drop(n);
}

#[test]
fn scripts_and_strings_take_input_too() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("count.sh");
    std::fs::write(&script, "#!/bin/sh\nwc -l\n").unwrap();
    on_both(|n| {
        assert_eq!(
            stdout(n, RunScript::new(&script).stdin("a\nb\nc\n")).trim(),
            "3"
        );
        assert_eq!(
            stdout(
                n,
                RunString::new("#!/bin/sh\nread x; echo \"<$x>\"\n").stdin("hi\n")
            ),
            "<hi>\n"
        );
        assert_eq!(
            stdout(n, RunString::new("#!/bin/sh\ncat; echo end\n")),
            "end\n"
        );
    });
}
