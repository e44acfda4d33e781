//! Line ends as etr reads them: `\n`, `\r\n` and a lone `\r` each end one line.
//!
//! Editors, the language server protocol and etr's own data reader all treat a lone `\r` as a line
//! end. The compiler must too, or a `//` comment followed by a lone `\r` would swallow the next
//! line: the analyst sees a rule that the compiler never reads. Every place that cuts text into
//! lines (the grammar's comments and strings, item recovery, line and column numbers of
//! diagnostics, the formatter's cursor) goes through this module or follows the same rule.

/// Whether `byte` ends a line (a `\r\n` pair ends one line: see [`split_inclusive`]).
pub fn is_line_end(byte: u8) -> bool {
    byte == b'\n' || byte == b'\r'
}

/// The offset of the first line end in `text` (its length if there is none): where a `//` comment
/// or a string literal that starts on the first line must stop.
pub fn first_line_end(text: &str) -> usize {
    text.bytes().position(is_line_end).unwrap_or(text.len())
}

/// The lines of `text`, each with its line end (`\n`, `\r\n` or `\r`) if it has one. Together they
/// cover the whole text.
pub fn split_inclusive(text: &str) -> impl Iterator<Item = &str> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let end = match bytes[start..].iter().position(|&b| is_line_end(b)) {
            None => bytes.len(),
            Some(at) if bytes[start + at] == b'\r' && bytes.get(start + at + 1) == Some(&b'\n') => start + at + 2,
            Some(at) => start + at + 1,
        };
        let line = &text[start..end];
        start = end;
        Some(line)
    })
}

/// `line` without its line end.
pub fn strip_line_end(line: &str) -> &str {
    line.strip_suffix("\r\n").or_else(|| line.strip_suffix(['\n', '\r'])).unwrap_or(line)
}

/// How many line ends `text` holds (`\r\n` counts once).
pub fn count_line_ends(text: &str) -> usize {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))).count()
}

/// The 1-based line and column (in chars) of byte `offset` in `text`, clamped to the text. An
/// offset between the `\r` and the `\n` of a pair counts as the end of the first line.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let mut line = 1;
    let mut line_start = 0;
    for (i, &b) in before.iter().enumerate() {
        let ends_line = b == b'\n' || (b == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n'));
        if ends_line {
            line += 1;
            line_start = i + 1;
        }
    }
    let column = text.get(line_start..offset).map_or(1, |s| s.chars().count() + 1);
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_line_ends_cut_lines() {
        let lines: Vec<&str> = split_inclusive("a\nb\r\nc\rd").collect();
        assert_eq!(lines, ["a\n", "b\r\n", "c\r", "d"]);
        assert_eq!(lines.iter().map(|l| strip_line_end(l)).collect::<Vec<_>>(), ["a", "b", "c", "d"]);
        assert_eq!(count_line_ends("a\nb\r\nc\rd\r"), 4);
        assert_eq!(first_line_end("// c\rrule"), 4);
    }

    #[test]
    fn line_col_counts_lone_carriage_returns() {
        let text = "a\nb\r\nc\rdé x";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 2), (2, 1));
        assert_eq!(line_col(text, 5), (3, 1));
        assert_eq!(line_col(text, 7), (4, 1));
        assert_eq!(line_col(text, text.len()), (4, 5));
        assert_eq!(line_col(text, 4), (2, 3), "between \\r and \\n: still the line of the pair");
    }
}
