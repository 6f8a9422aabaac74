//! A local and remote pipeline: this machine packs a directory, every node
//! gets the archive, unpacks it in its own directory and reports the version
//! it now has; the script checks that every node has the local version.
//!
//! `cargo run -p asyncjobs-ssh --example pipeline -- SOURCE_DIR REMOTE_DIR HOST...`
//! (SOURCE_DIR holds a `VERSION` file).

use asyncjobs_ssh::prelude::*;
use std::{error::Error, path::Path};

/// Deploys `source` to `REMOTE/<i>` on each node; true when every node reports
/// the local `VERSION`.
pub fn pipeline(nodes: &[SshNode], source: &Path, remote: &str) -> Result<bool, Box<dyn Error>> {
    let archive = std::env::temp_dir().join(format!("pipeline-{}.tgz", std::process::id()));
    let mut s = Scheduler::new()
        .label("pipeline")
        .timeout(Duration::from_secs(120));
    let pack = s.add(
        SshJob::new(LocalNode::new()).label("pack").command(
            Run::new("tar czf")
                .arg(archive.display().to_string())
                .arg("-C")
                .arg(source.display().to_string())
                .arg("."),
        ),
    );
    let deployed: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let dir = format!("{remote}/{i}");
            s.add(
                SshJob::new(node)
                    .label(format!("deploy {}", node.display_name()))
                    .requires(&pack)
                    .command(Run::new("mkdir -p").arg(&dir))
                    .command(Push::new([&archive], format!("{dir}/payload.tgz")))
                    .command(
                        Run::new(format!(
                            "cd {} && tar xzf payload.tgz && cat VERSION",
                            shell_quote(&dir)
                        ))
                        .with_label("unpack"),
                    ),
            )
        })
        .collect();
    let outcome = s.run();
    s.list();
    s.shutdown()?;
    let _ = std::fs::remove_file(&archive);
    outcome?;
    let version = std::fs::read_to_string(source.join("VERSION"))?;
    Ok(deployed
        .iter()
        .all(|h| h.result().is_some_and(|o| o.stdout() == version)))
}

#[allow(dead_code)] // the tests call `pipeline` only
fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [source, remote, hosts @ ..] = args.as_slice() else {
        return Err("usage: pipeline SOURCE_DIR REMOTE_DIR HOST...".into());
    };
    let config = match std::env::var_os("AJ_SSH_CONFIG") {
        Some(path) => SshConfig::load_file(path)?,
        None => SshConfig::load_default()?,
    };
    let nodes = hosts
        .iter()
        .map(|h| config.node(h))
        .collect::<Result<Vec<_>, _>>()?;
    let ok = pipeline(&nodes, Path::new(source), remote)?;
    println!(
        "{}",
        if ok {
            "every node has the new version"
        } else {
            "some node did not"
        }
    );
    std::process::exit(i32::from(!ok))
}
