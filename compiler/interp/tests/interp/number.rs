//! `number` (a finite `f64`): parsing, conversion from int, arithmetic with its null-instead-of-
//! non-finite rule, comparisons, `in`, `match`, choices, rendering, key hashes, output and sums.
//! Each test asserts the values and the Arrow type of the result.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use etr_interp::test_support::*;
use etr_interp::{AggregateStates, Interpreter, Scalar};
use etr_ir::*;

use crate::{bool_col, eval_col, parse_col, show};

/// Asserts the result type and values of `expr` over a one-column batch.
fn check(expr: Expr, want_ty: DataType, cases: &[(Option<&str>, &str)]) {
    let inputs: Vec<Option<&str>> = cases.iter().map(|(input, _)| *input).collect();
    let (ty, got) = eval_col(expr, &inputs);
    assert_eq!(ty, want_ty, "result type");
    for ((input, want), got) in cases.iter().zip(&got) {
        assert_eq!(got, want, "input {input:?}");
    }
}

fn number_col(c: u32) -> Expr {
    parse_col(c, Builtin::ParseNumber, TypeKind::Number)
}

fn int_col(c: u32) -> Expr {
    parse_col(c, Builtin::ParseInt, TypeKind::Int)
}

fn to_number(e: Expr) -> Expr {
    call(Builtin::IntToNumber, vec![e], TypeKind::Number)
}

#[test]
fn parse_number_accepts_decimal_and_exponent_forms_only() {
    check(
        number_col(0),
        DataType::Float64,
        &[
            (Some("1"), "1.0"),
            (Some("-1.5"), "-1.5"),
            (Some("+2"), "2.0"),
            (Some(".5"), "0.5"),
            (Some("5."), "5.0"),
            (Some("1e3"), "1000.0"),
            (Some("1E-2"), "0.01"),
            (Some(""), "null"),
            (Some("-"), "null"),
            (Some("1e"), "null"),
            (Some("nan"), "null"),
            (Some("inf"), "null"),
            (Some(" 1"), "null"),
            (Some("1_000"), "null"),
            (Some("0x1F"), "null"),
            (Some("1e400"), "null"),
            (None, "null"),
        ],
    );
}

#[test]
fn parse_number_failures_go_to_the_handler() {
    let mut p = program(&["A"]);
    p.rules.push(rule("N1", Severity::Reject));
    p.record.fields = vec![field_def("n", TypeKind::Number)].into();
    p.bindings = vec![Binding {
        target: Slot::Field(idx(0)),
        expr: fallible(Builtin::ParseNumber, column(0), TypeKind::Number, reject(1, "n")),
    }];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp.eval_batch(&one_column(&[Some("2.5"), Some("1e400"), Some("nan"), None])).expect("evaluates");
    assert_eq!((0..4).map(|i| show(&r.fields[0], i)).collect::<Vec<_>>(), ["2.5", "null", "null", "null"]);
    let got: Vec<(u32, &str, Option<&str>)> =
        r.violations.iter().map(|v| (v.row, &*v.target, v.value.as_deref())).collect();
    assert_eq!(got, [(1, "n", Some("1e400")), (2, "n", Some("nan"))]);
    assert_eq!(r.rejected, [false, true, true, false]);

    // A default replaces the failed rows only.
    check(
        fallible(Builtin::ParseNumber, column(0), TypeKind::Number, or_default(number_lit(-1.0))),
        DataType::Float64,
        &[(Some("0.25"), "0.25"), (Some("x"), "-1.0"), (None, "null")],
    );
}

#[test]
fn int_to_number_converts_columns_and_scalars() {
    check(
        to_number(int_col(0)),
        DataType::Float64,
        &[
            (Some("3"), "3.0"),
            (Some("-7"), "-7.0"),
            (Some("9007199254740993"), "9007199254740992.0"),
            (Some("x"), "null"),
            (None, "null"),
        ],
    );
    check(to_number(int_lit(2)), DataType::Float64, &[(Some("a"), "2.0")]);
    check(to_number(null_lit(TypeKind::Int)), DataType::Float64, &[(Some("a"), "null")]);
}

#[test]
fn number_arithmetic_is_ieee_but_never_non_finite() {
    let rows = vec![
        vec![Some("10"), Some("4")],
        vec![Some("1"), Some("0")],
        vec![Some("0"), Some("0")],
        vec![Some("-1"), Some("0")],
        vec![Some("1e308"), Some("1e308")],
        vec![Some("5.5"), Some("2")],
        vec![None, Some("1")],
        vec![Some("0.1"), Some("0.2")],
    ];
    let b = batch(&rows, 2);
    let run = |op: BinaryOp, rhs: Expr| -> (DataType, Vec<String>) {
        let mut p = program(&["A", "B"]);
        p.record.fields = vec![field_def("out", TypeKind::Number)].into();
        p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr: binary(op, number_col(0), rhs) }];
        let r = Interpreter::new(Arc::new(p)).and_then(|i| i.eval_batch(&b)).expect("evaluates");
        (r.fields[0].data_type().clone(), (0..rows.len()).map(|i| show(&r.fields[0], i)).collect())
    };
    let (ty, add) = run(BinaryOp::Add, number_col(1));
    assert_eq!(ty, DataType::Float64);
    assert_eq!(add, ["14.0", "1.0", "0.0", "-1.0", "null", "7.5", "null", "0.30000000000000004"]);
    let (_, sub) = run(BinaryOp::Sub, number_col(1));
    assert_eq!(sub, ["6.0", "1.0", "0.0", "-1.0", "0.0", "3.5", "null", "-0.1"]);
    let (_, mul) = run(BinaryOp::Mul, number_col(1));
    assert_eq!(mul, ["40.0", "0.0", "0.0", "-0.0", "null", "11.0", "null", "0.020000000000000004"]);
    let (_, div) = run(BinaryOp::Div, number_col(1));
    assert_eq!(div, ["2.5", "null", "null", "null", "1.0", "2.75", "null", "0.5"]);
    let (_, rem) = run(BinaryOp::Rem, number_col(1));
    assert_eq!(rem, ["2.0", "null", "null", "null", "0.0", "1.5", "null", "0.1"]);
    // Array-scalar variants.
    let (_, div0) = run(BinaryOp::Div, number_lit(0.0));
    assert_eq!(div0, ["null"; 8]);
    let (_, half) = run(BinaryOp::Mul, number_lit(0.5));
    assert_eq!(half, ["5.0", "0.5", "0.0", "-0.5", "5e307", "2.75", "null", "0.05"]);
    // Scalar-scalar folds follow the same rule.
    check(binary(BinaryOp::Div, number_lit(1.0), number_lit(0.0)), DataType::Float64, &[(Some("a"), "null")]);
    check(binary(BinaryOp::Mul, number_lit(1e200), number_lit(1e200)), DataType::Float64, &[(Some("a"), "null")]);
    check(binary(BinaryOp::Sub, number_lit(0.5), number_lit(2.0)), DataType::Float64, &[(Some("a"), "-1.5")]);
}

#[test]
fn number_negation() {
    check(
        neg(number_col(0)),
        DataType::Float64,
        &[(Some("1.5"), "-1.5"), (Some("-2"), "2.0"), (Some("0"), "-0.0"), (None, "null")],
    );
    check(neg(number_lit(2.5)), DataType::Float64, &[(Some("a"), "-2.5")]);
}

#[test]
fn number_comparisons_are_plain_f64() {
    let cases = |op: BinaryOp, rhs: Expr| {
        let (ty, got) =
            eval_col(binary(op, number_col(0), rhs), &[Some("1.5"), Some("-0"), Some("0"), Some("2e0"), None]);
        assert_eq!(ty, DataType::Boolean);
        got
    };
    assert_eq!(cases(BinaryOp::Eq, number_lit(0.0)), ["false", "true", "true", "false", "null"]);
    assert_eq!(cases(BinaryOp::Ne, number_lit(-0.0)), ["true", "false", "false", "true", "null"]);
    assert_eq!(cases(BinaryOp::Lt, number_lit(1.5)), ["false", "true", "true", "false", "null"]);
    assert_eq!(cases(BinaryOp::Le, number_lit(1.5)), ["true", "true", "true", "false", "null"]);
    assert_eq!(cases(BinaryOp::Gt, number_lit(1.5)), ["false", "false", "false", "true", "null"]);
    assert_eq!(cases(BinaryOp::Ge, number_lit(2.0)), ["false", "false", "false", "true", "null"]);
    assert_eq!(cases(BinaryOp::Eq, null_lit(TypeKind::Number)), ["null"; 5]);
    // Column against column, and an int converted by the compiler.
    let rows = vec![vec![Some("1.0"), Some("1")], vec![Some("1.5"), Some("2")], vec![Some("3"), None]];
    let mut p = program(&["A", "B"]);
    p.record.fields = vec![field_def("out", TypeKind::Bool)].into();
    p.bindings =
        vec![Binding { target: Slot::Field(idx(0)), expr: binary(BinaryOp::Lt, number_col(0), to_number(int_col(1))) }];
    let r = Interpreter::new(Arc::new(p)).and_then(|i| i.eval_batch(&batch(&rows, 2))).expect("evaluates");
    assert_eq!((0..3).map(|i| show(&r.fields[0], i)).collect::<Vec<_>>(), ["false", "true", "null"]);
    let folded = eval_col(binary(BinaryOp::Eq, number_lit(-0.0), number_lit(0.0)), &[Some("a")]);
    assert_eq!(folded, (DataType::Boolean, vec!["true".to_owned()]));
}

#[test]
fn number_in_list_match_and_choices() {
    let list = vec![Literal::Number(F64(0.5)), Literal::Number(F64(0.0))];
    check(
        in_list(number_col(0), list.clone(), false),
        DataType::Boolean,
        &[(Some(".5"), "true"), (Some("-0"), "true"), (Some("1"), "false"), (None, "null")],
    );
    check(in_list(number_col(0), list.clone(), true), DataType::Boolean, &[(Some("1"), "true"), (None, "null")]);
    check(in_list(number_lit(-0.0), list, false), DataType::Boolean, &[(Some("a"), "true")]);

    let band = |default: Option<Expr>| {
        match_expr(
            number_col(0),
            vec![
                (vec![Pattern::Literal(Literal::Number(F64(0.0)))], text_lit("zero")),
                (vec![Pattern::Range(Literal::Number(F64(0.5)), Literal::Number(F64(1.5)))], text_lit("mid")),
            ],
            default,
            TypeKind::Text,
        )
    };
    check(
        band(Some(text_lit("other"))),
        DataType::Utf8View,
        &[
            (Some("-0"), "\"zero\""),
            (Some("0.5"), "\"mid\""),
            (Some("1.5"), "\"mid\""),
            (Some("1.5000001"), "\"other\""),
            (Some("x"), "\"other\""),
        ],
    );
    // A scalar scrutinee.
    let m = match_expr(
        number_lit(1.0),
        vec![(vec![Pattern::Range(Literal::Number(F64(0.5)), Literal::Number(F64(1.5)))], text_lit("mid"))],
        None,
        TypeKind::Text,
    );
    check(m, DataType::Utf8View, &[(Some("a"), "\"mid\"")]);

    // Number results of `match` (constant arms and not), `??` and `if`.
    let m = match_expr(
        int_col(0),
        vec![(vec![Pattern::Literal(Literal::Int(1))], number_lit(0.25))],
        Some(number_lit(-1.0)),
        TypeKind::Number,
    );
    check(m, DataType::Float64, &[(Some("1"), "0.25"), (Some("2"), "-1.0"), (None, "-1.0")]);
    let m = match_expr(
        int_col(0),
        vec![(vec![Pattern::Range(Literal::Int(1), Literal::Int(9))], to_number(int_col(0)))],
        None,
        TypeKind::Number,
    );
    check(m, DataType::Float64, &[(Some("3"), "3.0"), (Some("12"), "null")]);
    check(
        coalesce(number_col(0), number_lit(0.0)),
        DataType::Float64,
        &[(Some("2.5"), "2.5"), (Some("bad"), "0.0"), (None, "0.0")],
    );
    check(
        if_else(bool_col(0), number_lit(1.0), number_lit(2.0)),
        DataType::Float64,
        &[(Some("t"), "1.0"), (Some("f"), "2.0"), (None, "2.0")],
    );
}

#[test]
fn number_table_keys_and_values() {
    let mut p = program(&["A"]);
    p.rules.push(rule("T1", Severity::Reject));
    p.tables = vec![CodeTable {
        name: "rates".into(),
        key_type: Type::non_null(TypeKind::Number),
        value_type: Type::non_null(TypeKind::Number),
        entries: vec![
            (Literal::Number(F64(0.0)), Literal::Number(F64(0.1))),
            (Literal::Number(F64(1.5)), Literal::Number(F64(2.5))),
        ],
    }]
    .into();
    p.record.fields = vec![field_def("rate", TypeKind::Number)].into();
    p.bindings = vec![Binding {
        target: Slot::Field(idx(0)),
        expr: lookup(0, number_col(0), TypeKind::Number, reject(1, "rate")),
    }];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp.eval_batch(&one_column(&[Some("1.50"), Some("-0"), Some("2"), None])).expect("evaluates");
    assert_eq!((0..4).map(|i| show(&r.fields[0], i)).collect::<Vec<_>>(), ["2.5", "0.1", "null", "null"]);
    let got: Vec<(u32, Option<&str>)> = r.violations.iter().map(|v| (v.row, v.value.as_deref())).collect();
    assert_eq!(got, [(2, Some("2"))]);
}

#[test]
fn number_values_render_with_display() {
    let mut p = program(&["A"]);
    p.rules.push(rule("W", Severity::Warn));
    p.row_checks = vec![
        value_probe(number_lit(1.5)),
        value_probe(number_lit(2.0)),
        value_probe(number_lit(0.1)),
        value_probe(number_lit(1e-7)),
        value_probe(number_lit(-2.5e21)),
        value_probe(number_col(0)),
        value_probe(null_lit(TypeKind::Number)),
    ];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp.eval_batch(&one_column(&[Some("1E2")])).expect("evaluates");
    let got: Vec<Option<&str>> = r.violations.iter().map(|v| v.value.as_deref()).collect();
    assert_eq!(
        got,
        [Some("1.5"), Some("2"), Some("0.1"), Some("0.0000001"), Some("-2500000000000000000000"), Some("100"), None]
    );
    assert_eq!(
        etr_interp::render_scalar(interp.program(), TypeKind::Number, &Scalar::Number(-0.5)).as_deref(),
        Some("-0.5")
    );
}

#[test]
fn number_key_parts_hash_by_value() {
    let mut p = program(&["A"]);
    p.record.fields = vec![field_def("n", TypeKind::Number)].into();
    p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr: number_col(0) }];
    p.unique_checks = vec![UniqueCheck { rule: idx(0), target: "n".into(), key: vec![idx(0)], when: None }];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp
        .eval_batch(&one_column(&[
            Some("1.5"),
            Some("1.50"),
            Some("15e-1"),
            Some("0"),
            Some("-0"),
            Some("2"),
            None,
            Some("x"),
        ]))
        .expect("evaluates");
    let h = &r.key_hashes[0];
    assert_eq!((h[0], h[0]), (h[1], h[2]));
    assert_eq!(h[3], h[4], "-0 and 0 are the same key");
    assert_ne!(h[0], h[5]);
    assert_ne!(h[3], h[6], "zero is not null");
    assert_eq!(h[6], h[7], "nulls compare equal");
}

#[test]
fn number_fields_are_float64_in_the_output() {
    let mut p = program(&["A"]);
    p.record.fields = vec![field_def("n", TypeKind::Number)].into();
    p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr: number_col(0) }];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let schema = interp.output_schema();
    assert_eq!(schema.field(0).data_type(), &DataType::Float64);
    let b = one_column(&[Some("2.5"), Some("x"), Some("-1")]);
    let r = interp.eval_batch(&b).expect("evaluates");
    let out = interp.output_batch(&b, &r, &[true, true, false]).expect("builds");
    let n = out.column(0).as_primitive::<Float64Type>();
    assert_eq!((n.value(0), n.is_null(1), n.len()), (2.5, true, 2));
}

#[test]
fn number_sums_are_exact_and_order_independent() {
    let mut p = program(&["A"]);
    p.aggregates = vec![Aggregate { function: AggregateFunction::Sum, argument: Some(number_col(0)) }].into();
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let states: Vec<AggregateStates> = [
        split_batch(&["0.1", "x", "", "1e308"], 2, 1),
        split_batch(&["0.2", "2|extra"], 6, 1),
        split_batch(&["-1e308", "-0.3"], 8, 1),
    ]
    .iter()
    .map(|b| interp.eval_batch(b).expect("evaluates").aggregates)
    .collect();
    assert_eq!(states[0].values(), [Scalar::Number(1e308)]);
    // Malformed lines count: "2|extra" is summed, like money sums do.
    assert_eq!(states[1].values(), [Scalar::Number(2.2)]);
    let merge = |order: &[usize]| {
        let mut acc = AggregateStates::new(interp.program());
        order.iter().for_each(|&k| acc.merge(&states[k]).expect("same program"));
        acc
    };
    let all = merge(&[0, 1, 2]);
    assert_eq!(all, merge(&[2, 0, 1]));
    // 0.1 + 0.2 + 2 - 0.3 exactly, rounded once (1e308 cancels): not 2.0000000000000004.
    assert_eq!(all.values(), [Scalar::Number(2.0)]);
    // Past the largest finite number the sum is null.
    assert_eq!(merge(&[0, 0]).values(), [Scalar::Null]);
    assert_eq!(AggregateStates::new(interp.program()).values(), [Scalar::Number(0.0)]);
}
