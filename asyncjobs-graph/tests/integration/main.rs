//! The integration tests of `asyncjobs-graph`, in one test binary (linked
//! once): one module per area, `common` for what they share. Run one area with
//! `cargo test -p asyncjobs-graph --test integration structure::`.

mod common;
mod escaping;
mod fanout;
mod golden;
mod outcomes;
mod render;
mod structure;
