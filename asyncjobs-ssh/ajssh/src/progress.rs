//! The progress bar on stderr: shown only when stderr is a terminal, with
//! done / failed / unreachable / remaining counts. Output lines written to
//! the same terminal go through [`Progress::suspend`] so that the bar is
//! cleared first and redrawn after, never mixed into a line.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar for `total` hosts if `wanted` and stderr is a terminal.
    pub fn new(total: usize, wanted: bool) -> Progress {
        if !wanted || !std::io::stderr().is_terminal() || total == 0 {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(message(0, 0, 0, total));
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Some(bar) }
    }

    /// A bar that is never shown.
    #[cfg(test)]
    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    /// True when the bar is on screen.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// One more host done; the counts are the totals so far.
    pub fn update(&self, ok: usize, failed: usize, unreachable: usize, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position((ok + failed + unreachable) as u64);
            bar.set_message(message(ok, failed, unreachable, total));
        }
    }

    /// Runs `f` with the bar cleared (for writing to the terminal).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar for good (once: later calls do nothing).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            if !bar.is_finished() {
                bar.finish_and_clear();
            }
        }
    }
}

/// `3 ok, 1 failed, 0 unreachable, 6 remaining`
pub fn message(ok: usize, failed: usize, unreachable: usize, total: usize) -> String {
    let remaining = total.saturating_sub(ok + failed + unreachable);
    format!("{ok} ok, {failed} failed, {unreachable} unreachable, {remaining} remaining")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_counts_remaining_hosts() {
        assert_eq!(
            message(3, 1, 0, 10),
            "3 ok, 1 failed, 0 unreachable, 6 remaining"
        );
    }

    #[test]
    fn hidden_bar_runs_suspended_code_directly() {
        let p = Progress::hidden();
        assert!(!p.is_shown());
        assert_eq!(p.suspend(|| 7), 7);
        p.update(1, 0, 0, 1);
        p.finish();
    }
}
