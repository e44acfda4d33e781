//! Turning pest errors into messages an analyst can act on.
//!
//! pest reports the grammar rules it tried at the failure position
//! (`kw_then`, `mul_expr`, ...). Those names mean nothing to the people who
//! write contributor specs, so each rule is described in words, rules that
//! mean the same thing to a reader are merged ("an expression", "an
//! operator"), and the offending token is quoted. A few failures get their
//! own message because the rule list would mislead: an unterminated string,
//! a bad escape, a stray doc comment and a reserved word used as a name.

use std::collections::HashMap;
use std::sync::LazyLock;

use pest::error::{ErrorVariant, InputLocation};

use crate::SyntaxError;
use crate::ast::Span;
use crate::keywords::{self, KeywordClass};
use crate::lexer;
use crate::parser::Rule;
use crate::split::is_doc_line;

// The lists of keywords in messages are built once from the keyword table, so that a new
// keyword reaches them; they are constants computed late, not state.

/// What a region parse failed on, in the words of the analyst: "an item: contributor, use, ...".
pub(crate) static EXPECTED_ITEM: LazyLock<String> = LazyLock::new(|| listing("an item", KeywordClass::Item));

/// "a rule severity: fatal, reject, warn or info".
static EXPECTED_SEVERITY: LazyLock<String> = LazyLock::new(|| listing("a rule severity", KeywordClass::Severity));

/// "a setting: quote, encoding, header, trailer or columns".
static EXPECTED_SETTING: LazyLock<String> = LazyLock::new(|| listing("a setting", KeywordClass::SourceSetting));

/// "a statement: when, check, require, ...".
static EXPECTED_STATEMENT: LazyLock<String> = LazyLock::new(|| listing("a statement", KeywordClass::RuleStatement));

/// Each keyword in backquotes, "`on`", for the keywords that are named as themselves.
static QUOTED_KEYWORDS: LazyLock<HashMap<&'static str, String>> =
    LazyLock::new(|| keywords::WORDS.iter().map(|word| (*word, format!("`{word}`"))).collect());

const EXPECTED_EXPR: &str = "an expression";
const EXPECTED_ZONE: &str = "a zone such as `fatal above 2%`";
const EXPECTED_FORMAT: &str = "a source format: delimited";
const EXPECTED_OPERATOR: &str = "an operator";
const EXPECTED_END: &str = "the end of the item";

/// Converts a pest error on a region starting at `offset` in the file.
pub(crate) fn from_pest(err: &pest::error::Error<Rule>, region: &str, offset: usize) -> SyntaxError {
    let pos = match err.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let pos = pos.min(region.len());
    let to_span = |start: usize, end: usize| Span { start: (offset + start) as u32, end: (offset + end) as u32 };

    let positives = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.as_slice(),
        ErrorVariant::CustomError { .. } => {
            // The only custom errors pest raises on its own are its call and
            // stack limits, which only pathological nesting reaches.
            return SyntaxError {
                span: to_span(pos, token_end(region, pos)),
                message: "this item is nested too deeply to be read".to_owned(),
                expected: Vec::new(),
            };
        }
    };

    let rest = &region[pos..];
    if is_doc_line(rest) {
        return SyntaxError {
            span: to_span(pos, pos + crate::lines::first_line_end(rest)),
            message: "a `///` doc comment must come right before an item, a record field \
                      or a code member; use `//` for other comments"
                .to_owned(),
            expected: Vec::new(),
        };
    }
    if rest.starts_with('"')
        && let Some(error) = string_error(rest)
    {
        let (start, end, message) = error;
        return SyntaxError { span: to_span(pos + start, pos + end), message, expected: Vec::new() };
    }

    let mut expected: Vec<String> = Vec::new();
    for rule in positives {
        if let Some(words) = describe(*rule)
            && !expected.iter().any(|it| it == words)
        {
            expected.push(words.to_owned());
        }
    }
    // A list that mixes "an expression" with the tokens an expression may
    // start with is just "an expression".
    if expected.iter().any(|it| it == EXPECTED_EXPR) {
        expected.retain(|it| !is_expression_start(it));
    }
    // Likewise `(`, `[` and `.` after an operand are postfix operators.
    if expected.iter().any(|it| it == EXPECTED_OPERATOR) {
        expected.retain(|it| !matches!(it.as_str(), "`(`" | "`[`" | "`.`"));
    }
    // Specific tokens first, then "an operator", then "the end of the item".
    expected.sort_by_key(|it| match it.as_str() {
        EXPECTED_OPERATOR => 1,
        EXPECTED_END => 2,
        _ => 0,
    });

    let mut end = token_end(region, pos);
    let found = if pos >= crate::lexer::trim_grammar_whitespace_end(region).len() {
        "but the item ends here".to_owned()
    } else {
        let token = &region[pos..end];
        let mut found = format!("found `{}`", printable(token));
        if keywords::is_reserved(token) && expected.iter().any(|it| it == "a name") {
            found.push_str(&format!(" (`{token}` is a reserved word)"));
        }
        found
    };
    // "Expected an item" means the whole rest of the region is not an item:
    // mark all of it, since none of it will be understood.
    if expected.len() == 1 && expected[0] == *EXPECTED_ITEM {
        end = pos.max(crate::lexer::trim_grammar_whitespace_end(region).len());
    }
    let message = if expected.is_empty() {
        format!("unexpected text: {found}")
    } else {
        format!("expected {}, {found}", join_words(&expected))
    };
    SyntaxError { span: to_span(pos, end), message, expected }
}

/// "a", "a or b", "a, b or c".
fn join_words<S: AsRef<str>>(words: &[S]) -> String {
    match words {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} or {}", init.join(", "), last.as_ref())
        }
    }
}

/// "`what`: the keywords of `class`", in the keyword table's order.
fn listing(what: &str, class: KeywordClass) -> String {
    let words: Vec<&str> = keywords::of_class(class).collect();
    format!("{what}: {}", join_words(&words))
}

fn is_expression_start(words: &str) -> bool {
    matches!(
        words,
        "a name"
            | "a string"
            | "an integer"
            | "a money amount"
            | "`(`"
            | "`-`"
            | "`not`"
            | "`if`"
            | "`match`"
            | "`true`"
            | "`false`"
            | "`null`"
    )
}

/// Describes a grammar rule, or `None` for rules a reader should not hear
/// about (doc comments, which are always optional).
///
/// A keyword's rule (`kw_X`, which the grammar's test holds to spell `X`) is
/// described from the keyword table ([`describe_keyword`]), and a statement's
/// rule (`X_stmt`) is "a statement" with the table's list of them, so a new
/// keyword, clause or kind of statement needs nothing here.
fn describe(rule: Rule) -> Option<&'static str> {
    let name = format!("{rule:?}");
    if let Some(word) = name.strip_prefix("kw_") {
        return describe_keyword(word);
    }
    if name.ends_with("_stmt") {
        return Some(EXPECTED_STATEMENT.as_str());
    }
    Some(match rule {
        Rule::EOI => EXPECTED_END,
        Rule::doc_line => return None,
        Rule::item | Rule::item_region | Rule::item_prefix => EXPECTED_ITEM.as_str(),

        Rule::ident | Rule::keyword => "a name",
        Rule::path => "a module path such as `etr.record`",
        Rule::string => "a string",
        Rule::int => "an integer",
        Rule::money => "a money amount",
        Rule::number => "a number",
        // The words of an ordering statement, `strictly increasing`, are one token.
        Rule::order_kw => EXPECTED_STATEMENT.as_str(),
        Rule::rule_mostly => "`mostly`",
        Rule::rule_zone | Rule::percent => EXPECTED_ZONE,
        Rule::override_item => "`override`",
        Rule::severity => EXPECTED_SEVERITY.as_str(),
        Rule::literal => "a literal (a string, a number, a money amount, true, false or null)",
        Rule::literal_list => "a list of literals `[...]`",
        Rule::type_expr => "a type",
        Rule::field_decl => "a field `name: type`",
        Rule::table_entry => "a table entry `key => value`",
        Rule::assignment => "an assignment `field = expression`",
        Rule::code_member => "a code member (a string)",
        Rule::match_arm | Rule::pattern | Rule::range_pattern | Rule::wildcard => {
            "a pattern (a literal, a range `lo..=hi` or `_`)"
        }
        Rule::source_format => EXPECTED_FORMAT,
        Rule::quote_setting
        | Rule::encoding_setting
        | Rule::header_setting
        | Rule::trailer_setting
        | Rule::columns_setting => EXPECTED_SETTING.as_str(),
        Rule::rule_body => "`{`",
        Rule::reject_handler | Rule::fail_handler | Rule::handler_value => {
            "a handler: `reject RULE`, `fail RULE` or a value"
        }

        Rule::expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::add_expr
        | Rule::mul_expr
        | Rule::coalesce_expr
        | Rule::unary_expr
        | Rule::postfix_expr
        | Rule::expr_nh
        | Rule::and_nh
        | Rule::not_nh
        | Rule::cmp_nh
        | Rule::add_nh
        | Rule::mul_nh
        | Rule::coalesce_nh
        | Rule::unary_nh
        | Rule::postfix_nh
        | Rule::call
        | Rule::paren
        | Rule::if_expr
        | Rule::if_nh
        | Rule::match_expr
        | Rule::args => EXPECTED_EXPR,

        Rule::compare
        | Rule::compare_nh
        | Rule::in_test
        | Rule::is_test
        | Rule::cmp_op
        | Rule::add_op
        | Rule::mul_op
        | Rule::coalesce_op
        | Rule::method_call
        | Rule::field_access
        | Rule::index
        | Rule::else_handler
        | Rule::handler_else => EXPECTED_OPERATOR,

        Rule::neg_op => "`-`",

        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::dot => "`.`",
        Rule::pipe => "`|`",
        Rule::eq => "`=`",
        Rule::fat_arrow => "`=>`",
        Rule::thin_arrow => "`->`",
        Rule::range_op => "`..=`",

        // Trivia, silent helper rules, and whole items (whose keyword is
        // reported instead).
        _ => return None,
    })
}

/// Describes the grammar's rule for the keyword `word`: by what it starts (an item, a setting, a
/// statement: the list of its class), else as itself (`` `on` ``). The few words a reader knows
/// by the construct they continue are named here: the operators, the `above` of a zone, the
/// source format. `None` for a word the table does not have (the grammar's test rules it out).
fn describe_keyword(word: &str) -> Option<&'static str> {
    let keyword = keywords::lookup(word)?;
    let of = |class| keyword.classes.contains(&class);
    Some(match word {
        "and" | "or" | "in" | "is" => EXPECTED_OPERATOR,
        "above" => EXPECTED_ZONE,
        "delimited" => EXPECTED_FORMAT,
        _ if of(KeywordClass::Item) => EXPECTED_ITEM.as_str(),
        _ if of(KeywordClass::SourceSetting) => EXPECTED_SETTING.as_str(),
        _ if of(KeywordClass::RuleStatement) => EXPECTED_STATEMENT.as_str(),
        _ => QUOTED_KEYWORDS.get(word)?.as_str(),
    })
}

/// The end of the token that starts at `pos`: a word, a number, a string up
/// to the end of the line, or one character.
fn token_end(region: &str, pos: usize) -> usize {
    let rest = &region[pos..];
    let Some(first) = rest.chars().next() else {
        return pos;
    };
    let len = if first.is_ascii_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len())
    } else if first == '"' {
        // Without an error, the string is well formed and is the lexer's first token.
        string_error(rest)
            .map_or_else(|| lexer::tokenize(rest).next().map_or(1, |it| it.span.end as usize), |(_, end, _)| end)
    } else {
        first.len_utf8()
    };
    pos + len
}

/// Why the string literal at the start of `text` is malformed, if it is:
/// the span (relative to `text`) and the message.
fn string_error(text: &str) -> Option<(usize, usize, String)> {
    let line = &text[..crate::lines::first_line_end(text)];
    let mut chars = line.char_indices().skip(1).peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return None,
            '\\' => {
                let rest = &line[at + 1..];
                if lexer::escape_len(rest).is_none() {
                    let next_len = rest.chars().next().map_or(0, char::len_utf8);
                    let escape = &line[at..at + 1 + next_len];
                    return Some((
                        at,
                        at + 1 + next_len,
                        format!(
                            "unknown escape `{}` in a string: use \\\", \\\\, \\n, \\t or \\u{{...}}",
                            printable(escape)
                        ),
                    ));
                }
                chars.next();
            }
            _ => {}
        }
    }
    Some((0, line.len(), "this string is not closed: a string ends with `\"` on the same line".to_owned()))
}

/// `text` with control characters escaped, so that a NUL or a tab in the
/// input shows in the message; quotes and backslashes stay as they are.
fn printable(text: &str) -> String {
    // Control characters and whitespace other than a space would print as nothing visible.
    let shown = |c: char| match c {
        c if c.is_control() => c.escape_debug().to_string(),
        c if c.is_whitespace() && c != ' ' => c.escape_unicode().to_string(),
        c => c.to_string(),
    };
    text.chars().map(shown).collect()
}

#[cfg(test)]
mod tests;
