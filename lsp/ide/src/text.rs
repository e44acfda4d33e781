//! Small text helpers shared by the features: identifier boundaries, line prefixes, and the
//! enclosing item of an offset found from the text alone (the item under the cursor is often the
//! one that does not parse yet).
//!
//! Lines end as the protocol, editors, etr's data reader and the compiler end them: at `\n`,
//! `\r\n` or a lone `\r`. The rule is the compiler's own, `etr_syntax::lines`, so that a feature
//! never sees a line the parser does not (a comment that ends at a lone `\r` for one and runs on
//! for the other); every feature that looks for a line's start or end goes through it or the
//! helpers here.

use etr_syntax::lines;

/// Where the line that holds `offset` starts.
pub(crate) fn line_start(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset].iter().rposition(|&b| lines::is_line_end(b)).map_or(0, |i| i + 1)
}

/// Where the line that starts at `start` ends (before its line end).
pub(crate) fn line_end(text: &str, start: usize) -> usize {
    start + lines::first_line_end(&text[start..])
}

/// Whether `c` ends a line (a `\r\n` pair ends at its `\r`).
pub(crate) fn is_line_end(c: char) -> bool {
    u8::try_from(c).is_ok_and(lines::is_line_end)
}

/// Whether `c` can be part of a name.
pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The start of the name fragment that ends at `offset` (equal to `offset` when there is none).
pub(crate) fn ident_start(text: &str, offset: usize) -> usize {
    let before = &text[..offset];
    before.char_indices().rev().take_while(|(_, c)| is_ident_char(*c)).last().map_or(offset, |(i, _)| i)
}

/// The largest char boundary at or before `offset`, clamped to the text.
pub(crate) fn clamp_offset(text: &str, offset: u32) -> usize {
    let mut offset = (offset as usize).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The text from the start of the line to `offset`.
pub(crate) fn line_prefix(text: &str, offset: usize) -> &str {
    &text[line_start(text, offset)..offset]
}

/// The first line of the item that `offset` is in: the last line before it that starts at
/// column 0 with a word (items start at column 0, their bodies are indented or bracketed).
pub(crate) fn enclosing_item_line(text: &str, offset: usize) -> Option<&str> {
    let before = &text[..offset];
    let mut line_end = before.len();
    loop {
        let line_start = line_start(before, line_end);
        let line = &text[line_start..self::line_end(text, line_start)];
        let starts_item = line.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '}');
        if starts_item && line_start < offset {
            return if line.starts_with('}') { None } else { Some(line) };
        }
        if line_start == 0 {
            return None;
        }
        line_end = line_start - 1;
    }
}

/// Whether `offset` is inside the braces of the item that starts at the last item line: the
/// braces opened since then outnumber those closed (strings and comments are skipped).
pub(crate) fn inside_braces(text: &str, offset: usize) -> bool {
    let before = &text[..offset];
    let mut item_start = 0;
    let mut pos = 0;
    for line in lines::split_inclusive(before) {
        if line.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            item_start = pos;
        }
        pos += line.len();
    }
    let mut depth = 0i32;
    let mut in_string = false;
    let mut chars = before[item_start..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                chars.next();
            }
            '/' if !in_string && chars.peek() == Some(&'/') => {
                // The comment ends at the line end (the line end itself changes no depth).
                while chars.next_if(|&c| !is_line_end(c)).is_some() {}
            }
            '{' if !in_string => depth += 1,
            '}' if !in_string => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_prefix_and_item_line_after_a_lone_cr() {
        let text = "let a = 1\rmap to Record {\r  x = ab";
        assert_eq!(line_prefix(text, text.len()), "  x = ab");
        assert_eq!(enclosing_item_line(text, text.len()), Some("map to Record {"));
        assert!(inside_braces(text, text.len()));
        // A comment ends at a lone CR: the brace after it counts.
        let commented = "map to Record // note\r{\r  x = ";
        assert!(inside_braces(commented, commented.len()));
    }
}
