//! Cutting a byte stream into lines, for line-by-line output.

/// A line longer than this is passed on in pieces, so that output without
/// newlines (binary data) cannot grow memory without bound.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// Accumulates bytes and hands out whole lines (with their `\n`).
#[derive(Default)]
pub(crate) struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Feeds `data`, calling `emit` with every completed line.
    pub fn push(&mut self, mut data: &[u8], emit: &mut impl FnMut(&[u8])) {
        while let Some(pos) = data.iter().position(|&b| b == b'\n') {
            let (line, rest) = data.split_at(pos + 1);
            if self.pending.is_empty() {
                emit(line);
            } else {
                self.pending.extend_from_slice(line);
                emit(&self.pending);
                self.pending.clear();
            }
            data = rest;
        }
        self.pending.extend_from_slice(data);
        if self.pending.len() >= MAX_LINE {
            emit(&self.pending);
            self.pending.clear();
        }
    }

    /// Flushes a last line that has no `\n`.
    pub fn finish(&mut self, emit: &mut impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            emit(&self.pending);
            self.pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        let mut emit = |l: &[u8]| out.push(l.to_vec());
        for c in chunks {
            s.push(c, &mut emit);
        }
        s.finish(&mut emit);
        out
    }

    #[test]
    fn lines_split_across_chunks_come_out_whole() {
        let out = split(&[b"ab", b"c\nde", b"f\n\ng"]);
        assert_eq!(
            out,
            vec![
                b"abc\n".to_vec(),
                b"def\n".to_vec(),
                b"\n".to_vec(),
                b"g".to_vec()
            ]
        );
    }

    #[test]
    fn endless_line_is_cut_at_the_maximum() {
        let big = vec![b'x'; MAX_LINE + 10];
        let out = split(&[&big]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), MAX_LINE + 10);
        let out = split(&[&big[..MAX_LINE], b"yy\n"]);
        assert_eq!(out, vec![big[..MAX_LINE].to_vec(), b"yy\n".to_vec()]);
    }
}
