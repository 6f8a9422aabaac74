//! The scenarios of `examples/scenarios/`, each checked and run against the
//! loopback testbed (their host names, `gw` and `fit01`..., are ssh_config
//! aliases of its servers): deploy → run → collect through a gateway in
//! TOML and in apssh YAML, a forever monitor, a failing critical step, a
//! Jinja template with `-D`.

use std::path::{Path, PathBuf};

use crate::support::{ajssh_bare, run, ssh_config, testbed, Run};
use asyncjobs_tests::Testbed;

/// `examples/scenarios/` copied into `dir` (the runs write `results/` beside the files).
fn examples_in(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios");
    let dst = dir.join("scenarios");
    std::fs::create_dir_all(dst.join("files")).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(src.join("files/probe.sh"), dst.join("files/probe.sh")).unwrap();
    dst
}

/// An ssh_config naming host 0 `gw` and the others `fit01`, `fit02`...
fn aliases(bed: &Testbed, dir: &Path) -> PathBuf {
    let names: Vec<(String, &asyncjobs_tests::Host)> = bed
        .hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let alias = if i == 0 {
                "gw".to_string()
            } else {
                format!("fit{i:02}")
            };
            (alias, h)
        })
        .collect();
    ssh_config(bed, dir, &names)
}

fn scenario(bed: &Testbed, cfg: &Path, verb: &str, file: &Path, extra: &[&str]) -> Run {
    run(ajssh_bare()
        .args(["scenario", verb])
        .arg(file)
        .args(extra)
        .arg("-F")
        .arg(cfg)
        .arg("--known-hosts")
        .arg(bed.known_hosts()))
}

fn check(file: &Path, extra: &[&str]) -> Run {
    run(ajssh_bare()
        .args(["scenario", "check"])
        .arg(file)
        .args(extra))
}

#[test]
fn deploy_run_collect_through_a_gateway_runs_in_toml_and_in_yaml() {
    let bed = testbed(11);
    let dir = tempfile::tempdir().unwrap();
    let ex = examples_in(dir.path());
    let cfg = aliases(&bed, dir.path());
    for (name, prefix) in [
        ("deploy-run-collect.toml", "ajssh-example-"),
        ("deploy-run-collect.yaml", "ajssh-yaml-"),
    ] {
        let file = ex.join(name);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.lines().count() <= 36, "{name} stays short");
        let c = check(&file, &[]);
        assert_eq!(c.code, 0, "{c:?}");
        assert!(
            c.stdout.contains(": 12 nodes, 31 jobs\n")
                && c.stdout.contains("fit07: fit07 via gw\n")
                && c.stdout
                    .contains("run@fit03 on fit03 [wave 2]\n    requires deploy@fit03\n")
                && c.stdout.contains("========== 4 waves\n"),
            "{name}: {}",
            c.stdout
        );
        let r = scenario(&bed, &cfg, "run", &file, &[]);
        assert_eq!(r.code, 0, "{name}: {r:?}\n{}", bed.sshd_log());
        for i in 1..=10 {
            let line = format!("here:fit{i:02}: Linux load ");
            assert!(r.stdout.contains(&line), "{name}: {line}: {}", r.stdout);
            let pulled = ex.join(format!("results/{prefix}fit{i:02}.out"));
            assert!(pulled.exists(), "{}", pulled.display());
        }
    }
}

#[test]
fn a_forever_monitor_runs_until_the_work_is_done() {
    let bed = testbed(4);
    let dir = tempfile::tempdir().unwrap();
    let ex = examples_in(dir.path());
    let cfg = aliases(&bed, dir.path());
    let file = ex.join("monitor.toml");
    let c = check(&file, &[]);
    assert_eq!(c.code, 0, "{c:?}");
    assert!(
        c.stdout
            .contains("watch@fit02 on fit02 [wave 1] (forever)\n"),
        "{}",
        c.stdout
    );
    let r = scenario(&bed, &cfg, "run", &file, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    for i in 1..=3 {
        assert!(
            r.stdout
                .contains(&format!("fit{i:02}:work done on fit{i:02}\n"))
                && r.stdout.contains(&format!("fit{i:02}:fit{i:02} load ")),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn a_failing_critical_step_stops_the_scenario_and_exits_1() {
    let bed = testbed(3);
    let dir = tempfile::tempdir().unwrap();
    let ex = examples_in(dir.path());
    let cfg = aliases(&bed, dir.path());
    let file = ex.join("failing-critical.toml");
    let c = check(&file, &[]);
    assert_eq!(c.code, 0, "{c:?}");
    assert!(
        c.stdout
            .contains("migrate on fit01 [wave 2]\n    requires prepare@fit01, prepare@fit02\n"),
        "{}",
        c.stdout
    );
    let r = scenario(&bed, &cfg, "run", &file, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("migration failed: schema locked"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("fit02:prepared fit02\n"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("restarted"),
        "restart never ran: {}",
        r.stdout
    );
}

#[test]
fn a_jinja_template_takes_its_variables_from_the_command_line() {
    let bed = testbed(4);
    let dir = tempfile::tempdir().unwrap();
    let ex = examples_in(dir.path());
    let cfg = aliases(&bed, dir.path());
    let file = ex.join("probe.yaml.j2");
    let c = check(&file, &[]);
    assert_eq!(c.code, 64, "a missing variable is an error: {c:?}");
    assert!(c.stderr.contains("probe.yaml.j2:"), "{}", c.stderr);
    assert!(c.stderr.contains("undefined"), "{}", c.stderr);
    let c = check(&file, &["-D", "count=3"]);
    assert_eq!(c.code, 0, "{c:?}");
    assert!(c.stdout.contains(": 4 nodes, 3 jobs\n"), "{}", c.stdout);
    let r = scenario(&bed, &cfg, "run", &file, &["-D", "count=3"]);
    assert_eq!(r.code, 0, "{r:?}");
    for i in 1..=3 {
        assert!(
            r.stdout
                .contains(&format!("fit{i:02}:fit{i:02}: Linux load ")),
            "{}",
            r.stdout
        );
    }
}
