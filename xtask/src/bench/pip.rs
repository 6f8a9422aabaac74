//! Installing the Python peers and references from PyPI into their venvs
//! (under the target directory), pinned and capped in time, the same way for
//! every benchmark.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::capped::{self, Capped};

/// Wall-clock cap of `pip install` (and of making a venv).
pub const PIP_CAP: Duration = Duration::from_secs(600);

/// `pip install specs...` with the venv's `python` (at most [`PIP_CAP`]);
/// `what` names the install in its errors.
pub fn install(venv: &Path, python: &Path, specs: &[&str], what: &str) -> Result<()> {
    let shown = specs.join(" ");
    eprintln!("installing {shown} from PyPI into {}...", venv.display());
    let mut pip = Command::new(python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .args(specs);
    match capped::run(pip, PIP_CAP).with_context(|| what.to_string())? {
        Capped::Done(_) => Ok(()),
        Capped::TimedOut => bail!("pip install {shown} took over {PIP_CAP:?}: killed"),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::install;

    /// A stand-in for the venv's python: records its arguments, then runs `tail`.
    fn fake_python(dir: &std::path::Path, tail: &str) -> std::path::PathBuf {
        let path = dir.join("python");
        let script = format!(
            "#!/bin/sh\necho \"$@\" > '{}'\n{tail}\n",
            dir.join("args").display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn pinned_specs_are_installed_quietly_and_a_failure_names_the_install() {
        let dir = tempfile::tempdir().unwrap();
        let python = fake_python(dir.path(), "exit 0");
        install(
            dir.path(),
            &python,
            &["a==1", "b==2.0"],
            "pip install of a and b",
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("args")).unwrap(),
            "-m pip install --quiet --disable-pip-version-check a==1 b==2.0\n"
        );
        let python = fake_python(dir.path(), "echo 'no such version' >&2; exit 1");
        let err = install(dir.path(), &python, &["a==9"], "pip install of a").unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.starts_with("pip install of a: ") && text.contains("no such version"),
            "{text}"
        );
    }
}
