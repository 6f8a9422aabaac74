//! [`Watch`]: a stopwatch printing time elapsed since it was started or reset.

use tokio::time::Instant;

/// A stopwatch: `elapsed()` is `"SSS.mmm"` since creation or the last `reset()`.
///
/// It reads tokio's clock, so under a paused test clock it shows virtual time.
///
/// ```
/// let w = asyncjobs_core::Watch::new();
/// assert_eq!(w.elapsed().len(), 7); // "000.000"
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    start: Instant,
}

impl Default for Watch {
    fn default() -> Self {
        Self::new()
    }
}

impl Watch {
    /// Starts now.
    pub fn new() -> Self {
        Watch {
            start: Instant::now(),
        }
    }
    /// Restarts from zero.
    pub fn reset(&mut self) {
        self.start = Instant::now();
    }
    /// Seconds since start.
    pub fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
    /// Seconds since start as `"SSS.mmm"` (e.g. `"000.120"`).
    pub fn elapsed(&self) -> String {
        format!("{:07.3}", self.seconds())
    }
    /// Prints `"{elapsed} {suffix}"` without a newline.
    pub fn print_elapsed(&self, suffix: &str) {
        print!("{} {suffix}", self.elapsed());
    }
}
