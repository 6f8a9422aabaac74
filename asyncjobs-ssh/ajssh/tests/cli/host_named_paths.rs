//! Paths built from host names (`-d DIR`, `-m` marks, `--pull --into DIR`)
//! stay inside their directory whatever the name (the issue's `..` alias);
//! one destination written several ways runs once.

use crate::support::{ajssh, ajssh_bare, run, ssh_config, target, testbed};

/// The entries of `dir`, sorted.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_host_alias_named_dot_dot_writes_inside_the_directories() {
    let bed = testbed(1);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ssh_config(&bed, tmp.path(), &[("..".to_string(), &bed.hosts()[0])]);
    let remote = bed.remote_dir().join("pulled.txt");
    std::fs::write(&remote, "from the host\n").unwrap();
    let (pulls, outs) = (tmp.path().join("p"), tmp.path().join("o"));
    std::fs::create_dir_all(&pulls).unwrap();
    std::fs::create_dir_all(&outs).unwrap();
    let r = run(ajssh_bare()
        .arg("-F")
        .arg(&cfg)
        .arg("--known-hosts")
        .arg(bed.known_hosts())
        .arg("-d")
        .arg(outs.join("d"))
        .arg("-m")
        .arg("--pull")
        .arg(&remote)
        .arg("--into")
        .arg(pulls.join("into"))
        .args(["..", "--", "echo hi"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(pulls.join("into/%2E%2E/pulled.txt")).unwrap(),
        "from the host\n"
    );
    assert_eq!(
        std::fs::read_to_string(outs.join("d/%2E%2E")).unwrap(),
        "hi\n"
    );
    assert!(outs.join("d/0ok/%2E%2E").is_file());
    // nothing beside the directories given
    assert_eq!(entries(&pulls), ["into"]);
    assert_eq!(entries(&outs), ["d"]);
    assert_eq!(entries(&outs.join("d")), ["%2E%2E", "0ok", "1failed"]);
}

#[test]
fn one_destination_written_three_ways_runs_once() {
    let bed = testbed(1);
    let h = &bed.hosts()[0];
    let words = format!(
        "{ip}:{port},{user}@{ip}:{port},{ip}:{port}",
        ip = h.ip,
        port = h.port,
        user = bed.user()
    );
    let dir = tempfile::tempdir().unwrap();
    let r = run(ajssh(&bed)
        .arg("-v")
        .arg("-d")
        .arg(dir.path())
        .args([&words, "--", "echo once"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(entries(dir.path()), [target(h)]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(target(h))).unwrap(),
        "once\n"
    );
    assert!(
        r.stderr.contains(&format!(
            "{}@{} is the same destination as {}: run once",
            bed.user(),
            target(h),
            target(h)
        )),
        "{}",
        r.stderr
    );
}
