//! `cargo xtask graph [FILE.dot|FILE.toml]... [--svg] [--out DIR]`: renders
//! graphs with graphviz's `dot`.
//!
//! Without a file, writes the README's example schedulers as `.dot` files into
//! `docs/img/` (or `--out DIR`) and renders each to PNG (and SVG with `--svg`).
//! Given `.dot` files, renders each next to itself (or into `--out DIR`).
//! Given scenario files (`.toml`, or apssh's `.yaml`), writes their `.dot` with
//! `ajssh scenario dot` (nothing connects anywhere), then renders it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use asyncjobs_graph::{examples, export_as_dotfile_with, DotOptions, Format, Graphviz};

const USAGE: &str = "usage: cargo xtask graph [FILE.dot|FILE.toml]... [--svg] [--out DIR]";

pub fn main(args: &[String]) -> Result<()> {
    run(&Args::parse(args)?, &Graphviz::new())
}

/// The parsed command line.
#[derive(Debug, Default, PartialEq)]
struct Args {
    files: Vec<PathBuf>,
    svg: bool,
    out: Option<PathBuf>,
}

impl Args {
    fn parse(args: &[String]) -> Result<Args> {
        let mut parsed = Args::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--svg" => parsed.svg = true,
                "--out" => match it.next() {
                    Some(dir) => parsed.out = Some(PathBuf::from(dir)),
                    None => bail!("--out needs a directory\n{USAGE}"),
                },
                "-h" | "--help" => bail!("{USAGE}"),
                flag if flag.starts_with('-') => bail!("unknown option `{flag}`\n{USAGE}"),
                file => parsed.files.push(PathBuf::from(file)),
            }
        }
        Ok(parsed)
    }

    fn formats(&self) -> Vec<Format> {
        let mut formats = vec![Format::Png];
        if self.svg {
            formats.push(Format::Svg);
        }
        formats
    }
}

fn run(args: &Args, graphviz: &Graphviz) -> Result<()> {
    for file in &args.files {
        check_input(file)?;
    }
    // before writing anything: without graphviz, say how to get it
    graphviz.version()?;
    let written = if args.files.is_empty() {
        let out = args.out.clone().unwrap_or_else(default_out);
        render_examples(graphviz, &out, &args.formats())?
    } else {
        let mut written = Vec::new();
        for file in &args.files {
            let dot = if is_dot(file) {
                file.clone()
            } else {
                let dot = scenario_dot(file, args.out.as_deref())?;
                written.push(dot.clone());
                dot
            };
            written.extend(render_dot(
                graphviz,
                &dot,
                args.out.as_deref(),
                &args.formats(),
            )?);
        }
        written
    };
    for path in written {
        println!("(Over)wrote {}", path.display());
    }
    Ok(())
}

/// `docs/img` of the workspace, wherever cargo was run from.
fn default_out() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).join("docs").join("img")
}

fn check_input(file: &Path) -> Result<()> {
    match file.extension().and_then(|e| e.to_str()) {
        Some("dot") => Ok(()),
        Some("toml" | "yaml" | "yml") => Ok(()),
        _ => bail!(
            "{}: expected a graphviz `.dot` file (or a scenario `.toml`)\n{USAGE}",
            file.display()
        ),
    }
}

fn is_dot(file: &Path) -> bool {
    file.extension().and_then(|e| e.to_str()) == Some("dot")
}

/// Writes a scenario's graph with `ajssh scenario dot`, next to it or into `out`.
fn scenario_dot(scenario: &Path, out: Option<&Path>) -> Result<PathBuf> {
    let stem = scenario
        .file_stem()
        .with_context(|| format!("{}: no file name", scenario.display()))?;
    let dir = match out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.to_path_buf()
        }
        None => scenario.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let mut name = stem.to_os_string();
    name.push(".dot");
    let dot = dir.join(name);
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "run", "--quiet", "-p", "ajssh", "--bin", "ajssh", "--", "scenario", "dot",
            ])
            .arg(scenario)
            .arg("-o")
            .arg(&dot)
            .status()
            .context("running `ajssh scenario dot`")?;
    if !status.success() {
        bail!(
            "{}: `ajssh scenario dot` failed ({status}); its message is above",
            scenario.display()
        );
    }
    Ok(dot)
}

/// Writes each README picture as `{out}/{name}.dot` and renders it; the files written.
fn render_examples(graphviz: &Graphviz, out: &Path, formats: &[Format]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let pictures =
        examples::readme_pictures().context("running example F for its coloured picture")?;
    let mut written = Vec::new();
    for (name, scheduler, colored) in pictures {
        let opts = if colored {
            DotOptions::outcomes()
        } else {
            DotOptions::default()
        };
        let dot = out.join(format!("{name}.dot"));
        export_as_dotfile_with(&scheduler, &dot, &opts)?;
        written.push(dot.clone());
        written.extend(render_dot(graphviz, &dot, None, formats)?);
    }
    Ok(written)
}

/// Renders `dot` in each format, next to it or into `out`; the images written.
fn render_dot(
    graphviz: &Graphviz,
    dot: &Path,
    out: Option<&Path>,
    formats: &[Format],
) -> Result<Vec<PathBuf>> {
    let stem = dot
        .file_stem()
        .with_context(|| format!("{}: no file name", dot.display()))?;
    let dir = match out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.to_path_buf()
        }
        None => dot.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let mut written = Vec::new();
    for &format in formats {
        let mut name = stem.to_os_string();
        name.push(format!(".{}", format.suffix()));
        let image = dir.join(name);
        graphviz.render_file(dot, &image, format)?;
        written.push(image);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn command_line_takes_files_svg_and_out() {
        let parsed = Args::parse(&args(&["a.dot", "--svg", "--out", "dir", "b.dot"])).unwrap();
        assert_eq!(
            parsed.files,
            vec![PathBuf::from("a.dot"), PathBuf::from("b.dot")]
        );
        assert!(parsed.svg);
        assert_eq!(parsed.out, Some(PathBuf::from("dir")));
        assert_eq!(parsed.formats(), vec![Format::Png, Format::Svg]);
    }

    #[test]
    fn command_line_errors_are_explained() {
        let missing = Args::parse(&args(&["--out"])).unwrap_err().to_string();
        assert!(missing.contains("--out needs a directory"), "{missing}");
        let unknown = Args::parse(&args(&["--png"])).unwrap_err().to_string();
        assert!(unknown.contains("unknown option `--png`"), "{unknown}");
    }

    #[test]
    fn readme_examples_render_to_png_and_svg() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let out = tmp.path().join("img");
        let parsed = Args {
            files: vec![],
            svg: true,
            out: Some(out.clone()),
        };
        run(&parsed, &Graphviz::new())?;
        for name in [
            "readme-example-b",
            "readme-example-c",
            "readme-example-e",
            "readme-example-f",
            "readme-nested",
            "readme-example-f-run",
        ] {
            let dot = std::fs::read_to_string(out.join(format!("{name}.dot")))?;
            assert!(
                dot.starts_with("digraph asynciojobs {"),
                "{name}.dot: {dot}"
            );
            let png = std::fs::read(out.join(format!("{name}.png")))?;
            assert!(png.starts_with(PNG_SIGNATURE), "{name}.png is not a PNG");
            let svg = std::fs::read_to_string(out.join(format!("{name}.svg")))?;
            assert!(svg.contains("<svg"), "{name}.svg is not an SVG");
        }
        Ok(())
    }

    #[test]
    fn committed_readme_pictures_are_up_to_date() -> Result<()> {
        for (name, scheduler, colored) in examples::readme_pictures()? {
            let opts = if colored {
                DotOptions::outcomes()
            } else {
                DotOptions::default()
            };
            let generated = asyncjobs_graph::dot_format_with(&scheduler, &opts)?;
            let path = default_out().join(format!("{name}.dot"));
            let committed = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            assert!(
                committed == generated,
                "{} is stale: run `cargo xtask graph` and commit docs/img",
                path.display()
            );
        }
        Ok(())
    }

    #[test]
    fn a_dot_file_is_rendered_next_to_it_or_into_out() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let dot = tmp.path().join("mine.dot");
        std::fs::write(&dot, "digraph { a -> b }")?;
        run(
            &Args {
                files: vec![dot.clone()],
                ..Default::default()
            },
            &Graphviz::new(),
        )?;
        assert!(std::fs::read(tmp.path().join("mine.png"))?.starts_with(PNG_SIGNATURE));
        let out = tmp.path().join("out");
        run(
            &Args {
                files: vec![dot],
                out: Some(out.clone()),
                ..Default::default()
            },
            &Graphviz::new(),
        )?;
        assert!(std::fs::read(out.join("mine.png"))?.starts_with(PNG_SIGNATURE));
        Ok(())
    }

    #[test]
    fn an_invalid_dot_file_reports_graphviz_error_and_path() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let dot = tmp.path().join("broken.dot");
        std::fs::write(&dot, "digraph { a -> }")?;
        let err = run(
            &Args {
                files: vec![dot.clone()],
                ..Default::default()
            },
            &Graphviz::new(),
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains(&dot.display().to_string()) && text.contains("syntax error"),
            "{text}"
        );
        assert!(!tmp.path().join("broken.png").exists());
        Ok(())
    }

    #[test]
    fn missing_graphviz_says_how_to_install_it() {
        let absent = Graphviz::new().program("/nonexistent/bin/dot");
        let err = run(&Args::default(), &absent).unwrap_err().to_string();
        assert!(err.contains("apt-get install -y graphviz"), "{err}");
        assert!(err.contains("cargo xtask test"), "{err}");
    }

    #[test]
    fn scenario_files_are_drawn_with_ajssh_then_rendered() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let plan = tmp.path().join("plan.toml");
        std::fs::write(
            &plan,
            "[nodes.here]\nlocal = true\n\n[[job]]\nid = \"first\"\nnode = \"here\"\nrun = \"true\"\n\n\
             [[job]]\nid = \"second\"\nnode = \"here\"\nrun = \"true\"\nrequires = [\"first\"]\n",
        )?;
        let parsed = Args {
            files: vec![plan],
            ..Default::default()
        };
        run(&parsed, &Graphviz::new())?;
        let dot = std::fs::read_to_string(tmp.path().join("plan.dot"))?;
        assert!(
            dot.contains("first") && dot.contains("second") && dot.contains("->"),
            "{dot}"
        );
        let png = std::fs::read(tmp.path().join("plan.png"))?;
        assert!(png.starts_with(PNG_SIGNATURE));
        Ok(())
    }

    /// (width, height) of a PNG, from its IHDR chunk.
    fn png_size(png: &[u8]) -> (u32, u32) {
        let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
        (be(16), be(20))
    }

    /// deploy -> run -> collect on `n` nodes, paired node by node.
    fn fan_out_scenario(n: usize) -> String {
        let mut toml = String::new();
        for i in 1..=n {
            toml.push_str(&format!("[nodes.fit{i:02}]\nlocal = true\n\n"));
        }
        for i in 1..=n {
            for (step, command, after) in [
                ("deploy", "cp app.tgz /tmp/", None),
                ("run", "./run.sh --quick", Some("deploy")),
                ("collect", "cat /tmp/out", Some("run")),
            ] {
                toml.push_str(&format!(
                    "[[job]]\nid = \"{step}-fit{i:02}\"\nnode = \"fit{i:02}\"\nrun = \"{command}\"\n"
                ));
                if let Some(after) = after {
                    toml.push_str(&format!("requires = [\"{after}-fit{i:02}\"]\n"));
                }
                toml.push('\n');
            }
        }
        toml
    }

    #[test]
    fn a_fan_out_scenario_draws_one_box_per_step_whatever_the_node_count() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let mut sizes = Vec::new();
        for n in [10, 40] {
            let plan = tmp.path().join(format!("fan{n}.toml"));
            std::fs::write(&plan, fan_out_scenario(n))?;
            run(
                &Args {
                    files: vec![plan],
                    ..Default::default()
                },
                &Graphviz::new(),
            )?;
            let dot = std::fs::read_to_string(tmp.path().join(format!("fan{n}.dot")))?;
            for step in ["deploy", "run", "collect"] {
                let folded = format!("{step}-{{node}} ×{n}\\nfit[01-{n}]");
                assert!(dot.contains(&folded), "{folded} in {dot}");
            }
            assert!(!dot.contains("@"), "no user@host in {dot}");
            sizes.push(png_size(&std::fs::read(
                tmp.path().join(format!("fan{n}.png")),
            )?));
        }
        // as tall, and as wide but for the ids (`1…28` and `1…118`)
        let (ten, forty) = (sizes[0], sizes[1]);
        assert!(
            ten.1 == forty.1 && forty.0 * 10 <= ten.0 * 11,
            "10 and 40 nodes draw alike: {sizes:?}"
        );
        Ok(())
    }

    #[test]
    fn a_bad_scenario_file_fails_with_ajssh_s_message() {
        let tmp = tempfile::tempdir().unwrap();
        let plan = tmp.path().join("bad.toml");
        std::fs::write(
            &plan,
            "[[job]]\nid = \"x\"\nnode = \"nowhere\"\nrun = \"true\"\n",
        )
        .unwrap();
        let parsed = Args {
            files: vec![plan],
            ..Default::default()
        };
        let err = run(&parsed, &Graphviz::new()).unwrap_err().to_string();
        assert!(err.contains("`ajssh scenario dot` failed"), "{err}");
    }

    #[test]
    fn other_files_are_refused() {
        let err = run(
            &Args {
                files: vec!["notes.txt".into()],
                ..Default::default()
            },
            &Graphviz::new(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("notes.txt: expected a graphviz `.dot` file"),
            "{err}"
        );
    }
}
