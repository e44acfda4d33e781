//! Semantic tokens: a lexical pass for keywords, strings, numbers and comments, and the symbol
//! index for names, so that a column, a field, a let, a table and a rule each get their colour
//! even where the grammar alone cannot tell them apart.

use std::collections::HashMap;

use etr_syntax::lines;

use crate::db::IdeDatabase;
use crate::index::{DefKind, Target, file_index};
use crate::{FileId, FileTable, TextRange};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Keyword,
    Comment,
    String,
    Number,
    Column,
    Field,
    Let,
    Table,
    Rule,
    Function,
    Type,
    CodeMember,
    Module,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemanticToken {
    pub range: TextRange,
    pub kind: TokenKind,
    /// Set on the name of a declaration (the LSP `declaration` modifier).
    pub is_declaration: bool,
}

/// Words coloured as keywords: the reserved words and the item and setting words.
pub(crate) const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "true",
    "false",
    "if",
    "then",
    "else",
    "match",
    "check",
    "when",
    "require",
    "unique",
    "on",
    "reject",
    "fail",
    "contributor",
    "use",
    "source",
    "table",
    "map",
    "let",
    "rule",
    "override",
    "record",
    "code",
    "delimited",
    "quote",
    "none",
    "encoding",
    "header",
    "trailer",
    "columns",
    "to",
    "layout",
    "mostly",
    "above",
    "fatal",
    "warn",
    "info",
    "increasing",
    "decreasing",
    "strictly",
];

fn kind_of(target: &Target) -> TokenKind {
    match target {
        Target::Builtin(_) => TokenKind::Function,
        Target::Module(_) => TokenKind::Module,
        Target::Def { kind, .. } => match kind {
            DefKind::Column => TokenKind::Column,
            DefKind::Field | DefKind::HeaderField | DefKind::TrailerField => TokenKind::Field,
            DefKind::Let => TokenKind::Let,
            DefKind::Table => TokenKind::Table,
            DefKind::Rule => TokenKind::Rule,
            DefKind::Record | DefKind::Code | DefKind::Contributor => TokenKind::Type,
            DefKind::CodeMember => TokenKind::CodeMember,
        },
    }
}

pub(crate) fn semantic_tokens(db: &IdeDatabase, files: &FileTable, file: FileId) -> Vec<SemanticToken> {
    let Some(entry) = files.get(file) else { return Vec::new() };
    let text = entry.source.text(db);
    let index = file_index(db, entry.source);
    let names: HashMap<u32, (u32, TokenKind, bool)> =
        index.references.iter().map(|r| (r.span.start, (r.span.end, kind_of(&r.target), r.is_def))).collect();
    let bytes = text.as_bytes();
    let mut acc = Vec::new();
    let mut push = |start: usize, end: usize, kind: TokenKind, is_declaration: bool| {
        acc.push(SemanticToken { range: TextRange::new(start as u32, end as u32), kind, is_declaration });
    };
    let mut pos = 0;
    while pos < bytes.len() {
        let c = bytes[pos];
        let start = pos;
        if c == b'/' && bytes.get(pos + 1) == Some(&b'/') {
            // A comment ends where the parser ends it: before `\n`, `\r\n` or a lone `\r`.
            pos += lines::first_line_end(&text[pos..]);
            push(start, pos, TokenKind::Comment, false);
        } else if c == b'"' {
            // A resolved string (a code member) keeps its meaning's colour.
            let resolved = names.get(&(start as u32)).copied();
            pos += 1;
            // An unclosed string ends at the line end, as in the grammar.
            while pos < bytes.len() && bytes[pos] != b'"' && !lines::is_line_end(bytes[pos]) {
                // An escape takes the next byte, unless it ends the line: the grammar knows no
                // escaped line end, so the string stops there all the same.
                let escaped = bytes[pos] == b'\\' && bytes.get(pos + 1).is_some_and(|&b| !lines::is_line_end(b));
                pos += if escaped { 2 } else { 1 };
            }
            // The closing quote belongs to the string; the line end of an unclosed one does not.
            if bytes.get(pos) == Some(&b'"') {
                pos += 1;
            }
            pos = pos.min(bytes.len());
            match resolved {
                Some((_, kind, is_def)) => push(start, pos, kind, is_def),
                None => push(start, pos, TokenKind::String, false),
            }
        } else if c.is_ascii_digit()
            || (c == b'R' && bytes.get(pos + 1) == Some(&b'M') && bytes.get(pos + 2).is_some_and(u8::is_ascii_digit))
        {
            while pos < bytes.len()
                && (bytes[pos].is_ascii_alphanumeric()
                    || bytes[pos] == b'.' && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit))
            {
                pos += 1;
            }
            push(start, pos, TokenKind::Number, false);
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while pos < bytes.len() && (bytes[pos].is_ascii_alphanumeric() || bytes[pos] == b'_') {
                pos += 1;
            }
            let word = &text[start..pos];
            if let Some((end, kind, is_def)) =
                names.get(&(start as u32)).copied().filter(|(end, ..)| *end as usize == pos)
            {
                push(start, end as usize, kind, is_def);
            } else if let Some((end, TokenKind::Module, _)) = names.get(&(start as u32)).copied() {
                // A dotted module path is one reference over several words.
                pos = end as usize;
                push(start, pos, TokenKind::Module, false);
            } else if KEYWORDS.contains(&word) {
                push(start, pos, TokenKind::Keyword, false);
            }
        } else {
            // Skip one whole character (the text may hold non-ASCII in strings and comments).
            pos += text[pos..].chars().next().map_or(1, char::len_utf8);
        }
    }
    acc
}
