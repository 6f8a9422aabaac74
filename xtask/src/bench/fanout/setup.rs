//! Everything the benchmark runs, made ready: system packages (pdsh, GNU time,
//! OpenSSH), the release-built `ajssh`, a venv with apssh (and its asyncssh),
//! parallel-ssh and ClusterShell from PyPI under the target directory, and
//! `bssh` when asked (`cargo install` into `target/bench-bssh`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::tools::{Kit, BSSH_VERSION};
use crate::bench::capped::{self, Capped};
use crate::bench::pip::{self, PIP_CAP};
use crate::setup::{ensure, Need, SSHD};

const PACKAGES: [Need; 4] = [
    SSHD,
    Need {
        binary: "/usr/bin/ssh",
        package: "openssh-client",
    },
    Need {
        binary: "/usr/bin/pdsh",
        package: "pdsh",
    },
    Need {
        binary: "/usr/bin/time",
        package: "time",
    },
];
/// The versions measured (pinned so that a re-run measures the same code).
const PIP: [&str; 3] = [
    "apssh==0.27.0",
    "parallel-ssh==2.16.0.post1",
    "ClusterShell==1.10.1",
];
const BUILD_CAP: Duration = Duration::from_secs(1800);

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// stdout and stderr of a command, trimmed, whatever its exit status (`pdsh -V`
/// prints to stderr and exits 1).
fn any_output(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(o) => format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string(),
        Err(e) => format!("unknown (`{program}`: {e})"),
    }
}

/// `cargo build --release -p ajssh --bin ajssh`; the executable.
pub(crate) fn build_ajssh(root: &Path) -> Result<PathBuf> {
    eprintln!("building ajssh (release)...");
    let mut cmd = cargo();
    cmd.current_dir(root)
        .args(["build", "--release", "-p", "ajssh", "--bin", "ajssh"])
        .args(["--message-format", "json-render-diagnostics"]);
    let out = match capped::run(cmd, BUILD_CAP).context("cargo build of ajssh")? {
        Capped::Done(out) => out,
        Capped::TimedOut => bail!("cargo build of ajssh took over {BUILD_CAP:?}: killed"),
    };
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["target"]["name"] == "ajssh")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo build did not report the ajssh executable")
}

fn python_packages(python: &Path) -> String {
    let script = "import importlib.metadata as m, sys; \
        print(sys.version.split()[0], *(m.version(p) for p in \
        ('apssh', 'asyncssh', 'parallel-ssh', 'ssh2-python', 'ClusterShell')))";
    Command::new(python)
        .args(["-c", script])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Makes `<target>/bench-venv-fanout` (once) with the pinned packages.
fn venv(target_dir: &Path) -> Result<(PathBuf, String)> {
    let venv = target_dir.join("bench-venv-fanout");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!("creating {} (python3 -m venv)...", venv.display());
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "venv"]).arg(&venv);
        capped::run(cmd, PIP_CAP)
            .context("the Python peers need python3 with the venv module (Debian: python3-venv)")?;
    }
    let wanted = |v: &str| {
        let words: Vec<&str> = v.split_whitespace().collect();
        words.len() == 6
            && words[1] == "0.27.0"
            && words[3] == "2.16.0.post1"
            && words[5] == "1.10.1"
    };
    if !wanted(&python_packages(&python)) {
        pip::install(&venv, &python, &PIP, "pip install of the Python peers")?;
    }
    let v = python_packages(&python);
    let w: Vec<&str> = v.split_whitespace().collect();
    let [py, apssh, asyncssh, pssh, ssh2, clustershell] = w[..] else {
        bail!(
            "cannot read the versions of the Python peers in {}: {v:?}",
            venv.display()
        );
    };
    Ok((
        python,
        format!(
            "Python {py}; apssh {apssh} (asyncssh {asyncssh}, also driven directly); parallel-ssh {pssh} (ssh2-python {ssh2}); ClusterShell {clustershell} (`clush`); from PyPI in `target/bench-venv-fanout`"
        ),
    ))
}

/// `target/bench-bssh/bin/bssh`: built with `cargo install` when `build` (capped
/// like the ajssh build), else used only if an earlier build left it.
fn bssh(target_dir: &Path, build: bool) -> Result<Result<PathBuf, String>> {
    let root = target_dir.join("bench-bssh");
    let exe = root.join("bin").join("bssh");
    let built = || {
        Command::new(&exe)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(BSSH_VERSION))
            .unwrap_or(false)
    };
    if built() {
        return Ok(Ok(exe));
    }
    if !build {
        return Ok(Err(format!(
            "bssh {BSSH_VERSION} not built: skipped (`--with-bssh` builds it with cargo install, several minutes)"
        )));
    }
    eprintln!(
        "building bssh {BSSH_VERSION} (cargo install --root {})...",
        root.display()
    );
    let mut cmd = cargo();
    cmd.args([
        "install",
        "bssh",
        "--locked",
        "--version",
        BSSH_VERSION,
        "--root",
    ])
    .arg(&root);
    match capped::run(cmd, BUILD_CAP).context("cargo install bssh")? {
        Capped::Done(_) if built() => Ok(Ok(exe)),
        Capped::Done(_) => bail!("cargo install bssh did not leave {}", exe.display()),
        Capped::TimedOut => bail!("cargo install bssh took over {BUILD_CAP:?}: killed"),
    }
}

/// The tools, ready to run, and what they are (versions); `with_bssh`: build
/// bssh if it is not there.
pub fn prepare(root: &Path, with_bssh: bool) -> Result<(Kit, Vec<(&'static str, String)>)> {
    ensure(&PACKAGES)?;
    let ajssh = build_ajssh(root)?;
    let target_dir = ajssh
        .parent()
        .and_then(Path::parent)
        .context("ajssh is not in <target>/release")?
        .to_path_buf();
    let (python, python_versions) = venv(&target_dir)?;
    let bench = root.join("xtask").join("bench");
    let clush = python.with_file_name("clush");
    let kit = Kit {
        ajssh,
        python,
        apssh_driver: bench.join("fanout_apssh.py"),
        pssh_driver: bench.join("fanout_pssh.py"),
        asyncssh_driver: bench.join("fanout_asyncssh.py"),
        clush,
        bssh: bssh(&target_dir, with_bssh)?,
    };
    for script in [
        &kit.apssh_driver,
        &kit.pssh_driver,
        &kit.asyncssh_driver,
        &kit.clush,
    ] {
        if !script.exists() {
            bail!("missing {}", script.display());
        }
    }
    let versions = vec![
        ("ajssh", ajssh_version(root, &kit.ajssh)),
        ("Python peers", python_versions),
        ("pdsh", any_output("pdsh", &["-V"])),
        (
            "OpenSSH (client of pdsh and xargs; the servers)",
            any_output("ssh", &["-V"]),
        ),
        ("xargs", any_output("xargs", &["--version"])),
        (
            "bssh",
            match &kit.bssh {
                Ok(exe) => format!(
                    "{} (crates.io, `cargo install` into `target/bench-bssh`)",
                    any_output(&exe.to_string_lossy(), &["--version"])
                ),
                Err(why) => why.clone(),
            },
        ),
    ];
    Ok((kit, versions))
}

/// `ajssh --version`, the commit of asyncjobs-ssh, and whether it had uncommitted changes.
fn ajssh_version(root: &Path, exe: &Path) -> String {
    let version = Command::new(exe)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let commit = crate::bench::checkout::commit(root, &["asyncjobs-ssh", "asyncjobs-core"])
        .unwrap_or_else(|| "unknown commit (not a git checkout)".into());
    format!("{version}, release build; {commit}")
}
