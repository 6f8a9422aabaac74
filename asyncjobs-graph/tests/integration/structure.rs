//! The reference's structure: nodes, edges, borders, nested clusters and the
//! edges attached to them; determinism; errors.

use crate::common;

use asyncjobs_core::{ErrorChain, Job, Scheduler, Sequence};
use asyncjobs_graph::{dot_format, examples, export_as_dotfile, GraphError};

fn job(label: &str) -> Job<impl asyncjobs_core::JobBody<Output = ()>> {
    Job::ok(async {}).label(label)
}

/// Asserts that `dot` has every one of `parts` (showing the whole text otherwise).
fn assert_has(dot: &str, parts: &[&str]) {
    for part in parts {
        assert!(dot.contains(part), "no {part:?} in:\n{dot}");
    }
}

#[test]
fn borders_follow_the_reference_legend() {
    let mut s = Scheduler::new();
    s.add(job("critical"));
    s.add(job("plain").critical(false));
    s.add(job("forever").forever(true).critical(false));
    let dot = dot_format(&s).unwrap();
    assert_has(
        &dot,
        &[
            r#"1 [style="rounded", label="1: critical", shape="box", color="red", penwidth="2"];"#,
            r#"2 [style="rounded", label="2: plain", shape="box", penwidth="0.5"];"#,
            r#"3 [style="rounded,dashed", label="3: forever", shape="box", penwidth="0.5"];"#,
        ],
    );
    common::graphviz_svg(&dot);
}

#[test]
fn edges_go_from_the_required_job_to_the_requiring_one() {
    let dot = dot_format(&examples::example_b()).unwrap();
    assert_has(&dot, &["1 -> 2;"]);
    assert_eq!(dot.matches("->").count(), 1, "{dot}");
}

#[test]
fn nested_scheduler_styles_follow_its_flags() {
    let mut inner = Scheduler::new().label("bg").critical(false).forever(true);
    inner.add(job("x"));
    let mut s = Scheduler::new();
    s.add(inner);
    let dot = dot_format(&s).unwrap();
    assert_has(
        &dot,
        &[r#"graph [style="rounded,dashed", label="1: bg", penwidth="0.5"];"#],
    );
    common::graphviz_svg(&dot);
}

#[test]
fn edges_into_and_out_of_a_nested_scheduler_use_its_middle_entry_and_exit() {
    // four entries a b c d, all required by e, then f: middle entry is b (index 1), middle exit f
    let mut inner = Scheduler::new().label("inner");
    let ends: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|l| inner.add(job(l)))
        .collect();
    let e = inner.add(job("e").requires(ends.as_slice()));
    inner.add(job("f").requires(&e));
    inner.add(job("g").requires(&e));
    let mut s = Scheduler::new();
    s.add(
        Sequence::new()
            .then(job("start"))
            .then(inner)
            .then(job("end")),
    );
    let dot = dot_format(&s).unwrap();
    // ids: start 1, inner 2, a..d 3..6, e 7, f 8, g 9, end 10; exits f, g: middle is f (index 0)
    assert_has(
        &dot,
        &[
            r#"1 -> 4 [lhead="cluster_2", minlen="2"];"#,
            r#"8 -> 10 [ltail="cluster_2", minlen="2"];"#,
        ],
    );
    common::graphviz_svg(&dot);
}

#[test]
fn an_edge_between_two_nested_schedulers_is_clipped_at_both_clusters() {
    let mut first = Scheduler::new().label("first");
    first.add(job("a"));
    let mut second = Scheduler::new().label("second");
    second.add(job("b"));
    let mut s = Scheduler::new();
    s.add(Sequence::new().then(first).then(second));
    let dot = dot_format(&s).unwrap();
    assert_has(
        &dot,
        &[r#"2 -> 4 [lhead="cluster_3", ltail="cluster_1", minlen="2"];"#],
    );
    common::graphviz_svg(&dot);
}

#[test]
fn anchors_recurse_into_schedulers_nested_in_nested_schedulers() {
    let mut deepest = Scheduler::new().label("deepest");
    deepest.add(job("leaf"));
    let mut middle = Scheduler::new().label("middle");
    middle.add(deepest);
    let mut s = Scheduler::new();
    s.add(
        Sequence::new()
            .then(job("start"))
            .then(middle)
            .then(job("end")),
    );
    let dot = dot_format(&s).unwrap();
    // start 1, middle 2, deepest 3, leaf 4, end 5
    assert_has(
        &dot,
        &[
            "subgraph cluster_2 {",
            "subgraph cluster_3 {",
            r#"1 -> 4 [lhead="cluster_2", minlen="2"];"#,
            r#"4 -> 5 [ltail="cluster_2", minlen="2"];"#,
        ],
    );
    common::graphviz_svg(&dot);
}

#[test]
fn an_empty_nested_scheduler_renders_with_a_placeholder() {
    let mut s = Scheduler::new();
    s.add(
        Sequence::new()
            .then(job("before"))
            .then(Scheduler::new().label("nothing"))
            .then(job("after")),
    );
    let dot = dot_format(&s).unwrap();
    assert_has(
        &dot,
        &[
            "subgraph cluster_2 {",
            r#"empty_2 [shape="plaintext", label="(empty)", fontcolor="gray40"];"#,
            r#"1 -> empty_2 [lhead="cluster_2", minlen="2"];"#,
            r#"empty_2 -> 3 [ltail="cluster_2", minlen="2"];"#,
        ],
    );
    common::graphviz_svg(&dot);
}

#[test]
fn an_empty_scheduler_is_an_empty_graph() {
    let dot = dot_format(&Scheduler::new()).unwrap();
    assert_eq!(dot, "digraph asynciojobs {\n  compound=true;\n}\n");
    common::graphviz_svg(&dot);
}

#[test]
fn the_same_scheduler_gives_the_same_bytes() {
    for build in [examples::example_b, examples::example_c, examples::nested] {
        let (one, two) = (build(), build());
        let first = dot_format(&one).unwrap();
        assert_eq!(first, dot_format(&one).unwrap());
        assert_eq!(first, dot_format(&two).unwrap());
    }
    let tmp = tempfile::tempdir().unwrap();
    let s = examples::nested();
    export_as_dotfile(&s, tmp.path().join("a.dot")).unwrap();
    export_as_dotfile(&s, tmp.path().join("b.dot")).unwrap();
    assert_eq!(
        std::fs::read(tmp.path().join("a.dot")).unwrap(),
        std::fs::read(tmp.path().join("b.dot")).unwrap()
    );
}

#[test]
fn export_as_dotfile_writes_the_dot_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("b.dot");
    let s = examples::example_b();
    let said = export_as_dotfile(&s, &path).unwrap();
    assert_eq!(said, format!("(Over)wrote {}", path.display()));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        dot_format(&s).unwrap()
    );
}

#[test]
fn write_errors_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("no-such-dir").join("b.dot");
    let err = export_as_dotfile(&examples::example_b(), &path).unwrap_err();
    assert!(matches!(err, GraphError::Write { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("cannot write {}", path.display()));
    assert!(
        ErrorChain(&err)
            .to_string()
            .starts_with(&format!("cannot write {}: ", path.display())),
        "{err}"
    );
}

#[test]
fn a_cycle_cannot_be_drawn() {
    let mut s = Scheduler::new().label("loopy");
    let a = s.add(job("a"));
    let b = s.add(job("b").requires(&a));
    s.add_requirement(&a, &b).unwrap();
    let err = dot_format(&s).unwrap_err();
    assert!(matches!(err, GraphError::Unordered(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot draw the scheduler, its jobs cannot be ordered"
    );
    let text = ErrorChain(&err).to_string();
    assert!(
        text.starts_with("cannot draw the scheduler, its jobs cannot be ordered: "),
        "{text}"
    );
    assert!(
        text.contains("cycle") && text.contains("`a`") && text.contains("`b`"),
        "{text}"
    );
}

#[test]
fn a_requirement_across_schedulers_cannot_be_drawn() {
    let mut s = Scheduler::new().label("outer");
    let outside = s.add(job("outside"));
    let mut inner = Scheduler::new().label("inner");
    inner.add(job("reaches out").requires(&outside));
    s.add(inner);
    let err = dot_format(&s).unwrap_err();
    let text = ErrorChain(&err).to_string();
    assert!(
        text.contains("`reaches out` requires a job of another scheduler"),
        "{text}"
    );
}

#[test]
fn a_graph_label_replaces_the_id_and_label_as_in_the_reference() {
    let mut s = Scheduler::new();
    let a = s.add(job("a").graph_label("fetch\nsources"));
    s.add(job("b").requires(&a).critical(false));
    let mut sub = Scheduler::new().label("sub").graph_label("the sub");
    sub.add(job("inner"));
    s.add(sub.requires(&a));
    let dot = dot_format(&s).unwrap();
    assert_has(
        &dot,
        &[
            r#"1 [style="rounded", label="fetch\nsources", shape="box""#,
            r#"label="2: b""#,
            r#"label="the sub""#,
            r#"label="4: inner""#,
        ],
    );
    crate::common::graphviz_svg(&dot);
}
