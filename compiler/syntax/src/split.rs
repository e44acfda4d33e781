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
use crate::lexer::{self, Punct, TokenKind};
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

        // Blank lines and indentation in the grammar's terms: a form feed or a no-break space is
        // not whitespace but a character the grammar refuses, so its line is neither blank nor
        // a doc line, and it cuts a doc comment from the item below, like any other text.
        match lexer::tokenize(line).find(|it| it.kind != TokenKind::Whitespace).map(|it| it.kind) {
            Some(TokenKind::DocComment) => {
                doc_start.get_or_insert(this_start);
                continue;
            }
            None => continue,
            Some(_) => {}
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

/// Whether `text` starts with a `///` doc comment (`////` is a plain comment), as the token
/// stream reads it.
pub(crate) fn is_doc_line(text: &str) -> bool {
    lexer::tokenize(text).next().is_some_and(|it| it.kind == TokenKind::DocComment)
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
/// Strings cannot span lines in etr, so the count restarts clean on each line.
fn bracket_balance(line: &str) -> i64 {
    lexer::tokenize(line).map(|it| bracket_step(it.kind)).sum()
}

/// `1` for an opening bracket, `-1` for a closing one, `0` for any other token (brackets in
/// strings and comments are inside those tokens).
fn bracket_step(kind: TokenKind) -> i64 {
    match kind {
        TokenKind::Punct(Punct::LBrace | Punct::LParen | Punct::LBracket) => 1,
        TokenKind::Punct(Punct::RBrace | Punct::RParen | Punct::RBracket) => -1,
        _ => 0,
    }
}

/// Whether `text` holds nothing but whitespace and `//` comments, as the grammar skips them.
///
/// Doc comments are not trivia: a `///` that documents nothing is reported. Nor is any other
/// Unicode whitespace (a form feed, a no-break space): the grammar refuses it, so a region made
/// of it is parsed, and reported, like any other.
pub(crate) fn is_trivia(text: &str) -> bool {
    lexer::tokenize(text).all(|it| it.kind.is_trivia())
}

/// The deepest bracket nesting in `text`, with the offset of the bracket
/// that first exceeds `limit`.
///
/// pest parses brackets by recursion; checking the depth first turns a
/// pathological input into a clear error instead of a stack overflow.
pub(crate) fn first_too_deep_bracket(text: &str, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for token in lexer::tokenize(text) {
        match bracket_step(token.kind) {
            1 => {
                depth += 1;
                if depth > limit {
                    return Some(token.span.start as usize);
                }
            }
            -1 => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The offset of the `n`-th occurrence (1-based) of the keyword `word` outside strings and
/// comments, if there are that many.
pub(crate) fn nth_keyword(text: &str, word: &str, n: usize) -> Option<usize> {
    lexer::tokenize(text)
        .filter(|it| it.kind == TokenKind::Keyword && &text[it.span.start as usize..it.span.end as usize] == word)
        .nth(n.checked_sub(1)?)
        .map(|it| it.span.start as usize)
}
