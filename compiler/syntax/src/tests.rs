//! Tests for the parser, all through `parse_file` and three `check_*` helpers.

use std::fmt::Write as _;

use expect_test::{Expect, expect};

use crate::ast::*;
use crate::{ParsedFile, parse_file};

const JCL: &str = include_str!("../../../contributors/jcl.etr");

/// One line per item (keyword, name, span) and per error (span, covered
/// text, message).
fn outline(text: &str, file: &ParsedFile) -> String {
    let mut acc = String::new();
    for item in &file.items {
        let name = match item {
            Item::Contributor(it) => it.code.text.clone(),
            Item::Use(it) => {
                let segments: Vec<_> = it.path.segments.iter().map(|s| s.text.as_str()).collect();
                segments.join(".")
            }
            Item::Source(_) => String::new(),
            Item::Table(it) => it.name.text.clone(),
            Item::Map(it) => it.target.text.clone(),
            Item::Let(it) => it.name.text.clone(),
            Item::Rule(it) => format!("{} {}", it.id.text, it.severity.as_str()),
            Item::Override(it) => it.rule.text.clone(),
            Item::Record(it) => it.name.text.clone(),
            Item::Code(it) => it.name.text.clone(),
        };
        let span = item.span();
        let _ = writeln!(acc, "{} {name} {}..{}", item.keyword(), span.start, span.end);
    }
    for error in &file.errors {
        let covered = text.get(error.span.start as usize..error.span.end as usize).unwrap_or("<bad span>");
        let covered: String = covered.chars().take(40).collect();
        let _ = writeln!(acc, "error {}..{} {covered:?}: {}", error.span.start, error.span.end, error.message);
    }
    acc
}

fn check_file(text: &str, expect: Expect) {
    let file = parse_file(text);
    expect.assert_eq(&outline(text, &file));
}

/// Parses `let x = <expr>` and dumps the expression, or the errors.
fn check_expr(expr: &str, expect: Expect) {
    let text = format!("let x = {expr}");
    let file = parse_file(&text);
    let mut acc = String::new();
    if let [Item::Let(it)] = file.items.as_slice() {
        acc.push_str(&it.value.dump());
        acc.push('\n');
    }
    for error in &file.errors {
        let _ = writeln!(acc, "error {}..{}: {}", error.span.start, error.span.end, error.message);
    }
    expect.assert_eq(&acc);
}

/// Parses without checking anything but that the parser returns and that
/// every span lies inside the text.
fn parse_survives(text: &str) -> ParsedFile {
    let file = parse_file(text);
    for error in &file.errors {
        assert!(error.span.start <= error.span.end, "{error:?}");
        assert!(error.span.end as usize <= text.len(), "{error:?}");
        assert!(text.is_char_boundary(error.span.start as usize), "{error:?}");
        assert!(text.is_char_boundary(error.span.end as usize), "{error:?}");
    }
    file
}

// ---------------------------------------------------------------- whole files

#[test]
fn jcl_parses_without_errors() {
    let file = parse_file(JCL);
    assert_eq!(file.errors, Vec::new());
    check_file(
        JCL,
        expect![[r#"
            contributor JCL 101..146
            use etr.record 148..162
            use etr.codes 163..176
            source  178..884
            table actions 970..1054
            table subject_types 1055..1143
            table id_types 1144..1263
            table genders 1264..1320
            table states 1321..1689
            table segments 1690..1857
            table capacities 1858..1937
            table payment_statuses 1938..2155
            table account_statuses 2156..2354
            map Record 2356..4637
            let total_overdue 4709..4872
            let status_for_dpd 4874..5042
            rule F1 fatal 5097..5268
            rule F2 fatal 5269..5385
            rule F3 fatal 5386..5989
            rule F4 fatal 5990..6110
            rule R0 reject 6477..6577
            rule R1 reject 6578..6747
            rule R2 reject 6748..6815
            rule R3 reject 6816..6882
            rule R4 reject 6883..7085
            rule R5 reject 7086..7292
            rule R6 reject 7293..7501
            rule R7 reject 7502..7628
            rule R8 reject 7629..7809
            rule R9 reject 7810..8021
            rule R10 reject 8022..8275
            rule W1 warn 8345..8510
            rule W2 warn 8511..8725
            rule D1 reject 8792..8968
        "#]],
    );
}

#[test]
fn jcl_details() {
    let file = parse_file(JCL);
    let dump_let = |name: &str| {
        file.items
            .iter()
            .find_map(|item| match item {
                Item::Let(it) if it.name.text == name => Some(it.value.dump()),
                _ => None,
            })
            .unwrap()
    };
    expect![[r#"(+ (+ (+ (+ (paren (?? overdue_1_30 RM0.00)) (paren (?? overdue_31_60 RM0.00))) (paren (?? overdue_61_90 RM0.00))) (paren (?? overdue_91_120 RM0.00))) (paren (?? overdue_120_plus RM0.00)))"#]]
        .assert_eq(&dump_let("total_overdue"));
    expect![[r#"(match days_past_due [0 "0"] [1..=30 "1"] [31..=60 "2"] [61..=90 "3"] [91..=120 "4"] [121..=150 "5"] [151..=180 "6"] [_ "6+"])"#]]
        .assert_eq(&dump_let("status_for_dpd"));

    let source = file.items.iter().find_map(|item| match item {
        Item::Source(it) => Some(it),
        _ => None,
    });
    let source = source.unwrap();
    let columns = source.settings.iter().find_map(|setting| match setting {
        SourceSetting::Columns { columns, handler, .. } => Some((columns.len(), handler.clone())),
        _ => None,
    });
    let (count, handler) = columns.unwrap();
    assert_eq!(count, 41);
    assert!(matches!(handler, Some(Handler::Reject { rule, .. }) if rule.text == "R0"));

    let r4 = file.items.iter().find_map(|item| match item {
        Item::Rule(it) if it.id.text == "R4" => Some(it),
        _ => None,
    });
    let body = r4.unwrap().body.as_ref().unwrap();
    expect![[r#"(== id_type "NRIC")"#]].assert_eq(&body.when().unwrap().dump());
    let check = &body.stmts[1];
    assert_eq!(check.kind, StmtKind::Check, "R4 has a check second");
    assert!(matches!(check.target(), Some(Target::Ident(it)) if it.text == "id_number"));
    expect!["ID_NO"].assert_eq(&check.expr(Some("=")).unwrap().dump());
}

#[test]
fn stdlib_module_with_docs() {
    let text = r#"/// The canonical eTR+ record: one account of one subject in one reporting month.
record Record {
  /// Contributor (trade referee) code.
  contributor_code: text
  /// Reporting period.
  reporting_month: month
  action_code: ActionCode
}
/// Action on the record.
code ActionCode {
  /// add or update
  "A",
  "C", "D", "X"
}
"#;
    let file = parse_file(text);
    assert_eq!(file.errors, Vec::new());
    let mut acc = String::new();
    for item in &file.items {
        let _ = writeln!(acc, "{} doc={:?}", item.keyword(), item.doc().map(|it| &it.text));
        match item {
            Item::Record(it) => {
                for field in &it.fields {
                    let _ = writeln!(
                        acc,
                        "  {}: {} doc={:?}",
                        field.name.text,
                        field.ty.name.text,
                        field.doc.as_ref().map(|it| &it.text)
                    );
                }
            }
            Item::Code(it) => {
                for member in &it.members {
                    let _ =
                        writeln!(acc, "  {:?} doc={:?}", member.value.value, member.doc.as_ref().map(|it| &it.text));
                }
            }
            _ => {}
        }
    }
    expect![[r#"
        record doc=Some("The canonical eTR+ record: one account of one subject in one reporting month.")
          contributor_code: text doc=Some("Contributor (trade referee) code.")
          reporting_month: month doc=Some("Reporting period.")
          action_code: ActionCode doc=None
        code doc=Some("Action on the record.")
          "A" doc=Some("add or update")
          "C" doc=None
          "D" doc=None
          "X" doc=None
    "#]]
    .assert_eq(&acc);
}

#[test]
fn header_field_types() {
    let text = r#"source delimited "|" {
  quote "\""
  header "H" { a: text, b: int, c: money(sen), d: date("%d/%m/%Y"), e: month("%Y%m") }
}
"#;
    let file = parse_file(text);
    assert_eq!(file.errors, Vec::new());
    let [Item::Source(source)] = file.items.as_slice() else {
        panic!("one source");
    };
    let mut acc = String::new();
    for setting in &source.settings {
        match setting {
            SourceSetting::Quote { quote, .. } => {
                let _ = writeln!(acc, "quote {quote:?}");
            }
            SourceSetting::Header(line) => {
                for field in &line.fields {
                    let args: Vec<_> = field
                        .ty
                        .args
                        .iter()
                        .map(|arg| match arg {
                            TypeArg::Ident(it) => it.text.clone(),
                            TypeArg::String(it) => format!("{:?}", it.value),
                        })
                        .collect();
                    let _ = writeln!(acc, "{}: {}({})", field.name.text, field.ty.name.text, args.join(", "));
                }
            }
            _ => {}
        }
    }
    expect![[r#"
        quote Char(StringLit { value: "\"", span: Span { start: 31, end: 35 } })
        a: text()
        b: int()
        c: money(sen)
        d: date("%d/%m/%Y")
        e: month("%Y%m")
    "#]]
    .assert_eq(&acc);
}

/// Every form a type takes (a name; arguments that are names or strings, one or several; a
/// trailing comma; spaces and line breaks anywhere; escapes, non-ASCII and control characters in
/// strings) prints in one spelling.
#[test]
fn types_display_in_one_spelling() {
    let text = "record R {\n  a: text\n  b: money(ringgit)\n  c: date(\"%d/%m/%Y\")\n  \
                d: label(\"a\\\"b\\\\c\\td\")\n  e: label(\"\\u{41}é🦀\\u{1}\")\n  \
                f: pair( a ,\"b\",\n    c, )\n  g: money (\n sen\n)\n}\n";
    let file = parse_file(text);
    assert_eq!(file.errors, Vec::new());
    let [Item::Record(record)] = file.items.as_slice() else {
        panic!("one record");
    };
    let acc: String = record.fields.iter().map(|it| format!("{}: {}\n", it.name.text, it.ty)).collect();
    expect![[r#"
        a: text
        b: money(ringgit)
        c: date("%d/%m/%Y")
        d: label("a\"b\\c\td")
        e: label("Aé🦀\u{1}")
        f: pair(a, "b", c)
        g: money(sen)
    "#]]
    .assert_eq(&acc);
}

// ---------------------------------------------------------------- expressions

#[test]
fn coalesce_binds_tighter_than_arithmetic() {
    check_expr(
        "a ?? b + c ?? d",
        expect![[r#"
        (+ (?? a b) (?? c d))
    "#]],
    );
    check_expr(
        "a ?? b * c",
        expect![[r#"
        (* (?? a b) c)
    "#]],
    );
    check_expr(
        "a ?? b ?? c",
        expect![[r#"
        (?? (?? a b) c)
    "#]],
    );
    check_expr(
        "a + b * c - d % e",
        expect![[r#"
        (- (+ a (* b c)) (% d e))
    "#]],
    );
}

#[test]
fn else_binds_to_the_postfix_expression_before_it() {
    check_expr(
        "a + parse_int(x) else 0",
        expect![[r#"
        (+ a (else (call parse_int x) 0))
    "#]],
    );
    check_expr(
        "actions[ACTION] else reject R3",
        expect![[r#"
        (else (index actions ACTION) (reject R3))
    "#]],
    );
    check_expr(
        "f(x) else fail F1",
        expect![[r#"
        (else (call f x) (fail F1))
    "#]],
    );
    check_expr(
        "-parse_int(x) else 0",
        expect![[r#"
        (- (else (call parse_int x) 0))
    "#]],
    );
    check_expr(
        "f(x) else -1",
        expect![[r#"
        (else (call f x) (- 1))
    "#]],
    );
    check_expr(
        "f(x) else g(x) else null",
        expect![[r#"
        (else (else (call f x) (call g x)) null)
    "#]],
    );
    check_expr(
        "(f(x) else null) ?? RM0",
        expect![[r#"
        (?? (paren (else (call f x) null)) RM0.00)
    "#]],
    );
}

#[test]
fn comparisons_and_tests() {
    check_expr(
        r#"x in ["0", "1"] and y not in [1, -2]"#,
        expect![[r#"
        (and (in x ["0" "1"]) (not-in y [1 -2]))
    "#]],
    );
    check_expr(
        "trailer.count is not null or a is null",
        expect![[r#"
        (or (is-not-null (field trailer count)) (is-null a))
    "#]],
    );
    check_expr(
        "not a == b and c",
        expect![[r#"
        (and (not (== a b)) c)
    "#]],
    );
    check_expr(
        "count() >= 1 and count() <= 5_000_000",
        expect![[r#"
        (and (>= (call count) 1) (<= (call count) 5000000))
    "#]],
    );
    check_expr(
        "a + 1 < b * 2",
        expect![[r#"
        (< (+ a 1) (* b 2))
    "#]],
    );
}

#[test]
fn comparisons_do_not_chain() {
    check_expr(
        "a == b == c",
        expect![[r#"
        error 15..16: expected an operator or the end of the item, found `=`
    "#]],
    );
}

#[test]
fn postfix_chains() {
    check_expr(
        r#"ID_NO.remove_chars("- ").upper()"#,
        expect![[r#"
        (.upper (.remove_chars ID_NO "- "))
    "#]],
    );
    check_expr(
        "header.contributor",
        expect![[r#"
        (field header contributor)
    "#]],
    );
    check_expr(
        "t[k].trim()[0]",
        expect![[r#"
        (index (.trim (index t k)) 0)
    "#]],
    );
}

#[test]
fn literals() {
    check_expr(
        "RM12.50 + RM0 + RM1.5 - -RM3",
        expect![[r#"
        (- (+ (+ RM12.50 RM0.00) RM1.50) (- RM3.00))
    "#]],
    );
    check_expr(
        r#""a\"b\\c\n\t\u{e9}""#,
        expect![[r#"
        "a\"b\\c\n\té"
    "#]],
    );
    check_expr(
        "1_000 + true + false + null",
        expect![[r#"
        (+ (+ (+ 1000 true) false) null)
    "#]],
    );
    check_expr(
        "RM1.005",
        expect![[r#"
        RM1.00
        error 8..15: a money amount has at most two decimals (sen), such as `RM12.50`
    "#]],
    );
    check_expr(
        "99999999999999999999",
        expect![[r#"
        0
        error 8..28: this integer is too large (the largest is 9223372036854775807)
    "#]],
    );
    check_expr(
        r#""\u{D800}""#,
        expect![[r#"
        "�"
        error 9..17: `\u{D800}` is not a Unicode character
    "#]],
    );
}

#[test]
fn numbers_and_thresholds() {
    check_expr(
        "1.5 + 2e3 - -0.25 * 12",
        expect![[r#"
        (- (+ 1.5 2000.0) (* (- 0.25) 12))
    "#]],
    );
    check_file(
        "rule X reject \"m\" mostly 0.95 { check a > 1.5 on a }\nrule Y warn \"n\" mostly 1\n",
        expect![[r#"
            rule X reject 0..52
            rule Y warn 53..77
        "#]],
    );
    let parsed = crate::parse_file("rule X reject \"m\" mostly 0.95 { check a > 1 on a }\n");
    let Some(crate::ast::Item::Rule(rule)) = parsed.items.first() else { panic!("a rule: {parsed:?}") };
    assert_eq!(rule.mostly.map(|(bits, _)| f64::from_bits(bits)), Some(0.95));
}

#[test]
fn if_then_else() {
    check_expr(
        "if a then b else c",
        expect![[r#"
        (if a b c)
    "#]],
    );
    // The `if` always takes its own `else`, even where a handler could go.
    check_expr(
        "if a then f(x) else 0",
        expect![[r#"
        (if a (call f x) 0)
    "#]],
    );
    check_expr(
        "if a then if b then x else y else z",
        expect![[r#"
        (if a (if b x y) z)
    "#]],
    );
    check_expr(
        "if a then (f(x) else 0) else g(x) else 1",
        expect![[r#"
        (if a (paren (else (call f x) 0)) (else (call g x) 1))
    "#]],
    );
    check_expr(
        "1 + if a then 2 else 3 + 4",
        expect![[r#"
        (+ 1 (if a 2 (+ 3 4)))
    "#]],
    );
    check_expr(
        "if a then b",
        expect![[r#"
        error 19..19: expected `else` or an operator, but the item ends here
    "#]],
    );
}

#[test]
fn match_patterns() {
    check_expr(
        r#"match d { 0 => "0", 1..=30 | 31..=60 => "1", RM-1..=RM1 => "m", "x" | null => "n", _ => "6+", }"#,
        expect![[r#"
            error 53..55: expected `}` or a pattern (a literal, a range `lo..=hi` or `_`), found `RM`
        "#]],
    );
    check_expr(
        r#"match d { 0 => "0", 1..=30 | 31..=60 => "1", -RM1..=RM1.50 => "m", "x" | null => "n", _ => "6+", }"#,
        expect![[r#"
            (match d [0 "0"] [(| 1..=30 31..=60) "1"] [-RM1.00..=RM1.50 "m"] [(| "x" null) "n"] [_ "6+"])
        "#]],
    );
}

#[test]
fn multi_line_expressions() {
    check_file(
        "let a = b\n    + c\nlet d = (e\n+ f)\nmap to R {\n  x = y\n  - 1\n  z = w else null\n}\n",
        expect![[r#"
            let a 0..17
            let d 18..33
            map R 34..78
        "#]],
    );
}

// ---------------------------------------------------------------- recovery

#[test]
fn broken_items_do_not_hide_good_ones() {
    let text = r#"// three broken items, two good ones
rule R1 reject "ok" {
  check a == 1 on a
}
rule R2 severe "bad severity"
let good = parse_int(X) else null
map to Record {
  a = 
  b = c
}
table t: text -> Code { "a" => "b" "c" => "d" }
"#;
    check_file(
        text,
        expect![[r#"
            rule R1 reject 37..80
            let good 111..144
            error 89..95 "severe": expected a rule severity: fatal, reject, warn or info, found `severe`
            error 172..173 "=": expected a name, `}` or an operator, found `=`
            error 213..216 "\"c\"": expected `}` or `,`, found `"c"`
        "#]],
    );
}

#[test]
fn expected_lists_are_words() {
    let expected = |text: &str| {
        let file = parse_file(text);
        file.errors.iter().map(|it| format!("{:?}", it.expected)).collect::<Vec<_>>().join("\n")
    };
    expect![[r#"["an expression"]"#]].assert_eq(&expected("let x ="));
    expect![[r#"["`=`"]"#]].assert_eq(&expected("map to R {\n  a b\n}"));
    expect![[r#"["a rule severity: fatal, reject, warn or info"]"#]].assert_eq(&expected("rule R1 bogus \"x\""));
    expect![[r#"["`then`", "an operator"]"#]].assert_eq(&expected("let x = if a b"));
    expect![[r#"["a setting: quote, encoding, header, trailer or columns", "`}`"]"#]]
        .assert_eq(&expected("source delimited \"|\" {\n  bogus\n}"));
    expect![[r#"["an item: contributor, use, source, table, map, let, rule, override, record or code"]"#]]
        .assert_eq(&expected("  indented junk"));
}

#[test]
fn stray_words_at_column_zero() {
    check_file(
        "let a = 1\nrul R1 reject \"typo\" {\n  check a on a\n}\nlet b = 2\n}\nlet c = 3 3\n",
        expect![[r#"
            let a 0..9
            let b 50..59
            error 10..49 "rul R1 reject \"typo\" {\n  check a on a\n}": expected an item: contributor, use, source, table, map, let, rule, override, record or code, found `rul`
            error 60..61 "}": expected an item: contributor, use, source, table, map, let, rule, override, record or code
            error 72..73 "3": expected an operator or the end of the item, found `3`
        "#]],
    );
}

#[test]
fn unclosed_brace_costs_one_item() {
    check_file(
        "rule R1 reject \"x\" {\n  check a on a\nrule R2 reject \"y\"\n",
        expect![[r#"
            rule R2 reject 36..54
            error 36..36 "": expected a statement: when, check, require, unique, strictly, increasing, decreasing or consistent, `}` or `=`, but the item ends here
        "#]],
    );
}

#[test]
fn special_messages() {
    check_file(
        "let a = \"abc\nlet b = \"a\\qb\"\nlet and = 1\n/// dangling\n\nlet c = 1 // fine\n/// doc\n// breaks the doc\nlet d = 1\nrule R1 reject \"x\" {\n  when a\n  when b\n}\n",
        expect![[r#"
            let c 54..63
            let d 98..107
            rule R1 reject 108..148
            error 8..12 "\"abc": this string is not closed: a string ends with `"` on the same line
            error 23..25 "\\q": unknown escape `\q` in a string: use \", \\, \n, \t or \u{...}
            error 32..35 "and": expected a name, found `and` (`and` is a reserved word)
            error 72..79 "/// doc": this doc comment documents nothing: a `///` comment must come right before an item, a record field or a code member; use `//` for other comments
            error 140..146 "when b": a rule has at most one `when`: combine the conditions with `and`
        "#]],
    );
}

#[test]
fn an_override_sets_each_option_once() {
    // A repeated option is a syntax error (the formatter, which prints each option once, used to
    // fail on it with an internal error).
    check_file(
        "override Q25 mostly 0.5 mostly 0.99\noverride Q18 warn fatal\noverride Q1 warn mostly 0.9\n",
        expect![[r#"
            override Q25 0..35
            override Q18 36..59
            override Q1 60..87
            error 24..35 "mostly 0.99": an override has at most one `mostly`
            error 54..59 "fatal": an override sets the severity at most once
        "#]],
    );
}

// ---------------------------------------------------------------- robustness

#[test]
fn garbage_never_panics() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        "\0".to_owned(),
        "\0\0let\0 x = \0".to_owned(),
        "\"".to_owned(),
        "let x = \"unterminated".to_owned(),
        "let x = \"\\u{".to_owned(),
        "let x = 'é' ⊕ 🦀".to_owned(),
        "rule".to_owned(),
        "rule R1".to_owned(),
        "map to".to_owned(),
        "let x = (((".to_owned(),
        ")))]]]}}}".to_owned(),
        "let x = a else".to_owned(),
        "let x = match".to_owned(),
        "let x = if".to_owned(),
        "\r\n\r\nlet x = 1\r\n".to_owned(),
        "///".to_owned(),
        "/// only docs\n".to_owned(),
        "x".repeat(100_000),
        format!("let x = \"{}\"", "y".repeat(100_000)),
        format!("let x = 1{}", " + 1".repeat(25_000)),
        format!("let x = {}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("let x = {}1", "f(".repeat(10_000)),
        format!("let x = {}1", "- ".repeat(10_000)),
        format!("let x = {}1", "not ".repeat(10_000)),
        format!("let x = {}1", "if a then ".repeat(10_000)),
        format!("let x = {}", "a.b".repeat(10_000)),
        format!("let x = a{}", " else 0".repeat(10_000)),
        format!("let x = {}", "match a { 1 => ".repeat(10_000)),
    ];
    // Pseudo-random bytes, made valid UTF-8 the way an editor buffer would be.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [1, 10, 100, 1000, 10_000] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect();
        inputs.push(String::from_utf8_lossy(&bytes).into_owned());
        // Same bytes drawn from the language's own alphabet, to get deeper.
        let alphabet = b"let rule map{}()[]=+-*/?.,:\"\\ \n\tab1RM0_ else if then match => ..= in not is null";
        inputs.push(bytes.iter().map(|b| alphabet[*b as usize % alphabet.len()] as char).collect());
    }
    for input in &inputs {
        parse_survives(input);
    }
}

/// Small random edits of jcl.etr: deletions, duplications and swaps of
/// short slices, the kind of half-typed text an editor sends.
#[test]
fn edited_jcl_never_panics() {
    let bytes = JCL.as_bytes();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    for _ in 0..300 {
        let mut edited = bytes.to_vec();
        for _ in 0..1 + next(4) {
            let at = next(edited.len());
            let len = 1 + next(12);
            let end = (at + len).min(edited.len());
            match next(3) {
                0 => {
                    edited.drain(at..end);
                }
                1 => {
                    let slice = edited[at..end].to_vec();
                    let to = next(edited.len());
                    edited.splice(to..to, slice);
                }
                _ => {
                    let other = next(edited.len());
                    edited.swap(at, other);
                }
            }
        }
        let text = String::from_utf8_lossy(&edited);
        let file = parse_survives(&text);
        // Recovery is per item: a few edits cannot cost most of the file.
        assert!(file.items.len() >= 20, "{} items left", file.items.len());
    }
}

#[test]
fn deep_nesting_is_an_error() {
    let deep = |text: String| {
        let file = parse_survives(&text);
        assert!(file.items.is_empty());
        file.errors.iter().map(|it| it.message.clone()).collect::<Vec<_>>().join("\n")
    };
    expect!["brackets are nested too deeply here (more than 64 levels)"].assert_eq(&deep(format!(
        "let x = {}1{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    )));
    expect!["this expression is nested too deeply or is too long (more than 256 levels): split it with `let`"]
        .assert_eq(&deep(format!("let x = 1{}", " + 1".repeat(25_000))));
    expect!["this expression is nested too deeply or is too long (more than 256 levels): split it with `let`"]
        .assert_eq(&deep(format!("let x = {}1", "- ".repeat(10_000))));
    expect!["this item holds more than 1000 `if` expressions; split it"]
        .assert_eq(&deep(format!("let x = {}1", "if a then ".repeat(10_000))));
}

/// `if`s nest without brackets. A language server's worker threads have 2 MiB of stack, where
/// 60 nested `if`s used to overflow the parser's recursion: parsing now runs on its own stack.
#[test]
fn nested_ifs_never_overflow_a_small_stack() {
    let messages = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut found = Vec::new();
            for n in [60, 250, 1000] {
                let text = format!("let x = {}1{}", "if a then ".repeat(n), " else 2".repeat(n));
                found.extend(parse_survives(&text).errors.iter().map(|e| format!("{n}: {}", e.message)));
            }
            found
        })
        .expect("a thread")
        .join()
        .expect("parsing does not overflow the stack");
    expect![[r#"
        [
            "1000: this expression is nested too deeply or is too long (more than 256 levels): split it with `let`",
        ]
    "#]]
    .assert_debug_eq(&messages);
}

#[test]
fn walk_visits_every_expression() {
    let file = parse_file("let x = f(a, b.c(d)) else (e ?? 1)");
    let [Item::Let(it)] = file.items.as_slice() else {
        panic!("one let");
    };
    let mut acc = Vec::new();
    it.value.walk(|expr| acc.push(expr.dump()));
    expect![[r#"
        [
            "(else (call f a (.c b d)) (paren (?? e 1)))",
            "(call f a (.c b d))",
            "a",
            "(.c b d)",
            "b",
            "d",
            "(paren (?? e 1))",
            "(?? e 1)",
            "e",
            "1",
        ]
    "#]]
    .assert_debug_eq(&acc);
}

#[test]
fn spans_point_at_the_source() {
    let text = "let x = a.f(1) + b";
    let file = parse_file(text);
    let [Item::Let(it)] = file.items.as_slice() else {
        panic!("one let");
    };
    let mut acc = String::new();
    it.value.walk(|expr| {
        let _ = writeln!(acc, "{}", &text[expr.span.start as usize..expr.span.end as usize]);
    });
    expect![[r#"
        a.f(1) + b
        a.f(1)
        a
        1
        b
    "#]]
    .assert_eq(&acc);
}

/// Every module explains itself (house style): a `//!` doc comes first.
#[test]
fn every_module_has_a_doc_comment() {
    let modules = [
        ("lib.rs", include_str!("lib.rs")),
        ("ast.rs", include_str!("ast.rs")),
        ("errors.rs", include_str!("errors.rs")),
        ("grammar_text.rs", include_str!("grammar_text.rs")),
        ("keywords.rs", include_str!("keywords.rs")),
        ("keywords/tests.rs", include_str!("keywords/tests.rs")),
        ("lexer.rs", include_str!("lexer.rs")),
        ("lexer/tests.rs", include_str!("lexer/tests.rs")),
        ("lines.rs", include_str!("lines.rs")),
        ("lower.rs", include_str!("lower.rs")),
        ("split.rs", include_str!("split.rs")),
        ("stack.rs", include_str!("stack.rs")),
        ("tests.rs", include_str!("tests.rs")),
    ];
    for (name, text) in modules {
        assert!(text.starts_with("//!"), "{name} must start with a `//!` doc");
    }
}

/// A lone `\r` ends a line, as in editors and in etr's data reader: a `//` comment before it must
/// not swallow the next line, and an item after it starts a region of its own.
#[test]
fn lone_carriage_return_ends_a_comment_and_a_line() {
    check_file(
        "let a = 1 // note\rlet b = 2\r// own line\rrule R1 reject \"x\" { check b > 0 on b }\r",
        expect![[r#"
            let a 0..9
            let b 18..27
            rule R1 reject 40..79
        "#]],
    );
    // Inside an item, too: the comment ends at the `\r`, and `+ 1` is part of the expression.
    check_expr(
        "1 // c\r+ 2",
        expect![[r#"
        (+ 1 2)
    "#]],
    );
    // A string cannot run past a lone `\r`, any more than past a `\n`.
    let file = parse_file("let s = \"ab\rcd\"\r");
    assert!(!file.errors.is_empty(), "{file:?}");
}

/// The region cut and the limits count brackets and `if`s of the code only: those in strings and
/// comments are inside those tokens.
#[test]
fn brackets_and_ifs_in_strings_and_comments_do_not_count() {
    check_file(
        "map to R {\n  a = \"}\" // })\nb = 1\n}\nlet c = 2\n",
        expect![[r#"
            map R 0..34
            let c 35..44
        "#]],
    );
    let deep = format!("let x = \"{}\" // {}\n", "(".repeat(100), "[".repeat(100));
    assert_eq!(parse_file(&deep).errors, Vec::new());
    let ifs = format!("let x = \"{}\" // {}\n", "if ".repeat(1001), "if ".repeat(1001));
    assert_eq!(parse_file(&ifs).errors, Vec::new());
}

/// The grammar's whitespace is a space, a tab, `\r` and `\n`, and nothing else: a line holding
/// only a form feed or a no-break space is a syntax error at that line, before the first item as
/// after any other, and the items around it still parse. The line-based trivia checks used to
/// trim Unicode whitespace: such a line was ignored before the first item, and after an item it
/// cost that item and the next ("expected an operator or the end of the item, but the item ends
/// here").
#[test]
fn only_the_grammars_whitespace_is_trivia() {
    check_file(
        "\u{c}\nlet a = 1\n\u{c}\nlet b = 2\n",
        expect![[r#"
            let a 2..11
            let b 14..23
            error 0..1 "\u{c}": expected an item: contributor, use, source, table, map, let, rule, override, record or code, found `\u{c}`
            error 12..13 "\u{c}": expected an item: contributor, use, source, table, map, let, rule, override, record or code
        "#]],
    );
    check_file(
        "\u{a0}\nlet a = 1\n\u{a0}\nlet b = 2\n",
        expect![[r#"
            let a 3..12
            let b 16..25
            error 0..2 "\u{a0}": expected an item: contributor, use, source, table, map, let, rule, override, record or code, found `\u{a0}`
            error 13..15 "\u{a0}": expected an item: contributor, use, source, table, map, let, rule, override, record or code
        "#]],
    );
}

/// Whitespace the grammar does not know is read like any other character it refuses, wherever
/// its line is: a form feed like `@` and a no-break space like `é` (the same lengths in bytes), so
/// the same items parse and the errors start at the same places.
#[test]
fn other_unicode_whitespace_is_read_like_a_refused_character() {
    let templates = [
        "#\nlet a = 1\n",
        "// c\n#\n// d\nlet a = 1\n",
        "let a = 1\n#\nlet b = 2\n",
        "let a = 1\n  #  \nlet b = 2\n",
        "let a = 1\n#",
        "/// doc\n#\nlet a = 1\n",
        "let a = 1\n/// doc\n#\n\nlet b = 2\n",
        "map to R {\n  a = 1\n#\n  b = 2\n}\nlet c = 3\n",
        "rule R1 reject \"x\" {\n#\n  check a on a\n}\n",
    ];
    let outcome = |text: &str| {
        let file = parse_file(text);
        let items: Vec<(&str, Span)> = file.items.iter().map(|it| (it.keyword(), it.span())).collect();
        let errors: Vec<u32> = file.errors.iter().map(|it| it.span.start).collect();
        (items, errors)
    };
    for template in templates {
        for (odd, refused) in [("\u{c}", "@"), ("\u{a0}", "é")] {
            let with_odd = template.replace('#', odd);
            let (items, errors) = outcome(&with_odd);
            assert!(!errors.is_empty(), "{with_odd:?} has no syntax error");
            assert_eq!((items, errors), outcome(&template.replace('#', refused)), "{with_odd:?}");
        }
    }
}

/// Every statement is its words and its clauses; a clause starts at a keyword or `=` and holds an
/// expression, a label, or names continued by commas.
#[test]
fn rule_statements_are_words_and_clauses() {
    let text = "rule R1 reject \"x\" {\n  when a > 1\n  check b on \"label\" = B\n  require c, d\n  unique e, f on e\n  strictly \t decreasing g per h, i on g\n  increasing g on \"g\"\n  consistent j per k on \"j\"\n}\n";
    let file = parse_file(text);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    let Some(Item::Rule(rule)) = file.items.first() else { panic!("a rule") };
    let mut acc = String::new();
    for stmt in &rule.body.as_ref().expect("a body").stmts {
        let words: Vec<String> = stmt.words.iter().map(|w| format!("{}@{}", w.text, w.span.start)).collect();
        write!(acc, "{:?} [{}]", stmt.kind, words.join(" ")).unwrap();
        for clause in &stmt.clauses {
            let lead = clause.lead.as_ref().map_or(String::new(), |w| format!("{}@{} ", w.text, w.span.start));
            let value = match &clause.value {
                ClauseValue::Expr(expr) => expr.dump(),
                ClauseValue::Names(names) => names.iter().map(|n| n.text.as_str()).collect::<Vec<_>>().join(","),
                ClauseValue::Label(label) => format!("{:?}", label.value),
            };
            write!(acc, " | {lead}{value}").unwrap();
        }
        writeln!(acc, " ({}..{})", stmt.span.start, stmt.span.end).unwrap();
    }
    expect![[r#"
        When [when@23] | (> a 1) (23..33)
        Check [check@36] | b | on@44 "label" | =@55 B (36..58)
        Require [require@61] | c,d (61..73)
        Unique [unique@76] | e,f | on@88 e (76..92)
        Order { descending: true, strict: true } [strictly@95 decreasing@106] | g | per@119 h,i | on@128 g (95..132)
        Order { descending: false, strict: false } [increasing@135] | g | on@148 "g" (135..154)
        Consistent [consistent@157] | j | per@170 k | on@176 "j" (157..182)
    "#]]
    .assert_eq(&acc);
    let order = &rule.body.as_ref().unwrap().stmts[4];
    assert_eq!(&text[order.words[1].span.start as usize..order.words[1].span.end as usize], "decreasing");
    assert_eq!(order.names(Some("per")).len(), 2);
    assert!(matches!(order.target(), Some(Target::Ident(it)) if it.text == "g"));
    assert!(order.names(Some("when")).is_empty());
}
