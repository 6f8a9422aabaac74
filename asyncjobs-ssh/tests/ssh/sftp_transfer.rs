//! Push and pull against a real OpenSSH sshd on loopback.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use crate::sftp_support::{
    connect, exec, remote_area, remote_tree, shell_quote, tree, write_file, Entry, TestHandler,
};
use asyncjobs_ssh::sftp::{
    open_sftp, pull, push, remove_remote, SftpError, SftpSession, Side, TransferOptions,
};
use asyncjobs_tests::Testbed;
use russh::client::Handle;
use tempfile::TempDir;

/// What every test here starts from: a one-host testbed, an SSH connection
/// and an SFTP session to it, and a local scratch directory (dropped in the
/// reverse order, the scratch directory first).
async fn session() -> (Testbed, Handle<TestHandler>, SftpSession, TempDir) {
    let bed = Testbed::start(1).expect("testbed");
    let handle = connect(&bed).await;
    let sftp = open_sftp(&handle).await.expect("sftp opens");
    let local = tempfile::tempdir().unwrap();
    (bed, handle, sftp, local)
}

/// `push` with the default options, which must succeed (a failure names the destination).
async fn push_ok(sftp: &SftpSession, sources: &[PathBuf], dest: &str) {
    push(sftp, sources, dest, &TransferOptions::default())
        .await
        .unwrap_or_else(|e| panic!("push to {dest}: {e}"));
}

/// `pull` with the default options, which must succeed (a failure names the destination).
async fn pull_ok(sftp: &SftpSession, sources: &[String], dest: &Path) {
    pull(sftp, sources, dest, &TransferOptions::default())
        .await
        .unwrap_or_else(|e| panic!("pull into {}: {e}", dest.display()));
}

const ODD_NAME: &str = "spaced name é ü 日本.txt";

/// A tree with nested and empty directories, a 5 MiB random file, an odd
/// name, an executable, a private file and a symbolic link.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("nested/deeper/deepest")).unwrap();
    std::fs::create_dir(root.join("empty")).unwrap();
    std::fs::set_permissions(root.join("empty"), std::fs::Permissions::from_mode(0o750)).unwrap();
    write_file(&root.join("a.txt"), b"alpha\n", 0o644);
    write_file(&root.join("run.sh"), b"#!/bin/sh\necho ran\n", 0o755);
    write_file(&root.join(ODD_NAME), "ünïcode\n".as_bytes(), 0o644);
    write_file(
        &root.join("big.bin"),
        &crate::sftp_support::random_bytes(5 * 1024 * 1024, 1),
        0o640,
    );
    write_file(
        &root.join("nested/deeper/deepest/file.bin"),
        &crate::sftp_support::random_bytes(1000, 2),
        0o600,
    );
    write_file(&root.join("nested/zero"), b"", 0o644);
    std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn push_then_pull_round_trips_a_tree_with_checksums_and_modes() {
    let (bed, handle, sftp, local) = session().await;
    let src = local.path().join("src");
    make_tree(&src);
    let expected = tree(&src);
    assert_eq!(expected.len(), 11, "fixture tree: {expected:#?}");

    let remote = remote_area(&bed, "round-trip");
    let opts = TransferOptions::default();
    let pushed = push(&sftp, std::slice::from_ref(&src), &remote, &opts)
        .await
        .expect("push");
    assert_eq!(
        remote_tree(&handle, &remote).await,
        expected,
        "remote copy differs"
    );
    assert_eq!((pushed.files, pushed.dirs, pushed.symlinks), (6, 5, 1));
    assert_eq!(
        pushed.bytes,
        5 * 1024 * 1024 + 1000 + 6 + 19 + "ünïcode\n".len() as u64
    );
    assert!(pushed.skipped.is_empty());

    let back = local.path().join("back");
    let pulled = pull(&sftp, std::slice::from_ref(&remote), &back, &opts)
        .await
        .expect("pull");
    assert_eq!(tree(&back), expected, "pulled copy differs");
    assert_eq!(pulled, pushed);
    // The top directories themselves keep their mode too.
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&back), mode(&src));
}

#[tokio::test(flavor = "multi_thread")]
async fn destinations_follow_scp_rules() {
    let (bed, handle, sftp, local) = session().await;
    let file = local.path().join("f.txt");
    write_file(&file, b"content\n", 0o644);
    let dir = local.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    write_file(&dir.join("inner"), b"inner\n", 0o644);
    let opts = TransferOptions::default();
    let base = remote_area(&bed, "dests");
    let out = exec(&handle, &format!("mkdir -p {}", shell_quote(&base))).await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);

    // Existing directory: copied into it under the source's name.
    push_ok(&sftp, std::slice::from_ref(&file), &base).await;
    push_ok(&sftp, std::slice::from_ref(&dir), &base).await;
    // Missing destination, single source: the new name, parents created.
    push_ok(
        &sftp,
        std::slice::from_ref(&file),
        &format!("{base}/new/parents/g.txt"),
    )
    .await;
    push_ok(
        &sftp,
        std::slice::from_ref(&dir),
        &format!("{base}/renamed"),
    )
    .await;
    // Missing destination ending in '/', or several sources: a new directory.
    push_ok(
        &sftp,
        std::slice::from_ref(&file),
        &format!("{base}/slash/"),
    )
    .await;
    push_ok(
        &sftp,
        &[file.clone(), dir.clone()],
        &format!("{base}/multi"),
    )
    .await;
    // Existing file, single file source: overwritten.
    write_file(&file, b"changed\n", 0o600);
    push_ok(&sftp, std::slice::from_ref(&file), &format!("{base}/f.txt")).await;

    let listing = remote_tree(&handle, &base).await;
    let names: Vec<&str> = listing.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "d",
            "d/inner",
            "f.txt",
            "multi",
            "multi/d",
            "multi/d/inner",
            "multi/f.txt",
            "new",
            "new/parents",
            "new/parents/g.txt",
            "renamed",
            "renamed/inner",
            "slash",
            "slash/f.txt",
        ]
    );
    let changed = crate::sftp_support::local_sha256(std::slice::from_ref(&file)).remove(0);
    assert_eq!(
        listing["f.txt"],
        Entry::File {
            mode: 0o600,
            sha256: changed
        }
    );

    // A directory onto an existing file, or several sources onto a file: refused.
    let err = push(
        &sftp,
        std::slice::from_ref(&dir),
        &format!("{base}/f.txt"),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SftpError::NotADirectory { side: Side::Remote, path, .. } if path.ends_with("dests/f.txt")),
        "{err}"
    );
    let err = push(
        &sftp,
        &[file.clone(), file.clone()],
        &format!("{base}/f.txt"),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SftpError::NotADirectory { .. }), "{err}");

    // Pull follows the same rules locally.
    let into = local.path().join("into");
    std::fs::create_dir(&into).unwrap();
    pull_ok(&sftp, &[format!("{base}/f.txt")], &into).await;
    pull_ok(&sftp, &[format!("{base}/f.txt")], &into.join("renamed.txt")).await;
    pull_ok(
        &sftp,
        &[format!("{base}/d"), format!("{base}/f.txt")],
        &into.join("multi"),
    )
    .await;
    let pulled: Vec<String> = tree(&into).into_keys().collect();
    assert_eq!(
        pulled,
        [
            "f.txt",
            "multi",
            "multi/d",
            "multi/d/inner",
            "multi/f.txt",
            "renamed.txt"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_sources_are_errors_naming_them() {
    let (bed, handle, sftp, local) = session().await;
    let opts = TransferOptions::default();

    let missing_remote = remote_area(&bed, "no-such-file");
    let err = pull(
        &sftp,
        std::slice::from_ref(&missing_remote),
        local.path(),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SftpError::RemoteNotFound { path, .. } if *path == missing_remote),
        "{err:?}"
    );
    assert!(err.to_string().contains(&missing_remote), "{err}");

    // One good and one missing local source: an error, and nothing copied.
    let good = local.path().join("good.txt");
    write_file(&good, b"good\n", 0o644);
    let missing_local = local.path().join("absent.txt");
    let dest = remote_area(&bed, "never-created");
    let err = push(&sftp, &[good, missing_local.clone()], &dest, &opts)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SftpError::LocalNotFound { path, .. } if *path == missing_local),
        "{err:?}"
    );
    assert!(err.to_string().contains("absent.txt"), "{err}");
    let check = exec(&handle, &format!("test -e {}", shell_quote(&dest))).await;
    assert_eq!(
        check.status,
        Some(1),
        "the destination must not have been created"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unwritable_remote_directory_is_permission_denied() {
    let (bed, handle, sftp, local) = session().await;
    let file = local.path().join("f.txt");
    write_file(&file, b"x\n", 0o644);
    let locked = remote_area(&bed, "locked");
    let out = exec(
        &handle,
        &format!("mkdir -p {0} && chmod 555 {0}", shell_quote(&locked)),
    )
    .await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);

    let err = push(&sftp, &[file], &locked, &TransferOptions::default())
        .await
        .unwrap_err();
    let expected = format!("{locked}/f.txt");
    assert!(
        matches!(&err, SftpError::PermissionDenied { side: Side::Remote, path, .. } if *path == expected),
        "{err:?}"
    );
    assert!(err.to_string().contains("permission denied"), "{err}");
    exec(&handle, &format!("chmod 755 {}", shell_quote(&locked))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn non_recursive_copy_of_a_directory_is_refused() {
    let (bed, _handle, sftp, local) = session().await;
    let opts = TransferOptions::new().recursive(false);
    let err = push(
        &sftp,
        &[local.path().to_path_buf()],
        &remote_area(&bed, "x"),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            SftpError::IsADirectory {
                side: Side::Local,
                ..
            }
        ),
        "{err:?}"
    );
    let err = pull(
        &sftp,
        &[remote_area(&bed, "")],
        &local.path().join("y"),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            SftpError::IsADirectory {
                side: Side::Remote,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preserve_keeps_modification_times_both_ways() {
    let (bed, handle, sftp, local) = session().await;
    let dir = local.path().join("old");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("f.txt");
    write_file(&file, b"old\n", 0o644);
    let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let times = std::fs::FileTimes::new()
        .set_modified(then)
        .set_accessed(then);
    std::fs::File::open(&file)
        .unwrap()
        .set_times(times)
        .unwrap();
    std::fs::File::open(&dir).unwrap().set_times(times).unwrap();

    let remote = remote_area(&bed, "preserved");
    let opts = TransferOptions::new().preserve(true);
    push(&sftp, std::slice::from_ref(&dir), &remote, &opts)
        .await
        .unwrap();
    let out = exec(
        &handle,
        &format!("stat -c %Y {0} {0}/f.txt", shell_quote(&remote)),
    )
    .await;
    assert_eq!(out.stdout, "1000000000\n1000000000\n", "{}", out.stderr);

    let back = local.path().join("back");
    pull(&sftp, std::slice::from_ref(&remote), &back, &opts)
        .await
        .unwrap();
    for path in [back.clone(), back.join("f.txt")] {
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            then,
            "{}",
            path.display()
        );
    }

    // Without preserve the copy gets a fresh time.
    push_ok(
        &sftp,
        std::slice::from_ref(&file),
        &format!("{remote}/fresh.txt"),
    )
    .await;
    let out = exec(
        &handle,
        &format!("stat -c %Y {}/fresh.txt", shell_quote(&remote)),
    )
    .await;
    assert_ne!(out.stdout, "1000000000\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn following_symlinks_copies_targets_and_detects_loops() {
    let (bed, handle, sftp, local) = session().await;
    let src = local.path().join("src");
    std::fs::create_dir(&src).unwrap();
    write_file(&src.join("a.txt"), b"alpha\n", 0o640);
    std::os::unix::fs::symlink("a.txt", src.join("link")).unwrap();
    let follow = TransferOptions::new().follow_symlinks(true);

    let remote = remote_area(&bed, "followed");
    let stats = push(&sftp, std::slice::from_ref(&src), &remote, &follow)
        .await
        .unwrap();
    assert_eq!((stats.files, stats.symlinks), (2, 0));
    let listing = remote_tree(&handle, &remote).await;
    assert_eq!(listing["link"], listing["a.txt"]);

    // A link back to an ancestor: a loop error when followed, a plain link otherwise.
    std::os::unix::fs::symlink("..", src.join("up")).unwrap();
    let err = push(
        &sftp,
        std::slice::from_ref(&src),
        &remote_area(&bed, "loop"),
        &follow,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            SftpError::SymlinkLoop {
                side: Side::Local,
                ..
            }
        ),
        "{err:?}"
    );
    let remote_loop = remote_area(&bed, "loop-links");
    push_ok(&sftp, std::slice::from_ref(&src), &remote_loop).await;
    let err = pull(
        &sftp,
        std::slice::from_ref(&remote_loop),
        &local.path().join("pulled"),
        &follow,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            SftpError::SymlinkLoop {
                side: Side::Remote,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn relative_remote_paths_are_in_the_login_home() {
    let (bed, _handle, sftp, local) = session().await;
    let file = local.path().join("f.txt");
    write_file(&file, b"home\n", 0o644);
    // The home is shared by every testbed: a name unique to this run.
    let name = format!("asyncjobs-sftp-test-{}", std::process::id());
    push_ok(&sftp, &[file], &format!("~/{name}/f.txt")).await;
    let in_home: PathBuf = bed.user_home().join(&name).join("f.txt");
    assert_eq!(std::fs::read(&in_home).unwrap(), b"home\n");
    pull_ok(
        &sftp,
        &[format!("{name}/f.txt")],
        &local.path().join("back.txt"),
    )
    .await;
    assert_eq!(
        std::fs::read(local.path().join("back.txt")).unwrap(),
        b"home\n"
    );
    remove_remote(&sftp, &name).await.unwrap();
    assert!(!bed.user_home().join(&name).exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn write_failures_mid_transfer_name_both_paths() {
    let (bed, _handle, sftp, local) = session().await;
    let file = local.path().join("data.bin");
    write_file(
        &file,
        &crate::sftp_support::random_bytes(1024 * 1024, 3),
        0o644,
    );
    let opts = TransferOptions::default();

    // /dev/full opens fine and fails every write (ENOSPC).
    let err = push(&sftp, std::slice::from_ref(&file), "/dev/full", &opts)
        .await
        .unwrap_err();
    match &err {
        SftpError::Transfer {
            side: Side::Remote,
            from,
            to,
            ..
        } => {
            assert_eq!(
                (from.as_str(), to.as_str()),
                (file.to_str().unwrap(), "/dev/full")
            );
        }
        other => panic!("expected a remote transfer error, got {other:?}"),
    }
    assert!(err.to_string().contains("/dev/full"), "{err}");

    let remote = remote_area(&bed, "data.bin");
    push_ok(&sftp, std::slice::from_ref(&file), &remote).await;
    let err = pull(
        &sftp,
        std::slice::from_ref(&remote),
        Path::new("/dev/full"),
        &opts,
    )
    .await
    .unwrap_err();
    match &err {
        SftpError::Transfer {
            side: Side::Local,
            from,
            to,
            ..
        } => {
            assert_eq!((from.as_str(), to.as_str()), (remote.as_str(), "/dev/full"));
        }
        other => panic!("expected a local transfer error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pushing_into_a_device_leaves_its_mode_alone() {
    let (_bed, handle, sftp, local) = session().await;
    let file = local.path().join("private.txt");
    write_file(&file, b"secret\n", 0o600);
    // The login user cannot chmod /dev/null: trying would fail the push.
    let stats = push(
        &sftp,
        std::slice::from_ref(&file),
        "/dev/null",
        &TransferOptions::default(),
    )
    .await
    .expect("push into /dev/null");
    assert_eq!(stats.bytes, 7);
    let mode = exec(&handle, "stat -c %a /dev/null").await;
    assert_eq!(mode.stdout, "666\n");
}
