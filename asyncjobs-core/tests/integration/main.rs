//! The integration tests of `asyncjobs-core`, in one test binary (linked once):
//! one module per area. Run one area with
//! `cargo test -p asyncjobs-core --test integration semantics::`.

mod graph_ops;
mod listing_format;
mod oracle;
mod readme_examples;
mod semantics;
