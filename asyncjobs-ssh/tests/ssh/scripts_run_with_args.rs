//! RunScript and RunString: installed, run with arguments (and include files), removed afterwards.

use std::os::unix::fs::PermissionsExt;

use std::time::Duration;

use crate::support::{eventually, node, testbed, unique, Output};
use asyncjobs_core::{Scheduler, SchedulerError};
use asyncjobs_ssh::{LocalNode, RunScript, RunString, SshJob};

fn write_script(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// Remote scripts installed under this name prefix, still present in the user's home.
fn leftover_scripts(home: &std::path::Path, prefix: &str) -> usize {
    std::fs::read_dir(home.join(".asyncjobs-remote"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn run_script_passes_its_arguments_unchanged_and_is_removed_afterwards() {
    let bed = testbed(1);
    let out = Output::new();
    let local = tempfile::tempdir().unwrap();
    let name = format!("{}.sh", unique("args"));
    let script = write_script(
        local.path(),
        &name,
        "#!/bin/sh\necho \"argc=$#\"\nfor a in \"$@\"; do echo \"[$a]\"; done\n",
    );
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    let h = s.add(
        SshJob::new(&n).command(
            RunScript::new(&script)
                .arg("one")
                .arg("two words")
                .arg("it's $HOME"),
        ),
    );
    assert!(matches!(s.run(), Ok(true)), "{}", out.stderr());
    let stdout = h.result().unwrap().stdout();
    assert_eq!(stdout, "argc=3\n[one]\n[two words]\n[it's $HOME]\n");
    assert_eq!(
        leftover_scripts(bed.user_home(), &name),
        0,
        "the remote copy of the script is removed"
    );
    s.shutdown().unwrap();
}

#[test]
fn run_script_finds_its_include_next_to_it() {
    let bed = testbed(1);
    let out = Output::new();
    let local = tempfile::tempdir().unwrap();
    let lib = unique("lib");
    let include = write_script(
        local.path(),
        &format!("{lib}.sh"),
        "greet() { echo \"hello $1\"; }\n",
    );
    let script = write_script(
        local.path(),
        "main.sh",
        &format!("#!/bin/sh\n. \"$(dirname \"$0\")/{lib}.sh\"\ngreet \"$1\"\n"),
    );
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    let h = s.add(SshJob::new(&n).command(RunScript::new(&script).arg("world").include(&include)));
    assert!(matches!(s.run(), Ok(true)), "{}", out.stderr());
    assert_eq!(h.result().unwrap().stdout(), "hello world\n");
    s.shutdown().unwrap();
}

#[test]
fn run_string_runs_script_text_with_arguments() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let mut s = Scheduler::new();
    let body =
        "#!/bin/sh\n# sums its arguments\necho $(( $1 + $2 ))\necho \"third: $3\" >&2\nexit 0\n";
    let h = s.add(
        SshJob::new(&n).command(
            RunString::new(body)
                .args(["40", "2", "a b"])
                .remote_name("sum.sh"),
        ),
    );
    assert!(matches!(s.run(), Ok(true)), "{}", out.stderr());
    let result = h.result().unwrap();
    assert_eq!(result.stdout(), "42\n");
    assert_eq!(result.stderr(), "third: a b\n");
    assert_eq!(
        result.commands[0].command,
        "RunString: echo $(( $1 + $2 )) 40 2 'a b'"
    );
    s.shutdown().unwrap();
}

#[test]
fn scripts_run_the_same_way_on_a_local_node() {
    let out = Output::new();
    let local = tempfile::tempdir().unwrap();
    let include = write_script(local.path(), "inc.sh", "X=included\n");
    let script = write_script(
        local.path(),
        "s.sh",
        "#!/bin/sh\n. \"$(dirname \"$0\")/inc.sh\"\necho \"$X $1\"\n",
    );
    let node = LocalNode::new().with_formatter(out.formatter());
    let mut s = Scheduler::new();
    let h1 =
        s.add(SshJob::new(&node).command(RunScript::new(&script).arg("a b").include(&include)));
    let h2 =
        s.add(SshJob::new(&node).command(RunString::new("#!/bin/sh\necho \"$#:$1\"\n").arg("x y")));
    assert!(matches!(s.run(), Ok(true)), "{}", out.stderr());
    assert_eq!(h1.result().unwrap().stdout(), "included a b\n");
    assert_eq!(h2.result().unwrap().stdout(), "1:x y\n");
}

#[test]
fn cancelled_script_is_stopped_and_removed() {
    let bed = testbed(1);
    let out = Output::new();
    let name = unique("cancelled");
    let n = node(&bed, &bed.hosts()[0], &out);
    let body = format!("#!/bin/sh\nsleep 4245.{}\n", std::process::id() % 1000);
    std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            let mut s = Scheduler::new().timeout(Duration::from_secs(2));
            s.add(SshJob::new(&n).command(RunString::new(body).remote_name(&name)));
            s.run()
        });
        let running = eventually(Duration::from_secs(20), || {
            leftover_scripts(bed.user_home(), &name) == 1 && bed.remote_processes(&name) >= 1
        });
        assert!(running, "the script was installed and started");
        assert!(matches!(
            run.join().unwrap(),
            Err(SchedulerError::Timeout { .. })
        ));
    });
    let gone = eventually(Duration::from_secs(15), || {
        leftover_scripts(bed.user_home(), &name) == 0 && bed.remote_processes(&name) == 0
    });
    assert!(
        gone,
        "script left: {} file(s), {} process(es)",
        leftover_scripts(bed.user_home(), &name),
        bed.remote_processes(&name)
    );
    tokio::runtime::Runtime::new().unwrap().block_on(n.close());
}
