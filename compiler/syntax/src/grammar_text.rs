//! A reader of `etr.pest`'s own text, for the tests that compare the grammar with the tables the
//! rest of the crate keeps (the keyword table, the lexer's punctuation).
//!
//! It knows just enough of pest's syntax for this grammar: `name = modifier? { body }` rules,
//! `//` comments, double-quoted literals (with `^` for case-insensitive ones) and nested braces
//! (`{1, 6}` repetitions). Anything else makes it panic with the place, so that a grammar it no
//! longer understands fails the tests instead of being half read.

/// One rule of the grammar: its name and the text between its braces.
#[derive(Debug)]
pub(crate) struct GrammarRule {
    pub(crate) name: String,
    pub(crate) body: String,
}

/// The grammar's source text.
pub(crate) const GRAMMAR: &str = include_str!("etr.pest");

/// The rules of `grammar`, in file order.
pub(crate) fn rules(grammar: &str) -> Vec<GrammarRule> {
    let text = strip_comments(grammar);
    let mut acc = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let name_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        assert!(name_len > 0, "grammar_text: expected a rule name at {:?}", excerpt(rest));
        let name = rest[..name_len].to_owned();
        rest = rest[name_len..].trim_start();
        rest = rest.strip_prefix('=').unwrap_or_else(|| panic!("grammar_text: expected `=` after `{name}`"));
        rest = rest.trim_start().trim_start_matches(['_', '@', '$', '!']).trim_start();
        rest = rest.strip_prefix('{').unwrap_or_else(|| panic!("grammar_text: expected `{{` in `{name}`"));
        let body_len = body_len(rest).unwrap_or_else(|| panic!("grammar_text: `{name}` is not closed"));
        acc.push(GrammarRule { name, body: rest[..body_len].to_owned() });
        rest = rest[body_len + 1..].trim_start();
    }
    acc
}

/// The double-quoted literals of a rule body, unescaped, in order.
pub(crate) fn literals(body: &str) -> Vec<String> {
    let mut acc = Vec::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\'' {
            panic!("grammar_text: character literals are not read: {:?}", excerpt(body));
        }
        if c != '"' {
            continue;
        }
        let mut literal = String::new();
        loop {
            match chars.next() {
                Some('"') => break,
                Some('\\') => literal.push(match chars.next() {
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('t') => '\t',
                    Some(c @ ('"' | '\\')) => c,
                    other => panic!("grammar_text: unknown escape {other:?} in {:?}", excerpt(body)),
                }),
                Some(c) => literal.push(c),
                None => panic!("grammar_text: unclosed literal in {:?}", excerpt(body)),
            }
        }
        acc.push(literal);
    }
    acc
}

/// Whether a literal is a word (`and`, `RM`) rather than punctuation or whitespace. A lone `_`
/// is not one: it is the character names are made of, and the wildcard.
pub(crate) fn is_word(literal: &str) -> bool {
    literal.chars().any(|c| c.is_ascii_alphabetic()) && literal.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `grammar` without its `//` comments (literals such as `"//"` are kept).
fn strip_comments(grammar: &str) -> String {
    let mut acc = String::with_capacity(grammar.len());
    let mut chars = grammar.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                acc.push(c);
                while let Some(c) = chars.next() {
                    acc.push(c);
                    match c {
                        '\\' => acc.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        acc.push('\n');
                        break;
                    }
                }
            }
            _ => acc.push(c),
        }
    }
    acc
}

/// The length of a rule body up to its closing brace, skipping literals and nested braces.
fn body_len(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_literal = false;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if in_literal {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_literal = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_literal = true,
            '{' => depth += 1,
            '}' if depth == 0 => return Some(at),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn excerpt(text: &str) -> String {
    text.chars().take(60).collect()
}
