//! Values while evaluating: typed Arrow columns, scalars, and the `Datum` that is either.
//!
//! Every language type has one physical Arrow layout ([`Phys`]): text is `Utf8View`, int and money
//! are `Int64`, number is `Float64`, date and month are `Date32`, bool is `Boolean` and a code is
//! its member index as `UInt32`. The logical type (money versus int, month versus date) only matters when a value is
//! rendered as text, so it stays on the IR's `Expr::ty` and is passed to [`render_scalar`].
//!
//! A `Datum` is an operand of a kernel: a whole column or one scalar broadcast over the batch.
//! Literals stay scalars so that `x ?? RM0` or `x >= RM0` never materialise a constant column.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, PrimitiveArray, StringViewArray, UInt32Array,
};
use arrow::buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use arrow::datatypes::ArrowPrimitiveType;
use etr_ir::{Literal, Program, TypeKind};
use etr_values::calendar::civil_from_days;
use etr_values::views::{self, TextBuilder};

use crate::error::InterpError;
use crate::kernels::date::format_money;

/// One value of any language type, without its logical type (see the module docs).
///
/// Equality and hashing compare numbers by their bits with `-0.0` taken as `0.0`: for every number
/// the evaluator can produce (never a NaN) that is exactly `f64` equality, and it is still a lawful
/// `Eq` for any bits.
#[derive(Debug, Clone)]
pub enum Scalar {
    Null,
    Bool(bool),
    /// An `int` or a `money` amount in sen.
    Int(i64),
    /// A `number`: always finite (a non-finite result is null).
    Number(f64),
    Text(Arc<str>),
    /// A `date` or a `month` (its first day), in days since 1970-01-01.
    Date(i32),
    /// A code, as its member index.
    Code(u32),
    /// A list (file checks only), sorted by [`compare_scalars`] and without duplicates.
    List(Arc<[Scalar]>),
}

/// The order of list elements: numbers numerically, text by code point, codes by member index;
/// values of different kinds (never in one well-typed list) by their kind.
pub fn compare_scalars(a: &Scalar, b: &Scalar) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Scalar::Int(x), Scalar::Int(y)) => x.cmp(y),
        (Scalar::Number(x), Scalar::Number(y)) => x.total_cmp(y),
        (Scalar::Text(x), Scalar::Text(y)) => x.cmp(y),
        (Scalar::Date(x), Scalar::Date(y)) => x.cmp(y),
        (Scalar::Bool(x), Scalar::Bool(y)) => x.cmp(y),
        (Scalar::Code(x), Scalar::Code(y)) => x.cmp(y),
        (Scalar::List(x), Scalar::List(y)) => x
            .iter()
            .zip(y.iter())
            .map(|(a, b)| compare_scalars(a, b))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(x.len().cmp(&y.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn rank(value: &Scalar) -> u8 {
    match value {
        Scalar::Null => 0,
        Scalar::Bool(_) => 1,
        Scalar::Int(_) => 2,
        Scalar::Number(_) => 3,
        Scalar::Text(_) => 4,
        Scalar::Date(_) => 5,
        Scalar::Code(_) => 6,
        Scalar::List(_) => 7,
    }
}

/// A sorted list without duplicates.
pub(crate) fn sorted_list(mut items: Vec<Scalar>) -> Scalar {
    items.sort_by(compare_scalars);
    items.dedup();
    Scalar::List(items.into())
}

impl Scalar {
    /// The scalar of an IR literal.
    pub fn from_literal(literal: &Literal) -> Scalar {
        match literal {
            Literal::Null => Scalar::Null,
            Literal::Bool(b) => Scalar::Bool(*b),
            Literal::Int(v) | Literal::Money(v) => Scalar::Int(*v),
            Literal::Number(v) => Scalar::Number(v.0),
            Literal::Text(s) => Scalar::Text(Arc::from(s.as_str())),
            Literal::Date(d) => Scalar::Date(*d),
            Literal::Code(_, idx) => Scalar::Code(*idx),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }
}

/// The bits a number is compared and hashed by: `-0.0` is `0.0`.
pub(crate) fn number_bits(value: f64) -> u64 {
    if value == 0.0 { 0 } else { value.to_bits() }
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        match (self, other) {
            (Scalar::Null, Scalar::Null) => true,
            (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
            (Scalar::Int(a), Scalar::Int(b)) => a == b,
            (Scalar::Number(a), Scalar::Number(b)) => number_bits(*a) == number_bits(*b),
            (Scalar::Text(a), Scalar::Text(b)) => a == b,
            (Scalar::Date(a), Scalar::Date(b)) => a == b,
            (Scalar::Code(a), Scalar::Code(b)) => a == b,
            (Scalar::List(a), Scalar::List(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Scalar {}

impl std::hash::Hash for Scalar {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Scalar::Null => {}
            Scalar::Bool(b) => b.hash(state),
            Scalar::Int(v) => v.hash(state),
            Scalar::Number(v) => number_bits(*v).hash(state),
            Scalar::Text(s) => s.hash(state),
            Scalar::Date(d) => d.hash(state),
            Scalar::Code(c) => c.hash(state),
            Scalar::List(items) => items.iter().for_each(|item| item.hash(state)),
        }
    }
}

/// Renders a value as the text shown in a violation: text as is, int in decimal, money as
/// `123.45` / `-0.50`, a number as Rust's `{}` formats an `f64` (`1.5`, `2`, `0.0000001`), date `YYYY-MM-DD`, month `YYYY-MM`, bool `true`/`false`, a code as its
/// member. `None` for null (and for a code index outside its type, which a well-typed program
/// never produces).
pub fn render_scalar(program: &Program, kind: TypeKind, value: &Scalar) -> Option<String> {
    match (value, kind) {
        (Scalar::Null, _) => None,
        (Scalar::Bool(b), _) => Some(b.to_string()),
        (Scalar::Int(v), TypeKind::Money) => Some(format_money(*v)),
        (Scalar::Int(v), _) => Some(v.to_string()),
        (Scalar::Number(v), _) => Some(format!("{v}")),
        (Scalar::Text(s), _) => Some(s.to_string()),
        (Scalar::Date(d), TypeKind::Month) => {
            let (y, m, _) = civil_from_days(*d);
            Some(format!("{y:04}-{m:02}"))
        }
        (Scalar::Date(d), _) => {
            let (y, m, day) = civil_from_days(*d);
            Some(format!("{y:04}-{m:02}-{day:02}"))
        }
        (Scalar::Code(idx), TypeKind::Code(ty)) => program.code_types.get(ty)?.members.get(*idx as usize).cloned(),
        (Scalar::Code(idx), _) => Some(idx.to_string()),
        (Scalar::List(items), TypeKind::List(of)) => {
            let items: Vec<String> = items.iter().filter_map(|i| render_scalar(program, of.kind(), i)).collect();
            Some(format!("[{}]", items.join(", ")))
        }
        (Scalar::List(items), _) => Some(format!("[{} values]", items.len())),
    }
}

/// The physical layout of a type kind while evaluating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Phys {
    Text,
    Int,
    Number,
    Date,
    Bool,
    Code,
}

impl Phys {
    /// The layout of a kind. The null literal's own kind has no layout of its own; it is only ever
    /// an all-null column, so any layout does (a consumer converts it with the target's kind).
    pub(crate) fn of(kind: TypeKind) -> Phys {
        match kind {
            TypeKind::Text => Phys::Text,
            TypeKind::Int | TypeKind::Money => Phys::Int,
            TypeKind::Number => Phys::Number,
            TypeKind::Date | TypeKind::Month => Phys::Date,
            TypeKind::Bool | TypeKind::Null => Phys::Bool,
            TypeKind::Code(_) => Phys::Code,
            // Lists live only as scalars in file checks; they are never laid out in a column.
            TypeKind::List(_) => Phys::Bool,
        }
    }
}

/// An evaluated column in its physical layout.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    Text(StringViewArray),
    Int(Int64Array),
    Number(Float64Array),
    Date(Date32Array),
    Bool(BooleanArray),
    Code(UInt32Array),
}

impl Column {
    /// An Arrow array in its evaluation layout (what native kernels hand back).
    pub(crate) fn from_array(array: &ArrayRef) -> Result<Column, InterpError> {
        use arrow::array::AsArray;
        use arrow::datatypes::{Date32Type, Float64Type, Int64Type, UInt32Type};
        Ok(match array.data_type() {
            arrow::datatypes::DataType::Int64 => Column::Int(array.as_primitive::<Int64Type>().clone()),
            arrow::datatypes::DataType::Float64 => Column::Number(array.as_primitive::<Float64Type>().clone()),
            arrow::datatypes::DataType::Date32 => Column::Date(array.as_primitive::<Date32Type>().clone()),
            arrow::datatypes::DataType::UInt32 => Column::Code(array.as_primitive::<UInt32Type>().clone()),
            arrow::datatypes::DataType::Boolean => Column::Bool(array.as_boolean().clone()),
            arrow::datatypes::DataType::Utf8View => Column::Text(array.as_string_view().clone()),
            other => return Err(InterpError::internal(format!("a native kernel returned a {other} array"))),
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Column::Text(a) => a.len(),
            Column::Int(a) => a.len(),
            Column::Number(a) => a.len(),
            Column::Date(a) => a.len(),
            Column::Bool(a) => a.len(),
            Column::Code(a) => a.len(),
        }
    }

    pub(crate) fn phys(&self) -> Phys {
        match self {
            Column::Text(_) => Phys::Text,
            Column::Int(_) => Phys::Int,
            Column::Number(_) => Phys::Number,
            Column::Date(_) => Phys::Date,
            Column::Bool(_) => Phys::Bool,
            Column::Code(_) => Phys::Code,
        }
    }

    pub(crate) fn nulls(&self) -> Option<&NullBuffer> {
        match self {
            Column::Text(a) => a.nulls(),
            Column::Int(a) => a.nulls(),
            Column::Number(a) => a.nulls(),
            Column::Date(a) => a.nulls(),
            Column::Bool(a) => a.nulls(),
            Column::Code(a) => a.nulls(),
        }
    }

    pub(crate) fn is_valid(&self, row: usize) -> bool {
        self.nulls().is_none_or(|n| n.is_valid(row))
    }

    pub(crate) fn into_array_ref(self) -> ArrayRef {
        match self {
            Column::Text(a) => Arc::new(a),
            Column::Int(a) => Arc::new(a),
            Column::Number(a) => Arc::new(a),
            Column::Date(a) => Arc::new(a),
            Column::Bool(a) => Arc::new(a),
            Column::Code(a) => Arc::new(a),
        }
    }

    /// A column of `len` nulls.
    pub(crate) fn new_null(phys: Phys, len: usize) -> Column {
        match phys {
            Phys::Text => Column::Text(StringViewArray::new_null(len)),
            Phys::Int => Column::Int(Int64Array::new_null(len)),
            Phys::Number => Column::Number(Float64Array::new_null(len)),
            Phys::Date => Column::Date(Date32Array::new_null(len)),
            Phys::Bool => Column::Bool(BooleanArray::new_null(len)),
            Phys::Code => Column::Code(UInt32Array::new_null(len)),
        }
    }

    /// The same values with the given validity (the values under new nulls are kept, unseen).
    pub(crate) fn with_nulls(self, nulls: Option<NullBuffer>) -> Result<Column, InterpError> {
        let mismatch = || InterpError::internal("a validity of another length than its column");
        if nulls.as_ref().is_some_and(|n| n.len() != self.len()) {
            return Err(mismatch());
        }
        fn prim<T: ArrowPrimitiveType>(a: PrimitiveArray<T>, nulls: Option<NullBuffer>) -> PrimitiveArray<T> {
            let (_, values, _) = a.into_parts();
            PrimitiveArray::new(values, nulls)
        }
        Ok(match self {
            Column::Text(a) => Column::Text(views::with_nulls(a, nulls).ok_or_else(mismatch)?),
            Column::Int(a) => Column::Int(prim(a, nulls)),
            Column::Number(a) => Column::Number(prim(a, nulls)),
            Column::Date(a) => Column::Date(prim(a, nulls)),
            Column::Code(a) => Column::Code(prim(a, nulls)),
            Column::Bool(a) => {
                let (values, _) = a.into_parts();
                Column::Bool(BooleanArray::new(values, nulls))
            }
        })
    }

    /// Nulls out every row where `keep` is not valid (used to blank malformed lines).
    pub(crate) fn mask(self, keep: Option<&NullBuffer>) -> Result<Column, InterpError> {
        if keep.is_none() {
            return Ok(self);
        }
        let nulls = NullBuffer::union(self.nulls(), keep);
        self.with_nulls(nulls)
    }

    /// The value at `row` as a scalar (null when the slot is null).
    pub(crate) fn scalar_at(&self, row: usize) -> Scalar {
        if row >= self.len() || !self.is_valid(row) {
            return Scalar::Null;
        }
        match self {
            Column::Text(a) => Scalar::Text(Arc::from(a.value(row))),
            Column::Int(a) => Scalar::Int(a.value(row)),
            Column::Number(a) => Scalar::Number(a.value(row)),
            Column::Date(a) => Scalar::Date(a.value(row)),
            Column::Bool(a) => Scalar::Bool(a.value(row)),
            Column::Code(a) => Scalar::Code(a.value(row)),
        }
    }

    /// `value` repeated `len` times in layout `phys`; a scalar of another layout is an internal
    /// error (the program is not well typed).
    pub(crate) fn broadcast(value: &Scalar, phys: Phys, len: usize) -> Result<Column, InterpError> {
        fn prim<T: ArrowPrimitiveType>(v: T::Native, len: usize) -> PrimitiveArray<T> {
            PrimitiveArray::new(ScalarBuffer::from(vec![v; len]), None)
        }
        Ok(match (value, phys) {
            (Scalar::Null, phys) => Column::new_null(phys, len),
            (Scalar::Text(s), Phys::Text) => {
                let mut builder = TextBuilder::new(1);
                builder.push_str(s);
                let one = builder.finish();
                let view = one.views()[0];
                let views = ScalarBuffer::from(vec![view; len]);
                let (_, buffers, _) = one.into_parts();
                // SAFETY: every view is a copy of a view of `one`, which is valid against
                // `buffers`, so the new array is as valid as `one`.
                Column::Text(unsafe { StringViewArray::new_unchecked(views, buffers, None) })
            }
            (Scalar::Int(v), Phys::Int) => Column::Int(prim(*v, len)),
            (Scalar::Number(v), Phys::Number) => Column::Number(prim(*v, len)),
            (Scalar::Date(v), Phys::Date) => Column::Date(prim(*v, len)),
            (Scalar::Code(v), Phys::Code) => Column::Code(prim(*v, len)),
            (Scalar::Bool(v), Phys::Bool) => {
                let values = if *v { BooleanBuffer::new_set(len) } else { BooleanBuffer::new_unset(len) };
                Column::Bool(BooleanArray::new(values, None))
            }
            (value, phys) => {
                return Err(InterpError::internal(format!("a {value:?} scalar where a {phys:?} value is expected")));
            }
        })
    }
}

/// A kernel operand: a column of the batch's length, or one value for every row.
#[derive(Debug, Clone)]
pub(crate) enum Datum {
    Array(Column),
    Scalar(Scalar),
}

impl Datum {
    pub(crate) fn null() -> Datum {
        Datum::Scalar(Scalar::Null)
    }

    /// The column of this datum (a scalar is broadcast to `len` rows).
    pub(crate) fn into_column(self, phys: Phys, len: usize) -> Result<Column, InterpError> {
        match self {
            Datum::Array(col) if col.phys() == phys => Ok(col),
            // A column of the null literal's kind converts to any layout: it holds only nulls.
            Datum::Array(col) if col.nulls().is_some_and(|n| n.null_count() == col.len()) => {
                Ok(Column::new_null(phys, col.len()))
            }
            Datum::Array(col) => {
                Err(InterpError::internal(format!("a {:?} column where a {phys:?} value is expected", col.phys())))
            }
            Datum::Scalar(s) => Column::broadcast(&s, phys, len),
        }
    }

    /// The value at `row`.
    pub(crate) fn scalar_at(&self, row: usize) -> Scalar {
        match self {
            Datum::Array(col) => col.scalar_at(row),
            Datum::Scalar(s) => s.clone(),
        }
    }
}
