//! Developer tasks, run as `cargo xtask <task>` (alias in `.cargo/config.toml`).
//!
//! - `cargo xtask demo`  — installs what the demo needs, then runs the end-to-end demo
//! - `cargo xtask test`  — installs what the tests need, then runs the whole test suite
//! - `cargo xtask graph [FILE.dot|FILE.toml] [--svg] [--out DIR]` — renders graphs with graphviz
//! - `cargo xtask bench scheduler|fanout` — benchmarks against the reference tools
//! - `cargo xtask package` — checks, offline, that the published crates would package
//! - `cargo xtask oracle` — records the Python reference's outputs for the core's oracle tests

mod bench;
mod graph;
mod oracle;
mod package;
mod setup;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, r)) => (t.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match task {
        "test" => setup::test(rest),
        "demo" => setup::demo(rest),
        "graph" => graph::main(rest),
        "bench" => bench::main(rest),
        "oracle" => oracle::main(rest),
        "package" => package::main(rest),
        "help" | "-h" | "--help" => {
            println!("{}", USAGE);
            Ok(())
        }
        other => Err(anyhow::anyhow!("unknown task `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <task>
tasks:
  demo                       install what is needed, run the end-to-end demo
  test                       install what is needed, run the whole test suite
  graph [FILE] [--svg] [--out DIR]
                             render .dot (or scenario .toml) files to PNG with graphviz;
                             without FILE, render the README examples into docs/img
  bench scheduler|fanout     benchmarks, side by side with the reference tools
  package                    check, offline, that the published crates would package
                             (metadata, licence files, readme, changelog, dependencies)
  oracle                     record what Python asynciojobs 0.21.3 prints for the
                             core's oracle tests (asyncjobs-core/tests/oracle/*.txt)";
