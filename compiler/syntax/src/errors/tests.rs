//! The syntax errors' descriptions of grammar rules, against the grammar's rules.

use super::*;

/// A keyword's grammar rule is described from the keyword table, and a statement's as a
/// statement, whatever the word: a new keyword or statement needs no line in this file.
#[test]
fn every_keyword_and_statement_rule_is_described() {
    let mut keyword_rules = 0;
    for rule in Rule::all_rules() {
        let name = format!("{rule:?}");
        let Some(word) = name.strip_prefix("kw_") else {
            if name.ends_with("_stmt") {
                assert_eq!(describe(*rule), Some(EXPECTED_STATEMENT.as_str()), "{name}");
            }
            continue;
        };
        keyword_rules += 1;
        let described = describe(*rule).unwrap_or_else(|| panic!("the grammar's `{name}` is not described"));
        let quoted = format!("`{word}`");
        let listed = [EXPECTED_ITEM.as_str(), EXPECTED_SETTING.as_str(), EXPECTED_STATEMENT.as_str()];
        let by_construct = [EXPECTED_OPERATOR, EXPECTED_ZONE, EXPECTED_FORMAT];
        assert!(
            described == quoted
                || by_construct.contains(&described)
                || listed.contains(&described) && described.contains(&format!(" {word}")),
            "`{name}` is described as {described:?}, which neither names `{word}` nor a construct"
        );
    }
    assert!(keyword_rules > 30, "only {keyword_rules} `kw_*` rules: did the grammar's naming change?");
}
