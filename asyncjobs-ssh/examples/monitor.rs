//! A forever job watches a node (its load, every second) while the real work
//! runs on it; the monitor is stopped on the host when the work is done, and
//! the whole run is bounded by a timeout. Listing and shutdown whatever the
//! outcome.
//!
//! `cargo run -p asyncjobs-ssh --example monitor -- HOST 'WORK COMMAND' TIMEOUT_SECS`

use asyncjobs_ssh::prelude::*;
use std::error::Error;

/// Runs `work` on `node` under a monitor; the work's output.
pub fn monitor(node: &SshNode, work: &str, timeout: Duration) -> Result<SshOutput, Box<dyn Error>> {
    let mut s = Scheduler::new().label("monitor").timeout(timeout);
    s.add(
        SshJob::new(node)
            .label("load")
            .forever(true)
            .run("while :; do cat /proc/loadavg; sleep 1; done"),
    );
    let work = s.add(SshJob::new(node).label("work").run(work));
    let outcome = s.run();
    s.list();
    s.shutdown()?;
    outcome?; // a timeout or a failed work is an error, after the listing
    Ok(work.result().cloned().ok_or("the work has no result")?)
}

#[allow(dead_code)] // the tests call `monitor` only
fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, work, secs] = args.as_slice() else {
        return Err("usage: monitor HOST 'WORK COMMAND' TIMEOUT_SECS".into());
    };
    let config = match std::env::var_os("AJ_SSH_CONFIG") {
        Some(path) => SshConfig::load_file(path)?,
        None => SshConfig::load_default()?,
    };
    let out = monitor(
        &config.node(host)?,
        work,
        Duration::from_secs(secs.parse()?),
    )?;
    println!("work done in {:.1}s", out.duration.as_secs_f64());
    Ok(())
}
