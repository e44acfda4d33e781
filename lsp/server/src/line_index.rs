//! Positions: the protocol counts lines and UTF-16 code units, the IDE counts bytes.
//!
//! A spec is mostly ASCII, but names in comments, messages and code-table keys are not ("✓",
//! accented names), and a client that receives byte columns there would put the cursor in the
//! wrong place. Every conversion goes through this index, built from the file's text.
//!
//! Line ends are those of the protocol (and of editors, and of etr's data reader): `\n`, `\r\n`
//! and a lone `\r`. A `\r\n` is one line end; the terminator is not part of the line's columns.
//!
//! Cost: building is one pass over the text. A byte offset to a position is two binary searches
//! (the line, then the non-ASCII characters before the offset) and never walks the line, so a
//! file's semantic tokens convert in O(tokens × log) however long its lines are. Walking the line
//! for every token made one 309 kB line take seconds (quadratic: each of its tokens walked the
//! line up to itself).

use tower_lsp_server::ls_types::{Position, Range};

/// A character whose UTF-8 length differs from its UTF-16 length (every non-ASCII character).
#[derive(Debug, Clone, Copy)]
struct WideChar {
    /// Its byte offset.
    offset: u32,
}

pub struct LineIndex<'a> {
    text: &'a str,
    /// The byte offset where each line starts.
    line_starts: Vec<u32>,
    /// The non-ASCII characters, in text order.
    wide: Vec<WideChar>,
    /// `extra_before[k]`: how many more UTF-8 bytes than UTF-16 units `wide[..k]` take (one more
    /// entry than `wide`): 1 for "é" (2 bytes, 1 unit), 2 for "✓" (3, 1) and for "𝄞" (4, 2).
    extra_before: Vec<u32>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut wide = Vec::new();
        let mut extra_before = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line_starts.push(i as u32 + 1),
                // A lone `\r` ends a line; in `\r\n` the `\n` does.
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => line_starts.push(i as u32 + 1),
                byte if byte >= 0x80 => {
                    let c = text[i..].chars().next().expect("a char starts at a non-ASCII lead byte");
                    let extra_bytes = (c.len_utf8() - c.len_utf16()) as u32;
                    wide.push(WideChar { offset: i as u32 });
                    extra_before.push(extra_before.last().copied().unwrap_or(0) + extra_bytes);
                    i += c.len_utf8();
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        LineIndex { text, line_starts, wide, extra_before }
    }

    /// The text this index was built over.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The end of line `line`'s content: its terminator's first byte, or the text's end.
    fn line_content_end(&self, line: usize) -> usize {
        let Some(&next) = self.line_starts.get(line + 1) else { return self.text.len() };
        let next = next as usize;
        let bytes = self.text.as_bytes();
        // The line ends in `\n`, `\r\n` or a lone `\r`.
        if bytes[next - 1] == b'\n' && next >= 2 && bytes[next - 2] == b'\r' { next - 2 } else { next - 1 }
    }

    /// The UTF-16 units of `start..end` (both char boundaries, `start <= end`).
    fn utf16_units(&self, start: usize, end: usize) -> u32 {
        let first = self.wide.partition_point(|w| (w.offset as usize) < start);
        let last = self.wide.partition_point(|w| (w.offset as usize) < end);
        (end - start) as u32 - (self.extra_before[last] - self.extra_before[first])
    }

    /// The byte offset of a protocol position; positions past the end of a line or of the text
    /// are clamped, as the protocol asks (a column past the line's end is the end of its content,
    /// before its terminator).
    pub fn offset(&self, position: Position) -> u32 {
        let line = position.line as usize;
        let Some(&line_start) = self.line_starts.get(line) else {
            return self.text.len() as u32;
        };
        let line_start = line_start as usize;
        let content_end = self.line_content_end(line);
        // Only the non-ASCII characters need a look: between them a unit is a byte.
        let mut byte = line_start;
        let mut units = 0u32;
        let first = self.wide.partition_point(|w| (w.offset as usize) < line_start);
        for w in self.wide[first..].iter().take_while(|w| (w.offset as usize) < content_end) {
            let ascii_run = w.offset as usize - byte;
            if units + ascii_run as u32 >= position.character {
                break;
            }
            units += ascii_run as u32;
            byte = w.offset as usize;
            let c = self.text[byte..].chars().next().expect("a wide char starts here");
            let width = c.len_utf16() as u32;
            if units + width > position.character {
                // Inside a surrogate pair: the start of the character.
                return byte as u32;
            }
            units += width;
            byte += c.len_utf8();
        }
        let left = position.character.saturating_sub(units) as usize;
        (byte + left).min(content_end) as u32
    }

    /// The protocol position of a byte offset (clamped to the text, rounded down to a char).
    pub fn position(&self, offset: u32) -> Position {
        let mut offset = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start as usize <= offset) - 1;
        let line_start = self.line_starts[line] as usize;
        Position { line: line as u32, character: self.utf16_units(line_start, offset) }
    }

    pub fn range(&self, range: etr_ide::TextRange) -> Range {
        Range { start: self.position(range.start), end: self.position(range.end) }
    }

    pub fn text_range(&self, range: Range) -> etr_ide::TextRange {
        etr_ide::TextRange::new(self.offset(range.start), self.offset(range.end))
    }

    /// The length in UTF-16 code units of a byte range (for semantic tokens).
    pub fn utf16_len(&self, range: etr_ide::TextRange) -> u32 {
        let end = (range.end as usize).min(self.text.len());
        let start = (range.start as usize).min(end);
        self.utf16_units(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn utf16_columns_round_trip_through_non_ascii_text() {
        // "é" is two bytes and one UTF-16 unit; "𝄞" is four bytes and two units.
        let text = "ab\n\"é𝄞\" x\nlast";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap() as u32;
        assert_eq!(index.position(x), pos(1, 6));
        assert_eq!(index.offset(pos(1, 6)), x);
        assert_eq!(index.offset(pos(0, 99)), 2);
        assert_eq!(index.offset(pos(9, 0)), text.len() as u32);
        assert_eq!(index.position(text.len() as u32), pos(2, 4));
        // An offset inside a character is rounded down to its start.
        let e = text.find('é').unwrap() as u32;
        assert_eq!(index.position(e + 1), index.position(e));
        // A column inside the surrogate pair of "𝄞" is the character's start.
        let clef = text.find('𝄞').unwrap() as u32;
        assert_eq!(index.offset(pos(1, 2)), clef);
        assert_eq!(index.offset(pos(1, 3)), clef);
        assert_eq!(index.offset(pos(1, 4)), clef + 4);
    }

    /// Every byte offset at a char boundary maps to a position and back to itself, and the
    /// position agrees with counting the line's UTF-16 units from its start by hand.
    fn assert_round_trips(text: &str, terminators: &[&str]) {
        let index = LineIndex::new(text);
        let mut line = 0;
        let mut line_start = 0;
        let mut offset = 0;
        while offset <= text.len() {
            let rest = &text[offset..];
            let expected = pos(line, text[line_start..offset].encode_utf16().count() as u32);
            assert_eq!(index.position(offset as u32), expected, "offset {offset} of {text:?}");
            assert_eq!(index.offset(expected), offset as u32, "position {expected:?} of {text:?}");
            let Some(c) = rest.chars().next() else { break };
            if let Some(end) = terminators.iter().find(|t| rest.starts_with(**t)) {
                // The terminator's bytes are not columns: skip them, they clamp to the line end.
                let after = offset + end.len();
                for inside in offset + 1..after {
                    assert_eq!(index.position(inside as u32).line, line, "inside a terminator of {text:?}");
                }
                offset = after;
                line += 1;
                line_start = offset;
                continue;
            }
            offset += c.len_utf8();
        }
    }

    #[test]
    fn lone_cr_crlf_and_lf_each_end_one_line() {
        assert_round_trips("a\rb\rc", &["\r"]);
        assert_round_trips("let x = 1\r\nlet é = 2\r\n", &["\r\n"]);
        assert_round_trips("a\r\nb\rc\nd\r\r\n\n✓\r𝄞 z", &["\r\n", "\r", "\n"]);
        let index = LineIndex::new("ab\rcd\r\nef\ngh");
        assert_eq!(index.position(3), pos(1, 0));
        assert_eq!(index.position(7), pos(2, 0));
        assert_eq!(index.position(10), pos(3, 0));
        assert_eq!(index.offset(pos(1, 1)), 4);
        // A column past a line's end is the end of its content, before its `\r\n` or `\r`.
        assert_eq!(index.offset(pos(0, 9)), 2);
        assert_eq!(index.offset(pos(1, 9)), 5);
        assert_eq!(index.offset(pos(2, 9)), 9);
        assert_eq!(index.offset(pos(3, 9)), 12);
    }

    #[test]
    fn positions_on_a_long_line_with_non_ascii_text() {
        // One line of 60,000 characters, every tenth one non-ASCII: positions far along the line
        // agree with counting its units from the start.
        let line: String =
            (0..60_000).map(|i| if i % 10 == 7 { if i % 20 == 7 { '✓' } else { '𝄞' } } else { 'a' }).collect();
        let text = format!("first\n{line}\nlast");
        let index = LineIndex::new(&text);
        let line_start = 6;
        for (offset, _) in text[line_start..line_start + line.len()].char_indices().step_by(997) {
            let offset = line_start + offset;
            let units = text[line_start..offset].encode_utf16().count() as u32;
            assert_eq!(index.position(offset as u32), pos(1, units));
            assert_eq!(index.offset(pos(1, units)), offset as u32);
        }
        let all = etr_ide::TextRange::new(line_start as u32, (line_start + line.len()) as u32);
        assert_eq!(index.utf16_len(all), line.encode_utf16().count() as u32);
    }
}
