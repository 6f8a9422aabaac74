//! Loopback SSH test harness for the asyncjobs workspace.
//!
//! [`Testbed`] starts real `sshd` servers on private loopback addresses
//! (`127.A.B.C`, one address per host, 16 per sshd process), with throwaway keys,
//! an `authorized_keys` and a `known_hosts`, and stops them on drop. Tests in
//! several threads and several test binaries can each run their own testbed.
//! The same testbed runs Dropbear or tinysshd instead ([`SshServer`]), and
//! listens on the IPv6 loopback `::1` on request ([`TestbedConfig::ipv6`]).
//!
//! Needs `/usr/sbin/sshd` (`apt-get install -y openssh-server`, or run the tests
//! through `cargo xtask test`) and `ssh-keygen`; Dropbear needs `dropbear-bin`
//! and `openssh-sftp-server`, tinysshd needs `tinysshd` and `socat`. As root,
//! logs in as the dedicated account `ajtest` (created on first use); otherwise as
//! the current user (OpenSSH only).
//!
//! ```
//! use asyncjobs_tests::Testbed;
//!
//! let bed = Testbed::start(2)?;
//! let out = bed.ssh_command(&bed.hosts()[1]).arg("echo ok").output().unwrap();
//! assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{}", bed.sshd_log());
//! # Ok::<(), asyncjobs_tests::HarnessError>(())
//! ```
#![warn(missing_docs)]

mod addr;
mod config;
mod delay;
mod dropbear;
mod error;
mod fanout;
mod home_keys;
mod host;
pub mod hostile;
mod keys;
mod procfs;
mod server;
mod ssh_config_file;
mod sshd;
mod testbed;
mod tinysshd;
mod user;

pub use config::TestbedConfig;
pub use delay::{Chunk, Delay, DelayProxy, FlowStats};
pub use error::HarnessError;
pub use host::Host;
pub use keys::PASSPHRASE;
pub use server::stale::reap_leaked_sshd;
pub use server::SshServer;
pub use sshd::{LISTEN_PER_SSHD, SSHD_PATH};
pub use testbed::{Testbed, MAX_HOSTS};
pub use user::TEST_ACCOUNT;
