//! The statistical aggregates (`count_where`, `count_distinct`, `min`, `max`, `mean`, `stdev`,
//! `median`, `quantile`) through the public API, with Great Expectations' pandas results as the
//! oracle. Every case runs over the lines cut into batches several ways and merged in several
//! orders, and asserts that all of them give equal states and the same value (with its type).

use std::sync::Arc;

use etr_interp::test_support::*;
use etr_interp::{AggregateStates, Interpreter, Scalar};
use etr_ir::*;

use crate::{bool_col, days, parse_col};

/// An argument of kind `kind` read from column 0: parsed (unparsable text is null), or for a bool
/// `t` true and any other text false.
fn argument(kind: TypeKind) -> Expr {
    match kind {
        TypeKind::Int => parse_col(0, Builtin::ParseInt, kind),
        TypeKind::Money => parse_col(0, Builtin::ParseMoney(MoneyUnit::Ringgit), kind),
        TypeKind::Number => parse_col(0, Builtin::ParseNumber, kind),
        TypeKind::Date => parse_col(0, Builtin::ParseDate(date_format("%Y-%m-%d")), kind),
        TypeKind::Month => parse_col(0, Builtin::ParseMonth(date_format("%Y-%m")), kind),
        TypeKind::Bool => bool_col(0),
        _ => column(0),
    }
}

fn interpreter(function: AggregateFunction, kind: TypeKind) -> Interpreter {
    let mut p = program(&["A"]);
    p.aggregates = vec![Aggregate { function, argument: Some(argument(kind)) }].into();
    Interpreter::new(Arc::new(p)).expect("prepares")
}

/// The value of `function` over the `kind` values of `lines` (`|`-delimited: a line with more
/// fields is malformed and still counts). Asserts that batches of 1, 2 and 3 lines and of the
/// whole file, merged forward, backward and pairwise, all give equal states.
fn aggregate(function: AggregateFunction, kind: TypeKind, lines: &[&str]) -> Scalar {
    let interp = interpreter(function, kind);
    let whole = interp.eval_batch(&split_batch(lines, 2, 1)).expect("evaluates").aggregates;
    let mut empty_then_whole = AggregateStates::new(interp.program());
    empty_then_whole.merge(&whole).expect("same program");
    assert_eq!(empty_then_whole, whole);
    for size in [1, 2, 3] {
        let parts: Vec<AggregateStates> = lines
            .chunks(size)
            .enumerate()
            .map(|(k, chunk)| interp.eval_batch(&split_batch(chunk, 2 + (k * size) as u64, 1)).expect("ok").aggregates)
            .collect();
        let merged = |order: &mut dyn Iterator<Item = &AggregateStates>| {
            let mut acc = AggregateStates::new(interp.program());
            order.for_each(|s| acc.merge(s).expect("same program"));
            acc
        };
        let forward = merged(&mut parts.iter());
        let backward = merged(&mut parts.iter().rev());
        let pairwise = merged(&mut parts.chunks(2).map(|pair| merged(&mut pair.iter())).collect::<Vec<_>>().iter());
        for (how, states) in [("forward", &forward), ("backward", &backward), ("pairwise", &pairwise)] {
            assert_eq!(states, &whole, "{function:?} over {lines:?} in batches of {size}, merged {how}");
            assert_eq!(states.values(), whole.values());
        }
    }
    let values = whole.values();
    assert_eq!(values.len(), 1);
    values[0].clone()
}

/// Asserts `got` is a number within `relative` of `want`.
fn assert_close(got: Scalar, want: f64, relative: f64) {
    let Scalar::Number(got) = got else { panic!("{got:?} is not a number") };
    assert!((got - want).abs() <= relative * want.abs(), "{got} is not {want}");
}

#[test]
fn count_where_counts_true_lines_only() {
    let f = AggregateFunction::CountWhere;
    let bool = TypeKind::Bool;
    // A malformed line's column counts too; null (empty) and false do not.
    assert_eq!(aggregate(f, bool, &["t", "f", "", "t", "t|extra", "x"]), Scalar::Int(3));
    assert_eq!(aggregate(f, bool, &["", ""]), Scalar::Int(0));
    assert_eq!(aggregate(f, bool, &[]), Scalar::Int(0));
}

#[test]
fn count_distinct_ignores_nulls_and_repeats_across_batches() {
    let f = AggregateFunction::CountDistinct;
    assert_eq!(aggregate(f, TypeKind::Text, &["a", "b", "", "a", "b", "c", "a", "c|x"]), Scalar::Int(3));
    // `x` does not parse: null.
    assert_eq!(aggregate(f, TypeKind::Int, &["1", "2", "1", "x", "2", "1"]), Scalar::Int(2));
    // `-0` and `0` are one value, as in pandas.
    assert_eq!(aggregate(f, TypeKind::Number, &["0", "-0", "1.5", "1.50", ""]), Scalar::Int(2));
    assert_eq!(aggregate(f, TypeKind::Date, &["2024-01-31", "2024-01-31", "2024-02-01"]), Scalar::Int(2));
    assert_eq!(aggregate(f, TypeKind::Bool, &["t", "f", "t", ""]), Scalar::Int(2));
    assert_eq!(aggregate(f, TypeKind::Text, &["", ""]), Scalar::Int(0));
    assert_eq!(aggregate(f, TypeKind::Text, &[]), Scalar::Int(0));
}

#[test]
fn min_and_max_keep_the_argument_type() {
    let (min, max) = (AggregateFunction::Min, AggregateFunction::Max);
    let ints = ["5", "-3", "", "12", "x", "7|extra"];
    assert_eq!(aggregate(min, TypeKind::Int, &ints), Scalar::Int(-3));
    assert_eq!(aggregate(max, TypeKind::Int, &ints), Scalar::Int(12));
    let money = ["1.50", "-0.05", "", "0.10"];
    assert_eq!(aggregate(min, TypeKind::Money, &money), Scalar::Int(-5));
    assert_eq!(aggregate(max, TypeKind::Money, &money), Scalar::Int(150));
    let numbers = ["0", "1e3", "", "-2.5", "0.125"];
    assert_eq!(aggregate(min, TypeKind::Number, &numbers), Scalar::Number(-2.5));
    assert_eq!(aggregate(max, TypeKind::Number, &numbers), Scalar::Number(1000.0));
    // Text by code point: `Z` < `a` < `b` < `ä`.
    let text = ["b", "a", "", "ä", "Z", "b|x"];
    assert_eq!(aggregate(min, TypeKind::Text, &text), Scalar::Text("Z".into()));
    assert_eq!(aggregate(max, TypeKind::Text, &text), Scalar::Text("ä".into()));
    // `2024-13-01` does not parse: null.
    let dates = ["2024-02-29", "2023-12-31", "", "2024-13-01", "2024-01-15"];
    assert_eq!(aggregate(min, TypeKind::Date, &dates), Scalar::Date(days(2023, 12, 31)));
    assert_eq!(aggregate(max, TypeKind::Date, &dates), Scalar::Date(days(2024, 2, 29)));
    let months = ["2024-02", "2023-12", ""];
    assert_eq!(aggregate(min, TypeKind::Month, &months), Scalar::Date(days(2023, 12, 1)));
    assert_eq!(aggregate(max, TypeKind::Month, &months), Scalar::Date(days(2024, 2, 1)));
    // Null over no value.
    assert_eq!(aggregate(min, TypeKind::Int, &["", "x"]), Scalar::Null);
    assert_eq!(aggregate(max, TypeKind::Text, &[]), Scalar::Null);
}

#[test]
fn mean_is_a_number_over_the_non_null_values() {
    let f = AggregateFunction::Mean;
    // Great Expectations: the mean of [0, null] is 0.0.
    assert_eq!(aggregate(f, TypeKind::Number, &["0", ""]), Scalar::Number(0.0));
    assert_eq!(aggregate(f, TypeKind::Int, &["0", ""]), Scalar::Number(0.0));
    assert_eq!(aggregate(f, TypeKind::Int, &["1", "2", "", "3", "4|extra"]), Scalar::Number(2.5));
    // Money in sen.
    assert_eq!(aggregate(f, TypeKind::Money, &["1.00", "2.01"]), Scalar::Number(150.5));
    // Of a bool, the share of true.
    assert_eq!(aggregate(f, TypeKind::Bool, &["t", "f", "f", "t", "", "t"]), Scalar::Number(0.6));
    // The exact sum divided once: a left-to-right `f64` sum gives 0.20000000000000004.
    assert_eq!(aggregate(f, TypeKind::Number, &["0.1", "0.2", "0.3"]), Scalar::Number(0.2));
    assert_eq!(aggregate(f, TypeKind::Number, &["1e308", "1e308", "-1e308"]), Scalar::Number(1e308 / 3.0));
    assert_eq!(aggregate(f, TypeKind::Number, &["", "x"]), Scalar::Null);
    assert_eq!(aggregate(f, TypeKind::Int, &[]), Scalar::Null);
}

#[test]
fn stdev_is_the_sample_standard_deviation() {
    let f = AggregateFunction::Stdev;
    // Great Expectations (pandas, ddof = 1): [1, 1, 3] gives 1.1547005383792517.
    assert_close(aggregate(f, TypeKind::Int, &["1", "1", "3"]), 1.1547005383792517, 1e-12);
    assert_close(aggregate(f, TypeKind::Number, &["1", "", "1", "x", "3|extra"]), 1.1547005383792517, 1e-12);
    assert_close(aggregate(f, TypeKind::Money, &["0.01", "0.01", "0.03"]), 1.1547005383792517, 1e-12);
    // A mean far larger than the spread cancels nothing: the sums are exact.
    assert_close(
        aggregate(f, TypeKind::Int, &["1000000000001", "1000000000001", "1000000000003"]),
        1.1547005383792517,
        1e-12,
    );
    assert_close(aggregate(f, TypeKind::Number, &["1e15", "1000000000000002", "1e15"]), 1.1547005383792517, 1e-12);
    assert_close(aggregate(f, TypeKind::Number, &["0.1", "0.2", "0.3", "0.4"]), 0.12909944487358058, 1e-15);
    assert_eq!(aggregate(f, TypeKind::Number, &["2.5", "2.5", "2.5"]), Scalar::Number(0.0));
    // Fewer than two values: null.
    assert_eq!(aggregate(f, TypeKind::Int, &["5", ""]), Scalar::Null);
    assert_eq!(aggregate(f, TypeKind::Int, &[]), Scalar::Null);
}

#[test]
fn median_averages_the_two_middle_values_of_an_even_count() {
    let f = AggregateFunction::Median;
    assert_eq!(aggregate(f, TypeKind::Int, &["3", "1", "", "2"]), Scalar::Number(2.0));
    assert_eq!(aggregate(f, TypeKind::Int, &["4", "1", "3", "2"]), Scalar::Number(2.5));
    assert_eq!(aggregate(f, TypeKind::Money, &["2.01", "1.00"]), Scalar::Number(150.5));
    assert_eq!(aggregate(f, TypeKind::Number, &["0.5", "-1", "7", "x", "9|extra"]), Scalar::Number(3.75));
    assert_eq!(aggregate(f, TypeKind::Number, &["5"]), Scalar::Number(5.0));
    assert_eq!(
        aggregate(f, TypeKind::Number, &["1.7976931348623157e308", "1.7976931348623157e308"]),
        Scalar::Number(f64::MAX)
    );
    assert_eq!(aggregate(f, TypeKind::Int, &["", "x"]), Scalar::Null);
    assert_eq!(aggregate(f, TypeKind::Int, &[]), Scalar::Null);
}

#[test]
fn quantiles_take_the_nearest_rank_with_halves_to_even() {
    let q = |q: f64| AggregateFunction::Quantile(F64(q));
    let quantiles = |kind: TypeKind, lines: &[&str]| -> Vec<Scalar> {
        [0.0, 0.25, 0.5, 0.75, 1.0].iter().map(|&v| aggregate(q(v), kind, lines)).collect()
    };
    let ints = |v: &[i64]| v.iter().map(|&x| Scalar::Int(x)).collect::<Vec<_>>();
    // n = 5: positions 0, 1, 2, 3, 4.
    assert_eq!(quantiles(TypeKind::Int, &["5", "3", "", "1", "4", "2"]), ints(&[1, 2, 3, 4, 5]));
    // n = 4: positions 0, 0.75 → 1, 1.5 → 2, 2.25 → 2, 3.
    assert_eq!(quantiles(TypeKind::Int, &["40", "10", "30", "20"]), ints(&[10, 20, 30, 30, 40]));
    // n = 2: positions 0, 0.25 → 0, 0.5 → 0 (half to even), 0.75 → 1, 1.
    assert_eq!(quantiles(TypeKind::Int, &["20", "10"]), ints(&[10, 10, 10, 20, 20]));
    // n = 6, q = 0.5: position 2.5 rounds down to 2; q = 0.1: 0.5 rounds down to 0.
    let six = ["6", "5", "4", "3", "2", "1"];
    assert_eq!(aggregate(q(0.5), TypeKind::Int, &six), Scalar::Int(3));
    assert_eq!(aggregate(q(0.1), TypeKind::Int, &six), Scalar::Int(1));
    // n = 8, q = 0.5: position 3.5 rounds up to 4.
    assert_eq!(aggregate(q(0.5), TypeKind::Int, &["1", "2", "3", "4", "5", "6", "7", "8"]), Scalar::Int(5));
    // Ties: sorted [1, 2, 3, 3, 3].
    assert_eq!(quantiles(TypeKind::Int, &["3", "1", "3", "3", "2"]), ints(&[1, 2, 3, 3, 3]));
    // Of the argument's type.
    assert_eq!(aggregate(q(0.5), TypeKind::Money, &["1.50", "0.05", "9.99"]), Scalar::Int(150));
    // n = 3, q = 0.25: position 0.5 rounds down to 0.
    assert_eq!(aggregate(q(0.25), TypeKind::Number, &["2.5", "-1", "", "0.5"]), Scalar::Number(-1.0));
    assert_eq!(aggregate(q(0.75), TypeKind::Number, &["2.5", "-1", "", "0.5"]), Scalar::Number(2.5));
    assert_eq!(aggregate(q(1.0), TypeKind::Date, &["2024-02-29", "2023-12-31", "x"]), Scalar::Date(days(2024, 2, 29)));
    assert_eq!(aggregate(q(0.0), TypeKind::Month, &["2024-02", "2023-12"]), Scalar::Date(days(2023, 12, 1)));
    assert_eq!(aggregate(q(0.5), TypeKind::Int, &["", "x"]), Scalar::Null);
    assert_eq!(aggregate(q(0.5), TypeKind::Int, &[]), Scalar::Null);
}

#[test]
fn file_checks_observe_the_statistical_aggregates() {
    let mut p = program(&["A"]);
    p.rules.push(rule("F", Severity::Fatal));
    p.aggregates = vec![
        Aggregate { function: AggregateFunction::Mean, argument: Some(argument(TypeKind::Int)) },
        Aggregate { function: AggregateFunction::Stdev, argument: Some(argument(TypeKind::Int)) },
        Aggregate { function: AggregateFunction::Max, argument: Some(argument(TypeKind::Date)) },
        Aggregate { function: AggregateFunction::CountDistinct, argument: Some(argument(TypeKind::Text)) },
    ]
    .into();
    let agg = |i: u32, kind: TypeKind| expr(ExprKind::Aggregate(idx(i)), Type::nullable(kind));
    let check = |target: &str, op: BinaryOp, measured: Expr, bound: Expr| {
        measuring(fatal_file_check(target, binary(op, measured.clone(), bound)), measured)
    };
    p.file_checks = vec![
        check("mean", BinaryOp::Ge, agg(0, TypeKind::Number), number_lit(1.0)),
        check("stdev", BinaryOp::Lt, agg(1, TypeKind::Number), number_lit(1.0)),
        check("max", BinaryOp::Le, agg(2, TypeKind::Date), date_lit(days(2024, 12, 31))),
        check("distinct", BinaryOp::Eq, agg(3, TypeKind::Int), int_lit(1)),
    ];
    let interp = Interpreter::new(Arc::new(p)).expect("prepares");
    let r = interp.eval_batch(&split_batch(&["2024-01-05"], 2, 1)).expect("evaluates");
    let lines = interp.line_values(None, None);
    let got: Vec<(String, bool, Option<Scalar>)> = interp
        .file_check_outcomes(&r.aggregates, &lines)
        .into_iter()
        .map(|o| (o.target, o.passed, o.observed))
        .collect();
    let want = |target: &str, passed: bool, observed: Scalar| (target.to_owned(), passed, Some(observed));
    assert_eq!(
        got,
        [
            // The only line is no int: the mean and the standard deviation are null, and break.
            want("mean", false, Scalar::Null),
            want("stdev", false, Scalar::Null),
            want("max", true, Scalar::Date(days(2024, 1, 5))),
            want("distinct", true, Scalar::Int(1)),
        ]
    );
}
