//! Fan-outs drawn so that 40 hosts stay legible: short targets instead of
//! `user@gateway->user@host` chains, alike jobs folded into one box, a failed
//! job's brief error instead of its command.

use crate::common;

use asyncjobs_core::{async_trait, AbstractJob, JobError, JobExt, JobRef, Scheduler};
use asyncjobs_graph::{dot_format_with, DotOptions, Format};

/// A job on a node, described as an ssh job is: the long chain in its
/// details, the node's name as its graph target, the command as graph details.
struct OnNode {
    node: String,
    command: &'static str,
    fail: Option<&'static str>,
}

#[async_trait]
impl AbstractJob for OnNode {
    type Output = ();
    async fn co_run(&self) -> Result<(), JobError> {
        match self.fail {
            None => Ok(()),
            Some(stderr) => Err(JobError::msg(format!(
                "command `{}` failed on {} (exit code 3); stderr ends with:\n{stderr}",
                self.command, self.node
            ))
            .with_brief(format!("exit code 3: {stderr}"))),
        }
    }
    fn kind(&self) -> String {
        "SshJob".into()
    }
    fn details(&self) -> Option<String> {
        Some(format!(
            "user@127.0.0.1:2500->user@{}:2500\n{}",
            self.node, self.command
        ))
    }
    fn graph_details(&self) -> Option<String> {
        Some(self.command.to_string())
    }
    fn graph_target(&self) -> Option<String> {
        Some(self.node.clone())
    }
}

fn on(node: &str, command: &'static str) -> OnNode {
    OnNode {
        node: node.to_string(),
        command,
        fail: None,
    }
}

fn nodes(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("fit{i:02}")).collect()
}

/// `prepare` on the gateway, then deploy -> run -> collect on each node,
/// paired node by node (or collect requiring every run, `all_runs`).
fn deploy_run_collect(n: usize, all_runs: bool) -> Scheduler {
    let mut s = Scheduler::new().critical(false);
    let prepare = s.add(on("gw", "tar czf app.tgz app").label("prepare"));
    let mut runs: Vec<JobRef> = Vec::new();
    let mut deploys = Vec::new();
    for node in nodes(n) {
        let deploy = s.add(
            on(&node, "Push: app.tgz to /tmp")
                .label(format!("deploy {node}"))
                .requires(&prepare),
        );
        let run = s.add(on(&node, "./app --quick").label("run").requires(&deploy));
        deploys.push(deploy);
        runs.push(run.job_ref());
    }
    for (node, run) in nodes(n).iter().zip(&runs) {
        if all_runs {
            s.add(
                on(node, "Pull: /tmp/out to out/")
                    .label("collect")
                    .requires(runs.clone()),
            );
        } else {
            s.add(
                on(node, "Pull: /tmp/out to out/")
                    .label("collect")
                    .requires(*run),
            );
        }
    }
    s
}

fn node_lines(dot: &str) -> Vec<&str> {
    dot.lines()
        .map(str::trim)
        .filter(|l| l.contains(" [") && !l.contains("->") && !l.starts_with("graph"))
        .collect()
}

fn edge_lines(dot: &str) -> Vec<&str> {
    dot.lines()
        .map(str::trim)
        .filter(|l| l.contains(" -> "))
        .collect()
}

#[test]
fn a_fan_out_over_ten_nodes_is_drawn_as_one_box_per_step() {
    let dot = dot_format_with(&deploy_run_collect(10, false), &DotOptions::default()).unwrap();
    let nodes = node_lines(&dot);
    assert_eq!(nodes.len(), 4, "prepare + three folded boxes: {dot}");
    let folded: Vec<&&str> = nodes.iter().filter(|l| l.contains("×10")).collect();
    assert_eq!(folded.len(), 3, "{dot}");
    for line in &folded {
        assert!(line.contains(r"\nfit[01-10]\n"), "node set: {line}");
        assert!(
            line.contains(r#"peripheries="2""#),
            "drawn as a stack: {line}"
        );
    }
    assert!(
        dot.contains(r"deploy {node} ×10\nfit[01-10]\nPush: app.tgz to /tmp"),
        "{dot}"
    );
    assert!(dot.contains(r"run ×10\nfit[01-10]\n./app --quick"), "{dot}");
    let edges = edge_lines(&dot);
    assert_eq!(edges.len(), 3, "{dot}");
    // prepare -> deploys: one job to many, no label; then node by node
    assert_eq!(
        edges
            .iter()
            .filter(|e| e.contains(r#"label="1:1""#))
            .count(),
        2,
        "{dot}"
    );
    common::graphviz_svg(&dot);
}

#[test]
fn requiring_every_job_of_a_fan_out_is_labelled_all() {
    let dot = dot_format_with(&deploy_run_collect(5, true), &DotOptions::default()).unwrap();
    let edges = edge_lines(&dot);
    assert_eq!(edges.len(), 3, "{dot}");
    assert_eq!(
        edges
            .iter()
            .filter(|e| e.contains(r#"label="all""#))
            .count(),
        1,
        "{dot}"
    );
    assert_eq!(
        edges
            .iter()
            .filter(|e| e.contains(r#"label="1:1""#))
            .count(),
        1,
        "{dot}"
    );
    common::graphviz_svg(&dot);
}

#[test]
fn boxes_name_the_node_not_the_user_and_gateway_chain() {
    let dot = dot_format_with(
        &deploy_run_collect(2, false),
        &DotOptions {
            fold_at: 0,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!dot.contains("->user@"), "{dot}");
    assert!(!dot.contains("×"), "fold_at 0 folds nothing: {dot}");
    assert!(
        dot.contains(r#"label="1: prepare\ngw\ntar czf app.tgz app""#),
        "{dot}"
    );
    // the target is not repeated when the label names it
    assert!(
        dot.contains(r#"label="2: deploy fit01\nPush: app.tgz to /tmp""#),
        "{dot}"
    );
    assert_eq!(node_lines(&dot).len(), 7, "{dot}");
}

#[test]
fn fewer_alike_jobs_than_fold_at_keep_their_own_boxes() {
    let dot = dot_format_with(&deploy_run_collect(2, false), &DotOptions::default()).unwrap();
    assert_eq!(node_lines(&dot).len(), 7, "{dot}");
    let three = dot_format_with(&deploy_run_collect(3, false), &DotOptions::default()).unwrap();
    assert_eq!(node_lines(&three).len(), 4, "{three}");
}

#[test]
fn a_job_whose_requirements_differ_is_not_folded_with_the_others() {
    let mut s = deploy_run_collect(4, false);
    // one more run on fit01 that also waits for prepare: shaped differently
    let gw = s.entry_jobs();
    s.add(on("fit05", "./app --quick").label("run").requires(gw));
    let dot = dot_format_with(&s, &DotOptions::default()).unwrap();
    assert!(dot.contains(r"run ×4\nfit[01-04]"), "{dot}");
    assert!(dot.contains(r"run\nfit05\n./app --quick"), "{dot}");
}

#[test]
fn a_failed_job_shows_its_status_and_last_stderr_line_not_its_command() {
    let mut s = Scheduler::new().critical(false);
    for node in nodes(6) {
        let fail = ["fit02", "fit05", "fit06"]
            .contains(&node.as_str())
            .then_some("disk \"full\"");
        s.add(
            OnNode {
                node,
                command: "make install",
                fail,
            }
            .label("install")
            .critical(false),
        );
    }
    s.run().unwrap();
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    // the succeeded ones and the failed ones are two boxes
    assert!(
        dot.contains(r"install ×3\nfit[01,03-04]\nmake install"),
        "{dot}"
    );
    assert!(
        dot.contains(
            r#"install ×3\nfit[02,05-06]\nmake install\nError: exit code 3: disk \"full\""#
        ),
        "{dot}"
    );
    let labels: Vec<&str> = dot
        .split(r#"label=""#)
        .skip(1)
        .filter_map(|rest| rest.split(r#"", "#).next())
        .collect();
    assert!(
        labels.iter().all(|l| !l.contains("failed on")),
        "the message is in the tooltip only: {dot}"
    );
    // one job alone: the same brief line
    let mut one = Scheduler::new().critical(false);
    one.add(
        OnNode {
            node: "fit01".into(),
            command: "make install",
            fail: Some("no rule to make target"),
        }
        .label("install"),
    );
    one.run().unwrap();
    let dot = dot_format_with(&one, &DotOptions::outcomes()).unwrap();
    assert!(
        dot.contains(
            r#"label="1: install\nfit01\nmake install\nError: exit code 3: no rule to make target""#
        ),
        "{dot}"
    );
    common::graphviz_svg(&dot);
}

/// (width, height) of a PNG, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (be(16), be(20))
}

#[test]
fn forty_hosts_render_as_small_as_ten() {
    let g = common::graphviz();
    let size = |n: usize| {
        let dot = dot_format_with(&deploy_run_collect(n, false), &DotOptions::default()).unwrap();
        png_size(&g.render(&dot, Format::Png).unwrap())
    };
    let (ten, forty) = (size(10), size(40));
    // as tall, and as wide but for the ids (`2…29` and `2…119`)
    assert!(
        ten.1 == forty.1 && forty.0 * 10 <= ten.0 * 11,
        "10 hosts {ten:?}, 40 hosts {forty:?}"
    );
    let unfolded = dot_format_with(
        &deploy_run_collect(10, false),
        &DotOptions {
            fold_at: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let wide = png_size(&g.render(&unfolded, Format::Png).unwrap());
    assert!(wide.0 > 3 * ten.0, "unfolded {wide:?}, folded {ten:?}");
}

#[test]
fn a_long_chain_of_alike_jobs_is_drawn_job_by_job() {
    // a rolling restart, one node after the other: no two jobs share a shape
    let mut s = Scheduler::new();
    let mut previous: Option<JobRef> = None;
    for node in nodes(2000).iter().map(|n| format!("h{n}")) {
        let job = on(&node, "systemctl restart app").label("restart");
        let handle = match previous {
            Some(p) => s.add(job.requires(p)),
            None => s.add(job),
        };
        previous = Some(handle.job_ref());
    }
    let dot = dot_format_with(&s, &DotOptions::default()).unwrap();
    assert_eq!(node_lines(&dot).len(), 2000);
    assert!(!dot.contains("×"), "nothing folded");
}

/// `n` jobs that folding cannot fold: each runs its own command.
fn distinct(s: &mut Scheduler, n: usize) -> Vec<JobRef> {
    nodes(n)
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let command: &'static str = Box::leak(format!("check {i}").into_boxed_str());
            s.add(on(node, command).label("check")).job_ref()
        })
        .collect()
}

#[test]
fn many_lone_jobs_are_stacked_in_columns() {
    let mut s = Scheduler::new();
    distinct(&mut s, 20);
    let dot = dot_format_with(&s, &DotOptions::default()).unwrap();
    let invisible: Vec<&str> = edge_lines(&dot)
        .into_iter()
        .filter(|e| e.contains(r#"style="invis""#))
        .collect();
    assert_eq!(invisible.len(), 12, "{dot}");
    assert!(invisible.contains(&r#"1 -> 9 [style="invis"];"#), "{dot}");
    let g = common::graphviz();
    let rows = png_size(&g.render(&dot, Format::Png).unwrap());
    let one_row = dot_format_with(
        &s,
        &DotOptions {
            row_max: 0,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!one_row.contains("invis"), "{one_row}");
    let wide = png_size(&g.render(&one_row, Format::Png).unwrap());
    assert!(2 * rows.0 < wide.0, "rows {rows:?}, one row {wide:?}");
}
