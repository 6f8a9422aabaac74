//! First half of the demo: a DAG of SSH jobs over private loopback sshds.

use std::path::Path;
use std::time::Duration;

use asyncjobs_core::{Job, ListOptions, Scheduler};
use asyncjobs_ssh::{LocalNode, Pull, Push, Run, RunScript, SshJob, SshNode};
use asyncjobs_tests::{Host, Testbed};

/// Reads the payload it was given, writes and prints its checksum.
const CHECKSUM_SH: &str = r#"#!/bin/sh
# usage: checksum.sh NAME -- runs in ~/demo/NAME, next to the pushed payload
cd "$HOME/demo/$1" || exit 1
sum=$(cksum < payload/numbers.txt)
echo "$sum" > result.txt
echo "$(wc -l < payload/numbers.txt) lines, cksum $sum"
"#;

fn node(tb: &Testbed, host: &Host, name: &str, gateway: Option<&SshNode>) -> SshNode {
    let mut b = SshNode::builder(host.ip.clone())
        .port(host.port)
        .user(tb.user())
        .identity(tb.identity())
        .known_hosts_file(tb.known_hosts())
        .display_name(name)
        .connect_timeout(Duration::from_secs(10));
    if let Some(gw) = gateway {
        b = b.gateway(gw);
    }
    b.build()
}

pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    println!("=== SSH: starting 6 private OpenSSH servers on loopback addresses");
    let tb = Testbed::start(6)?;
    for (i, h) in tb.hosts().iter().enumerate() {
        println!(
            "    {} = {}",
            if i == 0 {
                "gateway".to_string()
            } else {
                format!("node{i}")
            },
            h.address()
        );
    }
    let work = tb.dir().join("demo");
    let (payload, results) = (work.join("payload"), work.join("results"));
    std::fs::create_dir_all(&results)?;
    let script = work.join("checksum.sh");
    std::fs::write(&script, CHECKSUM_SH)?;

    // node4 and node5 are reached through the gateway (direct-tcpip, as `ssh -J`)
    let gateway = node(&tb, &tb.hosts()[0], "gateway", None);
    let nodes: Vec<SshNode> = (1..=5)
        .map(|i| {
            node(
                &tb,
                &tb.hosts()[i],
                &format!("node{i}"),
                (i >= 4).then_some(&gateway),
            )
        })
        .collect();
    let local = LocalNode::new();

    let mut s = Scheduler::new()
        .label("demo")
        .timeout(Duration::from_secs(60));
    let prepare = s.add(
        SshJob::new(&local)
            .command(Run::new(format!(
                "mkdir -p {0} && seq 1 10000 > {0}/numbers.txt",
                shell(&payload)
            )))
            .label("prepare payload"),
    );
    let mut pulls = Vec::new();
    for n in &nodes {
        let name = n.display_name().to_string();
        let remote = format!("demo/{name}");
        let push = s.add(
            SshJob::new(n)
                .command(Run::new("mkdir -p").arg(&remote))
                .command(Push::new([&payload], format!("{remote}/payload")))
                .label(format!("push to {name}"))
                .requires(&prepare),
        );
        let sum = s.add(
            SshJob::new(n)
                .command(RunScript::new(&script).arg(&name))
                .label(format!("checksum on {name}"))
                .requires(&push),
        );
        pulls.push(
            s.add(
                SshJob::new(n)
                    .command(Pull::new(
                        [format!("{remote}/result.txt")],
                        results.join(&name),
                    ))
                    .label(format!("pull from {name}"))
                    .requires(&sum),
            ),
        );
    }
    let compare = s.add(
        SshJob::new(&local)
            .command(Run::new(format!(
                "test $(cat {}/* | sort -u | wc -l) = 1 && echo all 5 checksums agree",
                shell(&results)
            )))
            .label("compare checksums")
            .requires(pulls.clone()),
    );
    s.add(Job::ok(async {}).label("done").requires(&compare));

    println!("\n=== SSH: the plan\n{}", s.dry_run()?);
    println!("=== SSH: running it (output lines are prefixed with their host)");
    let ok = s.co_run().await;
    println!("\nrun() -> {ok:?}");
    print!("{}", s.listing(&ListOptions::default())?);
    println!(
        "connections open on the servers: {}",
        tb.established_connections()
    );
    s.co_shutdown().await;
    // the servers see the TCP close a moment after the client sends it
    for _ in 0..50 {
        if tb.established_connections() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "after shutdown():                {}",
        tb.established_connections()
    );
    ok?;
    Ok(())
}

fn shell(p: &Path) -> String {
    asyncjobs_ssh::shell_quote(&p.to_string_lossy())
}
