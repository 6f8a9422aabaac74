//! `-b`: gathered output, as `clush -b` and `dshbak -c` show it. Hosts whose
//! output is identical share one block, headed by their names folded into a
//! node set; stdout and stderr are gathered separately. Only one copy of
//! each distinct output is kept, so memory follows the variety of outputs,
//! not the number of hosts.

use std::collections::HashMap;

use super::capture::Kept;
use crate::nodeset;

/// Hosts as (rank among targets, label).
type Hosts = Vec<(usize, String)>;

#[derive(Default)]
struct Groups {
    index: HashMap<(Vec<u8>, bool), usize>,
    /// (output, truncated, hosts).
    blocks: Vec<(Vec<u8>, bool, Hosts)>,
}

impl Groups {
    fn add(&mut self, order: usize, label: &str, kept: Kept) {
        if kept.bytes.is_empty() && !kept.truncated {
            return;
        }
        let key = (kept.bytes, kept.truncated);
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.blocks.push((key.0.clone(), key.1, Vec::new()));
                self.index.insert(key, self.blocks.len() - 1);
                self.blocks.len() - 1
            }
        };
        self.blocks[i].2.push((order, label.to_string()));
    }

    fn render(&self) -> Vec<u8> {
        let mut blocks: Vec<_> = self.blocks.iter().collect();
        // blocks in the order of their first host among the targets
        blocks.sort_by_key(|(_, _, hosts)| hosts.iter().map(|(o, _)| *o).min());
        let mut out = Vec::new();
        for (bytes, truncated, hosts) in blocks {
            let names: Vec<&str> = hosts.iter().map(|(_, l)| l.as_str()).collect();
            let title = format!("{} ({})", nodeset::fold(&names), names.len());
            let rule = "-".repeat(title.chars().count().clamp(15, 80));
            out.extend_from_slice(format!("{rule}\n{title}\n{rule}\n").as_bytes());
            out.extend_from_slice(bytes);
            if !bytes.ends_with(b"\n") {
                out.push(b'\n');
            }
            if *truncated {
                out.extend_from_slice(b"[output truncated: only the beginning was kept]\n");
            }
        }
        out
    }
}

/// Outputs gathered so far.
#[derive(Default)]
pub struct Gather {
    stdout: Groups,
    stderr: Groups,
}

impl Gather {
    /// Adds a host's outputs; `order` is its rank among the targets.
    pub fn add(&mut self, order: usize, label: &str, stdout: Kept, stderr: Kept) {
        self.stdout.add(order, label, stdout);
        self.stderr.add(order, label, stderr);
    }

    /// The stdout blocks.
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.render()
    }

    /// The stderr blocks.
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr.render()
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
            .ends_with("x\n[output truncated: only the beginning was kept]\n"));
    }

    #[test]
    fn no_output_no_block() {
        let mut g = Gather::default();
        g.add(0, "h", kept(""), kept(""));
        assert!(g.stdout().is_empty() && g.stderr().is_empty());
    }
}
