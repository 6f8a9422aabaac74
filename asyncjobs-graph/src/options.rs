//! [`DotOptions`]: what a dot export shows besides the reference's picture.

/// Options of [`dot_format_with`](crate::dot_format_with).
///
/// The default is the reference's picture: structure and borders only.
///
/// ```
/// use asyncjobs_graph::DotOptions;
/// let after_run = DotOptions { outcome_colors: true, ..Default::default() };
/// assert!(after_run.legend);
/// assert_eq!(after_run, DotOptions::outcomes());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DotOptions {
    /// Fill each job with the colour of its outcome (succeeded, raised an error,
    /// cancelled or timed out, never ran), add the error to the label of the
    /// jobs that raised one, and a tooltip (shown by SVG viewers) with the
    /// error or the result.
    pub outcome_colors: bool,
    /// With `outcome_colors`, add a legend cluster explaining the colours.
    pub legend: bool,
    /// Add where each job runs and its details (e.g. the node and the
    /// commands of an ssh job) under its label.
    pub details: bool,
    /// Alike jobs on this many targets or more — a fan-out, e.g. the same
    /// command on 40 hosts — are drawn as one box with their count and node
    /// set (see [`AbstractJob::graph_target`](asyncjobs_core::AbstractJob::graph_target));
    /// 0 draws every job in a box of its own.
    pub fold_at: usize,
    /// More than this many lone jobs (no requirement, no dependent, not
    /// folded together) are drawn in rows of this many instead of one wide
    /// row; 0 keeps them in one row.
    pub row_max: usize,
}

impl Default for DotOptions {
    fn default() -> Self {
        DotOptions {
            outcome_colors: false,
            legend: true,
            details: true,
            fold_at: 3,
            row_max: 8,
        }
    }
}

impl DotOptions {
    /// The options for a picture after a run: outcome colours with their legend.
    pub fn outcomes() -> Self {
        DotOptions {
            outcome_colors: true,
            ..Default::default()
        }
    }
}
