//! Small text helpers shared by the features: identifier boundaries, line prefixes, and the
//! enclosing item of an offset found from the text alone (the item under the cursor is often the
//! one that does not parse yet).

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
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    &text[start..offset]
}

/// The first line of the item that `offset` is in: the last line before it that starts at
/// column 0 with a word (items start at column 0, their bodies are indented or bracketed).
pub(crate) fn enclosing_item_line(text: &str, offset: usize) -> Option<&str> {
    let before = &text[..offset];
    let mut line_end = before.len();
    loop {
        let line_start = before[..line_end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..text[line_start..].find('\n').map_or(text.len(), |i| line_start + i)];
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
    for line in before.split_inclusive('\n') {
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
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' if !in_string => depth += 1,
            '}' if !in_string => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}
