//! Semantic tokens: the syntax crate's token stream for keywords, strings, numbers and comments,
//! and the symbol index for names, so that a column, a field, a let, a table and a rule each get
//! their colour even where the grammar alone cannot tell them apart.

use std::collections::HashMap;

use etr_syntax::ast::Span;
use etr_syntax::lexer::{self, TokenKind as LexKind};

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

/// Every keyword, for rename's check of a new name (the colouring reads the token stream).
pub(crate) const KEYWORDS: &[&str] = etr_syntax::keywords::WORDS;

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
    let mut acc = Vec::new();
    let mut push = |start: u32, end: u32, kind: TokenKind, is_declaration: bool| {
        acc.push(SemanticToken { range: TextRange::new(start, end), kind, is_declaration });
    };
    // The end of a dotted module path, which is one reference over several tokens.
    let mut covered_until = 0;
    for token in lexer::tokenize(text) {
        let Span { start, end } = token.span;
        if start < covered_until {
            continue;
        }
        match token.kind {
            LexKind::Comment | LexKind::DocComment => push(start, end, TokenKind::Comment, false),
            // A resolved string (a code member) keeps its meaning's colour.
            LexKind::String | LexKind::MalformedString => match names.get(&start).copied() {
                Some((_, kind, is_def)) => push(start, end, kind, is_def),
                None => push(start, end, TokenKind::String, false),
            },
            LexKind::Int | LexKind::Decimal | LexKind::Money => push(start, end, TokenKind::Number, false),
            LexKind::Ident | LexKind::Keyword => match names.get(&start).copied() {
                Some((name_end, kind, is_def)) if name_end == end => push(start, end, kind, is_def),
                Some((path_end, TokenKind::Module, _)) => {
                    covered_until = path_end;
                    push(start, path_end, TokenKind::Module, false);
                }
                _ if token.kind == LexKind::Keyword => push(start, end, TokenKind::Keyword, false),
                _ => {}
            },
            LexKind::Whitespace | LexKind::Punct(_) | LexKind::Error => {}
        }
    }
    acc
}
