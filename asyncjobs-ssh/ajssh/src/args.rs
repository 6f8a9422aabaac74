//! The command line, with clap's derive API.
//!
//! `ajssh [OPTIONS] TARGETS... -- COMMAND...`: everything after the first
//! `--` is the remote command. Without `--`, options must come first and the
//! words that follow are split as apssh and pdsh users expect: with `-t`
//! they are all the command, otherwise the first word holds the targets
//! (a comma-separated list or node set) and the rest is the command.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::exit;

const TARGET_HELP: &str = "\
Target syntax:
  host, user@host, user@host:port, [v6addr]:port  one host (or ~/.ssh/config alias)
  node[01-20,35]                 a node set: node01 .. node20 and node35
  n[1-9/2]                       a step: n1, n3, n5, n7, n9
  @web, @source:web, u@@web      a group of ClusterShell's group files
                                 (/etc/clustershell/groups.d/*.yaml,
                                 ~/.local/etc/clustershell/groups.d/*.yaml)
                                 or of ajssh's own ($AJSSH_GROUPS, else
                                 ~/.config/ajssh/groups.yaml)
  -w TARGETS                     the same, as pdsh and clush (repeatable)
  a,b c                          several targets (commas or spaces)
  gw->user@host, a->b->host      through jump hosts (also written →)
  None->host                     directly, even when -J is given
  -t FILE | -t DIR | -t -        one or more targets per line (# comments),
                                 a directory whose file names are hosts, stdin

Each host runs, in order: the --push copies, the script (-s) or the command,
then the --pull copies. The command words are joined with spaces and run by
the remote login shell (as ssh does): quote or escape shell characters.
Without `--`: with -t or -w, all the words are the command (options must
come before it); with -L, -s, --push or --pull, all the words are targets;
otherwise the first word holds the targets (commas) and the rest is the
command. Use `--` whenever the command has words starting with `-`.

Output (one of):
  default      lines prefixed with the host: `host:line` (stderr to stderr);
               the port only for hosts that share a name: `[host]:2222:line`
  -r           raw output, no prefix
  --time       lines prefixed with the time and the host
  -d DIR       DIR/HOST (stdout) and DIR/HOST.err (stderr), HOST as given
               (`host:2222`); -m adds DIR/0ok/HOST and DIR/1failed/HOST
               marks, re-usable with -t
  -b           gathered: hosts with identical output in one block
  --json       one JSON object per line and host, then a summary object
A progress bar is shown on stderr when it is a terminal; a summary of the
failed and unreachable hosts always ends the run on stderr.

Examples:
  ajssh web[01-20] -- uptime
  ajssh -t hosts.txt -x web07 -f 64 -b -- 'cat /etc/os-release | head -1'
  ajssh -w @web -l root -b -- uname -r     (groups of ClusterShell's files)
  ajssh -J admin@bastion:2222 db1,db2 -s check.sh -- --verbose
  ajssh node[1-4] --push app.tar.gz --to /tmp/ --pull /var/log/app.log --into logs
  ajssh scenario run deploy.toml";

const USAGE: &str = "\
ajssh [OPTIONS] TARGETS... -- COMMAND...
       ajssh [OPTIONS] -t FILE [TARGETS...] -- COMMAND...
       ajssh [OPTIONS] TARGETS... -s SCRIPT [-- ARGS...]
       ajssh [OPTIONS] TARGETS... --push LOCAL... --to REMOTE
       ajssh [OPTIONS] TARGETS... --pull REMOTE... --into LOCALDIR
       ajssh [OPTIONS] TARGETS...        (no command: interactive mode, `:help`)
       ajssh scenario run|check|dot FILE
       ajssh man | completions bash|zsh|fish|elvish|powershell";

/// Parallel SSH: run a command, a script or file copies on many hosts at
/// once, or a scenario file of jobs with requirements.
#[derive(Debug, Parser)]
#[command(name = "ajssh", version, override_usage = USAGE, after_help = after_help())]
#[command(args_conflicts_with_subcommands = true, disable_help_subcommand = true)]
pub struct Cli {
    /// Hosts to run on (see Target syntax below).
    #[arg(value_name = "TARGETS")]
    pub words: Vec<String>,

    /// Targets, as pdsh's and clush's -w (same syntax as TARGETS); repeatable.
    #[arg(
        short = 'w',
        long = "nodes",
        value_name = "TARGETS",
        help_heading = "Targets",
        value_parser = parse_target_word
    )]
    pub target_words: Vec<String>,

    /// Read targets from FILE (`-` for stdin) or a directory of host-named files; repeatable.
    #[arg(
        short = 't',
        long = "targets",
        value_name = "FILE",
        help_heading = "Targets"
    )]
    pub target_sources: Vec<String>,

    /// Exclude these targets (same syntax as targets, or a file); repeatable.
    #[arg(short = 'x', long, value_name = "TARGETS", help_heading = "Targets")]
    pub exclude: Vec<String>,

    /// Print the selected targets, one per line, and exit.
    #[arg(short = 'L', long, help_heading = "Targets")]
    pub list_targets: bool,

    /// Print the excludes, the selected hosts and what would run on them, and exit.
    #[arg(short = 'n', long, help_heading = "Targets")]
    pub dry_run: bool,

    /// Print the ssh config of each target as resolved (`ssh -G`'s format:
    /// the keywords ajssh acts on) and exit; with -F, -l, -p, -J.
    #[arg(short = 'G', long = "print-config", help_heading = "Targets")]
    pub print_config: bool,

    #[command(flatten)]
    pub connect: ConnectOpts,

    #[command(flatten)]
    pub run: RunOpts,

    #[command(flatten)]
    pub output: OutputOpts,

    /// Scenario files.
    #[command(subcommand)]
    pub sub: Option<Sub>,

    /// The remote command (after `--`).
    #[arg(skip)]
    pub command: Vec<String>,
}

/// How to connect: shared by fan-out and scenarios.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectOpts {
    /// Login user, as ssh's and pdsh's -l (default: from ~/.ssh/config, else
    /// the local user).
    #[arg(
        short = 'u',
        long,
        visible_alias = "login",
        visible_short_alias = 'l',
        value_name = "USER"
    )]
    pub user: Option<String>,

    /// SSH port (default: from ~/.ssh/config, else 22). Not pssh's -p: the
    /// hosts in flight are -f.
    #[arg(short = 'p', long, value_name = "PORT", value_parser = parse_port)]
    pub port: Option<u16>,

    /// Private key file; repeatable. Only these are tried then (default: ssh-agent,
    /// IdentityFile of ~/.ssh/config, ~/.ssh/id_*).
    #[arg(short = 'i', long = "identity", short_alias = 'k', value_name = "FILE")]
    pub identities: Vec<PathBuf>,

    /// Jump host(s) as OpenSSH: `[user@]host[:port][,...]`, first hop first.
    #[arg(
        short = 'J',
        long = "jump",
        visible_alias = "gateway",
        short_alias = 'g',
        value_name = "HOPS"
    )]
    pub jump: Option<String>,

    /// ssh config file (default ~/.ssh/config; `none` to read none).
    #[arg(short = 'F', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Seconds to set up a connection: TCP, SSH handshake, authentication
    /// (default: ConnectTimeout from ~/.ssh/config, else 10).
    #[arg(long, short_alias = 'c', value_name = "SECS", value_parser = parse_secs)]
    pub connect_timeout: Option<Duration>,

    /// Key exchange algorithms, as OpenSSH's KexAlgorithms: `a,b` only these, in
    /// this order; `^a` first, then the defaults; `+a` appended; `-a` removed
    /// (default: KexAlgorithms of ~/.ssh/config, else mlkem768x25519-sha256,
    /// curve25519-sha256, ...). `^ecdh-sha2-nistp256` costs OpenSSH servers
    /// less CPU per connection.
    #[arg(long, value_name = "ALGS", value_parser = parse_kex, allow_hyphen_values = true)]
    pub kex: Option<KexList>,

    /// known_hosts file to check host keys against; repeatable (default ~/.ssh/known_hosts).
    #[arg(long = "known-hosts", value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,

    /// Accept and record the keys of hosts not yet known (changed keys are still refused).
    #[arg(long, conflicts_with = "insecure_accept_any_host_key")]
    pub accept_new_host_keys: bool,

    /// Do not check host keys at all (man-in-the-middle attacks go unnoticed).
    #[arg(long)]
    pub insecure_accept_any_host_key: bool,

    /// Show connection and command events on stderr (-vv: also the plan).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// A checked `--kex` value: the key exchange algorithms to offer, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KexList(pub Vec<String>);

fn parse_kex(s: &str) -> Result<KexList, String> {
    let list = asyncjobs_ssh::config::kex_list(s);
    asyncjobs_ssh::check_kex_algorithms(&list).map_err(|e| e.to_string())?;
    Ok(KexList(list))
}

/// What to run.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Run")]
pub struct RunOpts {
    /// Hosts in flight at once (connections being set up or used), as pdsh's
    /// and clush's -f (pssh's -p).
    #[arg(
        short = 'f',
        long = "fanout",
        visible_alias = "window",
        value_name = "N",
        default_value_t = 32,
        value_parser = parse_fanout
    )]
    pub window: u64,

    /// Timeout of each command, push or pull on each host, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<Duration>,

    /// Send ajssh's standard input to the command on every host (read once,
    /// replayed to each; past 16 MiB it is spooled to a temporary file).
    /// Without -I, remote commands read end-of-file at once (as `ssh -n`).
    #[arg(short = 'I', long = "send-input")]
    pub send_input: bool,

    /// Upload this local script and run it; the command words are its arguments.
    #[arg(short = 's', long, value_name = "SCRIPT")]
    pub script: Option<PathBuf>,

    /// Copy these local files or directories to every host (needs --to).
    #[arg(long, value_name = "LOCAL", num_args = 1.., requires = "to")]
    pub push: Vec<PathBuf>,

    /// Remote destination of --push (a directory if it ends with / or exists).
    #[arg(long, value_name = "REMOTE", requires = "push")]
    pub to: Option<String>,

    /// Copy these remote files or directories from every host (needs --into).
    #[arg(long, value_name = "REMOTE", num_args = 1.., requires = "into")]
    pub pull: Vec<String>,

    /// Local directory for --pull: one subdirectory per host.
    #[arg(long, value_name = "LOCALDIR", requires = "pull")]
    pub into: Option<PathBuf>,

    /// Most bytes accepted per file pulled: `500M`, `4G` (K, M, G, T are
    /// powers of 1024), or `none` (default 1G). A larger file fails its host
    /// and leaves nothing behind.
    #[arg(long, value_name = "SIZE", requires = "pull", value_parser = parse_size)]
    pub max_file_size: Option<MaxFileSize>,
}

/// A checked `--max-file-size`: the cap in bytes, `None` for no cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxFileSize(pub Option<u64>);

fn parse_size(s: &str) -> Result<MaxFileSize, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(MaxFileSize(None));
    }
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => {
            return Err(format!(
                "`{s}`: expected a size such as 500M, 4G or 1048576, or `none`"
            ))
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}`: expected a size such as 500M, 4G or 1048576, or `none`"))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}`: too large (more than 16E)"))?;
    if bytes == 0 {
        return Err(format!(
            "`{s}`: must be at least 1 byte (`none` for no cap)"
        ));
    }
    Ok(MaxFileSize(Some(bytes)))
}

/// Where the output goes.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputOpts {
    #[command(flatten)]
    pub mode: ModeOpts,

    /// With -d: also write DIR/0ok/HOST and DIR/1failed/HOST marks.
    #[arg(short = 'm', long, requires = "out_dir")]
    pub mark: bool,

    /// No progress bar (it is only shown when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,

    /// Colours: host prefixes, stderr in red (auto: on terminals, unless NO_COLOR is set).
    #[arg(long, value_name = "WHEN", value_enum, default_value_t)]
    pub color: crate::color::ColorChoice,
}

/// The output mode: at most one of these.
#[derive(Debug, Clone, Default, Args)]
#[group(id = "mode", multiple = false)]
pub struct ModeOpts {
    /// Raw output: the bytes as they come, without host prefix.
    #[arg(short = 'r', long)]
    pub raw: bool,

    /// Prefix lines with the time of reception and the host.
    #[arg(long)]
    pub time: bool,

    /// One file per host in DIR: DIR/HOST (stdout) and DIR/HOST.err (stderr).
    #[arg(short = 'd', long = "out-dir", short_alias = 'o', value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Gather: hosts with identical output are shown once, in one block.
    #[arg(short = 'b', long)]
    pub gather: bool,

    /// One JSON object per host and line (stdout, stderr, status, timing, error).
    #[arg(long)]
    pub json: bool,
}

const SCENARIO_HELP: &str = "\
A TOML scenario (relative local paths are relative to the file):
  label = \"deploy\"   window = 8   timeout = 300      # all optional
  [nodes.gw]    host = \"bastion\"  user = \"admin\"
  [nodes.web1]  host = \"10.0.0.1\" user = \"root\" port = 22 gateway = \"gw\"
                identity = \"~/.ssh/key\"
  [nodes.here]  local = true
  [nodes.\"fit[01-10]\"]  host = \"{node}.lab\"  gateway = \"gw\"   # a node set
  [[job]]
  id = \"prepare\"   node = \"web1\"   run = \"apt-get update\"
  [[job]]                       # one job per node: probe@fit01 ... probe@fit10
  id = \"probe\"  nodes = \"fit[01-10]\"  run = \"uptime > /tmp/{node}.txt\"
  [[job]]                       # node by node: fetch@fit03 requires probe@fit03
  id = \"fetch\"  nodes = \"fit[01-10]\"  requires = \"probe\"   # or requires_all
  commands = [ { pull = \"/tmp/{node}.txt\", into = \"results/\" } ]
  [[job]]
  id = \"deploy\"    node = \"web1\"   requires = [\"prepare\"]
  critical = true  forever = false  timeout = 60     # per command
  commands = [ { push = [\"app.tgz\"], to = \"/tmp/\" },
               { script = \"install.sh\", args = [\"--quick\"] },
               { string = \"echo done\" },
               { run = \"systemctl restart app\", allowed_exits = [3, \"TERM\"] },
               { pull = [\"/var/log/app.log\"], into = \"logs/\" } ]
  [[group]]                     # a nested scheduler: id, requires, window,
  id = \"checks\"  requires = \"deploy\"   # timeout, critical, forever
    [[group.job]]  id = \"c1\"  node = \"here\"  run = \"curl -fsS http://10.0.0.1/\"
(TOML wants one key per line; they are packed here.) {node}, {host}, {user},
{port} and a node's `vars` are substituted in jobs; names in `nodes` that the
file does not define are ssh_config hosts. apssh's YAML files (nodes/jobs/
commands with `type: Run`...) are read too; .j2 files are Jinja templates
(-D name=value). `check` prints the plan; `run` takes the fan-out's output
options. Errors name the line and the job. Exit codes: 0 success, 1 the
scenario failed, 2 a host was unreachable, 64 bad file.";

/// Subcommands. Their names are not targets: a host named `man` is
/// written `-w man` or `man,`.
// parsed once per run: the size of the scenario variant does not matter
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Scenario files: jobs on nodes with requirements (TOML, or apssh's YAML).
    #[command(subcommand, after_help = SCENARIO_HELP)]
    Scenario(ScenarioCmd),
    /// Print the manual page (roff: `ajssh man | man -l -`, or save it as
    /// ajssh.1 in a man directory).
    Man,
    /// Print the completion script of a shell: `source <(ajssh completions
    /// bash)`, `ajssh completions zsh > ~/.zfunc/_ajssh`, `ajssh completions
    /// fish > ~/.config/fish/completions/ajssh.fish`.
    Completions(Completions),
}

/// `ajssh completions SHELL`
#[derive(Debug, Args)]
pub struct Completions {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `ajssh scenario ...`
#[derive(Debug, Subcommand)]
pub enum ScenarioCmd {
    /// Run a scenario file and print its listing.
    #[command(after_help = SCENARIO_HELP)]
    Run(Box<ScenarioRun>),
    /// Write the scenario's graph in dot format.
    Dot(ScenarioDot),
    /// Check a scenario file and print what would run, in order, without running it.
    #[command(after_help = SCENARIO_HELP)]
    Check(ScenarioCheck),
}

/// `ajssh scenario run FILE`
#[derive(Debug, Args)]
pub struct ScenarioRun {
    /// The scenario (.toml, or .yaml/.yml in apssh's format).
    pub file: PathBuf,
    /// Output options, as for a fan-out (each job is one "host" of the summary).
    #[command(flatten)]
    pub output: OutputOpts,
    /// Also write the graph with outcome colours to this .dot file after the run.
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
    /// A variable of Jinja templates (`.j2` files): `-D name=value`, repeatable.
    #[arg(short = 'D', long = "define", value_name = "NAME=VALUE")]
    pub defines: Vec<String>,
    #[command(flatten)]
    pub connect: ConnectOpts,
}

/// `ajssh scenario dot FILE`
#[derive(Debug, Args)]
pub struct ScenarioDot {
    /// The scenario (.toml, or .yaml/.yml in apssh's format).
    pub file: PathBuf,
    /// Where to write (default: FILE with the extension .dot; `-` for stdout).
    #[arg(short = 'o', long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// A variable of Jinja templates (`.j2` files): `-D name=value`, repeatable.
    #[arg(short = 'D', long = "define", value_name = "NAME=VALUE")]
    pub defines: Vec<String>,
}

/// `ajssh scenario check FILE`
#[derive(Debug, Args)]
pub struct ScenarioCheck {
    /// The scenario (.toml, or .yaml/.yml in apssh's format).
    pub file: PathBuf,
    /// A variable of Jinja templates (`.j2` files): `-D name=value`, repeatable.
    #[arg(short = 'D', long = "define", value_name = "NAME=VALUE")]
    pub defines: Vec<String>,
}

fn after_help() -> String {
    format!("{TARGET_HELP}\n\n{}", exit::HELP)
}

/// True when `s` reads as hosts rather than a number: letters, a node
/// set, a list (`node[01-03]`, `web1,web2`, `@web`).
fn looks_like_hosts(s: &str) -> bool {
    s.parse::<f64>().is_err()
        && (s.contains(['[', ',', '@', '.']) || s.chars().any(|c| c.is_ascii_alphabetic()))
}

/// The advice for a host list given where a number is expected.
fn hosts_hint(s: &str, what: &str) -> String {
    format!(
        "`{}` is not {what}; it looks like hosts: give them as TARGETS or with -w (as pdsh and clush)",
        asyncjobs_ssh::escape::escape_control(s)
    )
}

fn parse_fanout(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1 host in flight".into()),
        Ok(n) => Ok(n),
        Err(_) if looks_like_hosts(s) => Err(hosts_hint(s, "a number of hosts in flight")),
        Err(_) => Err(format!(
            "`{}` is not a number of hosts in flight (1 or more)",
            asyncjobs_ssh::escape::escape_control(s)
        )),
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(0) => Err("a port is 1 to 65535".into()),
        Ok(n) => Ok(n),
        Err(_) if looks_like_hosts(s) => Err(hosts_hint(s, "a port")),
        Err(_) => Err(format!(
            "`{}` is not a port (1 to 65535)",
            asyncjobs_ssh::escape::escape_control(s)
        )),
    }
}

/// `-w` takes targets: a bare number there is the old `-w N` (now -f N).
fn parse_target_word(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "-w takes targets (as in pdsh and clush), not a number: for {s} hosts in flight, use -f {s}"
        ));
    }
    Ok(s.to_string())
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    if looks_like_hosts(s) && s.parse::<f64>().is_err() {
        return Err(hosts_hint(s, "a number of seconds"));
    }
    let shown = asyncjobs_ssh::escape::escape_control(s);
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("`{shown}` is not a number of seconds"))?;
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("`{shown}`: must be more than 0 seconds"));
    }
    // a value that would round to no time at all is a mistake, not a wish
    if secs < 0.001 {
        return Err(format!("`{shown}`: must be at least 0.001 seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{shown}`: {e}"))
}

/// A parse failure: clap's error (help and version included) to print, and the exit code.
pub struct ParseExit {
    /// What to print.
    pub error: clap::Error,
    /// 0 for --help/--version, [`exit::USAGE`] otherwise.
    pub code: u8,
}

/// Parses the command line (program name first).
pub fn parse(args: Vec<OsString>) -> Result<Cli, ParseExit> {
    let split = args.iter().skip(1).position(|a| a == "--").map(|i| i + 1);
    let (front, command) = match split {
        Some(i) => (args[..i].to_vec(), args[i + 1..].to_vec()),
        None => (args, Vec::new()),
    };
    let mut cmd = Cli::command();
    // without `--` but with -t (apssh style), the words are the command: keep
    // them verbatim from the first one on (`uname -a`), options come first
    let verbatim = split.is_none() && front.iter().skip(1).any(is_targets_option);
    if verbatim {
        cmd = cmd.mut_arg("words", |a| {
            a.trailing_var_arg(true)
                .allow_hyphen_values(true)
                .num_args(0..)
        });
    }
    let fail = |error: clap::Error| {
        let code = match error.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                exit::OK
            }
            _ => exit::USAGE,
        };
        ParseExit { error, code }
    };
    let matches = cmd.try_get_matches_from_mut(front).map_err(fail)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(fail)?;
    if split.is_some() {
        cli.command = command
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
    } else if cli.sub.is_none() && !cli.words.is_empty() {
        let r = &cli.run;
        let needs_no_command = cli.list_targets
            || cli.print_config
            || r.script.is_some()
            || !r.push.is_empty()
            || !r.pull.is_empty();
        let keep = if cli.list_targets || cli.print_config {
            // listings run nothing: every word is a target, even with -t/-w
            cli.words.len()
        } else if verbatim {
            0
        } else if needs_no_command {
            cli.words.len()
        } else {
            1
        };
        cli.command = cli.words.split_off(keep);
    }
    if matches!(cli.sub, Some(Sub::Man | Sub::Completions(_))) && !cli.command.is_empty() {
        // `ajssh man -- uptime`: a host named `man` is written `-w man`
        return Err(fail(clap::Error::raw(
            clap::error::ErrorKind::UnknownArgument,
            "`man` and `completions` take no command; for a host of that name, write `-w man` or `man,`\n",
        )));
    }
    Ok(cli)
}

/// `-t` or `-w` (pdsh, clush, pssh): the targets are given by the option,
/// so all the words are the command.
fn is_targets_option(a: &OsString) -> bool {
    let a = a.to_string_lossy();
    a == "--targets"
        || a.starts_with("--targets=")
        || a == "--nodes"
        || a.starts_with("--nodes=")
        || ((a.starts_with("-t") || a.starts_with("-w")) && !a.starts_with("--"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Cli {
        let args = std::iter::once("ajssh")
            .chain(line.split_whitespace())
            .map(OsString::from)
            .collect();
        match parse(args) {
            Ok(c) => c,
            Err(e) => panic!("{line}: {}", e.error),
        }
    }

    fn err(line: &str) -> (String, u8) {
        let args = std::iter::once("ajssh")
            .chain(line.split_whitespace())
            .map(OsString::from)
            .collect();
        match parse(args) {
            Ok(c) => panic!("{line} parsed: {c:?}"),
            Err(e) => (e.error.to_string(), e.code),
        }
    }

    #[test]
    fn command_follows_double_dash_and_options_may_come_anywhere() {
        let c = p("h1 -f 4 h2 -- ls -l --all");
        assert_eq!(c.words, ["h1", "h2"]);
        assert_eq!(c.command, ["ls", "-l", "--all"]);
        assert_eq!(c.run.window, 4);
    }

    #[test]
    fn without_double_dash_the_first_word_is_the_targets() {
        let c = p("-u bob h1,h2 uname kernel");
        assert_eq!(c.words, ["h1,h2"]);
        assert_eq!(c.command, ["uname", "kernel"]);
        let (text, code) = err("h1 uname -a");
        assert_eq!(code, exit::USAGE);
        assert!(text.contains("'-- -a'"), "clap suggests `--`: {text}");
        assert_eq!(c.connect.user.as_deref(), Some("bob"));
    }

    #[test]
    fn with_target_files_all_words_are_the_command() {
        let c = p("-t hosts.txt -f 3 uname -a");
        assert!(c.words.is_empty());
        assert_eq!(c.target_sources, ["hosts.txt"]);
        assert_eq!(c.command, ["uname", "-a"]);
    }

    #[test]
    fn apssh_spellings_are_accepted() {
        let c = p("-l root -g gw -k key -t h -- true");
        assert_eq!(c.connect.user.as_deref(), Some("root"));
        assert_eq!(c.connect.jump.as_deref(), Some("gw"));
        assert_eq!(c.connect.identities, [PathBuf::from("key")]);
    }

    #[test]
    fn max_file_size_takes_binary_units_or_none() {
        let c = p("h --pull /f --into out --max-file-size 4G");
        assert_eq!(c.run.max_file_size, Some(MaxFileSize(Some(4 << 30))));
        assert_eq!(parse_size("512k"), Ok(MaxFileSize(Some(512 << 10))));
        assert_eq!(parse_size("10"), Ok(MaxFileSize(Some(10))));
        assert_eq!(parse_size("none"), Ok(MaxFileSize(None)));
        for bad in ["0", "1.5G", "G", "-1", "20000000T", "4 G", "4GB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn push_and_pull_take_several_paths() {
        let c = p("h1 h2 --push a b --to /tmp/ --pull /etc/hostname --into out");
        assert_eq!(c.run.push, [PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(c.run.to.as_deref(), Some("/tmp/"));
        assert_eq!(c.run.pull, ["/etc/hostname"]);
        assert_eq!(c.words, ["h1", "h2"]);
        assert!(c.command.is_empty());
    }

    #[test]
    fn print_config_takes_every_word_as_a_target() {
        let c = p("-G -F cfg -l bob -p 2222 web db");
        assert!(c.print_config);
        assert_eq!(c.words, ["web", "db"]);
        assert_eq!(c.connect.user.as_deref(), Some("bob"));
        assert_eq!(c.connect.port, Some(2222));
    }

    #[test]
    fn list_targets_takes_every_word_as_a_target() {
        let c = p("-L h1 h2");
        assert_eq!(c.words, ["h1", "h2"]);
    }

    #[test]
    fn scenario_subcommands_parse() {
        let c = p("scenario run plan.toml -v --known-hosts kh");
        match c.sub {
            Some(Sub::Scenario(ScenarioCmd::Run(r))) => {
                assert_eq!(r.file, PathBuf::from("plan.toml"));
                assert_eq!(r.connect.verbose, 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            p("scenario dot a.toml -o -").sub,
            Some(Sub::Scenario(ScenarioCmd::Dot(_)))
        ));
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for line in [
            "h -f 0 -- true",
            "h -f many -- true",
            "h -w 32 -- true",
            "h --timeout -1 -- true",
            "h --connect-timeout 1e-10 -- true",
            "h --timeout 1e30 -- true",
            "h --connect-timeout abc -- true",
            "h -p 70000 -- true",
            "h -r -b -- true",
            "h --json -d out -- true",
            "h -m -- true",
            "h --push a -- true",
            "h --into d -- true",
            "h --frobnicate -- true",
            "h --accept-new-host-keys --insecure-accept-any-host-key -- true",
            "h --kex ecdh-sha2-nistp999 -- true",
            "h --kex , -- true",
        ] {
            let (text, code) = err(line);
            assert_eq!(code, exit::USAGE, "{line}: {text}");
            assert!(text.starts_with("error:"), "{line}: {text}");
        }
    }

    #[test]
    fn kex_option_takes_an_openssh_style_list() {
        let c = p("--kex ^ecdh-sha2-nistp256 h -- true");
        let kex = c.connect.kex.unwrap().0;
        assert_eq!(kex[0], "ecdh-sha2-nistp256");
        assert_eq!(kex[1..], asyncjobs_ssh::default_kex_algorithms()[..]);
        let c = p("--kex=ecdh-sha2-nistp256,curve25519-sha256 h -- true");
        assert_eq!(
            c.connect.kex.unwrap().0,
            ["ecdh-sha2-nistp256", "curve25519-sha256"]
        );
        let c = p("--kex -mlkem768x25519-sha256 h -- true");
        assert_eq!(c.connect.kex.unwrap().0[0], "curve25519-sha256");
        let (text, _) = err("h --kex ecdh-sha2-nistp999 -- true");
        assert!(
            text.contains("unsupported key exchange algorithm `ecdh-sha2-nistp999`"),
            "{text}"
        );
    }

    #[test]
    fn help_is_not_an_error_and_documents_exit_codes() {
        let (text, code) = err("--help");
        assert_eq!(code, exit::OK);
        assert!(
            text.contains("Exit codes:") && text.contains("node[01-20,35]"),
            "{text}"
        );
    }
}
