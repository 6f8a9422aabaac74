//! `ajssh scenario run|check|dot FILE`: scenario files, loaded by the
//! library ([`asyncjobs_ssh::scenario`]: TOML, apssh's YAML, Jinja
//! templates, fan-out over node sets); this module gives it the command
//! line's connection options (through [`CliNodes`]) and prints.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use asyncjobs_core::{ErrorChain, ListOptions};
use asyncjobs_graph::DotOptions;
use asyncjobs_ssh::scenario::{Item, Loader, NodeDef, NodeMaker, Plan, Scenario};
use asyncjobs_ssh::{Formatter, HostFormatter, LocalNode, SshNode};

use crate::args::{ConnectOpts, ScenarioCheck, ScenarioDot, ScenarioRun};
use crate::exit;
use crate::fanout::Fail;
use crate::hosts::{HostSpec, NodeFactory, Resolver};
use crate::limits;
use crate::targets::Hop;

const INTERRUPTED: &str = "interrupted (signal)";

/// Nodes as the fan-out builds them: the command line's options (`-u`,
/// `-p`, `-i`, `-J`, `-F`, `--known-hosts`...), then the file, then ssh_config.
pub struct CliNodes {
    resolver: Resolver,
    factory: NodeFactory,
    formatter: Arc<dyn Formatter>,
}

impl CliNodes {
    /// Resolves with `connect`; node events go to `formatter`.
    pub fn new(connect: &ConnectOpts, formatter: Arc<dyn Formatter>) -> Result<CliNodes, Fail> {
        let resolver = Resolver::new(connect).map_err(Fail::usage)?;
        let factory = NodeFactory::new(Arc::clone(&formatter))
            .with_prompt(crate::passphrase::CliPrompt::new(None, None));
        Ok(CliNodes {
            resolver,
            factory,
            formatter,
        })
    }
}

impl NodeMaker for CliNodes {
    fn ssh_node(
        &self,
        def: &NodeDef,
        gateway: Option<&SshNode>,
        plan: &Plan,
    ) -> Result<SshNode, String> {
        let hop = Hop {
            user: def.user.clone(),
            host: def.host.clone().unwrap_or_else(|| def.id.name.clone()),
            port: def.port,
        };
        // no gateway in the file: -J or the ssh_config's ProxyJump, as for fan-outs
        let (mut endpoint, gateways) = self
            .resolver
            .endpoint_or(&hop, plan.default_user.as_deref())
            .map_err(|e| e.to_string())?;
        if !def.identities.is_empty() {
            endpoint.set_identities(def.identities.clone());
        }
        Ok(match gateway {
            Some(gw) => self.factory.build(&endpoint, &def.id.name, Some(gw)),
            None => self.factory.node(&HostSpec {
                endpoint,
                gateways,
                label: def.id.name.clone(),
            }),
        })
    }

    fn local_node(&self, def: &NodeDef, _plan: &Plan) -> LocalNode {
        LocalNode::new()
            .with_name(def.id.name.clone())
            .with_formatter(Arc::clone(&self.formatter))
    }
}

/// `-D name=value` pairs into template variables.
fn loader(defines: &[String]) -> Result<Loader, Fail> {
    let mut l = Loader::new();
    for d in defines {
        let (k, v) = d
            .split_once('=')
            .ok_or_else(|| Fail::usage(format!("-D `{d}`: expected NAME=VALUE")))?;
        l = l.variable(k.trim(), v);
    }
    Ok(l)
}

fn read(file: &Path, defines: &[String]) -> Result<Plan, Fail> {
    loader(defines)?.read(file).map_err(Fail::usage)
}

fn build(plan: Plan, connect: &ConnectOpts) -> Result<Scenario, Fail> {
    let formatter: Arc<dyn Formatter> = Arc::new(HostFormatter::new().verbose(connect.verbose > 0));
    let nodes = CliNodes::new(connect, formatter)?;
    plan.build(&nodes).map_err(Fail::usage)
}

/// `scenario run`: runs, closes the connections, prints the listing; exit 0 if the scenario succeeded, else 1.
pub fn run(r: &ScenarioRun) -> Result<u8, Fail> {
    let plan = read(&r.file, &r.defines)?;
    let mut scenario = build(plan, &r.connect)?;
    let s = scenario.scheduler_mut();
    // many nodes may be connected at once: make room for their sockets
    let _ = limits::raise_nofile();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Fail::local)?;
    // SIGINT, SIGTERM and SIGHUP stop the run as Ctrl-C does (see crate::stop)
    let stop = crate::stop::Stop::new();
    crate::stop::watch_signals(&stop)
        .map_err(|e| Fail::local(format!("cannot watch signals: {e}")))?;
    let outcome = rt.block_on(async {
        let outcome = tokio::select! {
            r = s.co_run() => r.map_err(|e| ErrorChain(&e).to_string()),
            _ = stop.wait() => Err(INTERRUPTED.to_string()),
        };
        // closes every connection, hosts before their gateways
        s.co_shutdown().await;
        outcome
    });
    // the listing; after a failure, the debrief: listing, then each error with its causes
    let opts = ListOptions::default();
    let text = match &outcome {
        Ok(true) => s.listing(&opts).unwrap_or_else(|_| s.listing_safe(&opts)),
        _ => s.debrief_text(&opts),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(Fail::local)?;
    out.flush().map_err(Fail::local)?;
    if let Some(path) = &r.dot {
        let msg = asyncjobs_graph::export_as_dotfile_with(s, path, &DotOptions::outcomes())
            .map_err(|e| Fail::local(ErrorChain(&e)))?;
        eprintln!("ajssh: {msg}");
    }
    match outcome {
        Ok(true) => Ok(exit::OK),
        Ok(false) => {
            eprintln!("ajssh: scenario {} failed: {}", r.file.display(), s.why());
            Ok(exit::FAILED)
        }
        Err(e) => {
            eprintln!("ajssh: scenario {}: {e}", r.file.display());
            Ok(match stop.reason() {
                Some(reason) if e == INTERRUPTED => reason.exit_code(),
                _ => exit::FAILED,
            })
        }
    }
}

/// `scenario dot`: writes the graph (no connection is made).
pub fn dot(d: &ScenarioDot) -> Result<u8, Fail> {
    let plan = read(&d.file, &d.defines)?;
    let scenario = build(plan, &ConnectOpts::default())?;
    let text = asyncjobs_graph::dot_format(scenario.scheduler())
        .map_err(|e| Fail::usage(ErrorChain(&e)))?;
    match d.output.as_deref() {
        Some(p) if p == Path::new("-") => {
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(Fail::local)?;
        }
        other => {
            let path = other
                .map(Path::to_path_buf)
                .unwrap_or_else(|| d.file.with_extension("dot"));
            std::fs::write(&path, text)
                .map_err(|e| Fail::local(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("ajssh: (over)wrote {}", path.display());
        }
    }
    Ok(exit::OK)
}

/// `scenario check`: the checks (local files included) and the plan —
/// nodes, jobs with their commands and requirements, waves — without
/// connecting.
pub fn check(c: &ScenarioCheck) -> Result<u8, Fail> {
    let plan = read(&c.file, &c.defines)?;
    plan.check_local_files().map_err(Fail::usage)?;
    let text = render_plan(&plan);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // `scenario check FILE | head`: the reader has seen enough
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::OK),
        Err(e) => Err(Fail::local(e)),
        Ok(()) => Ok(exit::OK),
    }
}

/// The plan, as `scenario check` prints it.
pub fn render_plan(plan: &Plan) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let jobs = plan.jobs();
    let _ = writeln!(
        s,
        "scenario {}: {} nodes, {} jobs",
        plan.file.display(),
        plan.nodes.len(),
        jobs.len()
    );
    let _ = writeln!(s, "========== nodes");
    for n in &plan.nodes {
        let mut line = format!("{}: ", n.id.name);
        if n.local {
            line.push_str("local");
        } else {
            if let Some(u) = &n.user {
                let _ = write!(line, "{u}@");
            }
            line.push_str(n.host.as_deref().unwrap_or(""));
            if let Some(p) = n.port {
                let _ = write!(line, ":{p}");
            }
            if let Some(g) = &n.gateway {
                let _ = write!(line, " via {}", g.name);
            }
            if n.implicit {
                line.push_str(" (from ssh_config)");
            }
        }
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s, "========== jobs");
    let waves = waves(&plan.items);
    for (path, j) in &jobs {
        let mut id = String::new();
        for g in path {
            let _ = write!(id, "{g}/");
        }
        id.push_str(&j.id.name);
        let mut flags = Vec::new();
        if !j.critical {
            flags.push("not critical");
        }
        if j.forever {
            flags.push("forever");
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" ({})", flags.join(", "))
        };
        let wave = waves.get(id.as_str()).copied().unwrap_or(0);
        let _ = writeln!(s, "{id} on {} [wave {wave}]{flags}", j.node.name);
        let reqs: Vec<&str> = j
            .requires
            .iter()
            .chain(&j.requires_all)
            .map(|r| r.name.as_str())
            .collect();
        if !reqs.is_empty() {
            let _ = writeln!(s, "    requires {}", reqs.join(", "));
        }
        for c in &j.commands {
            let _ = writeln!(s, "    {}", c.describe());
        }
    }
    let top = top_waves(&plan.items);
    let _ = writeln!(s, "========== {} waves", top.len());
    for (i, w) in top.iter().enumerate() {
        let shown: Vec<&str> = w.iter().take(8).map(String::as_str).collect();
        let more = w.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let _ = writeln!(s, "{}. {}{more}", i + 1, shown.join(" "));
    }
    s
}

/// The wave of each item of one scope: 1 + the highest wave it requires
/// (items of a group are numbered inside it). Linear: items are in file
/// order, a requirement may come later, so the levels are computed by a
/// topological pass.
fn scope_waves(items: &[Item]) -> Vec<usize> {
    let index: std::collections::HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id().name.as_str(), i))
        .collect();
    let mut wave = vec![0usize; items.len()];
    let mut pending: Vec<usize> = vec![0; items.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for (i, it) in items.iter().enumerate() {
        for r in it.requires() {
            if let Some(&k) = index.get(r.name.as_str()) {
                pending[i] += 1;
                users[k].push(i);
            }
        }
    }
    let mut ready: Vec<usize> = (0..items.len()).filter(|&i| pending[i] == 0).collect();
    for &i in &ready {
        wave[i] = 1;
    }
    while let Some(i) = ready.pop() {
        for &u in &users[i] {
            wave[u] = wave[u].max(wave[i] + 1);
            pending[u] -= 1;
            if pending[u] == 0 {
                ready.push(u);
            }
        }
    }
    wave
}

fn top_waves(items: &[Item]) -> Vec<Vec<String>> {
    let w = scope_waves(items);
    let mut out: Vec<Vec<String>> = Vec::new();
    for (it, &k) in items.iter().zip(&w) {
        let k = k.max(1);
        if out.len() < k {
            out.resize(k, Vec::new());
        }
        out[k - 1].push(it.id().name.clone());
    }
    out
}

fn waves(items: &[Item]) -> BTreeMap<String, usize> {
    fn walk(items: &[Item], prefix: &str, out: &mut BTreeMap<String, usize>) {
        for (it, w) in items.iter().zip(scope_waves(items)) {
            let id = format!("{prefix}{}", it.id().name);
            if let Item::Group(g) = it {
                walk(&g.items, &format!("{id}/"), out);
            }
            out.insert(id, w);
        }
    }
    let mut out = BTreeMap::new();
    walk(items, "", &mut out);
    out
}
