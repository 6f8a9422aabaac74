//! Rendering dot text to PNG or SVG with graphviz's `dot` program.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::GraphError;

/// An output format of [`Graphviz::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// PNG image.
    Png,
    /// SVG image; SVG viewers show the tooltips of outcome colours.
    Svg,
}

impl Format {
    /// The file suffix and `dot -T` argument: `png`, `svg`.
    pub fn suffix(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// The graphviz `dot` program, with a time limit on each rendering.
///
/// ```no_run
/// use asyncjobs_graph::{Format, Graphviz};
/// let png = Graphviz::new().render("digraph { a -> b }", Format::Png)?;
/// assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
/// # Ok::<(), asyncjobs_graph::GraphError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Graphviz {
    program: PathBuf,
    timeout: Duration,
}

impl Default for Graphviz {
    fn default() -> Self {
        Self::new()
    }
}

/// How often a running `dot` is checked for completion.
const POLL: Duration = Duration::from_millis(5);

impl Graphviz {
    /// `dot` from the `PATH`, killed after 60 seconds.
    pub fn new() -> Self {
        Graphviz {
            program: PathBuf::from("dot"),
            timeout: Duration::from_secs(60),
        }
    }

    /// Uses another program (a path, or a name looked up in the `PATH`).
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// Time limit of one rendering; any `Duration` (`Duration::MAX`: no limit).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `dot -V`: the version line, or [`GraphError::GraphvizMissing`] with how to install it.
    pub fn version(&self) -> Result<String, GraphError> {
        let out = self.run(&["-V"], b"", "`dot -V`")?;
        // dot prints its version on stderr
        Ok(String::from_utf8_lossy(if out.stderr.is_empty() {
            &out.stdout
        } else {
            &out.stderr
        })
        .trim()
        .to_string())
    }

    /// Renders dot text; the image's bytes.
    pub fn render(&self, dot: &str, format: Format) -> Result<Vec<u8>, GraphError> {
        let arg = format!("-T{}", format.suffix());
        Ok(self.run(&[&arg], dot.as_bytes(), "<generated dot>")?.stdout)
    }

    /// Renders the dot file `input` into `output`.
    pub fn render_file(
        &self,
        input: &Path,
        output: &Path,
        format: Format,
    ) -> Result<(), GraphError> {
        let dot = std::fs::read_to_string(input).map_err(|error| GraphError::Read {
            path: input.to_path_buf(),
            error,
        })?;
        let arg = format!("-T{}", format.suffix());
        let image = self
            .run(&[&arg], dot.as_bytes(), &input.display().to_string())?
            .stdout;
        std::fs::write(output, image).map_err(|error| GraphError::Write {
            path: output.to_path_buf(),
            error,
        })
    }

    /// Runs `dot` with `stdin`, within the time limit; its output when it exits 0.
    fn run(&self, args: &[&str], stdin: &[u8], input: &str) -> Result<Output, GraphError> {
        let io = |error| GraphError::GraphvizIo {
            program: self.program.clone(),
            error,
        };
        let mut child = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => GraphError::GraphvizMissing {
                    program: self.program.clone(),
                },
                _ => io(e),
            })?;
        // feed and drain on threads, so a large input or output cannot block both sides
        let feed = child.stdin.take().map(|mut pipe| {
            let data = stdin.to_vec();
            std::thread::spawn(move || pipe.write_all(&data))
        });
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        // a time limit too far away to compute (Duration::MAX) is no limit
        let deadline = Instant::now().checked_add(self.timeout);
        let status = match wait_until(&mut child, deadline).map_err(io)? {
            Some(status) => status,
            None => {
                // killing closes the pipes, so the threads below finish
                let _ = child.kill();
                let _ = child.wait();
                return Err(GraphError::GraphvizTimeout {
                    input: input.to_string(),
                    timeout: self.timeout,
                });
            }
        };
        let fed = feed.map(|t| t.join().unwrap_or(Ok(()))).unwrap_or(Ok(()));
        let out = Output {
            stdout: collect(stdout).map_err(io)?,
            stderr: collect(stderr).map_err(io)?,
        };
        if !status.success() {
            return Err(GraphError::GraphvizFailed {
                input: input.to_string(),
                status: status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        // dot exited 0 without reading all its input: a broken pipe would be a bug to report
        fed.map_err(io)?;
        Ok(out)
    }
}

struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

type Drain = Option<JoinHandle<std::io::Result<Vec<u8>>>>;

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Drain {
    pipe.map(|mut p| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            p.read_to_end(&mut buf).map(|_| buf)
        })
    })
}

fn collect(d: Drain) -> std::io::Result<Vec<u8>> {
    match d {
        Some(t) => t
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("reader thread panicked"))),
        None => Ok(Vec::new()),
    }
}

/// Waits for `child` until `deadline` (`None`: no limit); `None` when it is
/// still running then.
fn wait_until(
    child: &mut Child,
    deadline: Option<Instant>,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}
