//! The lexer against pest: at every token of real, random and mangled specs, pest's own rules
//! (run from the token's start) must read the same kind of token with the same length; and the
//! tokens must cover any text exactly, in order.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use expect_test::{Expect, expect};
use pest::Parser as _;
use proptest::prelude::*;

use super::{Punct, Token, TokenKind, tokenize};
use crate::grammar_text::{GRAMMAR, is_word, literals, rules};
use crate::keywords::{self, Reservation};

const JCL: &str = include_str!("../../../../contributors/jcl.etr");
const RECORD: &str = include_str!("../../../../stdlib/etr/record.etr");
const CODES: &str = include_str!("../../../../stdlib/etr/codes.etr");
const STANDARD: &str = include_str!("../../../../stdlib/etr/rules/standard.etr");

/// The grammar itself, plus a rule that makes its silent `COMMENT` callable on its own.
mod probe {
    #[derive(pest_derive::Parser)]
    #[grammar = "etr.pest"]
    #[grammar_inline = "comment_probe = @{ COMMENT }"]
    pub(super) struct ProbeParser;
}

use probe::{ProbeParser, Rule};

/// The rules that read one punctuation token.
const PUNCT_RULES: &[Rule] = &[
    Rule::lbrace,
    Rule::rbrace,
    Rule::lparen,
    Rule::rparen,
    Rule::lbracket,
    Rule::rbracket,
    Rule::comma,
    Rule::colon,
    Rule::dot,
    Rule::pipe,
    Rule::eq,
    Rule::fat_arrow,
    Rule::thin_arrow,
    Rule::range_op,
    Rule::cmp_op,
    Rule::add_op,
    Rule::mul_op,
    Rule::coalesce_op,
    Rule::neg_op,
    Rule::percent,
];

/// How far `rule` reads from the start of `rest`, if it matches there.
fn pest_len(rule: Rule, rest: &str) -> Option<usize> {
    let mut pairs = ProbeParser::parse(rule, rest).ok()?;
    pairs.next().map(|it| it.as_span().end())
}

/// The token pest reads at the start of `rest`, trying its rules in the order the grammar tries
/// them where they compete (`primary_common`: money, number, int, then keywords and names).
/// `None` when none of them matches (punctuation is compared separately).
fn pest_token(rest: &str) -> Option<(TokenKind, usize)> {
    let candidates = [
        (Rule::comment_probe, TokenKind::Comment),
        (Rule::doc_line, TokenKind::DocComment),
        (Rule::string, TokenKind::String),
        (Rule::money, TokenKind::Money),
        (Rule::number, TokenKind::Decimal),
        (Rule::int, TokenKind::Int),
        (Rule::keyword, TokenKind::Keyword),
        (Rule::ident, TokenKind::Ident),
    ];
    candidates.into_iter().find_map(|(rule, kind)| pest_len(rule, rest).map(|len| (kind, len)))
}

/// What pest must read where the lexer read `token`: the same token, except that a contextual
/// keyword is a name to pest (the grammar's `keyword` rule holds the reserved words only), and
/// that pest reads nothing of its own at whitespace, punctuation, malformed strings and errors.
fn expected_pest_token(token: &Token, text: &str) -> Option<(TokenKind, usize)> {
    let len = (token.span.end - token.span.start) as usize;
    let word = &text[token.span.start as usize..token.span.end as usize];
    match token.kind {
        TokenKind::Keyword => {
            let keyword = keywords::lookup(word).expect("a keyword token is a keyword");
            let kind = if keyword.reservation == Reservation::Reserved { TokenKind::Keyword } else { TokenKind::Ident };
            Some((kind, len))
        }
        TokenKind::Comment
        | TokenKind::DocComment
        | TokenKind::String
        | TokenKind::Money
        | TokenKind::Decimal
        | TokenKind::Int
        | TokenKind::Ident => Some((token.kind, len)),
        TokenKind::Whitespace | TokenKind::MalformedString | TokenKind::Punct(_) | TokenKind::Error => None,
    }
}

/// The tokens of `text`, checked to cover it exactly, in order, each a non-empty run of whole
/// characters.
fn covering_tokens(text: &str) -> Result<Vec<Token>, String> {
    let tokens: Vec<Token> = tokenize(text).collect();
    let mut end = 0;
    for token in &tokens {
        let (start, stop) = (token.span.start as usize, token.span.end as usize);
        if start != end || stop <= start || !text.is_char_boundary(stop) {
            return Err(format!("{token:?} does not continue at {end} with a whole character in {text:?}"));
        }
        end = stop;
    }
    if end != text.len() {
        return Err(format!("the tokens stop at {end} of {} in {text:?}", text.len()));
    }
    Ok(tokens)
}

/// Every token of `text` read as pest reads it at the same place.
fn agrees_with_pest(text: &str) -> Result<(), String> {
    for token in covering_tokens(text)? {
        let start = token.span.start as usize;
        let rest = &text[start..];
        let shown = &text[start..token.span.end as usize];
        let pest = pest_token(rest);
        let expected = expected_pest_token(&token, text);
        if pest != expected {
            let around = around(text, start);
            return Err(format!("at {start} the lexer read {shown:?} as {token:?}, pest as {pest:?}, in {around:?}"));
        }
        if matches!(token.kind, TokenKind::Punct(_) | TokenKind::Error) {
            let longest = PUNCT_RULES.iter().filter_map(|&rule| pest_len(rule, rest)).max();
            let lexed = matches!(token.kind, TokenKind::Punct(_)).then_some(shown.len());
            if longest != lexed {
                let around = around(text, start);
                return Err(format!(
                    "at {start} the lexer read {shown:?} as {token:?}, pest's punctuation {longest:?}, in {around:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Up to 40 bytes of `text` on each side of `at`, to show where a failure is.
fn around(text: &str, at: usize) -> &str {
    let mut start = at.saturating_sub(40);
    let mut end = (at + 40).min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    &text[start..end]
}

/// One line per token: kind and text.
fn check(text: &str, expected: Expect) {
    let mut acc = String::new();
    for token in covering_tokens(text).unwrap_or_else(|it| panic!("{it}")) {
        let shown = &text[token.span.start as usize..token.span.end as usize];
        let _ = writeln!(acc, "{:?} {shown:?}", token.kind);
    }
    expected.assert_eq(&acc);
}

#[test]
fn every_kind_of_token() {
    check(
        "/// doc\nrule R1 reject \"a \\\"b\\\" \\u{41}\" { check x.trim() != RM1_000.50 on f } // c\n\
         //// not a doc\nlet n = 1_000 + 2e-3 * 1.5 ?? 12abc ..= @ \"bad \\q\" \"open\n",
        expect![[r#"
            DocComment "/// doc"
            Whitespace "\n"
            Keyword "rule"
            Whitespace " "
            Ident "R1"
            Whitespace " "
            Keyword "reject"
            Whitespace " "
            String "\"a \\\"b\\\" \\u{41}\""
            Whitespace " "
            Punct(LBrace) "{"
            Whitespace " "
            Keyword "check"
            Whitespace " "
            Ident "x"
            Punct(Dot) "."
            Ident "trim"
            Punct(LParen) "("
            Punct(RParen) ")"
            Whitespace " "
            Punct(NotEq) "!="
            Whitespace " "
            Money "RM1_000.50"
            Whitespace " "
            Keyword "on"
            Whitespace " "
            Ident "f"
            Whitespace " "
            Punct(RBrace) "}"
            Whitespace " "
            Comment "// c"
            Whitespace "\n"
            Comment "//// not a doc"
            Whitespace "\n"
            Keyword "let"
            Whitespace " "
            Ident "n"
            Whitespace " "
            Punct(Eq) "="
            Whitespace " "
            Int "1_000"
            Whitespace " "
            Punct(Plus) "+"
            Whitespace " "
            Decimal "2e-3"
            Whitespace " "
            Punct(Star) "*"
            Whitespace " "
            Decimal "1.5"
            Whitespace " "
            Punct(Coalesce) "??"
            Whitespace " "
            Error "12abc"
            Whitespace " "
            Punct(DotDotEq) "..="
            Whitespace " "
            Error "@"
            Whitespace " "
            MalformedString "\"bad \\q\""
            Whitespace " "
            MalformedString "\"open"
            Whitespace "\n"
        "#]],
    );
}

#[test]
fn a_lone_carriage_return_ends_comments_and_strings() {
    check(
        "// c\rlet s = \"ab\rRM5x RM5.x\r\n",
        expect![[r#"
            Comment "// c"
            Whitespace "\r"
            Keyword "let"
            Whitespace " "
            Ident "s"
            Whitespace " "
            Punct(Eq) "="
            Whitespace " "
            MalformedString "\"ab"
            Whitespace "\r"
            Ident "RM5x"
            Whitespace " "
            Money "RM5"
            Punct(Dot) "."
            Ident "x"
            Whitespace "\r\n"
        "#]],
    );
}

#[test]
fn the_specs_of_the_repository_lex_as_pest_reads_them() {
    for text in [JCL, RECORD, CODES, STANDARD] {
        agrees_with_pest(text).unwrap_or_else(|it| panic!("{it}"));
        let errors: Vec<Token> = tokenize(text).filter(|it| it.kind == TokenKind::Error).collect();
        assert!(errors.is_empty(), "a spec that parses has no error tokens: {errors:?}");
    }
}

#[test]
fn the_lexers_punctuation_is_the_grammars() {
    // Rules whose literals are not punctuation tokens: trivia, string and number innards.
    let inner = ["WHITESPACE", "COMMENT", "line_end", "doc_line", "string", "string_escape", "money", "number"];
    let mut grammar: BTreeSet<String> = BTreeSet::new();
    for rule in rules(GRAMMAR).iter().filter(|it| !inner.contains(&it.name.as_str())) {
        // `_` is part of names (and the wildcard), whitespace is trivia: neither is punctuation.
        let punctuation = literals(&rule.body)
            .into_iter()
            .filter(|it| !is_word(it) && it != "_" && !it.chars().all(char::is_whitespace));
        grammar.extend(punctuation);
    }
    let lexer: BTreeSet<String> = Punct::ALL.iter().map(|it| it.as_str().to_owned()).collect();
    let missing: Vec<_> = grammar.difference(&lexer).collect();
    let extra: Vec<_> = lexer.difference(&grammar).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the grammar's punctuation and the lexer's `Punct` disagree: the lexer lacks {missing:?}, \
         the grammar lacks {extra:?}"
    );
}

#[test]
fn a_text_of_whitespace_and_nothing_is_covered() {
    assert_eq!(tokenize("").count(), 0);
    assert_eq!(covering_tokens(" \t\r\n\r").map(|it| it.len()), Ok(1));
}

/// A spec from the repository with a few random edits: deletions, insertions of characters the
/// lexer treats specially, and duplications of a slice of the text.
fn mangled_spec() -> impl Strategy<Value = String> {
    const INSERTS: &[&str] =
        &["\"", "\\", "\r", "\n", "//", "///", "RM", "1", ".", "e", "-", "_", "é", "🦀", "\0", "!", "?", "=", "\\u{"];
    let base = prop::sample::select(vec![JCL, RECORD, CODES, STANDARD]);
    let edit = (0usize..3, any::<prop::sample::Index>(), 0usize..40, prop::sample::select(INSERTS));
    (base, prop::collection::vec(edit, 0..8)).prop_map(|(base, edits)| {
        let mut text = base.to_owned();
        for (kind, at, len, insert) in edits {
            let start = floor_char_boundary(&text, at.index(text.len() + 1));
            let end = floor_char_boundary(&text, (start + len).min(text.len()));
            match kind {
                0 => text.replace_range(start..end, ""),
                1 => text.insert_str(start, insert),
                _ => {
                    let slice = text[start..end].to_owned();
                    text.insert_str(end, &slice);
                }
            }
        }
        text
    })
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Single characters of specs, and pieces that start a comment, money, an exponent, an escape
/// (known or not, with 0 to 8 hex digits) or a string.
const SPEC_ALPHABET: &str = concat!(
    r#"([a-zA-Z0-9_ \t\r\n"\\/{}()\[\],:.|=<>!?+*%@-]"#,
    r#"|RM|//|///|e-|é"#,
    r#"|\\[a-z"\\\r]|\\u\{[0-9a-fA-F]{0,8}\}|"[a-z ]{0,3}"#,
    r#"){0,120}"#,
);

proptest! {
    // A whole spec is a few thousand tokens, each tried with pest's rules: about 0.1 s a case.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn mangled_specs_lex_as_pest_reads_them(text in mangled_spec()) {
        prop_assert_eq!(agrees_with_pest(&text), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Text drawn from the language's own characters, where the tokens meet in every way.
    #[test]
    fn spec_alphabet_text_lexes_as_pest_reads_it(text in SPEC_ALPHABET) {
        prop_assert_eq!(agrees_with_pest(&text), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Any text at all: never a panic, and the tokens cover it exactly.
    #[test]
    fn any_text_is_covered_exactly(text in any::<String>()) {
        prop_assert!(covering_tokens(&text).is_ok(), "{:?}", covering_tokens(&text));
    }
}
