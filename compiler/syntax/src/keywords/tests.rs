//! The keyword table against the two grammars that spell keywords without reading the table:
//! the pest grammar and the VS Code TextMate grammar.

use std::collections::{BTreeMap, BTreeSet};

use super::{KEYWORDS, KeywordClass, Reservation, WORDS, is_reserved, lookup, of_class};
use crate::grammar_text::{GRAMMAR, is_word, literals, rules};

/// The token rules whose word literals are not keywords: the letters of string escapes, the `RM`
/// of money amounts and the `e` of exponents.
const NON_KEYWORD_WORD_RULES: &[&str] = &["string_escape", "money", "number"];

/// The VS Code grammar, as the extension ships it.
const TEXTMATE_GRAMMAR: &str = include_str!("../../../../editors/vscode/syntaxes/etr.tmLanguage.json");

/// Scopes of the VS Code grammar's `keywords` patterns that colour words which are not keywords
/// of the language: the money units of `money(ringgit)`, which are type arguments.
const TEXTMATE_NON_KEYWORD_SCOPES: &[&str] = &["support.constant.money-unit.etr"];

fn table_words() -> BTreeSet<&'static str> {
    KEYWORDS.iter().map(|it| it.text).collect()
}

/// "missing ...; extra ...", or `None` when `found` and `table` hold the same words.
fn difference(found: &BTreeSet<&str>, where_found: &str, table: &BTreeSet<&str>, what: &str) -> Option<String> {
    let missing: Vec<_> = table.difference(found).collect();
    let extra: Vec<_> = found.difference(table).collect();
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    Some(format!(
        "{where_found} and the keyword table (compiler/syntax/src/keywords.rs) disagree:\n  \
         {what} of the table missing from {where_found}: {missing:?}\n  \
         words of {where_found} that are not {what} of the table: {extra:?}"
    ))
}

#[test]
fn the_pest_grammar_spells_exactly_the_tables_keywords() {
    let rules = rules(GRAMMAR);
    let names: BTreeSet<&str> = rules.iter().map(|it| it.name.as_str()).collect();
    for name in NON_KEYWORD_WORD_RULES {
        assert!(names.contains(name), "the grammar has no rule `{name}` any more: update NON_KEYWORD_WORD_RULES");
    }

    // Every word the grammar matches literally is a keyword, wherever it is spelled: in a `kw_*`
    // rule, in the `keyword` rule, in `severity`, `order_kw`, `handler_else`, or anywhere else.
    let mut grammar_words: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let literals_of: Vec<(&str, Vec<String>)> = rules.iter().map(|it| (it.name.as_str(), literals(&it.body))).collect();
    for (rule, literals) in &literals_of {
        if NON_KEYWORD_WORD_RULES.contains(rule) {
            continue;
        }
        for literal in literals.iter().filter(|it| is_word(it)) {
            grammar_words.entry(literal.as_str()).or_default().push(rule);
        }
    }
    let found: BTreeSet<&str> = grammar_words.keys().copied().collect();
    if let Some(message) = difference(&found, "the pest grammar (etr.pest)", &table_words(), "keywords") {
        panic!("{message}\n  where the grammar spells its words: {grammar_words:?}");
    }

    // A `kw_*` rule spells the word its name says.
    for (rule, literals) in &literals_of {
        if let Some(word) = rule.strip_prefix("kw_") {
            assert_eq!(literals, &[word.to_owned()], "the grammar's `{rule}` must match the word `{word}` alone");
        }
    }

    // The reserved words are the alternatives of the grammar's `keyword` rule.
    let (_, keyword_rule) =
        literals_of.iter().find(|(rule, _)| *rule == "keyword").expect("the grammar's `keyword` rule");
    let grammar_reserved: BTreeSet<&str> = keyword_rule.iter().map(String::as_str).collect();
    let table_reserved: BTreeSet<&str> =
        KEYWORDS.iter().filter(|it| it.reservation == Reservation::Reserved).map(|it| it.text).collect();
    if let Some(message) =
        difference(&grammar_reserved, "the grammar's `keyword` rule", &table_reserved, "reserved words")
    {
        panic!("{message}");
    }
}

#[test]
fn the_vscode_grammar_colours_exactly_the_tables_keywords() {
    let grammar: serde_json::Value = serde_json::from_str(TEXTMATE_GRAMMAR).expect("etr.tmLanguage.json is JSON");
    let repository = &grammar["repository"];

    // The `keywords` patterns: each is one scope and one `(?:a|b|c)` group of words.
    let mut coloured: BTreeSet<&str> = BTreeSet::new();
    let patterns = repository["keywords"]["patterns"].as_array().expect("repository.keywords.patterns");
    for pattern in patterns {
        let Some(regex) = pattern["match"].as_str() else {
            assert!(pattern.get("include").is_some(), "a `keywords` pattern neither matches nor includes: {pattern}");
            continue;
        };
        let scope = pattern["name"].as_str().unwrap_or_else(|| panic!("a `keywords` pattern has no scope: {pattern}"));
        let words = textmate_word_alternatives(regex)
            .unwrap_or_else(|| panic!("the `keywords` pattern of `{scope}` is not a `(?:word|...)` group: {regex}"));
        if TEXTMATE_NON_KEYWORD_SCOPES.contains(&scope) {
            continue;
        }
        // The words that start an item at column 0 are the item keywords, the class completion
        // offers there and the item cut of `split.rs` starts a region with.
        if regex.starts_with('^') {
            let items: Vec<&str> = of_class(KeywordClass::Item).collect();
            assert_eq!(words, items, "the VS Code grammar's column-0 pattern `{scope}` must list the item keywords");
        }
        assert!(
            ["keyword.", "storage.type", "constant.language"].iter().any(|it| scope.starts_with(it)),
            "the `keywords` pattern of `{scope}` colours {words:?}: is it a keyword scope? \
             If not, list it in TEXTMATE_NON_KEYWORD_SCOPES"
        );
        coloured.extend(words);
    }
    if let Some(message) = difference(
        &coloured,
        "the VS Code grammar's `keywords` patterns (etr.tmLanguage.json)",
        &table_words(),
        "keywords",
    ) {
        panic!("{message}");
    }

    // The declaration patterns colour keywords of their own, in captures: those must be keywords.
    let declarations = repository["declarations"]["patterns"].as_array().expect("repository.declarations.patterns");
    for pattern in declarations {
        let regex = pattern["match"].as_str().expect("a declaration pattern matches");
        let groups = textmate_capture_groups(regex);
        let captures = pattern["captures"].as_object().expect("a declaration pattern has captures");
        for (index, capture) in captures {
            let scope = capture["name"].as_str().unwrap_or_default();
            if !(scope.starts_with("keyword.") || scope.starts_with("storage.type")) {
                continue;
            }
            let index: usize = index.parse().expect("a capture index");
            let group = groups.get(index - 1).unwrap_or_else(|| panic!("no group {index} in {regex}"));
            let not_keywords: Vec<&str> =
                group.split('|').filter(|word| !is_word(word) || lookup(word).is_none()).collect();
            assert!(
                not_keywords.is_empty(),
                "the VS Code grammar colours {not_keywords:?} as `{scope}` in a declaration, \
                 but the keyword table has no such keyword: {regex}"
            );
        }
    }
}

/// The words of the one `(?:a|b|c)` group of a TextMate regex, if it has exactly one and it holds
/// only words.
fn textmate_word_alternatives(regex: &str) -> Option<Vec<&str>> {
    let (_, after) = regex.split_once("(?:")?;
    let (group, rest) = after.split_once(')')?;
    let words: Vec<&str> = group.split('|').collect();
    (!rest.contains("(?:") && words.iter().all(|it| is_word(it))).then_some(words)
}

/// The text of each capturing group of a TextMate regex, in the order of their `(`.
fn textmate_capture_groups(regex: &str) -> Vec<&str> {
    let bytes = regex.as_bytes();
    let mut acc = Vec::new();
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut slots: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 1,
            b'(' if bytes.get(at + 1) == Some(&b'?') => open.push(None),
            b'(' => {
                slots.push((at + 1, at + 1));
                open.push(Some(slots.len() - 1));
            }
            b')' => {
                if let Some(Some(slot)) = open.pop() {
                    slots[slot].1 = at;
                }
            }
            _ => {}
        }
        at += 1;
    }
    for (start, end) in slots {
        acc.push(&regex[start..end]);
    }
    acc
}

#[test]
fn classes_give_the_lists_completion_and_errors_use() {
    let item: Vec<_> = of_class(KeywordClass::Item).collect();
    assert_eq!(item, ["contributor", "use", "source", "table", "map", "let", "rule", "override", "record", "code"]);
    let severity: Vec<_> = of_class(KeywordClass::Severity).collect();
    assert_eq!(severity, ["fatal", "reject", "warn", "info"]);
    assert!(of_class(KeywordClass::Handler).eq(["reject", "fail"]));
    assert!(is_reserved("and") && is_reserved("reject"));
    assert!(!is_reserved("header") && !is_reserved("strictly") && !is_reserved("name"));
    assert_eq!(WORDS.len(), KEYWORDS.len());
    assert!(WORDS.iter().zip(KEYWORDS).all(|(word, keyword)| *word == keyword.text));
    // Every keyword is written somewhere, and only once in the table.
    assert!(KEYWORDS.iter().all(|it| !it.classes.is_empty()));
    assert_eq!(table_words().len(), KEYWORDS.len(), "a keyword is listed twice");
}
