//! The tests of the loopback testbed, in one test binary (linked once): one
//! module per area. Run one area with
//! `cargo test -p asyncjobs-tests --test harness servers::`.
//!
//! The leak-reaping tests are a binary of their own (`harness_stale`): they
//! plant servers of dead processes for the next testbed to reap, which any
//! testbed started by a test running beside them would reap first.

mod scale;
mod servers;
mod testbed;
