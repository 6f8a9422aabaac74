//! Byte offsets to line numbers: the starts of all lines, found once, then a
//! binary search per lookup (a scenario of 100k jobs has ~500k spans).

/// The line starts of a text.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text` (one pass).
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// The 1-based line holding byte `offset` (the last line past the end).
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn offsets_map_to_their_lines() {
        let text = "a\nbc\n\nd";
        let idx = LineIndex::new(text);
        let lines: Vec<usize> = (0..=text.len()).map(|o| idx.line(o)).collect();
        assert_eq!(lines, [1, 1, 2, 2, 2, 3, 4, 4]);
    }
}
