//! `ajssh`: run commands on many hosts over SSH, and run scenario files.
//! `ajssh --help` documents the options, target syntax and exit codes; the
//! logic lives in one module per concept, the SSH work in the library.

mod advice;
mod args;
mod color;
mod exit;
mod fanout;
mod hostjob;
mod hosts;
mod input;
mod interactive;
mod limits;
mod manual;
mod output;
mod passphrase;
mod progress;
mod scenario;
mod steps;
mod stop;
mod summary;
mod targets;
mod writer;

use std::process::ExitCode;

use args::{ScenarioCmd, Sub};

fn main() -> ExitCode {
    let cli = match args::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.error.print();
            return ExitCode::from(e.code);
        }
    };
    let result = match cli.sub {
        Some(Sub::Scenario(ScenarioCmd::Run(r))) => scenario::run(&r),
        Some(Sub::Scenario(ScenarioCmd::Dot(d))) => scenario::dot(&d),
        Some(Sub::Scenario(ScenarioCmd::Check(c))) => scenario::check(&c),
        Some(Sub::Man) => manual::man(),
        Some(Sub::Completions(c)) => manual::completions(&c),
        None if cli.print_config => fanout::print_config(&cli),
        None => fanout::run(cli),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(fail) => {
            eprintln!("ajssh: error: {}", fail.message);
            if fail.code == exit::USAGE {
                eprintln!("For more information, try '--help'.");
            }
            ExitCode::from(fail.code)
        }
    }
}
