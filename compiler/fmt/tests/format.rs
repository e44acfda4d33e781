//! The formatter's style, shown on hand-written messy specs (snapshots), plus its guarantees on
//! every input: syntax errors are refused, comments survive, formatting is idempotent, and no
//! input, however mangled, makes it panic.

use expect_test::{Expect, expect};
use proptest::prelude::*;

/// Formats `input` and compares with the snapshot; also checks that the result is a fixed point.
fn check(input: &str, expected: Expect) {
    let formatted = etr_fmt::format(input).unwrap_or_else(|error| panic!("{error}"));
    expected.assert_eq(&formatted);
    assert_eq!(etr_fmt::format(&formatted).as_deref(), Ok(formatted.as_str()), "formatting is not idempotent");
}

#[test]
fn items_get_canonical_spacing_and_blank_lines_collapse_to_one() {
    check(
        r#"
contributor   JCL    "JCL Credit"   layout 3
use etr . record


use etr.codes
source delimited "|" { quote none
encoding "utf-8"   else reject R0
    header "H" { contributor : text , month: text }
  columns { A , B, C, } else reject R0 }
"#,
        expect![[r#"
            contributor JCL "JCL Credit" layout 3
            use etr.record

            use etr.codes
            source delimited "|" {
              quote none
              encoding "utf-8" else reject R0
              header "H" { contributor: text, month: text }
              columns { A, B, C } else reject R0
            }
        "#]],
    );
}

#[test]
fn comments_stay_where_they_were_written() {
    check(
        r#"// file comment

// about the map
map to Record { // the mapping
  a = A // trailing
  // own line

  long_name = f( // after the bracket
     B, C)
  // before the brace
}
let x = 1 + // after the operator
  2
// end of file
"#,
        expect![[r#"
            // file comment

            // about the map
            map to Record { // the mapping
              a = A // trailing
              // own line

              long_name = f( // after the bracket
                B,
                C
              )
              // before the brace
            }
            let x = 1 + 2 // after the operator
            // end of file
        "#]],
    );
}

#[test]
fn doc_comments_stay_on_their_own_lines_with_what_they_document() {
    check(
        r#"
/// The record.
///   Indented doc text is kept as written.
record Record { /// first
a: text, b: money(ringgit)
  /// third
    c: date("%d/%m/%Y") }
  /// A code list.
code Kind { /// one
"A", "B" }
code Plain {"X","Y",}
"#,
        expect![[r#"
            /// The record.
            ///   Indented doc text is kept as written.
            record Record {
              /// first
              a: text
              b: money(ringgit)
              /// third
              c: date("%d/%m/%Y")
            }
            /// A code list.
            code Kind {
              /// one
              "A",
              "B"
            }
            code Plain { "X", "Y" }
        "#]],
    );
}

#[test]
fn rules_have_one_statement_per_line_and_options_in_written_order() {
    check(
        r#"
rule R1 reject "a mandatory field is empty" mostly   0.95 fatal above 2 % { require a,b,
c
when x is not null check y>=RM0 on y=Y unique a, b on key
strictly   increasing n on n }
rule R2 reject "bare"
override Q18 warn above 1% mostly 0.9 reject
rule R3 fatal "empty" { }
"#,
        expect![[r#"
            rule R1 reject "a mandatory field is empty" mostly 0.95 fatal above 2% {
              require a, b, c
              when x is not null
              check y >= RM0 on y = Y
              unique a, b on key
              strictly increasing n on n
            }
            rule R2 reject "bare"
            override Q18 warn above 1% mostly 0.9 reject
            rule R3 fatal "empty" {}
        "#]],
    );
}

/// Every statement is printed by the same code, clause by clause: a list of names too long for its
/// line fills the next ones one level in, after `unique` or `per` alike, whatever the statement, and
/// a comment inside a statement keeps its place.
#[test]
fn statement_clauses_fill_lines_alike_whatever_the_statement() {
    check(
        r#"
rule P1 reject "x" {
unique account_number_of_the_subject, capacity_of_the_subject, reporting_month_of_the_file, line, more on key
increasing as_at_date per account_number_of_the_subject, capacity_of_the_subject, reporting_month_of_the_file on as_at_date
decreasing   balance per account_no // the account
  on balance
consistent open_date per account_number_of_the_subject, capacity_of_the_subject, reporting_month_of_the_file on open_date
}
"#,
        expect![[r#"
            rule P1 reject "x" {
              unique account_number_of_the_subject, capacity_of_the_subject, reporting_month_of_the_file, line,
                more on key
              increasing as_at_date per account_number_of_the_subject, capacity_of_the_subject,
                reporting_month_of_the_file on as_at_date
              decreasing balance per account_no on balance // the account
              consistent open_date per account_number_of_the_subject, capacity_of_the_subject,
                reporting_month_of_the_file on open_date
            }
        "#]],
    );
}

#[test]
fn map_alignment_restarts_after_a_blank_line() {
    check(
        r#"
map to Record {
  a = A
  longer_name = B

  c=C
  d    =   -D ?? -RM1.50
}
"#,
        expect![[r#"
            map to Record {
              a           = A
              longer_name = B

              c = C
              d = -D ?? -RM1.50
            }
        "#]],
    );
}

#[test]
fn long_expressions_break_before_operators_then_inside_brackets() {
    check(
        r#"
let total_overdue = (overdue_1_30 ?? RM0) + (overdue_31_60 ?? RM0) + (overdue_61_90 ?? RM0) + (overdue_91_120 ?? RM0)
let short = if a  then  b else   c
let bucket = match days { 0 => "0", 1..=30 => "1", - 5 | -1 => "neg", _ => "6+" }
let ok = x not in [ "A","B" ] and y in ["C",] or not z
rule F1 fatal "totals" {
  check trailer.sum_overdue == sum((parse_money(OD_1_30, ringgit) else null) ?? RM0 + (parse_money(OD_31_60, ringgit) else null) ?? RM0) on "sum od"
}
"#,
        expect![[r#"
            let total_overdue = (overdue_1_30 ?? RM0)
              + (overdue_31_60 ?? RM0)
              + (overdue_61_90 ?? RM0)
              + (overdue_91_120 ?? RM0)
            let short = if a then b else c
            let bucket = match days { 0 => "0", 1..=30 => "1", -5 | -1 => "neg", _ => "6+" }
            let ok = x not in ["A", "B"] and y in ["C"] or not z
            rule F1 fatal "totals" {
              check trailer.sum_overdue
                == sum(
                  (parse_money(OD_1_30, ringgit) else null) ?? RM0
                    + (parse_money(OD_31_60, ringgit) else null) ?? RM0
                ) on "sum od"
            }
        "#]],
    );
}

#[test]
fn tables_fill_lines_and_literals_are_kept_as_written() {
    check(
        "table states: text -> StateCode { \"JOHOR\" => \"01\", \"KEDAH\" => \"02\", \"KELANTAN\" => \"03\", \
         \"MELAKA\" => \"04\", \"NEGERI SEMBILAN\" => \"05\", \"PAHANG\" => \"06\" }\r\n\
         let big = 1_000_000 + RM1_000.50 + 2e-3 + \"tab\\there \\u{41}\"\r\n",
        expect![[r#"
            table states: text -> StateCode {
              "JOHOR" => "01", "KEDAH" => "02", "KELANTAN" => "03", "MELAKA" => "04", "NEGERI SEMBILAN" => "05",
              "PAHANG" => "06"
            }
            let big = 1_000_000 + RM1_000.50 + 2e-3 + "tab\there \u{41}"
        "#]],
    );
}

#[test]
fn empty_and_comment_only_files() {
    check("", expect![[""]]);
    check("\n\n   \n", expect![[""]]);
    check(
        "\n\n// only a comment   \n\n\n//// four slashes\n",
        expect![[r#"
            // only a comment

            //// four slashes
        "#]],
    );
}

#[test]
fn a_file_with_syntax_errors_is_refused_with_positions() {
    let error = etr_fmt::format("let a = 1\nlet b = \nrule R1 reject \"x\" {\n  check on y\n}\n").unwrap_err();
    let etr_fmt::FormatError::Syntax(problems) = &error else { panic!("{error:?}") };
    let positions: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(positions, [(3, 1), (4, 9)]);
    assert!(error.to_string().starts_with("not formatted: 2 syntax errors\n  line 3, column 1: "), "{error}");
}

/// A form feed or a no-break space is not whitespace to the grammar: a line holding one is a
/// syntax error wherever it is, and the formatter refuses the file rather than drop the character
/// (it used to format `\u{c}\nlet a = 1` to `let a = 1`).
#[test]
fn a_line_of_other_unicode_whitespace_is_refused() {
    for odd in ["\u{c}", "\u{a0}"] {
        for text in [format!("{odd}\nlet a = 1\n"), format!("let a = 1\n{odd}\nlet b = 2\n")] {
            let Err(etr_fmt::FormatError::Syntax(problems)) = etr_fmt::format(&text) else {
                panic!("{text:?} must be refused");
            };
            let line = text.lines().position(|it| it == odd).expect("the odd line") + 1;
            assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [line], "{text:?}: {problems:?}");
        }
    }
}

/// Chains as deep as the parser accepts (256 levels) format without exhausting a test thread's
/// stack: the formatter walks them in loops. Nesting that recurses (brackets, `if` in `else`) is
/// tested as deep as the parser itself gets on such a thread.
#[test]
fn expressions_at_the_parsers_depth_limit_format() {
    let chain = 250;
    let nesting = 40;
    let specs = [
        format!("let x = a{}\n", " ?? a".repeat(chain)),
        format!("let x = {}{}a\n", "not ".repeat(chain / 2), "- ".repeat(chain / 2)),
        format!("let x = a{}\n", ".f(b).g[c] else null".repeat(chain / 4)),
        format!("let x = {}c\n", "if a then b else ".repeat(nesting)),
        format!("let x = {}a{}\n", "f((".repeat(nesting / 2), "))".repeat(nesting / 2)),
    ];
    for spec in specs {
        let formatted = etr_fmt::format(&spec).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(etr_fmt::format(&formatted).as_deref(), Ok(formatted.as_str()));
    }
}

// ---------------------------------------------------------------- properties

const JCL: &str = include_str!("../../../contributors/jcl.etr");
const ACME: &str = include_str!("../../../examples/acme_telco.etr");
const CODES: &str = include_str!("../../../stdlib/etr/codes.etr");
const STANDARD: &str = include_str!("../../../stdlib/etr/rules/standard.etr");

/// Snippets that make interesting edits: brackets, comments, doc lines, keywords, operators.
const SNIPPETS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    "\n",
    " ",
    "// c\n",
    "/// d\n",
    "//// e\n",
    "\"",
    "\"s // t\"",
    "else",
    "reject R1",
    "match x {",
    "=>",
    "_",
    "-",
    "- 5",
    "1..=3",
    "??",
    "+",
    "==",
    "not",
    "in [1, 2]",
    "is not null",
    "rule R9 warn \"m\"",
    "\nlet q = ",
    "\nmap to Record {",
    "if a then b else c",
    "RM1.50",
    "1e3",
    "\r\n",
    "\r",
    "// c\r",
    "\t",
    "x.f(",
    "a.b",
    "%",
    "above",
    "mostly 0.5",
    "strictly increasing",
    "é",
];

/// A lone `\r` ends a line and a comment, as `\n` does: the formatter keeps the comment and the
/// code after it (it used to read the code as part of the comment), and moves nothing.
#[test]
fn lone_carriage_returns_end_comments_and_lines() {
    check(
        "let a = 1 // note\rlet b = 2\r// own line\r\rrule R1 reject \"x\" {\r  // inside\r  check b > 0 on b\r}\r",
        expect![[r#"
            let a = 1 // note
            let b = 2
            // own line

            rule R1 reject "x" {
              // inside
              check b > 0 on b
            }
        "#]],
    );
}

/// An own-line comment between two tokens of an item header continues the item: it and the token
/// after it are indented, because a word at column 0 starts a new item (`etr fmt` used to print
/// `R1` there and refuse its own output).
#[test]
fn own_line_comments_inside_item_headers_keep_the_item_whole() {
    check(
        "rule\n  // which rule\n  R1\n  // why\n  reject \"x\" warn above\n// c\n  2% { check a\n// d\n  > 0 on a }\nlet a =\n  // one\n  1\n",
        expect![[r#"
            rule
              // which rule
              R1
              // why
              reject "x" warn above
              // c
              2% {
              check a
                // d
                > 0 on a
            }
            let a =
              // one
              1
        "#]],
    );
}

/// A spec from the repository with a few random edits: deletions, insertions of snippets and
/// duplications of a slice of the text.
fn mangled_spec() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![JCL, ACME, CODES, STANDARD]);
    let edit = (0usize..3, any::<prop::sample::Index>(), 0usize..40, prop::sample::select(SNIPPETS));
    (base, prop::collection::vec(edit, 0..6)).prop_map(|(base, edits)| {
        let mut text = base.to_owned();
        for (kind, at, len, snippet) in edits {
            let start = floor_char_boundary(&text, at.index(text.len() + 1));
            let end = floor_char_boundary(&text, (start + len).min(text.len()));
            match kind {
                0 => text.replace_range(start..end, ""),
                1 => text.insert_str(start, snippet),
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// On any text: no panic, no internal error, and whatever is formatted is a fixed point that
    /// keeps the comments.
    #[test]
    fn formatting_mangled_specs_never_panics_and_is_stable(text in mangled_spec()) {
        match etr_fmt::format(&text) {
            Ok(formatted) => {
                prop_assert_eq!(etr_fmt::format(&formatted), Ok(formatted.clone()));
                prop_assert_eq!(comment_count(&text), comment_count(&formatted));
            }
            Err(etr_fmt::FormatError::Syntax(problems)) => prop_assert!(!problems.is_empty()),
            Err(error @ etr_fmt::FormatError::Internal(_)) => prop_assert!(false, "{}", error),
        }
    }

    /// Random printable text is refused or formatted, never a panic.
    #[test]
    fn formatting_random_text_never_panics(text in "[ -~\n]{0,200}") {
        if let Err(error @ etr_fmt::FormatError::Internal(_)) = etr_fmt::format(&text) {
            prop_assert!(false, "{}", error);
        }
    }
}

/// How many `//` markers start a comment or doc line outside strings (a rough oracle; the exact
/// one, comparing texts, is in the repository-wide test in `tests/tests/fmt.rs`).
fn comment_count(text: &str) -> usize {
    // A lone `\r` ends a line too; the empty pieces `\r\n` leaves hold no comment.
    text.split(['\n', '\r'])
        .filter(|line| {
            let mut in_string = false;
            let mut escaped = false;
            for (i, c) in line.char_indices() {
                match (in_string, escaped, c) {
                    (true, true, _) => escaped = false,
                    (true, false, '\\') => escaped = true,
                    (true, false, '"') => in_string = false,
                    (false, _, '"') => in_string = true,
                    (false, _, '/') if line[i..].starts_with("//") => return true,
                    _ => {}
                }
            }
            false
        })
        .count()
}
