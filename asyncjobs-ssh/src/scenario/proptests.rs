//! Property tests: any scenario text — raw, made of the formats' own
//! tokens, or a valid file mutated (bytes inserted, removed, replaced) —
//! loads into a plan or a clear error naming the file (and a line within
//! the text, when it names one): never a panic. Inputs are bounded, so the
//! time is too; TOML, YAML and Jinja templates are all exercised.

use std::path::Path;

use proptest::prelude::*;

use super::{ErrorKind, Loader};

const TOML: &str = r#"label = "demo"
window = 2
[nodes.gw]
host = "gw"
[nodes."fit[01-03]"]
host = "{node}"
gateway = "gw"
vars = { rack = "r1" }
[[job]]
id = "a"
nodes = "fit[01-03]"
run = "echo {node} {rack}"
[[job]]
id = "b"
nodes = ["fit[01-03]"]
requires = "a"
timeout = 2.5
commands = [{ run = "true", allowed_exits = [3, "TERM"] }, { pull = "/x", into = "o/" }]
[[group]]
id = "g"
requires_all = "b"
nodes = "fit01"
  [[group.job]]
  id = "c"
  run = "true"
"#;

const YAML: &str = "nodes:
  - id: gw
    hostname: gw
  - id: fit[01-02]
    hostname: \"{node}\"
    gateway: gw
    formatter: TimeHostFormatter
jobs:
  - id: a
    nodes: fit[01-02]
    commands:
      - &b {type: Run, command: echo}
      - {type: Pull, remotepaths: [x], localpath: /tmp/}
      - *b
  - id: b
    node: gw
    required: a
    required_all: [a]
    commands:
      - type: RunString
        script_body: \"echo $1\"
        args: [1, two, 3.5, true]
";

const TOKENS: &[&str] = &[
    "[[job]]",
    "[[group]]",
    "[[group.job]]",
    "[nodes.n]",
    "[nodes.\"n[1-3]\"]",
    "id = ",
    "node = ",
    "nodes = ",
    "requires = ",
    "requires_all = ",
    "run = ",
    "commands = ",
    "timeout = ",
    "\"n[1-99999999]\"",
    "\"n[0-18446744073709551615]\"",
    "\"{node}\"",
    "1e19",
    "-1",
    "nan",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "=",
    ",",
    "\n",
    " ",
    "#",
    "nodes:",
    "jobs:",
    "  - id: ",
    "    node: ",
    "    commands:",
    "      - type: Run",
    "command: ",
    "&a ",
    "*a",
    "{{ x }}",
    "{% for i in range(9) %}",
    "{% endfor %}",
    ":",
    "- ",
    "\t",
    "é",
    "\u{0}",
];

fn check(text: &str, name: &str) -> Result<(), TestCaseError> {
    let file = Path::new(name);
    match Loader::new().variable("x", "1").parse(text, file) {
        Ok(plan) => {
            plan.check()
                .map_err(|e| TestCaseError::fail(format!("a loaded plan fails its checks: {e}")))?;
        }
        Err(e) => {
            let shown = e.to_string();
            prop_assert!(shown.starts_with(name), "{shown}");
            prop_assert!(!e.message().is_empty(), "{shown}");
            if let Some(line) = e.line() {
                // a template renders to other text: its lines are its own
                // YAML counts a lone CR as a line break too
                let lines = text.split(['\n', '\r']).count().max(1);
                prop_assert!(
                    e.kind() == ErrorKind::Template || name.ends_with(".j2") || line <= lines + 1,
                    "line {line} of {lines}: {shown}"
                );
            }
        }
    }
    Ok(())
}

fn mutate(base: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for &(at, op, b) in edits {
        let at = at % (bytes.len() + 1);
        match op % 3 {
            0 => bytes.insert(at, b),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ if at < bytes.len() => bytes[at] = b,
            _ => bytes.push(b),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutated_files_load_or_fail_clearly(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    ) {
        check(&mutate(TOML, &edits), "m.toml")?;
        check(&mutate(YAML, &edits), "m.yaml")?;
        check(&mutate(YAML, &edits), "m.yaml.j2")?;
    }

    #[test]
    fn token_soup_loads_or_fails_clearly(
        picks in prop::collection::vec(0..TOKENS.len(), 0..60),
    ) {
        let text: String = picks.iter().map(|&i| TOKENS[i]).collect();
        check(&text, "t.toml")?;
        check(&text, "t.yaml")?;
        check(&text, "t.toml.j2")?;
    }

    #[test]
    fn arbitrary_text_loads_or_fails_clearly(text in ".{0,300}") {
        check(&text, "a.toml")?;
        check(&text, "a.yml")?;
    }
}

#[test]
fn the_seeds_load() {
    Loader::new().parse(TOML, Path::new("s.toml")).unwrap();
    Loader::new().parse(YAML, Path::new("s.yaml")).unwrap();
}
