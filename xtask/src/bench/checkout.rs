//! The checkout a benchmark measures: where the workspace is, and which
//! commit of the measured crates it ran, as BENCHMARKS.md records it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the parent of the xtask crate).
pub fn workspace_root() -> PathBuf {
    let xtask = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().map(PathBuf::from).unwrap_or(xtask)
}

/// `commit <hash> <subject>` of the last commit touching `paths`, and whether
/// they had uncommitted changes then; None outside a git checkout.
pub fn commit(root: &Path, paths: &[&str]) -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&[&["log", "-1", "--format=%h %s", "--"], paths].concat())?;
    let dirty = git(&[&["status", "--porcelain"], paths].concat())?;
    Some(if dirty.is_empty() {
        format!("commit {head}")
    } else {
        format!(
            "commit {head}, with uncommitted changes in {}",
            paths.join(" or ")
        )
    })
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::commit;

    fn git(dir: &std::path::Path, args: &[&str]) {
        let ok = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn the_commit_says_when_the_measured_paths_had_uncommitted_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("core")).unwrap();
        std::fs::write(dir.path().join("core/lib.rs"), "v1").unwrap();
        git(dir.path(), &["init", "-q"]);
        git(dir.path(), &["add", "core"]);
        git(dir.path(), &["commit", "-q", "-m", "first"]);
        let clean = commit(dir.path(), &["core", "ssh"]).unwrap();
        assert!(
            clean.starts_with("commit ") && clean.ends_with(" first"),
            "{clean}"
        );
        std::fs::write(dir.path().join("core/lib.rs"), "v2").unwrap();
        assert_eq!(
            commit(dir.path(), &["core", "ssh"]).unwrap(),
            format!("{clean}, with uncommitted changes in core or ssh")
        );
    }
}
