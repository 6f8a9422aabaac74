//! Rendering with graphviz: images, errors, missing program, time limit.
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use asyncjobs_core::ErrorChain;
use asyncjobs_graph::{dot_format_with, examples, DotOptions, Format, GraphError, Graphviz};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

use crate::common::graphviz;

#[test]
fn the_coloured_run_renders_to_a_png() {
    let s = examples::example_f_after_run().unwrap();
    let dot = dot_format_with(&s, &DotOptions::outcomes()).unwrap();
    let png = graphviz().render(&dot, Format::Png).unwrap();
    assert!(
        png.starts_with(PNG_SIGNATURE),
        "not a PNG: {:?}",
        &png[..png.len().min(16)]
    );
}

#[test]
fn render_file_writes_a_png_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (dot, png) = (tmp.path().join("nested.dot"), tmp.path().join("nested.png"));
    asyncjobs_graph::export_as_dotfile(&examples::nested(), &dot).unwrap();
    graphviz().render_file(&dot, &png, Format::Png).unwrap();
    assert!(std::fs::read(&png).unwrap().starts_with(PNG_SIGNATURE));
}

#[test]
fn version_names_graphviz() {
    assert!(graphviz().version().unwrap().contains("graphviz"));
}

#[test]
fn invalid_dot_is_reported_with_graphviz_message() {
    let err = graphviz()
        .render("digraph { a -> }", Format::Svg)
        .unwrap_err();
    assert!(matches!(err, GraphError::GraphvizFailed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("graphviz `dot` failed on <generated dot>")
            && text.contains("syntax error"),
        "{text}"
    );
}

#[test]
fn a_missing_input_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("absent.dot");
    let err = graphviz()
        .render_file(&missing, &tmp.path().join("x.png"), Format::Png)
        .unwrap_err();
    // the message names the file; the I/O error is its cause, printed once by a chain
    assert_eq!(
        err.to_string(),
        format!("cannot read {}", missing.display())
    );
    assert!(
        ErrorChain(&err)
            .to_string()
            .starts_with(&format!("cannot read {}: ", missing.display())),
        "{err}"
    );
}

#[test]
fn missing_graphviz_says_how_to_install_it() {
    let absent = Graphviz::new().program("/nonexistent/bin/dot");
    for err in [
        absent.version().unwrap_err(),
        absent.render("digraph {}", Format::Png).unwrap_err(),
    ] {
        assert!(matches!(err, GraphError::GraphvizMissing { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("sudo apt-get install -y graphviz") && text.contains("cargo xtask test"),
            "{text}"
        );
    }
}

#[test]
fn a_stuck_renderer_is_killed_at_the_time_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("stuck-dot");
    std::fs::write(&script, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stuck = Graphviz::new()
        .program(&script)
        .timeout(Duration::from_millis(100));
    // another test thread forking while the script was open for writing makes
    // exec fail with ETXTBSY for a moment: retry a few times
    let mut err = stuck.render("digraph {}", Format::Svg).unwrap_err();
    for _ in 0..20 {
        match &err {
            GraphError::GraphvizIo { error, .. } if error.raw_os_error() == Some(26) => {
                std::thread::sleep(Duration::from_millis(50));
                err = stuck.render("digraph {}", Format::Svg).unwrap_err();
            }
            _ => break,
        }
    }
    assert!(matches!(err, GraphError::GraphvizTimeout { .. }), "{err:?}");
    assert!(err.to_string().contains("it was killed"), "{err}");
}

#[test]
fn a_time_limit_of_any_duration_is_accepted() {
    let png = graphviz()
        .timeout(Duration::MAX)
        .render("digraph { a -> b }", Format::Png)
        .unwrap();
    assert!(png.starts_with(PNG_SIGNATURE));
}
