//! Script installation, clean-up and session errors against a real sshd.

use crate::sftp_support::{connect, exec, remote_area, shell_quote, write_file};
use asyncjobs_ssh::sftp::{
    open_sftp, remove_remote, upload_script, ScriptSource, SftpError, REMOTE_SCRIPT_DIR,
};
use asyncjobs_tests::{Testbed, TestbedConfig};

/// A script that sources its include from its own directory.
const SCRIPT: &str = "#!/bin/sh\n. \"$(dirname \"$0\")/greeting.sh\"\necho \"$GREETING $1 $2\"\n";

/// A name hint unique to this process (the remote home is shared).
fn unique(stem: &str) -> String {
    format!("{stem}-{}", std::process::id())
}

fn assert_script_path(path: &str, base: &str) {
    let prefix = format!("{REMOTE_SCRIPT_DIR}/{base}-");
    let suffix = path
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{path} lacks {prefix}"));
    assert!(
        suffix.len() == 8 && suffix.chars().all(|c| c.is_ascii_lowercase()),
        "{path}: suffix must be 8 lowercase letters"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_uploads_get_distinct_executable_scripts_with_includes() {
    let bed = Testbed::start(1).expect("testbed");
    let handle = connect(&bed).await;
    let sftp = open_sftp(&handle).await.expect("sftp opens");
    let local = tempfile::tempdir().unwrap();
    let include = local.path().join("greeting.sh");
    write_file(&include, b"GREETING=hello\n", 0o644);
    let includes = [include];
    let hint = unique("greet.sh");
    let body = ScriptSource::Text(SCRIPT.to_owned());

    let (first, second) = tokio::join!(
        upload_script(&sftp, &hint, &body, &includes),
        upload_script(&sftp, &hint, &body, &includes),
    );
    let (first, second) = (first.expect("first upload"), second.expect("second upload"));
    assert_ne!(first, second);
    for path in [&first, &second] {
        assert_script_path(path, &hint);
        let mode = exec(&handle, &format!("stat -c %a {}", shell_quote(path))).await;
        assert_eq!(mode.stdout, "755\n", "{}", mode.stderr);
    }
    let include_mode = exec(
        &handle,
        &format!("stat -c %a {REMOTE_SCRIPT_DIR}/greeting.sh"),
    )
    .await;
    assert_eq!(include_mode.stdout, "644\n", "{}", include_mode.stderr);

    // Both run at once, from the home directory, with their own arguments.
    let (cmd_a, cmd_b) = (
        format!("{first} one two"),
        format!("{second} three 'four five'"),
    );
    let (a, b) = tokio::join!(exec(&handle, &cmd_a), exec(&handle, &cmd_b));
    assert_eq!(
        (a.status, a.stdout.as_str()),
        (Some(0), "hello one two\n"),
        "{}",
        a.stderr
    );
    assert_eq!(
        (b.status, b.stdout.as_str()),
        (Some(0), "hello three four five\n"),
        "{}",
        b.stderr
    );

    for path in [&first, &second] {
        remove_remote(&sftp, path).await.expect("clean-up");
        let gone = exec(&handle, &format!("test -e {}", shell_quote(path))).await;
        assert_eq!(gone.status, Some(1), "{path} still exists");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_script_file_is_installed_under_its_own_name() {
    let bed = Testbed::start(1).expect("testbed");
    let handle = connect(&bed).await;
    let sftp = open_sftp(&handle).await.expect("sftp opens");
    let local = tempfile::tempdir().unwrap();
    let name = unique("local script");
    let script = local.path().join(&name);
    // Mode 0600 locally: the installed copy is executable anyway.
    write_file(&script, b"#!/bin/sh\necho \"args: $*\"\n", 0o600);

    let remote = upload_script(&sftp, "", &ScriptSource::File(script), &[])
        .await
        .unwrap();
    assert_script_path(&remote, &name.replace(' ', "_"));
    let out = exec(&handle, &format!("{remote} x y")).await;
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (Some(0), "args: x y\n"),
        "{}",
        out.stderr
    );
    remove_remote(&sftp, &remote).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_include_is_an_error_and_nothing_is_installed() {
    let bed = Testbed::start(1).expect("testbed");
    let handle = connect(&bed).await;
    let sftp = open_sftp(&handle).await.expect("sftp opens");
    let local = tempfile::tempdir().unwrap();
    let missing = local.path().join("not-there.sh");
    let hint = unique("needs-include.sh");

    let body = ScriptSource::Text(SCRIPT.to_owned());
    let err = upload_script(&sftp, &hint, &body, std::slice::from_ref(&missing))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SftpError::MissingInclude { path, .. } if *path == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("not-there.sh"), "{err}");
    let left = exec(
        &handle,
        &format!(
            "ls -a {REMOTE_SCRIPT_DIR} 2>/dev/null | grep -c -F {}",
            shell_quote(&hint)
        ),
    )
    .await;
    assert_eq!(
        left.stdout.trim(),
        "0",
        "a script was installed despite the error"
    );

    let err = upload_script(&sftp, &hint, &ScriptSource::File(missing.clone()), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SftpError::LocalNotFound { path, .. } if *path == missing),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_remote_deletes_files_and_trees_and_reports_missing_paths() {
    let bed = Testbed::start(1).expect("testbed");
    let handle = connect(&bed).await;
    let sftp = open_sftp(&handle).await.expect("sftp opens");
    let root = remote_area(&bed, "doomed");
    let made = exec(
        &handle,
        &format!("mkdir -p {0}/a/b {0}/empty && echo x > {0}/a/b/f && ln -s /etc {0}/a/etc && echo y > {0}/g", shell_quote(&root)),
    )
    .await;
    assert_eq!(made.status, Some(0), "{}", made.stderr);

    remove_remote(&sftp, &format!("{root}/g"))
        .await
        .expect("remove a file");
    remove_remote(&sftp, &root).await.expect("remove a tree");
    let gone = exec(
        &handle,
        &format!("test -e {} || test -L {0}", shell_quote(&root)),
    )
    .await;
    assert_eq!(gone.status, Some(1), "{root} still exists");
    // The link was removed, not followed.
    let etc = exec(&handle, "test -d /etc").await;
    assert_eq!(etc.status, Some(0));

    let err = remove_remote(&sftp, &root).await.unwrap_err();
    assert!(
        matches!(&err, SftpError::RemoteNotFound { path, .. } if *path == root),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_a_working_sftp_subsystem_is_reported() {
    let bed = Testbed::start_with(TestbedConfig {
        extra_sshd_config: vec!["Subsystem sftp /bin/false".to_owned()],
        ..TestbedConfig::default()
    })
    .expect("testbed");
    let handle = connect(&bed).await;
    let err = open_sftp(&handle).await.err().expect("sftp must not open");
    assert!(
        matches!(err, SftpError::SubsystemUnavailable { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("SFTP subsystem unavailable"),
        "{err}"
    );
}
