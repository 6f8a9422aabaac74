//! Set-up on a fresh machine: install the system packages the tests and the
//! demo need (as root, with apt), or say exactly what to install.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// A system tool and the Debian package that provides it.
pub struct Need {
    pub binary: &'static str,
    pub package: &'static str,
}

pub const SSHD: Need = Need {
    binary: "/usr/sbin/sshd",
    package: "openssh-server",
};
pub const DOT: Need = Need {
    binary: "dot",
    package: "graphviz",
};
pub const XAUTH: Need = Need {
    binary: "xauth",
    package: "xauth",
};
/// The interop tests' other SSH servers (Dropbear, tinysshd under socat) and
/// the SFTP server Dropbear runs (paths as the test harness checks them).
pub const DROPBEAR: Need = Need {
    binary: "/usr/sbin/dropbear",
    package: "dropbear-bin",
};
pub const SFTP_SERVER: Need = Need {
    binary: "/usr/lib/sftp-server",
    package: "openssh-sftp-server",
};
pub const TINYSSHD: Need = Need {
    binary: "/usr/sbin/tinysshd",
    package: "tinysshd",
};
pub const SOCAT: Need = Need {
    binary: "/usr/bin/socat",
    package: "socat",
};

fn present(need: &Need) -> bool {
    if need.binary.starts_with('/') {
        return Path::new(need.binary).exists();
    }
    Command::new("sh")
        .args(["-c", &format!("command -v {} >/dev/null 2>&1", need.binary)])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// Makes sure every `needs` is installed: apt-get as root, else a precise message.
pub fn ensure(needs: &[Need]) -> Result<()> {
    let missing: Vec<&Need> = needs.iter().filter(|n| !present(n)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|n| n.package).collect();
    let have_apt = Path::new("/usr/bin/apt-get").exists();
    if !(is_root() && have_apt) {
        bail!(
            "missing {}: install them first, e.g. `sudo apt-get install -y {}`",
            missing
                .iter()
                .map(|n| n.binary)
                .collect::<Vec<_>>()
                .join(", "),
            packages.join(" ")
        );
    }
    eprintln!("xtask: installing {} with apt-get", packages.join(" "));
    let update = Command::new("apt-get")
        .args(["update", "-qq"])
        .status()
        .context("running apt-get update")?;
    if !update.success() {
        bail!("apt-get update failed");
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get install")?;
    if !status.success() {
        bail!("apt-get install -y {} failed", packages.join(" "));
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(mut cmd: Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// `cargo xtask test`: installs what the tests need, runs every test of the
/// workspace, then checks that the demo still does what the README says.
pub fn test(extra: &[String]) -> Result<()> {
    ensure(&[SSHD, DOT, XAUTH, DROPBEAR, SFTP_SERVER, TINYSSHD, SOCAT])?;
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--all-targets"])
        .args(extra);
    run(cmd)?;
    let mut doc = cargo();
    doc.args(["test", "--workspace", "--doc"]);
    run(doc)?;
    demo_smoke_test()
}

/// The README's first command must keep working: run the demo, quietly, and
/// check what it promises (every job fine, every connection closed).
fn demo_smoke_test() -> Result<()> {
    let out = cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "asyncjobs-tests",
            "--example",
            "demo",
        ])
        .env("ASYNCJOBS_SYMBOLS", "ascii")
        .output()
        .context("running the demo")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = [
        "run() -> Ok(true)",
        "localnode:all 5 checksums agree",
        "after shutdown():                0",
        "=== Nesting: a critical diamond inside a sequence",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|e| !stdout.contains(e))
        .collect();
    if !out.status.success() || !missing.is_empty() {
        bail!(
            "the demo (`cargo xtask demo`) failed ({}), missing {missing:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!("demo: ok (every SSH job fine, every connection closed, README examples replayed)");
    Ok(())
}

/// `cargo xtask demo`: installs what the demo needs, then runs it.
pub fn demo(extra: &[String]) -> Result<()> {
    ensure(&[SSHD])?;
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "-p",
        "asyncjobs-tests",
        "--example",
        "demo",
        "--",
    ])
    .args(extra);
    run(cmd)
}
