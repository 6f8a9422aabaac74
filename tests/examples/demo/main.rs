//! The end-to-end demo behind the README's first command (`cargo xtask demo`).
//!
//! It needs no remote host: it starts private OpenSSH servers on loopback
//! addresses (the test harness), then runs a DAG of SSH jobs across them —
//! a push, a script, a jump host, a pull — prints the listing, closes every
//! connection, and finally replays the asynciojobs README examples.
//! `cargo xtask demo -- --ssh-only` / `--core-only` run one half.

mod readme;
mod ssh;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (ssh, core) = match args.first().map(String::as_str) {
        Some("--ssh-only") => (true, false),
        Some("--core-only") => (false, true),
        None => (true, true),
        Some(other) => {
            eprintln!("demo: unknown option `{other}` (use --ssh-only or --core-only)");
            return std::process::ExitCode::from(2);
        }
    };
    if ssh {
        if let Err(e) = ssh::demo().await {
            eprintln!("demo: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    if core {
        readme::demo().await;
    }
    std::process::ExitCode::SUCCESS
}
