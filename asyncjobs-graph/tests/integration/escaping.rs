//! Labels with quotes, backslashes, line breaks, tabs and non-ASCII text come
//! out as valid dot, and graphviz draws them as written.

use crate::common;

use asyncjobs_core::{async_trait, AbstractJob, Job, JobError, JobExt, Scheduler};
use asyncjobs_graph::{dot_format, dot_format_with, DotOptions};

fn scheduler_with_labels(labels: &[&str]) -> Scheduler {
    let mut s = Scheduler::new();
    for label in labels {
        s.add(Job::ok(async {}).label(*label));
    }
    s
}

#[test]
fn quotes_and_backslashes_are_escaped_and_drawn_as_written() {
    let s = scheduler_with_labels(&[
        r#"say "hi""#,
        r"C:\temp\new",
        r"trailing\",
        r"\N is not the node name",
    ]);
    let dot = dot_format(&s).unwrap();
    assert!(dot.contains(r#"label="1: say \"hi\"""#), "{dot}");
    assert!(dot.contains(r#"label="2: C:\\temp\\new""#), "{dot}");
    assert!(dot.contains(r#"label="3: trailing\\""#), "{dot}");
    assert!(
        dot.contains(r#"label="4: \\N is not the node name""#),
        "{dot}"
    );
    let svg = common::graphviz_svg(&dot);
    assert!(svg.contains(">1: say &quot;hi&quot;</text>"), "{svg}");
    assert!(svg.contains(r">2: C:\temp\new</text>"), "{svg}");
    assert!(svg.contains(r">3: trailing\</text>"), "{svg}");
    assert!(svg.contains(r">4: \N is not the node name</text>"), "{svg}");
}

#[test]
fn line_breaks_become_separate_lines_and_tabs_spaces() {
    let s = scheduler_with_labels(&["two\nlines", "windows\r\nline", "a\tb"]);
    let dot = dot_format(&s).unwrap();
    assert!(dot.contains(r#"label="1: two\nlines""#), "{dot}");
    assert!(dot.contains(r#"label="2: windows\nline""#), "{dot}");
    assert!(dot.contains(r#"label="3: a    b""#), "{dot}");
    assert!(!dot.contains('\t') && !dot.contains('\r'), "{dot}");
    let svg = common::graphviz_svg(&dot);
    for text in [
        ">1: two</text>",
        ">lines</text>",
        ">2: windows</text>",
        ">line</text>",
    ] {
        assert!(svg.contains(text), "{text} missing from {svg}");
    }
}

#[test]
fn non_ascii_labels_are_kept_as_utf8() {
    let s = scheduler_with_labels(&["café", "日本語のジョブ", "ĉu 🦀?"]);
    let dot = dot_format(&s).unwrap();
    assert!(dot.contains(r#"label="1: café""#), "{dot}");
    assert!(dot.contains(r#"label="2: 日本語のジョブ""#), "{dot}");
    assert!(dot.contains(r#"label="3: ĉu 🦀?""#), "{dot}");
    let svg = common::graphviz_svg(&dot);
    assert!(
        svg.contains(">1: café</text>") && svg.contains(">2: 日本語のジョブ</text>"),
        "{svg}"
    );
}

#[test]
fn control_characters_are_shown_not_written_raw() {
    let s = scheduler_with_labels(&["bell\u{7}"]);
    let dot = dot_format(&s).unwrap();
    assert!(dot.contains(r#"label="1: bell\\u{7}""#), "{dot}");
    let svg = common::graphviz_svg(&dot);
    assert!(svg.contains(r">1: bell\u{7}</text>"), "{svg}");
}

#[test]
fn nested_scheduler_labels_are_escaped_too() {
    let mut inner = Scheduler::new().label("say \"inner\"\nscheduler");
    inner.add(Job::ok(async {}).label("x"));
    let mut s = Scheduler::new();
    s.add(inner);
    let dot = dot_format(&s).unwrap();
    assert!(
        dot.contains(r#"label="1: say \"inner\"\nscheduler""#),
        "{dot}"
    );
    common::graphviz_svg(&dot);
}

#[test]
fn error_messages_in_outcome_colours_are_escaped() {
    let mut s = Scheduler::new().critical(false);
    s.add(
        Job::new(async { Err::<(), _>(JobError::msg("bad \"path\" C:\\x\nsecond line")) })
            .label("fails")
            .critical(false),
    );
    s.run().unwrap();
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    // the label shows the first line of the error, the tooltip all of it
    assert!(
        dot.contains(r#"label="1: fails\nError: bad \"path\" C:\\x""#),
        "{dot}"
    );
    assert!(
        dot.contains(r#"tooltip="raised Error: bad \"path\" C:\\x\nsecond line""#),
        "{dot}"
    );
    common::graphviz_svg(&dot);
}

/// A job with details, as an ssh job shows its commands.
struct Commands(&'static str);

#[async_trait]
impl AbstractJob for Commands {
    type Output = ();
    async fn co_run(&self) -> Result<(), JobError> {
        Ok(())
    }
    fn details(&self) -> Option<String> {
        Some(self.0.to_string())
    }
}

#[test]
fn details_lines_go_under_the_label_escaped() {
    let mut s = Scheduler::new();
    s.add(Commands("echo \"a\"\nls \\tmp\n").label("remote"));
    let dot = dot_format(&s).unwrap();
    assert!(
        dot.contains(r#"label="1: remote\necho \"a\"\nls \\tmp""#),
        "{dot}"
    );
    common::graphviz_svg(&dot);
    let plain = dot_format_with(
        &s,
        &DotOptions {
            details: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(plain.contains(r#"label="1: remote""#), "{plain}");
}
