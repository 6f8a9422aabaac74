//! `topology_dot`: the nodes and gateways of a scheduler as a Graphviz graph
//! that `dot` accepts.

use crate::support::{node_builder, testbed, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_graph::{Format, Graphviz};
use asyncjobs_ssh::{topology_as_dotfile, topology_dot, LocalNode, SshJob, SshNode};

/// Renders `dot` to SVG with graphviz; fails the test saying how to get it.
fn svg(dot: &str) -> String {
    let bytes = Graphviz::new()
        .render(dot, Format::Svg)
        .unwrap_or_else(|e| {
            panic!("{e}\n(run the tests with `cargo xtask test`, which installs graphviz)\n{dot}")
        });
    String::from_utf8(bytes).expect("SVG is UTF-8")
}

#[test]
fn topology_lists_each_node_once_with_gateway_edges_in_first_use_order() {
    let gw = SshNode::builder("gw.example.org").user("admin").build();
    let a = SshNode::builder("10.0.0.1")
        .user("root")
        .gateway(&gw)
        .build();
    let b = SshNode::builder("10.0.0.2")
        .user("root")
        .port(2222)
        .gateway(&a)
        .build();
    let direct = SshNode::builder("db")
        .user("pg")
        .display_name("database")
        .build();
    let twin = SshNode::builder("db").user("pg").build(); // same host, another node
    let mut s = Scheduler::new();
    s.add(SshJob::new(&direct).run("true"));
    s.add(SshJob::new(&a).run("true"));
    s.add(SshJob::new(a.clone()).run("true")); // a clone is the same node
    let mut inner = Scheduler::new();
    inner.add(SshJob::new(&b).run("true"));
    inner.add(SshJob::new(LocalNode::new()).run("true"));
    inner.add(SshJob::new(LocalNode::new().with_name("laptop")).run("true"));
    s.add(inner);
    s.add(SshJob::new(&twin).run("true"));
    let expected = r#"digraph asyncjobs_topology {
  graph [rankdir="LR"];
  local [label="this machine\n(laptop, localnode)", shape="ellipse"];
  n1 [label="database\npg@db:22", shape="box"];
  n2 [label="admin@gw.example.org:22", shape="box", style="dashed"];
  n3 [label="root@10.0.0.1:22", shape="box"];
  n4 [label="root@10.0.0.2:2222", shape="box"];
  n5 [label="pg@db:22", shape="box"];
  local -> n1;
  local -> n2;
  n2 -> n3;
  n3 -> n4;
  local -> n5;
}
"#;
    assert_eq!(topology_dot(&s), expected);
    assert_eq!(topology_dot(&s), expected, "the same every time");
    let svg = svg(expected);
    for text in [
        "this machine",
        "database",
        "admin@gw.example.org:22",
        "root@10.0.0.2:2222",
    ] {
        assert!(svg.contains(text), "{text} missing from the SVG:\n{svg}");
    }
}

#[test]
fn awkward_names_are_escaped_and_dot_still_accepts_the_graph() {
    let weird = SshNode::builder("h")
        .user("u")
        .display_name(r#"say "hi" \ {x} ; -> y"#)
        .build();
    let v6 = SshNode::builder("::1").user("u").gateway(&weird).build();
    let mut s = Scheduler::new();
    s.add(SshJob::new(&v6).run("true"));
    s.add(SshJob::new(&weird).run("true"));
    let dot = topology_dot(&s);
    assert!(
        dot.contains(r#"n1 [label="say \"hi\" \\ {x} ; -> y\nu@h:22", shape="box"];"#),
        "{dot}"
    );
    assert!(
        dot.contains(r#"n2 [label="u@[::1]:22", shape="box"];"#),
        "{dot}"
    );
    let svg = svg(&dot);
    assert!(
        svg.contains("say &quot;hi&quot; \\ {x} ; &#45;&gt; y"),
        "{svg}"
    );
}

#[test]
fn topology_of_a_scheduler_run_on_the_testbed_is_unchanged_by_the_run() {
    let bed = testbed(3);
    let out = Output::new();
    let h = bed.hosts();
    let gw = node_builder(&bed, &h[0], &out).build();
    let behind: Vec<SshNode> = h[1..]
        .iter()
        .map(|host| node_builder(&bed, host, &out).gateway(&gw).build())
        .collect();
    let mut s = Scheduler::new();
    for n in &behind {
        s.add(SshJob::new(n).run("hostname"));
    }
    let before = topology_dot(&s);
    assert!(matches!(s.run(), Ok(true)), "{}", out.stderr());
    assert_eq!(topology_dot(&s), before);
    let user = bed.user();
    for (i, host) in h.iter().enumerate() {
        let line = format!(
            "  n{} [label=\"{user}@{}:{}\", shape=\"box\"{}];",
            i + 1,
            host.ip,
            host.port,
            if i == 0 { ", style=\"dashed\"" } else { "" }
        );
        assert!(before.contains(&line), "{line} not in\n{before}");
    }
    assert!(
        before.contains("local -> n1;\n  n1 -> n2;\n  n1 -> n3;\n"),
        "{before}"
    );
    let file = bed.dir().join("topology.dot");
    assert_eq!(
        topology_as_dotfile(&s, &file).unwrap(),
        format!("(Over)wrote {}", file.display())
    );
    svg(&std::fs::read_to_string(&file).unwrap());
    assert!(s.shutdown().unwrap());
}

#[test]
fn writing_into_a_missing_directory_says_which_file() {
    let s = Scheduler::new();
    let err = topology_as_dotfile(&s, "/nonexistent-dir-ajssh/t.dot").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot write the topology to /nonexistent-dir-ajssh/t.dot"
    );
    // the system's error is the cause, printed once by the chain
    let cause = std::error::Error::source(&err).expect("a cause");
    assert_eq!(
        asyncjobs_core::ErrorChain(&err).to_string(),
        format!("{err}: {cause}")
    );
}
