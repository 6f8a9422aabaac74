//! Scenario files loaded by the library (`asyncjobs_ssh::scenario`) and run
//! against the harness: a TOML deploy → run → collect fanned over a node set
//! behind a gateway (hosts named through an ssh_config), extended by the
//! program before it runs; the same in Jinja-templated apssh YAML.

use std::path::Path;

use asyncjobs_core::ListOptions;
use asyncjobs_ssh::config::SshConfig;
use asyncjobs_ssh::scenario::{ConfigNodes, ErrorKind, Loader};
use asyncjobs_ssh::{LocalNode, Run, SshJob};
use asyncjobs_tests::Testbed;

use crate::support::{testbed, unique, Output};

/// An ssh_config naming hosts 1.. of the bed `fit01`, `fit02`... and host 0 `gw`.
fn config(bed: &Testbed, dir: &Path) -> SshConfig {
    let mut text = String::new();
    for (i, h) in bed.hosts().iter().enumerate() {
        let alias = if i == 0 {
            "gw".to_string()
        } else {
            format!("fit{i:02}")
        };
        text.push_str(&format!(
            "Host {alias}\n    HostName {}\n    Port {}\n    User {}\n    IdentityFile {}\n    \
             IdentitiesOnly yes\n    UserKnownHostsFile {}\n    GlobalKnownHostsFile none\n    \
             StrictHostKeyChecking yes\n",
            h.ip,
            h.port,
            bed.user(),
            bed.identity().display(),
            bed.known_hosts().display()
        ));
    }
    let path = dir.join("ssh_config");
    std::fs::write(&path, text).unwrap();
    SshConfig::load_file(&path).unwrap()
}

const DEPLOY_TOML: &str = r#"
label = "deploy-run-collect"
[nodes.gw]
host = "gw"
[nodes."fit[01-03]"]
host = "{node}"
gateway = "gw"
vars = { greeting = "hello from {node}" }

[[job]]
id = "deploy"
nodes = "fit[01-03]"
commands = [{ push = "app.sh", to = "REMOTE/{node}.sh" }]

[[job]]
id = "run"
nodes = "fit[01-03]"
requires = "deploy"
run = "sh REMOTE/{node}.sh '{greeting}' > REMOTE/{node}.out"

[[job]]
id = "collect"
nodes = "fit[01-03]"
requires = "run"
commands = [{ pull = "REMOTE/{node}.out", into = "results/" }]
"#;

#[test]
fn a_fanned_toml_scenario_loads_extends_and_runs_through_a_gateway() {
    let bed = testbed(4);
    let dir = tempfile::tempdir().unwrap();
    // remote files: REMOTE/<unique>-fit01.sh... in the account's remote directory
    let remote = bed.remote_dir().join(unique("scenario-lib"));
    std::fs::write(dir.path().join("app.sh"), "echo \"$1 on $(hostname)\"\n").unwrap();
    let file = dir.path().join("deploy.toml");
    std::fs::write(
        &file,
        DEPLOY_TOML.replace("REMOTE/", &format!("{}-", remote.display())),
    )
    .unwrap();
    let out = Output::new();
    let nodes = ConfigNodes::new(config(&bed, dir.path())).formatter(out.formatter());
    let plan = Loader::new().read(&file).unwrap();
    assert_eq!(plan.jobs().len(), 9, "three jobs fanned over three nodes");
    let mut scenario = plan.build(&nodes).unwrap();
    // the fanned copies are nodes and jobs of their own, behind the gateway
    let fit02 = scenario.node("fit02").and_then(|n| n.as_ssh()).unwrap();
    assert_eq!(fit02.gateway().map(|g| g.display_name()), Some("gw"));
    assert_eq!(fit02.port(), bed.hosts()[2].port);
    // the program extends it: a local job after every copy of `collect`
    let collected: Vec<_> = (1..=3)
        .map(|i| scenario.job(&format!("collect@fit{i:02}")).unwrap())
        .collect();
    let report = dir.path().join("report.txt");
    let s = scenario.scheduler_mut();
    s.add(
        SshJob::new(LocalNode::new())
            .command(Run::new(format!(
                "cat {d}/results/{p}-fit01.out {d}/results/{p}-fit02.out {d}/results/{p}-fit03.out > {r}",
                d = dir.path().display(),
                p = remote.file_name().unwrap().to_string_lossy(),
                r = report.display()
            )))
            .requires(collected)
            .label("report"),
    );
    let ok = s.run().unwrap();
    s.shutdown().unwrap();
    assert!(
        ok,
        "{}\n{}",
        s.debrief_text(&ListOptions::default()),
        out.stderr()
    );
    let text = std::fs::read_to_string(&report).unwrap();
    for i in 1..=3 {
        assert!(
            text.contains(&format!("hello from fit{i:02} on ")),
            "each node ran with its own variables: {text}"
        );
    }
    let listing = s.listing(&ListOptions::default()).unwrap();
    for id in ["deploy@fit01", "run@fit02", "collect@fit03", "report"] {
        assert!(listing.contains(id), "{listing}");
    }
    let dot = asyncjobs_graph::dot_format(s).unwrap();
    assert!(dot.starts_with("digraph"), "{dot}");
}

#[test]
fn a_jinja_templated_apssh_yaml_scenario_runs_with_its_variables() {
    let bed = testbed(3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loop.yaml.j2");
    std::fs::write(
        &file,
        "nodes:\n  - id: gw\n    hostname: gw\n\
         {% for i in range(1, count|int + 1) %}  - id: fit0{{ i }}\n    hostname: fit0{{ i }}\n    gateway: gw\n{% endfor %}\
         jobs:\n\
         {% for i in range(1, count|int + 1) %}  - id: hello{{ i }}\n    node: fit0{{ i }}\n    label: {{ word }} on fit0{{ i }}\n    commands:\n      - type: Run\n        command: echo {{ word }} {node}\n{% endfor %}",
    )
    .unwrap();
    let out = Output::new();
    let nodes = ConfigNodes::new(config(&bed, dir.path())).formatter(out.formatter());
    let missing = Loader::new().read(&file).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Template, "{missing}");
    let mut scenario = Loader::new()
        .variable("count", "2")
        .variable("word", "salut")
        .load(&file, &nodes)
        .unwrap();
    let s = scenario.scheduler_mut();
    let ok = s.run().unwrap();
    s.shutdown().unwrap();
    assert!(ok, "{}", s.debrief_text(&ListOptions::default()));
    let stdout = out.stdout();
    for line in ["fit01:salut fit01\n", "fit02:salut fit02\n"] {
        assert!(stdout.contains(line), "{stdout}");
    }
    assert!(s
        .listing(&ListOptions::default())
        .unwrap()
        .contains("salut on fit02"));
}
