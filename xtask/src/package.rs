//! `cargo xtask package`: checks, without network, that the published crates
//! would package — the metadata crates.io wants, the licence files, the
//! readme and the changelog in each package, versions on the dependencies
//! between our crates, and no dev-dependency on an unpublished crate that
//! packaging would keep.
//!
//! `cargo package --no-verify --offline` itself cannot be the check: it
//! resolves the packaged manifests against the crates.io index, which a fresh
//! machine has not cached for `russh` (the build uses the patched copy in
//! `asyncjobs-ssh/patches/russh`). With the network, `cargo publish --dry-run
//! -p asyncjobs-core -p asyncjobs-graph -p asyncjobs-ssh -p ajssh` is the
//! full check (it builds them against crates.io's russh).

use std::collections::BTreeSet;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The crates published to crates.io.
pub const PUBLISHED: [&str; 4] = [
    "asyncjobs-core",
    "asyncjobs-graph",
    "asyncjobs-ssh",
    "ajssh",
];

/// Files every package must hold.
const FILES: [&str; 4] = ["LICENSE-MIT", "LICENSE-APACHE", "README.md", "CHANGELOG.md"];

/// Fields every published manifest must set.
const FIELDS: [&str; 7] = [
    "description",
    "license",
    "repository",
    "documentation",
    "readme",
    "keywords",
    "categories",
];

pub fn main(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask package (no arguments)");
    }
    let start = std::time::Instant::now();
    let problems = check()?;
    if !problems.is_empty() {
        bail!("the crates would not package:\n  {}", problems.join("\n  "));
    }
    println!(
        "package check: {} crates ok in {:.1}s ({})",
        PUBLISHED.len(),
        start.elapsed().as_secs_f64(),
        PUBLISHED.join(", ")
    );
    Ok(())
}

fn cargo(args: &[&str]) -> Result<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !out.status.success() {
        bail!(
            "`cargo {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every problem found, one line each.
fn check() -> Result<Vec<String>> {
    let metadata: Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--offline",
        "--no-deps",
        "--format-version",
        "1",
    ])?)
    .context("cargo metadata printed no JSON")?;
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?;
    let unpublished: BTreeSet<&str> = packages
        .iter()
        .filter(|p| p["publish"].as_array().is_some_and(Vec::is_empty))
        .filter_map(|p| p["name"].as_str())
        .collect();
    let mut problems = Vec::new();
    for name in PUBLISHED {
        let Some(p) = packages.iter().find(|p| p["name"] == name) else {
            problems.push(format!("{name}: not in the workspace"));
            continue;
        };
        if unpublished.contains(name) {
            problems.push(format!("{name}: publish = false"));
        }
        for field in FIELDS {
            let v = &p[field];
            let empty = v.is_null()
                || v.as_str().is_some_and(str::is_empty)
                || v.as_array().is_some_and(Vec::is_empty);
            if empty {
                problems.push(format!("{name}: no `{field}`"));
            }
        }
        if p["keywords"].as_array().is_some_and(|k| k.len() > 5) {
            problems.push(format!("{name}: more than 5 keywords"));
        }
        for dep in p["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or("?");
            if dep["path"].is_null() {
                continue;
            }
            let dev = dep["kind"] == "dev";
            let versioned = dep["req"].as_str().is_some_and(|r| r != "*");
            if !dev && !versioned {
                problems.push(format!(
                    "{name}: dependency {dep_name} has a path but no version"
                ));
            }
            if !dev && unpublished.contains(dep_name) {
                problems.push(format!("{name}: depends on unpublished {dep_name}"));
            }
            if dev && versioned && unpublished.contains(dep_name) {
                problems.push(format!(
                    "{name}: dev-dependency {dep_name} is unpublished but has a version \
                     (packaging keeps it; give it a path only)"
                ));
            }
        }
        let files = cargo(&[
            "package",
            "--list",
            "--offline",
            "--allow-dirty",
            "-p",
            name,
        ])?;
        let files: BTreeSet<&str> = files.lines().collect();
        for f in FILES {
            if !files.contains(f) {
                problems.push(format!("{name}: the package lacks {f}"));
            }
        }
    }
    Ok(problems)
}
