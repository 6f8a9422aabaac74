//! The testbed: keys, login user and SSH servers on private loopback addresses.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::addr::{check_ipv6_loopback, free_port, Blocks};
use crate::dropbear::DropbearLaunch;
use crate::home_keys::HomeKeys;
use crate::keys::Keys;
use crate::procfs::{
    count_in_state, descendants, processes, tcp_sockets, TCP_ESTABLISHED, TCP_LISTEN,
};
use crate::server::farm::{self, socket};
use crate::server::process::ServerProcess;
use crate::server::{check_installed, is_server_process, stale, Launch, DIR_PREFIX};
use crate::sshd::SshdLaunch;
use crate::tinysshd::TinysshdLaunch;
use crate::user::{login_user, LoginUser};
use crate::{HarnessError, Host, SshServer, TestbedConfig, SSHD_PATH, TEST_ACCOUNT};

/// Most hosts one testbed may have (ceil(N/16) sshd processes are started).
pub const MAX_HOSTS: usize = 4000;
const XAUTH: &str = "/usr/bin/xauth";
/// Where sshd (as root) insists on its privilege separation directory.
const PRIVSEP_DIR: &str = "/run/sshd";

/// Real SSH servers on private loopback addresses, stopped on drop: OpenSSH by
/// default, or Dropbear or tinysshd ([`TestbedConfig::server`]), on `127.A.B.C`
/// or on `::1` ([`TestbedConfig::ipv6`]).
///
/// All hosts share one host key and accept [`identity`](Self::identity) and
/// [`encrypted_identity`](Self::encrypted_identity) for [`user`](Self::user).
/// When the tests run as root the user is the dedicated account `ajtest`;
/// otherwise it is the current user (an unprivileged sshd can only log in the
/// account it runs as, and cannot allocate ptys; Dropbear and tinysshd testbeds
/// need root). That account is shared by every testbed on the machine, so remote
/// file names and process patterns should be unique per test.
///
/// `Testbed` is `Send + Sync`: share it by reference across threads. A testbed kept
/// in a `static` is never dropped; its servers are killed by the next test process
/// that starts a testbed (see [`reap_leaked_sshd`](crate::reap_leaked_sshd)).
#[derive(Debug)]
pub struct Testbed {
    // Declared before `_home_keys` and `dir`: servers stop before their files go.
    servers: Vec<ServerProcess>,
    server: SshServer,
    hosts: Vec<Host>,
    blocks: Blocks,
    user: LoginUser,
    keys: Keys,
    known_hosts: PathBuf,
    remote_dir: PathBuf,
    /// This testbed's lines in the account's own authorized_keys (Dropbear,
    /// tinysshd); held only to be removed on drop, after the servers stop.
    _home_keys: Option<HomeKeys>,
    dir: tempfile::TempDir,
}

impl Testbed {
    /// Starts an OpenSSH testbed with `hosts` hosts and default options.
    pub fn start(hosts: usize) -> Result<Testbed, HarnessError> {
        Testbed::start_with(TestbedConfig {
            hosts,
            ..TestbedConfig::default()
        })
    }

    /// Starts a testbed of `server`s with `hosts` hosts and default options.
    pub fn start_server(server: SshServer, hosts: usize) -> Result<Testbed, HarnessError> {
        Testbed::start_with(TestbedConfig {
            hosts,
            server,
            ..TestbedConfig::default()
        })
    }

    /// Starts a testbed; returns once every host accepts TCP connections.
    pub fn start_with(cfg: TestbedConfig) -> Result<Testbed, HarnessError> {
        check_config(&cfg)?;
        check_tools(&cfg)?;
        if cfg.ipv6 {
            check_ipv6_loopback().map_err(|reason| HarnessError::Ipv6Unavailable { reason })?;
        }
        stale::reap_once();
        let user = login_user()?;
        if cfg.server != SshServer::OpenSsh && user.name != TEST_ACCOUNT {
            return Err(HarnessError::NeedsRoot {
                server: cfg.server.name().into(),
                account: TEST_ACCOUNT.into(),
            });
        }
        if cfg.server == SshServer::OpenSsh {
            ensure_privsep_dir()?;
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| HarnessError::io("creating the testbed directory", e))?;
        // The login user must reach authorized_keys (sshd reads it with the user's uid).
        set_mode(dir.path(), 0o755)?;
        let keys = Keys::generate(dir.path(), cfg.server)?;
        let remote_dir = dir.path().join("remote");
        std::fs::create_dir(&remote_dir).map_err(|e| HarnessError::io("creating remote dir", e))?;
        std::os::unix::fs::chown(&remote_dir, Some(user.uid), Some(user.gid)).map_err(|e| {
            HarnessError::io(
                format!("giving {} to {}", remote_dir.display(), user.name),
                e,
            )
        })?;

        let mut home_keys = None;
        let launch: Box<dyn Launch> = match cfg.server {
            SshServer::OpenSsh => {
                let authorized_keys = dir.path().join("authorized_keys");
                let lines: String = keys
                    .authorized()?
                    .iter()
                    .map(|k| format!("{k}\n"))
                    .collect();
                write(&authorized_keys, &lines)?;
                set_mode(&authorized_keys, 0o644)?;
                Box::new(SshdLaunch {
                    dir: dir.path().to_path_buf(),
                    host_key: keys.host.clone(),
                    authorized_keys,
                    user: user.name.clone(),
                    x11: cfg.x11,
                    extra: cfg.extra_sshd_config.clone(),
                })
            }
            SshServer::Dropbear | SshServer::Tinysshd => {
                let tag = dir.path().file_name().unwrap_or_default().to_string_lossy();
                home_keys = Some(HomeKeys::authorize(&user, &keys.authorized()?, &tag)?);
                if cfg.server == SshServer::Dropbear {
                    Box::new(DropbearLaunch {
                        dir: dir.path().to_path_buf(),
                        host_key: keys.host.clone(),
                    })
                } else {
                    Box::new(TinysshdLaunch {
                        keys: keys.host.clone(),
                    })
                }
            }
        };
        let blocks = if cfg.ipv6 {
            Blocks::V6
        } else {
            Blocks::reserve(cfg.hosts)
        };
        let servers = farm::start(launch.as_ref(), dir.path(), blocks, cfg.hosts)?;
        let hosts: Vec<Host> = servers
            .iter()
            .flat_map(|s| s.hosts.iter().cloned())
            .collect();
        let known_hosts = dir.path().join("known_hosts");
        let lines: String = hosts
            .iter()
            .map(|h| format!("{} {}\n", h.known_hosts_name(), keys.host_public))
            .collect();
        write(&known_hosts, &lines)?;
        Ok(Testbed {
            servers,
            server: cfg.server,
            hosts,
            blocks,
            user,
            keys,
            known_hosts,
            remote_dir,
            _home_keys: home_keys,
            dir,
        })
    }

    /// Which server implementation this testbed runs.
    pub fn server(&self) -> SshServer {
        self.server
    }

    /// The hosts, in address order.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Login user on every host.
    pub fn user(&self) -> &str {
        &self.user.name
    }

    /// Home directory of [`user`](Self::user) (shared by all testbeds).
    pub fn user_home(&self) -> &Path {
        &self.user.home
    }

    /// Unencrypted ed25519 private key accepted by every host.
    pub fn identity(&self) -> &Path {
        &self.keys.identity
    }

    /// ed25519 private key with passphrase [`PASSPHRASE`](crate::PASSPHRASE) (`"secret"`),
    /// accepted by every host.
    pub fn encrypted_identity(&self) -> &Path {
        &self.keys.encrypted
    }

    /// A valid ed25519 private key that no host accepts.
    pub fn wrong_identity(&self) -> &Path {
        &self.keys.wrong
    }

    /// The hosts' public key, `ssh-ed25519 AAAA...` (no comment).
    pub fn host_public_key(&self) -> &str {
        &self.keys.host_public
    }

    /// A known_hosts file with one `[ip]:port ssh-ed25519 AAAA...` line per host.
    pub fn known_hosts(&self) -> &Path {
        &self.known_hosts
    }

    /// Writes `lines` (one per line) to the file `name` in [`dir`](Self::dir) and
    /// returns its path: known_hosts variants (hashed, wrong key, missing host).
    ///
    /// # Panics
    /// If `name` is not a plain file name or the file cannot be written.
    pub fn write_known_hosts(&self, name: &str, lines: &[String]) -> PathBuf {
        let plain = !name.is_empty() && name != "." && name != ".." && !name.contains('/');
        assert!(
            plain,
            "write_known_hosts: {name:?} is not a plain file name"
        );
        let path = self.dir.path().join(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        if let Err(e) = std::fs::write(&path, text) {
            panic!("write_known_hosts: writing {}: {e}", path.display());
        }
        path
    }

    /// Private directory of this testbed, removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A directory inside [`dir`](Self::dir) owned by [`user`](Self::user), for
    /// file-transfer tests that should not touch the shared home.
    pub fn remote_dir(&self) -> &Path {
        &self.remote_dir
    }

    /// Process ids of the listening servers: one sshd per 16 hosts, one dropbear
    /// per 10, one socat (in front of tinysshd) per host.
    pub fn sshd_pids(&self) -> Vec<u32> {
        self.servers.iter().map(ServerProcess::pid).collect()
    }

    /// Number of hosts with a listening socket right now (all of them, unless a
    /// server died).
    ///
    /// # Panics
    /// If `/proc/net/tcp` cannot be read.
    pub fn listening_hosts(&self) -> usize {
        self.count_sockets(TCP_LISTEN)
    }

    /// ESTABLISHED TCP connections whose local (server) side is one of this
    /// testbed's `ip:port`, from `/proc/net/tcp`.
    ///
    /// # Panics
    /// If `/proc/net/tcp` cannot be read.
    pub fn established_connections(&self) -> usize {
        self.count_sockets(TCP_ESTABLISHED)
    }

    fn count_sockets(&self, state: u8) -> usize {
        let wanted: HashSet<SocketAddr> = self.hosts.iter().map(socket).collect();
        let sockets = tcp_sockets().unwrap_or_else(|e| panic!("reading /proc/net/tcp: {e}"));
        count_in_state(&sockets, &wanted, state).values().sum()
    }

    /// Processes owned by [`user`](Self::user) whose command line (arguments joined
    /// by spaces) contains `pattern`, e.g. to check no orphan `sleep 4242` is left.
    /// This process and its descendants (local `ssh` clients) are not counted,
    /// except what runs under the servers.
    /// The user is shared by all testbeds: use a pattern unique to the test.
    ///
    /// # Panics
    /// If `/proc` cannot be listed.
    pub fn remote_processes(&self, pattern: &str) -> usize {
        let procs = processes().unwrap_or_else(|e| panic!("listing /proc: {e}"));
        // Our servers are our children too, but what runs under them is remote.
        let ours = descendants(&procs, std::process::id(), |p| {
            is_server_process(&p.cmdline)
        });
        procs
            .iter()
            .filter(|p| {
                p.uid == self.user.uid && !ours.contains(&p.pid) && p.cmdline.contains(pattern)
            })
            .count()
    }

    /// A loopback `ip:port` of this testbed where nothing listens (connection refused).
    ///
    /// # Panics
    /// If no port can be bound on the loopback address.
    pub fn closed_port(&self) -> Host {
        let ip = self.blocks.spare_ip();
        let port = free_port(ip).unwrap_or_else(|e| panic!("probing a port on {ip}: {e}"));
        Host {
            ip: ip.to_string(),
            port,
        }
    }

    /// OpenSSH `ssh` preset for `host` with [`identity`](Self::identity); append the
    /// remote command. Ignores `~/.ssh/config` and the agent, checks the host key
    /// strictly against [`known_hosts`](Self::known_hosts), never prompts; stdin is null.
    pub fn ssh_command(&self, host: &Host) -> Command {
        self.ssh_command_with_identity(host, self.identity())
    }

    /// Like [`ssh_command`](Self::ssh_command) but authenticating with `key` only.
    pub fn ssh_command_with_identity(&self, host: &Host, key: &Path) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.args(["-F", "/dev/null", "-i"])
            .arg(key)
            .args(["-p", &host.port.to_string(), "-o"])
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            .args(["-o", "StrictHostKeyChecking=yes"])
            .args(["-o", "BatchMode=yes"])
            .args(["-o", "IdentitiesOnly=yes"])
            .args(["-o", "ConnectTimeout=15"])
            .args(["-o", "LogLevel=ERROR"])
            .arg(format!("{}@{}", self.user.name, host.ip))
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null());
        cmd
    }

    /// All server logs of this testbed, for diagnostics in failing tests.
    pub fn sshd_log(&self) -> String {
        farm::logs(&self.servers)
    }

    /// The key exchange algorithms the servers negotiated, one per key exchange,
    /// in log order. Needs `LogLevel DEBUG1` in `extra_sshd_config` (sshd then
    /// logs `kex: algorithm: NAME`); empty otherwise.
    pub fn negotiated_kex(&self) -> Vec<String> {
        self.sshd_log()
            .lines()
            .filter_map(|l| l.split("kex: algorithm: ").nth(1))
            // `kex: algorithm: NAME [preauth]`
            .filter_map(|a| a.split_whitespace().next().map(str::to_string))
            .collect()
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        // Kill all first, then wait: the servers stop in parallel.
        for s in &mut self.servers {
            s.kill();
        }
        for s in &mut self.servers {
            s.reap();
        }
    }
}

fn check_config(cfg: &TestbedConfig) -> Result<(), HarnessError> {
    if cfg.hosts == 0 || cfg.hosts > MAX_HOSTS {
        return Err(HarnessError::InvalidConfig(format!(
            "hosts must be between 1 and {MAX_HOSTS}, got {}",
            cfg.hosts
        )));
    }
    if let Some(bad) = cfg.extra_sshd_config.iter().find(|l| l.contains('\n')) {
        return Err(HarnessError::InvalidConfig(format!(
            "extra sshd_config line contains a newline: {bad:?}"
        )));
    }
    if cfg.server != SshServer::OpenSsh && (cfg.x11 || !cfg.extra_sshd_config.is_empty()) {
        return Err(HarnessError::InvalidConfig(format!(
            "x11 and extra_sshd_config are OpenSSH settings; a {} testbed has neither",
            cfg.server
        )));
    }
    Ok(())
}

/// Every program the testbed will run is installed, or the error says what to install.
fn check_tools(cfg: &TestbedConfig) -> Result<(), HarnessError> {
    if cfg.server == SshServer::OpenSsh && !Path::new(SSHD_PATH).exists() {
        return Err(HarnessError::SshdMissing {
            path: SSHD_PATH.into(),
        });
    }
    if cfg.x11 && !Path::new(XAUTH).exists() {
        return Err(HarnessError::ToolMissing {
            tool: XAUTH.into(),
            package: "xauth".into(),
        });
    }
    check_installed(cfg.server.programs())
}

fn ensure_privsep_dir() -> Result<(), HarnessError> {
    let path = Path::new(PRIVSEP_DIR);
    if path.is_dir() {
        return Ok(());
    }
    match std::fs::create_dir_all(path) {
        Ok(()) => set_mode(path, 0o755),
        // Not root: an unprivileged sshd does not need it; let sshd say so if it does.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
        Err(e) => Err(HarnessError::io(format!("creating {PRIVSEP_DIR}"), e)),
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), HarnessError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| HarnessError::io(format!("chmod {mode:o} {}", path.display()), e))
}

fn write(path: &Path, text: &str) -> Result<(), HarnessError> {
    std::fs::write(path, text)
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn testbed_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<super::Testbed>();
    }
}
