//! The README pictures, compared byte for byte with `tests/golden/*.dot`.
//! `UPDATE_GOLDEN=1 cargo test -p asyncjobs-graph --test integration golden` rewrites them.

use crate::common;

use std::path::PathBuf;

use asyncjobs_graph::{dot_format_with, examples, DotOptions};

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(format!("{name}.dot"))
}

#[test]
fn readme_pictures_match_their_golden_files_and_graphviz_accepts_them() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let pictures = examples::readme_pictures().expect("example F runs");
    assert_eq!(pictures.len(), 6);
    let mut mismatches = Vec::new();
    for (name, scheduler, colored) in pictures {
        let opts = if colored {
            DotOptions::outcomes()
        } else {
            DotOptions::default()
        };
        let dot = dot_format_with(&scheduler, &opts).expect("examples can be ordered");
        common::graphviz_svg(&dot);
        let path = golden_path(name);
        if update {
            std::fs::write(&path, &dot)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            continue;
        }
        let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {} ({e}); UPDATE_GOLDEN=1 creates it",
                path.display()
            )
        });
        if golden != dot {
            mismatches.push(format!(
                "--- {}\n{golden}--- generated\n{dot}",
                path.display()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "dot output changed (UPDATE_GOLDEN=1 to accept):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn golden_nested_example_attaches_edges_to_the_cluster() {
    let dot = std::fs::read_to_string(golden_path("readme-nested")).expect("golden file");
    assert!(dot.contains("subgraph cluster_2 {"), "{dot}");
    // main-start -> middle entry subj1, clipped at the cluster; middle exit subj4 -> main-end
    assert!(
        dot.contains(r#"1 -> 3 [lhead="cluster_2", minlen="2"];"#),
        "{dot}"
    );
    assert!(
        dot.contains(r#"6 -> 7 [ltail="cluster_2", minlen="2"];"#),
        "{dot}"
    );
}
