//! A checked [`Plan`] into a scheduler: nodes (gateways first), then each
//! scope's jobs and groups, then their requirements.

use std::collections::HashMap;
use std::sync::Arc;

use asyncjobs_core::{JobRef, Scheduler};
use asyncjobs_ssh::{
    Formatter, LocalNode, Node, Pull, Push, Run, RunScript, RunString, SshCommand, SshJob,
};

use super::plan::{CommandDef, GroupDef, Item, NodeDef, Plan};
use crate::hosts::{HostSpec, NodeFactory, Resolver};
use crate::targets::Hop;

/// Builds the nodes and the scheduler of a checked plan.
pub fn scheduler(
    plan: &Plan,
    resolver: &Resolver,
    formatter: Arc<dyn Formatter>,
) -> Result<Scheduler, String> {
    let factory = NodeFactory::new(Arc::clone(&formatter))
        .with_prompt(crate::passphrase::CliPrompt::new(None, None));
    let mut nodes: HashMap<String, Node> = HashMap::new();
    for n in &plan.nodes {
        build_node(n, plan, resolver, &factory, &formatter, &mut nodes)?;
    }
    let mut s = Scheduler::new()
        .critical(plan.critical)
        .jobs_window(plan.window);
    if let Some(l) = &plan.label {
        s = s.label(l.clone());
    }
    if let Some(t) = plan.timeout {
        s = s.timeout(t);
    }
    fill(&mut s, &plan.items, &nodes)?;
    Ok(s)
}

/// Builds `n` (and its gateway first, recursively; the plan has no gateway cycle).
fn build_node(
    n: &NodeDef,
    plan: &Plan,
    resolver: &Resolver,
    factory: &NodeFactory,
    formatter: &Arc<dyn Formatter>,
    nodes: &mut HashMap<String, Node>,
) -> Result<(), String> {
    if nodes.contains_key(&n.id.name) {
        return Ok(());
    }
    if n.local {
        let local = LocalNode::new()
            .with_name(n.id.name.clone())
            .with_formatter(Arc::clone(formatter));
        nodes.insert(n.id.name.clone(), Node::Local(local));
        return Ok(());
    }
    let hop = Hop {
        user: n.user.clone(),
        host: n.host.clone().unwrap_or_default(),
        port: n.port,
    };
    // no gateway in the file: -J or the ssh_config's ProxyJump, as for fan-outs
    let (mut endpoint, gateways) = resolver
        .endpoint_or(&hop, plan.default_user.as_deref())
        .map_err(|e| format!("node `{}`: {e}", n.id.name))?;
    if !n.identities.is_empty() {
        endpoint.set_identities(n.identities.clone());
    }
    let node = match &n.gateway {
        Some(gw) => {
            if let Some(def) = plan.nodes.iter().find(|d| d.id.name == gw.name) {
                build_node(def, plan, resolver, factory, formatter, nodes)?;
            }
            let gateway = nodes.get(&gw.name).and_then(Node::as_ssh).cloned();
            factory.build(&endpoint, &n.id.name, gateway.as_ref())
        }
        None => factory.node(&HostSpec {
            endpoint,
            gateways,
            label: n.id.name.clone(),
        }),
    };
    nodes.insert(n.id.name.clone(), Node::Ssh(node));
    Ok(())
}

fn fill(s: &mut Scheduler, items: &[Item], nodes: &HashMap<String, Node>) -> Result<(), String> {
    let mut refs: HashMap<&str, JobRef> = HashMap::new();
    for item in items {
        let r = match item {
            Item::Job(j) => {
                let node = nodes
                    .get(&j.node.name)
                    .ok_or_else(|| format!("unknown node `{}`", j.node.name))?;
                let mut job = SshJob::new(node);
                if let Some(t) = j.timeout {
                    job = job.command_timeout(t);
                }
                for c in &j.commands {
                    job = job.command_arc(command(c));
                }
                let label = j.label.clone().unwrap_or_else(|| j.id.name.clone());
                s.add(job.label(label).critical(j.critical).forever(j.forever))
                    .job_ref()
            }
            Item::Group(g) => s.add(group(g, nodes)?).job_ref(),
        };
        refs.insert(&item.id().name, r);
    }
    for item in items {
        let reqs: Vec<JobRef> = item
            .requires()
            .iter()
            .filter_map(|r| refs.get(r.name.as_str()).copied())
            .collect();
        if !reqs.is_empty() {
            s.add_requirement(&refs[item.id().name.as_str()], reqs)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn group(g: &GroupDef, nodes: &HashMap<String, Node>) -> Result<Scheduler, String> {
    let mut s = Scheduler::new()
        .label(g.label.clone().unwrap_or_else(|| g.id.name.clone()))
        .critical(g.critical)
        .forever(g.forever)
        .jobs_window(g.window);
    if let Some(t) = g.timeout {
        s = s.timeout(t);
    }
    fill(&mut s, &g.items, nodes)?;
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

fn command(c: &CommandDef) -> Arc<dyn SshCommand> {
    match c {
        CommandDef::Run {
            line,
            allowed,
            label,
            timeout,
        } => {
            let r = Run::new(line.clone());
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
            let p = Push::new(local.clone(), remote.clone());
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
            let p = Pull::new(remote.clone(), local.clone());
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

    use asyncjobs_ssh::ExitStatus;

    use super::*;

    #[test]
    fn scenario_commands_keep_their_arguments_allowed_exits_and_labels() {
        let script = command(&CommandDef::Script {
            path: "deploy/setup.sh".into(),
            args: "--env 'prod db'".into(),
            includes: vec!["deploy/lib.sh".into()],
            allowed: vec![ExitStatus::Code(3)],
            label: None,
            timeout: Some(Duration::from_secs(5)),
        });
        assert_eq!(script.label(), "RunScript: setup.sh --env 'prod db'");
        assert_eq!(script.allowed_exits(), &[ExitStatus::Code(3)]);
        let string = command(&CommandDef::String {
            body: "#!/bin/sh\necho hi \"$1\"\n".into(),
            args: String::new(),
            includes: vec![],
            allowed: vec![],
            label: Some("greet".into()),
            timeout: None,
        });
        assert_eq!(string.label(), "greet");
        assert!(string.allowed_exits().is_empty());
        let unlabelled = command(&CommandDef::String {
            body: "#!/bin/sh\necho hi \"$1\"\n".into(),
            args: "world".into(),
            includes: vec![],
            allowed: vec![],
            label: None,
            timeout: None,
        });
        assert_eq!(unlabelled.label(), "RunString: echo hi \"$1\" world");
        let run = command(&CommandDef::Run {
            line: "systemctl restart app".into(),
            allowed: vec![ExitStatus::from("TERM")],
            label: None,
            timeout: Some(Duration::from_secs(1)),
        });
        assert_eq!(run.label(), "systemctl restart app");
        assert_eq!(run.allowed_exits(), &[ExitStatus::from("TERM")]);
    }
}
