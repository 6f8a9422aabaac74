//! Push and Pull commands in jobs: a directory tree goes up and comes back identical.

use std::path::Path;

use crate::support::{node, testbed, unique, Output};
use asyncjobs_core::Scheduler;
use asyncjobs_ssh::{Pull, Push, SshJob};

fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn pushed_tree_is_pulled_back_identical_and_seen_by_a_command_in_between() {
    let bed = testbed(1);
    let out = Output::new();
    let n = node(&bed, &bed.hosts()[0], &out);
    let local = tempfile::tempdir().unwrap();
    let src = local.path().join("payload");
    std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
    std::fs::write(src.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(
        src.join("sub/b.bin"),
        (0..=255u8).cycle().take(300_000).collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(src.join("sub/deeper/c.txt"), "gamma\n").unwrap();
    let remote = bed.remote_dir().join(unique("tree"));
    let remote = remote.to_str().unwrap().to_string();
    let back = local.path().join("back");

    let mut s = Scheduler::new();
    // a trailing `/`: the destination is a directory to copy into (created)
    let up = s.add(SshJob::new(&n).command(Push::new([&src], format!("{remote}/"))));
    let count = s.add(
        SshJob::new(&n)
            .run(format!("find {remote} -type f | wc -l"))
            .requires(&up),
    );
    s.add(
        SshJob::new(&n)
            .command(Pull::new([format!("{remote}/payload")], &back))
            .requires(&count),
    );
    let ok = s.run();
    assert!(matches!(ok, Ok(true)), "{ok:?}");
    assert_eq!(count.result().unwrap().stdout().trim(), "3");
    assert_eq!(tree(&back), tree(&src));
    s.shutdown().unwrap();
}
