//! The token stream of a spec: every byte of the text in exactly one token, comments and
//! whitespace included, each token read as the grammar reads it.
//!
//! The parser does not use it (pest reads the text itself); it is for the tools that need the
//! text's tokens without a tree, on text that may not parse: the IDE's colouring, the item cut of
//! `split.rs`. Giving them one lexer here, next to the grammar, means there is one answer to
//! "is this a comment, a string, a keyword?", and its tests compare that answer with pest's at
//! every token of random and mangled specs.
//!
//! What the grammar says, and the lexer follows:
//! - `//` starts a comment, `///` a doc comment, `////` a comment again; a comment ends before
//!   the line end (`\n`, `\r\n` or a lone `\r`, see [`crate::lines`]);
//! - a string runs from `"` to the next unescaped `"` on the same line; one that reaches the line
//!   end, or holds an escape other than `\"`, `\\`, `\n`, `\t`, `\u{1-6 hex digits}`, is
//!   [`TokenKind::MalformedString`] (the grammar refuses it);
//! - numbers, money amounts and words end where no letter, digit or `_` follows (`12abc` is
//!   neither a number nor a name: an [`TokenKind::Error`]); `RM5` is money but `RM5x` a name;
//! - words in [`crate::keywords::KEYWORDS`] are keywords, even the contextual ones that the
//!   grammar also accepts as names;
//! - operators are read longest first (`..=`, `=>`, `==`, `->`, `!=`, `<=`, `>=`, `??`).
//!
//! There are no date literals: dates are strings given to `parse_date` or a `date("...")` type.
//! The lexer never fails and never panics; bytes no token starts with are [`TokenKind::Error`]
//! tokens of one character each.

use crate::ast::Span;
use crate::{keywords, lines};

/// One token: what it is and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A run of spaces, tabs and line ends, the grammar's `WHITESPACE`.
    Whitespace,
    /// `// ...` (and `//// ...`) up to the line end, which is not part of it.
    Comment,
    /// `/// ...` up to the line end: documents the item, field or member below it.
    DocComment,
    /// A word of the keyword table.
    Keyword,
    /// Any other word: a letter or `_`, then letters, digits and `_`.
    Ident,
    /// `12`, `1_000`.
    Int,
    /// `1.5`, `2e-3`: a fraction or an exponent.
    Decimal,
    /// `RM5`, `RM1_000.50`.
    Money,
    /// A well-formed string literal, quotes included.
    String,
    /// A string the grammar refuses: not closed on its line (it then ends before the line end),
    /// or holding an unknown escape.
    MalformedString,
    Punct(Punct),
    /// One character that starts no token (`@`, `!` alone, a non-ASCII letter outside strings and
    /// comments), or a number glued to letters (`12abc`).
    Error,
}

/// Operators and punctuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Punct {
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Dot,
    Pipe,
    Eq,
    FatArrow,
    ThinArrow,
    DotDotEq,
    EqEq,
    NotEq,
    LtEq,
    GtEq,
    Lt,
    Gt,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Coalesce,
}

/// The tokens of `text`, in order, covering it exactly. A text of 4 GiB or more (which
/// [`crate::parse_file`] refuses too) has no tokens, since spans are `u32`.
pub fn tokenize(text: &str) -> Tokens<'_> {
    let end = if u32::try_from(text.len()).is_ok() { text.len() } else { 0 };
    Tokens { text: &text[..end], pos: 0 }
}

/// The iterator returned by [`tokenize`].
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

impl TokenKind {
    /// Whitespace and `//` comments, which the grammar skips between any two tokens. A doc
    /// comment is not trivia: the grammar only accepts it where it documents something.
    pub fn is_trivia(self) -> bool {
        matches!(self, TokenKind::Whitespace | TokenKind::Comment)
    }
}

impl Punct {
    /// Longest first, so that the first match is the token.
    const ALL: [Punct; 26] = [
        Punct::DotDotEq,
        Punct::FatArrow,
        Punct::EqEq,
        Punct::ThinArrow,
        Punct::NotEq,
        Punct::LtEq,
        Punct::GtEq,
        Punct::Coalesce,
        Punct::LBrace,
        Punct::RBrace,
        Punct::LParen,
        Punct::RParen,
        Punct::LBracket,
        Punct::RBracket,
        Punct::Comma,
        Punct::Colon,
        Punct::Dot,
        Punct::Pipe,
        Punct::Eq,
        Punct::Lt,
        Punct::Gt,
        Punct::Plus,
        Punct::Minus,
        Punct::Star,
        Punct::Slash,
        Punct::Percent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Punct::LBrace => "{",
            Punct::RBrace => "}",
            Punct::LParen => "(",
            Punct::RParen => ")",
            Punct::LBracket => "[",
            Punct::RBracket => "]",
            Punct::Comma => ",",
            Punct::Colon => ":",
            Punct::Dot => ".",
            Punct::Pipe => "|",
            Punct::Eq => "=",
            Punct::FatArrow => "=>",
            Punct::ThinArrow => "->",
            Punct::DotDotEq => "..=",
            Punct::EqEq => "==",
            Punct::NotEq => "!=",
            Punct::LtEq => "<=",
            Punct::GtEq => ">=",
            Punct::Lt => "<",
            Punct::Gt => ">",
            Punct::Plus => "+",
            Punct::Minus => "-",
            Punct::Star => "*",
            Punct::Slash => "/",
            Punct::Percent => "%",
            Punct::Coalesce => "??",
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let rest = self.text.get(self.pos..).filter(|it| !it.is_empty())?;
        let (kind, len) = token(rest);
        let start = self.pos;
        self.pos += len;
        // Lossless: `tokenize` keeps texts under 4 GiB only.
        Some(Token { kind, span: Span { start: start as u32, end: self.pos as u32 } })
    }
}

impl std::iter::FusedIterator for Tokens<'_> {}

/// The grammar's `WHITESPACE`: a space, a tab, `\r` and `\n`, and nothing else (a form feed or a
/// no-break space is a character the grammar refuses).
pub(crate) fn is_grammar_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// `text` without the grammar's whitespace at its end (not `str::trim_end`, which trims Unicode's).
pub(crate) fn trim_grammar_whitespace_end(text: &str) -> &str {
    text.trim_end_matches(|c: char| c.is_ascii() && is_grammar_whitespace(c as u8))
}

/// The length of the string escape that follows a backslash (`after` starts after it), if the
/// grammar knows it: `"`, `\`, `n`, `t` or `u{` 1 to 6 hex digits `}`.
pub(crate) fn escape_len(after: &str) -> Option<usize> {
    if after.starts_with(['"', '\\', 'n', 't']) {
        return Some(1);
    }
    let body = after.strip_prefix("u{")?;
    let digits = body.bytes().take_while(u8::is_ascii_hexdigit).count();
    ((1..=6).contains(&digits) && body[digits..].starts_with('}')).then_some(2 + digits + 1)
}

/// The token at the start of `rest` (not empty): its kind and its length, at least one whole
/// character.
fn token(rest: &str) -> (TokenKind, usize) {
    let bytes = rest.as_bytes();
    match bytes[0] {
        b if is_grammar_whitespace(b) => {
            let len = bytes.iter().position(|&b| !is_grammar_whitespace(b)).unwrap_or(bytes.len());
            (TokenKind::Whitespace, len)
        }
        b'/' if bytes.get(1) == Some(&b'/') => {
            let is_doc = rest.starts_with("///") && !rest.starts_with("////");
            let kind = if is_doc { TokenKind::DocComment } else { TokenKind::Comment };
            (kind, lines::first_line_end(rest))
        }
        b'"' => string(rest),
        b'R' if bytes.get(1) == Some(&b'M') && bytes.get(2).is_some_and(u8::is_ascii_digit) => {
            money(bytes).map_or_else(|| word(rest), |len| (TokenKind::Money, len))
        }
        b'0'..=b'9' => number(bytes),
        b if b.is_ascii_alphabetic() || b == b'_' => word(rest),
        _ => match Punct::ALL.into_iter().find(|it| rest.starts_with(it.as_str())) {
            Some(punct) => (TokenKind::Punct(punct), punct.as_str().len()),
            None => (TokenKind::Error, rest.chars().next().map_or(1, char::len_utf8)),
        },
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn ident_run(bytes: &[u8]) -> usize {
    bytes.iter().position(|&b| !is_ident_byte(b)).unwrap_or(bytes.len())
}

fn digit_run(bytes: &[u8]) -> usize {
    bytes.iter().position(|b| !b.is_ascii_digit()).unwrap_or(bytes.len())
}

/// Whether a token of `len` bytes ends there as the grammar wants: no letter, digit or `_` next.
fn ends_word(bytes: &[u8], len: usize) -> bool {
    bytes.get(len).is_none_or(|&b| !is_ident_byte(b))
}

fn word(rest: &str) -> (TokenKind, usize) {
    let len = ident_run(rest.as_bytes());
    let kind = if keywords::lookup(&rest[..len]).is_some() { TokenKind::Keyword } else { TokenKind::Ident };
    (kind, len)
}

/// `RM` digit (digit | `_`)* (`.` digit+)?, then the end of the word (else it is a name).
fn money(bytes: &[u8]) -> Option<usize> {
    let mut len = 3 + bytes[3..].iter().position(|&b| !(b.is_ascii_digit() || b == b'_')).unwrap_or(bytes.len() - 3);
    if bytes.get(len) == Some(&b'.') {
        let fraction = digit_run(&bytes[len + 1..]);
        if fraction > 0 {
            len += 1 + fraction;
        }
    }
    ends_word(bytes, len).then_some(len)
}

/// A decimal (digits, then a fraction and maybe an exponent, or an exponent), else an integer
/// (a digit, then digits and `_`), else digits glued to a word: an error over the whole word.
fn number(bytes: &[u8]) -> (TokenKind, usize) {
    let digits = digit_run(bytes);
    let exponent = |at: usize| -> usize {
        if !matches!(bytes.get(at), Some(b'e' | b'E')) {
            return 0;
        }
        let sign = usize::from(matches!(bytes.get(at + 1), Some(b'+' | b'-')));
        let exponent_digits = digit_run(&bytes[(at + 1 + sign).min(bytes.len())..]);
        if exponent_digits == 0 { 0 } else { 1 + sign + exponent_digits }
    };
    let fraction = if bytes.get(digits) == Some(&b'.') { digit_run(&bytes[digits + 1..]) } else { 0 };
    let decimal = if fraction > 0 {
        let len = digits + 1 + fraction;
        Some(len + exponent(len))
    } else {
        Some(digits + exponent(digits)).filter(|&len| len > digits)
    };
    if let Some(len) = decimal.filter(|&len| ends_word(bytes, len)) {
        return (TokenKind::Decimal, len);
    }
    let int = bytes.iter().position(|&b| !(b.is_ascii_digit() || b == b'_')).unwrap_or(bytes.len());
    if ends_word(bytes, int) {
        return (TokenKind::Int, int);
    }
    (TokenKind::Error, ident_run(bytes))
}

/// A string literal: up to the closing quote, or up to the line end if it has none.
fn string(rest: &str) -> (TokenKind, usize) {
    let bytes = rest.as_bytes();
    let mut well_formed = true;
    let mut at = 1;
    loop {
        match bytes.get(at) {
            None => return (TokenKind::MalformedString, at),
            Some(&b) if lines::is_line_end(b) => return (TokenKind::MalformedString, at),
            Some(b'"') => {
                let kind = if well_formed { TokenKind::String } else { TokenKind::MalformedString };
                return (kind, at + 1);
            }
            Some(b'\\') => match escape_len(&rest[at + 1..]) {
                Some(len) => at += 1 + len,
                None => {
                    well_formed = false;
                    // The backslash, and the character after it unless that ends the line: the
                    // grammar knows no escaped line end, so the string stops there all the same.
                    at += 1;
                    if let Some(c) = rest[at..].chars().next().filter(|&c| c != '\n' && c != '\r') {
                        at += c.len_utf8();
                    }
                }
            },
            Some(_) => at += rest[at..].chars().next().map_or(1, char::len_utf8),
        }
    }
}

#[cfg(test)]
mod tests;
