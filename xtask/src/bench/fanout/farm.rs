//! The loopback sshd farm of one size, from the test harness, with the files
//! each tool needs to reach it: host lists, an ajssh target file, and a private
//! OpenSSH config (per-host ports) for pdsh and the `xargs` loop.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use asyncjobs_tests::{Host, Testbed};

use super::procs;

/// Seconds the clients wait for a connection; the farm is local, so only an
/// overloaded machine gets near it.
pub const CONNECT_TIMEOUT_S: u32 = 30;
/// Longest wait for sshd to reap its per-connection processes after a run.
const SETTLE: Duration = Duration::from_secs(10);

/// N hosts on loopback, stopped on drop (the testbed kills its sshd by PID).
pub struct Farm {
    bed: Testbed,
    /// `ip port` per line (the Python drivers).
    pub ip_port: PathBuf,
    /// `ip` per line (pdsh `-w ^FILE`, `xargs`).
    pub ips: PathBuf,
    /// `user@ip:port` per line (ajssh `-t FILE`).
    pub targets: PathBuf,
    /// OpenSSH config: `Host ip` / `Port` blocks, then user, key and host key checking.
    pub ssh_config: PathBuf,
}

impl Farm {
    /// Starts `n` hosts and writes the files.
    pub fn start(n: usize) -> Result<Farm> {
        let bed = Testbed::start(n).with_context(|| format!("starting {n} loopback sshd hosts"))?;
        let dir = bed.dir().to_path_buf();
        let lines = |f: &dyn Fn(&Host) -> String| -> String {
            bed.hosts().iter().map(|h| f(h) + "\n").collect()
        };
        let write = |name: &str, text: String| -> Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        };
        let user = bed.user().to_string();
        let ip_port = write("bench-ip-port", lines(&|h| format!("{} {}", h.ip, h.port)))?;
        let ips = write("bench-ips", lines(&|h| h.ip.clone()))?;
        let targets = write(
            "bench-targets",
            lines(&|h| format!("{user}@{}:{}", h.ip, h.port)),
        )?;
        let ssh_config = write("bench-ssh-config", ssh_config(&bed))?;
        Ok(Farm {
            bed,
            ip_port,
            ips,
            targets,
            ssh_config,
        })
    }

    /// The hosts, in address order.
    pub fn hosts(&self) -> &[Host] {
        self.bed.hosts()
    }

    /// Login user.
    pub fn user(&self) -> &str {
        self.bed.user()
    }

    /// Private key every host accepts.
    pub fn identity(&self) -> PathBuf {
        self.bed.identity().to_path_buf()
    }

    /// known_hosts with every `[ip]:port`.
    pub fn known_hosts(&self) -> PathBuf {
        self.bed.known_hosts().to_path_buf()
    }

    /// Where a run's scratch files go (removed with the farm).
    pub fn dir(&self) -> PathBuf {
        self.bed.dir().to_path_buf()
    }

    /// CPU seconds of the sshd servers so far, with the per-connection
    /// processes they have reaped (call [`settle`](Self::settle) first).
    pub fn sshd_cpu_s(&self) -> f64 {
        procs::cpu_with_reaped_children(&self.bed.sshd_pids())
    }

    /// Waits (at most 10 s) until no sshd has a per-connection process left,
    /// so that their CPU time has been added to the servers'.
    pub fn settle(&self) {
        let start = Instant::now();
        while start.elapsed() < SETTLE
            && self
                .bed
                .sshd_pids()
                .iter()
                .any(|&p| !procs::children(p).is_empty())
        {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A HOME for bssh, which reads host keys from `~/.ssh/known_hosts`: that
    /// file is a copy of the farm's known_hosts as it is now.
    pub fn bssh_home(&self) -> PathBuf {
        let home = self.dir().join("bssh-home");
        let ssh = home.join(".ssh");
        // a failure here shows as bssh refusing every host key: an invalid run
        let _ = std::fs::create_dir_all(&ssh);
        let _ = std::fs::copy(self.known_hosts(), ssh.join("known_hosts"));
        home
    }

    /// Adds a line to the farm's known_hosts (the name of a relay in front of a host).
    pub fn add_known_host(&self, line: &str) -> Result<()> {
        use std::io::Write;
        let path = self.known_hosts();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        writeln!(f, "{line}").with_context(|| format!("writing {}", path.display()))
    }

    /// The public host key every host of the farm has (`type base64`).
    pub fn host_public_key(&self) -> String {
        self.bed.host_public_key().to_string()
    }

    /// The sshd log, to explain a failed run.
    pub fn sshd_log(&self) -> String {
        self.bed.sshd_log()
    }
}

/// Per-host `Port` first: in ssh_config the first value found wins.
fn ssh_config(bed: &Testbed) -> String {
    let mut text = String::new();
    for h in bed.hosts() {
        text.push_str(&format!("Host {}\n  Port {}\n", h.ip, h.port));
    }
    text.push_str(&format!(
        "Host *\n  User {}\n  IdentityFile {}\n  IdentitiesOnly yes\n  \
         UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  \
         StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout {CONNECT_TIMEOUT_S}\n  \
         LogLevel ERROR\n",
        bed.user(),
        bed.identity().display(),
        bed.known_hosts().display()
    ));
    text
}
