//! A benchmark's targets and how a run compares with them, in the same form
//! for every benchmark: the status of each target, and the list of verdicts
//! for the terminal and for BENCHMARKS.md. What each target checks, and how
//! its detail is worded, is the benchmark's own (its `targets` module).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Met,
    Missed,
    NotMeasured,
}

impl Status {
    /// From a target's checks, each (ok, text): none means not measured.
    pub fn of(checks: &[(bool, String)]) -> Status {
        if checks.is_empty() {
            Status::NotMeasured
        } else if checks.iter().all(|c| c.0) {
            Status::Met
        } else {
            Status::Missed
        }
    }

    fn word(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Missed => "MISSED",
            Status::NotMeasured => "not measured",
        }
    }
}

/// One target and how the run compares with it.
pub struct Verdict {
    pub target: &'static str,
    pub status: Status,
    pub detail: String,
}

/// A verdict from (ok, text) checks; none means not measured.
pub fn verdict(target: &'static str, checks: Vec<(bool, String)>) -> Verdict {
    let status = Status::of(&checks);
    let detail = if checks.is_empty() {
        "not measured".into()
    } else {
        checks
            .iter()
            .map(|c| c.1.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    Verdict {
        target,
        status,
        detail,
    }
}

/// For the terminal; `source` says where the targets come from (`issue 6`).
pub fn text(source: &str, verdicts: &[Verdict]) -> String {
    let mut out = format!("targets ({source}):\n");
    for v in verdicts {
        out.push_str(&format!(
            "  [{}] {}: {}\n",
            v.status.word(),
            v.target,
            v.detail
        ));
    }
    out
}

/// For BENCHMARKS.md.
pub fn markdown(verdicts: &[Verdict]) -> String {
    let mut out = String::from("| target | verdict | measured |\n|---|---|---|\n");
    for v in verdicts {
        out.push_str(&format!(
            "| {} | **{}** | {} |\n",
            v.target,
            v.status.word(),
            v.detail
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{markdown, text, Status, Verdict};

    #[test]
    fn a_target_is_met_only_when_every_check_is_and_unmeasured_without_checks() {
        assert_eq!(Status::of(&[]), Status::NotMeasured);
        assert_eq!(
            Status::of(&[(true, "a".into()), (true, "b".into())]),
            Status::Met
        );
        assert_eq!(
            Status::of(&[(true, "a".into()), (false, "b".into())]),
            Status::Missed
        );
    }

    #[test]
    fn verdicts_are_listed_with_their_status_word() {
        let v = [Verdict {
            target: "fast",
            status: Status::Missed,
            detail: "N=10: 2 s".into(),
        }];
        assert_eq!(
            text("issue 9", &v),
            "targets (issue 9):\n  [MISSED] fast: N=10: 2 s\n"
        );
        assert!(markdown(&v).ends_with("| fast | **MISSED** | N=10: 2 s |\n"));
    }
}
