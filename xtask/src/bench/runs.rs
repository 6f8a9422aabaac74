//! Whether a benchmark cell's runs are all there, in the same words for
//! every benchmark: the validation run, the timed runs that failed, and how
//! many were made of how many planned.

/// The median of `v`; none when empty.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// A view of one cell's runs, borrowed from the benchmark's own cell type.
pub struct Runs<'a> {
    /// The validation run: every host answered, or why not.
    pub validation: Result<(), &'a str>,
    /// Timed runs that did not reach every host: why.
    pub failures: &'a [String],
    /// Timed runs that did.
    pub made: usize,
    pub planned: usize,
}

impl<'a> Runs<'a> {
    pub fn new<T>(
        validation: &'a Result<T, String>,
        failures: &'a [String],
        made: usize,
        planned: usize,
    ) -> Runs<'a> {
        Runs {
            validation: validation.as_ref().map(|_| ()).map_err(String::as_str),
            failures,
            made,
            planned,
        }
    }

    /// Every run, validation included, reached every host.
    pub fn valid(&self) -> bool {
        self.validation.is_ok() && self.failures.is_empty() && self.made == self.planned
    }

    /// Why the cell is not valid, in a few words.
    pub fn problem(&self) -> Option<String> {
        if let Err(why) = &self.validation {
            return Some(format!("validation run: {why}"));
        }
        if let Some(first) = self.failures.first() {
            return Some(format!(
                "{} of {} runs failed: {first}",
                self.failures.len(),
                self.planned
            ));
        }
        (self.made != self.planned)
            .then(|| format!("only {} of {} runs made", self.made, self.planned))
    }
}

/// A benchmark cell whose runs can be checked: `valid()` and `problem()`
/// come from its [`Runs`].
pub trait CellRuns {
    fn run_check(&self) -> Runs<'_>;

    /// Every run, validation included, reached every host.
    fn valid(&self) -> bool {
        self.run_check().valid()
    }

    /// Why the cell is not valid, in a few words.
    fn problem(&self) -> Option<String> {
        self.run_check().problem()
    }
}

#[cfg(test)]
mod tests {
    use super::{median, Runs};

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn valid_and_problem() {
        let ok: Result<u8, String> = Ok(1);
        let failed = vec!["boom".to_string()];
        assert!(Runs::new(&ok, &[], 2, 2).valid());
        assert_eq!(Runs::new(&ok, &[], 2, 2).problem(), None);
        let bad: Result<u8, String> = Err("not run".into());
        assert_eq!(
            Runs::new(&bad, &[], 0, 2).problem().as_deref(),
            Some("validation run: not run")
        );
        assert!(!Runs::new(&ok, &failed, 1, 2).valid());
        assert_eq!(
            Runs::new(&ok, &failed, 1, 2).problem().as_deref(),
            Some("1 of 2 runs failed: boom")
        );
        assert_eq!(
            Runs::new(&ok, &[], 1, 2).problem().as_deref(),
            Some("only 1 of 2 runs made")
        );
    }
}
