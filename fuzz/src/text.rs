//! Spec text as tokens, for mutating and minimising specs by token and for finding their
//! comments.
//!
//! The tokens are `etr_syntax`'s token stream (`etr_syntax::lexer::tokenize`), the one reading of
//! spec text, which its own tests hold to the grammar: a comment runs from `//` to the end of its
//! line, a string from `"` to the next unescaped `"` on the same line, `\n`, `\r\n` and a lone
//! `\r` each end a line, and only a space, a tab and the line ends are whitespace. So a fuzzer
//! cannot call the formatter's output a lost comment because it read comments differently.

use std::ops::Range;

use etr_syntax::lexer::TokenKind;

/// One token of a text: what it is and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub kind: TokenKind,
    pub range: Range<usize>,
}

impl Piece {
    /// Whether the token is a comment or a doc comment.
    pub fn is_comment(&self) -> bool {
        matches!(self.kind, TokenKind::Comment | TokenKind::DocComment)
    }

    /// Whether the token is a string literal, closed or not.
    pub fn is_string(&self) -> bool {
        matches!(self.kind, TokenKind::String | TokenKind::MalformedString)
    }

    /// Whether the token is a word: a name, a keyword, an integer or a money amount.
    pub fn is_word(&self) -> bool {
        matches!(self.kind, TokenKind::Ident | TokenKind::Keyword | TokenKind::Int | TokenKind::Money)
    }
}

/// The tokens of `text`, covering it exactly, in order (none for a text of 4 GiB or more, which
/// the mutations never grow to).
pub fn tokens(text: &str) -> Vec<Piece> {
    etr_syntax::lexer::tokenize(text)
        .map(|it| Piece { kind: it.kind, range: it.span.start as usize..it.span.end as usize })
        .collect()
}

/// The comments of a text (doc comments included), each without trailing blanks, sorted: `etr
/// fmt` must keep every one of them.
pub fn comments(text: &str) -> Vec<String> {
    let mut found: Vec<String> =
        tokens(text).into_iter().filter(Piece::is_comment).map(|it| text[it.range].trim_end().to_string()).collect();
    found.sort();
    found
}

/// The largest char boundary at or before `offset` (clamped to the text).
pub fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        tokens(text).into_iter().map(|it| &text[it.range]).collect()
    }

    #[test]
    fn tokens_cover_the_text() {
        let text = "let x = \"a \\\" // b\" // c ✓\nrule R1 é(1)";
        let pieces = pieces(text);
        assert_eq!(pieces.concat(), text);
        assert!(pieces.contains(&"\"a \\\" // b\""));
        assert!(pieces.contains(&"// c ✓"));
        assert_eq!(comments(text), vec!["// c ✓".to_string()]);
    }

    #[test]
    fn an_unterminated_string_stops_at_the_line_end() {
        assert_eq!(pieces("\"abc\nx"), vec!["\"abc", "\n", "x"]);
    }

    /// The grammar ends a line, a comment and an unterminated string at a lone CR too; an oracle
    /// that did not saw `//\r}` as one comment and called the formatter's output a lost comment.
    #[test]
    fn a_lone_cr_ends_a_comment_and_a_string() {
        let text = "rule Q warn\"\"{//\r}\"ab\rc";
        let pieces = pieces(text);
        assert_eq!(pieces.concat(), text);
        assert!(pieces.contains(&"//") && pieces.contains(&"\"ab"), "{pieces:?}");
        assert_eq!(comments(text), vec!["//".to_string()]);
    }

    /// Only the grammar's whitespace is blank: a form feed or a no-break space is a token of its
    /// own, which the mutations may delete, move or duplicate like any other.
    #[test]
    fn only_the_grammars_whitespace_is_blank() {
        assert_eq!(pieces("a \u{c}\u{a0}\t b"), ["a", " ", "\u{c}", "\u{a0}", "\t ", "b"]);
        let kinds: Vec<TokenKind> = tokens("\u{c} x").into_iter().map(|it| it.kind).collect();
        assert_eq!(kinds, [TokenKind::Error, TokenKind::Whitespace, TokenKind::Ident]);
    }

    #[test]
    fn floors_to_a_char_boundary() {
        assert_eq!(floor_boundary("é", 1), 0);
        assert_eq!(floor_boundary("é", 9), 2);
    }
}
