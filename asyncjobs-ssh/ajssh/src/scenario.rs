//! `ajssh scenario run|check|dot FILE`: scenario files, loaded by the
//! library ([`asyncjobs_ssh::scenario`]: TOML, apssh's YAML, Jinja
//! templates, fan-out over node sets); this module gives it the command
//! line's connection options (through [`CliNodes`]) and prints.

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
    let mut s = String::with_capacity(128 * plan.items.len() + 4096);
    let _ = writeln!(
        s,
        "scenario {}: {} nodes, {} jobs",
        plan.file.display(),
        plan.nodes.len(),
        count_jobs(&plan.items)
    );
    let _ = writeln!(s, "========== nodes");
    for n in &plan.nodes {
        let _ = write!(s, "{}: ", n.id.name);
        if n.local {
            s.push_str("local");
        } else {
            if let Some(u) = &n.user {
                let _ = write!(s, "{u}@");
            }
            s.push_str(n.host.as_deref().unwrap_or(""));
            if let Some(p) = n.port {
                let _ = write!(s, ":{p}");
            }
            if let Some(g) = &n.gateway {
                let _ = write!(s, " via {}", g.name);
            }
            if n.implicit {
                s.push_str(" (from ssh_config)");
            }
        }
        s.push('\n');
    }
    let _ = writeln!(s, "========== jobs");
    let top = scope_waves(&plan.items);
    render_items(&mut s, &plan.items, &top, "");
    let mut waves: Vec<Vec<&str>> = Vec::new();
    for (it, &k) in plan.items.iter().zip(&top) {
        let k = k.max(1);
        if waves.len() < k {
            waves.resize(k, Vec::new());
        }
        waves[k - 1].push(&it.id().name);
    }
    let _ = writeln!(s, "========== {} waves", waves.len());
    for (i, w) in waves.iter().enumerate() {
        let _ = write!(s, "{}.", i + 1);
        for id in w.iter().take(8) {
            let _ = write!(s, " {id}");
        }
        if w.len() > 8 {
            let _ = write!(s, " and {} more", w.len() - 8);
        }
        s.push('\n');
    }
    s
}

fn count_jobs(items: &[Item]) -> usize {
    items
        .iter()
        .map(|i| match i {
            Item::Job(_) => 1,
            Item::Group(g) => count_jobs(&g.items),
        })
        .sum()
}

/// Each job of a scope (groups' jobs as `group/job`, numbered inside their group).
fn render_items(s: &mut String, items: &[Item], waves: &[usize], prefix: &str) {
    use std::fmt::Write as _;
    for (it, &wave) in items.iter().zip(waves) {
        match it {
            Item::Group(g) => {
                let inner = scope_waves(&g.items);
                render_items(s, &g.items, &inner, &format!("{prefix}{}/", g.id.name));
            }
            Item::Job(j) => {
                let _ = write!(s, "{prefix}{} on {} [wave {wave}]", j.id.name, j.node.name);
                match (j.critical, j.forever) {
                    (true, false) => {}
                    (false, false) => s.push_str(" (not critical)"),
                    (true, true) => s.push_str(" (forever)"),
                    (false, true) => s.push_str(" (not critical, forever)"),
                }
                s.push('\n');
                let mut reqs = j.requires.iter().chain(&j.requires_all);
                if let Some(first) = reqs.next() {
                    let _ = write!(s, "    requires {}", first.name);
                    for r in reqs {
                        let _ = write!(s, ", {}", r.name);
                    }
                    s.push('\n');
                }
                for c in &j.commands {
                    let _ = writeln!(s, "    {}", c.describe());
                }
            }
        }
    }
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
