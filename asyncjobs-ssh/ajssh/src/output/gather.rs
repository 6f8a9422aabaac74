//! `-b`: gathered output, as `clush -b` and `dshbak -c` show it. Hosts whose
//! output is identical share one block, headed by their names folded into a
//! node set; stdout and stderr are gathered separately. Only one copy of
//! each distinct output is kept, so memory follows the variety of outputs,
//! not the number of hosts.

use std::collections::HashMap;

use asyncjobs_ssh::escape::{escape_control, escape_invalid_utf8};

use super::capture::Kept;
use asyncjobs_ssh::targets as nodeset;

/// Hosts as (rank among targets, label).
type Hosts = Vec<(usize, String)>;

#[derive(Default)]
struct Groups {
    /// Each distinct (output, truncated), held once, with its block number.
    index: HashMap<(Vec<u8>, bool), usize>,
    /// The hosts of each block.
    hosts: Vec<Hosts>,
}

impl Groups {
    /// Adds a host's output; returns the bytes not retained (the output
    /// was already there: only one copy of each distinct output is kept).
    fn add(&mut self, order: usize, label: &str, kept: Kept) -> usize {
        if kept.bytes.is_empty() && !kept.truncated {
            return 0;
        }
        let len = kept.bytes.len();
        let key = (kept.bytes, kept.truncated);
        let (i, dropped) = match self.index.get(&key) {
            Some(&i) => (i, len),
            None => {
                let i = self.hosts.len();
                self.hosts.push(Vec::new());
                self.index.insert(key, i);
                (i, 0)
            }
        };
        self.hosts[i].push((order, label.to_string()));
        dropped
    }

    fn render(&self, color: Option<&str>) -> Vec<u8> {
        let mut blocks: Vec<(&[u8], bool, &Hosts)> = self
            .index
            .iter()
            .map(|((bytes, truncated), &i)| (bytes.as_slice(), *truncated, &self.hosts[i]))
            .collect();
        // blocks in the order of their first host among the targets
        blocks.sort_by_key(|(_, _, hosts)| hosts.iter().map(|(o, _)| *o).min());
        let mut out = Vec::new();
        for (bytes, truncated, hosts) in blocks {
            let names: Vec<&str> = hosts.iter().map(|(_, l)| l.as_str()).collect();
            let title = escape_control(&format!("{} ({})", nodeset::fold(&names), names.len()))
                .into_owned();
            let rule = "-".repeat(title.chars().count().clamp(15, 80));
            let header = format!("{rule}\n{title}\n{rule}\n");
            match color {
                Some(c) => out.extend_from_slice(crate::color::paint_lines(&header, c).as_bytes()),
                None => out.extend_from_slice(header.as_bytes()),
            }
            // text, as the default output: bytes that are not UTF-8 as \xNN
            let text = escape_invalid_utf8(bytes);
            out.extend_from_slice(text.as_bytes());
            if !text.ends_with('\n') {
                out.push(b'\n');
            }
            if truncated {
                out.extend_from_slice(TRUNCATED.as_bytes());
            }
        }
        out
    }
}

/// The line after a cut output.
const TRUNCATED: &str = "[output truncated: -b keeps at most 16 MiB per stream and host, \
                         256 MiB for all hosts; -d DIR keeps everything]\n";

/// Outputs gathered so far.
#[derive(Default)]
pub struct Gather {
    stdout: Groups,
    stderr: Groups,
}

impl Gather {
    /// Adds a host's outputs; `order` is its rank among the targets.
    /// Returns the bytes not retained (outputs already gathered).
    pub fn add(&mut self, order: usize, label: &str, stdout: Kept, stderr: Kept) -> usize {
        self.stdout.add(order, label, stdout) + self.stderr.add(order, label, stderr)
    }

    /// The stdout blocks.
    #[cfg(test)]
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.render(None)
    }

    /// The stderr blocks.
    #[cfg(test)]
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr.render(None)
    }

    /// The stdout blocks, headers coloured when `colors` says so.
    pub fn stdout_colored(&self, colors: crate::color::Colors) -> Vec<u8> {
        self.stdout
            .render(colors.stdout.then_some(crate::color::HOST))
    }

    /// The stderr blocks, headers coloured when `colors` says so.
    pub fn stderr_colored(&self, colors: crate::color::Colors) -> Vec<u8> {
        self.stderr
            .render(colors.stderr.then_some(crate::color::ERROR))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(s: &str) -> Kept {
        Kept {
            bytes: s.as_bytes().to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn identical_outputs_share_one_block_with_folded_names() {
        let mut g = Gather::default();
        g.add(2, "node03", kept("A\n"), kept(""));
        g.add(0, "node01", kept("A\n"), kept(""));
        g.add(1, "node02", kept("B"), kept("oops\n"));
        g.add(3, "node04", kept(""), kept("oops\n"));
        let out = String::from_utf8(g.stdout()).unwrap();
        assert_eq!(
            out,
            "---------------\nnode[01,03] (2)\n---------------\nA\n\
             ---------------\nnode02 (1)\n---------------\nB\n"
        );
        let err = String::from_utf8(g.stderr()).unwrap();
        assert!(
            err.starts_with("---------------\nnode[02,04] (2)\n"),
            "{err}"
        );
    }

    #[test]
    fn truncated_outputs_say_so() {
        let mut g = Gather::default();
        g.add(
            0,
            "h",
            Kept {
                bytes: b"x\n".to_vec(),
                truncated: true,
            },
            kept(""),
        );
        assert!(String::from_utf8(g.stdout())
            .unwrap()
            .ends_with(&format!("x\n{TRUNCATED}")));
    }

    #[test]
    fn identical_outputs_are_kept_once_and_invalid_utf8_is_shown_escaped() {
        let mut g = Gather::default();
        assert_eq!(g.add(0, "a", kept("same\n"), kept("")), 0);
        assert_eq!(g.add(1, "b", kept("same\n"), kept("")), 5);
        let bin = Kept {
            bytes: b"\xff\x1b[1m\n".to_vec(),
            truncated: false,
        };
        g.add(2, "c\x1b", bin, kept(""));
        let out = String::from_utf8(g.stdout()).unwrap();
        assert!(out.contains("\\xff\x1b[1m\n"), "{out:?}");
        assert!(out.contains("c\\x1b (1)"), "{out:?}");
    }

    #[test]
    fn no_output_no_block() {
        let mut g = Gather::default();
        g.add(0, "h", kept(""), kept(""));
        assert!(g.stdout().is_empty() && g.stderr().is_empty());
    }
}
