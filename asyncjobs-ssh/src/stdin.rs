//! [`Stdin`]: what a command reads on its standard input.
//!
//! By default a command reads end-of-file at once, as with `ssh -n`: a
//! command that reads its input (`cat`, `read x`, a prompt) ends instead of
//! waiting forever for input that nobody sends. Given bytes or a local file,
//! the command reads them, then end-of-file. The same input can be given to
//! many commands: bytes are shared (an `Arc`), a file is opened by each.

use std::path::PathBuf;
use std::sync::Arc;

/// The standard input of a command: nothing (end-of-file at once, the
/// default), bytes, or the contents of a local file.
///
/// ```
/// use asyncjobs_ssh::{Run, Stdin};
/// let count = Run::new("wc -c").stdin("hello\n");
/// let same = Run::new("wc -c").stdin(b"hello\n".to_vec());
/// let shared = Stdin::from(vec![0u8; 1000]); // cloned without copying the bytes
/// let from_file = Run::new("sort").stdin_file("/etc/hosts");
/// assert!(matches!(Stdin::default(), Stdin::Null));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Stdin {
    /// End-of-file at once (`ssh -n`, `< /dev/null`).
    #[default]
    Null,
    /// These bytes, then end-of-file.
    Bytes(Arc<[u8]>),
    /// The contents of this local file (read when the command starts), then end-of-file.
    File(PathBuf),
}

impl std::fmt::Debug for Stdin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stdin::Null => f.write_str("Null"),
            Stdin::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Stdin::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

impl From<Arc<[u8]>> for Stdin {
    fn from(bytes: Arc<[u8]>) -> Self {
        Stdin::Bytes(bytes)
    }
}
impl From<Vec<u8>> for Stdin {
    fn from(bytes: Vec<u8>) -> Self {
        Stdin::Bytes(bytes.into())
    }
}
impl From<&[u8]> for Stdin {
    fn from(bytes: &[u8]) -> Self {
        Stdin::Bytes(bytes.into())
    }
}
impl<const N: usize> From<&[u8; N]> for Stdin {
    fn from(bytes: &[u8; N]) -> Self {
        Stdin::Bytes(bytes[..].into())
    }
}
impl From<String> for Stdin {
    fn from(text: String) -> Self {
        Stdin::Bytes(text.into_bytes().into())
    }
}
impl From<&str> for Stdin {
    fn from(text: &str) -> Self {
        Stdin::Bytes(text.as_bytes().into())
    }
}

/// An input ready to be fed: the file (if any) is already open, so a missing
/// file fails the command before it starts.
pub(crate) enum OpenStdin {
    Null,
    Bytes(Arc<[u8]>),
    File(std::fs::File),
}

impl Stdin {
    /// Opens the file, if any; the error says which file and why.
    pub(crate) fn open(&self) -> Result<OpenStdin, String> {
        Ok(match self {
            Stdin::Null => OpenStdin::Null,
            Stdin::Bytes(b) => OpenStdin::Bytes(Arc::clone(b)),
            Stdin::File(p) => OpenStdin::File(
                std::fs::File::open(p)
                    .map_err(|e| format!("cannot open the input file {}: {e}", p.display()))?,
            ),
        })
    }
}

/// Chunk size when streaming a file to a remote command.
pub(crate) const CHUNK: usize = 32 * 1024;
