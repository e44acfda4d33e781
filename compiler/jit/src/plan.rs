//! Which bindings the JIT compiles, decided on the IR alone, and the shape of each kernel.
//!
//! A binding is compiled when its whole expression is a parse of one raw column, or a code-table
//! lookup of one, with a handler the kernel can apply per row (see [`KernelPlan::of`]); anything
//! else is left to the interpreter, per binding. The plan holds everything codegen needs,
//! resolved: the date format's fixed byte layout, a table's keys as the machine words to compare
//! and its values as constants, the output layout, the fallback value.

use etr_ir::{
    Builtin, CodeTable, ColumnIdx, DateFormat, DateItem, Expr, ExprKind, FallibleOp, Literal, MoneyUnit, OnFailure,
    Program, TableIdx, TypeKind,
};

/// The most entries a compiled lookup compares against, one after the other. Bigger tables stay
/// with the interpreter's hash map, which finds a key in one probe.
const MAX_COMPARED_ENTRIES: usize = 64;

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
    /// `table[column]`: the key compared with the table's keys as machine words.
    Lookup(LookupPlan),
}

/// A text-keyed code table as the comparisons a kernel makes. A short key (at most 12 bytes) is
/// the whole of its Arrow view, length included, so a row's canonical view (its padding zeroed)
/// is compared with it as two 64-bit words and the data buffers are never read; a key of 13 to
/// 16 bytes is matched by its view's first word (length and 4-byte prefix), then by two words read
/// from the row's buffer (bytes 4..12 and the last 8). Each entry's value is a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LookupPlan {
    pub(crate) table: TableIdx,
    pub(crate) name: String,
    /// `(low word, high word, value)` of every key of at most 12 bytes, first entry first.
    pub(crate) short: Vec<(u64, u64, i64)>,
    /// `(view's low word, bytes 4..12, last 8 bytes, value)` of every key of 13 to 16 bytes.
    pub(crate) long: Vec<(u64, u64, u64, i64)>,
    pub(crate) output: Output,
}

/// The physical layout of a kernel's output values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// `Int64` (int, money).
    Int64,
    /// `Date32` (date, month).
    Date32,
    /// `UInt32` (codes: the member's index).
    UInt32,
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
            Parser::Lookup(lookup) => lookup.output,
        }
    }

    /// Whether the kernel parses a date or a month (and so reads the month table).
    pub(crate) fn reads_dates(&self) -> bool {
        matches!(self, Parser::Date(_) | Parser::Month(_))
    }

    /// What the kernel computes from the column named `column`, for the CLIF text header:
    /// `parse_date("%d/%m/%Y")(column DOB)`, `states[column STATE]`.
    pub(crate) fn describe(&self, column: &str) -> String {
        let parse = match self {
            Parser::Int => "parse_int".to_owned(),
            Parser::Money(MoneyUnit::Ringgit) => "parse_money(ringgit)".to_owned(),
            Parser::Money(MoneyUnit::Sen) => "parse_money(sen)".to_owned(),
            Parser::Date(layout) => format!("parse_date({:?})", layout.pattern),
            Parser::Month(layout) => format!("parse_month({:?})", layout.pattern),
            Parser::Lookup(lookup) => return format!("{}[column {column}]", lookup.name),
        };
        format!("{parse}(column {column})")
    }
}

impl DateLayout {
    fn new(format: &DateFormat, needs_day: bool) -> DateLayout {
        let mut offset = 0u32;
        let mut items = Vec::with_capacity(format.items.len());
        for &item in &format.items {
            items.push((offset, item));
            offset += item.width() as u32;
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
    pub(crate) fn of(expr: &Expr, program: &Program) -> Option<KernelPlan> {
        let ExprKind::Fallible { op, on_failure } = &expr.kind else {
            return None;
        };
        let (function, args) = match op {
            FallibleOp::Call { function, args } => (function, args),
            FallibleOp::Lookup { table, key } => return KernelPlan::of_lookup(expr, program, *table, key, on_failure),
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

    /// `table[Column(c)]` with `else null`, `else reject` or `else fail`, for a text-keyed table of
    /// at most [`MAX_COMPARED_ENTRIES`] keys of at most 16 bytes whose values are codes, ints,
    /// money or dates. (A fallback value is the interpreter's: it is evaluated over failed rows.)
    fn of_lookup(
        expr: &Expr,
        program: &Program,
        table: TableIdx,
        key: &Expr,
        on_failure: &OnFailure,
    ) -> Option<KernelPlan> {
        let ExprKind::Column(column) = key.kind else { return None };
        let null_on_failure = match on_failure {
            OnFailure::Reject { .. } | OnFailure::Fail { .. } => true,
            OnFailure::Default(fallback) => matches!(fallback.kind, ExprKind::Literal(Literal::Null)),
        };
        let code_table = program.tables.get(table)?;
        if !null_on_failure || code_table.key_type.kind != TypeKind::Text || key.ty.kind != TypeKind::Text {
            return None;
        }
        let output = match code_table.value_type.kind {
            TypeKind::Code(_) => Output::UInt32,
            TypeKind::Int | TypeKind::Money => Output::Int64,
            TypeKind::Date | TypeKind::Month => Output::Date32,
            _ => return None,
        };
        if expr.ty.kind != code_table.value_type.kind || code_table.entries.len() > MAX_COMPARED_ENTRIES {
            return None;
        }
        let lookup = LookupPlan::new(table, code_table, output)?;
        Some(KernelPlan { column, parser: Parser::Lookup(lookup), fallback: None })
    }
}

impl LookupPlan {
    fn new(table: TableIdx, code_table: &CodeTable, output: Output) -> Option<LookupPlan> {
        let mut seen: Vec<&str> = Vec::new();
        let (mut short, mut long) = (Vec::new(), Vec::new());
        for (key, value) in &code_table.entries {
            let Literal::Text(key) = key else { return None };
            // A repeated key keeps its first entry, as the interpreter's table does.
            if seen.contains(&key.as_str()) {
                continue;
            }
            seen.push(key);
            let value = match value {
                Literal::Code(_, index) => i64::from(*index),
                Literal::Int(v) | Literal::Money(v) => *v,
                Literal::Date(d) => i64::from(*d),
                _ => return None,
            };
            let bytes = key.as_bytes();
            let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
            match bytes.len() {
                0..=12 => {
                    let mut view = [0u8; 16];
                    view[..4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
                    view[4..4 + bytes.len()].copy_from_slice(bytes);
                    let low = u64::from_le_bytes(view[..8].try_into().unwrap_or_default());
                    let high = u64::from_le_bytes(view[8..].try_into().unwrap_or_default());
                    short.push((low, high, value));
                }
                13..=16 => {
                    let mut prefix = [0u8; 8];
                    prefix[..4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
                    prefix[4..].copy_from_slice(&bytes[..4]);
                    long.push((u64::from_le_bytes(prefix), word(4), word(bytes.len() - 8), value));
                }
                _ => return None,
            }
        }
        Some(LookupPlan { table, name: code_table.name.clone(), short, long, output })
    }
}
