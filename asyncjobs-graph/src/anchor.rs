//! Where edges into and out of a nested scheduler attach.
//!
//! dot draws edges between nodes, not clusters: an edge into a nested
//! scheduler goes to one of its entry jobs, clipped at the cluster's border
//! with `lhead=cluster_{id}` (`ltail` for edges out of it). As the reference
//! does, the middle entry (exit) is picked so the edge lands near the middle of
//! the cluster: index `(n-1)/2` of the entries (exits) in listing order,
//! recursing when that job is itself a nested scheduler.

use asyncjobs_core::{JobView, Snapshot};

/// Which side of a scheduler an edge attaches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Edges coming in: jobs that require nothing.
    Entry,
    /// Edges going out: jobs nothing requires, forever ones only if there is nothing else.
    Exit,
}

/// The node id inside nested scheduler `owner` (of content `snap`) that edges on `side` attach to.
pub(crate) fn anchor(owner: usize, snap: &Snapshot, side: Side) -> String {
    let mut candidates = match side {
        Side::Entry => snap.entries(),
        Side::Exit => snap.exits(),
    };
    if candidates.is_empty() && side == Side::Exit {
        candidates = not_required(snap);
    }
    if candidates.is_empty() {
        // only made-up snapshots with a cycle get here with jobs; an empty
        // scheduler has its placeholder node
        candidates = snap.jobs.first().map(|j| j.id).into_iter().collect();
    }
    let Some(&id) = candidates.get(candidates.len().saturating_sub(1) / 2) else {
        return placeholder_id(owner);
    };
    match snap.jobs.iter().find(|j| j.id == id) {
        Some(JobView {
            nested: Some(inner),
            ..
        }) => anchor(id, inner, side),
        _ => id.to_string(),
    }
}

/// Id of the invisible-content node that keeps an empty nested scheduler drawable.
pub(crate) fn placeholder_id(owner: usize) -> String {
    format!("empty_{owner}")
}

/// Jobs nothing requires, forever ones included.
fn not_required(snap: &Snapshot) -> Vec<usize> {
    let required: std::collections::HashSet<usize> = snap
        .jobs
        .iter()
        .flat_map(|j| j.requires.iter().copied())
        .collect();
    snap.jobs
        .iter()
        .map(|j| j.id)
        .filter(|id| !required.contains(id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: usize, requires: &[usize]) -> JobView {
        let mut v = JobView::new(id, "Job", format!("j{id}"));
        v.requires = requires.to_vec();
        v
    }

    fn snap(jobs: Vec<JobView>) -> Snapshot {
        Snapshot {
            label: "s".into(),
            critical: true,
            forever: false,
            why: String::new(),
            jobs,
        }
    }

    #[test]
    fn middle_entry_is_at_index_n_minus_one_over_two() {
        let s = snap(vec![
            view(2, &[]),
            view(3, &[]),
            view(4, &[]),
            view(5, &[]),
            view(6, &[2, 3, 4, 5]),
        ]);
        assert_eq!(anchor(1, &s, Side::Entry), "3");
        assert_eq!(anchor(1, &s, Side::Exit), "6");
    }

    #[test]
    fn exit_skips_forever_jobs_unless_there_is_nothing_else() {
        let mut forever = view(3, &[]);
        forever.forever = true;
        let s = snap(vec![view(2, &[]), forever.clone()]);
        assert_eq!(anchor(1, &s, Side::Exit), "2");
        let only_forever = snap(vec![forever]);
        assert_eq!(anchor(1, &only_forever, Side::Exit), "3");
    }

    #[test]
    fn nested_anchor_recurses_down_to_a_node() {
        let inner = snap(vec![view(3, &[]), view(4, &[3])]);
        let mut nested = view(2, &[]);
        nested.nested = Some(inner);
        let s = snap(vec![nested]);
        assert_eq!(anchor(1, &s, Side::Entry), "3");
        assert_eq!(anchor(1, &s, Side::Exit), "4");
    }

    #[test]
    fn empty_scheduler_anchors_on_its_placeholder() {
        assert_eq!(anchor(7, &snap(vec![]), Side::Entry), "empty_7");
        assert_eq!(anchor(7, &snap(vec![]), Side::Exit), "empty_7");
    }
}
