//! The `toml` crate is the oracle: whatever the tree accepts must read the
//! same through serde (values, and the spans `Spanned` fields get), and
//! whatever the crate refuses the tree must refuse.

use proptest::prelude::*;
use serde::Deserialize;

use super::parse;
use crate::scenario::model;

/// Through the tree, as the `toml` crate's own value (its Debug text, so
/// that NaN compares equal to itself).
fn fast_value(text: &str) -> Option<String> {
    let tree = parse(text, None)?;
    let v = toml::Table::deserialize(tree.root()).ok()?;
    Some(format!("{v:?}"))
}

fn oracle_value(text: &str) -> Option<String> {
    toml::from_str::<toml::Table>(text)
        .ok()
        .map(|v| format!("{v:?}"))
}

/// The tree reads `text` exactly as the `toml` crate does.
#[track_caller]
fn same(text: &str) {
    let oracle = oracle_value(text).expect("the toml crate reads it");
    assert_eq!(fast_value(text).as_deref(), Some(oracle.as_str()), "{text}");
}

/// The `toml` crate refuses `text`, and so does the tree.
#[track_caller]
fn refused(text: &str) {
    assert!(oracle_value(text).is_none(), "the toml crate reads {text}");
    assert!(parse(text, None).is_none(), "the tree reads {text}");
}

const SCENARIO: &str = r#"
# a scenario as people write them
label = "deploy"
window = 8
timeout = 300.5

[nodes.gw]
host = "bastion.example.org"
user = 'admin'
port = 2222

[nodes."fit[01-10]"]
host = "{node}.lab"
gateway = "gw"
vars = { rack = "r1", "two words" = 'x' }

[[job]]
id = "deploy"
nodes = "fit[01-10]"
commands = [
  { push = ["app.sh", "lib.sh"], to = "/tmp/" },   # trailing comment
  { run = "echo \"quoted\" \t tab \u00e9" },
]

[[job]]
id = "run"
nodes = ["fit01", "fit[02-10]"]
requires = "deploy"
timeout = 60
run = """
sh /tmp/app.sh {node} \
   > /tmp/out.txt"""

[[group]]
id = "g"
[[group.job]]
id = "inner"
node = "gw"
commands = [{ script = "r.sh", args = ["--all"], allowed_exits = [3, "TERM"] }]
"#;

#[test]
fn reads_scenarios_as_the_toml_crate() {
    same(SCENARIO);
    same("");
    same("# only a comment\n\n");
    same("a = 1\r\nb = 'x'\r\n");
}

#[test]
fn reads_values_as_the_toml_crate() {
    same("i = [0x1F, 0o17, 0b101, 1_000, -7, +3]\n");
    same("f = [1.5, -0.0, 1e3, 6.02_2e23, inf, -inf, nan, +inf]\n");
    same("b = [true, false]\nempty = []\nnested = [[1, 2], ['a'], [{x = 1}]]\n");
    same("s = [\"\\\\ \\b \\f \\n \\r \\\" \\U0001F600\", 'C:\\no\\escape', '''\nraw ''  '''\n]\n");
    same("m = \"\"\"\n  one\n  two \\\n     three\"\"\"\n");
}

#[test]
fn reads_tables_as_the_toml_crate() {
    same("[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b]\nz = 3\n");
    same("[[a]]\nx = 1\n[a.sub]\ny = 2\n[[a]]\nx = 3\n[[a.list]]\nk = 1\n[[a.list]]\nk = 2\n");
    same("a.b.c = 1\na.b.d = 2\na.e = 3\n[t]\nx.y = 1\n");
    same("t = { a.b = 1, a.c = 2, d = { e = [] } }\n");
    same("\"quoted key\" = 1\n'literal key' = 2\n\"a.b\".c = 3\n[\"x y\".'z']\nk = 4\n");
    same("[ spaced . header ]\nk = 1\n[[ spaced . array ]]\nk = 2\n");
    // more entries than a table scans: its index
    let many: String = (0..100).map(|i| format!("k{i} = {i}\n")).collect();
    same(&many);
    let tables: String = (0..50).map(|i| format!("[t.n{i}]\nx = {i}\n")).collect();
    same(&tables);
}

#[test]
fn refuses_what_the_toml_crate_refuses() {
    refused("a = 1\na = 2\n");
    refused("[a]\n[a]\n");
    refused("[a]\nb = 1\n[a.b]\n");
    refused("a = [1]\n[[a]]\n");
    refused("[[a]]\n[a]\n");
    refused("a.b = 1\n[a]\n");
    refused("t = { a = 1 }\n[t.b]\n");
    refused("t = { a = 1, a = 2 }\n");
    refused("big = 9223372036854775808\n");
    refused("f = 1e400\n");
    refused("s = \"\\q\"\n");
    refused("s = \"unterminated\n");
    refused("k = \n");
    refused("= 1\n");
    refused("[a\nb = 1\n");
    refused("a = 1 b = 2\n");
    refused("x = [1, 2\n[t]\n");
    refused("bad\u{7}control = 1\n");
    refused("# comment with a \u{0} nul\n");
}

#[test]
fn leaves_date_times_to_the_toml_crate() {
    // valid TOML, but no scenario field takes one: the crate words the error
    assert!(oracle_value("d = 1979-05-27T07:32:00Z\n").is_some());
    assert!(parse("d = 1979-05-27T07:32:00Z\n", None).is_none());
}

#[test]
fn scenario_model_reads_the_same_spans() {
    let tree = parse(SCENARIO, None).expect("read");
    let fast = model::File::deserialize(tree.root()).expect("fast");
    let oracle: model::File = toml::from_str(SCENARIO).expect("oracle");
    assert_eq!(format!("{fast:?}"), format!("{oracle:?}"));
}

/// Tables made in other ways than `[header]`: their spans (the lines
/// errors name) are the crate's too.
#[test]
fn scenario_model_spans_match_for_every_way_of_writing_a_table() {
    let texts = [
        // a node's table named by a header below it first
        "[nodes.n.vars]\nk = \"v\"\n[nodes.n]\nhost = \"h\"\n",
        // dotted keys
        "nodes.n.host = \"h\"\nnodes.n.user = \"u\"\n",
        "[nodes]\nn.host = \"h\"\nm.host = \"i\"\n",
        // inline tables
        "[nodes]\nn = { host = \"h\", vars = { a = \"1\" } }\n",
        "job = [ { id = \"a\", node = \"n\", run = \"x\" },\n  { id = \"b\", node = \"n\", run = \"y\" } ]\n",
        // groups nested in groups, jobs after them
        "[[group]]\nid = \"g\"\n[[group.group]]\nid = \"h\"\n[[group.group.job]]\nid = \"i\"\nrun = \"x\"\n[[job]]\nid = \"j\"\nrun = \"y\"\n",
    ];
    for text in texts {
        let oracle: model::File = toml::from_str(text).expect("oracle");
        let tree = parse(text, None).unwrap_or_else(|| panic!("the tree reads {text}"));
        let fast = model::File::deserialize(tree.root()).expect("fast");
        assert_eq!(format!("{fast:?}"), format!("{oracle:?}"), "{text}");
    }
}

#[test]
fn every_example_scenario_reads_the_same() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/scenarios");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/scenarios") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).expect("read");
            let oracle: model::File = toml::from_str(&text).expect("oracle");
            let fast = model::File::deserialize(parse(&text, None).expect("tree").root());
            assert_eq!(
                format!("{:?}", fast.expect("fast")),
                format!("{oracle:?}"),
                "{}",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen > 0, "no TOML example in {}", dir.display());
}

/// Documents of many chunks (real ones cut every 4,096 tokens, tests every
/// 8): values that span lines, and errors far into the file.
#[test]
fn reads_long_documents_across_chunks() {
    let mut text = String::from("[nodes.n]\nhost = \"h\"\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "[[job]]\nid = \"j{i}\"\nnode = \"n\"\nrequires = [\n  \"a\",\n  \"b\", # c\n]\n\
             commands = [{{ run = \"\"\"\nx {i}\n[y]\n\"\"\" }}]\n"
        ));
    }
    same(&text);
    let tree = parse(&text, None).expect("read");
    let fast = model::File::deserialize(tree.root()).expect("fast");
    let oracle: model::File = toml::from_str(&text).expect("oracle");
    assert_eq!(format!("{fast:?}"), format!("{oracle:?}"));
    refused(&format!("{text}[[job]]\nid = \"late\"\nid = \"twice\"\n"));
    refused(&format!("{text}x = [1,\n"));
}

#[test]
fn stops_at_a_key_the_root_does_not_take() {
    let text = "label = \"x\"\n[nodes.n]\nhost = \"h\"\n";
    assert!(parse(text, Some(model::ROOT_KEYS)).is_some());
    assert!(parse("[nodez.n]\nhost = \"h\"\n", Some(model::ROOT_KEYS)).is_none());
    assert!(parse("labels = \"x\"\n", Some(model::ROOT_KEYS)).is_none());
    assert!(parse("labels = \"x\"\n", None).is_some());
}

/// Lines of TOML, valid and not, to assemble into documents.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[a]".to_string()),
        Just("[a.b]".to_string()),
        Just("[[a]]".to_string()),
        Just("[[a.c]]".to_string()),
        Just("[b]".to_string()),
        Just("a = 1".to_string()),
        Just("b = 'x'".to_string()),
        Just("a.b = 2".to_string()),
        Just("c.d.e = true".to_string()),
        Just("t = { x = 1, y.z = [1, 2] }".to_string()),
        Just("arr = [ { k = 1 }, { k = 2 } ]".to_string()),
        Just("s = \"\"\"\nline\n\"\"\"".to_string()),
        Just("n = 0x10".to_string()),
        Just("f = 2.5e-3".to_string()),
        Just("# comment".to_string()),
        Just("".to_string()),
        Just("x = [".to_string()),
        Just("]".to_string()),
        "[a-c]{1,2} = [0-9]{1,3}",
        "\\[[a-c](\\.[a-c]){0,2}\\]",
        "\\[\\[[a-c](\\.[a-c]){0,1}\\]\\]",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Never reads a document differently from the `toml` crate, and
    /// never reads one it refuses.
    #[test]
    fn agrees_with_the_toml_crate(lines in prop::collection::vec(fragment(), 0..12)) {
        let text = lines.join("\n") + "\n";
        let oracle = oracle_value(&text);
        let fast = fast_value(&text);
        if let Some(fast) = fast {
            prop_assert_eq!(Some(fast), oracle, "{}", text);
        } else if oracle.is_none() {
            prop_assert!(parse(&text, None).is_none(), "the tree reads {}", text);
        }
    }
}
