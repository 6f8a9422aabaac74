//! Result tables in aligned columns for the terminal, the same way for every
//! benchmark (each says which of its columns are text, aligned left).

/// `header` then `rows`, columns two spaces apart and as wide as their widest
/// cell: aligned left where `left(column)`, right otherwise; no trailing spaces.
pub fn aligned<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
    left: impl Fn(usize) -> bool,
) -> String {
    let header: Vec<String> = header.map(String::from).to_vec();
    let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.to_vec()).collect();
    aligned_rows(&header, &rows, left)
}

/// [`aligned`] for tables whose width is known only at run time (one column
/// per client measured); rows shorter than the header leave blanks.
pub fn aligned_rows(
    header: &[String],
    rows: &[Vec<String>],
    left: impl Fn(usize) -> bool,
) -> String {
    let all: Vec<&[String]> = std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            all.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &all {
        let line: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(c, &w)| {
                let cell = row.get(c).map_or("", String::as_str);
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
