//! Result tables in aligned columns for the terminal, the same way for every
//! benchmark (each says which of its columns are text, aligned left).

/// `header` then `rows`, columns two spaces apart and as wide as their widest
/// cell: aligned left where `left(column)`, right otherwise; no trailing spaces.
pub fn aligned<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
    left: impl Fn(usize) -> bool,
) -> String {
    let all: Vec<[String; N]> = std::iter::once(header.map(String::from))
        .chain(rows)
        .collect();
    let widths: Vec<usize> = (0..N)
        .map(|c| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &all {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, &w))| {
                if left(c) {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::aligned;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_aligned_as_asked() {
        let rows = [
            ["a".to_string(), "1".into(), "".into()],
            ["bbb".into(), "22".into(), "".into()],
        ];
        assert_eq!(
            aligned(["name", "n", "x"], rows, |c| c == 0),
            "name   n  x\na      1\nbbb   22\n"
        );
    }
}
