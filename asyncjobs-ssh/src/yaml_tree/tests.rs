//! The tree (lines, aliases, limits, documents), the type resolution of
//! scalars and serde's reading of nodes (values, messages, lines, paths).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

fn limits() -> TreeLimits {
    TreeLimits::from(&Limits::default())
}

fn tree(text: &str) -> Tree {
    parse(text, &limits()).unwrap()
}

fn parse_err(text: &str, limits: &TreeLimits) -> YamlError {
    parse(text, limits).unwrap_err()
}

/// `T` read from `text`, or the error as `line: message`.
fn read<T: for<'a> Deserialize<'a>>(text: &str) -> Result<T, String> {
    let t = tree(text);
    T::deserialize(t.root()).map_err(|e| format!("{}: {}", e.line, e.message()))
}

#[test]
fn plain_scalars_resolve_as_the_core_schema_says() {
    use Resolved::*;
    let table: &[(&str, Resolved)] = &[
        ("", Null),
        ("~", Null),
        ("null", Null),
        ("NULL", Null),
        ("true", Bool(true)),
        ("True", Bool(true)),
        ("FALSE", Bool(false)),
        ("yes", Str("yes")),
        ("0", Unsigned(0)),
        ("12", Unsigned(12)),
        ("+12", Unsigned(12)),
        ("-12", Signed(-12)),
        ("0x1f", Unsigned(31)),
        ("-0x1f", Signed(-31)),
        ("0o17", Unsigned(15)),
        ("0b101", Unsigned(5)),
        ("007", Str("007")),
        ("-01", Str("-01")),
        ("+-1", Str("+-1")),
        ("0x", Str("0x")),
        ("18446744073709551616", BigUnsigned(1 << 64)),
        ("1.5", Float(1.5)),
        ("-2e3", Float(-2000.0)),
        (".inf", Float(f64::INFINITY)),
        ("-.Inf", Float(f64::NEG_INFINITY)),
        ("inf", Str("inf")),
        ("nan", Str("nan")),
        ("1.2.3", Str("1.2.3")),
        ("fit[01-10]", Str("fit[01-10]")),
    ];
    for (text, want) in table {
        assert_eq!(Resolved::of(text, true), *want, "{text:?}");
    }
    assert!(matches!(Resolved::of(".nan", true), Float(f) if f.is_nan()));
    for text in ["", "~", "true", "12", "1.5"] {
        assert_eq!(Resolved::of(text, false), Str(text), "quoted {text:?}");
    }
}

#[test]
fn quoted_and_tagged_scalars_are_strings() {
    let t = tree("a: '1'\nb: \"true\"\nc: !!str 12\nd: 12\ne: |\n  1\n");
    let root = t.root();
    let value = |k: &str| root.get(k).unwrap().1.resolved().unwrap();
    assert_eq!(value("a"), Resolved::Str("1"));
    assert_eq!(value("b"), Resolved::Str("true"));
    assert_eq!(value("c"), Resolved::Str("12"));
    assert_eq!(value("d"), Resolved::Unsigned(12));
    assert_eq!(value("e"), Resolved::Str("1\n"));
    #[derive(Debug, Deserialize)]
    struct N {
        n: u32,
    }
    assert_eq!(read::<N>("n: 7").unwrap().n, 7);
    assert_eq!(
        read::<N>("n: '7'").unwrap_err(),
        "1: n: invalid type: string \"7\", expected u32"
    );
    // a string field takes any scalar as its text
    #[derive(Debug, Deserialize)]
    struct S {
        s: String,
    }
    for (text, want) in [
        ("s: 1", "1"),
        ("s: 0x10", "0x10"),
        ("s: true", "true"),
        ("s: 'a'", "a"),
    ] {
        assert_eq!(read::<S>(text).unwrap().s, want);
    }
}

#[test]
fn nodes_and_keys_have_their_lines() {
    let t = tree(
        "nodes:\n  - id: n\n    hostname: h\njobs:\n  - id: j1\n    commands:\n      - type: Run\n        command: x\n      - {type: Run, command: y}\n  - {id: j2, commands: []}\n",
    );
    let root = t.root();
    let (k, nodes) = root.get("nodes").unwrap();
    assert_eq!((k.line(), nodes.line()), (1, 2));
    let n = nodes.items().unwrap().next().unwrap();
    assert_eq!(n.line(), 2);
    assert_eq!(n.get("hostname").map(|(k, _)| k.line()), Some(3));
    let jobs: Vec<Node> = root.get("jobs").unwrap().1.items().unwrap().collect();
    assert_eq!(jobs.len(), 2);
    let commands: Vec<usize> = jobs[0]
        .get("commands")
        .unwrap()
        .1
        .items()
        .unwrap()
        .map(Node::line)
        .collect();
    assert_eq!(commands, [7, 9]);
    assert_eq!(
        (jobs[1].line(), jobs[1].get("id").unwrap().1.text()),
        (10, Some("j2"))
    );
    let keys: Vec<&str> = jobs[0]
        .pairs()
        .unwrap()
        .map(|(k, _)| k.text().unwrap())
        .collect();
    assert_eq!(keys, ["id", "commands"], "keys keep their order");
}

#[test]
fn aliases_are_the_anchored_nodes() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Point {
        x: i32,
        y: Option<i32>,
    }
    #[derive(Debug, Deserialize)]
    struct File {
        base: Point,
        all: Vec<Point>,
    }
    let f: File = read("base: &b {x: 1}\nall: [*b, {x: 2, y: 3}, *b]\n").unwrap();
    assert_eq!(f.base, Point { x: 1, y: None });
    assert_eq!(f.all[2], f.base);
    assert_eq!(f.all[1], Point { x: 2, y: Some(3) });
    // an alias is read where it points: its errors are on the anchor's line
    let e = read::<File>("base: &b {x: a}\nall:\n  - *b\n").unwrap_err();
    assert_eq!(e, "1: base.x: invalid type: string \"a\", expected i32");
    // an alias inside the node it names is refused
    let e = parse("a: &a [1, *a]\n", &limits());
    assert!(e.is_err(), "{e:?}");
}

#[test]
fn one_document_only_and_an_empty_file_is_null() {
    let e = parse_err("a: 1\n---\nb: 2\n", &limits());
    assert_eq!((e.kind, e.line), (ErrorKind::Syntax, 2));
    assert!(e.message().contains("a second YAML document"), "{e}");
    let e = parse_err("a: 1\n...\n---\nb: 2\n", &limits());
    assert!(e.message().contains("a second YAML document"), "{e}");
    // an explicit end and nothing after it is one document
    assert_eq!(
        tree("a: 1\n...\n").root().get("a").unwrap().1.text(),
        Some("1")
    );
    for text in ["", "# nothing\n", "---\n", "~\n"] {
        assert!(tree(text).root().is_null(), "{text:?}");
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct F {
        a: u8,
    }
    assert_eq!(read::<F>("").unwrap_err(), "1: missing field `a`");
    assert_eq!(
        read::<F>("~").unwrap_err(),
        "1: invalid type: unit value, expected struct F"
    );
    let e = parse_err("a: [1, 2\n", &limits());
    assert_eq!(e.kind, ErrorKind::Syntax);
}

#[test]
fn limits_refuse_bombs_deep_nesting_and_huge_strings() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let e = parse_err(&bomb, &limits());
    assert_eq!(e.kind, ErrorKind::Limit);
    assert!(e.message().contains("alias bomb"), "{e}");
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let e = parse_err(&deep, &limits());
    assert_eq!((e.kind, e.line), (ErrorKind::Limit, 1));
    assert!(e.message().contains("nested more than 64 levels"), "{e}");
    // deep through aliases: 40 levels, then 40 more around an alias of it
    let nest = |n: usize, inner: &str| format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
    let text = format!("a: &a {}\nb: {}\n", nest(40, ""), nest(40, "*a"));
    let e = parse_err(&text, &limits());
    assert_eq!((e.kind, e.line), (ErrorKind::Limit, 2));
    assert!(e.message().contains("once aliases are expanded"), "{e}");
    let small = TreeLimits {
        max_string_bytes: 10,
        ..limits()
    };
    let e = parse_err("a: |\n  0123456789\n  0123456789\n", &small);
    assert!(e.message().contains("longer than 10 bytes"), "{e}");
    // a few aliases of a small anchor are fine
    tree("base: &b {x: 1}\nnodes: [*b, *b, *b]\njobs: []\n");
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Job {
    id: String,
    commands: Vec<Command>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Command {
    command: String,
    timeout: Option<u16>,
}

#[test]
fn errors_are_on_the_deepest_node_with_their_path() {
    let jobs = |third: &str| {
        format!(
            "- id: a\n  commands: []\n- id: b\n  commands: []\n- id: c\n  commands:\n    - command: x\n    - {third}\n"
        )
    };
    let e = read::<Vec<Job>>(&jobs("command: y\n      comand: z")).unwrap_err();
    assert!(
        e.starts_with(
            "9: [2].commands[1]: unknown field `comand`, expected `command` or `timeout`"
        ),
        "{e}"
    );
    let e = read::<Vec<Job>>(&jobs("timeout: 3")).unwrap_err();
    assert_eq!(e, "8: [2].commands[1]: missing field `command`");
    let e = read::<Vec<Job>>(&jobs("command: y\n      timeout: [1]")).unwrap_err();
    assert_eq!(
        e,
        "9: [2].commands[1].timeout: invalid type: sequence, expected u16"
    );
    let e = read::<Vec<Job>>(&jobs("command: y\n      timeout: 70000")).unwrap_err();
    assert_eq!(
        e,
        "9: [2].commands[1].timeout: invalid value: integer `70000`, expected u16"
    );
    let e = read::<Vec<Job>>(&jobs("command: y\n      timeout: -1")).unwrap_err();
    assert_eq!(
        e,
        "9: [2].commands[1].timeout: invalid type: integer `-1`, expected u16"
    );
    let e = read::<Vec<Job>>("- id: a\n  commands: []\n  id: b\n").unwrap_err();
    assert_eq!(e, "1: [0]: duplicate field `id`");
}

#[test]
fn options_enums_maps_and_the_rest_read_as_serde_expects() {
    #[derive(Debug, Deserialize, PartialEq)]
    enum Shape {
        Dot,
        Circle(f64),
        Rect { w: u8, h: u8 },
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct Id(String);
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct All {
        shapes: Vec<Shape>,
        none: Option<String>,
        empty: Option<String>,
        quoted_null: Option<String>,
        id: Id,
        list: Vec<u8>,
        map: BTreeMap<String, bool>,
        nothing: Vec<u8>,
        big: i128,
        f: f32,
        ignored: serde::de::IgnoredAny,
        unit: (),
    }
    let all: All = read(
        "shapes: [Dot, {Circle: 2}, {Rect: {w: 1, h: 2}}]\nnone: ~\nempty:\nquoted_null: '~'\n\
         id: 12\nlist: [1, 0x2]\nmap: {a: true, b: False}\nnothing:\nbig: -170141183460469231731687303715884105728\n\
         f: 1\nignored: {deep: [1, {x: y}]}\nunit: null\n",
    )
    .unwrap();
    assert_eq!(
        all.shapes,
        [Shape::Dot, Shape::Circle(2.0), Shape::Rect { w: 1, h: 2 }]
    );
    assert_eq!((all.none, all.empty), (None, None));
    assert_eq!(all.quoted_null.as_deref(), Some("~"));
    assert_eq!(all.id, Id("12".into()));
    assert_eq!(all.list, [1, 2]);
    assert_eq!(all.map.get("b"), Some(&false));
    assert!(all.nothing.is_empty());
    assert_eq!((all.big, all.f), (i128::MIN, 1.0));
    let e = read::<Vec<Shape>>("[Square]").unwrap_err();
    assert!(e.starts_with("1: [0]: unknown variant `Square`"), "{e}");
    let e = read::<Vec<Shape>>("[{Dot: 1, Circle: 2}]").unwrap_err();
    assert!(e.contains("a mapping of one variant name"), "{e}");
    let e = read::<Vec<Shape>>("- Circle").unwrap_err();
    assert!(e.contains("expected newtype variant"), "{e}");
    let e = read::<bool>("yes").unwrap_err();
    assert_eq!(e, "1: invalid type: string \"yes\", expected a boolean");
}
