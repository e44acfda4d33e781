//! The interpreter's behaviour through its public API, on hand-built programs (the front end that
//! lowers specs is not there yet): built-ins with their result types, three-valued logic, failure
//! handlers, malformed lines, aggregates, file checks, key hashes and the output batch. One test
//! binary: `jcl` runs the W1 spec, `dataset` decides a file's dataset checks, `props` holds the
//! property tests, `tidy` the house-style checks.

mod aggregates;
mod dataset;
mod jcl;
mod number;
mod props;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, UInt32Type};
use etr_interp::test_support::*;
use etr_interp::{AggregateStates, BatchResult, InterpError, Interpreter, RawBatch, RawRecordLine, Scalar};
use etr_ir::*;
use etr_tests::jcl_program;

/// Renders slot `row` of an evaluated field for comparison: `null`, or the value with its layout.
pub(crate) fn show(array: &ArrayRef, row: usize) -> String {
    if array.is_null(row) {
        return "null".to_owned();
    }
    match array.data_type() {
        DataType::Utf8View => format!("{:?}", array.as_string_view().value(row)),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float64 => format!("{:?}", array.as_primitive::<Float64Type>().value(row)),
        DataType::Date32 => format!("d{}", array.as_primitive::<Date32Type>().value(row)),
        DataType::UInt32 => format!("#{}", array.as_primitive::<UInt32Type>().value(row)),
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        other => format!("?{other}"),
    }
}

/// Evaluates `expr` as the only binding (field 0, of the expression's kind) over a one-column
/// batch, and returns the field's Arrow type and its rendered values.
pub(crate) fn eval_over(expr: Expr, program: Program, input: &[Option<&str>]) -> (DataType, Vec<String>, BatchResult) {
    let mut program = program;
    program.record.fields = vec![field_def("out", expr.ty.kind)].into();
    program.bindings = vec![Binding { target: Slot::Field(idx(0)), expr }];
    let interp = Interpreter::new(Arc::new(program)).expect("program prepares");
    let result = interp.eval_batch(&one_column(input)).expect("batch evaluates");
    let out = &result.fields[0];
    let shown = (0..out.len()).map(|i| show(out, i)).collect();
    (out.data_type().clone(), shown, result)
}

pub(crate) fn eval_col(expr: Expr, input: &[Option<&str>]) -> (DataType, Vec<String>) {
    let (ty, values, _) = eval_over(expr, program(&["A"]), input);
    (ty, values)
}

pub(crate) fn days(y: i64, m: u32, d: u32) -> i32 {
    // Days since 1970-01-01 counted the slow, obvious way: an oracle for the calendar code.
    let mut n = 0i64;
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = |y: i64, m: u32| match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if y >= 1970 {
        for yy in 1970..y {
            n += if leap(yy) { 366 } else { 365 };
        }
    } else {
        for yy in y..1970 {
            n -= if leap(yy) { 366 } else { 365 };
        }
    }
    for mm in 1..m {
        n += dim(y, mm);
    }
    (n + d as i64 - 1) as i32
}

macro_rules! check_fn {
    ($name:ident, $expr:expr, $ty:expr, [$(($input:expr, $want:expr)),* $(,)?]) => {
        #[test]
        fn $name() {
            let inputs: Vec<Option<&str>> = vec![$($input),*];
            let wants: Vec<String> = vec![$($want.to_string()),*];
            let (ty, got) = eval_col($expr, &inputs);
            assert_eq!(ty, $ty, "result type");
            for ((input, got), want) in inputs.iter().zip(&got).zip(&wants) {
                assert_eq!(got, want, "input {input:?}");
            }
        }
    };
}

fn txt(f: Builtin) -> Expr {
    call(f, vec![column(0)], TypeKind::Text)
}

check_fn!(
    trim_strips_unicode_whitespace,
    txt(Builtin::Trim),
    DataType::Utf8View,
    [
        (Some("  ab  "), "\"ab\""),
        (Some("ab"), "\"ab\""),
        (Some("\t a b \n"), "\"a b\""),
        (Some("\u{a0}x\u{3000}"), "\"x\""),
        (Some("   "), "\"\""),
        (Some("  a value longer than twelve bytes  "), "\"a value longer than twelve bytes\""),
        (None, "null"),
    ]
);

check_fn!(
    upper_ascii_and_unicode,
    txt(Builtin::Upper),
    DataType::Utf8View,
    [
        (Some("abc"), "\"ABC\""),
        (Some("ABC"), "\"ABC\""),
        (Some("straße"), "\"STRASSE\""),
        (Some("éa"), "\"ÉA\""),
        (None, "null"),
    ]
);

check_fn!(
    lower_ascii_and_unicode,
    txt(Builtin::Lower),
    DataType::Utf8View,
    [(Some("AbC"), "\"abc\""), (Some("ΣΑΣ"), "\"σας\""), (None, "null"),]
);

check_fn!(
    remove_chars_drops_the_set,
    txt(Builtin::RemoveChars("- ".into())),
    DataType::Utf8View,
    [
        (Some("850818-14-5867"), "\"850818145867\""),
        (Some("85 08 18"), "\"850818\""),
        (Some("850818145867"), "\"850818145867\""),
        (Some("- -"), "\"\""),
        (None, "null"),
    ]
);

check_fn!(
    remove_chars_non_ascii_set,
    txt(Builtin::RemoveChars("é".into())),
    DataType::Utf8View,
    [(Some("café"), "\"caf\""),]
);

check_fn!(
    replace_every_occurrence,
    txt(Builtin::Replace("ab".into(), "x".into())),
    DataType::Utf8View,
    [(Some("abcab"), "\"xcx\""), (Some("none"), "\"none\""), (None, "null"),]
);

check_fn!(
    null_if_empty_only_nulls_empty,
    txt(Builtin::NullIfEmpty),
    DataType::Utf8View,
    [(Some(""), "null"), (Some(" "), "\" \""), (Some("a"), "\"a\""), (None, "null"),]
);

check_fn!(
    substring_by_chars_clamped,
    call(Builtin::Substring, vec![column(0), int_lit(1), int_lit(3)], TypeKind::Text),
    DataType::Utf8View,
    [
        (Some("abcdef"), "\"bcd\""),
        (Some("ab"), "\"b\""),
        (Some(""), "\"\""),
        (Some("éàüö"), "\"àüö\""),
        (Some("a value longer than twelve"), "\" va\""),
        (None, "null"),
    ]
);

check_fn!(
    substring_negative_and_null_args,
    call(Builtin::Substring, vec![column(0), int_lit(-5), null_lit(TypeKind::Int)], TypeKind::Text),
    DataType::Utf8View,
    [(Some("abc"), "null")]
);

check_fn!(
    length_in_chars,
    call(Builtin::Length, vec![column(0)], TypeKind::Int),
    DataType::Int64,
    [(Some("abc"), "3"), (Some("éé"), "2"), (Some(""), "0"), (None, "null"),]
);

check_fn!(
    matches_is_a_search,
    call(Builtin::Matches("b+c".into()), vec![column(0)], TypeKind::Bool),
    DataType::Boolean,
    [(Some("abbbcd"), "true"), (Some("ac"), "false"), (None, "null")]
);

check_fn!(
    is_valid_nric_rules,
    call(Builtin::IsValidNric, vec![column(0)], TypeKind::Bool),
    DataType::Boolean,
    [
        (Some("850818145867"), "true"),
        (Some("000229145867"), "true"),
        (Some("850230145867"), "false"),
        (Some("850818175867"), "false"),
        (Some("85081814586"), "false"),
        (Some("85081814586a"), "false"),
        (None, "null"),
    ]
);

check_fn!(
    is_valid_ssm_rules,
    call(Builtin::IsValidSsm, vec![column(0)], TypeKind::Bool),
    DataType::Boolean,
    [(Some("201901000123"), "true"), (Some("201907000123"), "false"), (None, "null"),]
);

check_fn!(
    nric_gender_members,
    call(Builtin::NricGender { code_type: idx(0), male: 0, female: 1 }, vec![column(0)], TypeKind::Code(idx(0))),
    DataType::UInt32,
    [
        (Some("850818145867"), "#0"),
        (Some("850818145868"), "#1"),
        (Some("85081814586X"), "null"),
        (Some("1"), "null"),
        (None, "null")
    ]
);

fn parse(f: Builtin, kind: TypeKind) -> Expr {
    fallible(f, column(0), kind, or_default(null_lit(kind)))
}

check_fn!(
    parse_int_values,
    parse(Builtin::ParseInt, TypeKind::Int),
    DataType::Int64,
    [
        (Some("42"), "42"),
        (Some("+42"), "42"),
        (Some("-42"), "-42"),
        (Some("9223372036854775808"), "null"),
        (Some("--1"), "null"),
        (Some(" 1"), "null"),
        (None, "null"),
    ]
);

check_fn!(
    parse_money_ringgit_edges,
    parse(Builtin::ParseMoney(MoneyUnit::Ringgit), TypeKind::Money),
    DataType::Int64,
    [
        (Some("1.5"), "150"),
        (Some("-0.05"), "-5"),
        (Some("123.45"), "12345"),
        (Some("7"), "700"),
        (Some(".5"), "null"),
        (Some("1."), "null"),
        (Some("1.234"), "null"),
        (Some("--1"), "null"),
        (Some(""), "null"),
        (Some(" 1"), "null"),
        (None, "null"),
    ]
);

check_fn!(
    parse_money_sen,
    parse(Builtin::ParseMoney(MoneyUnit::Sen), TypeKind::Money),
    DataType::Int64,
    [(Some("150"), "150"), (Some("1.50"), "null"),]
);

check_fn!(
    parse_date_calendar,
    parse(Builtin::ParseDate(date_format("%d/%m/%Y")), TypeKind::Date),
    DataType::Date32,
    [
        (Some("01/01/1970"), "d0"),
        (Some("29/02/2000"), format!("d{}", days(2000, 2, 29))),
        (Some("29/02/1900"), "null"),
        (Some("31/02/2025"), "null"),
        (Some("31/12/1969"), "d-1"),
        (Some("1/1/2025"), "null"),
        (None, "null"),
    ]
);

check_fn!(
    parse_month_first_day,
    parse(Builtin::ParseMonth(date_format("%Y%m")), TypeKind::Month),
    DataType::Date32,
    [(Some("202506"), format!("d{}", days(2025, 6, 1))), (Some("202513"), "null"),]
);

check_fn!(
    format_date_two_digit_year,
    call(
        Builtin::FormatDate(date_format("%y%m%d")),
        vec![parse(Builtin::ParseDate(date_format("%d/%m/%Y")), TypeKind::Date)],
        TypeKind::Text
    ),
    DataType::Utf8View,
    [(Some("10/11/2003"), "\"031110\""), (Some("18/08/1985"), "\"850818\""), (None, "null")]
);

/// A bool column from text: `t` true, `f` false, empty null.
pub(crate) fn bool_col(c: u32) -> Expr {
    binary(BinaryOp::Eq, column(c), text_lit("t"))
}

#[test]
fn kleene_truth_tables() {
    let vals = [Some("t"), Some("f"), None];
    let mut rows = Vec::new();
    for a in vals {
        for b in vals {
            rows.push(vec![a, b]);
        }
    }
    let batch = batch(&rows, 2);
    let run = |expr: Expr| -> Vec<String> {
        let mut p = program(&["A", "B"]);
        p.record.fields = vec![field_def("out", TypeKind::Bool)].into();
        p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr }];
        let interp = Interpreter::new(Arc::new(p)).expect("prepares");
        let r = interp.eval_batch(&batch).expect("evaluates");
        (0..9).map(|i| show(&r.fields[0], i)).collect()
    };
    // Rows: (t,t) (t,f) (t,n) (f,t) (f,f) (f,n) (n,t) (n,f) (n,n).
    let and = run(binary(BinaryOp::And, bool_col(0), bool_col(1)));
    assert_eq!(and, ["true", "false", "null", "false", "false", "false", "null", "false", "null"]);
    let or = run(binary(BinaryOp::Or, bool_col(0), bool_col(1)));
    assert_eq!(or, ["true", "true", "true", "true", "false", "null", "true", "null", "null"]);
    let not = run(not(bool_col(0)));
    assert_eq!(not, ["false", "false", "false", "true", "true", "true", "null", "null", "null"]);
    let is_null_ = run(is_null(bool_col(0), false));
    assert_eq!(is_null_, ["false", "false", "false", "false", "false", "false", "true", "true", "true"]);
    // The same tables with a scalar on one side (array-scalar variants).
    let and_false = run(binary(BinaryOp::And, bool_col(0), bool_lit(false)));
    assert_eq!(and_false, ["false"; 9]);
    let or_null = run(binary(BinaryOp::Or, bool_col(0), null_lit(TypeKind::Bool)));
    assert_eq!(or_null, ["true", "true", "true", "null", "null", "null", "null", "null", "null"]);
    // Scalar-scalar folds.
    let scalar = run(binary(BinaryOp::And, bool_lit(true), null_lit(TypeKind::Bool)));
    assert_eq!(scalar, ["null"; 9]);
    let scalar = run(binary(BinaryOp::Or, bool_lit(true), null_lit(TypeKind::Bool)));
    assert_eq!(scalar, ["true"; 9]);
    let eq_null = run(binary(BinaryOp::Eq, column(0), null_lit(TypeKind::Text)));
    assert_eq!(eq_null, ["null"; 9]);
}

fn money_col(c: u32) -> Expr {
    parse_col(c, Builtin::ParseMoney(MoneyUnit::Ringgit), TypeKind::Money)
}

pub(crate) fn parse_col(c: u32, f: Builtin, kind: TypeKind) -> Expr {
    fallible(f, column(c), kind, or_default(null_lit(kind)))
}

#[test]
fn arithmetic_overflow_and_division_by_zero_are_null() {
    let rows = vec![
        vec![Some("10"), Some("3")],
        vec![Some("10"), Some("0")],
        vec![Some("9223372036854775807"), Some("1")],
        vec![Some("-9223372036854775808"), Some("-1")],
        vec![None, Some("1")],
    ];
    let b = batch(&rows, 2);
    let run = |op: BinaryOp| -> Vec<String> {
        let mut p = program(&["A", "B"]);
        p.record.fields = vec![field_def("out", TypeKind::Int)].into();
        let expr =
            binary(op, parse_col(0, Builtin::ParseInt, TypeKind::Int), parse_col(1, Builtin::ParseInt, TypeKind::Int));
        p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr }];
        let r = Interpreter::new(Arc::new(p)).and_then(|i| i.eval_batch(&b)).expect("evaluates");
        (0..5).map(|i| show(&r.fields[0], i)).collect()
    };
    assert_eq!(run(BinaryOp::Add), ["13", "10", "null", "null", "null"]);
    assert_eq!(run(BinaryOp::Sub), ["7", "10", "9223372036854775806", "-9223372036854775807", "null"]);
    assert_eq!(run(BinaryOp::Mul), ["30", "0", "9223372036854775807", "null", "null"]);
    assert_eq!(run(BinaryOp::Div), ["3", "null", "9223372036854775807", "null", "null"]);
    assert_eq!(run(BinaryOp::Rem), ["1", "null", "0", "null", "null"]);
}

#[test]
fn comparisons_by_type() {
    let (ty, got) = eval_col(binary(BinaryOp::Lt, column(0), text_lit("b")), &[Some("a"), Some("b"), Some("é"), None]);
    assert_eq!(ty, DataType::Boolean);
    assert_eq!(got, ["true", "false", "false", "null"]);
    let (_, got) =
        eval_col(binary(BinaryOp::Ge, money_col(0), money_lit(0)), &[Some("0.00"), Some("-0.01"), Some("x")]);
    assert_eq!(got, ["true", "false", "null"]);
    let long = "a text longer than twelve bytes";
    let (_, got) = eval_col(
        binary(BinaryOp::Eq, column(0), text_lit(long)),
        &[Some(long), Some("a text longer than twelve byteZ")],
    );
    assert_eq!(got, ["true", "false"]);
}

#[test]
fn in_list_coalesce_if_and_match() {
    let (_, got) = eval_col(
        in_list(column(0), vec![Literal::Text("a".into()), Literal::Text("b".into())], false),
        &[Some("a"), Some("c"), None],
    );
    assert_eq!(got, ["true", "false", "null"]);
    let (_, got) = eval_col(in_list(column(0), vec![Literal::Text("a".into())], true), &[Some("a"), Some("c"), None]);
    assert_eq!(got, ["false", "true", "null"]);
    let (ty, got) = eval_col(coalesce(money_col(0), money_lit(0)), &[Some("1.00"), None, Some("bad")]);
    assert_eq!(ty, DataType::Int64);
    assert_eq!(got, ["100", "0", "0"]);
    // A null condition takes the else branch.
    let (_, got) = eval_col(if_else(bool_col(0), text_lit("yes"), text_lit("no")), &[Some("t"), Some("f"), None]);
    assert_eq!(got, ["\"yes\"", "\"no\"", "\"no\""]);
    let (_, got) =
        eval_col(if_else(bool_col(0), column(0), text_lit("a long replacement text")), &[Some("t"), Some("f")]);
    assert_eq!(got, ["\"t\"", "\"a long replacement text\""]);
    let dpd = parse_col(0, Builtin::ParseInt, TypeKind::Int);
    let m = match_expr(
        dpd,
        vec![
            (vec![Pattern::Literal(Literal::Int(0))], text_lit("zero")),
            (
                vec![Pattern::Range(Literal::Int(1), Literal::Int(30)), Pattern::Literal(Literal::Int(99))],
                text_lit("low"),
            ),
        ],
        Some(text_lit("other")),
        TypeKind::Text,
    );
    let (_, got) = eval_col(m.clone(), &[Some("0"), Some("1"), Some("30"), Some("31"), Some("99"), Some("x"), None]);
    assert_eq!(got, ["\"zero\"", "\"low\"", "\"low\"", "\"other\"", "\"low\"", "\"other\"", "\"other\""]);
    // Without a default, no match gives null; non-constant arms take the select path.
    let m = match_expr(
        parse_col(0, Builtin::ParseInt, TypeKind::Int),
        vec![(vec![Pattern::Range(Literal::Int(1), Literal::Int(5))], column(0))],
        None,
        TypeKind::Text,
    );
    let (_, got) = eval_col(m, &[Some("3"), Some("9"), None]);
    assert_eq!(got, ["\"3\"", "null", "null"]);
}

fn one_rule_program(handler: OnFailure) -> Program {
    let mut p = program(&["A"]);
    p.rules.push(rule("R2", Severity::Reject));
    p.rules.push(rule("F9", Severity::Fatal));
    p.record.fields = vec![field_def("d", TypeKind::Date)].into();
    p.bindings = vec![Binding {
        target: Slot::Field(idx(0)),
        expr: fallible(Builtin::ParseDate(date_format("%d/%m/%Y")), column(0), TypeKind::Date, handler),
    }];
    p
}

#[test]
fn fallible_handlers() {
    let input = [Some("01/01/1970"), Some("31/02/2025"), None];
    let b = one_column(&input);
    let run = |handler: OnFailure| {
        let interp = Interpreter::new(Arc::new(one_rule_program(handler))).expect("prepares");
        interp.eval_batch(&b).expect("evaluates")
    };
    let r = run(or_default(date_lit(7)));
    assert_eq!((0..3).map(|i| show(&r.fields[0], i)).collect::<Vec<_>>(), ["d0", "d7", "null"]);
    assert!(r.violations.is_empty() && r.fatal.is_empty());
    assert_eq!(r.rejected, [false, false, false]);

    let r = run(reject(1, "d"));
    assert_eq!((0..3).map(|i| show(&r.fields[0], i)).collect::<Vec<_>>(), ["d0", "null", "null"]);
    assert_eq!(r.violations.len(), 1);
    let v = &r.violations[0];
    assert_eq!((v.row, v.rule.raw(), &*v.target, v.value.as_deref()), (1, 1, "d", Some("31/02/2025")));
    assert_eq!(r.rejected, [false, true, false]);
    assert!(r.fatal.is_empty());

    let r = run(fail(2, "d"));
    assert!(r.violations.is_empty());
    assert_eq!(r.rejected, [false, false, false]);
    assert_eq!(r.fatal.len(), 1);
    assert_eq!((r.fatal[0].row, r.fatal[0].rule.raw(), r.fatal[0].value.as_deref()), (1, 2, Some("31/02/2025")));
}

#[test]
fn a_branch_not_taken_raises_nothing() {
    // `if A == "x" then parse_date(A) else reject...` never parses "x" rows: only the taken rows report.
    let mut p = one_rule_program(reject(1, "d"));
    let parse = p.bindings[0].expr.clone();
    p.bindings[0].expr = if_else(binary(BinaryOp::Eq, column(0), text_lit("skip")), null_lit(TypeKind::Date), parse);
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp.eval_batch(&one_column(&[Some("skip"), Some("bad")])).expect("evaluates");
    assert_eq!(r.violations.iter().map(|v| v.row).collect::<Vec<_>>(), [1]);
}

#[test]
fn unknown_code_rejects_with_raw_value() {
    let mut p = program(&["A"]);
    p.rules.push(rule("R3", Severity::Reject));
    p.code_types = vec![code_type("G", &["M", "F"])].into();
    let types = p.code_types.clone();
    p.tables =
        vec![code_table("genders", 0, &types, &[("L", "M"), ("P", "F"), ("A LONG KEY OF MANY BYTES", "F")])].into();
    p.record.fields = vec![field_def("gender", TypeKind::Code(idx(0)))].into();
    p.bindings = vec![Binding {
        target: Slot::Field(idx(0)),
        expr: lookup(0, column(0), TypeKind::Code(idx(0)), reject(1, "gender")),
    }];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp
        .eval_batch(&one_column(&[Some("L"), Some("P"), Some("X"), None, Some("A LONG KEY OF MANY BYTES")]))
        .expect("ok");
    assert_eq!((0..5).map(|i| show(&r.fields[0], i)).collect::<Vec<_>>(), ["#0", "#1", "null", "null", "#1"]);
    assert_eq!(r.violations.len(), 1);
    assert_eq!((r.violations[0].row, r.violations[0].value.as_deref()), (2, Some("X")));
}

#[test]
fn malformed_lines_get_exactly_one_violation() {
    let mut p = program(&["A", "B"]);
    p.rules.push(rule("E", Severity::Reject));
    p.rules.push(rule("R1", Severity::Reject));
    p.source.encoding_rule = Some(idx(1));
    p.record.fields = vec![field_def("a", TypeKind::Text), field_def("n", TypeKind::Int)].into();
    p.bindings = vec![
        Binding { target: Slot::Field(idx(0)), expr: column(0) },
        Binding {
            target: Slot::Field(idx(1)),
            expr: fallible(Builtin::ParseInt, column(1), TypeKind::Int, reject(2, "n")),
        },
    ];
    p.row_checks = vec![RowCheck {
        rule: idx(2),
        target: "a".into(),
        when: None,
        condition: is_null(field(0, TypeKind::Text), true),
        value: None,
    }];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let mut b = split_batch(&["x|1", "y|bad|extra", "z", "|q", "w|2"], 2, 2);
    b.bad_encoding[4] = true;
    let r = interp.eval_batch(&b).expect("evaluates");
    let got: Vec<(u32, u32, &str, Option<&str>)> =
        r.violations.iter().map(|v| (v.row, v.rule.raw(), &*v.target, v.value.as_deref())).collect();
    assert_eq!(
        got,
        [(1, 0, "line", None), (2, 0, "line", None), (3, 2, "n", Some("q")), (3, 2, "a", None), (4, 1, "line", None)]
    );
    assert_eq!(r.rejected, [false, true, true, true, true]);
    // Malformed lines' fields are null.
    assert_eq!((0..5).map(|i| show(&r.fields[0], i)).collect::<Vec<_>>(), ["\"x\"", "null", "null", "null", "null"]);
    assert_eq!((0..5).map(|i| show(&r.fields[1], i)).collect::<Vec<_>>(), ["1", "null", "null", "null", "null"]);
}

#[test]
fn row_check_values_render_by_type() {
    let mut p = program(&["A"]);
    p.rules.push(rule("W", Severity::Warn));
    p.code_types = vec![code_type("C", &["ZERO", "ONE"])].into();
    p.record.fields = vec![field_def("m", TypeKind::Money)].into();
    p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr: money_col(0) }];
    p.row_checks = vec![
        value_probe(field(0, TypeKind::Money)),
        value_probe(parse_col(0, Builtin::ParseMoney(MoneyUnit::Sen), TypeKind::Int)),
        value_probe(date_lit(days(2025, 6, 30))),
        value_probe(expr(ExprKind::Literal(Literal::Date(days(2025, 6, 1))), Type::non_null(TypeKind::Month))),
        value_probe(bool_lit(true)),
        value_probe(code_lit(0, 1)),
        value_probe(column(0)),
        value_probe(null_lit(TypeKind::Text)),
    ];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp.eval_batch(&one_column(&[Some("-50")])).expect("evaluates");
    let got: Vec<Option<&str>> = r.violations.iter().map(|v| v.value.as_deref()).collect();
    assert_eq!(
        got,
        [
            Some("-50.00"),
            Some("-50"),
            Some("2025-06-30"),
            Some("2025-06"),
            Some("true"),
            Some("ONE"),
            Some("-50"),
            None
        ]
    );
    // Warnings do not reject.
    assert_eq!(r.rejected, [false]);
}

fn sum_program() -> Program {
    let mut p = program(&["A"]);
    // The mapping parses the same column the same way: the aggregate reuses that parse, which must
    // still cover the malformed lines the mapping skips.
    p.record.fields = vec![field_def("m", TypeKind::Money)].into();
    p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr: money_col(0) }];
    p.aggregates = vec![
        Aggregate { function: AggregateFunction::Count, argument: None },
        Aggregate { function: AggregateFunction::Sum, argument: Some(money_col(0)) },
    ]
    .into();
    p
}

#[test]
fn aggregates_cover_malformed_lines_and_merge_in_any_order() {
    let interp = Interpreter::new(Arc::new(sum_program())).expect("prepares");
    let batches: Vec<RawBatch> = vec![
        split_batch(&["1.00", "2.50|extra", "x"], 2, 1),
        split_batch(&["-0.05", ""], 5, 1),
        split_batch(&["92233720368547758.07"], 7, 1),
        split_batch(&["92233720368547758.07"], 8, 1),
    ];
    let states: Vec<AggregateStates> = batches.iter().map(|b| interp.eval_batch(b).expect("ok").aggregates).collect();
    assert_eq!(states[0].values(), [Scalar::Int(3), Scalar::Int(350)]);
    let merge = |order: &[usize]| {
        let mut acc = AggregateStates::new(interp.program());
        for &k in order {
            acc.merge(&states[k]).expect("same program");
        }
        acc
    };
    let a = merge(&[0, 1]);
    assert_eq!(a, merge(&[1, 0]));
    assert_eq!(a.values(), [Scalar::Int(5), Scalar::Int(345)]);
    // Past i64 the sum is null, in every order, and comes back when it fits again.
    let all = merge(&[0, 1, 2, 3]);
    assert_eq!(all, merge(&[3, 2, 1, 0]));
    assert_eq!(all.values()[1], Scalar::Null);
}

#[test]
fn file_checks_break_on_false_or_null() {
    let mut p = sum_program();
    p.rules.push(rule("F", Severity::Fatal));
    p.source.header = Some(RecordLine {
        prefix: "H".into(),
        fields: vec![LineField { name: "who".into(), ty: LineFieldType::Text }],
    });
    p.source.trailer = Some(RecordLine {
        prefix: "T".into(),
        fields: vec![
            LineField { name: "count".into(), ty: LineFieldType::Int },
            LineField { name: "sum".into(), ty: LineFieldType::Money(MoneyUnit::Ringgit) },
        ],
    });
    let agg = |i: u32| expr(ExprKind::Aggregate(idx(i)), Type::nullable(TypeKind::Int));
    let trailer = |i: u32| expr(ExprKind::TrailerField(i), Type::nullable(TypeKind::Int));
    p.file_checks = vec![
        fatal_file_check(
            "who",
            binary(BinaryOp::Eq, expr(ExprKind::HeaderField(0), Type::nullable(TypeKind::Text)), text_lit("JCL")),
        ),
        fatal_file_check("count", binary(BinaryOp::Eq, trailer(0), agg(0))),
        fatal_file_check("sum", binary(BinaryOp::Eq, trailer(1), agg(1))),
        fatal_file_check(
            "upper case",
            binary(BinaryOp::Eq, call(Builtin::Upper, vec![text_lit("jcl")], TypeKind::Text), text_lit("JCL")),
        ),
    ];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp.eval_batch(&split_batch(&["1.00", "2.00"], 2, 1)).expect("ok");
    let line = |text: &str| RawRecordLine {
        line_no: 1,
        text: text.into(),
        fields: text.split('|').map(|f| (!f.is_empty()).then(|| f.to_owned())).collect(),
    };
    let targets = |h: Option<&RawRecordLine>, t: Option<&RawRecordLine>| -> Vec<String> {
        let lines = interp.line_values(h, t);
        interp.finish_file(&r.aggregates, &lines).into_iter().map(|v| v.target).collect()
    };
    assert!(targets(Some(&line("H|JCL")), Some(&line("T|2|3.00"))).is_empty());
    assert_eq!(targets(Some(&line("H|XYZ")), Some(&line("T|3|3.00"))), ["who", "count"]);
    // A missing or unparsable value is null, and null breaks the check.
    assert_eq!(targets(None, Some(&line("T|two|3.001"))), ["who", "count", "sum"]);
    assert_eq!(targets(Some(&line("H|JCL")), None), ["count", "sum"]);
    let lines = interp.line_values(Some(&line("H|JCL")), Some(&line("T|2|3.5")));
    assert_eq!(lines.header, [Scalar::Text("JCL".into())]);
    assert_eq!(lines.trailer, [Scalar::Int(2), Scalar::Int(350)]);
}

fn key_program() -> Program {
    let mut p = program(&["A", "B"]);
    p.rules.push(rule("D1", Severity::Reject));
    p.record.fields =
        vec![field_def("a", TypeKind::Text), field_def("b", TypeKind::Text), field_def("n", TypeKind::Int)].into();
    p.bindings = vec![
        Binding { target: Slot::Field(idx(0)), expr: column(0) },
        Binding { target: Slot::Field(idx(1)), expr: column(1) },
        Binding { target: Slot::Field(idx(2)), expr: parse_col(1, Builtin::ParseInt, TypeKind::Int) },
    ];
    p.unique_checks = vec![
        UniqueCheck { rule: idx(1), target: "k".into(), key: vec![idx(0), idx(1)], when: None },
        UniqueCheck { rule: idx(1), target: "k2".into(), key: vec![idx(0), idx(2)], when: None },
    ];
    p
}

#[test]
fn key_hashes_equal_exactly_for_equal_keys() {
    let interp = Interpreter::new(Arc::new(key_program())).expect("prepares");
    let rows = vec![
        vec![Some("ab"), Some("c")],
        vec![Some("a"), Some("bc")],
        vec![Some("ab"), Some("c")],
        vec![None, Some("c")],
        vec![None, Some("c")],
        vec![Some(""), Some("c")],
        vec![Some("ab"), None],
        vec![Some("ab"), Some("")],
        vec![Some("a long key part of many bytes"), Some("1")],
        vec![Some("a long key part of many bytes"), Some("01")],
    ];
    let r = interp.eval_batch(&batch(&rows, 2)).expect("ok");
    let h = &r.key_hashes[0];
    assert_eq!(h[0], h[2]);
    assert_ne!(h[0], h[1], "(\"ab\",\"c\") vs (\"a\",\"bc\")");
    assert_eq!(h[3], h[4], "null parts compare equal");
    assert_ne!(h[3], h[5], "null is not the empty text");
    // `batch` keeps an empty field as the empty text (the splitter would make it null).
    assert_ne!(h[6], h[7], "null is not the empty text");
    assert_ne!(h[8], h[9]);
    // By value in the internal representation: "1" and "01" are both the int 1.
    let h2 = &r.key_hashes[1];
    assert_eq!(h2[8], h2[9]);
    // The same keys hash the same in another batch.
    let again = interp.eval_batch(&batch(&rows[..1], 2)).expect("ok");
    assert_eq!(again.key_hashes[0][0], h[0]);
    // Without key hashes, everything else is the same.
    let unhashed = interp.without_key_hashes().eval_batch(&batch(&rows, 2)).expect("ok");
    assert!(unhashed.key_hashes.is_empty());
    assert_eq!(unhashed.fields, r.fields);
    assert_eq!(unhashed.rejected, r.rejected);
    assert_eq!(format!("{:?}", unhashed.violations), format!("{:?}", r.violations));
}

#[test]
fn output_schema_and_filtering() {
    let mut p = program(&["A", "B"]);
    p.code_types = vec![code_type("G", &["M", "F"])].into();
    let types = p.code_types.clone();
    p.tables = vec![code_table("genders", 0, &types, &[("L", "M"), ("P", "F")])].into();
    p.record.fields = vec![
        field_def("name", TypeKind::Text),
        field_def("gender", TypeKind::Code(idx(0))),
        field_def("amount", TypeKind::Money),
        field_def("month", TypeKind::Month),
        field_def("flag", TypeKind::Bool),
        field_def("unassigned", TypeKind::Int),
    ]
    .into();
    p.bindings = vec![
        Binding { target: Slot::Field(idx(0)), expr: column(0) },
        Binding {
            target: Slot::Field(idx(1)),
            expr: lookup(0, column(1), TypeKind::Code(idx(0)), or_default(null_lit(TypeKind::Code(idx(0))))),
        },
        Binding { target: Slot::Field(idx(2)), expr: money_lit(150) },
        Binding {
            target: Slot::Field(idx(3)),
            expr: parse_col(0, Builtin::ParseMonth(date_format("%Y%m")), TypeKind::Month),
        },
        Binding { target: Slot::Field(idx(4)), expr: is_null(column(1), false) },
    ];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let schema = interp.output_schema();
    let shown: Vec<String> = schema.fields().iter().map(|f| format!("{}: {}", f.name(), f.data_type())).collect();
    assert_eq!(
        shown,
        [
            "name: Utf8View",
            "gender: Dictionary(UInt32, Utf8)",
            "amount: Int64",
            "month: Date32",
            "flag: Boolean",
            "unassigned: Int64",
            "line_no: UInt64",
        ]
    );
    let b = batch(&[vec![Some("202501"), Some("L")], vec![Some("x"), Some("P")], vec![Some("202502"), None]], 2);
    let r = interp.eval_batch(&b).expect("ok");
    let out = interp.output_batch(&b, &r, &[true, false, true]).expect("builds");
    assert_eq!(out.schema(), schema);
    assert_eq!(out.num_rows(), 2);
    let line_nos: Vec<u64> = out.column(6).as_primitive::<arrow::datatypes::UInt64Type>().values().to_vec();
    assert_eq!(line_nos, [2, 4]);
    let gender = out.column(1).as_dictionary::<UInt32Type>();
    let names = gender.values().as_string::<i32>();
    assert_eq!(gender.keys().value(0), 0);
    assert_eq!(names.value(gender.keys().value(0) as usize), "M");
    assert!(gender.is_null(1));
    assert_eq!(out.column(2).as_primitive::<Int64Type>().values().to_vec(), [150, 150]);
    assert_eq!(out.column(5).null_count(), 2);
    assert!(matches!(interp.output_batch(&b, &r, &[true]), Err(InterpError::InvalidBatch(_))));
}

#[test]
fn invalid_regex_is_an_error_from_new() {
    let mut p = program(&["A"]);
    p.record.fields = vec![field_def("m", TypeKind::Bool)].into();
    p.bindings = vec![Binding {
        target: Slot::Field(idx(0)),
        expr: call(Builtin::Matches("(".into()), vec![column(0)], TypeKind::Bool),
    }];
    assert!(matches!(Interpreter::new(Arc::new(p)), Err(InterpError::InvalidRegex { .. })));
}

#[test]
fn a_batch_of_the_wrong_shape_is_an_error() {
    let interp = Interpreter::new(Arc::new(program(&["A", "B"]))).expect("prepares");
    assert!(matches!(interp.eval_batch(&one_column(&[Some("x")])), Err(InterpError::InvalidBatch(_))));
}

#[test]
fn empty_batch() {
    let interp = Interpreter::new(Arc::new(jcl_program())).expect("prepares");
    let r = interp.eval_batch(&split_batch(&[], 2, 41)).expect("ok");
    assert!(r.violations.is_empty());
    assert_eq!(r.fields.len(), 41);
    assert_eq!(r.aggregates.values()[0], Scalar::Int(0));
}

#[test]
fn the_interpreter_is_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Interpreter>();
    send_sync::<BatchResult>();
}

#[test]
fn check_stats_count_considered_unexpected_and_missing() {
    // Columns: A an int, B a flag for `when` (t, f or empty for null).
    let mut p = program(&["A", "B"]);
    p.rules.push(rule("C1", Severity::Warn));
    p.rules.push(rule("C2", Severity::Reject));
    p.record.fields = vec![field_def("n", TypeKind::Int)].into();
    p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr: parse_col(0, Builtin::ParseInt, TypeKind::Int) }];
    let positive = binary(BinaryOp::Gt, field(0, TypeKind::Int), int_lit(0));
    p.row_checks = vec![
        RowCheck { rule: idx(1), target: "n".into(), when: None, condition: positive.clone(), value: None },
        RowCheck { rule: idx(2), target: "n".into(), when: Some(bool_col(1)), condition: positive, value: None },
        RowCheck {
            rule: idx(1),
            target: "n".into(),
            when: Some(bool_lit(false)),
            condition: bool_lit(false),
            value: None,
        },
        RowCheck { rule: idx(1), target: "n".into(), when: None, condition: null_lit(TypeKind::Bool), value: None },
    ];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let lines = ["5|t", "-1|t", "x|t", "7|f", "-2|", "3|t|extra", "-4|f", "0|t"];
    let r = interp.eval_batch(&split_batch(&lines, 2, 2)).expect("evaluates");
    let stats = |considered, unexpected, missing| etr_interp::CheckStats { considered, unexpected, missing };
    // The malformed line (`3|t|extra`) is not counted anywhere.
    assert_eq!(r.check_stats, [stats(6, 4, 1), stats(3, 2, 1), stats(0, 0, 0), stats(0, 0, 7)]);
    // The broken rows are exactly the counted unexpected ones.
    let broken = |rule: u32| r.violations.iter().filter(|v| v.rule.raw() == rule).count() as u64;
    assert_eq!(broken(2), r.check_stats[1].unexpected);

    let mut total = etr_interp::CheckStats::default();
    total.merge(&r.check_stats[0]);
    total.merge(&r.check_stats[1]);
    assert_eq!(total, stats(9, 6, 2));
    let none = interp.eval_batch(&split_batch(&[], 2, 2)).expect("evaluates");
    assert_eq!(none.check_stats, [stats(0, 0, 0); 4]);
}

/// The interpreter evaluates what the front end said each check measures
/// (`FileCheck::observed`); which expression that is, is the front end's choice (tested in
/// `etr-sema`'s `check::tests`).
#[test]
fn file_check_outcomes_report_the_value_each_check_measures() {
    let mut p = sum_program();
    p.rules.push(rule("F", Severity::Fatal));
    p.source.trailer = Some(RecordLine {
        prefix: "T".into(),
        fields: vec![LineField { name: "count".into(), ty: LineFieldType::Int }],
    });
    let agg = |i: u32| expr(ExprKind::Aggregate(idx(i)), Type::nullable(TypeKind::Int));
    let trailer = expr(ExprKind::TrailerField(0), Type::nullable(TypeKind::Int));
    p.file_checks = vec![
        measuring(fatal_file_check("count", binary(BinaryOp::Eq, trailer.clone(), agg(0))), agg(0)),
        measuring(fatal_file_check("sum", binary(BinaryOp::Ge, agg(1), money_lit(0))), agg(1)),
        measuring(
            fatal_file_check(
                "twice",
                binary(
                    BinaryOp::And,
                    binary(BinaryOp::Ge, agg(1), money_lit(0)),
                    binary(BinaryOp::Lt, agg(1), money_lit(100)),
                ),
            ),
            agg(1),
        ),
        // Any expression is evaluated, not only a bare aggregate.
        measuring(
            fatal_file_check("both", binary(BinaryOp::Lt, agg(0), agg(1))),
            binary(BinaryOp::Mul, agg(0), int_lit(2)),
        ),
        fatal_file_check("none", binary(BinaryOp::Eq, trailer, int_lit(2))),
    ];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp.eval_batch(&split_batch(&["1.00", "2.00", "bad"], 2, 1)).expect("ok");
    let trailer_line = |text: &str| RawRecordLine {
        line_no: 5,
        text: text.into(),
        fields: text.split('|').map(|f| (!f.is_empty()).then(|| f.to_owned())).collect(),
    };
    let lines = interp.line_values(None, Some(&trailer_line("T|2")));
    let outcomes = interp.file_check_outcomes(&r.aggregates, &lines);
    let got: Vec<(&str, bool, Option<Scalar>)> =
        outcomes.iter().map(|o| (o.target.as_str(), o.passed, o.observed.clone())).collect();
    assert_eq!(
        got,
        [
            ("count", false, Some(Scalar::Int(3))),
            ("sum", true, Some(Scalar::Int(300))),
            ("twice", false, Some(Scalar::Int(300))),
            ("both", true, Some(Scalar::Int(6))),
            ("none", true, None),
        ]
    );
    assert!(outcomes.iter().all(|o| o.rule.raw() == 1));
    // `finish_file` reports exactly the checks that did not pass.
    let broken: Vec<String> = interp.finish_file(&r.aggregates, &lines).into_iter().map(|v| v.target).collect();
    assert_eq!(broken, ["count", "twice"]);
    // A null aggregate is observed as null (and breaks the check).
    let mut overflow = r.aggregates.clone();
    overflow.states[1] = etr_interp::AggregateState::Sum { sum: i128::from(i64::MAX) + 1, overflow: false };
    let outcomes = interp.file_check_outcomes(&overflow, &lines);
    assert_eq!((outcomes[1].passed, outcomes[1].observed.clone()), (false, Some(Scalar::Null)));
}

/// A stand-in for the JIT: parses dates as day 42, fails on text starting with `x`, and declines
/// every other parse.
#[derive(Debug)]
struct FakeNative;

impl etr_interp::NativeKernels for FakeNative {
    fn parse_column(
        &self,
        function: &Builtin,
        column: etr_ir::ColumnIdx,
        batch: &RawBatch,
    ) -> Option<(ArrayRef, arrow::buffer::BooleanBuffer)> {
        if !matches!(function, Builtin::ParseDate(_)) {
            return None;
        }
        let text = &batch.columns[column.index()];
        let failed: Vec<bool> = (0..text.len()).map(|i| text.is_valid(i) && text.value(i).starts_with('x')).collect();
        let values: arrow::array::Date32Array =
            (0..text.len()).map(|i| (text.is_valid(i) && !failed[i]).then_some(42)).collect();
        Some((Arc::new(values), arrow::buffer::BooleanBuffer::from(failed)))
    }
}

#[test]
fn native_kernels_replace_parses_and_keep_the_handlers() {
    let b = one_column(&[Some("01/01/1970"), Some("xx"), None]);
    let interp = Interpreter::new(Arc::new(one_rule_program(reject(0, "d"))))
        .expect("prepares")
        .with_native_kernels(Arc::new(FakeNative));
    let r = interp.eval_batch(&b).expect("evaluates");
    assert_eq!((0..3).map(|i| show(&r.fields[0], i)).collect::<Vec<_>>(), ["d42", "null", "null"]);
    // The interpreter still applies the handler to the native kernel's failures.
    assert_eq!(r.violations.len(), 1);
    assert_eq!((r.violations[0].row, r.violations[0].value.as_deref()), (1, Some("xx")));
    assert_eq!(r.rejected, [false, true, false]);
}
