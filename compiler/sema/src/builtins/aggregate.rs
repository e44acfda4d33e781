//! The aggregates: values computed over every data line of the file (the interpreter's
//! `aggregate.rs`). File checks read them, and so may row checks, once a first pass computed
//! them.
//!
//! Boundary: the entries are data for the checker, the editor and the docs; the hooks below reach
//! the checker through its `pub(crate)` methods only.

use etr_ir::TypeKind::{Bool, Date, Int, Money, Month, Number, Text};
use etr_ir::{self as ir, AggregateFunction};
use etr_syntax::ast;

use super::{ANY, AggregateLowering, Family, NUMBER, Param, ResultType, Signature, aggregate, file};
use crate::check::{Checker, strip_parens};
use crate::codes;

pub(super) const FAMILY: Family = Family {
    title: "Aggregates",
    doc: "Computed over every data line of the file, malformed lines included, so their arguments read the columns only.",
    functions: FUNCTIONS,
    ir_family: None,
};

const FUNCTIONS: &[Signature] = &[
    aggregate(
        "count",
        "count() -> int",
        &[],
        ResultType::Fixed(Int),
        "The number of data lines in the file (file checks only).",
        AggregateLowering::Count,
    )
    .with_examples(&[file("count()", &["a|", "b|", "c|"], "3")]),
    aggregate(
        "count_broken",
        "count_broken(RULE) -> int",
        &[Param::Rule],
        ResultType::Fixed(Int),
        "The number of data lines that broke the rule, e.g. `count_broken(R0)` for malformed lines (file checks only).",
        AggregateLowering::LinesBroken,
    )
    .with_examples(&[file("count_broken(R0)", &["a|b", "a|b|c", "a|b"], "1")]),
    aggregate(
        "count_where",
        "count_where(condition: bool) -> int",
        &[Param::Data(ANY)],
        ResultType::Fixed(Int),
        "The number of data lines where the condition is true (file checks only).",
        AggregateLowering::Of { accepts: &[Bool], function: |_, _| Some(AggregateFunction::CountWhere) },
    )
    .with_examples(&[file("count_where(X == \"a\")", &["a|", "b|", "a|"], "2")]),
    aggregate(
        "count_distinct",
        "count_distinct(value) -> int",
        &[Param::Data(ANY)],
        ResultType::Fixed(Int),
        "The number of distinct non-null values (file checks only).",
        AggregateLowering::Of { accepts: &[], function: |_, _| Some(AggregateFunction::CountDistinct) },
    )
    .with_examples(&[file("count_distinct(X)", &["a|", "b|", "a|", "|"], "2")]),
    aggregate(
        "distinct_values",
        "distinct_values(value) -> list",
        &[Param::Data(ANY)],
        ResultType::ListOfArg,
        "The distinct non-null values, sorted (file checks only).",
        AggregateLowering::Of { accepts: &[], function: |_, _| Some(AggregateFunction::DistinctValues) },
    )
    .with_examples(&[file("distinct_values(X)", &["b|", "a|", "b|", "|"], "[\"a\", \"b\"]")]),
    aggregate(
        "modes",
        "modes(value) -> list",
        &[Param::Data(ANY)],
        ResultType::ListOfArg,
        "The most common non-null values (all of them when tied), sorted (file checks only).",
        AggregateLowering::Of { accepts: &[], function: |_, _| Some(AggregateFunction::Modes) },
    )
    .with_examples(&[file("modes(X)", &["b|", "a|", "b|"], "[\"b\"]")]),
    aggregate(
        "min",
        "min(value) -> same type",
        &[Param::Data(ANY)],
        ResultType::SameAsArg,
        "The smallest non-null value: of ints, money, numbers, dates, months or text (file checks only).",
        AggregateLowering::Of {
            accepts: &[Int, Money, Number, Date, Month, Text],
            function: |_, _| Some(AggregateFunction::Min),
        },
    )
    .nullable()
    .with_examples(&[file("min(parse_int(X) else null)", &["3|", "1|", "2|"], "1")]),
    aggregate(
        "max",
        "max(value) -> same type",
        &[Param::Data(ANY)],
        ResultType::SameAsArg,
        "The largest non-null value (file checks only).",
        AggregateLowering::Of {
            accepts: &[Int, Money, Number, Date, Month, Text],
            function: |_, _| Some(AggregateFunction::Max),
        },
    )
    .nullable()
    .with_examples(&[file(
        "max(parse_date(X, \"%Y-%m-%d\") else null)",
        &["2025-01-31|", "2025-03-01|", "|"],
        "2025-03-01",
    )]),
    aggregate(
        "mean",
        "mean(value: int | money | number | bool) -> number",
        &[Param::Data(ANY)],
        ResultType::Fixed(Number),
        "The mean of the non-null values; of a bool, the share of `true` (file checks only).",
        AggregateLowering::Of { accepts: &[Int, Money, Number, Bool], function: |_, _| Some(AggregateFunction::Mean) },
    )
    .nullable()
    .with_examples(&[file("mean(parse_int(X) else null)", &["1|", "2|", "3|", "4|", "|"], "2.5")]),
    aggregate(
        "stdev",
        "stdev(value: int | money | number) -> number",
        &[Param::Data(ANY)],
        ResultType::Fixed(Number),
        "The sample standard deviation of the non-null values (file checks only).",
        AggregateLowering::Of { accepts: &[Int, Money, Number], function: |_, _| Some(AggregateFunction::Stdev) },
    )
    .nullable()
    .with_examples(&[file("stdev(parse_int(X) else null)", &["1|", "3|", "5|"], "2.0")]),
    aggregate(
        "median",
        "median(value: int | money | number) -> number",
        &[Param::Data(ANY)],
        ResultType::Fixed(Number),
        "The median of the non-null values (file checks only).",
        AggregateLowering::Of { accepts: &[Int, Money, Number], function: |_, _| Some(AggregateFunction::Median) },
    )
    .nullable()
    .with_examples(&[file("median(parse_int(X) else null)", &["1|", "2|", "3|", "4|"], "2.5")]),
    aggregate(
        "quantile",
        "quantile(value, q: 0..1) -> same type",
        &[Param::Data(ANY), Param::Data(ANY)],
        ResultType::SameAsArg,
        "The value at quantile q by nearest rank (file checks only).",
        AggregateLowering::Of { accepts: &[Int, Money, Number, Date, Month], function: quantile },
    )
    .nullable()
    .with_examples(&[file("quantile(parse_int(X) else null, 0.75)", &["1|", "2|", "3|", "4|"], "3")]),
    aggregate(
        "sum",
        "sum(value: int | money) -> int | money",
        &[Param::Data(NUMBER)],
        ResultType::SameAsArg,
        "The sum of the non-null values over every data line (file checks only).",
        AggregateLowering::Of { accepts: &[Int, Money, Number], function: |_, _| Some(AggregateFunction::Sum) },
    )
    .nullable()
    .with_examples(&[file("sum(parse_money(X, ringgit) else null)", &["1.50|", "2.25|", "|"], "RM3.75")]),
];

/// `quantile(x, q)`: q is a constant between 0 and 1, folded into the aggregate.
fn quantile(checker: &mut Checker<'_>, args: &[ast::Expr]) -> Option<AggregateFunction> {
    let q = match &strip_parens(&args[1]).kind {
        ast::ExprKind::Literal(ast::LitValue::Number(bits)) => Some(f64::from_bits(*bits)),
        ast::ExprKind::Literal(ast::LitValue::Int(i)) => Some(*i as f64),
        _ => None,
    };
    let Some(q) = q.filter(|q| (0.0..=1.0).contains(q)) else {
        checker
            .error(
                codes::NOT_CONSTANT,
                "the quantile must be written as a number between 0 and 1",
                args[1].span,
                "not a quantile",
            )
            .help = Some("e.g. `quantile(x, 0.5)` for the median, `quantile(x, 0.95)`".into());
        return None;
    };
    Some(AggregateFunction::Quantile(ir::F64(q)))
}
