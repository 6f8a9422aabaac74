//! A checked [`Plan`] into a [`Scenario`]: nodes (gateways first, through a
//! [`NodeMaker`]), then each scope's jobs and groups, then their
//! requirements.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use asyncjobs_core::{AbstractJob, JobError, JobExt, JobRef, Scheduler};

use crate::config::{Overrides, SshConfig};
use crate::{
    Formatter, HostKeyPolicy, LocalNode, Node, Pull, Push, Run, RunScript, RunString, SshCommand,
    SshJob, SshNode, SshOutput, SshTask,
};

use super::error::{ErrorKind, ScenarioError};
use super::plan::{CommandDef, GroupDef, Item, JobDef, NodeDef, Plan};
use super::Scenario;

/// Turns the nodes of a scenario into nodes: the CLI's applies its
/// command-line options; [`ConfigNodes`] resolves hosts through an ssh_config.
pub trait NodeMaker {
    /// The SSH node of `def`, behind `gateway` when the file names one (the
    /// gateway's node, built first); `plan` gives the defaults (e.g.
    /// [`Plan::default_user`]). The error is a message; the loader adds the
    /// file, line and node.
    fn ssh_node(
        &self,
        def: &NodeDef,
        gateway: Option<&SshNode>,
        plan: &Plan,
    ) -> Result<SshNode, String>;

    /// The local node of `def`.
    fn local_node(&self, def: &NodeDef, _plan: &Plan) -> LocalNode {
        LocalNode::new().with_name(def.id.name.clone())
    }

    /// The job added for `def` (fanned out: one call per copy), given the
    /// [`SshJob`] built from the file: by default as it is; a program may
    /// give it its own formatter, or wrap it to report its outcome as soon
    /// as it ends (`ajssh scenario run` does both). Called in file order.
    fn job(&self, _def: &JobDef, _plan: &Plan, job: SshJob) -> ScenarioJob {
        ScenarioJob::new(job)
    }
}

/// A job of a scenario: the [`SshJob`] built from the file, or a job of the
/// program's that wraps it (see [`NodeMaker::job`]).
pub struct ScenarioJob(Inner);

enum Inner {
    Ssh(SshJob),
    Wrapped(Box<dyn AbstractJob<Output = SshOutput>>),
}

impl ScenarioJob {
    /// The job as built from the file.
    pub fn new(job: SshJob) -> ScenarioJob {
        ScenarioJob(Inner::Ssh(job))
    }

    /// A job object of the program's (typically holding the [`SshJob`] and
    /// running it with [`SshJob::execute`]); the file's label, `critical`
    /// and `forever` are applied to it.
    pub fn wrap(job: impl AbstractJob<Output = SshOutput>) -> ScenarioJob {
        ScenarioJob(Inner::Wrapped(Box::new(job)))
    }
}

/// A wrapped job, as the scheduler holds it.
struct Wrapped(Box<dyn AbstractJob<Output = SshOutput>>);

#[asyncjobs_core::async_trait]
impl AbstractJob for Wrapped {
    type Output = SshOutput;

    async fn co_run(&self) -> Result<SshOutput, JobError> {
        self.0.co_run().await
    }

    async fn co_shutdown(&self) {
        self.0.co_shutdown().await
    }

    fn kind(&self) -> String {
        self.0.kind()
    }

    fn default_label(&self) -> String {
        self.0.default_label()
    }

    fn default_graph_label(&self) -> Option<String> {
        self.0.default_graph_label()
    }

    fn details(&self) -> Option<String> {
        self.0.details()
    }

    fn graph_details(&self) -> Option<String> {
        self.0.graph_details()
    }

    fn graph_target(&self) -> Option<String> {
        self.0.graph_target()
    }

    fn result_text(output: &SshOutput) -> String {
        <SshTask as AbstractJob>::result_text(output)
    }
}

/// Nodes resolved through an ssh_config, as `ssh HOST` resolves them: the
/// file's `user`, `port`, `identity` and `gateway` win over the config, a
/// node with no gateway in the file follows the config's `ProxyJump`.
pub struct ConfigNodes {
    config: SshConfig,
    formatter: Option<Arc<dyn Formatter>>,
    policy: Option<HostKeyPolicy>,
    known_hosts: Vec<PathBuf>,
}

impl ConfigNodes {
    /// Nodes resolved through `config`.
    pub fn new(config: SshConfig) -> ConfigNodes {
        ConfigNodes {
            config,
            formatter: None,
            policy: None,
            known_hosts: Vec::new(),
        }
    }

    /// Every node's output and events go to `formatter`.
    pub fn formatter(mut self, formatter: Arc<dyn Formatter>) -> Self {
        self.formatter = Some(formatter);
        self
    }

    /// This host key policy instead of the config's `StrictHostKeyChecking`.
    pub fn host_key_policy(mut self, policy: HostKeyPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// These known_hosts files instead of the config's.
    pub fn known_hosts_files(mut self, files: impl IntoIterator<Item = PathBuf>) -> Self {
        self.known_hosts = files.into_iter().collect();
        self
    }

    fn builder(
        &self,
        hc: &crate::config::HostConfig,
        def: Option<&NodeDef>,
    ) -> crate::SshNodeBuilder {
        let mut hc = hc.clone();
        if let Some(d) = def.filter(|d| !d.identities.is_empty()) {
            // only the file's keys
            hc.identity_files = d.identities.clone();
            hc.use_agent = false;
        }
        if !self.known_hosts.is_empty() {
            hc.user_known_hosts_files = self.known_hosts.clone();
            hc.global_known_hosts_files = Vec::new();
        }
        let mut b = hc.node_builder();
        if let Some(p) = self.policy {
            b = b.host_key_policy(p);
        }
        if let Some(f) = &self.formatter {
            b = b.formatter(Arc::clone(f));
        }
        b
    }
}

impl NodeMaker for ConfigNodes {
    fn ssh_node(
        &self,
        def: &NodeDef,
        gateway: Option<&SshNode>,
        plan: &Plan,
    ) -> Result<SshNode, String> {
        let host = def.host.as_deref().unwrap_or(&def.id.name);
        let mut ov = Overrides::new();
        ov.user = def.user.clone();
        ov.port = def.port;
        if gateway.is_some() {
            // the file's gateway, not the config's
            ov = ov.direct();
        }
        let route = self.config.route(host, &ov).map_err(|e| e.to_string())?;
        let mut hops = route.into_hops();
        let mut target = hops.pop().ok_or_else(|| format!("no route to `{host}`"))?;
        if let Some(u) = &plan.default_user {
            if def.user.is_none() && target.user_is_local_default() {
                target.user = u.clone();
            }
        }
        let mut gw: Option<SshNode> = gateway.cloned();
        for h in &hops {
            let mut b = self.builder(h, None);
            if let Some(g) = &gw {
                b = b.gateway(g);
            }
            gw = Some(b.build());
        }
        let mut b = self
            .builder(&target, Some(def))
            .display_name(def.id.name.clone());
        if let Some(g) = &gw {
            b = b.gateway(g);
        }
        Ok(b.build())
    }

    fn local_node(&self, def: &NodeDef, _plan: &Plan) -> LocalNode {
        let n = LocalNode::new().with_name(def.id.name.clone());
        match &self.formatter {
            Some(f) => n.with_formatter(Arc::clone(f)),
            None => n,
        }
    }
}

/// Builds the nodes and the scheduler of a checked, fanned-out plan.
pub(crate) fn scenario(plan: Plan, maker: &dyn NodeMaker) -> Result<Scenario, ScenarioError> {
    let nodes = build_nodes(&plan, maker)?;
    let mut s = Scheduler::new()
        .critical(plan.critical)
        .jobs_window(plan.window);
    if let Some(l) = &plan.label {
        s = s.label(l.clone());
    }
    if let Some(t) = plan.timeout {
        s = s.timeout(t);
    }
    let mut jobs = HashMap::new();
    let ctx = Fill {
        nodes: &nodes,
        plan: &plan,
        maker,
    };
    fill(&ctx, &mut s, &plan.items, Some(&mut jobs))?;
    Ok(Scenario {
        plan,
        scheduler: s,
        nodes,
        jobs,
    })
}

/// Every node, each gateway before the nodes behind it (iteratively: a
/// chain of gateways may be long).
fn build_nodes(
    plan: &Plan,
    maker: &dyn NodeMaker,
) -> Result<BTreeMap<String, Node>, ScenarioError> {
    let defs: HashMap<&str, &NodeDef> =
        plan.nodes.iter().map(|n| (n.id.name.as_str(), n)).collect();
    let mut built: BTreeMap<String, Node> = BTreeMap::new();
    for n in &plan.nodes {
        let mut chain: Vec<&NodeDef> = Vec::new();
        let mut cur = Some(n);
        while let Some(d) = cur {
            if built.contains_key(&d.id.name) {
                break;
            }
            chain.push(d);
            cur = d
                .gateway
                .as_ref()
                .and_then(|g| defs.get(g.name.as_str()).copied());
        }
        for d in chain.into_iter().rev() {
            let node = if d.local {
                Node::Local(maker.local_node(d, plan))
            } else {
                let gateway = d
                    .gateway
                    .as_ref()
                    .and_then(|g| built.get(&g.name))
                    .and_then(Node::as_ssh)
                    .cloned();
                let ssh = maker.ssh_node(d, gateway.as_ref(), plan).map_err(|m| {
                    ScenarioError::new(
                        ErrorKind::Node,
                        &plan.file,
                        d.id.line,
                        Some(format!("node `{}`", d.id.name)),
                        m,
                    )
                })?;
                Node::Ssh(ssh)
            };
            built.insert(d.id.name.clone(), node);
        }
    }
    Ok(built)
}

/// What every scope's filling needs.
struct Fill<'a> {
    nodes: &'a BTreeMap<String, Node>,
    plan: &'a Plan,
    maker: &'a dyn NodeMaker,
}

fn fill(
    ctx: &Fill<'_>,
    s: &mut Scheduler,
    items: &[Item],
    top: Option<&mut HashMap<String, JobRef>>,
) -> Result<(), ScenarioError> {
    let (nodes, base, file) = (ctx.nodes, ctx.plan.base.as_path(), ctx.plan.file.as_path());
    let mut refs: HashMap<&str, JobRef> = HashMap::with_capacity(items.len());
    for item in items {
        let r = match item {
            Item::Job(j) => {
                let node = nodes.get(&j.node.name).ok_or_else(|| {
                    ScenarioError::invalid(
                        file,
                        j.node.line,
                        Some(format!("job `{}`", j.id.name)),
                        format!("unknown node `{}`", j.node.name),
                    )
                })?;
                let local = matches!(node, Node::Local(_));
                let mut job = SshJob::new(node);
                if let Some(t) = j.timeout {
                    job = job.command_timeout(t);
                }
                for c in &j.commands {
                    job = job.command_arc(command(c, local.then_some(base)));
                }
                let label = j.label.clone().unwrap_or_else(|| j.id.name.clone());
                match ctx.maker.job(j, ctx.plan, job).0 {
                    Inner::Ssh(job) => s
                        .add(job.label(label).critical(j.critical).forever(j.forever))
                        .job_ref(),
                    Inner::Wrapped(w) => s
                        .add(
                            Wrapped(w)
                                .label(label)
                                .critical(j.critical)
                                .forever(j.forever),
                        )
                        .job_ref(),
                }
            }
            Item::Group(g) => s.add(group(ctx, g)?).job_ref(),
        };
        refs.insert(&item.id().name, r);
    }
    for item in items {
        let reqs: Vec<JobRef> = item
            .requires()
            .filter_map(|r| refs.get(r.name.as_str()).copied())
            .collect();
        if !reqs.is_empty() {
            if let Some(me) = refs.get(item.id().name.as_str()) {
                s.add_requirement(me, reqs).map_err(|e| {
                    ScenarioError::invalid(
                        file,
                        item.id().line,
                        Some(format!("{} `{}`", item.what(), item.id().name)),
                        e.to_string(),
                    )
                })?;
            }
        }
    }
    if let Some(top) = top {
        top.extend(refs.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
    Ok(())
}

fn group(ctx: &Fill<'_>, g: &GroupDef) -> Result<Scheduler, ScenarioError> {
    let mut s = Scheduler::new()
        .label(g.label.clone().unwrap_or_else(|| g.id.name.clone()))
        .critical(g.critical)
        .forever(g.forever)
        .jobs_window(g.window);
    if let Some(t) = g.timeout {
        s = s.timeout(t);
    }
    fill(ctx, &mut s, &g.items, None)?;
    Ok(s)
}

/// The options a scenario may give any shell command (`Run`, `RunScript`,
/// `RunString`: the same builder methods on different types).
macro_rules! shell_options {
    ($cmd:expr, $allowed:expr, $label:expr, $timeout:expr) => {{
        let mut r = $cmd.allow_exits($allowed.clone());
        if let Some(l) = $label {
            r = r.with_label(l.clone());
        }
        if let Some(t) = $timeout {
            r = r.timeout(*t);
        }
        r
    }};
}

/// The argument text and include files of an installed script (`RunScript`, `RunString`).
macro_rules! script_options {
    ($cmd:expr, $args:expr, $includes:expr) => {{
        let mut r = $cmd;
        if !$args.is_empty() {
            r = r.raw_arg($args);
        }
        for i in $includes {
            r = r.include(i.clone());
        }
        r
    }};
}

/// A command; on a local node (`local_base`: the scenario's directory),
/// command lines run in that directory and relative paths are from it.
fn command(c: &CommandDef, local_base: Option<&Path>) -> Arc<dyn SshCommand> {
    let here = |p: &str| match local_base {
        Some(b) if !Path::new(p).is_absolute() && b != Path::new(".") => {
            b.join(p).display().to_string()
        }
        _ => p.to_string(),
    };
    match c {
        CommandDef::Run {
            line,
            allowed,
            label,
            timeout,
        } => {
            let (r, label) = match local_base {
                Some(b) if b != Path::new(".") => (
                    Run::new(format!(
                        "cd {} && {line}",
                        crate::shell_quote(&b.display().to_string())
                    )),
                    label.clone().or_else(|| Some(line.clone())),
                ),
                _ => (Run::new(line.clone()), label.clone()),
            };
            let label = &label;
            Arc::new(shell_options!(r, allowed, label, timeout))
        }
        CommandDef::Script {
            path,
            args,
            includes,
            allowed,
            label,
            timeout,
        } => {
            let r = script_options!(RunScript::new(path.clone()), args, includes);
            Arc::new(shell_options!(r, allowed, label, timeout))
        }
        CommandDef::String {
            body,
            args,
            includes,
            allowed,
            label,
            timeout,
        } => {
            let r = script_options!(RunString::new(body.clone()), args, includes);
            Arc::new(shell_options!(r, allowed, label, timeout))
        }
        CommandDef::Push {
            local,
            remote,
            label,
        } => {
            let p = Push::new(local.clone(), here(remote));
            Arc::new(match label {
                Some(l) => p.with_label(l.clone()),
                None => p,
            })
        }
        CommandDef::Pull {
            remote,
            local,
            label,
        } => {
            let p = Pull::new(
                remote.iter().map(|r| here(r)).collect::<Vec<_>>(),
                local.clone(),
            );
            Arc::new(match label {
                Some(l) => p.with_label(l.clone()),
                None => p,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::ExitStatus;

    use super::*;

    #[test]
    fn scenario_commands_keep_their_arguments_allowed_exits_and_labels() {
        let script = command(
            &CommandDef::Script {
                path: "deploy/setup.sh".into(),
                args: "--env 'prod db'".into(),
                includes: vec!["deploy/lib.sh".into()],
                allowed: vec![ExitStatus::Code(3)],
                label: None,
                timeout: Some(Duration::from_secs(5)),
            },
            None,
        );
        assert_eq!(script.label(), "RunScript: setup.sh --env 'prod db'");
        assert_eq!(script.allowed_exits(), &[ExitStatus::Code(3)]);
        let string = command(
            &CommandDef::String {
                body: "#!/bin/sh\necho hi \"$1\"\n".into(),
                args: String::new(),
                includes: vec![],
                allowed: vec![],
                label: Some("greet".into()),
                timeout: None,
            },
            None,
        );
        assert_eq!(string.label(), "greet");
        assert!(string.allowed_exits().is_empty());
        let unlabelled = command(
            &CommandDef::String {
                body: "#!/bin/sh\necho hi \"$1\"\n".into(),
                args: "world".into(),
                includes: vec![],
                allowed: vec![],
                label: None,
                timeout: None,
            },
            None,
        );
        assert_eq!(unlabelled.label(), "RunString: echo hi \"$1\" world");
        let run = command(
            &CommandDef::Run {
                line: "systemctl restart app".into(),
                allowed: vec![ExitStatus::from("TERM")],
                label: None,
                timeout: Some(Duration::from_secs(1)),
            },
            None,
        );
        assert_eq!(run.label(), "systemctl restart app");
        assert_eq!(run.allowed_exits(), &[ExitStatus::from("TERM")]);
    }
}
