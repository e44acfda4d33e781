//! The keyword table against the two grammars that spell keywords without reading the table: the
//! pest grammar, which a test holds to the table, and the VS Code TextMate grammar, whose keyword
//! patterns a test generates from it.

use std::collections::{BTreeMap, BTreeSet};

use super::{KEYWORDS, Keyword, KeywordClass, Reservation, WORDS, is_reserved, lookup, of_class};
use crate::grammar_text::{GRAMMAR, is_word, literals, rules};

/// The token rules whose word literals are not keywords: the letters of string escapes, the `RM`
/// of money amounts and the `e` of exponents.
const NON_KEYWORD_WORD_RULES: &[&str] = &["string_escape", "money", "number"];

/// The VS Code grammar, as the extension ships it.
const TEXTMATE_GRAMMAR: &str = include_str!("../../../../editors/vscode/syntaxes/etr.tmLanguage.json");

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

/// The colours of keywords in the VS Code grammar, one pattern each, in the order of its
/// patterns: the TextMate scope, and the regex before and after the group of words.
const TEXTMATE_COLOURS: &[(&str, &str, &str)] = &[
    // An item keyword is coloured at column 0 only, where it starts an item: elsewhere it is a name.
    ("storage.type.etr", "^", "\\b"),
    ("keyword.control.etr", "(?<!\\.)\\b", "\\b"),
    ("keyword.operator.logical.etr", "(?<!\\.)\\b", "\\b"),
    ("constant.language.etr", "(?<!\\.)\\b", "\\b"),
    ("keyword.other.statement.etr", "(?<!\\.)\\b", "\\b"),
    // Setting words are also field names (`header.month`, `header: text`).
    ("keyword.other.setting.etr", "(?<!\\.)\\b", "\\b(?!\\s*[.:])"),
    ("keyword.other.severity.etr", "(?<!\\.)\\b", "\\b"),
];

/// The colour of a keyword, by its classes: a new word of a class gets the class's colour. Words
/// of an expression are told apart by what they are (literals, operators, the rest control the
/// flow), and `when` is coloured as the condition it is, like `if`.
fn textmate_scope(keyword: &Keyword) -> &'static str {
    let of = |class| keyword.classes.contains(&class);
    match keyword.text {
        "true" | "false" | "null" => "constant.language.etr",
        "and" | "or" | "not" | "in" | "is" => "keyword.operator.logical.etr",
        "when" => "keyword.control.etr",
        _ if of(KeywordClass::Item) => "storage.type.etr",
        _ if of(KeywordClass::Expression) => "keyword.control.etr",
        _ if [
            KeywordClass::RuleStatement,
            KeywordClass::StatementPart,
            KeywordClass::Handler,
            KeywordClass::Threshold,
        ]
        .into_iter()
        .any(of) =>
        {
            "keyword.other.statement.etr"
        }
        _ if of(KeywordClass::ItemPart) || of(KeywordClass::SourceSetting) => "keyword.other.setting.etr",
        _ => "keyword.other.severity.etr",
    }
}

/// The VS Code grammar's `keywords` entry, as `etr.tmLanguage.json` holds it (indented to its place
/// in `repository`): one pattern per colour, each listing its words in table order.
fn textmate_keywords() -> String {
    let mut patterns = Vec::new();
    for &(scope, before, after) in TEXTMATE_COLOURS {
        let words: Vec<&str> = KEYWORDS.iter().filter(|it| textmate_scope(it) == scope).map(|it| it.text).collect();
        if words.is_empty() {
            continue;
        }
        let regex = format!("{before}(?:{}){after}", words.join("|"));
        let json = |text: &str| serde_json::to_string(text).expect("a string is JSON");
        patterns.push(format!(
            "        {{\n          \"name\": {},\n          \"match\": {}\n        }}",
            json(scope),
            json(&regex)
        ));
    }
    format!(
        "    \"keywords\": {{\n      \"comment\": \"Generated from the keyword table, compiler/syntax/src/keywords.rs: \
         UPDATE_EXPECT=1 cargo test -p etr-syntax rewrites it.\",\n      \"patterns\": [\n{}\n      ]\n    }}",
        patterns.join(",\n")
    )
}

/// The VS Code grammar's `keywords` entry is generated from the keyword table, so that a new
/// keyword is coloured without a hand edit; `UPDATE_EXPECT=1 cargo test -p etr-syntax` rewrites
/// it in `etr.tmLanguage.json` (the rest of that file is written by hand). The keyword scopes the
/// declarations colour in their captures must be keywords of the table too.
#[test]
fn the_vscode_grammar_colours_the_tables_keywords() {
    const ENTRY: &str = "    \"keywords\": {\n";
    let start = TEXTMATE_GRAMMAR.find(ENTRY).expect("etr.tmLanguage.json has a `keywords` entry in its repository");
    let end = start
        + TEXTMATE_GRAMMAR[start..].find("\n    }").expect("the `keywords` entry ends at its indentation")
        + "\n    }".len();
    let generated = format!("{}{}{}", &TEXTMATE_GRAMMAR[..start], textmate_keywords(), &TEXTMATE_GRAMMAR[end..]);
    let grammar: serde_json::Value = serde_json::from_str(&generated).expect("the generated grammar is JSON");
    expect_test::expect_file!["../../../../editors/vscode/syntaxes/etr.tmLanguage.json"].assert_eq(&generated);

    // Every keyword has its colour, once.
    let mut coloured: BTreeMap<&str, &str> = BTreeMap::new();
    for pattern in grammar["repository"]["keywords"]["patterns"].as_array().expect("keywords.patterns") {
        let scope = pattern["name"].as_str().expect("a keyword pattern has a scope");
        let regex = pattern["match"].as_str().expect("a keyword pattern matches");
        let words = textmate_word_alternatives(regex).expect("a keyword pattern is a `(?:word|...)` group");
        for word in words {
            assert_eq!(coloured.insert(word, scope), None, "`{word}` has two colours");
        }
    }
    let found: BTreeSet<&str> = coloured.keys().copied().collect();
    if let Some(message) = difference(&found, "the VS Code grammar's `keywords` patterns", &table_words(), "keywords") {
        panic!("{message}");
    }
    let items: Vec<&str> = of_class(KeywordClass::Item).collect();
    assert!(items.iter().all(|it| coloured[it] == "storage.type.etr"), "items are coloured as items");

    // The declaration patterns colour keywords of their own, in captures: those must be keywords.
    let declarations = grammar["repository"]["declarations"]["patterns"].as_array().expect("declarations.patterns");
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
