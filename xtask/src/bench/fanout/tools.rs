//! The fan-out tools and the exact command line each one is given, so that
//! they all do the same work: one command on every host of the farm, at most
//! `window` hosts at a time, with the farm's key and user.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::farm::{Farm, CONNECT_TIMEOUT_S};

/// A fan-out tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Ajssh,
    Apssh,
    ParallelSsh,
    Pdsh,
    Xargs,
    Asyncssh,
    Clush,
    Bssh,
}

impl Tool {
    pub const ALL: [Tool; 8] = [
        Tool::Ajssh,
        Tool::Apssh,
        Tool::ParallelSsh,
        Tool::Pdsh,
        Tool::Xargs,
        Tool::Asyncssh,
        Tool::Clush,
        Tool::Bssh,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Ajssh => "ajssh",
            Tool::Apssh => "apssh",
            Tool::ParallelSsh => "parallel-ssh",
            Tool::Pdsh => "pdsh",
            Tool::Xargs => "xargs -P ssh",
            Tool::Asyncssh => "asyncssh",
            Tool::Clush => "clush",
            Tool::Bssh => "bssh",
        }
    }

    /// One OpenSSH `ssh` process per host: its largest process is one host's.
    pub fn process_per_host(self) -> bool {
        matches!(self, Tool::Pdsh | Tool::Xargs | Tool::Clush)
    }

    /// How the tool is told the window, and how it checks host keys.
    pub fn how(self) -> &'static str {
        match self {
            Tool::Ajssh => "`ajssh -F none -t TARGETS -u USER -i KEY --known-hosts KH -f W --connect-timeout 30 --no-progress -- CMD` (host keys checked)",
            Tool::Apssh => "`xtask/bench/fanout_apssh.py`: one `SshJob(SshNode(ip, port=, username=, keys=, known_hosts=), Run(CMD), critical=False)` per host in an asynciojobs `Scheduler(jobs_window=W)`, as apssh's CLI does (its CLI has no per-host port; host keys checked)",
            Tool::ParallelSsh => "`xtask/bench/fanout_pssh.py`: `ParallelSSHClient(ips, host_config=[HostConfig(port=...)], pkey=KEY, pool_size=W, num_retries=1)`, `run_command(CMD)`, `join()` (libssh2; parallel-ssh has no host key checking)",
            Tool::Pdsh => "`PDSH_RCMD_TYPE=ssh PDSH_SSH_ARGS='-F CONFIG -x -l%u %h' pdsh -S -R ssh -f W -l USER -w ^IPS CMD` (one `ssh` per host; ports, key and known_hosts from CONFIG; host keys checked)",
            Tool::Xargs => "`xargs -a IPS -P W -I{} ssh -F CONFIG {} CMD` (one `ssh` per host; same CONFIG; host keys checked)",
            Tool::Asyncssh => "`xtask/bench/fanout_asyncssh.py`: `asyncssh.connect(ip, port, username=, client_keys=[KEY], known_hosts=KH)` and `conn.run(CMD)` per host, at most W at once (an `asyncio.Semaphore`), no scheduler (host keys checked)",
            Tool::Clush => "`clush -S -f W -o '-F CONFIG' --hostfile IPS CMD` (ClusterShell; one `ssh` per host, same CONFIG; host keys checked)",
            Tool::Bssh => "`bssh -H user@ip:port,... -i KEY -p W CMD` with HOME's `.ssh/known_hosts` holding the farm's keys (host keys checked); built with `cargo install bssh` only when asked (`--with-bssh`)",
        }
    }
}

/// The `bssh` release the benchmark builds (`--with-bssh`).
pub const BSSH_VERSION: &str = "2.2.3";

/// What the tools are run from.
pub struct Kit {
    pub ajssh: PathBuf,
    pub python: PathBuf,
    pub apssh_driver: PathBuf,
    pub pssh_driver: PathBuf,
    pub asyncssh_driver: PathBuf,
    /// ClusterShell's `clush`, in the venv.
    pub clush: PathBuf,
    /// `bssh`, when built (see [`BSSH_VERSION`]); why not otherwise.
    pub bssh: Result<PathBuf, String>,
}

/// A program, its arguments and its extra environment.
pub struct Invocation {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(String, OsString)>,
}

pub fn os(s: impl Into<OsString>) -> OsString {
    s.into()
}

/// ajssh's options, before any of its own: `targets` (one `user@ip:port` a
/// line) as the farm's user with its key and known_hosts, `w` at a time.
pub fn ajssh_args(targets: &Path, farm: &Farm, w: &str) -> Vec<OsString> {
    vec![
        os("-F"),
        os("none"),
        os("-t"),
        os(targets),
        os("-u"),
        os(farm.user()),
        os("-i"),
        os(farm.identity()),
        os("--known-hosts"),
        os(farm.known_hosts()),
        os("-f"),
        os(w),
        os("--connect-timeout"),
        os(CONNECT_TIMEOUT_S.to_string()),
        os("--no-progress"),
    ]
}

impl Kit {
    /// Why `tool` cannot be run here, if it cannot (bssh not built).
    pub fn missing(&self, tool: Tool) -> Option<String> {
        match (tool, &self.bssh) {
            (Tool::Bssh, Err(why)) => Some(why.clone()),
            _ => None,
        }
    }

    /// `tool` running `remote` on every host of `farm`, `window` at a time.
    pub fn invocation(&self, tool: Tool, farm: &Farm, window: usize, remote: &str) -> Invocation {
        let w = window.to_string();
        let user = farm.user().to_string();
        let (program, args, env) = match tool {
            Tool::Ajssh => (
                os(&self.ajssh),
                [
                    ajssh_args(&farm.targets, farm, &w),
                    vec![os("--"), os(remote)],
                ]
                .concat(),
                vec![],
            ),
            Tool::Apssh => (
                os(&self.python),
                vec![
                    os(&self.apssh_driver),
                    os(&farm.ip_port),
                    os(farm.identity()),
                    os(farm.known_hosts()),
                    os(&user),
                    os(&w),
                    os(remote),
                ],
                vec![],
            ),
            Tool::ParallelSsh => (
                os(&self.python),
                vec![
                    os(&self.pssh_driver),
                    os(&farm.ip_port),
                    os(farm.identity()),
                    os(&user),
                    os(&w),
                    os(remote),
                ],
                vec![],
            ),
            Tool::Pdsh => {
                let mut ssh_args = os("-F ");
                ssh_args.push(&farm.ssh_config);
                ssh_args.push(" -x -l%u %h");
                let mut hosts = os("^");
                hosts.push(&farm.ips);
                (
                    os("pdsh"),
                    vec![
                        os("-S"),
                        os("-R"),
                        os("ssh"),
                        os("-f"),
                        os(&w),
                        os("-l"),
                        os(&user),
                        os("-w"),
                        hosts,
                        os(remote),
                    ],
                    vec![
                        ("PDSH_RCMD_TYPE".to_string(), os("ssh")),
                        ("PDSH_SSH_ARGS".to_string(), ssh_args),
                    ],
                )
            }
            Tool::Xargs => (
                os("xargs"),
                vec![
                    os("-a"),
                    os(&farm.ips),
                    os("-P"),
                    os(&w),
                    os("-I{}"),
                    os("ssh"),
                    os("-F"),
                    os(&farm.ssh_config),
                    os("{}"),
                    os(remote),
                ],
                vec![],
            ),
            Tool::Asyncssh => (
                os(&self.python),
                vec![
                    os(&self.asyncssh_driver),
                    os(&farm.ip_port),
                    os(farm.identity()),
                    os(farm.known_hosts()),
                    os(&user),
                    os(&w),
                    os(remote),
                ],
                vec![],
            ),
            Tool::Clush => {
                let mut ssh_options = os("-F ");
                ssh_options.push(&farm.ssh_config);
                let mut hostfile = os("--hostfile=");
                hostfile.push(&farm.ips);
                (
                    os(&self.clush),
                    vec![
                        os("-S"),
                        os("-f"),
                        os(&w),
                        os("-o"),
                        ssh_options,
                        hostfile,
                        os(remote),
                    ],
                    vec![],
                )
            }
            Tool::Bssh => {
                let hosts: Vec<String> = farm
                    .hosts()
                    .iter()
                    .map(|h| format!("{user}@{}:{}", h.ip, h.port))
                    .collect();
                bssh_invocation(self, farm, hosts.join(","), &w, None, remote)
            }
        };
        Invocation { program, args, env }
    }
}

/// `bssh -H HOSTS -i KEY -p W [-J JUMP] CMD`, with a HOME whose
/// `.ssh/known_hosts` is the farm's (bssh reads host keys there).
pub fn bssh_invocation(
    kit: &Kit,
    farm: &Farm,
    hosts: String,
    window: &str,
    jump: Option<String>,
    remote: &str,
) -> (OsString, Vec<OsString>, Vec<(String, OsString)>) {
    let program = kit.bssh.clone().map(os).unwrap_or_else(|_| os("bssh"));
    let mut args = vec![
        os("-H"),
        os(hosts),
        os("-i"),
        os(farm.identity()),
        os("-p"),
        os(window),
    ];
    if let Some(j) = jump {
        args.extend([os("-J"), os(j)]);
    }
    args.push(os(remote));
    (
        program,
        args,
        vec![("HOME".to_string(), os(farm.bssh_home()))],
    )
}
