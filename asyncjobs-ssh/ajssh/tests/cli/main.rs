//! Integration tests of the `ajssh` command, one test binary (ripgrep's
//! `tests/tests.rs` shape): one module per area, sharing the helpers of
//! [`support`] and the loopback sshd testbed of `asyncjobs-tests`.
#![allow(dead_code)]

mod support;

mod bounded_outputs;
mod config_oracle;
mod exit_codes;
mod fanout;
mod habits;
mod host_named_paths;
mod hostile;
mod interactive;
mod interop;
mod kex;
mod keys_and_agent;
mod scenario;
mod scenario_examples;
mod send_input;
mod signals_and_pipes;
mod ssh_config;
mod terminal;
