//! Which bindings the JIT compiles, decided on the IR alone, and the shape of each kernel.
//!
//! A binding is compiled when its whole expression is a parse of one raw column with a handler
//! the kernel can apply per row (see [`KernelPlan::of`]); anything else is left to the
//! interpreter, per binding. The plan holds everything codegen needs, resolved: the date
//! format's fixed byte layout, the output layout, the fallback value.

use etr_ir::{
    Builtin, ColumnIdx, DateFormat, DateItem, Expr, ExprKind, FallibleOp, Literal, MoneyUnit, OnFailure, TypeKind,
};

/// One compiled binding: `parse(column c)` with its failure handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KernelPlan {
    pub(crate) column: ColumnIdx,
    pub(crate) parser: Parser,
    /// The value a failed row takes (`else <literal>`): valid, in the output's layout. `None`
    /// for `else null`, `else reject` and `else fail`, where a failed row is null.
    pub(crate) fallback: Option<i64>,
}

/// What the kernel parses, with everything constant folded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parser {
    /// `parse_int`: `[+-]?[0-9]+`, fits `i64`.
    Int,
    /// `parse_money(unit)`: exact sen.
    Money(MoneyUnit),
    /// `parse_date(format)`: days since 1970-01-01.
    Date(DateLayout),
    /// `parse_month(format)`: the first day of the month, in days since 1970-01-01.
    Month(DateLayout),
}

/// The physical layout of a kernel's output values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// `Int64` (int, money).
    Int64,
    /// `Date32` (date, month).
    Date32,
}

/// A date format as fixed-width fields at fixed byte offsets (every item has a fixed width).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateLayout {
    /// The pattern as written, for the generated code's comments.
    pub(crate) pattern: String,
    /// The exact length a matching text has.
    pub(crate) width: u32,
    /// Each item with the offset of its first byte.
    pub(crate) items: Vec<(u32, DateItem)>,
    /// False when no text can match: a two-digit year (it needs a pivot, which v1 does not
    /// have), or a format without the year, the month, or (for dates) the day.
    pub(crate) can_match: bool,
}

impl Parser {
    pub(crate) fn output(&self) -> Output {
        match self {
            Parser::Int | Parser::Money(_) => Output::Int64,
            Parser::Date(_) | Parser::Month(_) => Output::Date32,
        }
    }

    /// The parse as the DSL writes it, for comments and the CLIF text header.
    pub(crate) fn describe(&self) -> String {
        match self {
            Parser::Int => "parse_int".to_owned(),
            Parser::Money(MoneyUnit::Ringgit) => "parse_money(ringgit)".to_owned(),
            Parser::Money(MoneyUnit::Sen) => "parse_money(sen)".to_owned(),
            Parser::Date(layout) => format!("parse_date({:?})", layout.pattern),
            Parser::Month(layout) => format!("parse_month({:?})", layout.pattern),
        }
    }
}

impl DateLayout {
    fn new(format: &DateFormat, needs_day: bool) -> DateLayout {
        let mut offset = 0u32;
        let mut items = Vec::with_capacity(format.items.len());
        for &item in &format.items {
            items.push((offset, item));
            offset += match item {
                DateItem::Year4 => 4,
                DateItem::Literal(_) => 1,
                _ => 2,
            };
        }
        let has = |wanted: DateItem| format.items.contains(&wanted);
        let can_match = !has(DateItem::Year2)
            && has(DateItem::Year4)
            && has(DateItem::Month2)
            && (!needs_day || has(DateItem::Day2));
        DateLayout { pattern: format.pattern.clone(), width: offset, items, can_match }
    }
}

impl KernelPlan {
    /// The kernel for a binding's expression, or `None` when the JIT leaves it to the interpreter.
    pub(crate) fn of(expr: &Expr) -> Option<KernelPlan> {
        let ExprKind::Fallible { op: FallibleOp::Call { function, args }, on_failure } = &expr.kind else {
            return None;
        };
        let [Expr { kind: ExprKind::Column(column), .. }] = args.as_slice() else {
            return None;
        };
        let (parser, kinds): (Parser, &[TypeKind]) = match function {
            Builtin::ParseInt => (Parser::Int, &[TypeKind::Int]),
            Builtin::ParseMoney(unit) => (Parser::Money(*unit), &[TypeKind::Money]),
            Builtin::ParseDate(format) => (Parser::Date(DateLayout::new(format, true)), &[TypeKind::Date]),
            Builtin::ParseMonth(format) => (Parser::Month(DateLayout::new(format, false)), &[TypeKind::Month]),
            _ => return None,
        };
        // The node's type decides the output layout the interpreter builds; a mismatch would be
        // broken IR, which the interpreter reports and the JIT does not try to reproduce.
        if !kinds.contains(&expr.ty.kind) {
            return None;
        }
        let fallback = match on_failure {
            OnFailure::Reject { .. } | OnFailure::Fail { .. } => None,
            OnFailure::Default(fallback) => match (&fallback.kind, parser.output()) {
                (ExprKind::Literal(Literal::Null), _) => None,
                (ExprKind::Literal(Literal::Int(v)), Output::Int64) if expr.ty.kind == TypeKind::Int => Some(*v),
                (ExprKind::Literal(Literal::Money(v)), Output::Int64) if expr.ty.kind == TypeKind::Money => Some(*v),
                (ExprKind::Literal(Literal::Date(d)), Output::Date32) => Some(i64::from(*d)),
                // A computed fallback is evaluated over the failed rows: the interpreter's job.
                _ => return None,
            },
        };
        Some(KernelPlan { column: *column, parser, fallback })
    }
}
