//! Through gateway `gw`, on nodes `n1`..`n5`: push a file, run a script,
//! pull the result, print the listing, render the graph — listing, graph and
//! shutdown whatever the outcome. The nodes come from an ssh config (`Host gw`,
//! `Host n1` ...): `$AJ_SSH_CONFIG`, else `~/.ssh/config`.
//!
//! `cargo run -p asyncjobs-ssh --example testbed -- LOCAL_DIR REMOTE_DIR`:
//! LOCAL_DIR holds `data.txt` and `process.sh`; each node gets the data as
//! `REMOTE_DIR/NODE.txt` (names per node, so that nodes sharing a home
//! directory do not clash), runs `process.sh REMOTE_DIR NODE`, which leaves
//! `REMOTE_DIR/NODE.out`; results and `testbed.dot` land in LOCAL_DIR.

use asyncjobs_ssh::prelude::*;
use std::{error::Error, path::Path};

/// The script itself.
pub fn testbed(config: &SshConfig, local: &Path, remote: &str) -> Result<bool, Box<dyn Error>> {
    let gw = config.node("gw")?;
    let mut s = Scheduler::new().timeout(Duration::from_secs(60));
    let (data, script) = (local.join("data.txt"), local.join("process.sh"));
    for name in ["n1", "n2", "n3", "n4", "n5"] {
        let node = config.node_builder(name)?.gateway(&gw).build();
        s.add(
            SshJob::new(&node)
                .label(name)
                .command(Push::new([&data], format!("{remote}/{name}.txt")))
                .command(RunScript::new(&script).arg(remote).arg(name))
                .command(Pull::new([format!("{remote}/{name}.out")], local)),
        );
    }
    let outcome = s.run(); // keep it: list, draw and shut down whatever it is
    s.list();
    export_as_dotfile(&s, local.join("testbed.dot"))?;
    s.shutdown()?;
    Ok(outcome?)
}

#[allow(dead_code)] // the tests call `testbed` only
fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [local, remote] = args.as_slice() else {
        return Err("usage: testbed LOCAL_DIR REMOTE_DIR".into());
    };
    let config = match std::env::var_os("AJ_SSH_CONFIG") {
        Some(path) => SshConfig::load_file(path)?,
        None => SshConfig::load_default()?,
    };
    let ok = testbed(&config, Path::new(local), remote)?;
    std::process::exit(if ok { 0 } else { 1 })
}
