//! What each host runs, in order: pushes, the script or the command, pulls.
//! Local files are checked before any connection is made.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use asyncjobs_ssh::sftp::DEFAULT_MAX_FILE_SIZE;
use asyncjobs_ssh::{Pull, Push, Run, RunScript, SshCommand, Stdin};

use crate::args::RunOpts;

/// One step on every host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Copy local paths to a remote destination.
    Push {
        /// Local sources.
        local: Vec<PathBuf>,
        /// Remote destination.
        remote: String,
    },
    /// A shell command line.
    Run(String),
    /// Upload and run a local script with an argument line.
    Script {
        /// The script.
        path: PathBuf,
        /// Its arguments, as shell text.
        args: String,
    },
    /// Copy remote paths into `into/HOST/`.
    Pull {
        /// Remote sources.
        remote: Vec<String>,
        /// Local parent directory.
        into: PathBuf,
        /// Most bytes per file (`None`: no cap).
        max_file_size: Option<u64>,
    },
}

/// The steps the options ask for; an error says what is missing or wrong.
pub fn from_options(run: &RunOpts, command: &[String]) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    if let Some(remote) = &run.to {
        for p in &run.push {
            check_local(p, "--push source")?;
        }
        steps.push(Step::Push {
            local: run.push.clone(),
            remote: remote.clone(),
        });
    }
    let words = command.join(" ");
    match &run.script {
        Some(path) => {
            check_local(path, "script")?;
            if path.is_dir() {
                return Err(format!("script {} is a directory", path.display()));
            }
            steps.push(Step::Script {
                path: path.clone(),
                args: words,
            });
        }
        None if !words.trim().is_empty() => steps.push(Step::Run(words)),
        None if !command.is_empty() => return Err("the command is empty".into()),
        None => {}
    }
    if let Some(into) = &run.into {
        steps.push(Step::Pull {
            remote: run.pull.clone(),
            into: into.clone(),
            max_file_size: run
                .max_file_size
                .map_or(Some(DEFAULT_MAX_FILE_SIZE), |m| m.0),
        });
    }
    if steps.is_empty() {
        return Err("nothing to run: give a command after `--`, or -s SCRIPT, --push ... --to, --pull ... --into".into());
    }
    Ok(steps)
}

fn check_local(path: &Path, what: &str) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{what} {}: {e}", path.display())),
    }
}

impl Step {
    /// The command for the host whose files are named `name` (a pull goes
    /// into `INTO/name`), with `timeout` if any; a command or script reads
    /// `stdin`.
    pub fn command(
        &self,
        name: &str,
        timeout: Option<Duration>,
        stdin: &Stdin,
    ) -> Arc<dyn SshCommand> {
        match (self, timeout) {
            (Step::Push { local, remote }, t) => {
                let p = Push::new(local.clone(), remote.clone());
                Arc::new(match t {
                    Some(t) => p.timeout(t),
                    None => p,
                })
            }
            (
                Step::Pull {
                    remote,
                    into,
                    max_file_size,
                },
                t,
            ) => {
                let p = Pull::new(remote.clone(), host_dir(into, name));
                let p = match max_file_size {
                    Some(bytes) => p.max_file_size(*bytes),
                    None => p.unlimited_file_size(),
                };
                Arc::new(match t {
                    Some(t) => p.timeout(t),
                    None => p,
                })
            }
            // shell commands get the job's timeout from the library
            (Step::Run(line), _) => Arc::new(Run::new(line.clone()).stdin(stdin.clone())),
            (Step::Script { path, args }, _) => {
                let s = RunScript::new(path.clone()).stdin(stdin.clone());
                Arc::new(if args.is_empty() { s } else { s.raw_arg(args) })
            }
        }
    }

    /// One line for `-n`.
    pub fn describe(&self) -> String {
        match self {
            Step::Push { local, remote } => {
                let l: Vec<String> = local.iter().map(|p| p.display().to_string()).collect();
                format!("push {} to {remote}", l.join(" "))
            }
            Step::Run(line) => format!("run {line}"),
            Step::Script { path, args } if args.is_empty() => format!("script {}", path.display()),
            Step::Script { path, args } => format!("script {} {args}", path.display()),
            Step::Pull { remote, into, .. } => {
                format!("pull {} into {}/HOST/", remote.join(" "), into.display())
            }
        }
    }
}

/// `into/label/` (a trailing `/`: the destination is a directory, created),
/// always inside `into` whatever the label (`..`, `/`, empty: see
/// [`escape_file_name`](asyncjobs_ssh::escape::escape_file_name)).
fn host_dir(into: &Path, label: &str) -> PathBuf {
    let name = asyncjobs_ssh::escape::escape_file_name(label);
    let mut s = into.join(name.as_ref()).into_os_string();
    s.push("/");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RunOpts {
        RunOpts {
            window: 32,
            ..RunOpts::default()
        }
    }

    #[test]
    fn steps_come_in_push_run_pull_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, "x").unwrap();
        let o = RunOpts {
            push: vec![f.clone()],
            to: Some("/tmp/".into()),
            pull: vec!["/etc/hostname".into()],
            into: Some("out".into()),
            ..opts()
        };
        let steps = from_options(&o, &["echo".into(), "hi".into()]).unwrap();
        assert_eq!(
            steps,
            [
                Step::Push {
                    local: vec![f],
                    remote: "/tmp/".into()
                },
                Step::Run("echo hi".into()),
                Step::Pull {
                    remote: vec!["/etc/hostname".into()],
                    into: "out".into(),
                    max_file_size: Some(DEFAULT_MAX_FILE_SIZE),
                },
            ]
        );
        assert_eq!(
            steps[2].command("web:2222", None, &Stdin::Null).label(),
            "Pull: /etc/hostname into out/web:2222/"
        );
    }

    #[test]
    fn pull_directories_stay_inside_into_whatever_the_host_name() {
        for (label, dir) in [
            ("..", "out/%2E%2E/"),
            ("", "out/%/"),
            ("a/../../b", "out/a%2F..%2F..%2Fb/"),
            ("/etc", "out/%2Fetc/"),
            ("web:2222", "out/web:2222/"),
        ] {
            assert_eq!(
                host_dir(Path::new("out"), label),
                PathBuf::from(dir),
                "{label:?}"
            );
        }
    }

    #[test]
    fn script_takes_the_words_as_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s.sh");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        let o = RunOpts {
            script: Some(f.clone()),
            ..opts()
        };
        assert_eq!(
            from_options(&o, &["-x".into(), "'a b'".into()]).unwrap(),
            [Step::Script {
                path: f,
                args: "-x 'a b'".into()
            }]
        );
    }

    #[test]
    fn missing_local_files_and_empty_plans_are_errors() {
        let o = RunOpts {
            script: Some("/nonexistent/s.sh".into()),
            ..opts()
        };
        assert!(from_options(&o, &[])
            .unwrap_err()
            .starts_with("script /nonexistent/s.sh:"));
        let o = RunOpts {
            push: vec!["/nonexistent/f".into()],
            to: Some("x".into()),
            ..opts()
        };
        assert!(from_options(&o, &[])
            .unwrap_err()
            .starts_with("--push source /nonexistent/f:"));
        assert!(from_options(&opts(), &[])
            .unwrap_err()
            .starts_with("nothing to run"));
        assert_eq!(
            from_options(&opts(), &["".into()]).unwrap_err(),
            "the command is empty"
        );
    }
}
