//! The Python reference as an oracle: the same schedulers as
//! `xtask/oracle/asynciojobs_oracle.py` (one builder of the same name each),
//! compared with what asynciojobs 0.21.3 printed and computed for them, as
//! recorded in `tests/oracle/*.txt` by `cargo xtask oracle`.
//!
//! Listings are compared after parsing both formats into the same lines
//! (asyncjobs prints the README's format, `- requires {1}`, where 0.21.3
//! prints `[not done] requires={1}`): ids, glyphs, depth, kind, label, result
//! or error, requirements, entries and exits must all agree.

use std::collections::HashMap;
use std::time::Duration;

use asyncjobs_core::{Job, JobError, JobHandle, JobRef, ListOptions, Scheduler, Sequence, Symbols};

/// The recorded file `name`: its sections `== NAME`, or its lines when it has none.
fn golden(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("oracle")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); `cargo xtask oracle` records it",
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("== ") {
            Some(name) => out.push((name.to_string(), String::new())),
            None => {
                let (_, body) = out.last_mut().expect("a section before any line");
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    out
}

fn unicode() -> ListOptions {
    ListOptions {
        symbols: Symbols::Unicode,
        details: false,
        silence_done_jobs: false,
    }
}

fn job(label: &str) -> Job<impl asyncjobs_core::JobBody<Output = ()>> {
    Job::ok(async {}).label(label)
}

// ------------------------------------------------------------ schedulers

fn readme_nested() -> Scheduler {
    let mut sub = Scheduler::new().label("critical nested").critical(true);
    let j1 = sub.add(job("subj1"));
    let j2 = sub.add(job("subj2").requires(&j1));
    let j3 = sub.add(job("subj3").requires(&j1));
    sub.add(job("subj4").requires((&j2, &j3)));
    let mut main = Scheduler::new().label("main");
    main.add(
        Sequence::new()
            .then(job("main-start"))
            .then(sub)
            .then(job("main-end")),
    );
    main
}

fn two_levels() -> Scheduler {
    let mut top = Scheduler::new().label("top");
    let a = top.add(job("a"));
    let mut mid = Scheduler::new().label("mid").critical(false).requires(&a);
    let x = mid.add(job("x").forever(true));
    let mut deep = Scheduler::new().label("deep").requires(&x);
    let y = deep.add(job("y").critical(false));
    deep.add(job("z").requires(&y));
    mid.add(deep);
    mid.add(job("w"));
    let mid = top.add(mid);
    top.add(job("b").requires(&mid));
    top
}

fn eleven_nodes() -> Scheduler {
    let mut top = Scheduler::new().label("eleven");
    let mut previous: Option<JobHandle<()>> = None;
    for i in 1..=8 {
        previous = Some(top.add(job(&format!("j{i}")).requires(previous.as_ref())));
    }
    let mut sub = Scheduler::new().label("sub").requires(previous.as_ref());
    let s1 = sub.add(job("s1"));
    sub.add(job("s2").requires(&s1));
    top.add(sub);
    top
}

async fn value<T>(v: T) -> T {
    tokio::time::sleep(Duration::from_millis(1)).await;
    v
}

fn results_after_run() -> Scheduler {
    let mut s = Scheduler::new().label("results").critical(false);
    s.add(Job::ok(value(String::from("duration=1"))).label("text"));
    s.add(Job::ok(value(42)).label("int"));
    s.add(Job::ok(value(0.5)).label("float"));
    let boom = s.add(
        Job::new(async {
            value(()).await;
            Err::<(), _>(JobError::with_kind(
                "ValueError",
                std::io::Error::other("bad value"),
            ))
        })
        .label("boom")
        .critical(false),
    );
    s.add(
        Job::ok(value(String::from("after")))
            .label("after boom")
            .requires(&boom),
    );
    s.add(
        Job::ok(async {
            loop {
                value(()).await
            }
        })
        .label("monitor")
        .forever(true),
    );
    assert!(s.run().unwrap());
    s
}

fn cyclic() -> Scheduler {
    let mut s = Scheduler::new().label("cyclic");
    let a = s.add(job("a"));
    let b = s.add(job("b").requires(&a));
    s.add_requirement(&a, &b).unwrap();
    let mut inner = Scheduler::new().label("inner");
    inner.add(job("x"));
    s.add(inner);
    s
}

fn build(name: &str) -> Scheduler {
    match name {
        "readme_nested" => readme_nested(),
        "two_levels" => two_levels(),
        "eleven_nodes" => eleven_nodes(),
        "results_after_run" => results_after_run(),
        "cyclic" => cyclic(),
        other => panic!("no builder for the recorded case `{other}`"),
    }
}

// ------------------------------------------------------------ listings

/// One listing line, whatever the format it was printed in.
#[derive(Debug, PartialEq)]
enum Line {
    Job {
        id: String,
        short: String,
        depth: usize,
        main: String,
        /// `[[ -> text]]`'s text, or the whole `!! … !!`; none when not done.
        result: Option<String>,
        requires: Vec<String>,
        entries: Option<Vec<String>>,
    },
    End {
        id: String,
        depth: usize,
        main: String,
        exits: Vec<String>,
    },
}

/// `a, b` inside braces, sorted.
fn id_set(text: &str) -> Vec<String> {
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not a set of ids: {text:?}"));
    let mut ids: Vec<String> = inner
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    ids.sort();
    ids
}

/// Splits `<Kind `label`>rest` into the main part and the rest.
fn split_main(text: &str) -> (String, &str) {
    let end = text
        .find("`>")
        .unwrap_or_else(|| panic!("no `<Kind `label`>` in {text:?}"))
        + 2;
    (text[..end].to_string(), &text[end..])
}

/// `{id} {short} {indent}` then what follows, for both formats.
fn split_head(line: &str) -> (String, String, usize, &str) {
    let (id, rest) = line.split_once(' ').expect("an id");
    let short: String = rest.chars().take(7).collect();
    let rest = &rest[short.len()..];
    let rest = rest.strip_prefix(' ').expect("a space after the glyphs");
    let depth = rest.chars().take_while(|&c| c == '>').count();
    let rest = if depth > 0 { &rest[depth + 1..] } else { rest };
    (id.to_string(), short, depth, rest)
}

/// 0.21.3's format: `1 ⚠ ☉ ☓   <Job `a`> [[ -> 1]] requires={2} -> entries={3}`.
fn parse_reference(line: &str) -> Line {
    if let Some((id, rest)) = line.split_once(" --end-- ") {
        let (marks, rest) = rest.split_once(' ').expect("end marks");
        let (main, rest) = split_main(rest);
        let exits = rest.trim().strip_prefix("exits=").expect("exits");
        return Line::End {
            id: id.to_string(),
            depth: marks.len() - 1,
            main,
            exits: id_set(exits),
        };
    }
    let (id, short, depth, rest) = split_head(line);
    let (main, rest) = split_main(rest);
    let rest = rest.strip_prefix(' ').expect("a space before the result");
    let (result, rest) = if let Some(r) = rest.strip_prefix("[not done]") {
        (None, r)
    } else if let Some(r) = rest.strip_prefix("[[ -> ") {
        let (value, r) = r.split_once("]]").expect("end of result");
        (Some(value.to_string()), r)
    } else {
        let end = rest[2..].find("!!").expect("end of error") + 4;
        (Some(rest[..end].to_string()), &rest[end..])
    };
    let (rest, entries) = match rest.split_once(" -> entries=") {
        Some((r, e)) => (r, Some(id_set(e))),
        None => (rest, None),
    };
    let requires = match rest.trim().strip_prefix("requires=") {
        Some(set) => id_set(set),
        None => Vec::new(),
    };
    Line::Job {
        id,
        short,
        depth,
        main,
        result,
        requires,
        entries,
    }
}

/// Ours: `1 ⚠ ☉ ☓   <Job `a`>[[ -> 1]] - requires {2} - entries {3}`.
fn parse_ours(line: &str) -> Line {
    if let Some((id, rest)) = line.split_once(" --end-- ") {
        let (marks, rest) = rest.split_once(' ').expect("end marks");
        let (main, rest) = split_main(rest);
        let exits = rest.strip_prefix(" - exits ").expect("exits");
        return Line::End {
            id: id.to_string(),
            depth: marks.len() - 1,
            main,
            exits: id_set(exits),
        };
    }
    let (id, short, depth, rest) = split_head(line);
    let (main, rest) = split_main(rest);
    let (result, rest) = if let Some(r) = rest.strip_prefix("[[ -> ") {
        let (value, r) = r.split_once("]]").expect("end of result");
        (Some(value.to_string()), r)
    } else if rest.starts_with("!! ") {
        let end = rest[2..].find("!!").expect("end of error") + 4;
        (Some(rest[..end].to_string()), &rest[end..])
    } else {
        (None, rest)
    };
    let (rest, entries) = match rest.split_once(" - entries ") {
        Some((r, e)) => (r, Some(id_set(e))),
        None => (rest, None),
    };
    let requires = match rest.strip_prefix(" - requires ") {
        Some(set) => id_set(set),
        None => {
            assert!(rest.is_empty(), "unexpected {rest:?} in {line:?}");
            Vec::new()
        }
    };
    Line::Job {
        id,
        short,
        depth,
        main,
        result,
        requires,
        entries,
    }
}

#[test]
fn listings_agree_with_the_reference() {
    let recorded = sections(&golden("listings.txt"));
    assert_eq!(recorded.len(), 4, "cases recorded");
    for (name, reference) in recorded {
        let ours = build(&name).listing(&unicode()).unwrap();
        let expected: Vec<Line> = reference.lines().map(parse_reference).collect();
        let got: Vec<Line> = ours.lines().map(parse_ours).collect();
        assert_eq!(
            got, expected,
            "case {name}\n--- asynciojobs 0.21.3\n{reference}--- asyncjobs\n{ours}"
        );
    }
}

// ------------------------------------------------------------ list_safe

/// A `list_safe()` line: glyphs, id, main part, requirements; or an end.
#[derive(Debug, PartialEq)]
enum SafeLine {
    Job {
        short: String,
        id: String,
        main: String,
        requires: Vec<String>,
    },
    End(String),
}

fn parse_safe(line: &str, reference: bool) -> SafeLine {
    if let Some(id) = line.strip_prefix("--end-- ") {
        return SafeLine::End(id.to_string());
    }
    let short: String = line.chars().take(7).collect();
    let rest = &line[short.len() + 1..];
    let (id, rest) = rest.split_once(' ').expect("an id");
    let (main, rest) = split_main(rest);
    let requires = if reference {
        rest.trim()
            .strip_prefix("requires=")
            .map(id_set)
            .unwrap_or_default()
    } else {
        rest.strip_prefix(" - requires ")
            .map(id_set)
            .unwrap_or_default()
    };
    SafeLine::Job {
        short,
        id: id.to_string(),
        main,
        requires,
    }
}

#[test]
fn list_safe_ids_agree_with_the_reference() {
    let recorded = sections(&golden("list_safe.txt"));
    assert_eq!(recorded.len(), 3, "cases recorded");
    for (name, reference) in recorded {
        let ours = build(&name).listing_safe(&unicode());
        let expected: Vec<SafeLine> = reference.lines().map(|l| parse_safe(l, true)).collect();
        let got: Vec<SafeLine> = ours.lines().map(|l| parse_safe(l, false)).collect();
        assert_eq!(
            got, expected,
            "case {name}\n--- asynciojobs 0.21.3\n{reference}--- asyncjobs\n{ours}"
        );
    }
}

// ------------------------------------------------------------ graph ops

/// A graph of the recorded cases: its scheduler, its jobs by number (the
/// forever job of `chain` is `f`), and each job's rank of creation.
struct Graph {
    s: Scheduler,
    jobs: HashMap<String, JobRef>,
    rank: HashMap<JobRef, usize>,
    labels: HashMap<JobRef, String>,
}

impl Graph {
    fn new(label: &str) -> Self {
        Graph {
            s: Scheduler::new().label(label),
            jobs: HashMap::new(),
            rank: HashMap::new(),
            labels: HashMap::new(),
        }
    }
    fn add(&mut self, key: &str, label: &str, reqs: &[&str], forever: bool) {
        let reqs: Vec<JobRef> = reqs.iter().map(|k| self.jobs[*k]).collect();
        let r = self
            .s
            .add(job(label).requires(reqs).forever(forever))
            .job_ref();
        self.rank.insert(r, self.rank.len());
        self.labels.insert(r, label.to_string());
        self.jobs.insert(key.to_string(), r);
    }
    fn refs(&self, keys: &[String]) -> Vec<JobRef> {
        keys.iter().map(|k| self.jobs[k]).collect()
    }
    /// Labels in the order the jobs were made, as the oracle prints them.
    fn labels(&self, refs: impl IntoIterator<Item = JobRef>) -> String {
        let mut refs: Vec<JobRef> = refs.into_iter().collect();
        refs.sort_by_key(|r| self.rank[r]);
        let names: Vec<&str> = refs.iter().map(|r| self.labels[r].as_str()).collect();
        names.join(" ")
    }
    /// `label <- required labels | …`, jobs in the order they were made.
    fn structure(&self) -> String {
        let here: Vec<JobRef> = self
            .s
            .iterate_jobs(false)
            .into_iter()
            .filter_map(|e| e.job)
            .collect();
        let mut lines = Vec::new();
        let mut sorted = here.clone();
        sorted.sort_by_key(|r| self.rank[r]);
        for r in sorted {
            let reqs = self.s.required(&r).unwrap();
            let reqs = self.labels(reqs.into_iter().filter(|q| here.contains(q)));
            let reqs = if reqs.is_empty() { "-".into() } else { reqs };
            lines.push(format!("{} <- {reqs}", self.labels[&r]));
        }
        lines.join(" | ")
    }
}

fn double_diamond() -> Graph {
    let mut g = Graph::new("dd");
    g.add("1", "d1", &[], false);
    g.add("2", "d2", &["1"], false);
    g.add("3", "d3", &["1"], false);
    g.add("4", "d4", &["2", "3"], false);
    g.add("5", "d5", &["4"], false);
    g.add("6", "d6", &["4"], false);
    g.add("7", "d7", &["5", "6"], false);
    g
}

fn chain() -> Graph {
    let mut g = Graph::new("chain");
    g.add("1", "c1", &[], false);
    for i in 2..=5 {
        let prev = (i - 1).to_string();
        g.add(&i.to_string(), &format!("c{i}"), &[prev.as_str()], false);
    }
    g.add("f", "f", &["2"], true);
    g
}

fn numbers(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn python_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// What asyncjobs computes for one recorded `GRAPH OP ARGS` query.
fn compute(graph: &str, op: &str, args: &str) -> String {
    let mut g = match graph {
        "double_diamond" => double_diamond(),
        "chain" => chain(),
        other => panic!("no graph `{other}`"),
    };
    let jobs = if op == "keep_only_between" {
        Vec::new()
    } else {
        g.refs(&numbers(args))
    };
    match op {
        "required" => g.labels(g.s.required(&jobs[0]).unwrap()),
        "successors" => g.labels(g.s.successors(jobs).unwrap()),
        "predecessors" => g.labels(g.s.predecessors(jobs).unwrap()),
        "downstream" => g.labels(g.s.successors_downstream(jobs).unwrap()),
        "upstream" => g.labels(g.s.predecessors_upstream(jobs).unwrap()),
        "entry_jobs" => g.labels(g.s.entry_jobs()),
        "exit_jobs" => g.labels(g.s.exit_jobs(true)),
        "exit_jobs_with_forever" => g.labels(g.s.exit_jobs(false)),
        "keep_only_between" => {
            let parts: Vec<&str> = args.split(';').collect();
            let [starts, ends, flags] = parts[..] else {
                panic!("keep_only_between args: {args}")
            };
            let (starts, ends) = (g.refs(&numbers(starts)), g.refs(&numbers(ends)));
            g.s.keep_only_between(starts, ends, &flags[0..1] == "1", &flags[1..2] == "1")
                .unwrap();
            g.structure()
        }
        "keep_only" => {
            g.s.keep_only(jobs).unwrap();
            g.structure()
        }
        "bypass_and_remove" => {
            g.s.bypass_and_remove(&jobs[0]).unwrap();
            g.structure()
        }
        "remove" => {
            g.s.remove(&jobs[0]).unwrap();
            let checks = g.s.check_cycles();
            let clean = g.s.sanitize();
            format!(
                "check_cycles {} sanitize {} => {}",
                python_bool(checks),
                python_bool(clean),
                g.structure()
            )
        }
        other => panic!("no operation `{other}`"),
    }
}

#[test]
fn graph_queries_and_surgery_agree_with_the_reference() {
    let recorded = golden("graph_ops.txt");
    let mut count = 0;
    let mut wrong = Vec::new();
    for line in recorded.lines() {
        let (query, expected) = line.split_once(" => ").expect("QUERY => RESULT");
        let mut words = query.splitn(3, ' ');
        let (graph, op, args) = (
            words.next().unwrap(),
            words.next().unwrap(),
            words.next().unwrap_or(""),
        );
        let got = compute(graph, op, args);
        if got != expected {
            wrong.push(format!(
                "{query}\n  reference: {expected}\n  asyncjobs: {got}"
            ));
        }
        count += 1;
    }
    assert!(count >= 60, "{count} queries recorded");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
