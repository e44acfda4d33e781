//! The expression evaluator: one IR expression over a whole batch, column at a time.
//!
//! The same evaluator runs the mapping and the row checks over a batch, the aggregates' arguments,
//! and the file checks (over a one-row context whose values are all scalars), so there is one
//! semantics for every place an expression can appear.
//!
//! Selection: `eval(expr, sel)` returns a value that is correct on the rows of `sel`; on other
//! rows it is unspecified (it may even be a null scalar when no row is selected). A branch of an
//! `if`, `match` or `??` is evaluated for the rows that take it, and a fallible operation reports
//! failures only on selected rows, so a failing parse in a branch that a row does not take raises
//! nothing. Malformed lines are simply never selected.

use std::sync::Arc;

use arrow::array::{Array, BooleanArray};
use arrow::buffer::BooleanBuffer;
use etr_ir::{
    BinaryOp, Builtin, ColumnIdx, Expr, ExprKind, FallibleOp, FieldDef, IndexVec, Literal, LocalDef, MatchArm,
    OnFailure, Pattern, RuleIdx, TypeKind, UnaryOp,
};

use crate::error::InterpError;
use crate::kernels::compare::{CmpOp, compare_bool, compare_text};
use crate::kernels::lookup::column_of;
use crate::kernels::select::{select, take};
use crate::kernels::{self, Fallible, Prim, arith, boolean};
use crate::value::{Column, Datum, Phys, Scalar, render_scalar};
use crate::{Interpreter, RawBatch, Violation};

/// Where column, header, trailer and aggregate reads come from.
pub(crate) enum Env<'a> {
    /// A batch of data lines.
    Rows(&'a RawBatch),
    /// The end of the file: header and trailer values and the aggregates' final values.
    File { header: &'a [Scalar], trailer: &'a [Scalar], aggregates: &'a [Scalar] },
}

/// Which failures of fallible operations are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    /// Rejects and fatal failures (the mapping and the row checks).
    All,
    /// Only fatal failures (aggregate arguments: there is no line to reject).
    FatalOnly,
    /// Nothing (file checks: a failure is a null, and a null breaks the check).
    Nothing,
}

/// The rows an expression is evaluated for (see the module docs).
#[derive(Debug, Clone)]
pub(crate) enum Sel {
    All,
    Rows(BooleanBuffer),
}

impl Sel {
    pub(crate) fn and(&self, bits: &BooleanBuffer) -> Sel {
        Sel::Rows(self.restrict(bits))
    }

    /// The rows of `bits` that are selected.
    pub(crate) fn restrict(&self, bits: &BooleanBuffer) -> BooleanBuffer {
        match self {
            Sel::All => bits.clone(),
            Sel::Rows(rows) => rows & bits,
        }
    }

    /// The number of selected rows of a batch of `len`.
    pub(crate) fn count(&self, len: usize) -> usize {
        match self {
            Sel::All => len,
            Sel::Rows(rows) => rows.count_set_bits(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Sel::All => false,
            Sel::Rows(rows) => rows.count_set_bits() == 0,
        }
    }
}

/// The state of one evaluation: assigned fields and locals, and the violations raised so far.
pub(crate) struct Frame<'a> {
    pub(crate) interp: &'a Interpreter,
    pub(crate) len: usize,
    pub(crate) env: Env<'a>,
    pub(crate) fields: IndexVec<FieldDef, Option<Datum>>,
    pub(crate) locals: IndexVec<LocalDef, Option<Datum>>,
    pub(crate) report: Report,
    pub(crate) violations: Vec<Violation>,
    pub(crate) fatal: Vec<Violation>,
    /// Parses of a column with `else null`, by function and column: their value does not depend on
    /// the selection, so the aggregates reuse what the mapping computed (jcl.etr re-reads six money
    /// columns in its control totals). A handful of entries: a linear search is the fastest map.
    pub(crate) memo: Vec<(Builtin, ColumnIdx, Column)>,
}

/// The rows where a bool datum is true, and where it is false (neither where it is null).
pub(crate) fn truth(datum: &Datum, len: usize) -> Result<(BooleanBuffer, BooleanBuffer), InterpError> {
    Ok(match datum {
        Datum::Scalar(Scalar::Bool(true)) => (BooleanBuffer::new_set(len), BooleanBuffer::new_unset(len)),
        Datum::Scalar(Scalar::Bool(false)) => (BooleanBuffer::new_unset(len), BooleanBuffer::new_set(len)),
        Datum::Scalar(Scalar::Null) => (BooleanBuffer::new_unset(len), BooleanBuffer::new_unset(len)),
        Datum::Array(Column::Bool(a)) => (boolean::true_rows(a), boolean::false_rows(a)),
        Datum::Array(col) if col.nulls().is_some_and(|n| n.null_count() == col.len()) => {
            (BooleanBuffer::new_unset(len), BooleanBuffer::new_unset(len))
        }
        other => return Err(InterpError::internal(format!("a bool was expected, got {other:?}"))),
    })
}

fn kleene_and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn kleene_or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

fn as_bool(scalar: &Scalar) -> Result<Option<bool>, InterpError> {
    match scalar {
        Scalar::Bool(b) => Ok(Some(*b)),
        Scalar::Null => Ok(None),
        other => Err(InterpError::internal(format!("a bool was expected, got {other:?}"))),
    }
}

fn bool_scalar(value: Option<bool>) -> Datum {
    Datum::Scalar(value.map_or(Scalar::Null, Scalar::Bool))
}

fn cmp_op(op: BinaryOp) -> Option<CmpOp> {
    Some(match op {
        BinaryOp::Eq => CmpOp::Eq,
        BinaryOp::Ne => CmpOp::Ne,
        BinaryOp::Lt => CmpOp::Lt,
        BinaryOp::Le => CmpOp::Le,
        BinaryOp::Gt => CmpOp::Gt,
        BinaryOp::Ge => CmpOp::Ge,
        _ => return None,
    })
}

/// The layout two operands are compared in (the null literal takes the other side's).
fn operand_phys(l: &Expr, r: &Expr) -> Option<Phys> {
    match (l.ty.kind, r.ty.kind) {
        (TypeKind::Null, TypeKind::Null) => None,
        (TypeKind::Null, kind) | (kind, _) => Some(Phys::of(kind)),
    }
}

impl<'a> Frame<'a> {
    /// Evaluates `expr` for the rows of `sel` (see the module docs).
    pub(crate) fn eval(&mut self, expr: &Expr, sel: &Sel) -> Result<Datum, InterpError> {
        etr_ir::ensure_sufficient_stack(|| {
            if sel.is_empty() {
                return Ok(Datum::null());
            }
            let len = self.len;
            Ok(match &expr.kind {
                ExprKind::Literal(literal) => Datum::Scalar(Scalar::from_literal(literal)),
                ExprKind::List(items) => {
                    Datum::Scalar(crate::value::sorted_list(items.iter().map(Scalar::from_literal).collect()))
                }
                ExprKind::Column(idx) => match self.env {
                    Env::Rows(batch) => {
                        let column = batch.columns.get(idx.index()).ok_or_else(|| missing("column", idx.raw()))?;
                        Datum::Array(Column::Text(column.clone()))
                    }
                    Env::File { .. } => return Err(InterpError::internal("a column read in a file check")),
                },
                ExprKind::Field(idx) => {
                    self.fields.get(*idx).ok_or_else(|| missing("field", idx.raw()))?.clone().unwrap_or(Datum::null())
                }
                ExprKind::Local(idx) => {
                    self.locals.get(*idx).ok_or_else(|| missing("local", idx.raw()))?.clone().unwrap_or(Datum::null())
                }
                ExprKind::HeaderField(idx) => Datum::Scalar(self.file_value(|h, _, _| h, "header field", *idx)?),
                ExprKind::TrailerField(idx) => Datum::Scalar(self.file_value(|_, t, _| t, "trailer field", *idx)?),
                ExprKind::Aggregate(idx) => Datum::Scalar(self.file_value(|_, _, a| a, "aggregate", idx.raw())?),
                ExprKind::Unary(UnaryOp::Neg, operand) => {
                    let value = self.eval(operand, sel)?;
                    match Phys::of(operand.ty.kind) {
                        Phys::Number => arith::unary::<f64, f64>(Prim::of(&value)?, len, |x| Some(-x)),
                        _ => arith::unary::<i64, i64>(Prim::of(&value)?, len, i64::checked_neg),
                    }
                }
                ExprKind::Unary(UnaryOp::Not, operand) => match self.eval(operand, sel)? {
                    Datum::Scalar(s) => bool_scalar(as_bool(&s)?.map(|b| !b)),
                    Datum::Array(Column::Bool(a)) => Datum::Array(Column::Bool(boolean::not(&a))),
                    Datum::Array(other) => return Err(InterpError::internal(format!("not of a {:?}", other.phys()))),
                },
                ExprKind::Binary(op, l, r) => self.binary(*op, l, r, sel)?,
                ExprKind::IsNull { operand, negated } => match self.eval(operand, sel)? {
                    Datum::Scalar(s) => Datum::Scalar(Scalar::Bool(s.is_null() != *negated)),
                    Datum::Array(col) => Datum::Array(Column::Bool(boolean::is_null(col.nulls(), len, *negated))),
                },
                ExprKind::InList { operand, list, negated } => {
                    let value = self.eval(operand, sel)?;
                    in_list(&value, list, *negated, Phys::of(operand.ty.kind))?
                }
                ExprKind::Coalesce(value, fallback) => {
                    let first = self.eval(value, sel)?;
                    let present = match &first {
                        Datum::Scalar(Scalar::Null) => BooleanBuffer::new_unset(len),
                        Datum::Scalar(_) => return Ok(first),
                        Datum::Array(col) => match col.nulls() {
                            None => return Ok(first),
                            Some(n) => n.inner().clone(),
                        },
                    };
                    let second = self.eval(fallback, &sel.and(&!&present))?;
                    Datum::Array(select(&present, first, second, Phys::of(expr.ty.kind), len)?)
                }
                ExprKind::If { condition, then_branch, else_branch } => {
                    let cond = self.eval(condition, sel)?;
                    if let Datum::Scalar(s) = &cond {
                        // A null condition takes the else branch.
                        let branch = if as_bool(s)? == Some(true) { then_branch } else { else_branch };
                        return self.eval(branch, sel);
                    }
                    let (taken, _) = truth(&cond, len)?;
                    let then = self.eval(then_branch, &sel.and(&taken))?;
                    let otherwise = self.eval(else_branch, &sel.and(&!&taken))?;
                    Datum::Array(select(&taken, then, otherwise, Phys::of(expr.ty.kind), len)?)
                }
                ExprKind::Match { scrutinee, arms, default } => {
                    self.eval_match(scrutinee, arms, default.as_deref(), Phys::of(expr.ty.kind), sel)?
                }
                ExprKind::Call { function, args } => {
                    let mut values = Vec::with_capacity(args.len());
                    for arg in args {
                        values.push(self.eval(arg, sel)?);
                    }
                    self.call(function, &values)?
                }
                ExprKind::Fallible { op, on_failure } => self.eval_fallible(op, on_failure, sel)?,
            })
        })
    }

    fn file_value(
        &self,
        pick: impl Fn(&'a [Scalar], &'a [Scalar], &'a [Scalar]) -> &'a [Scalar],
        what: &str,
        idx: u32,
    ) -> Result<Scalar, InterpError> {
        match self.env {
            Env::File { header, trailer, aggregates } => {
                pick(header, trailer, aggregates).get(idx as usize).cloned().ok_or_else(|| missing(what, idx))
            }
            // A row expression may read the file's aggregates once a first pass computed them;
            // before that (the first pass itself) the value is unknown: null.
            Env::Rows(_) if what == "aggregate" => Ok(self
                .interp
                .file_aggregates
                .as_ref()
                .and_then(|values| values.get(idx as usize).cloned())
                .unwrap_or(Scalar::Null)),
            Env::Rows(_) => Err(InterpError::internal(format!("a {what} read outside a file check"))),
        }
    }

    fn binary(&mut self, op: BinaryOp, l: &Expr, r: &Expr, sel: &Sel) -> Result<Datum, InterpError> {
        let len = self.len;
        let a = self.eval(l, sel)?;
        let b = self.eval(r, sel)?;
        if let Some(cmp) = cmp_op(op) {
            let Some(phys) = operand_phys(l, r) else { return Ok(Datum::null()) };
            return Ok(match phys {
                Phys::Int => arith::compare::<i64>(Prim::of(&a)?, Prim::of(&b)?, len, |x, y| cmp.apply(x, y)),
                // Plain `f64` comparison: there is no NaN to order, and `-0.0 == 0.0`.
                Phys::Number => arith::compare::<f64>(Prim::of(&a)?, Prim::of(&b)?, len, |x, y| cmp.apply(x, y)),
                Phys::Date => arith::compare::<i32>(Prim::of(&a)?, Prim::of(&b)?, len, |x, y| cmp.apply(x, y)),
                Phys::Code => arith::compare::<u32>(Prim::of(&a)?, Prim::of(&b)?, len, |x, y| cmp.apply(x, y)),
                Phys::Text => compare_text(&a, &b, len, cmp)?,
                Phys::Bool => match (&a, &b) {
                    (Datum::Scalar(x), Datum::Scalar(y)) => match (as_bool(x)?, as_bool(y)?) {
                        (Some(x), Some(y)) => Datum::Scalar(Scalar::Bool(cmp.apply(x, y))),
                        _ => Datum::null(),
                    },
                    _ => {
                        let (Column::Bool(x), Column::Bool(y)) = (a.into_column(phys, len)?, b.into_column(phys, len)?)
                        else {
                            return Err(InterpError::internal("bool comparison of non-bool columns"));
                        };
                        compare_bool(&x, &y, cmp)
                    }
                },
            });
        }
        Ok(match op {
            BinaryOp::And | BinaryOp::Or => {
                if let (Datum::Scalar(x), Datum::Scalar(y)) = (&a, &b) {
                    let (x, y) = (as_bool(x)?, as_bool(y)?);
                    return Ok(bool_scalar(if op == BinaryOp::And { kleene_and(x, y) } else { kleene_or(x, y) }));
                }
                let (Column::Bool(x), Column::Bool(y)) =
                    (a.into_column(Phys::Bool, len)?, b.into_column(Phys::Bool, len)?)
                else {
                    return Err(InterpError::internal("and/or of non-bool columns"));
                };
                let out = if op == BinaryOp::And { boolean::and(&x, &y) } else { boolean::or(&x, &y) };
                Datum::Array(Column::Bool(out))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem
                if operand_phys(l, r) == Some(Phys::Number) =>
            {
                let f: fn(f64, f64) -> f64 = match op {
                    BinaryOp::Add => |x, y| x + y,
                    BinaryOp::Sub => |x, y| x - y,
                    BinaryOp::Mul => |x, y| x * y,
                    BinaryOp::Div => |x, y| x / y,
                    _ => |x, y| x % y,
                };
                arith::binary::<f64, f64>(Prim::of(&a)?, Prim::of(&b)?, len, |x, y| arith::finite(f(x, y)))
            }
            BinaryOp::Add => arith::binary::<i64, i64>(Prim::of(&a)?, Prim::of(&b)?, len, i64::checked_add),
            BinaryOp::Sub => arith::binary::<i64, i64>(Prim::of(&a)?, Prim::of(&b)?, len, i64::checked_sub),
            BinaryOp::Mul => arith::binary::<i64, i64>(Prim::of(&a)?, Prim::of(&b)?, len, i64::checked_mul),
            BinaryOp::Div => arith::binary::<i64, i64>(Prim::of(&a)?, Prim::of(&b)?, len, i64::checked_div),
            BinaryOp::Rem => arith::binary::<i64, i64>(Prim::of(&a)?, Prim::of(&b)?, len, i64::checked_rem),
            _ => return Err(InterpError::internal(format!("unhandled operator {op:?}"))),
        })
    }

    fn eval_match(
        &mut self,
        scrutinee: &Expr,
        arms: &[MatchArm],
        default: Option<&Expr>,
        phys: Phys,
        sel: &Sel,
    ) -> Result<Datum, InterpError> {
        let len = self.len;
        let value = self.eval(scrutinee, sel)?;
        let scrutinee_phys = Phys::of(scrutinee.ty.kind);
        if let Datum::Scalar(s) = &value {
            if !s.is_null() {
                for arm in arms {
                    for pattern in &arm.patterns {
                        if pattern_matches_scalar(s, pattern)? {
                            return self.eval(&arm.value, sel);
                        }
                    }
                }
            }
            return match default {
                Some(d) => self.eval(d, sel),
                None => Ok(Datum::null()),
            };
        }
        // Each arm takes the rows its patterns match that no earlier arm took.
        let mut taken = BooleanBuffer::new_unset(len);
        let mut arm_rows = Vec::with_capacity(arms.len());
        for arm in arms {
            let mut hits = BooleanBuffer::new_unset(len);
            for pattern in &arm.patterns {
                hits = &hits | &pattern_rows(&value, pattern, scrutinee_phys, len)?;
            }
            let rows = &hits & &!&taken;
            taken = &taken | &rows;
            arm_rows.push(rows);
        }
        let mut values = Vec::with_capacity(arms.len() + 1);
        for (arm, rows) in arms.iter().zip(&arm_rows) {
            values.push(self.eval(&arm.value, &sel.and(rows))?);
        }
        let rest = !&taken;
        values.push(match default {
            Some(d) => self.eval(d, &sel.and(&rest))?,
            None => Datum::null(),
        });
        // When every arm is a constant (the usual lookup-by-range), gather by arm number.
        if values.iter().all(|v| matches!(v, Datum::Scalar(_))) {
            let scalars: Vec<Scalar> = values.iter().map(|v| v.scalar_at(0)).collect();
            let table = column_of(&scalars, phys)?;
            let mut index = vec![arms.len() as u32; len];
            for (k, rows) in arm_rows.iter().enumerate() {
                for i in rows.set_indices() {
                    index[i] = k as u32;
                }
            }
            let ok = BooleanBuffer::collect_bool(len, |i| !scalars[index[i] as usize].is_null());
            return Ok(Datum::Array(take(&table, &index, ok)));
        }
        let mut values = values.into_iter().rev();
        let mut result = values.next().unwrap_or(Datum::null());
        for (rows, value) in arm_rows.iter().rev().zip(values) {
            result = Datum::Array(select(rows, value, result, phys, len)?);
        }
        Ok(result)
    }

    /// An infallible built-in, by the kernels of its family (`kernels::call`).
    fn call(&mut self, function: &Builtin, args: &[Datum]) -> Result<Datum, InterpError> {
        let header = match self.env {
            Env::File { header, .. } => Some(header),
            Env::Rows(_) => None,
        };
        kernels::call(&kernels::Call { function, args, interp: self.interp, header, rows: self.len })
    }

    fn eval_fallible(&mut self, op: &FallibleOp, on_failure: &OnFailure, sel: &Sel) -> Result<Datum, InterpError> {
        let len = self.len;
        let null_default =
            matches!(on_failure, OnFailure::Default(d) if matches!(d.kind, ExprKind::Literal(Literal::Null)));
        let memo_key = match op {
            FallibleOp::Call { function, args } if null_default => match args.as_slice() {
                [Expr { kind: ExprKind::Column(c), .. }] => Some((function, *c)),
                _ => None,
            },
            _ => None,
        };
        if let Some((function, c)) = memo_key
            && let Some((_, _, column)) = self.memo.iter().find(|(f, k, _)| f == function && *k == c)
        {
            return Ok(Datum::Array(column.clone()));
        }
        // `FallibleOp::input` indexes the arguments: check there is exactly one before calling it.
        if let FallibleOp::Call { function, args } = op
            && args.len() != 1
        {
            return Err(InterpError::internal(format!("{function:?} takes one data argument")));
        }
        let input = self.eval(op.input(), sel)?;
        // A native kernel for this parse or lookup of a raw column, when the back end compiled one.
        let native = match (op, &self.env, self.interp.native()) {
            (FallibleOp::Call { function, args }, Env::Rows(batch), Some(native)) => match args.as_slice() {
                [Expr { kind: ExprKind::Column(c), .. }] => native.parse_column(function, *c, batch),
                _ => None,
            },
            (FallibleOp::Lookup { table, key }, Env::Rows(batch), Some(native)) => match key.kind {
                ExprKind::Column(c) => native.lookup_column(*table, c, batch),
                _ => None,
            },
            _ => None,
        };
        let outcome = match (op, native) {
            (_, Some((values, failed))) => Fallible { values: Column::from_array(&values)?, failed },
            (FallibleOp::Call { function, .. }, None) => {
                let Column::Text(text) = input.clone().into_column(Phys::Text, len)? else {
                    return Err(InterpError::internal("a parse of a non-text value"));
                };
                kernels::parse::parse(function, &text)?
            }
            (FallibleOp::Lookup { table, .. }, None) => {
                let table = self.interp.tables.get(*table).ok_or_else(|| missing("table", table.raw()))?;
                table.lookup(&input, len)?
            }
        };
        if let Some((function, c)) = memo_key {
            self.memo.push((function.clone(), c, outcome.values.clone()));
        }
        // A failed row is already null: `else null` needs no further work.
        if null_default {
            return Ok(Datum::Array(outcome.values));
        }
        let failed = sel.restrict(&outcome.failed);
        if failed.count_set_bits() == 0 {
            return Ok(Datum::Array(outcome.values));
        }
        let input_kind = op.input().ty.kind;
        match on_failure {
            OnFailure::Default(fallback) => {
                let phys = outcome.values.phys();
                let fallback = self.eval(fallback, &Sel::Rows(failed.clone()))?;
                return Ok(Datum::Array(select(&failed, fallback, Datum::Array(outcome.values), phys, len)?));
            }
            OnFailure::Reject { rule, target } if self.report == Report::All => {
                self.record(&failed, *rule, target, &input, input_kind, false);
            }
            OnFailure::Fail { rule, target } if self.report != Report::Nothing => {
                self.record(&failed, *rule, target, &input, input_kind, true);
            }
            OnFailure::Reject { .. } | OnFailure::Fail { .. } => {}
        }
        Ok(Datum::Array(outcome.values))
    }

    /// Records a violation of `rule` on every row of `rows`, showing `value` at that row.
    pub(crate) fn record(
        &mut self,
        rows: &BooleanBuffer,
        rule: RuleIdx,
        target: &str,
        value: &Datum,
        kind: TypeKind,
        fatal: bool,
    ) {
        let target: Arc<str> = self.interp.target(target);
        let program = self.interp.program();
        let sink = if fatal { &mut self.fatal } else { &mut self.violations };
        for row in rows.set_indices() {
            let value = render_scalar(program, kind, &value.scalar_at(row));
            sink.push(Violation { row: row as u32, rule, target: target.clone(), value });
        }
    }
}

fn missing(what: &str, idx: u32) -> InterpError {
    InterpError::internal(format!("{what} {idx} does not exist"))
}

/// Whether a non-null scalar matches a pattern.
fn pattern_matches_scalar(value: &Scalar, pattern: &Pattern) -> Result<bool, InterpError> {
    Ok(match pattern {
        Pattern::Literal(literal) => *value == Scalar::from_literal(literal),
        Pattern::Range(lo, hi) => match (value, Scalar::from_literal(lo), Scalar::from_literal(hi)) {
            (Scalar::Int(v), Scalar::Int(lo), Scalar::Int(hi)) => lo <= *v && *v <= hi,
            (Scalar::Number(v), Scalar::Number(lo), Scalar::Number(hi)) => lo <= *v && *v <= hi,
            (Scalar::Date(v), Scalar::Date(lo), Scalar::Date(hi)) => lo <= *v && *v <= hi,
            _ => return Err(InterpError::internal("a range pattern of a non-numeric type")),
        },
    })
}

/// The rows (of a column scrutinee) that a pattern matches; null rows match nothing.
fn pattern_rows(value: &Datum, pattern: &Pattern, phys: Phys, len: usize) -> Result<BooleanBuffer, InterpError> {
    let eq = |literal: &Literal| -> Result<BooleanBuffer, InterpError> {
        let lit = Datum::Scalar(Scalar::from_literal(literal));
        let out = match phys {
            Phys::Int => arith::compare::<i64>(Prim::of(value)?, Prim::of(&lit)?, len, |x, y| x == y),
            Phys::Number => arith::compare::<f64>(Prim::of(value)?, Prim::of(&lit)?, len, |x, y| x == y),
            Phys::Date => arith::compare::<i32>(Prim::of(value)?, Prim::of(&lit)?, len, |x, y| x == y),
            Phys::Code => arith::compare::<u32>(Prim::of(value)?, Prim::of(&lit)?, len, |x, y| x == y),
            Phys::Text => compare_text(value, &lit, len, CmpOp::Eq)?,
            Phys::Bool => {
                let Column::Bool(a) = value.clone().into_column(Phys::Bool, len)? else {
                    return Err(InterpError::internal("a bool scrutinee expected"));
                };
                let Column::Bool(b) = lit.into_column(Phys::Bool, len)? else {
                    return Err(InterpError::internal("a bool pattern expected"));
                };
                compare_bool(&a, &b, CmpOp::Eq)
            }
        };
        Ok(truth(&out, len)?.0)
    };
    match pattern {
        Pattern::Literal(literal) => eq(literal),
        Pattern::Range(lo, hi) => {
            let out = match (phys, Scalar::from_literal(lo), Scalar::from_literal(hi)) {
                (Phys::Int, Scalar::Int(lo), Scalar::Int(hi)) => {
                    arith::compare::<i64>(Prim::of(value)?, Prim::Scalar(Some(0)), len, |x, _| lo <= x && x <= hi)
                }
                (Phys::Number, Scalar::Number(lo), Scalar::Number(hi)) => {
                    arith::compare::<f64>(Prim::of(value)?, Prim::Scalar(Some(0.0)), len, |x, _| lo <= x && x <= hi)
                }
                (Phys::Date, Scalar::Date(lo), Scalar::Date(hi)) => {
                    arith::compare::<i32>(Prim::of(value)?, Prim::Scalar(Some(0)), len, |x, _| lo <= x && x <= hi)
                }
                _ => return Err(InterpError::internal("a range pattern of a non-numeric type")),
            };
            Ok(truth(&out, len)?.0)
        }
    }
}

/// `operand in [...]` (or `not in`); null where the operand is null.
fn in_list(value: &Datum, list: &[Literal], negated: bool, phys: Phys) -> Result<Datum, InterpError> {
    let members: Vec<Scalar> = list.iter().map(Scalar::from_literal).collect();
    let col = match value {
        Datum::Scalar(Scalar::Null) => return Ok(Datum::null()),
        Datum::Scalar(s) => return Ok(Datum::Scalar(Scalar::Bool(members.contains(s) != negated))),
        Datum::Array(col) => col,
    };
    let len = col.len();
    let hits = match (col, phys) {
        (Column::Int(a), _) => {
            let set: Vec<i64> =
                members.iter().filter_map(|m| if let Scalar::Int(v) = m { Some(*v) } else { None }).collect();
            BooleanBuffer::collect_bool(len, |i| set.contains(&a.values()[i]))
        }
        (Column::Number(a), _) => {
            // `f64` equality, so `-0.0` is in a list holding `0.0`.
            let set: Vec<f64> =
                members.iter().filter_map(|m| if let Scalar::Number(v) = m { Some(*v) } else { None }).collect();
            BooleanBuffer::collect_bool(len, |i| set.contains(&a.values()[i]))
        }
        (Column::Date(a), _) => {
            let set: Vec<i32> =
                members.iter().filter_map(|m| if let Scalar::Date(v) = m { Some(*v) } else { None }).collect();
            BooleanBuffer::collect_bool(len, |i| set.contains(&a.values()[i]))
        }
        (Column::Code(a), _) => {
            let set: Vec<u32> =
                members.iter().filter_map(|m| if let Scalar::Code(v) = m { Some(*v) } else { None }).collect();
            BooleanBuffer::collect_bool(len, |i| set.contains(&a.values()[i]))
        }
        (Column::Bool(a), _) => {
            let set: Vec<bool> =
                members.iter().filter_map(|m| if let Scalar::Bool(v) = m { Some(*v) } else { None }).collect();
            BooleanBuffer::collect_bool(len, |i| set.contains(&a.value(i)))
        }
        (Column::Text(a), _) => {
            let set: Vec<&str> =
                members.iter().filter_map(|m| if let Scalar::Text(v) = m { Some(v.as_ref()) } else { None }).collect();
            BooleanBuffer::collect_bool(len, |i| a.is_valid(i) && set.contains(&a.value(i)))
        }
    };
    let values = if negated { !&hits } else { hits };
    Ok(Datum::Array(Column::Bool(BooleanArray::new(values, col.nulls().cloned()))))
}
