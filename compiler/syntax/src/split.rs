//! Cutting a file into one region per top-level item, before any parsing.
//!
//! pest stops at the first error, so error recovery happens here instead:
//! each region is parsed on its own, and a broken item costs only itself.
//! The cut is purely line-based so that it works on text that does not parse:
//!
//! - a line that starts at column 0 with an item keyword (`rule`, `let`, ...)
//!   always starts a region, even inside unbalanced brackets, so that a
//!   missing `}` cannot swallow the rest of the file;
//! - a line that starts at column 0 with any other word starts a region too
//!   (an error region: "expected an item"), but only when the brackets seen
//!   since the region began are balanced, so that a `map` body written at
//!   column 0 stays one item;
//! - `///` lines (and blank lines between them) right before such a line
//!   belong to the new region, because they document the item.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r` (`lines.rs`), as in the grammar.

use crate::keywords::{self, KeywordClass};
use crate::lines;

/// A byte range of the file holding at most one item, plus trivia.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Splits `text` into consecutive regions that together cover all of it.
///
/// The first region is the prologue before the first item; it is usually
/// only comments.
pub(crate) fn regions(text: &str) -> Vec<Region> {
    let mut boundaries = vec![0];
    let mut depth: i64 = 0;
    // Start of the first `///` line of the doc comment block that ends at the
    // current line, if the lines since then are all doc or blank lines.
    let mut doc_start: Option<usize> = None;

    let mut line_start = 0;
    for line in lines::split_inclusive(text) {
        let this_start = line_start;
        line_start += line.len();

        let trimmed = line.trim_start();
        if is_doc_line(trimmed) {
            doc_start.get_or_insert(this_start);
            continue;
        }
        if trimmed.trim_end().is_empty() {
            continue;
        }

        let starts_region = match leading_word(line) {
            Some(word) if is_item_keyword(word) => true,
            Some(_) => depth <= 0,
            None => false,
        };
        if starts_region && this_start != 0 {
            let start = doc_start.unwrap_or(this_start);
            if start > *boundaries.last().unwrap_or(&0) {
                boundaries.push(start);
            }
            depth = 0;
        }
        doc_start = None;
        depth += bracket_balance(line);
    }

    let mut acc = Vec::with_capacity(boundaries.len());
    for (i, &start) in boundaries.iter().enumerate() {
        let end = boundaries.get(i + 1).copied().unwrap_or(text.len());
        acc.push(Region { start, end });
    }
    acc
}

/// Whether `word` starts an item, and so a region when it is at column 0.
fn is_item_keyword(word: &str) -> bool {
    keywords::lookup(word).is_some_and(|it| it.classes.contains(&KeywordClass::Item))
}

/// `///` but not `////`, as in the grammar.
pub(crate) fn is_doc_line(trimmed: &str) -> bool {
    trimmed.starts_with("///") && !trimmed.starts_with("////")
}

/// The identifier-like word at column 0, if the line starts with one.
pub(crate) fn leading_word(line: &str) -> Option<&str> {
    let first = line.bytes().next()?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let len = line.bytes().position(|b| !(b.is_ascii_alphanumeric() || b == b'_')).unwrap_or(line.len());
    Some(&line[..len])
}

/// Opening minus closing brackets on one line, ignoring strings and comments.
///
/// Strings cannot span lines in etr, so the scan restarts clean on each line.
fn bracket_balance(line: &str) -> i64 {
    let mut balance = 0;
    let mut bytes = line.bytes().peekable();
    let mut in_string = false;
    while let Some(b) = bytes.next() {
        if in_string {
            match b {
                b'\\' => {
                    bytes.next();
                }
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'/' if bytes.peek() == Some(&b'/') => break,
            b'{' | b'(' | b'[' => balance += 1,
            b'}' | b')' | b']' => balance -= 1,
            _ => {}
        }
    }
    balance
}

/// Whether `text` holds nothing but whitespace and `//` comments.
///
/// Doc comments are not trivia: a `///` that documents nothing is reported.
pub(crate) fn is_trivia(text: &str) -> bool {
    lines::split_inclusive(text).all(|line| {
        let trimmed = line.trim();
        trimmed.is_empty() || (trimmed.starts_with("//") && !is_doc_line(trimmed))
    })
}

/// The deepest bracket nesting in `text`, with the offset of the bracket
/// that first exceeds `limit`.
///
/// pest parses brackets by recursion; checking the depth first turns a
/// pathological input into a clear error instead of a stack overflow.
pub(crate) fn first_too_deep_bracket(text: &str, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, b) in code_bytes(text) {
        match b {
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Some(offset);
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The offset of the `n`-th occurrence (1-based) of `word` as a whole word outside strings and
/// comments, if there are that many.
pub(crate) fn nth_keyword(text: &str, word: &str, n: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut seen = 0;
    for (offset, _) in code_bytes(text) {
        let whole = bytes[offset..].starts_with(word.as_bytes())
            && (offset == 0 || !is_ident(bytes[offset - 1]))
            && bytes.get(offset + word.len()).is_none_or(|&b| !is_ident(b));
        if whole {
            seen += 1;
            if seen == n {
                return Some(offset);
            }
        }
    }
    None
}

/// The bytes of `text` that are code: outside string literals and `//` comments (a string or a
/// comment ends at the end of its line, as the grammar says).
fn code_bytes(text: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    bytes.iter().enumerate().filter_map(move |(offset, &b)| {
        if lines::is_line_end(b) {
            in_string = false;
            in_comment = false;
            return None;
        }
        if in_comment {
            return None;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            return None;
        }
        match b {
            b'"' => {
                in_string = true;
                None
            }
            b'/' if bytes.get(offset + 1) == Some(&b'/') => {
                in_comment = true;
                None
            }
            _ => Some((offset, b)),
        }
    })
}
