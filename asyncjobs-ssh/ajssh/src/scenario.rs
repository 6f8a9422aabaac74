//! `ajssh scenario run|check|dot FILE`: scenario files, loaded by the
//! library ([`asyncjobs_ssh::scenario`]: TOML, apssh's YAML, Jinja
//! templates, fan-out over node sets); this module gives it the command
//! line's connection options (through [`CliNodes`]) and prints.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use asyncjobs_core::{AbstractJob, ErrorChain, JobError, ListOptions};
use asyncjobs_graph::DotOptions;
use asyncjobs_ssh::scenario::{
    waves, Item, JobDef, Loader, NodeDef, NodeMaker, Plan, Scenario, ScenarioJob,
};
use asyncjobs_ssh::{
    Formatter, HostFormatter, LocalNode, RawFormatter, SshError, SshJob, SshNode, SshOutput,
    SshTask, Stream, TimeHostFormatter,
};

use crate::args::{ConnectOpts, ScenarioCheck, ScenarioDot, ScenarioRun};
use crate::exit;
use crate::fanout::Fail;
use crate::hosts::{HostSpec, NodeFactory, Resolver};
use crate::limits;
use crate::output::capture::HostCapture;
use crate::output::{HostResult, Mode, Output};
use crate::progress::Progress;
use crate::stop::{Reason, Stop};
use crate::targets::Hop;
use crate::writer::Writer;

const INTERRUPTED: &str = "interrupted (signal)";

/// Nodes as the fan-out builds them: the command line's options (`-u`,
/// `-p`, `-i`, `-J`, `-F`, `--known-hosts`...), then the file, then ssh_config.
pub struct CliNodes {
    resolver: Resolver,
    factory: NodeFactory,
    formatter: Arc<dyn Formatter>,
    report: Option<Report>,
}

/// Where `scenario run` sends each job's output and outcome: the fan-out's
/// [`Output`] (modes, `-b`, `--json`, progress, summary).
struct Report {
    output: Arc<Output>,
    writer: Writer,
    mode: Mode,
    verbose: bool,
    stop: Arc<Stop>,
    next: AtomicUsize,
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
            report: None,
        })
    }

    /// Jobs report to `output` (their lines and their outcome).
    fn reporting(mut self, r: Report) -> Self {
        self.report = Some(r);
        self
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
                name: def.id.name.clone(),
            }),
        })
    }

    fn local_node(&self, def: &NodeDef, _plan: &Plan) -> LocalNode {
        LocalNode::new()
            .with_name(def.id.name.clone())
            .with_formatter(Arc::clone(&self.formatter))
    }

    fn job(&self, def: &JobDef, plan: &Plan, job: SshJob) -> ScenarioJob {
        let Some(r) = &self.report else {
            return ScenarioJob::new(job);
        };
        // apssh's `formatter:` of the node, unless an option chose the output
        let node_formatter = plan
            .node(&def.node.name)
            .and_then(|n| n.formatter.as_deref());
        let (out, err) = (
            || r.writer.sink(Stream::Stdout),
            || r.writer.sink(Stream::Stderr),
        );
        let own: Option<Arc<dyn Formatter>> = match (&r.mode, node_formatter) {
            (Mode::Prefixed, Some("TimeHostFormatter" | "TimeColonFormatter")) => Some(Arc::new(
                TimeHostFormatter::with_writers(out(), err()).verbose(r.verbose),
            )),
            (Mode::Prefixed, Some("RawFormatter")) => Some(Arc::new(
                RawFormatter::with_writers(out(), err()).verbose(r.verbose),
            )),
            _ => None,
        };
        let capture = match own {
            Some(f) => Arc::new(HostCapture::new(Some(f), None)),
            None => r.output.host_formatter(),
        };
        let job = job.formatter(capture.clone());
        if def.forever {
            // never ends by itself: not a "host" of the summary
            return ScenarioJob::new(job);
        }
        ScenarioJob::wrap(ReportingJob {
            job,
            order: r.next.fetch_add(1, Ordering::SeqCst),
            label: def.id.name.clone(),
            target: def.node.name.clone(),
            capture,
            output: Arc::clone(&r.output),
            stop: Arc::clone(&r.stop),
        })
    }
}

/// A scenario job that hands its outcome to the [`Output`] as soon as it
/// ends, as a fan-out host does (JSON record, `-b` block, `-d` mark, tallies).
struct ReportingJob {
    job: SshJob,
    order: usize,
    label: String,
    target: String,
    capture: Arc<HostCapture>,
    output: Arc<Output>,
    stop: Arc<Stop>,
}

#[asyncjobs_core::async_trait]
impl AbstractJob for ReportingJob {
    type Output = SshOutput;

    async fn co_run(&self) -> Result<SshOutput, JobError> {
        let start = self.output.started().elapsed();
        let t0 = Instant::now();
        let result = self.job.execute().await;
        // failed because the run is stopping: counted as not run
        if !(result.is_err() && self.stop.reason().is_some()) {
            let (status, error_kind, error) = crate::hostjob::classify(&result);
            let exit_status = match &result {
                Err(e) => e.status().cloned(),
                Ok(_) => None,
            };
            let r = HostResult {
                order: self.order,
                label: self.label.clone(),
                target: self.target.clone(),
                status,
                error_kind,
                error,
                exit_code: exit_status.as_ref().and_then(|s| s.code()),
                signal: exit_status
                    .as_ref()
                    .and_then(|s| s.signal().map(str::to_string)),
                start,
                duration: t0.elapsed(),
                capture: Arc::clone(&self.capture),
            };
            if let Err(e) = self.output.finish_host(r) {
                if self.stop.reason().is_none() {
                    eprintln!("ajssh: error: {e}");
                }
            }
        }
        result.map_err(SshError::into_job_error)
    }

    async fn co_shutdown(&self) {
        self.job.task().co_shutdown().await
    }

    fn kind(&self) -> String {
        self.job.task().kind()
    }

    fn default_label(&self) -> String {
        self.job.task().default_label()
    }

    fn details(&self) -> Option<String> {
        self.job.task().details()
    }

    fn graph_details(&self) -> Option<String> {
        self.job.task().graph_details()
    }

    fn graph_target(&self) -> Option<String> {
        self.job.task().graph_target()
    }

    fn result_text(output: &SshOutput) -> String {
        <SshTask as AbstractJob>::result_text(output)
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

/// `scenario run`: runs with the fan-out's output (modes, `-b`, `--json`,
/// progress, summary), closes the connections, prints the listing (or the
/// debrief; on stderr with `--json`); exit 0 if the scenario succeeded, else
/// the fan-out's codes (2 when a host was unreachable, 1 otherwise).
pub fn run(r: &ScenarioRun) -> Result<u8, Fail> {
    let plan = read(&r.file, &r.defines)?;
    let total = plan.jobs().iter().filter(|(_, j)| !j.forever).count();
    let mode = crate::fanout::mode_of(&r.output.mode);
    let verbose = r.connect.verbose > 0;
    let stop = Stop::new();
    let progress = Arc::new(Progress::new(total, !r.output.no_progress));
    let writer = Writer::start(Arc::clone(&progress), Arc::clone(&stop)).map_err(Fail::local)?;
    let output = Arc::new(
        Output::new(
            mode.clone(),
            verbose,
            r.output.mark,
            total,
            Arc::clone(&progress),
            writer.clone(),
            crate::color::Colors::detect(r.output.color),
        )
        .map_err(Fail::local)?,
    );
    let json = mode == Mode::Json;
    let nodes = CliNodes::new(&r.connect, output.node_formatter())?.reporting(Report {
        output: Arc::clone(&output),
        writer: writer.clone(),
        mode,
        verbose,
        stop: Arc::clone(&stop),
        next: AtomicUsize::new(0),
    });
    let mut scenario = plan.build(&nodes).map_err(Fail::usage)?;
    let s = scenario.scheduler_mut();
    // many nodes may be connected at once: make room for their sockets
    let _ = limits::raise_nofile();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Fail::local)?;
    // SIGINT, SIGTERM and SIGHUP stop the run as Ctrl-C does (see crate::stop)
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
    let summary_code = output.finish(verbose).map_err(Fail::local)?;
    // the listing; after a failure, the debrief: listing, then each error with its causes
    let opts = ListOptions::default();
    let text = match &outcome {
        Ok(true) => s.listing(&opts).unwrap_or_else(|_| s.listing_safe(&opts)),
        _ => s.debrief_text(&opts),
    };
    if json {
        writer.eprint(&text);
    } else {
        let _ = writer.sink(Stream::Stdout).send(text.into_bytes());
    }
    let written = writer.finish();
    if let Some(path) = &r.dot {
        let msg = asyncjobs_graph::export_as_dotfile_with(s, path, &DotOptions::outcomes())
            .map_err(|e| Fail::local(ErrorChain(&e)))?;
        eprintln!("ajssh: {msg}");
    }
    if let Some(reason @ (Reason::ClosedStdout | Reason::StdoutError)) = stop.reason() {
        return Ok(reason.exit_code());
    }
    written.map_err(Fail::local)?;
    match outcome {
        Ok(true) => Ok(exit::OK),
        Ok(false) => {
            eprintln!("ajssh: scenario {} failed: {}", r.file.display(), s.why());
            Ok(summary_code.max(exit::FAILED))
        }
        Err(e) => {
            eprintln!("ajssh: scenario {}: {e}", r.file.display());
            Ok(match stop.reason() {
                Some(reason) if e == INTERRUPTED => reason.exit_code(),
                _ => summary_code.max(exit::FAILED),
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
    let top = waves(&plan.items);
    render_items(&mut s, &plan.items, &top, "");
    // items by wave, in file order within one (a chain of 100,000 jobs has
    // 100,000 waves)
    let count = top.iter().map(|&k| k.max(1)).max().unwrap_or(0);
    let by_item: Vec<(usize, usize)> = top
        .iter()
        .enumerate()
        .map(|(i, &k)| (k.max(1) - 1, i))
        .collect();
    let (starts, by_wave) = buckets(count, &by_item);
    let _ = writeln!(s, "========== {count} waves");
    for k in 0..count {
        let wave = &by_wave[starts[k]..starts[k + 1]];
        let _ = write!(s, "{}.", k + 1);
        for &i in wave.iter().take(8) {
            let _ = write!(s, " {}", plan.items[i].id().name);
        }
        if wave.len() > 8 {
            let _ = write!(s, " and {} more", wave.len() - 8);
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
fn render_items(s: &mut String, items: &[Item], of_items: &[usize], prefix: &str) {
    use std::fmt::Write as _;
    for (it, &wave) in items.iter().zip(of_items) {
        match it {
            Item::Group(g) => {
                let inner = waves(&g.items);
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

/// The values of `pairs` grouped by key, in their order within a key (a
/// counting sort): key `k`'s are `values[starts[k]..starts[k + 1]]`. Keys
/// are below `count`.
fn buckets(count: usize, pairs: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
    let mut starts = vec![0usize; count + 1];
    for &(k, _) in pairs {
        starts[k + 1] += 1;
    }
    for k in 0..count {
        starts[k + 1] += starts[k];
    }
    let mut fill = starts.clone();
    let mut values = vec![0usize; pairs.len()];
    for &(k, v) in pairs {
        values[fill[k]] = v;
        fill[k] += 1;
    }
    (starts, values)
}

#[cfg(test)]
mod tests {
    use super::buckets;

    #[test]
    fn buckets_group_values_by_key_in_order() {
        let (starts, values) = buckets(3, &[(2, 10), (0, 11), (2, 12), (0, 13)]);
        assert_eq!(starts, vec![0, 2, 2, 4]);
        assert_eq!(&values[starts[0]..starts[1]], &[11, 13]);
        assert!(values[starts[1]..starts[2]].is_empty());
        assert_eq!(&values[starts[2]..starts[3]], &[10, 12]);
        assert_eq!(buckets(0, &[]), (vec![0], vec![]));
    }
}
