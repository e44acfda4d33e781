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
//! Lines end at `\n`, `\r\n` or a lone `\r`, as in the grammar (`etr_syntax::lines`).

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

    /// Prints the token `expected`, which must come next in the source (after trivia).
    pub(crate) fn token(&mut self, expected: &str) -> Result<Doc, InternalError> {
        self.token_as(expected, expected)
    }

    /// Like [`Cursor::token`], but prints `printed` for the source text `expected`.
    pub(crate) fn token_as(&mut self, expected: &str, printed: &str) -> Result<Doc, InternalError> {
        let leading = self.leading(Gap::Inline);
        if !self.text[self.pos..].starts_with(expected) {
            return Err(self.mismatch(&format!("`{expected}`")));
        }
        self.pos += expected.len();
        Ok(self.finish_token(leading, printed))
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

    /// Prints the next run of characters allowed by `is_part` (a number, a severity word).
    pub(crate) fn run_of(&mut self, is_part: impl Fn(char) -> bool) -> Result<Doc, InternalError> {
        let leading = self.leading(Gap::Inline);
        let rest = &self.text[self.pos..];
        let len = rest.find(|c: char| !is_part(c)).unwrap_or(rest.len());
        if len == 0 {
            return Err(self.mismatch("a word or a number"));
        }
        self.pos += len;
        Ok(self.finish_token(leading, &rest[..len]))
    }

    /// Prints the rest of the current source line as one token (a `///` doc line), without its
    /// trailing whitespace.
    pub(crate) fn rest_of_line(&mut self) -> Result<Doc, InternalError> {
        let leading = self.leading(Gap::Inline);
        let rest = &self.text[self.pos..];
        if !rest.starts_with("///") {
            return Err(self.mismatch("a `///` doc line"));
        }
        let len = lines::first_line_end(rest);
        self.pos += len;
        Ok(Doc::Concat(vec![leading, Doc::text(rest[..len].trim_end())]))
    }

    /// Consumes `expected` if it comes next (an optional comma), returning the comments around
    /// it; prints nothing and consumes nothing otherwise.
    pub(crate) fn optional(&mut self, expected: &str) -> Doc {
        let saved = self.pos;
        let _ = self.skip_trivia();
        let present = self.text[self.pos..].starts_with(expected);
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

    fn finish_token(&mut self, leading: Doc, printed: &str) -> Doc {
        let trailing = self.trailing_comment();
        Doc::Concat(vec![leading, Doc::text(printed), trailing])
    }

    /// A comment after the token just printed, on the same line: kept at the end of that line.
    fn trailing_comment(&mut self) -> Doc {
        let rest = &self.text[self.pos..];
        let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let after_gap = &rest[gap..];
        match comment_len(after_gap) {
            Some(len) => {
                self.pos += gap + len;
                Doc::Concat(vec![Doc::LineSuffix(format!(" {}", after_gap[..len].trim_end())), Doc::BreakParent])
            }
            None => Doc::Concat(Vec::new()),
        }
    }

    /// Skips whitespace and comments up to the next token; returns the comments and whether a
    /// blank line separates the last of them (or the previous token) from the token.
    fn skip_trivia(&mut self) -> (Vec<Skipped<'a>>, bool) {
        let mut acc = Vec::new();
        loop {
            let rest = &self.text[self.pos..];
            let trimmed = rest.trim_start();
            let blank_line = lines::count_line_ends(&rest[..rest.len() - trimmed.len()]) >= 2;
            self.pos += rest.len() - trimmed.len();
            match comment_len(trimmed) {
                Some(len) => {
                    acc.push(Skipped { text: trimmed[..len].trim_end(), blank_line_before: blank_line });
                    self.pos += len;
                }
                None => return (acc, blank_line),
            }
        }
    }

    fn mismatch(&self, expected: &str) -> InternalError {
        let found: String = self.text[self.pos..].chars().take(20).collect();
        InternalError { offset: self.pos, message: format!("expected {expected}, found {found:?}") }
    }
}

/// The length of the `//` comment at the start of `text` (up to the end of the line), if there
/// is one. `///` starts a doc line, which is a token, but `////` is a comment again.
pub(crate) fn comment_len(text: &str) -> Option<usize> {
    let is_doc_line = text.starts_with("///") && !text.starts_with("////");
    let is_comment = text.starts_with("//") && !is_doc_line;
    is_comment.then(|| lines::first_line_end(text))
}
