//! The clients of the latency benchmark and the exact command line each one
//! is given for each scenario: the same command on the same hosts, as the
//! same user with the same key and known_hosts, through the same gateway.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use asyncjobs_tests::Host;

use crate::bench::fanout::farm::Farm;
use crate::bench::fanout::tools::{ajssh_args, bssh_invocation, os, Invocation, Kit};

/// What is measured: one host reached directly, or `n` hosts behind one gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// One host, the delay in front of it.
    Direct,
    /// `n` hosts next to a gateway that is behind the delay.
    Gateway(usize),
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::Direct,
        Scenario::Gateway(1),
        Scenario::Gateway(10),
        Scenario::Gateway(100),
    ];

    pub fn name(self) -> String {
        match self {
            Scenario::Direct => "1 host, direct".into(),
            Scenario::Gateway(1) => "1 host via gateway".into(),
            Scenario::Gateway(n) => format!("{n} hosts via gateway"),
        }
    }

    /// The hosts of `farm` that run the command: the first one (behind the
    /// delay) directly, else the `n` after it, with the first as gateway.
    pub fn hosts_of(self, farm: &Farm) -> &[Host] {
        match self {
            Scenario::Direct => &farm.hosts()[..1],
            Scenario::Gateway(n) => &farm.hosts()[1..=n],
        }
    }

    /// Hosts that run the command.
    pub fn hosts(self) -> usize {
        match self {
            Scenario::Direct => 1,
            Scenario::Gateway(n) => n,
        }
    }
}

/// A client measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Ajssh,
    OpenSsh,
    Apssh,
    Asyncssh,
    Bssh,
}

impl Tool {
    pub const ALL: [Tool; 5] = [
        Tool::Ajssh,
        Tool::OpenSsh,
        Tool::Apssh,
        Tool::Asyncssh,
        Tool::Bssh,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Ajssh => "ajssh",
            Tool::OpenSsh => "ssh",
            Tool::Apssh => "apssh",
            Tool::Asyncssh => "asyncssh",
            Tool::Bssh => "bssh",
        }
    }

    /// How it is run, for BENCHMARKS.md.
    pub fn how(self) -> &'static str {
        match self {
            Tool::Ajssh => "`ajssh -F none -t TARGETS -u USER -i KEY --known-hosts KH -f W --no-progress -v [-J USER@GW] -- CMD` (`-v` prints the phases read here)",
            Tool::OpenSsh => "OpenSSH: `ssh -F CONFIG [-J USER@GW] HOST CMD` for one host; `xargs -P W -I{} ssh -F CONFIG -J USER@GW {} CMD` for N hosts (each `ssh` opens its own gateway connection, as `-J` does)",
            Tool::Apssh => "`xtask/bench/fanout_apssh.py`: one `SshNode` per host (with `gateway=` one shared gateway `SshNode`) in an asynciojobs `Scheduler(jobs_window=W)`",
            Tool::Asyncssh => "`xtask/bench/fanout_asyncssh.py`: `asyncssh.connect` per host (with `tunnel=` one gateway connection opened first), at most W at once",
            Tool::Bssh => "`bssh -H USER@HOST:PORT,... -i KEY -p W [-J USER@GW] CMD` (when built: `--with-bssh`)",
        }
    }
}

/// Where the clients connect for one run: the first host (the direct host or
/// the gateway), possibly a delay proxy in front of it, and the hosts behind.
pub struct Route<'a> {
    /// `ip:port` the clients connect to first.
    pub entry: (String, u16),
    /// The hosts that must answer.
    pub hosts: &'a [Host],
    pub scenario: Scenario,
}

/// Writes `lines` to `dir/name`.
fn write(dir: &Path, name: &str, lines: impl Iterator<Item = String>) -> Result<PathBuf> {
    let path = dir.join(name);
    let text: String = lines.map(|l| l + "\n").collect();
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `tool` running `remote` on `route`, `window` hosts at a time.
pub fn invocation(
    kit: &Kit,
    farm: &Farm,
    tool: Tool,
    route: &Route<'_>,
    window: usize,
    remote: &str,
) -> Result<Invocation> {
    let dir = farm.dir();
    let user = farm.user().to_string();
    let w = window.to_string();
    let (gw_ip, gw_port) = (&route.entry.0, route.entry.1);
    let gateway = matches!(route.scenario, Scenario::Gateway(_));
    // the hosts as each client names them: the entry for a direct host
    let named: Vec<(String, u16)> = if gateway {
        route.hosts.iter().map(|h| (h.ip.clone(), h.port)).collect()
    } else {
        vec![route.entry.clone()]
    };
    let jump = gateway.then(|| format!("{user}@{gw_ip}:{gw_port}"));
    let python_driver = |script: &PathBuf| -> Result<Invocation> {
        let hostfile = write(
            &dir,
            "latency-ip-port",
            named.iter().map(|(ip, port)| format!("{ip} {port}")),
        )?;
        let mut args = vec![
            os(script),
            os(hostfile),
            os(farm.identity()),
            os(farm.known_hosts()),
            os(&user),
            os(&w),
            os(remote),
        ];
        if gateway {
            args.extend([os(gw_ip), os(gw_port.to_string())]);
        }
        Ok(Invocation {
            program: os(&kit.python),
            args,
            env: vec![],
        })
    };
    Ok(match tool {
        Tool::Ajssh => {
            let targets = write(
                &dir,
                "latency-targets",
                named.iter().map(|(ip, port)| format!("{user}@{ip}:{port}")),
            )?;
            let mut args = ajssh_args(&targets, farm, &w);
            args.push(os("-v"));
            if let Some(j) = &jump {
                args.extend([os("-J"), os(j)]);
            }
            args.extend([os("--"), os(remote)]);
            Invocation {
                program: os(&kit.ajssh),
                args,
                env: vec![],
            }
        }
        Tool::OpenSsh if route.scenario.hosts() == 1 => {
            let mut args = vec![os("-F"), os(&farm.ssh_config)];
            match &jump {
                Some(j) => args.extend([os("-J"), os(j), os(&named[0].0)]),
                None => args.extend([os("-p"), os(gw_port.to_string()), os(gw_ip)]),
            }
            args.push(os(remote));
            Invocation {
                program: os("ssh"),
                args,
                env: vec![],
            }
        }
        Tool::OpenSsh => {
            let ips = write(&dir, "latency-ips", named.iter().map(|(ip, _)| ip.clone()))?;
            let mut args = vec![
                os("-a"),
                os(ips),
                os("-P"),
                os(&w),
                os("-I{}"),
                os("ssh"),
                os("-F"),
                os(&farm.ssh_config),
            ];
            if let Some(j) = &jump {
                args.extend([os("-J"), os(j)]);
            }
            args.extend([os("{}"), os(remote)]);
            Invocation {
                program: os("xargs"),
                args,
                env: vec![],
            }
        }
        Tool::Apssh => python_driver(&kit.apssh_driver)?,
        Tool::Asyncssh => python_driver(&kit.asyncssh_driver)?,
        Tool::Bssh => {
            let hosts: Vec<String> = named
                .iter()
                .map(|(ip, port)| format!("{user}@{ip}:{port}"))
                .collect();
            let (program, args, env) =
                bssh_invocation(kit, farm, hosts.join(","), &w, jump, remote);
            Invocation { program, args, env }
        }
    })
}
