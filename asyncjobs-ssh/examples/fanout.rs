//! One command on many hosts, at most `window` at a time; a host that fails
//! (unreachable, refused, command failed) does not stop the others. Prints
//! one line per host — its output, or its error with each cause once — then
//! the listing.
//!
//! `cargo run -p asyncjobs-ssh --example fanout -- WINDOW 'COMMAND' HOST...`
//! (hosts as your ssh config names them: `$AJ_SSH_CONFIG`, else `~/.ssh/config`).

use asyncjobs_ssh::prelude::*;
use std::error::Error;

/// A node's name and its stdout, or its error chain.
pub type HostReport = (String, Result<String, String>);

/// Each node's report, in the nodes' order.
pub fn fanout(
    nodes: &[SshNode],
    command: &str,
    window: usize,
) -> Result<Vec<HostReport>, Box<dyn Error>> {
    let mut s = Scheduler::new().label("fanout").jobs_window(window);
    let jobs: Vec<_> = nodes
        .iter()
        .map(|node| {
            s.add(
                SshJob::new(node)
                    .critical(false)
                    .run(command)
                    .close_when_done(true),
            )
        })
        .collect();
    let outcome = s.run(); // non-critical jobs: a failed host is in its handle
    s.list();
    s.shutdown()?;
    outcome?;
    Ok(nodes
        .iter()
        .zip(&jobs)
        .map(|(node, job)| {
            let text = match (job.result(), job.raised_exception()) {
                (Some(out), _) => Ok(out.stdout().trim_end().to_string()),
                (None, Some(e)) => Err(ErrorChain(e.as_error()).to_string()),
                (None, None) => Err("did not run".to_string()),
            };
            (node.display_name().to_string(), text)
        })
        .collect())
}

#[allow(dead_code)] // the tests call `fanout` only
fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [window, command, hosts @ ..] = args.as_slice() else {
        return Err("usage: fanout WINDOW COMMAND HOST...".into());
    };
    let config = match std::env::var_os("AJ_SSH_CONFIG") {
        Some(path) => SshConfig::load_file(path)?,
        None => SshConfig::load_default()?,
    };
    let nodes = hosts
        .iter()
        .map(|h| config.node(h))
        .collect::<Result<Vec<_>, _>>()?;
    let mut failed = false;
    for (host, result) in fanout(&nodes, command, window.parse()?)? {
        match result {
            Ok(out) => println!("{host}: ok: {out}"),
            Err(e) => {
                failed = true;
                println!("{host}: FAILED: {e}")
            }
        }
    }
    std::process::exit(i32::from(failed))
}
