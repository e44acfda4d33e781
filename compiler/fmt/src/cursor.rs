//! Walking the source text token by token, in step with the printer, to find the comments.
//!
//! The grammar's `COMMENT` is silent, so the syntax tree has no comments. Instead of attaching
//! them to nodes up front, the printer asks this cursor for every token it prints, in source
//! order; the cursor skips the whitespace and `//` comments before the token, checks that the
//! token really is next in the source, and hands back the comments it skipped as layout. So a
//! comment comes out exactly between the two tokens it was written between, and a printer bug
//! that would drop or reorder a token is reported as an [`InternalError`] instead of producing
//! wrong output.
//!
//! A comment that follows a token on the same line is a *trailing* comment: it is taken right
//! after that token (before the printer emits any separator) and stays at the end of its line.
//! Every other comment is an *own-line* comment and gets a line to itself before the next token.
//!
//! What a token, a comment, a doc line or whitespace is, the cursor does not decide: it reads the
//! text with `etr_syntax`'s token stream (`etr_syntax::lexer`), which is tested against the
//! grammar, from its position on. So it skips exactly what the grammar skips (a form feed is not
//! whitespace, `////` is a comment, `///` a doc line), and a comment ends where the grammar ends it
//! (at `\n`, `\r\n` or a lone `\r`, `etr_syntax::lines`). The position is always between two
//! tokens of that stream, where reading can start afresh.

use etr_syntax::lexer::{self, TokenKind};
use etr_syntax::lines;

use crate::doc::Doc;

/// The printer and the source disagree: a bug in the formatter, never a problem of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalError {
    /// Byte offset in the input where the disagreement was found.
    pub offset: usize,
    pub message: String,
}

/// How the comments before a token are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gap {
    /// Inside a statement or an expression: blank lines are dropped.
    Inline,
    /// Before a member of a block or a top-level item: one blank line of the source is kept
    /// (several collapse to one), except before the first thing of the block.
    Member { first: bool },
}

pub(crate) struct Cursor<'a> {
    text: &'a str,
    /// Everything before this offset has been printed (or deliberately dropped, like whitespace).
    pos: usize,
}

/// One own-line comment found while skipping trivia.
struct Skipped<'a> {
    text: &'a str,
    blank_line_before: bool,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Cursor<'a> {
        Cursor { text, pos: 0 }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// The comments before the next token, laid out for `gap`, with the cursor left on the token.
    pub(crate) fn leading(&mut self, gap: Gap) -> Doc {
        let (skipped, blank_before_token) = self.skip_trivia();
        let mut acc = Vec::new();
        let mut first = matches!(gap, Gap::Member { first: true });
        // Between two tokens of one statement or item header, the comment's line and the line of
        // the token after it continue the item: never at column 0 (see `Doc::ContinuationLine`).
        let line = if gap == Gap::Inline { Doc::ContinuationLine } else { Doc::EnsureLine };
        for comment in skipped {
            if matches!(gap, Gap::Member { .. }) && comment.blank_line_before && !first {
                acc.push(Doc::BlankLine);
            }
            acc.extend([line.clone(), Doc::text(comment.text), line.clone()]);
            first = false;
        }
        if matches!(gap, Gap::Member { .. }) && blank_before_token && !first && self.pos < self.text.len() {
            acc.push(Doc::BlankLine);
        }
        Doc::Concat(acc)
    }

    /// Prints the token `expected`, which must be the next token of the source (after trivia),
    /// whole: `none` is not the start of `nonempty`.
    pub(crate) fn token(&mut self, expected: &str) -> Result<Doc, InternalError> {
        let leading = self.leading(Gap::Inline);
        if self.peek().is_none_or(|(_, text)| text != expected) {
            return Err(self.mismatch(&format!("`{expected}`")));
        }
        self.pos += expected.len();
        Ok(self.finish_token(leading, expected))
    }

    /// Prints the source text of `start..end` as one token, which must come next.
    pub(crate) fn span(&mut self, start: u32, end: u32) -> Result<Doc, InternalError> {
        let leading = self.leading(Gap::Inline);
        let (start, end) = (start as usize, end as usize);
        if self.pos != start || end > self.text.len() || start > end {
            return Err(self.mismatch(&format!("the token at {start}..{end}")));
        }
        let printed = &self.text[start..end];
        self.pos = end;
        Ok(self.finish_token(leading, printed))
    }

    /// Prints the next token, which must be of a kind `is_kind` accepts (the severity word and
    /// the number of a zone, which the tree does not locate); `what` names it in the error.
    pub(crate) fn token_of_kind(
        &mut self,
        what: &str,
        is_kind: impl Fn(TokenKind) -> bool,
    ) -> Result<Doc, InternalError> {
        let leading = self.leading(Gap::Inline);
        let Some((_, printed)) = self.peek().filter(|(kind, _)| is_kind(*kind)) else {
            return Err(self.mismatch(what));
        };
        self.pos += printed.len();
        Ok(self.finish_token(leading, printed))
    }

    /// Prints the next token, a `///` doc line, without its trailing whitespace.
    pub(crate) fn doc_line(&mut self) -> Result<Doc, InternalError> {
        let leading = self.leading(Gap::Inline);
        let Some((TokenKind::DocComment, line)) = self.peek() else {
            return Err(self.mismatch("a `///` doc line"));
        };
        self.pos += line.len();
        Ok(Doc::Concat(vec![leading, Doc::text(line.trim_end())]))
    }

    /// Consumes `expected` if it comes next (an optional comma), returning the comments around
    /// it; prints nothing and consumes nothing otherwise.
    pub(crate) fn optional(&mut self, expected: &str) -> Doc {
        let saved = self.pos;
        let _ = self.skip_trivia();
        let present = self.peek().is_some_and(|(_, text)| text == expected);
        self.pos = saved;
        if !present {
            return Doc::Concat(Vec::new());
        }
        let leading = self.leading(Gap::Inline);
        self.pos += expected.len();
        let trailing = self.trailing_comment();
        Doc::Concat(vec![leading, trailing])
    }

    /// Whether a comment comes before the next token.
    pub(crate) fn comments_ahead(&self) -> bool {
        let mut probe = Cursor { text: self.text, pos: self.pos };
        !probe.skip_trivia().0.is_empty()
    }

    /// The offset of the next token, after trivia.
    pub(crate) fn next_token_offset(&self) -> usize {
        let mut probe = Cursor { text: self.text, pos: self.pos };
        let _ = probe.skip_trivia();
        probe.pos
    }

    /// Fails unless only trivia is left; the trivia itself is taken with [`Cursor::leading`].
    pub(crate) fn expect_end(&self) -> Result<(), InternalError> {
        if self.next_token_offset() == self.text.len() { Ok(()) } else { Err(self.mismatch("the end of the file")) }
    }

    /// The token of the stream that starts at the cursor, with its text; `None` at the end.
    fn peek(&self) -> Option<(TokenKind, &'a str)> {
        let rest = &self.text[self.pos..];
        lexer::tokenize(rest).next().map(|it| (it.kind, &rest[..it.span.end as usize]))
    }

    fn finish_token(&mut self, leading: Doc, printed: &str) -> Doc {
        let trailing = self.trailing_comment();
        Doc::Concat(vec![leading, Doc::text(printed), trailing])
    }

    /// A comment after the token just printed, on the same line: kept at the end of that line.
    fn trailing_comment(&mut self) -> Doc {
        let mut probe = Cursor { text: self.text, pos: self.pos };
        if let Some((TokenKind::Whitespace, gap)) = probe.peek()
            && lines::first_line_end(gap) == gap.len()
        {
            probe.pos += gap.len();
        }
        match probe.peek() {
            Some((TokenKind::Comment, comment)) => {
                self.pos = probe.pos + comment.len();
                Doc::Concat(vec![Doc::LineSuffix(format!(" {}", comment.trim_end())), Doc::BreakParent])
            }
            _ => Doc::Concat(Vec::new()),
        }
    }

    /// Skips whitespace and comments up to the next token; returns the comments and whether a
    /// blank line separates the last of them (or the previous token) from the token.
    fn skip_trivia(&mut self) -> (Vec<Skipped<'a>>, bool) {
        let mut acc = Vec::new();
        let mut blank_line = false;
        while let Some((kind, text)) = self.peek() {
            match kind {
                TokenKind::Whitespace => blank_line = is_blank_line_run(text),
                // Trailing blanks of a comment are layout, not part of what it says.
                TokenKind::Comment => {
                    acc.push(Skipped { text: text.trim_end(), blank_line_before: blank_line });
                    blank_line = false;
                }
                _ => break,
            }
            self.pos += text.len();
        }
        (acc, blank_line)
    }

    fn mismatch(&self, expected: &str) -> InternalError {
        let found: String = self.text[self.pos..].chars().take(20).collect();
        InternalError { offset: self.pos, message: format!("expected {expected}, found {found:?}") }
    }
}

/// Whether `gap` (the trivia between two members) holds an empty line.
pub(crate) fn has_blank_line(gap: &str) -> bool {
    lexer::tokenize(gap).any(|it| {
        it.kind == TokenKind::Whitespace && is_blank_line_run(&gap[it.span.start as usize..it.span.end as usize])
    })
}

/// Whether a whitespace token holds an empty line: two line ends (comments and other tokens end
/// before a line end, so a line with nothing else on it is inside one whitespace token).
fn is_blank_line_run(whitespace: &str) -> bool {
    lines::count_line_ends(whitespace) >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the grammar's whitespace and `//` comments are skipped: a form feed or a no-break
    /// space is a token (one the parser refuses, so the printer never asks for it), `///` is a
    /// doc line, `////` a comment, and each line end ends a comment.
    #[test]
    fn trivia_is_what_the_grammar_skips() {
        let next = |text: &str| Cursor::new(text).next_token_offset();
        assert_eq!(next(" \t\r\n// a\r// b\r\n\n  x"), 18);
        assert_eq!(next("//// c\n/// d\nx"), 7);
        assert_eq!(next("\u{c}x"), 0);
        assert_eq!(next("\u{a0}// c\nx"), 0);
        assert!(!Cursor::new("\u{a0}// c\nx").comments_ahead());
        assert!(Cursor::new("x").expect_end().is_err());
        assert!(Cursor::new(" // c\r\n").expect_end().is_ok());
        assert!(Cursor::new("\u{c}x").token("x").is_err());
    }

    /// A token is the whole token of the stream, not a prefix of it.
    #[test]
    fn a_token_is_matched_whole() {
        assert!(Cursor::new("none x").token("none").is_ok());
        assert!(Cursor::new("nonex").token("none").is_err());
        assert!(Cursor::new("<= b").token("<").is_err());
        assert!(Cursor::new("1..=2").token("1").is_ok());
    }

    /// An empty line is one with nothing but the grammar's whitespace on it.
    #[test]
    fn blank_lines_are_lines_of_whitespace() {
        assert!(has_blank_line("\n\n"));
        assert!(has_blank_line(" // c\n \t\n  "));
        assert!(has_blank_line("\r\n\r\n"));
        assert!(has_blank_line("\r\r"));
        assert!(!has_blank_line("\r\n"));
        assert!(!has_blank_line("\n// c\n// d\n"));
        assert!(!has_blank_line("\n\u{c}\n"));
    }
}
