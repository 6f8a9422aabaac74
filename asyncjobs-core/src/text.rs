//! How numbers, durations and job results are written in listings and
//! messages: as Python's asynciojobs prints them where it can.

use std::any::Any;
use std::borrow::Cow;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

/// Seconds as Python prints a number: `0.25`, `3`, `1.5`.
pub(crate) fn format_secs(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}

/// Width of listing ids for `total` jobs, the reference's rule: 1 up to 9
/// jobs, then the digits of `total - 1` (so 10 jobs still use width 1).
pub(crate) fn id_width(total: usize) -> usize {
    if total <= 9 {
        1
    } else {
        ((total - 1).ilog10() + 1) as usize
    }
}

/// How a listing shows a job's result by default: a string type as its text
/// (`duration=1`, as Python's `str()` shows it), any other type through `Debug`.
///
/// Rust has no stable specialization, so generic code cannot ask whether a
/// result type implements `Display`; the standard string types are recognised
/// here by their type at run time instead, and other types opt into `Display`
/// with [`Job::display_result`](crate::Job::display_result) or into any text
/// with [`Job::result_text`](crate::Job::result_text) (job kinds: with
/// [`AbstractJob::result_text`](crate::AbstractJob::result_text)).
pub(crate) fn default_text<T: Debug + 'static>(value: &T) -> String {
    let any: &dyn Any = value;
    if let Some(s) = any.downcast_ref::<String>() {
        return s.clone();
    }
    if let Some(s) = any.downcast_ref::<&'static str>() {
        return (*s).to_string();
    }
    if let Some(s) = any.downcast_ref::<Cow<'static, str>>() {
        return s.to_string();
    }
    if let Some(s) = any.downcast_ref::<Box<str>>() {
        return s.to_string();
    }
    if let Some(s) = any.downcast_ref::<Arc<str>>() {
        return s.to_string();
    }
    format!("{value:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_show_as_their_text_and_other_types_through_debug() {
        assert_eq!(default_text(&String::from("duration=1")), "duration=1");
        assert_eq!(default_text(&"duration=1"), "duration=1");
        assert_eq!(default_text(&Cow::<'static, str>::Borrowed("a b")), "a b");
        assert_eq!(default_text(&Arc::<str>::from("x")), "x");
        assert_eq!(default_text(&100.0_f64), "100.0");
        assert_eq!(default_text(&Some("x")), "Some(\"x\")");
        assert_eq!(default_text(&()), "()");
    }

    #[test]
    fn seconds_are_written_as_python_writes_numbers() {
        assert_eq!(format_secs(Duration::from_millis(250)), "0.25");
        assert_eq!(format_secs(Duration::from_secs(3)), "3");
    }
}
