//! Folding fan-outs: alike jobs that differ only by where they run are drawn
//! as one box, so a deploy → run → collect over 40 hosts is three boxes, not
//! 120 side by side.
//!
//! Two jobs of one scheduler are alike when both have a
//! [target](asyncjobs_core::AbstractJob::graph_target), are not nested
//! schedulers, and once their own target is left out of their texts they
//! have the same kind, label, graph details, flags — after a run also the
//! same outcome and error — and the same shape of requirements: as many
//! requirements (and successors) in each class of alike jobs. The classes
//! are refined until stable (as in partition refinement), so a chain fanned
//! node by node folds into a chain of boxes.

use std::collections::HashMap;

use asyncjobs_core::{JobView, Snapshot};

use crate::options::DotOptions;
use crate::outcome::Outcome;

/// Rounds of refinement before giving up folding (see [`fold`]).
const MAX_ROUNDS: usize = 32;

/// What stands for a target in the texts of a folded box.
pub(crate) const TARGET_MARK: &str = "{node}";

/// How the jobs of one snapshot level are drawn: each job's unit, each unit's members.
pub(crate) struct Folding {
    /// For each job (index in `snap.jobs`), the index of its unit.
    pub unit_of: Vec<usize>,
    /// The units in order of their first job; each its jobs' indices in listing order.
    pub units: Vec<Vec<usize>>,
}

impl Folding {
    /// The dot node id of the unit of job index `i`: the id of its first job.
    pub fn node_id(&self, snap: &Snapshot, i: usize) -> usize {
        snap.jobs[self.units[self.unit_of[i]][0]].id
    }
}

/// `text` with every occurrence of `target` replaced by [`TARGET_MARK`].
pub(crate) fn template(text: &str, target: Option<&str>) -> String {
    match target {
        Some(t) if !t.is_empty() => text.replace(t, TARGET_MARK),
        _ => text.to_string(),
    }
}

/// The first line of the error of a job, as labels show it: `{kind}: {brief}`.
pub(crate) fn error_line(job: &JobView) -> Option<String> {
    job.error.as_ref().map(|e| {
        let text = match e.brief() {
            Some(b) => b.to_string(),
            None => e.to_string(),
        };
        let first = text.lines().next().unwrap_or_default();
        format!("{}: {first}", e.kind())
    })
}

/// What two alike jobs share, before their requirements are compared.
#[derive(Hash, PartialEq, Eq)]
struct Look {
    kind: String,
    label: String,
    graph_label: Option<String>,
    details: Option<String>,
    critical: bool,
    forever: bool,
    outcome: Option<Outcome>,
    error: Option<String>,
}

fn look(job: &JobView, opts: &DotOptions) -> Option<Look> {
    let target = job.target.as_deref();
    if target.is_none() || job.nested.is_some() {
        return None;
    }
    let t = |s: &str| template(s, target);
    Some(Look {
        kind: job.kind.clone(),
        label: t(&job.label),
        graph_label: job.graph_label.as_deref().map(t),
        details: if opts.details {
            job.graph_details.as_deref().map(t)
        } else {
            None
        },
        critical: job.critical,
        forever: job.forever,
        outcome: opts.outcome_colors.then(|| Outcome::of(job)),
        error: if opts.outcome_colors {
            error_line(job).map(|l| t(&l))
        } else {
            None
        },
    })
}

/// A class, or a job outside this level (an id with no job here).
#[derive(Hash, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum End {
    Class(usize),
    Outside(usize),
}

/// Folds the jobs of `snap` (this level only) into units.
pub(crate) fn fold(snap: &Snapshot, opts: &DotOptions) -> Folding {
    let n = snap.jobs.len();
    let singles = || Folding {
        unit_of: (0..n).collect(),
        units: (0..n).map(|i| vec![i]).collect(),
    };
    if opts.fold_at < 2 || n < opts.fold_at {
        return singles();
    }
    let index: HashMap<usize, usize> = snap
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id, i))
        .collect();
    let requires: Vec<Vec<Result<usize, usize>>> = snap
        .jobs
        .iter()
        .map(|j| {
            j.requires
                .iter()
                .map(|r| index.get(r).copied().ok_or(*r))
                .collect()
        })
        .collect();
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, reqs) in requires.iter().enumerate() {
        for r in reqs.iter().flatten() {
            successors[*r].push(i);
        }
    }
    // first classes: by look; a job without one is a class of its own
    let mut looks: HashMap<Look, usize> = HashMap::new();
    let mut class: Vec<usize> = Vec::with_capacity(n);
    let mut count = 0;
    for job in &snap.jobs {
        let c = match look(job, opts) {
            Some(l) => *looks.entry(l).or_insert_with(|| {
                count += 1;
                count - 1
            }),
            None => {
                count += 1;
                count - 1
            }
        };
        class.push(c);
    }
    // refine by the classes of requirements and successors until stable;
    // fan-outs settle in a few rounds, a long chain of alike jobs would take
    // one round per pair of jobs: past MAX_ROUNDS, nothing is folded
    let mut stable = false;
    for _ in 0..MAX_ROUNDS {
        let mut keys: HashMap<(usize, Vec<End>, Vec<usize>), usize> = HashMap::new();
        let mut next = Vec::with_capacity(n);
        for i in 0..n {
            let mut reqs: Vec<End> = requires[i]
                .iter()
                .map(|r| match r {
                    Ok(k) => End::Class(class[*k]),
                    Err(id) => End::Outside(*id),
                })
                .collect();
            reqs.sort_unstable();
            let mut succs: Vec<usize> = successors[i].iter().map(|&k| class[k]).collect();
            succs.sort_unstable();
            let size = keys.len();
            next.push(*keys.entry((class[i], reqs, succs)).or_insert(size));
        }
        let refined = keys.len();
        class = next;
        if refined == count {
            stable = true;
            break;
        }
        count = refined;
    }
    if !stable {
        return singles();
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, &c) in class.iter().enumerate() {
        members[c].push(i);
    }
    let mut folding = Folding {
        unit_of: vec![0; n],
        units: Vec::new(),
    };
    let mut unit_of_class: HashMap<usize, usize> = HashMap::new();
    for (i, &c) in class.iter().enumerate() {
        if members[c].len() >= opts.fold_at {
            let unit = *unit_of_class.entry(c).or_insert_with(|| {
                folding.units.push(Vec::new());
                folding.units.len() - 1
            });
            folding.units[unit].push(i);
            folding.unit_of[i] = unit;
        } else {
            folding.units.push(vec![i]);
            folding.unit_of[i] = folding.units.len() - 1;
        }
    }
    folding
}

/// Longest node set shown in a folded box, in characters.
const TARGETS_MAX: usize = 60;

/// The targets as a node set: `fit[01-10,12]`, names without a common
/// numbered pattern listed with commas; cut with `…` past a line's length.
pub(crate) fn node_set(names: &[&str]) -> String {
    // bucket by everything but the numbers, then fold the one number that varies
    let mut buckets: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
    for name in names {
        let tokens = tokenize(name);
        let shape: Vec<String> = tokens
            .iter()
            .map(|t| {
                if is_number(t) {
                    "#".to_string()
                } else {
                    t.clone()
                }
            })
            .collect();
        match buckets.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, all)) => all.push(tokens),
            None => buckets.push((shape, vec![tokens])),
        }
    }
    let mut parts = Vec::new();
    for (_, all) in buckets {
        let varying: Vec<usize> = (0..all[0].len())
            .filter(|&k| all.iter().any(|t| t[k] != all[0][k]))
            .collect();
        match varying.as_slice() {
            [k] => {
                let mut head: String = all[0][..*k].concat();
                let tail: String = all[0][k + 1..].concat();
                let numbers: Vec<&str> = all.iter().map(|t| t[*k].as_str()).collect();
                head.push('[');
                head.push_str(&ranges(&numbers));
                head.push(']');
                head.push_str(&tail);
                parts.push(head);
            }
            _ => {
                let mut seen = Vec::new();
                for t in &all {
                    let name = t.concat();
                    if !seen.contains(&name) {
                        seen.push(name);
                    }
                }
                parts.extend(seen);
            }
        }
    }
    let text = parts.join(",");
    if text.chars().count() <= TARGETS_MAX {
        return text;
    }
    let mut cut: String = text.chars().take(TARGETS_MAX - 1).collect();
    cut.push('…');
    cut
}

/// Runs of digits and of other characters.
fn tokenize(name: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for c in name.chars() {
        match tokens.last_mut() {
            Some(t) if t.starts_with(|d: char| d.is_ascii_digit()) == c.is_ascii_digit() => {
                t.push(c)
            }
            _ => tokens.push(c.to_string()),
        }
    }
    tokens
}

fn is_number(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_digit())
}

/// `01-03,07` from numbers written with the same or different widths
/// (a width is kept only when all share it).
fn ranges(numbers: &[&str]) -> String {
    let width = numbers[0].len();
    let padded = numbers.iter().all(|n| n.len() == width);
    let mut values: Vec<u128> = numbers.iter().filter_map(|n| n.parse().ok()).collect();
    values.sort_unstable();
    values.dedup();
    let show = |v: u128| {
        if padded {
            format!("{v:0width$}")
        } else {
            v.to_string()
        }
    };
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        out.push(if j == i {
            show(values[i])
        } else {
            format!("{}-{}", show(values[i]), show(values[j]))
        });
        i = j + 1;
    }
    out.join(",")
}

/// Job ids of a folded box: `3-12`, `3,6,9`, or `3…30` past three ranges.
pub(crate) fn id_set(ids: &[usize]) -> String {
    let texts: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let all = ranges(&refs);
    if all.split(',').count() > 3 {
        format!("{}…{}", ids[0], ids[ids.len() - 1])
    } else {
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_fold_into_a_node_set() {
        let names = ["fit01", "fit02", "fit03", "fit05", "fit10"];
        assert_eq!(node_set(&names), "fit[01-03,05,10]");
    }

    #[test]
    fn only_the_number_that_varies_is_folded() {
        let names = ["127.0.0.2:2500", "127.0.0.3:2500", "127.0.0.4:2500"];
        assert_eq!(node_set(&names), "127.0.0.[2-4]:2500");
    }

    #[test]
    fn unrelated_names_are_listed_and_cut() {
        assert_eq!(node_set(&["web", "db", "web"]), "web,db");
        let many: Vec<String> = (0..30).map(|i| format!("h{i}x{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let text = node_set(&refs);
        assert!(
            text.starts_with("h0x0,h1x1,") && text.ends_with('…'),
            "{text}"
        );
        assert_eq!(text.chars().count(), TARGETS_MAX);
    }

    #[test]
    fn widths_are_kept_only_when_shared() {
        assert_eq!(node_set(&["n9", "n10", "n11"]), "n[9-11]");
    }

    #[test]
    fn id_sets_are_ranges_or_first_and_last() {
        assert_eq!(id_set(&[3, 4, 5, 6]), "3-6");
        assert_eq!(id_set(&[3, 6, 9]), "3,6,9");
        assert_eq!(id_set(&[3, 6, 9, 12]), "3…12");
    }
}
