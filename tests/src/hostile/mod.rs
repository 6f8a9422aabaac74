//! [`HostileServer`]: an SSH/SFTP server of our own (russh's server API,
//! russh-sftp's server side) on a private loopback address, that lies the
//! way a compromised host would: the same name listed twice (a symlink, then a
//! directory or file), links to anywhere, files whose reads never end,
//! listings that never end, names with `/`, `..` or control bytes, bogus exit
//! signals and error messages, huge banners, output that is not UTF-8.
//!
//! ```no_run
//! use asyncjobs_tests::hostile::{HostileServer, Lies, Node};
//!
//! let server = HostileServer::start(Lies {
//!     tree: Node::dir([("loot", Node::endless_file(10))]),
//!     ..Lies::default()
//! })?;
//! // connect to server.host() as any user with server.identity(),
//! // checking the host key against server.known_hosts()
//! # Ok::<(), asyncjobs_tests::HarnessError>(())
//! ```

mod sftp;
mod ssh;
mod tree;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use russh::server::Server as _;
pub use sftp::ENDLESS_PER_READDIR;
pub use tree::{Data, Node};

use crate::addr::Blocks;
use crate::{HarnessError, Host};
use sftp::{lock, Shared};

/// What the server answers to a command (`exec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecLie {
    /// Bytes sent on stdout.
    pub stdout: Vec<u8>,
    /// Bytes sent on stderr.
    pub stderr: Vec<u8>,
    /// How the command "ends".
    pub end: ExecEnd,
}

impl Default for ExecLie {
    fn default() -> Self {
        ExecLie {
            stdout: Vec::new(),
            stderr: Vec::new(),
            end: ExecEnd::Status(0),
        }
    }
}

/// The end of a lying command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEnd {
    /// `exit-status` with this code, then close.
    Status(u32),
    /// `exit-signal` with this signal name and error message, then close.
    Signal {
        /// The signal name (anything: control bytes, megabytes...).
        name: String,
        /// The error message.
        message: String,
    },
    /// Nothing: the channel stays open, the command never ends.
    Hang,
}

/// Everything the server lies about (the default: an empty tree, commands
/// that print nothing and exit 0, no banner).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lies {
    /// The file tree served over SFTP; its root is `/` and the login home.
    pub tree: Node,
    /// The answer to every command.
    pub exec: ExecLie,
    /// The authentication banner sent before login, if any.
    pub banner: Option<String>,
}

/// A running hostile server, stopped on drop (its thread joined).
#[derive(Debug)]
pub struct HostileServer {
    host: Host,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    known_hosts: PathBuf,
    identity: PathBuf,
    dir: tempfile::TempDir,
}

impl HostileServer {
    /// Starts a server telling `lies` on a private loopback address; returns
    /// once it accepts connections.
    pub fn start(lies: Lies) -> Result<HostileServer, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("asyncjobs-hostile-")
            .tempdir()
            .map_err(|e| HarnessError::io("creating the hostile server's directory", e))?;
        let host_key = dir.path().join("host_key");
        let host_public = crate::keys::generate_one(&host_key)?;
        let identity = dir.path().join("id_ed25519");
        crate::keys::generate_one(&identity)?;
        let key = ssh::load_key(&host_key).map_err(|e| {
            HarnessError::io(
                "loading the hostile server's host key",
                std::io::Error::other(e),
            )
        })?;

        let ip = Blocks::reserve(1).host_ip(0);
        // bound here, so the port is ours before the thread starts
        let listener = std::net::TcpListener::bind((ip, 0))
            .map_err(|e| HarnessError::io(format!("binding {ip}:0"), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| HarnessError::io("making the listener non-blocking", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the listener's port", e))?
            .port();
        let host = Host {
            ip: ip.to_string(),
            port,
        };
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(
            &known_hosts,
            format!("{} {host_public}\n", host.known_hosts_name()),
        )
        .map_err(|e| HarnessError::io("writing the hostile server's known_hosts", e))?;

        let shared = Arc::new(Shared {
            tree: Mutex::new(lies.tree),
            ..Shared::default()
        });
        let config = Arc::new(russh::server::Config {
            keys: vec![key],
            auth_rejection_time: std::time::Duration::from_millis(10),
            inactivity_timeout: Some(std::time::Duration::from_secs(300)),
            nodelay: true,
            ..Default::default()
        });
        let mut factory = ssh::Factory {
            shared: Arc::clone(&shared),
            exec: Arc::new(lies.exec),
            banner: lies.banner,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| HarnessError::io("starting the hostile server's runtime", e))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hostile-ssh".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let running = factory.run_on_socket(config, &listener);
                    tokio::select! {
                        _ = running => {}
                        _ = stopped => {}
                    }
                });
                // dropping the runtime here cancels every connection task
            })
            .map_err(|e| HarnessError::io("starting the hostile server's thread", e))?;
        Ok(HostileServer {
            host,
            shared,
            stop: Some(stop),
            thread: Some(thread),
            known_hosts,
            identity,
            dir,
        })
    }

    /// Where it listens.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// A known_hosts file with its host key for [`host`](Self::host).
    pub fn known_hosts(&self) -> &Path {
        &self.known_hosts
    }

    /// A private key to log in with (the server accepts any key, any user).
    pub fn identity(&self) -> &Path {
        &self.identity
    }

    /// A private directory, removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SFTP requests that changed (or tried to change) the tree, in order:
    /// `open-write PATH`, `mkdir PATH`, `remove PATH`, `rmdir PATH`,
    /// `setstat PATH`, `fsetstat PATH`, `symlink PATH`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.log).clone()
    }

    /// The tree now (after the client's writes).
    pub fn tree(&self) -> Node {
        lock(&self.shared.tree).clone()
    }

    /// Bytes of file data served so far.
    pub fn bytes_served(&self) -> u64 {
        self.shared.served.load(Ordering::Relaxed)
    }

    /// Directory entries listed so far.
    pub fn entries_listed(&self) -> u64 {
        self.shared.listed.load(Ordering::Relaxed)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
