//! The date and month functions, and the run's date (the interpreter's `kernels/date.rs`).
//!
//! A month is held as its first day, so a month is a date whose day is 1, and `format_date`
//! writes either.
//!
//! Boundary: the entries are data for the checker, the editor and the docs; the hooks below reach
//! the checker through its `pub(crate)` methods only.

use etr_ir::{self as ir, Builtin, Type, TypeKind};

use super::{DATE, DATE_OR_MONTH, Family, INT, Param, Signature, TEXT, row, value, whole};
use crate::check::calls::Call;
use crate::check::{Checker, literal_expr};
use crate::codes;
use crate::datefmt::{DateFormatUse, parse_date_format};

pub(super) const FAMILY: Family = Family {
    title: "Dates and months",
    doc: "Computing with dates and months, and the date a run is as of.",
    functions: FUNCTIONS,
    ir_family: Some(etr_ir::BuiltinFamily::Date),
};

const FUNCTIONS: &[Signature] = &[
    value(
        "run_date",
        "run_date() -> date",
        &[],
        TypeKind::Date,
        "The date the run is as of: `etr run --as-of`, by default the day the run starts; recorded in the summary.",
        |_| Some(Builtin::RunDate),
    )
    .with_examples(&[
        row("run_date()", &["a|b"], "2025-07-01"),
    ]),
    value(
        "add_days",
        "add_days(value: date, days: int) -> date",
        &[Param::Data(DATE), Param::Data(INT)],
        TypeKind::Date,
        "The date that many days later (earlier when negative).",
        |_| Some(Builtin::AddDays),
    )
    .with_examples(&[
        row("add_days(parse_date(X, \"%Y-%m-%d\") else null, 30)", &["2025-06-15|"], "2025-07-15"),
        row("add_days(parse_date(X, \"%Y-%m-%d\") else null, -1)", &["2024-03-01|"], "2024-02-29"),
    ]),
    value(
        "format_date",
        "format_date(value: date | month, format: \"%y%m%d\") -> text",
        &[Param::Data(DATE_OR_MONTH), Param::ConstText("date format")],
        TypeKind::Text,
        "Writes a date as text (%Y, %y, %m, %d).",
        |call| call.date_format(0, DateFormatUse::Format).map(Builtin::FormatDate),
    )
    .with_text_help("parse the text first with `parse_date`")
    .with_examples(&[
        row("format_date(parse_date(X, \"%Y-%m-%d\") else null, \"%y%m%d\")", &["1985-01-01|"], "\"850101\""),
    ]),
    value(
        "month_of",
        "month_of(value: date) -> month",
        &[Param::Data(DATE)],
        TypeKind::Month,
        "The month the date falls in, e.g. the reporting month of a transaction date.",
        |_| Some(Builtin::MonthOf),
    )
    .with_text_help("parse the text first with `parse_date`")
    .with_examples(&[
        row("month_of(parse_date(X, \"%Y-%m-%d\") else null)", &["2025-06-15|"], "2025-06-01"),
        row("month_of(parse_date(X, \"%d/%m/%Y\") else null)", &["29/02/2024|"], "2024-02-01"),
        row("month_of(parse_date(X, \"%Y-%m-%d\") else null)", &["|"], "null"),
    ]),
    whole(
        "looks_like_date",
        "looks_like_date(value: text) -> bool",
        &[Param::Data(TEXT)],
        TypeKind::Bool,
        "True when the text is a real date in a common layout: yyyy-mm-dd, dd/mm/yyyy, mm/dd/yyyy, yyyy/mm/dd, dd-mm-yyyy, dd.mm.yyyy or yyyymmdd.",
        lower_looks_like_date,
    )
    .with_examples(&[
        row("looks_like_date(X)", &["31/12/2025|"], "true"),
        row("looks_like_date(X)", &["31/13/2025|"], "false"),
    ]),
];

/// The layouts `looks_like_date` tries, day-first before month-first (Malaysian usage).
const LOOSE_DATE_LAYOUTS: &[&str] = &["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d"];

/// `looks_like_date(x)` is sugar: `x` parses in one of [`LOOSE_DATE_LAYOUTS`], null when `x` is.
fn lower_looks_like_date(checker: &mut Checker<'_>, call: &Call<'_>) -> Option<ir::Expr> {
    checker.refuse_needless_handler(call);
    let args = call.args;
    if args.len() != 1 {
        checker.error(
            codes::ARGUMENT_COUNT,
            "`looks_like_date` takes one argument",
            call.span,
            "wrong number of arguments",
        );
        return None;
    }
    let value = checker.infer(&args[0], call.ctx)?;
    if !matches!(value.ty.kind, TypeKind::Text | TypeKind::Null) {
        let found = checker.kind_name(value.ty.kind);
        checker.error(
            codes::TYPE_MISMATCH,
            format!("`looks_like_date` reads text, but this is {found}"),
            args[0].span,
            format!("this is {found}"),
        );
        return None;
    }
    let mut parses = Vec::new();
    for layout in LOOSE_DATE_LAYOUTS {
        let Ok(format) = parse_date_format(layout, DateFormatUse::ParseDate) else { continue };
        let attempt = ir::Expr {
            kind: ir::ExprKind::Fallible {
                op: ir::FallibleOp::Call { function: Builtin::ParseDate(format), args: vec![value.clone()] },
                on_failure: ir::OnFailure::Default(Box::new(literal_expr(ir::Literal::Null, TypeKind::Date))),
            },
            ty: Type::nullable(TypeKind::Date),
        };
        parses.push(ir::Expr {
            kind: ir::ExprKind::IsNull { operand: Box::new(attempt), negated: true },
            ty: Type::non_null(TypeKind::Bool),
        });
    }
    let any = parses
        .into_iter()
        .reduce(|a, b| ir::Expr {
            kind: ir::ExprKind::Binary(ir::BinaryOp::Or, Box::new(a), Box::new(b)),
            ty: Type::non_null(TypeKind::Bool),
        })
        .expect("the layouts are valid formats");
    // Null in, null out, like every other test of a value.
    let is_null = ir::Expr {
        kind: ir::ExprKind::IsNull { operand: Box::new(value), negated: false },
        ty: Type::non_null(TypeKind::Bool),
    };
    Some(ir::Expr {
        kind: ir::ExprKind::If {
            condition: Box::new(is_null),
            then_branch: Box::new(literal_expr(ir::Literal::Null, TypeKind::Bool)),
            else_branch: Box::new(any),
        },
        ty: Type::nullable(TypeKind::Bool),
    })
}
