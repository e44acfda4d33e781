//! Semantic tokens: names coloured by what they resolve to, plus keywords, strings and numbers.

use expect_test::{Expect, expect};

use crate::fixture::fixture;

fn check(text: &str, expected: Expect) {
    let fixture = fixture(text);
    let tokens = fixture.analysis.semantic_tokens(fixture.main()).expect("not cancelled");
    let out: Vec<String> = tokens
        .iter()
        .map(|t| {
            let mark = if t.is_declaration { " (declaration)" } else { "" };
            format!("{:?} {:?}{mark}", fixture.slice(fixture.main(), t.range), t.kind)
        })
        .collect();
    expected.assert_eq(&out.join("\n"));
}

#[test]
fn names_are_coloured_by_their_meaning() {
    check(
        r#"use etr.record
// a comment, with "no string" in it
let late = (days_past_due ?? 0) > 90
rule L1 warn "late ✓" { check not late on days_past_due = as_at_date.format_date("%Y") }
"#,
        expect![[r#"
            "use" Keyword
            "etr.record" Module
            "// a comment, with \"no string\" in it" Comment
            "let" Keyword
            "late" Let (declaration)
            "days_past_due" Field
            "0" Number
            "90" Number
            "rule" Keyword
            "L1" Rule (declaration)
            "warn" Keyword
            "\"late ✓\"" String
            "check" Keyword
            "not" Keyword
            "late" Let
            "on" Keyword
            "days_past_due" Field
            "as_at_date" Field
            "format_date" Function
            "\"%Y\"" String"#]],
    );
}

#[test]
fn columns_tables_rules_and_code_members_of_a_spec() {
    check(
        r#"contributor ACME "Acme" layout 1
use etr.record
use etr.codes
source delimited "|" {
  columns { ACCT, STATUS } else reject R0
}
table statuses: text -> AccountStatus { "A" => "ACTIVE" }
map to Record {
  account_no = ACCT
  account_status = statuses[STATUS] else reject R0
}
rule R0 reject "bad"
"#,
        expect![[r#"
            "contributor" Keyword
            "ACME" Type (declaration)
            "\"Acme\"" String
            "layout" Keyword
            "1" Number
            "use" Keyword
            "etr.record" Module
            "use" Keyword
            "etr.codes" Module
            "source" Keyword
            "delimited" Keyword
            "\"|\"" String
            "columns" Keyword
            "ACCT" Column (declaration)
            "STATUS" Column (declaration)
            "else" Keyword
            "reject" Keyword
            "R0" Rule
            "table" Keyword
            "statuses" Table (declaration)
            "AccountStatus" Type
            "\"A\"" String
            "\"ACTIVE\"" CodeMember
            "map" Keyword
            "to" Keyword
            "Record" Type
            "account_no" Field
            "ACCT" Column
            "account_status" Field
            "statuses" Table
            "STATUS" Column
            "else" Keyword
            "reject" Keyword
            "R0" Rule
            "rule" Keyword
            "R0" Rule (declaration)
            "reject" Keyword
            "\"bad\"" String"#]],
    );
}

#[test]
fn a_comment_and_a_string_end_at_a_lone_cr() {
    // A lone `\r` ends a line as `\n` does: the comment stops there and `let` is a keyword. The
    // compiler ends the unclosed strings at the lone `\r` too (a backslash does not escape it), so
    // `let y = 2` and `let z = 3` are items of their own and `y` and `z` are coloured as the
    // declarations they are: the lexer here and the symbol index read the same lines.
    check(
        "// a comment\rlet x = \"open\rlet y = 2\rlet s = \"tail\\\rlet z = 3\r",
        expect![[r#"
            "// a comment" Comment
            "let" Keyword
            "\"open" String
            "let" Keyword
            "y" Let (declaration)
            "2" Number
            "let" Keyword
            "\"tail\\" String
            "let" Keyword
            "z" Let (declaration)
            "3" Number"#]],
    );
}

#[test]
fn comments_end_before_crlf_and_mixed_line_ends() {
    // `// two` ends at the lone `\r`, for the parser as for the lexer: `let b = 2` is read, so `b`
    // is a declaration, like `a` and `c` whose comments end before `\r\n` and `\n`.
    check(
        "// one\r\nlet a = 1 // two\rlet b = 2 // three\nlet c = \"s\"\r\n",
        expect![[r#"
            "// one" Comment
            "let" Keyword
            "a" Let (declaration)
            "1" Number
            "// two" Comment
            "let" Keyword
            "b" Let (declaration)
            "2" Number
            "// three" Comment
            "let" Keyword
            "c" Let (declaration)
            "\"s\"" String"#]],
    );
}

#[test]
fn tokens_of_a_long_single_line() {
    // A table of 5,000 entries on one line (about 100 kB): every key and value is a token, in
    // order, and each token is exactly its text (the lexer walks the line once, never rescans).
    let entries: Vec<String> = (0..5_000).map(|i| format!("\"k{i}\" => \"v{i}\"")).collect();
    let text = format!("table t: text -> text {{ {} }}\n", entries.join(", "));
    let fixture = fixture(&text);
    let tokens = fixture.analysis.semantic_tokens(fixture.main()).expect("not cancelled");
    let strings: Vec<String> = tokens
        .iter()
        .filter(|t| t.kind == etr_ide::TokenKind::String)
        .map(|t| fixture.slice(fixture.main(), t.range))
        .collect();
    assert_eq!(strings.len(), 10_000);
    assert_eq!(strings[0], "\"k0\"");
    assert_eq!(strings[9_999], "\"v4999\"");
    assert!(tokens.windows(2).all(|w| w[0].range.end <= w[1].range.start), "tokens are in order, none overlapping");
}

#[test]
fn numbers_and_names_are_the_grammars_tokens() {
    // Each number is one token, as the grammar reads it: `1_000` and `RM1_000.50` with their
    // underscores, `2e-3` with its signed exponent. `RM5x` is a name (money ends before a letter),
    // coloured as the let it is.
    check(
        "let a = 1_000 + RM1_000.50 + 2e-3\nlet RM5x = RM5\nlet b = RM5x\n",
        expect![[r#"
            "let" Keyword
            "a" Let (declaration)
            "1_000" Number
            "RM1_000.50" Number
            "2e-3" Number
            "let" Keyword
            "RM5x" Let (declaration)
            "RM5" Number
            "let" Keyword
            "b" Let (declaration)
            "RM5x" Let"#]],
    );
}
