//! `Match` lines: the criteria OpenSSH 9.2 knows (`all`, `canonical`,
//! `final`, `host`, `originalhost`, `user`, `localuser`, `exec`, each
//! negatable with `!`), checked when the file is read, and evaluated for a
//! host as `readconf.c`'s `match_cfg_line` does. Any other criterion makes
//! the file an error.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::lexer::strdelim;
use super::pattern::{match_hostname, match_list, ListMatch};

/// How long a `Match exec` command may run.
const EXEC_LIMIT: Duration = Duration::from_secs(30);

/// One criterion of a `Match` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Criterion {
    All,
    Canonical,
    Final,
    Host(Box<str>),
    OriginalHost(Box<str>),
    User(Box<str>),
    LocalUser(Box<str>),
    Exec(Box<str>),
}

/// A criterion and whether it is negated.
pub(crate) type Term = (bool, Criterion);

/// Parses the criteria after `Match`.
pub(crate) fn parse(rest: &str) -> Result<Vec<Term>, String> {
    let mut cursor = Some(rest);
    let mut terms = Vec::new();
    let mut attributes = 0usize;
    while let Some(word) = strdelim(&mut cursor, true) {
        if word.is_empty() || word.starts_with('#') {
            break;
        }
        let (negated, name) = match word.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, word.as_str()),
        };
        let name = name.to_ascii_lowercase();
        if name == "all" {
            let next = strdelim(&mut cursor, true);
            let more = next
                .as_deref()
                .is_some_and(|n| !n.is_empty() && !n.starts_with('#'));
            if attributes > 1 || more {
                return Err(format!(
                    "'{word}' cannot be combined with other Match attributes"
                ));
            }
            terms.push((negated, Criterion::All));
            return Ok(terms);
        }
        attributes += 1;
        match name.as_str() {
            "canonical" => {
                terms.push((negated, Criterion::Canonical));
                continue;
            }
            "final" => {
                terms.push((negated, Criterion::Final));
                continue;
            }
            _ => {}
        }
        let arg = match strdelim(&mut cursor, true) {
            Some(a) if !a.is_empty() && !a.starts_with('#') => a.into_boxed_str(),
            _ => return Err(format!("missing Match criteria for {name}")),
        };
        let c = match name.as_str() {
            "host" => Criterion::Host(arg),
            "originalhost" => Criterion::OriginalHost(arg),
            "user" => Criterion::User(arg),
            "localuser" => Criterion::LocalUser(arg),
            "exec" => Criterion::Exec(arg),
            _ => {
                return Err(format!(
                    "unsupported Match criterion `{name}` (supported: all, canonical, final, \
                     host, originalhost, user, localuser, exec)"
                ))
            }
        };
        terms.push((negated, c));
    }
    if attributes == 0 {
        return Err("one or more attributes required for Match".into());
    }
    Ok(terms)
}

/// What a `Match` is evaluated against.
pub(crate) struct Subject<'a> {
    /// The host name (`HostName` applied so far).
    pub host: &'a str,
    /// The host name as given.
    pub original: &'a str,
    /// The remote user so far.
    pub user: &'a str,
    /// The local user.
    pub local_user: &'a str,
    /// Whether this is the final pass.
    pub final_pass: bool,
}

/// Evaluates the terms; `exec` commands come expanded through `expand` and
/// run only while every earlier term holds (as OpenSSH does).
pub(crate) fn evaluate(
    terms: &[Term],
    s: &Subject<'_>,
    mut expand: impl FnMut(&str) -> Result<String, String>,
) -> Result<bool, String> {
    let mut result = true;
    for (negated, c) in terms {
        let hit = match c {
            Criterion::All => {
                if result {
                    result = !negated;
                }
                return Ok(result);
            }
            Criterion::Canonical | Criterion::Final => s.final_pass,
            Criterion::Host(list) => match_hostname(s.host, list) == ListMatch::Yes,
            Criterion::OriginalHost(list) => match_hostname(s.original, list) == ListMatch::Yes,
            Criterion::User(list) => match_list(s.user, list, false) == ListMatch::Yes,
            Criterion::LocalUser(list) => match_list(s.local_user, list, false) == ListMatch::Yes,
            Criterion::Exec(command) => {
                if !result {
                    continue;
                }
                run(&expand(command)?)?
            }
        };
        if hit == *negated {
            result = false;
        }
    }
    Ok(result)
}

/// Whether a `final` criterion appears (it asks for a second pass).
pub(crate) fn wants_final(terms: &[Term]) -> bool {
    terms.iter().any(|(_, c)| *c == Criterion::Final)
}

/// Runs a `Match exec` command through the user's shell (`$SHELL`, else
/// `/bin/sh`), stdin and stdout on /dev/null: true if it exits 0.
fn run(command: &str) -> Result<bool, String> {
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut child = Command::new(&shell)
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "Match exec `{command}`: cannot run {}: {e}",
                shell.to_string_lossy()
            )
        })?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.code() {
                    Some(code) => Ok(code == 0),
                    None => Err(format!(
                        "Match exec `{command}` exited abnormally ({status})"
                    )),
                }
            }
            Ok(None) if start.elapsed() < EXEC_LIMIT => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "Match exec `{command}` did not finish within {}s",
                    EXEC_LIMIT.as_secs()
                ));
            }
            Err(e) => return Err(format!("Match exec `{command}`: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(host: &str) -> Subject<'_> {
        Subject {
            host,
            original: host,
            user: "deploy",
            local_user: "alice",
            final_pass: false,
        }
    }

    fn eval(line: &str, host: &str) -> bool {
        evaluate(&parse(line).unwrap(), &subject(host), |c| Ok(c.to_string())).unwrap()
    }

    #[test]
    fn criteria_parse_with_negation_quotes_and_equals() {
        let t = parse("!host=a,b exec \"test -n x\" User root").unwrap();
        assert_eq!(
            t,
            [
                (true, Criterion::Host("a,b".into())),
                (false, Criterion::Exec("test -n x".into())),
                (false, Criterion::User("root".into())),
            ]
        );
        assert_eq!(parse("all").unwrap(), [(false, Criterion::All)]);
        assert_eq!(parse("canonical all # x").unwrap().len(), 2);
        assert!(wants_final(&parse("final host x").unwrap()));
    }

    #[test]
    fn bad_criteria_are_errors() {
        for (line, want) in [
            (
                "localnetwork 10.0.0.0/8",
                "unsupported Match criterion `localnetwork`",
            ),
            ("tagged x", "unsupported Match criterion `tagged`"),
            ("host", "missing Match criteria for host"),
            ("host # c", "missing Match criteria for host"),
            ("all host x", "cannot be combined"),
            ("canonical final all", "cannot be combined"),
            ("# only a comment", "one or more attributes"),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }

    #[test]
    fn criteria_evaluate_as_openssh_does() {
        assert!(eval("host web*", "WEB1"));
        assert!(!eval("host web*,!web2", "web2"));
        assert!(!eval("!host web*", "web1"));
        assert!(eval("user deploy localuser alice", "h"));
        assert!(!eval("user Deploy", "h"), "user names are case-sensitive");
        assert!(eval("all", "h"));
        assert!(!eval("!all", "h"));
        assert!(!eval("final", "h"));
        assert!(eval("!canonical", "h"));
    }

    #[test]
    fn exec_runs_only_while_earlier_terms_hold() {
        let terms = parse("host other exec false").unwrap();
        let mut ran = false;
        let r = evaluate(&terms, &subject("web"), |c| {
            ran = true;
            Ok(c.to_string())
        });
        assert!(!r.unwrap() && !ran);
        assert!(eval("exec true", "h"));
        assert!(!eval("exec false", "h"));
        assert!(!eval("!exec true", "h"));
        let e = evaluate(&parse("exec \"kill -9 $$\"").unwrap(), &subject("h"), |c| {
            Ok(c.to_string())
        });
        assert!(e.unwrap_err().contains("abnormally"));
    }
}
