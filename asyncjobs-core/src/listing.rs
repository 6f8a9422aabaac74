//! Listings in the reference's format: `list()`, `list_safe()`, `debrief()`.
//!
//! ```text
//! 01 ⚠   ⚐ ∞ <J `label`> - requires {02}
//! 13 ⚠ ★ ☓ ∞ <J `label`>!! CRIT. EXC. => bool:True!! - requires {12}
//! 17 ⚠ ☉ ☓ ∞ <J `label`>[[ -> 0]] - requires {16}
//! ```

use std::fmt::Write as _;

use crate::handle::JobState;
use crate::jobline::job_text;
use crate::nested::with_nested;
use crate::scheduler::Scheduler;
use crate::snapshot::{JobView, Snapshot};
use crate::text::id_width;

/// Which glyphs a listing uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbols {
    /// `⚠ ★ ☉ ☓ ↺ ⚑ ⚐ ∞`
    Unicode,
    /// `! :( :) x o . > 8`, for terminals that cannot show the others.
    Ascii,
}

impl Symbols {
    /// Unicode when the locale says UTF-8 (`LC_ALL`, `LC_CTYPE`, `LANG`, first one
    /// set), else ASCII. `ASYNCJOBS_SYMBOLS=unicode|ascii` overrides.
    pub fn detect() -> Self {
        match std::env::var("ASYNCJOBS_SYMBOLS").ok().as_deref() {
            Some("unicode") => return Symbols::Unicode,
            Some("ascii") => return Symbols::Ascii,
            _ => {}
        }
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if locale.contains("utf-8") || locale.contains("utf8") {
            Symbols::Unicode
        } else {
            Symbols::Ascii
        }
    }

    /// The four glyphs `crit boom state forever` of a job, joined by spaces.
    pub fn short(self, critical: bool, forever: bool, state: JobState, failed: bool) -> String {
        let u = self == Symbols::Unicode;
        let crit = match (critical, u) {
            (true, true) => "⚠",
            (true, false) => "!",
            _ => " ",
        };
        let started = matches!(
            state,
            JobState::Running | JobState::Cancelled | JobState::Done
        );
        let boom = match (failed, started, u) {
            (true, _, true) => "★",
            (true, _, false) => ":(",
            (false, true, true) => "☉",
            (false, true, false) => ":)",
            (false, false, true) => " ",
            (false, false, false) => "  ",
        };
        let st = match (state, u) {
            (JobState::Done, true) => "☓",
            (JobState::Done, false) => "x",
            (JobState::Running | JobState::Cancelled, true) => "↺",
            (JobState::Running | JobState::Cancelled, false) => "o",
            (JobState::Scheduled, true) => "⚑",
            (JobState::Scheduled, false) => ".",
            (JobState::Idle, true) => "⚐",
            (JobState::Idle, false) => ">",
        };
        let forever = match (forever, u) {
            (true, true) => "∞",
            (true, false) => "8",
            _ => " ",
        };
        format!("{crit} {boom} {st} {forever}")
    }
}

/// What a listing shows.
#[derive(Debug, Clone, Copy)]
pub struct ListOptions {
    /// Glyph set.
    pub symbols: Symbols,
    /// Add each job's details lines.
    pub details: bool,
    /// Skip jobs that are done (nested scheduler lines are always shown).
    pub silence_done_jobs: bool,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            symbols: Symbols::detect(),
            details: false,
            silence_done_jobs: false,
        }
    }
}

fn ids(list: &[usize], w: usize) -> String {
    list.iter()
        .map(|i| format!("{i:0w$}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `<Kind `label`>` then the result or error, as the reference shows them.
fn main_and_result(j: &JobView) -> String {
    let result = if j.state == JobState::Done {
        j.result.as_deref()
    } else {
        None
    };
    job_text(&j.kind, &j.label, j.critical, j.error.as_ref(), result)
}

impl Snapshot {
    /// Renders the listing, one line per job, nested schedulers framed by a
    /// header (`- entries {…}`) and an `--end--` line (`- exits {…}`).
    pub fn render(&self, opts: &ListOptions) -> String {
        let mut out = String::new();
        self.render_into(&mut out, opts, 0, id_width(self.total()));
        out
    }

    fn render_into(&self, out: &mut String, opts: &ListOptions, depth: usize, w: usize) {
        let indent = if depth == 0 {
            String::new()
        } else {
            format!("{} ", ">".repeat(depth))
        };
        for j in &self.jobs {
            if opts.silence_done_jobs && j.state == JobState::Done && j.nested.is_none() {
                continue;
            }
            let short = opts
                .symbols
                .short(j.critical, j.forever, j.state, j.error.is_some());
            let _ = write!(out, "{:0w$} {short} {indent}{}", j.id, main_and_result(j));
            if !j.requires.is_empty() {
                let _ = write!(out, " - requires {{{}}}", ids(&j.requires, w));
            }
            if let Some(n) = &j.nested {
                let _ = write!(out, " - entries {{{}}}", ids(&n.entries(), w));
            }
            out.push('\n');
            if opts.details {
                if let Some(d) = &j.details {
                    for line in d.lines() {
                        let _ = writeln!(out, "{:w$}   {indent}{line}", "");
                    }
                }
            }
            if let Some(n) = &j.nested {
                n.render_into(out, opts, depth + 1, w);
                let _ = writeln!(
                    out,
                    "{:0w$} --end-- {} <{} `{}`> - exits {{{}}}",
                    j.id,
                    "<".repeat(depth + 1),
                    j.kind,
                    j.label,
                    ids(&n.exits(), w)
                );
            }
        }
    }
}

impl Scheduler {
    /// The listing as text (see [`Snapshot::render`]); an error on a cycle.
    pub fn listing(&self, opts: &ListOptions) -> Result<String, crate::SchedulerError> {
        Ok(self.snapshot()?.render(opts))
    }

    /// Prints the listing on stdout; on a graph that cannot be ordered (cycle),
    /// says why and prints [`list_safe`](Self::list_safe) instead.
    pub fn list(&self) {
        self.list_with(&ListOptions::default())
    }

    /// [`list`](Self::list) with options (details, silence done jobs, symbols).
    pub fn list_with(&self, opts: &ListOptions) {
        match self.listing(opts) {
            Ok(text) => print!("{text}"),
            Err(e) => {
                println!("{e}");
                print!("{}", self.listing_safe(opts));
            }
        }
    }

    /// A listing that works on any graph, cycles included: no ordering, ids by
    /// position (`.1`, `.2`; `3.1` inside the nested scheduler at position 3,
    /// `3.2.1` one level deeper), as asynciojobs' `list_safe()` numbers them.
    pub fn listing_safe(&self, opts: &ListOptions) -> String {
        let mut out = String::new();
        self.safe_into(&mut out, opts, "");
        out
    }

    /// Prints [`listing_safe`](Self::listing_safe).
    pub fn list_safe(&self) {
        print!("{}", self.listing_safe(&ListOptions::default()));
    }

    /// Lines of this level and of nested ones; `path` is the position of this
    /// scheduler in its parents, dot-joined (`3.2` for the 2nd job of the 3rd),
    /// empty at the top, as the reference numbers them (`.1`, `3.1`, `3.2.1`).
    fn safe_into(&self, out: &mut String, opts: &ListOptions, path: &str) {
        let graph = self.graph();
        let id = |i: usize| format!("{path}.{}", i + 1);
        for (i, r) in graph.records().iter().enumerate() {
            let state = r.state();
            if opts.silence_done_jobs && state == JobState::Done && r.nested().is_none() {
                continue;
            }
            let short = opts
                .symbols
                .short(r.critical(), r.forever(), state, r.error().is_some());
            let _ = write!(out, "{short} {} <{} `{}`>", id(i), r.kind(), r.label());
            let mut reqs: Vec<String> = r.requires().iter().map(|&q| id(q as usize)).collect();
            let foreign = graph.foreign_count(i as u32);
            reqs.extend(std::iter::repeat_n(
                "(other scheduler)".to_string(),
                foreign,
            ));
            if !reqs.is_empty() {
                let _ = write!(out, " - requires {{{}}}", reqs.join(", "));
            }
            out.push('\n');
            let sub = if path.is_empty() {
                (i + 1).to_string()
            } else {
                format!("{path}.{}", i + 1)
            };
            let listed = with_nested(r, |inner| inner.safe_into(out, opts, &sub));
            if listed.is_some() {
                let _ = writeln!(out, "--end-- {}", id(i));
            }
        }
    }

    /// Listing plus what went wrong: `----- {why}`, the listing, then
    /// `===== N job(s) with an exception, including M critical` and each error
    /// with its causes.
    pub fn debrief_text(&self, opts: &ListOptions) -> String {
        let mut out = format!("----- {}\n", self.why());
        let snap = match self.snapshot() {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(out, "{e}");
                out.push_str(&self.listing_safe(opts));
                return out;
            }
        };
        out.push_str(&snap.render(opts));
        let w = id_width(snap.total());
        let failed: Vec<&JobView> = snap
            .walk()
            .into_iter()
            .map(|(_, j)| j)
            .filter(|j| j.error.is_some())
            .collect();
        if failed.is_empty() {
            return out;
        }
        let critical = failed.iter().filter(|j| j.critical).count();
        let _ = writeln!(
            out,
            "===== {} job(s) with an exception, including {critical} critical",
            failed.len()
        );
        for j in failed {
            let e = j.error.as_ref().expect("filtered on errors");
            let tag = if j.critical {
                "CRITICAL"
            } else {
                "non-critical"
            };
            let _ = writeln!(
                out,
                "{tag} {:0w$} <{} `{}`>: {}: {e}",
                j.id,
                j.kind,
                j.label,
                e.kind()
            );
            let mut cause = e.as_error().source();
            while let Some(c) = cause {
                let _ = writeln!(out, "    caused by: {c}");
                cause = c.source();
            }
        }
        out
    }

    /// Prints [`debrief_text`](Self::debrief_text).
    pub fn debrief(&self) {
        print!("{}", self.debrief_text(&ListOptions::default()));
    }
}
