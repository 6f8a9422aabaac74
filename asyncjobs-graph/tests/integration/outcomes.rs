//! Outcome colours after a run, with their legend.

use crate::common;

use std::time::Duration;

use asyncjobs_core::{Job, JobState, JobView, Scheduler, Snapshot};
use asyncjobs_graph::{
    dot_format, dot_format_with, examples, snapshot_to_dot, DotOptions, Outcome,
};

/// The attributes of node `id` (its whole line).
fn node_line(dot: &str, id: &str) -> String {
    let prefix = format!("{id} [");
    dot.lines()
        .map(str::trim)
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no node {id} in {dot}"))
        .to_string()
}

fn fill(o: Outcome) -> String {
    format!(r#"fillcolor="{}""#, o.fill())
}

#[test]
fn a_failed_run_reads_at_a_glance() {
    let s = examples::example_f_after_run().unwrap();
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    let (begin, boom, end) = (
        node_line(&dot, "1"),
        node_line(&dot, "2"),
        node_line(&dot, "3"),
    );
    assert!(
        begin.contains(&fill(Outcome::Succeeded))
            && begin.contains(r#"tooltip="succeeded: 200.0""#),
        "{begin}"
    );
    assert!(boom.contains(&fill(Outcome::Raised)), "{boom}");
    assert!(
        boom.contains(r#"label="2: boom\nError: boom after 0.2s""#),
        "{boom}"
    );
    assert!(
        boom.contains(r#"tooltip="raised Error: boom after 0.2s (critical job)""#),
        "{boom}"
    );
    assert!(
        end.contains(&fill(Outcome::NeverRan)) && end.contains(r#"tooltip="never ran""#),
        "{end}"
    );
    for line in [&begin, &boom, &end] {
        assert!(
            line.contains(r#"style="rounded,filled""#)
                && line.contains(r#"color="red", penwidth="2""#),
            "{line}"
        );
    }
    let svg = common::graphviz_svg(&dot);
    assert!(
        svg.contains("raised Error: boom after 0.2s (critical job)"),
        "tooltips reach the SVG: {svg}"
    );
}

#[test]
fn the_legend_explains_the_colours_present_in_reading_order() {
    let s = examples::example_f_after_run().unwrap();
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    let legend = node_line(&dot, "legend");
    assert!(legend.contains(r#"shape="plaintext""#), "{dot}");
    let mut last = 0;
    for o in [Outcome::Succeeded, Outcome::Raised, Outcome::NeverRan] {
        let entry = format!(r#"<TD BGCOLOR="{}">{}</TD>"#, o.fill(), o.text());
        let at = legend
            .find(&entry)
            .unwrap_or_else(|| panic!("legend lacks {entry}: {dot}"));
        assert!(at > last, "legend out of order: {dot}");
        last = at;
    }
    for absent in [Outcome::Cancelled, Outcome::Running] {
        assert!(
            !legend.contains(absent.text()),
            "no job {}: {dot}",
            absent.text()
        );
    }
    let svg = common::graphviz_svg(&dot);
    for o in [Outcome::Succeeded, Outcome::Raised, Outcome::NeverRan] {
        assert!(
            svg.contains(&format!(">{}</text>", o.text())),
            "{} not drawn",
            o.text()
        );
    }
}

#[test]
fn the_legend_of_a_small_graph_stays_smaller_than_the_graph() {
    let mut s = Scheduler::new().critical(false);
    s.add(Job::ok(async { 1 }).label("only"));
    s.run().unwrap();
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    // one node for the whole key, one line per outcome present
    assert_eq!(dot.matches("<TR>").count(), 1, "{dot}");
    assert!(!dot.contains("cluster_legend"), "{dot}");
    let without = dot_format_with(
        &s,
        &DotOptions {
            legend: false,
            ..DotOptions::outcomes()
        },
    )
    .unwrap();
    let (w0, h0) = svg_size(&common::graphviz_svg(&without));
    let (w1, h1) = svg_size(&common::graphviz_svg(&dot));
    assert!(
        h1 <= h0,
        "the legend makes the picture taller: {h0} -> {h1}pt"
    );
    assert!(
        w1 <= 2.0 * w0,
        "the legend more than doubles the width: {w0} -> {w1}pt"
    );
}

/// Width and height of graphviz's SVG, in points.
fn svg_size(svg: &str) -> (f64, f64) {
    let attr = |name: &str| -> f64 {
        svg.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|v| v.split("pt\"").next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {svg}"))
    };
    (attr("width"), attr("height"))
}

#[test]
fn forever_jobs_show_as_cancelled_after_a_run() {
    let mut s = examples::example_c();
    assert!(s.run().unwrap());
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    let monitor = node_line(&dot, "4");
    assert!(
        monitor.contains(&fill(Outcome::Cancelled))
            && monitor.contains(r#"style="rounded,dashed,filled""#),
        "{monitor}"
    );
    for id in ["1", "2", "3"] {
        assert!(
            node_line(&dot, id).contains(&fill(Outcome::Succeeded)),
            "{dot}"
        );
    }
    common::graphviz_svg(&dot);
}

#[test]
fn a_timed_out_nested_scheduler_and_its_jobs_show_their_outcomes() {
    let mut inner = Scheduler::new()
        .label("slow")
        .critical(false)
        .timeout(Duration::from_millis(20));
    inner
        .add(Job::ok(async { tokio::time::sleep(Duration::from_secs(30)).await }).label("sleeper"));
    let mut s = Scheduler::new().critical(false);
    s.add(Job::ok(async {}).label("quick"));
    s.add(inner);
    s.run().unwrap();
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    assert!(
        node_line(&dot, "1").contains(&fill(Outcome::Succeeded)),
        "{dot}"
    );
    assert!(
        node_line(&dot, "3").contains(&fill(Outcome::Cancelled)),
        "{dot}"
    );
    // the non-critical nested scheduler returned false (no error): timed out
    let cluster = dot
        .lines()
        .find(|l| l.contains(r#"label="2: slow""#))
        .unwrap();
    assert!(
        cluster.contains(&format!(
            r#"fillcolor="{}""#,
            Outcome::Cancelled.cluster_fill()
        )),
        "{cluster}"
    );
    assert!(
        cluster.contains(r#"tooltip="returned false: TIMED OUT after 0.02s""#),
        "{cluster}"
    );
    common::graphviz_svg(&dot);
}

#[test]
fn a_job_caught_running_gets_its_own_colour_and_legend_entry() {
    let mut running = JobView::new(1, "Job", "busy");
    running.state = JobState::Running;
    let snap = Snapshot {
        label: "s".into(),
        critical: true,
        forever: false,
        why: String::new(),
        jobs: vec![running],
    };
    let dot = snapshot_to_dot(&snap, &DotOptions::outcomes());
    assert!(
        node_line(&dot, "1").contains(&fill(Outcome::Running)),
        "{dot}"
    );
    assert!(
        node_line(&dot, "legend").contains(&format!(
            r#"<TD BGCOLOR="{}">still running</TD>"#,
            Outcome::Running.fill()
        )),
        "{dot}"
    );
    common::graphviz_svg(&dot);
}

#[test]
fn colours_and_legend_are_opt_in() {
    let s = examples::example_f_after_run().unwrap();
    let plain = dot_format(&s).unwrap();
    assert_eq!(
        plain,
        dot_format(&examples::example_f()).unwrap(),
        "without colours a run changes nothing"
    );
    assert!(
        !plain.contains("fillcolor") && !plain.contains("legend"),
        "{plain}"
    );
    let no_legend = dot_format_with(
        &s,
        &DotOptions {
            legend: false,
            ..DotOptions::outcomes()
        },
    )
    .unwrap();
    assert!(
        no_legend.contains("fillcolor") && !no_legend.contains("legend"),
        "{no_legend}"
    );
    common::graphviz_svg(&no_legend);
}

#[test]
fn a_non_critical_nested_scheduler_whose_critical_job_raised_counts_as_raised() {
    let mut inner = Scheduler::new().label("inner").critical(false);
    inner.add(
        Job::new(async { Err::<(), _>(asyncjobs_core::JobError::msg("down")) }).label("fails"),
    );
    let mut s = Scheduler::new();
    s.add(inner);
    assert!(s.run().unwrap(), "the outer scheduler only sees `false`");
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    let cluster = dot
        .lines()
        .find(|l| l.contains(r#"label="1: inner""#))
        .unwrap();
    assert!(
        cluster.contains(&format!(
            r#"fillcolor="{}""#,
            Outcome::Raised.cluster_fill()
        )),
        "{cluster}"
    );
    assert!(
        cluster.contains(r#"tooltip="returned false: a CRITICAL job has raised an exception""#),
        "{cluster}"
    );
    assert!(
        node_line(&dot, "2").contains(&fill(Outcome::Raised)),
        "{dot}"
    );
    common::graphviz_svg(&dot);
}
