//! # asyncjobs-ssh
//!
//! SSH orchestration on top of `asyncjobs-core` (being written).
#![warn(missing_docs)]

pub mod sftp;
