//! One job on one line, as listings and the live feed show it:
//! `<Kind `label`>` then `!! exception => Kind:message!!` or `[[ -> result]]`.

use std::fmt::Write as _;

use crate::error::JobError;

/// `<Kind `label`>` then the error (`!! CRIT. EXC. => Kind:message!!` for a
/// critical job, `!! exception => …` otherwise) or the result (`[[ -> text]]`).
pub(crate) fn job_text(
    kind: &str,
    label: &str,
    critical: bool,
    error: Option<&JobError>,
    result: Option<&str>,
) -> String {
    let mut s = format!("<{kind} `{label}`>");
    if let Some(e) = error {
        let tag = if critical { "CRIT. EXC." } else { "exception" };
        // one line per job: a multi-line message is folded
        let msg = crate::ErrorChain(e.as_error())
            .to_string()
            .replace('\n', " ");
        let _ = write!(s, "!! {tag} => {}:{msg}!!", e.kind());
    } else if let Some(r) = result {
        let _ = write!(s, "[[ -> {r}]]");
    }
    s
}
