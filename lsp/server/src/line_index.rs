//! Positions: the protocol counts lines and UTF-16 code units, the IDE counts bytes.
//!
//! A spec is mostly ASCII, but names in comments, messages and code-table keys are not ("✓",
//! accented names), and a client that receives byte columns there would put the cursor in the
//! wrong place. Every conversion goes through this index, built from the file's text.

use tower_lsp_server::ls_types::{Position, Range};

pub struct LineIndex<'a> {
    text: &'a str,
    /// The byte offset where each line starts.
    line_starts: Vec<u32>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        LineIndex { text, line_starts }
    }

    /// The byte offset of a protocol position; positions past the end of a line or of the text
    /// are clamped, as the protocol asks.
    /// The text this index was built over.
    pub fn text(&self) -> &'a str {
        self.text
    }

    pub fn offset(&self, position: Position) -> u32 {
        let Some(&line_start) = self.line_starts.get(position.line as usize) else {
            return self.text.len() as u32;
        };
        let line_end = self.line_starts.get(position.line as usize + 1).map_or(self.text.len(), |&next| next as usize);
        let line = &self.text[line_start as usize..line_end];
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= position.character || c == '\n' {
                return line_start + i as u32;
            }
            units += c.len_utf16() as u32;
        }
        line_end as u32
    }

    /// The protocol position of a byte offset (clamped to the text, rounded down to a char).
    pub fn position(&self, offset: u32) -> Position {
        let mut offset = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start as usize <= offset) - 1;
        let line_start = self.line_starts[line] as usize;
        let character = self.text[line_start..offset].chars().map(|c| c.len_utf16() as u32).sum();
        Position { line: line as u32, character }
    }

    pub fn range(&self, range: etr_ide::TextRange) -> Range {
        Range { start: self.position(range.start), end: self.position(range.end) }
    }

    pub fn text_range(&self, range: Range) -> etr_ide::TextRange {
        etr_ide::TextRange::new(self.offset(range.start), self.offset(range.end))
    }

    /// The length in UTF-16 code units of a byte range (for semantic tokens).
    pub fn utf16_len(&self, range: etr_ide::TextRange) -> u32 {
        self.text[range.start as usize..range.end as usize].chars().map(|c| c.len_utf16() as u32).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_round_trip_through_non_ascii_text() {
        // "é" is two bytes and one UTF-16 unit; "𝄞" is four bytes and two units.
        let text = "ab\n\"é𝄞\" x\nlast";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap() as u32;
        assert_eq!(index.position(x), Position { line: 1, character: 6 });
        assert_eq!(index.offset(Position { line: 1, character: 6 }), x);
        assert_eq!(index.offset(Position { line: 0, character: 99 }), 2);
        assert_eq!(index.offset(Position { line: 9, character: 0 }), text.len() as u32);
        assert_eq!(index.position(text.len() as u32), Position { line: 2, character: 4 });
        // An offset inside a character is rounded down to its start.
        let e = text.find('é').unwrap() as u32;
        assert_eq!(index.position(e + 1), index.position(e));
    }
}
