//! Column kernels: one module per family of operations, each over Arrow arrays.
//!
//! Conventions (STYLE point 12):
//! - Operands are `Array | Scalar` ([`Prim`] for the primitive layouts); the primitive kernels
//!   have explicit array-scalar variants, the others broadcast a scalar once.
//! - Validity is computed apart from the values: infallible operations run over every slot and
//!   take the union of the input validities; fallible ones (parses, lookups) only look at valid
//!   slots and also report where they failed.
//! - A kernel never allocates per row; text results go through [`etr_values::views::TextBuilder`].
//!
//! The value-level definitions (what `parse_money` accepts, what a real date is) live in
//! `parse.rs`, `date.rs` and `nric.rs`, so a scalar caller and a column kernel cannot disagree.
//!
//! The built-in functions are evaluated family by family ([`call`]): each family of the IR's
//! `BuiltinFamily` has a `call` in its file here (`text`, `nric`, `parse`, `date`, `list`,
//! `arith`), with one arm per function, so a new function's kernel is an arm in one file.

pub(crate) mod arith;
pub(crate) mod boolean;
pub(crate) mod compare;
pub(crate) mod date;
pub(crate) mod list;
pub(crate) mod lookup;
pub(crate) mod nric;
pub(crate) mod parse;
pub(crate) mod select;
pub(crate) mod text;

use arrow::array::{Array, ArrowPrimitiveType, Date32Array, Int64Array, PrimitiveArray, StringViewArray};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::datatypes::{Date32Type, Float64Type, Int64Type, UInt32Type};
use etr_ir::{Builtin, BuiltinFamily};

use crate::Interpreter;
use crate::error::InterpError;
use crate::value::{Column, Datum, Phys, Scalar};

/// A call of a built-in over a batch: the function, its evaluated arguments (the data ones,
/// `value` first), and what a kernel may read of the run.
pub(crate) struct Call<'a> {
    pub(crate) function: &'a Builtin,
    pub(crate) args: &'a [Datum],
    pub(crate) interp: &'a Interpreter,
    /// The header's values, in a file check (`header_values()` reads them).
    pub(crate) header: Option<&'a [Scalar]>,
    /// The rows of the batch.
    pub(crate) rows: usize,
}

/// Evaluates a call with the kernels of its function's family.
pub(crate) fn call(call: &Call<'_>) -> Result<Datum, InterpError> {
    match call.function.family() {
        BuiltinFamily::Text => text::call(call),
        BuiltinFamily::Nric => nric::call(call),
        BuiltinFamily::Parse => parse::call(call),
        BuiltinFamily::Date => date::call(call),
        BuiltinFamily::List => list::call(call),
        BuiltinFamily::Arith => arith::call(call),
    }
}

impl Call<'_> {
    /// When every argument is a scalar, a kernel runs over one row and the result is a scalar
    /// again ([`Call::finish`]).
    fn is_scalar(&self) -> bool {
        self.args.iter().all(|a| matches!(a, Datum::Scalar(_)))
    }

    /// The rows a kernel runs over: the batch's, or one when every argument is a scalar.
    pub(crate) fn len(&self) -> usize {
        if self.is_scalar() { 1 } else { self.rows }
    }

    pub(crate) fn arg(&self, k: usize) -> Result<&Datum, InterpError> {
        self.args.get(k).ok_or_else(|| InterpError::internal(format!("argument {k} does not exist")))
    }

    /// The `k`-th argument as a column of [`Call::len`] rows in the layout `phys`.
    fn column(&self, k: usize, phys: Phys) -> Result<Column, InterpError> {
        self.arg(k)?.clone().into_column(phys, self.len())
    }

    pub(crate) fn text(&self, k: usize) -> Result<StringViewArray, InterpError> {
        match self.column(k, Phys::Text)? {
            Column::Text(a) => Ok(a),
            _ => Err(InterpError::internal("a text argument expected")),
        }
    }

    pub(crate) fn date(&self, k: usize) -> Result<Date32Array, InterpError> {
        match self.column(k, Phys::Date)? {
            Column::Date(a) => Ok(a),
            _ => Err(InterpError::internal("a date argument expected")),
        }
    }

    pub(crate) fn int(&self, k: usize) -> Result<Int64Array, InterpError> {
        match self.column(k, Phys::Int)? {
            Column::Int(a) => Ok(a),
            _ => Err(InterpError::internal("an int argument expected")),
        }
    }

    /// A kernel's result: a scalar when every argument was one.
    pub(crate) fn finish(&self, column: Column) -> Datum {
        if self.is_scalar() { Datum::Scalar(column.scalar_at(0)) } else { Datum::Array(column) }
    }

    /// The error of a family's `call` given a function of another family.
    pub(crate) fn not_in(&self, family: &str) -> InterpError {
        InterpError::internal(format!("{:?} is not a {family} function", self.function))
    }
}

/// A column whose failed rows are null, and where the operation failed on a non-null input.
pub(crate) struct Fallible {
    pub(crate) values: Column,
    pub(crate) failed: BooleanBuffer,
}

/// The rows where a fallible kernel failed: valid input, no result.
pub(crate) fn failed_rows(input: Option<&NullBuffer>, ok: &BooleanBuffer) -> BooleanBuffer {
    match input {
        Some(nulls) => nulls.inner() & &!ok,
        None => !ok,
    }
}

/// A validity buffer, or none when every slot is valid (Arrow's no-null fast path).
pub(crate) fn nulls_from(bits: BooleanBuffer) -> Option<NullBuffer> {
    let nulls = NullBuffer::new(bits);
    (nulls.null_count() > 0).then_some(nulls)
}

/// The physical primitive layouts: `Int64` (int, money), `Float64` (number), `Date32` (date,
/// month), `UInt32` (code).
pub(crate) trait PrimLayout: arrow::datatypes::ArrowNativeType + Default + PartialOrd {
    type Arrow: ArrowPrimitiveType<Native = Self>;
    fn array(column: &Column) -> Option<&PrimitiveArray<Self::Arrow>>;
    /// The value of a scalar of this layout (`Some(None)` for null; `None` for another layout).
    fn scalar(value: &Scalar) -> Option<Option<Self>>;
    fn into_column(array: PrimitiveArray<Self::Arrow>) -> Column;
    fn into_scalar(self) -> Scalar;
}

impl PrimLayout for i64 {
    type Arrow = Int64Type;
    fn array(column: &Column) -> Option<&PrimitiveArray<Int64Type>> {
        if let Column::Int(a) = column { Some(a) } else { None }
    }
    fn scalar(value: &Scalar) -> Option<Option<i64>> {
        match value {
            Scalar::Null => Some(None),
            Scalar::Int(v) => Some(Some(*v)),
            _ => None,
        }
    }
    fn into_column(array: PrimitiveArray<Int64Type>) -> Column {
        Column::Int(array)
    }
    fn into_scalar(self) -> Scalar {
        Scalar::Int(self)
    }
}

impl PrimLayout for f64 {
    type Arrow = Float64Type;
    fn array(column: &Column) -> Option<&PrimitiveArray<Float64Type>> {
        if let Column::Number(a) = column { Some(a) } else { None }
    }
    fn scalar(value: &Scalar) -> Option<Option<f64>> {
        match value {
            Scalar::Null => Some(None),
            Scalar::Number(v) => Some(Some(*v)),
            _ => None,
        }
    }
    fn into_column(array: PrimitiveArray<Float64Type>) -> Column {
        Column::Number(array)
    }
    fn into_scalar(self) -> Scalar {
        Scalar::Number(self)
    }
}

impl PrimLayout for i32 {
    type Arrow = Date32Type;
    fn array(column: &Column) -> Option<&PrimitiveArray<Date32Type>> {
        if let Column::Date(a) = column { Some(a) } else { None }
    }
    fn scalar(value: &Scalar) -> Option<Option<i32>> {
        match value {
            Scalar::Null => Some(None),
            Scalar::Date(v) => Some(Some(*v)),
            _ => None,
        }
    }
    fn into_column(array: PrimitiveArray<Date32Type>) -> Column {
        Column::Date(array)
    }
    fn into_scalar(self) -> Scalar {
        Scalar::Date(self)
    }
}

impl PrimLayout for u32 {
    type Arrow = UInt32Type;
    fn array(column: &Column) -> Option<&PrimitiveArray<UInt32Type>> {
        if let Column::Code(a) = column { Some(a) } else { None }
    }
    fn scalar(value: &Scalar) -> Option<Option<u32>> {
        match value {
            Scalar::Null => Some(None),
            Scalar::Code(v) => Some(Some(*v)),
            _ => None,
        }
    }
    fn into_column(array: PrimitiveArray<UInt32Type>) -> Column {
        Column::Code(array)
    }
    fn into_scalar(self) -> Scalar {
        Scalar::Code(self)
    }
}

/// A primitive operand: a column's values and validity, or one (possibly null) value.
#[derive(Clone, Copy)]
pub(crate) enum Prim<'a, T> {
    Array { values: &'a [T], nulls: Option<&'a NullBuffer> },
    Scalar(Option<T>),
}

impl<'a, T: PrimLayout> Prim<'a, T> {
    pub(crate) fn of(datum: &'a Datum) -> Result<Prim<'a, T>, InterpError> {
        match datum {
            Datum::Array(col) => match T::array(col) {
                Some(a) => Ok(Prim::Array { values: a.values(), nulls: a.nulls() }),
                // The null literal's column has no layout of its own.
                None if col.nulls().is_some_and(|n| n.null_count() == col.len()) => Ok(Prim::Scalar(None)),
                None => Err(InterpError::internal(format!("unexpected {:?} operand", col.phys()))),
            },
            Datum::Scalar(s) => {
                T::scalar(s).map(Prim::Scalar).ok_or_else(|| InterpError::internal(format!("unexpected {s:?} operand")))
            }
        }
    }
}
