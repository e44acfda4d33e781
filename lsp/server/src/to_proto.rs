//! Conversions from the IDE's answers (byte offsets, plain structs) to protocol types.
//!
//! This module and `server.rs` are the only places that know the protocol's shapes; the IDE
//! facade never sees them.

use std::collections::HashMap;

use etr_ide::{CompletionKind, SymbolKind, TokenKind};
use tower_lsp_server::ls_types as lsp;

use crate::line_index::LineIndex;

pub fn severity(severity: etr_ide::Severity) -> lsp::DiagnosticSeverity {
    match severity {
        etr_ide::Severity::Error => lsp::DiagnosticSeverity::ERROR,
        etr_ide::Severity::Warning => lsp::DiagnosticSeverity::WARNING,
    }
}

/// A diagnostic; `locate` turns a related location's file into a URI and its text's index.
pub fn diagnostic(
    index: &LineIndex<'_>,
    d: &etr_ide::Diagnostic,
    locate: &dyn Fn(etr_ide::FileRange) -> Option<lsp::Location>,
) -> lsp::Diagnostic {
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            Some(lsp::DiagnosticRelatedInformation { location: locate(r.location)?, message: r.message.clone() })
        })
        .collect();
    lsp::Diagnostic {
        range: index.range(d.range),
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String(d.code.clone())),
        source: Some("etr".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

pub fn completion_kind(kind: CompletionKind) -> lsp::CompletionItemKind {
    match kind {
        CompletionKind::Column => lsp::CompletionItemKind::VARIABLE,
        CompletionKind::Field => lsp::CompletionItemKind::FIELD,
        CompletionKind::Let => lsp::CompletionItemKind::VARIABLE,
        CompletionKind::Function => lsp::CompletionItemKind::FUNCTION,
        CompletionKind::Table => lsp::CompletionItemKind::STRUCT,
        CompletionKind::TableKey => lsp::CompletionItemKind::VALUE,
        CompletionKind::CodeMember => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Rule => lsp::CompletionItemKind::EVENT,
        CompletionKind::Keyword => lsp::CompletionItemKind::KEYWORD,
        CompletionKind::Snippet => lsp::CompletionItemKind::SNIPPET,
    }
}

pub fn completion(index: &LineIndex<'_>, item: &etr_ide::CompletionItem) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: item.label.clone(),
        kind: Some(completion_kind(item.kind)),
        detail: item.detail.clone(),
        documentation: item.documentation.clone().map(|doc| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent { kind: lsp::MarkupKind::Markdown, value: doc })
        }),
        insert_text_format: Some(if item.is_snippet {
            lsp::InsertTextFormat::SNIPPET
        } else {
            lsp::InsertTextFormat::PLAIN_TEXT
        }),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
            range: index.range(item.replace),
            new_text: item.insert_text.clone(),
        })),
        ..Default::default()
    }
}

pub fn symbol_kind(kind: SymbolKind) -> lsp::SymbolKind {
    match kind {
        SymbolKind::Contributor => lsp::SymbolKind::OBJECT,
        SymbolKind::Module => lsp::SymbolKind::MODULE,
        SymbolKind::Source => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Table => lsp::SymbolKind::STRUCT,
        SymbolKind::Map => lsp::SymbolKind::FUNCTION,
        SymbolKind::Let => lsp::SymbolKind::VARIABLE,
        SymbolKind::Rule => lsp::SymbolKind::EVENT,
        SymbolKind::Override => lsp::SymbolKind::EVENT,
        SymbolKind::Record => lsp::SymbolKind::CLASS,
        SymbolKind::Code => lsp::SymbolKind::ENUM,
        SymbolKind::Field => lsp::SymbolKind::FIELD,
        SymbolKind::Column => lsp::SymbolKind::VARIABLE,
        SymbolKind::CodeMember => lsp::SymbolKind::ENUM_MEMBER,
        SymbolKind::TableEntry => lsp::SymbolKind::KEY,
    }
}

#[allow(deprecated, reason = "DocumentSymbol::deprecated must still be set; the protocol keeps the field")]
pub fn document_symbol(index: &LineIndex<'_>, symbol: &etr_ide::DocumentSymbol) -> lsp::DocumentSymbol {
    let children: Vec<lsp::DocumentSymbol> = symbol.children.iter().map(|c| document_symbol(index, c)).collect();
    lsp::DocumentSymbol {
        name: if symbol.name.is_empty() { "?".into() } else { symbol.name.clone() },
        detail: symbol.detail.clone(),
        kind: symbol_kind(symbol.kind),
        tags: None,
        deprecated: None,
        range: index.range(symbol.full_range),
        selection_range: index.range(symbol.focus_range),
        children: (!children.is_empty()).then_some(children),
    }
}

/// The token types of the legend, in the order `token_type` indexes them.
pub const TOKEN_TYPES: &[lsp::SemanticTokenType] = &[
    lsp::SemanticTokenType::KEYWORD,
    lsp::SemanticTokenType::COMMENT,
    lsp::SemanticTokenType::STRING,
    lsp::SemanticTokenType::NUMBER,
    lsp::SemanticTokenType::PARAMETER,
    lsp::SemanticTokenType::PROPERTY,
    lsp::SemanticTokenType::VARIABLE,
    lsp::SemanticTokenType::STRUCT,
    lsp::SemanticTokenType::EVENT,
    lsp::SemanticTokenType::FUNCTION,
    lsp::SemanticTokenType::TYPE,
    lsp::SemanticTokenType::ENUM_MEMBER,
    lsp::SemanticTokenType::NAMESPACE,
];

pub const TOKEN_MODIFIERS: &[lsp::SemanticTokenModifier] = &[lsp::SemanticTokenModifier::DECLARATION];

fn token_type(kind: TokenKind) -> u32 {
    // Columns are the mapping's inputs, hence parameters; rules fire, hence events.
    match kind {
        TokenKind::Keyword => 0,
        TokenKind::Comment => 1,
        TokenKind::String => 2,
        TokenKind::Number => 3,
        TokenKind::Column => 4,
        TokenKind::Field => 5,
        TokenKind::Let => 6,
        TokenKind::Table => 7,
        TokenKind::Rule => 8,
        TokenKind::Function => 9,
        TokenKind::Type => 10,
        TokenKind::CodeMember => 11,
        TokenKind::Module => 12,
    }
}

/// Tokens in the protocol's relative encoding (each token's line and column from the previous).
pub fn semantic_tokens(index: &LineIndex<'_>, tokens: &[etr_ide::SemanticToken]) -> Vec<lsp::SemanticToken> {
    let mut acc = Vec::with_capacity(tokens.len());
    let (mut previous_line, mut previous_start) = (0, 0);
    for token in tokens {
        let start = index.position(token.range.start);
        let end = index.position(token.range.end);
        // Tokens never span lines in etr (comments and strings end at the line's end).
        if end.line != start.line {
            continue;
        }
        let delta_line = start.line - previous_line;
        let delta_start = if delta_line == 0 { start.character - previous_start } else { start.character };
        acc.push(lsp::SemanticToken {
            delta_line,
            delta_start,
            length: index.utf16_len(token.range),
            token_type: token_type(token.kind),
            token_modifiers_bitset: u32::from(token.is_declaration),
        });
        (previous_line, previous_start) = (start.line, start.character);
    }
    acc
}

pub fn inlay_hint(index: &LineIndex<'_>, hint: &etr_ide::InlayHint) -> lsp::InlayHint {
    lsp::InlayHint {
        position: index.position(hint.offset),
        label: lsp::InlayHintLabel::String(hint.label.clone()),
        kind: Some(lsp::InlayHintKind::TYPE),
        text_edits: None,
        tooltip: None,
        padding_left: None,
        padding_right: None,
        data: None,
    }
}

/// A workspace edit; `texts` gives each touched file's URI and text (for the positions).
pub fn workspace_edit(
    change: &etr_ide::SourceChange,
    locate: &dyn Fn(etr_ide::FileId) -> Option<(lsp::Uri, std::sync::Arc<str>)>,
) -> lsp::WorkspaceEdit {
    let mut changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
    for (file, edits) in &change.edits {
        let Some((uri, text)) = locate(*file) else { continue };
        let index = LineIndex::new(&text);
        let edits =
            edits.iter().map(|e| lsp::TextEdit { range: index.range(e.range), new_text: e.new_text.clone() }).collect();
        changes.insert(uri, edits);
    }
    lsp::WorkspaceEdit { changes: Some(changes), ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantic_tokens_of_a_long_line_and_after_lone_crs() {
        // 20,000 tokens `✓x` on one line, then a token on each of two lines ended by a lone CR.
        let line = "✓x ".repeat(20_000);
        let text = format!("{line}\rab\rcd");
        let token = |start: usize, end: usize| etr_ide::SemanticToken {
            range: etr_ide::TextRange::new(start as u32, end as u32),
            kind: TokenKind::Keyword,
            is_declaration: false,
        };
        let mut tokens: Vec<etr_ide::SemanticToken> =
            line.match_indices('x').map(|(i, _)| token(i - "✓".len(), i + 1)).collect();
        let ab = text.find("ab").unwrap();
        let cd = text.find("cd").unwrap();
        tokens.push(token(ab, ab + 2));
        tokens.push(token(cd, cd + 2));
        let encoded = semantic_tokens(&LineIndex::new(&text), &tokens);
        assert_eq!(encoded.len(), 20_002);
        // Each `✓x` is 2 UTF-16 units, and 3 units after the previous one on the line.
        assert_eq!((encoded[0].delta_line, encoded[0].delta_start, encoded[0].length), (0, 0, 2));
        assert!(encoded[1..20_000].iter().all(|t| (t.delta_line, t.delta_start, t.length) == (0, 3, 2)));
        assert_eq!((encoded[20_000].delta_line, encoded[20_000].delta_start), (1, 0));
        assert_eq!((encoded[20_001].delta_line, encoded[20_001].delta_start), (1, 0));
    }
}
