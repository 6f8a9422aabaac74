//! `-I` / `--send-input`: ajssh's own standard input, read once and sent to
//! every host's command (as `pssh -I`). Without `-I`, remote commands read
//! end-of-file at once (as `ssh -n`).
//!
//! Memory stays bounded: up to [`MEMORY_LIMIT`] bytes are kept in memory and
//! shared by all hosts; a longer input is spooled to a temporary file
//! (removed at the end of the run) that each host's command reads in turn.

use std::io::{self, Read, Write};

use asyncjobs_ssh::Stdin;

/// Input bytes kept in memory; past this the input is spooled to a temporary file.
pub const MEMORY_LIMIT: usize = 16 * 1024 * 1024;

/// The input of every host's command.
pub struct Input {
    /// What commands read.
    pub stdin: Stdin,
    /// The spool file, removed when the input is dropped.
    spool: Option<tempfile::TempPath>,
    /// Its size in bytes.
    pub len: u64,
}

impl Input {
    /// End-of-file at once (no `-I`).
    pub fn none() -> Input {
        Input {
            stdin: Stdin::Null,
            spool: None,
            len: 0,
        }
    }

    /// True when the input is in a temporary file.
    pub fn is_spooled(&self) -> bool {
        self.spool.is_some()
    }
}

/// Reads `source` to its end: in memory up to `limit` bytes, else into a temporary file.
pub fn read(mut source: impl Read, limit: usize) -> io::Result<Input> {
    let mut head = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    source.by_ref().take(cap).read_to_end(&mut head)?;
    if head.len() <= limit {
        return Ok(Input {
            len: head.len() as u64,
            stdin: Stdin::from(head),
            spool: None,
        });
    }
    let mut file = tempfile::Builder::new()
        .prefix("ajssh-input-")
        .tempfile()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create a spool file: {e}")))?;
    let spool_err = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("cannot spool the input to a temporary file: {e}"),
        )
    };
    file.write_all(&head).map_err(spool_err)?;
    drop(head);
    let rest = io::copy(&mut source, &mut file).map_err(spool_err)?;
    file.flush().map_err(spool_err)?;
    let len = limit as u64 + 1 + rest;
    let path = file.into_temp_path();
    Ok(Input {
        stdin: Stdin::File(path.to_path_buf()),
        spool: Some(path),
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_input_stays_in_memory() {
        let i = read(&b"hello\n"[..], 16).unwrap();
        assert_eq!(i.stdin, Stdin::from("hello\n"));
        assert_eq!(i.len, 6);
        assert!(!i.is_spooled());
        let exact = read(&[7u8; 16][..], 16).unwrap();
        assert!(!exact.is_spooled());
    }

    #[test]
    fn input_past_the_limit_is_spooled_and_removed_afterwards() {
        let data: Vec<u8> = (0..100u8).collect();
        let i = read(&data[..], 10).unwrap();
        assert!(i.is_spooled());
        assert_eq!(i.len, 100);
        let Stdin::File(path) = i.stdin.clone() else {
            panic!("{:?}", i.stdin)
        };
        assert_eq!(std::fs::read(&path).unwrap(), data);
        drop(i);
        assert!(!path.exists(), "the spool file is removed with the input");
    }
}
