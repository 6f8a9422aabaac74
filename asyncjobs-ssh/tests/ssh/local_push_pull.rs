//! Push and Pull on a LocalNode: local copies with the SFTP module's rules
//! (destinations as scp, recursion, modes, links, times), checked against
//! the same transfer over SSH on the loopback sshd.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::support::{node, testbed, Output};
use asyncjobs_ssh::sftp::{SftpError, TransferOptions};
use asyncjobs_ssh::{LocalNode, Node, Pull, Push, SshCommand, SshError, SshJob, SshOutput};

/// A tree with files of several modes, a subdirectory, a link and an empty directory.
fn sample_tree(root: &Path) -> PathBuf {
    let top = root.join("tree");
    fs::create_dir_all(top.join("sub/deeper")).unwrap();
    fs::create_dir_all(top.join("empty")).unwrap();
    fs::write(top.join("a.txt"), "alpha\n").unwrap();
    fs::write(top.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(top.join("run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::write(
        top.join("sub/b.bin"),
        (0..=255u8).cycle().take(300_000).collect::<Vec<_>>(),
    )
    .unwrap();
    fs::write(top.join("sub/deeper/secret"), "s").unwrap();
    fs::set_permissions(
        top.join("sub/deeper/secret"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    fs::set_permissions(top.join("sub/deeper"), fs::Permissions::from_mode(0o700)).unwrap();
    symlink("a.txt", top.join("link")).unwrap();
    top
}

/// (relative path, kind, mode, contents or link target) of every entry under `dir`, sorted.
fn tree(dir: &Path) -> Vec<(String, char, u32, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, char, u32, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let md = fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let mode = md.mode() & 0o7777;
            if md.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                out.push((rel, 'l', 0, target.into_os_string().into_encoded_bytes()));
            } else if md.is_dir() {
                out.push((rel, 'd', mode, Vec::new()));
                walk(root, &path, out);
            } else {
                out.push((rel, 'f', mode, fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn local_node(out: &Output) -> LocalNode {
    LocalNode::new().with_formatter(out.formatter())
}

async fn run(node: impl Into<Node>, cmd: impl SshCommand) -> Result<SshOutput, SshError> {
    SshJob::new(node).command(cmd).execute().await
}

fn transfer_error(e: SshError) -> std::sync::Arc<SftpError> {
    match e {
        SshError::Transfer { source, .. } => source,
        other => panic!("not a transfer error: {other}"),
    }
}

#[test]
fn local_push_and_pull_copy_trees_exactly_as_sftp_does() {
    let bed = testbed(1);
    let out = Output::new();
    let remote = node(&bed, &bed.hosts()[0], &out);
    let local = local_node(&out);
    let work = tempfile::tempdir().unwrap();
    let src = sample_tree(work.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // into a missing directory (trailing /): created, the tree goes inside
        let over_ssh = bed.remote_dir().join("ssh-copy/");
        let locally = work.path().join("local-copy/");
        run(&remote, Push::new([&src], over_ssh.to_str().unwrap()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        run(&local, Push::new([&src], locally.to_str().unwrap()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let expected = tree(&src);
        assert_eq!(tree(&over_ssh.join("tree")), expected);
        assert_eq!(
            tree(&locally.join("tree")),
            expected,
            "local push = sftp push"
        );

        // pull of several sources into a new directory
        let pulled = work.path().join("pulled");
        let sources = [src.join("a.txt"), src.join("sub")];
        run(
            &local,
            Pull::new(
                sources.iter().map(|p| p.to_str().unwrap().to_string()),
                &pulled,
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = tree(&pulled).into_iter().map(|e| e.0).collect();
        assert_eq!(
            names,
            [
                "a.txt",
                "sub",
                "sub/b.bin",
                "sub/deeper",
                "sub/deeper/secret"
            ]
        );
        assert_eq!(
            fs::read(pulled.join("sub/b.bin")).unwrap(),
            fs::read(src.join("sub/b.bin")).unwrap()
        );

        // a single file onto a new name; missing parents are created
        let renamed = work.path().join("x/y/renamed.sh");
        run(
            &local,
            Push::new([src.join("run.sh")], renamed.to_str().unwrap()),
        )
        .await
        .unwrap();
        assert_eq!(fs::metadata(&renamed).unwrap().mode() & 0o777, 0o750);
        // onto an existing file: replaced
        fs::write(&renamed, "old").unwrap();
        run(
            &local,
            Push::new([src.join("a.txt")], renamed.to_str().unwrap()),
        )
        .await
        .unwrap();
        assert_eq!(fs::read_to_string(&renamed).unwrap(), "alpha\n");
    });
    rt.block_on(remote.close());
}

#[test]
fn local_copies_follow_links_and_keep_times_when_asked() {
    let out = Output::new();
    let local = local_node(&out);
    let work = tempfile::tempdir().unwrap();
    let src = sample_tree(work.path());
    let old = fs::File::open(src.join("a.txt")).unwrap();
    let past = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    old.set_times(fs::FileTimes::new().set_modified(past).set_accessed(past))
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dest = work.path().join("followed");
        let opts = TransferOptions::new().follow_symlinks(true).preserve(true);
        run(
            &local,
            Push::new([&src], dest.to_str().unwrap()).options(opts),
        )
        .await
        .unwrap();
        let link_copy = fs::symlink_metadata(dest.join("link")).unwrap();
        assert!(link_copy.is_file(), "the link's target was copied");
        assert_eq!(fs::read_to_string(dest.join("link")).unwrap(), "alpha\n");
        assert_eq!(
            fs::metadata(dest.join("a.txt"))
                .unwrap()
                .modified()
                .unwrap(),
            past
        );

        let plain = work.path().join("plain");
        run(&local, Push::new([&src], plain.to_str().unwrap()))
            .await
            .unwrap();
        assert_ne!(
            fs::metadata(plain.join("a.txt"))
                .unwrap()
                .modified()
                .unwrap(),
            past
        );

        // a link loop is an error, not an endless copy
        symlink("..", src.join("sub/up")).unwrap();
        let looped = work.path().join("looped");
        let opts = TransferOptions::new().follow_symlinks(true);
        let err = run(
            &local,
            Push::new([&src], looped.to_str().unwrap()).options(opts),
        )
        .await
        .unwrap_err();
        assert!(matches!(
            *transfer_error(err),
            SftpError::SymlinkLoop { .. }
        ));
    });
}

#[test]
fn local_copies_refuse_what_scp_refuses_before_copying_anything() {
    let out = Output::new();
    let local = local_node(&out);
    let work = tempfile::tempdir().unwrap();
    let src = sample_tree(work.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let file = src.join("a.txt");
        // a directory onto an existing file
        let err = run(&local, Push::new([&src], file.to_str().unwrap()))
            .await
            .unwrap_err();
        assert!(matches!(
            *transfer_error(err),
            SftpError::NotADirectory { .. }
        ));
        // a missing source among others: nothing is copied
        let dest = work.path().join("never");
        let err = run(
            &local,
            Push::new(
                [file.clone(), work.path().join("missing")],
                dest.to_str().unwrap(),
            ),
        )
        .await
        .unwrap_err();
        assert!(matches!(
            *transfer_error(err),
            SftpError::LocalNotFound { .. }
        ));
        assert!(!dest.exists());
        // a directory without recursion
        let opts = TransferOptions::new().recursive(false);
        let err = run(
            &local,
            Push::new([&src], dest.to_str().unwrap()).options(opts),
        )
        .await
        .unwrap_err();
        assert!(matches!(
            *transfer_error(err),
            SftpError::IsADirectory { .. }
        ));
        // a directory into itself, a file onto itself
        let err = run(
            &local,
            Push::new([&src], src.join("sub/").to_str().unwrap()),
        )
        .await
        .unwrap_err();
        let e = transfer_error(err);
        assert!(
            e.to_string().contains("cannot be copied into itself"),
            "{e}"
        );
        let err = run(&local, Push::new([&file], src.to_str().unwrap()))
            .await
            .unwrap_err();
        let e = transfer_error(err);
        assert!(e.to_string().contains("the same file"), "{e}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "alpha\n", "left intact");
    });
}
