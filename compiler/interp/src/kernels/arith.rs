//! Arithmetic and comparisons of the primitive layouts, with array-array, array-scalar and
//! scalar-array variants (scalar-scalar folds to a scalar), and the int-to-number conversion the
//! compiler inserts where an int meets a number.
//!
//! Arithmetic is checked: overflow and division by zero give null, never a wrapped value. Number
//! arithmetic is IEEE, but a result that is not finite (an overflow, `x / 0`, `0 / 0`) is null
//! too, so no NaN or infinity ever reaches data ([`finite`]).

use arrow::array::{BooleanArray, PrimitiveArray};
use arrow::buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use etr_ir::Builtin;

use crate::error::InterpError;
use crate::kernels::{Call, Prim, PrimLayout, nulls_from};
use crate::value::{Datum, Scalar};

/// The conversions the compiler inserts (the IR's `BuiltinFamily::Arith`).
pub(crate) fn call(call: &Call<'_>) -> Result<Datum, InterpError> {
    match call.function {
        // Exact up to 2^53, rounded to nearest above: always finite.
        Builtin::IntToNumber => Ok(unary::<i64, f64>(Prim::of(call.arg(0)?)?, call.rows, |x| Some(x as f64))),
        _ => Err(call.not_in("conversion")),
    }
}

/// An `f64` result as a checked one: `None` unless finite.
#[inline]
pub(crate) fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// `f` over two primitive operands; `None` from `f` makes the slot null.
pub(crate) fn binary<A: PrimLayout, O: PrimLayout>(
    a: Prim<'_, A>,
    b: Prim<'_, A>,
    len: usize,
    f: impl Fn(A, A) -> Option<O>,
) -> Datum {
    let mut values = vec![O::default(); len];
    let (ok, nulls) = match (a, b) {
        (Prim::Scalar(None), _) | (_, Prim::Scalar(None)) => return Datum::null(),
        (Prim::Scalar(Some(x)), Prim::Scalar(Some(y))) => {
            return Datum::Scalar(f(x, y).map_or(Scalar::Null, O::into_scalar));
        }
        (Prim::Array { values: xs, nulls: xn }, Prim::Array { values: ys, nulls: yn }) => {
            let ok = BooleanBuffer::collect_bool(len, |i| match f(xs[i], ys[i]) {
                Some(v) => {
                    values[i] = v;
                    true
                }
                None => false,
            });
            (ok, NullBuffer::union(xn, yn))
        }
        (Prim::Array { values: xs, nulls }, Prim::Scalar(Some(y))) => {
            let ok = BooleanBuffer::collect_bool(len, |i| match f(xs[i], y) {
                Some(v) => {
                    values[i] = v;
                    true
                }
                None => false,
            });
            (ok, nulls.cloned())
        }
        (Prim::Scalar(Some(x)), Prim::Array { values: ys, nulls }) => {
            let ok = BooleanBuffer::collect_bool(len, |i| match f(x, ys[i]) {
                Some(v) => {
                    values[i] = v;
                    true
                }
                None => false,
            });
            (ok, nulls.cloned())
        }
    };
    let nulls = match nulls {
        Some(n) => nulls_from(n.inner() & &ok),
        None => nulls_from(ok),
    };
    Datum::Array(O::into_column(PrimitiveArray::new(ScalarBuffer::from(values), nulls)))
}

/// A comparison `f` over two primitive operands (null when either side is null).
pub(crate) fn compare<A: PrimLayout>(a: Prim<'_, A>, b: Prim<'_, A>, len: usize, f: impl Fn(A, A) -> bool) -> Datum {
    let (values, nulls) = match (a, b) {
        (Prim::Scalar(None), _) | (_, Prim::Scalar(None)) => return Datum::null(),
        (Prim::Scalar(Some(x)), Prim::Scalar(Some(y))) => return Datum::Scalar(Scalar::Bool(f(x, y))),
        (Prim::Array { values: xs, nulls: xn }, Prim::Array { values: ys, nulls: yn }) => {
            (BooleanBuffer::collect_bool(len, |i| f(xs[i], ys[i])), NullBuffer::union(xn, yn))
        }
        (Prim::Array { values: xs, nulls }, Prim::Scalar(Some(y))) => {
            (BooleanBuffer::collect_bool(len, |i| f(xs[i], y)), nulls.cloned())
        }
        (Prim::Scalar(Some(x)), Prim::Array { values: ys, nulls }) => {
            (BooleanBuffer::collect_bool(len, |i| f(x, ys[i])), nulls.cloned())
        }
    };
    Datum::Array(crate::value::Column::Bool(BooleanArray::new(values, nulls)))
}

/// `f` over one primitive operand; `None` from `f` makes the slot null.
pub(crate) fn unary<A: PrimLayout, O: PrimLayout>(a: Prim<'_, A>, len: usize, f: impl Fn(A) -> Option<O>) -> Datum {
    match a {
        Prim::Scalar(None) => Datum::null(),
        Prim::Scalar(Some(x)) => Datum::Scalar(f(x).map_or(Scalar::Null, O::into_scalar)),
        Prim::Array { values: xs, nulls } => {
            let mut values = vec![O::default(); len];
            let ok = BooleanBuffer::collect_bool(len, |i| match f(xs[i]) {
                Some(v) => {
                    values[i] = v;
                    true
                }
                None => false,
            });
            let nulls = match nulls {
                Some(n) => nulls_from(n.inner() & &ok),
                None => nulls_from(ok),
            };
            Datum::Array(O::into_column(PrimitiveArray::new(ScalarBuffer::from(values), nulls)))
        }
    }
}
