//! Shared by the integration tests: graphviz must accept every generated file.

use asyncjobs_graph::{Format, GraphError, Graphviz};

/// `dot` from the PATH, after checking it is there (never skipped: CI installs it).
#[allow(dead_code)] // not every test file uses every helper
pub fn graphviz() -> Graphviz {
    let g = Graphviz::new();
    if let Err(e) = g.version() {
        panic!("these tests need graphviz: run `cargo xtask test`, which installs it ({e})");
    }
    g
}

/// Renders `dot` to SVG with graphviz and returns the SVG; fails the test when
/// graphviz rejects it, or is not installed (never skipped: CI installs it).
#[allow(dead_code)]
pub fn graphviz_svg(dot: &str) -> String {
    match graphviz().render(dot, Format::Svg) {
        Ok(svg) => String::from_utf8(svg).expect("graphviz writes UTF-8 SVG"),
        Err(e @ GraphError::GraphvizMissing { .. }) => {
            panic!("these tests check every generated file with graphviz: run `cargo xtask test`, which installs it ({e})")
        }
        Err(e) => panic!("graphviz rejected the generated dot: {e}\n{dot}"),
    }
}
