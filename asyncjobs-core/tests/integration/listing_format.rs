//! The reference's listing format, character for character.

use asyncjobs_core::{Job, JobError, JobState, JobView, ListOptions, Scheduler, Snapshot, Symbols};

fn opts(symbols: Symbols) -> ListOptions {
    ListOptions {
        symbols,
        details: false,
        silence_done_jobs: false,
    }
}

#[derive(Debug)]
struct Shown(&'static str);
impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Shown {}

/// The 20 jobs of the reference README: every (critical, forever, state, boom) combination.
fn twenty() -> Snapshot {
    let mut jobs = Vec::new();
    let mut id = 0;
    for (state, boom) in [
        (JobState::Idle, false),
        (JobState::Scheduled, false),
        (JobState::Running, false),
        (JobState::Done, true),
        (JobState::Done, false),
    ] {
        for critical in [true, false] {
            for forever in [true, false] {
                id += 1;
                let status = match state {
                    JobState::Idle => "idle",
                    JobState::Scheduled => "scheduled",
                    JobState::Running => "running",
                    _ => "done",
                };
                let py = |b: bool| if b { "True" } else { "False" };
                let mut j = JobView::new(
                    id,
                    "J",
                    format!(
                        "forever={} crit.={} status={status} boom={}",
                        py(forever),
                        py(critical),
                        py(boom)
                    ),
                );
                j.critical = critical;
                j.forever = forever;
                j.state = state;
                if boom {
                    j.error = Some(JobError::with_kind("bool", Shown("True")));
                } else if state == JobState::Done {
                    j.result = Some("0".into());
                }
                if id > 1 {
                    j.requires = vec![id - 1];
                }
                jobs.push(j);
            }
        }
    }
    Snapshot {
        label: "all".into(),
        critical: false,
        forever: false,
        why: "FINE".into(),
        jobs,
    }
}

const REFERENCE_20: &str = "\
01 ⚠   ⚐ ∞ <J `forever=True crit.=True status=idle boom=False`>
02 ⚠   ⚐   <J `forever=False crit.=True status=idle boom=False`> - requires {01}
03     ⚐ ∞ <J `forever=True crit.=False status=idle boom=False`> - requires {02}
04     ⚐   <J `forever=False crit.=False status=idle boom=False`> - requires {03}
05 ⚠   ⚑ ∞ <J `forever=True crit.=True status=scheduled boom=False`> - requires {04}
06 ⚠   ⚑   <J `forever=False crit.=True status=scheduled boom=False`> - requires {05}
07     ⚑ ∞ <J `forever=True crit.=False status=scheduled boom=False`> - requires {06}
08     ⚑   <J `forever=False crit.=False status=scheduled boom=False`> - requires {07}
09 ⚠ ☉ ↺ ∞ <J `forever=True crit.=True status=running boom=False`> - requires {08}
10 ⚠ ☉ ↺   <J `forever=False crit.=True status=running boom=False`> - requires {09}
11   ☉ ↺ ∞ <J `forever=True crit.=False status=running boom=False`> - requires {10}
12   ☉ ↺   <J `forever=False crit.=False status=running boom=False`> - requires {11}
13 ⚠ ★ ☓ ∞ <J `forever=True crit.=True status=done boom=True`>!! CRIT. EXC. => bool:True!! - requires {12}
14 ⚠ ★ ☓   <J `forever=False crit.=True status=done boom=True`>!! CRIT. EXC. => bool:True!! - requires {13}
15   ★ ☓ ∞ <J `forever=True crit.=False status=done boom=True`>!! exception => bool:True!! - requires {14}
16   ★ ☓   <J `forever=False crit.=False status=done boom=True`>!! exception => bool:True!! - requires {15}
17 ⚠ ☉ ☓ ∞ <J `forever=True crit.=True status=done boom=False`>[[ -> 0]] - requires {16}
18 ⚠ ☉ ☓   <J `forever=False crit.=True status=done boom=False`>[[ -> 0]] - requires {17}
19   ☉ ☓ ∞ <J `forever=True crit.=False status=done boom=False`>[[ -> 0]] - requires {18}
20   ☉ ☓   <J `forever=False crit.=False status=done boom=False`>[[ -> 0]] - requires {19}
";

#[test]
fn the_twenty_line_reference_listing_comes_out_exactly() {
    assert_eq!(twenty().render(&opts(Symbols::Unicode)), REFERENCE_20);
}

#[test]
fn ascii_fallback_uses_plain_characters() {
    let text = twenty().render(&opts(Symbols::Ascii));
    let lines: Vec<&str> = text.lines().collect();
    // the reference pads an absent ASCII boom to two characters
    assert_eq!(
        lines[0],
        "01 !    > 8 <J `forever=True crit.=True status=idle boom=False`>"
    );
    assert_eq!(
        lines[4],
        "05 !    . 8 <J `forever=True crit.=True status=scheduled boom=False`> - requires {04}"
    );
    assert_eq!(
        lines[8],
        "09 ! :) o 8 <J `forever=True crit.=True status=running boom=False`> - requires {08}"
    );
    assert_eq!(lines[13], "14 ! :( x   <J `forever=False crit.=True status=done boom=True`>!! CRIT. EXC. => bool:True!! - requires {13}");
    assert_eq!(lines[19], "20   :) x   <J `forever=False crit.=False status=done boom=False`>[[ -> 0]] - requires {19}");
    assert!(text.is_ascii());
}

#[test]
fn id_width_follows_the_reference_rule() {
    // 1..=9 jobs: width 1; 10 jobs: still 1 ("10" is wider); 11 jobs: width 2; 101: width 3
    for (n, first, last) in [
        (9, "1 ", "9 "),
        (10, "1 ", "10 "),
        (11, "01 ", "11 "),
        (100, "01 ", "100 "),
        (101, "001 ", "101 "),
    ] {
        let mut s = Scheduler::new();
        for _ in 0..n {
            s.add(Job::ok(async {}));
        }
        let text = s.listing(&opts(Symbols::Unicode)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with(first), "n={n}: {}", lines[0]);
        assert!(lines[n - 1].starts_with(last), "n={n}: {}", lines[n - 1]);
    }
}

#[test]
fn listing_order_is_topological_and_keeps_insertion_order_otherwise() {
    let mut s = Scheduler::new();
    let c = s.add(Job::ok(async {}).label("c"));
    let a = s.add(Job::ok(async {}).label("a"));
    let b = s.add(Job::ok(async {}).label("b").requires(&a));
    s.add_requirement(&c, &b).unwrap();
    let text = s.listing(&opts(Symbols::Unicode)).unwrap();
    assert_eq!(
        text,
        "1 ⚠   ⚐   <Job `a`>\n\
         2 ⚠   ⚐   <Job `b`> - requires {1}\n\
         3 ⚠   ⚐   <Job `c`> - requires {2}\n"
    );
}

#[test]
fn silence_done_jobs_hides_done_jobs_only() {
    let mut s = Scheduler::new();
    let a = s.add(Job::ok(async { 1 }).label("done"));
    s.add(
        Job::ok(std::future::pending::<()>())
            .label("never")
            .forever(true)
            .requires(&a),
    );
    s.add(
        Job::ok(async { tokio::time::sleep(std::time::Duration::from_millis(20)).await })
            .label("also done"),
    );
    assert!(s.run().unwrap());
    let o = ListOptions {
        symbols: Symbols::Unicode,
        details: false,
        silence_done_jobs: true,
    };
    assert_eq!(
        s.listing(&o).unwrap(),
        "2 ⚠ ☉ ↺ ∞ <Job `never`> - requires {1}\n"
    );
}

#[test]
fn list_safe_works_on_a_cycle_and_numbers_by_position() {
    let mut s = Scheduler::new();
    let a = s.add(Job::ok(async {}).label("a"));
    let b = s.add(Job::ok(async {}).label("b").requires(&a));
    s.add_requirement(&a, &b).unwrap();
    let mut inner = Scheduler::new().label("inner");
    inner.add(Job::ok(async {}).label("x"));
    s.add(inner);
    assert!(s.listing(&opts(Symbols::Unicode)).is_err());
    assert_eq!(
        s.listing_safe(&opts(Symbols::Unicode)),
        "⚠   ⚐   .1 <Job `a`> - requires {.2}\n\
         ⚠   ⚐   .2 <Job `b`> - requires {.1}\n\
         ⚠   ⚐   .3 <Scheduler `inner`>\n\
         ⚠   ⚐   3.1 <Job `x`>\n\
         --end-- .3\n"
    );
}

#[test]
fn default_labels_are_readable() {
    async fn fetch_config() -> u8 {
        1
    }
    let mut s = Scheduler::new();
    s.add(Job::ok(fetch_config()));
    let nested = Scheduler::new();
    s.add(nested);
    let text = s.listing(&opts(Symbols::Unicode)).unwrap();
    assert!(text.contains("<Job `fetch_config`>"), "{text}");
    assert!(text.contains("<Scheduler `Scheduler[0 jobs]`>"), "{text}");
}

#[test]
fn job_kinds_format_their_results_and_errors_stay_on_one_line() {
    struct Report;
    #[asyncjobs_core::async_trait]
    impl asyncjobs_core::AbstractJob for Report {
        type Output = Vec<u32>;
        async fn co_run(&self) -> Result<Vec<u32>, JobError> {
            Ok(vec![0, 0, 1])
        }
        fn result_text(output: &Vec<u32>) -> String {
            format!("{} statuses", output.len())
        }
    }
    let mut s = Scheduler::new().critical(false);
    s.add(Report);
    s.add(
        Job::new(async { Err::<(), _>(JobError::msg("first line\nsecond line")) }).label("multi"),
    );
    assert!(!s.run().unwrap());
    let text = s.listing(&opts(Symbols::Unicode)).unwrap();
    assert_eq!(
        text,
        "1 ⚠ ☉ ☓   <Report `Report`>[[ -> 3 statuses]]\n\
         2 ⚠ ★ ☓   <Job `multi`>!! CRIT. EXC. => Error:first line second line!!\n"
    );
}

#[test]
fn list_safe_ids_of_nested_schedulers_keep_their_dots() {
    // asynciojobs: `2.2.1` is the 1st job of the 2nd job of the 2nd job (never `22.1`)
    let mut deepest = Scheduler::new().label("deepest");
    deepest.add(Job::ok(async {}).label("z"));
    let mut middle = Scheduler::new().label("middle");
    middle.add(Job::ok(async {}).label("y"));
    middle.add(deepest);
    let mut top = Scheduler::new().label("top");
    top.add(Job::ok(async {}).label("a"));
    top.add(middle);
    assert_eq!(
        top.listing_safe(&opts(Symbols::Ascii)),
        "!    >   .1 <Job `a`>\n\
         !    >   .2 <Scheduler `middle`>\n\
         !    >   2.1 <Job `y`>\n\
         !    >   2.2 <Scheduler `deepest`>\n\
         !    >   2.2.1 <Job `z`>\n\
         --end-- 2.2\n\
         --end-- .2\n"
    );
}

#[test]
fn results_show_strings_as_text_and_other_types_as_the_job_chose() {
    let mut s = Scheduler::new();
    s.add(Job::ok(async { String::from("duration=1") }).label("string"));
    s.add(Job::ok(async { "static" }).label("str"));
    s.add(Job::ok(async { 100.0 }).label("debug"));
    s.add(Job::ok(async { 100.0 }).label("display").display_result());
    s.add(
        Job::ok(async { std::time::Duration::from_millis(1500) })
            .label("custom")
            .result_text(|d| format!("{}s", d.as_secs_f64())),
    );
    s.add(Job::ok(async { Some("x") }).label("option"));
    assert!(s.run().unwrap());
    assert_eq!(
        s.listing(&opts(Symbols::Ascii)).unwrap(),
        "1 ! :) x   <Job `string`>[[ -> duration=1]]\n\
         2 ! :) x   <Job `str`>[[ -> static]]\n\
         3 ! :) x   <Job `debug`>[[ -> 100.0]]\n\
         4 ! :) x   <Job `display`>[[ -> 100]]\n\
         5 ! :) x   <Job `custom`>[[ -> 1.5s]]\n\
         6 ! :) x   <Job `option`>[[ -> Some(\"x\")]]\n"
    );
}

#[test]
fn a_graph_label_is_for_graphs_and_listings_keep_the_label() {
    struct Probe;
    #[asyncjobs_core::async_trait]
    impl asyncjobs_core::AbstractJob for Probe {
        type Output = ();
        async fn co_run(&self) -> Result<(), JobError> {
            Ok(())
        }
        fn default_graph_label(&self) -> Option<String> {
            Some("probe\non two lines".into())
        }
    }
    use asyncjobs_core::JobExt;
    let mut s = Scheduler::new();
    s.add(Job::ok(async {}).label("text").graph_label("picture"));
    s.add(Probe.label("probe"));
    s.add(Scheduler::new().label("nested").graph_label("cluster"));
    let snap = s.snapshot().unwrap();
    let views: Vec<(&str, Option<&str>)> = snap
        .jobs
        .iter()
        .map(|j| (j.label.as_str(), j.graph_label.as_deref()))
        .collect();
    assert_eq!(
        views,
        [
            ("text", Some("picture")),
            ("probe", Some("probe\non two lines")),
            ("nested", Some("cluster")),
        ]
    );
    let text = s.listing(&opts(Symbols::Ascii)).unwrap();
    assert!(
        text.contains("<Job `text`>") && !text.contains("picture"),
        "{text}"
    );
}
