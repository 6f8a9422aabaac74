//! Integration tests of asyncjobs-ssh against real OpenSSH servers on loopback
//! (the `asyncjobs-tests` harness), in one test binary (ripgrep's
//! `tests/tests.rs` shape): one module per behaviour area, sharing
//! [`support`] and [`sftp_support`]. Tests that change the process
//! environment (`HOME`, `SSH_AUTH_SOCK`) or count the crate runtime's tasks
//! live in the `isolated` binary next to this one.

mod sftp_support;
mod support;

mod auth_errors;
mod cancellation_stops_remote_commands;
mod captured_variables;
mod close_all_nodes;
mod command_failures;
mod command_input;
mod connect_errors;
mod connections_are_shared_and_closed;
mod error_chains;
mod examples;
mod formatters;
mod host_keys;
mod hostile_servers;
mod huge_timeouts;
mod ipv6;
mod job_labels_and_details;
mod jump_hosts;
mod latency_kex_preference;
mod local_node;
mod local_push_pull;
mod one_node_runs_hostname;
mod other_servers;
mod push_pull_in_jobs;
mod round_trips;
mod scenario_files;
mod scripts_run_with_args;
mod service_systemd;
mod sftp_script;
mod sftp_throughput;
mod sftp_transfer;
mod ssh_config;
mod topology_dot;
mod transfer_timeouts;
mod twenty_nodes_run_in_a_scheduler;
mod x11_forwarding;
