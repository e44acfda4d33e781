//! Comparisons: which operator, and the text and bool layouts (the primitive layouts go through
//! [`crate::kernels::arith::compare`]).
//!
//! Text compares by Unicode scalar values, which is the byte order of UTF-8.

use std::cmp::Ordering;

use arrow::array::{Array, BooleanArray, StringViewArray};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use etr_values::views::{MAX_INLINE, canonical_inline, inline_view, view_len};

use crate::error::InterpError;
use crate::value::{Column, Datum, Scalar};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    #[inline]
    pub(crate) fn holds(self, ordering: Ordering) -> bool {
        match self {
            CmpOp::Eq => ordering == Ordering::Equal,
            CmpOp::Ne => ordering != Ordering::Equal,
            CmpOp::Lt => ordering == Ordering::Less,
            CmpOp::Le => ordering != Ordering::Greater,
            CmpOp::Gt => ordering == Ordering::Greater,
            CmpOp::Ge => ordering != Ordering::Less,
        }
    }

    #[inline]
    pub(crate) fn apply<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// A text operand.
enum Text<'a> {
    Array(&'a StringViewArray),
    Scalar(&'a str),
}

impl<'a> Text<'a> {
    fn of(datum: &'a Datum) -> Result<Option<Text<'a>>, InterpError> {
        match datum {
            Datum::Array(Column::Text(a)) => Ok(Some(Text::Array(a))),
            Datum::Scalar(Scalar::Text(s)) => Ok(Some(Text::Scalar(s))),
            Datum::Scalar(Scalar::Null) => Ok(None),
            Datum::Array(col) if col.nulls().is_some_and(|n| n.null_count() == col.len()) => Ok(None),
            other => Err(InterpError::internal(format!("a text operand expected, got {other:?}"))),
        }
    }

    fn nulls(&self) -> Option<&'a NullBuffer> {
        match *self {
            Text::Array(a) => a.nulls(),
            Text::Scalar(_) => None,
        }
    }
}

/// Compares two text operands.
pub(crate) fn compare_text(a: &Datum, b: &Datum, len: usize, op: CmpOp) -> Result<Datum, InterpError> {
    let (Some(x), Some(y)) = (Text::of(a)?, Text::of(b)?) else {
        return Ok(Datum::null());
    };
    let nulls = NullBuffer::union(x.nulls(), y.nulls());
    let valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
    let values = match (&x, &y) {
        (Text::Scalar(s), Text::Scalar(t)) => return Ok(Datum::Scalar(Scalar::Bool(op.holds(s.cmp(t))))),
        (Text::Array(xs), Text::Scalar(t)) => compare_with_scalar(xs, t, len, op, &valid),
        (Text::Scalar(s), Text::Array(ys)) => {
            let flipped = match op {
                CmpOp::Lt => CmpOp::Gt,
                CmpOp::Le => CmpOp::Ge,
                CmpOp::Gt => CmpOp::Lt,
                CmpOp::Ge => CmpOp::Le,
                other => other,
            };
            compare_with_scalar(ys, s, len, flipped, &valid)
        }
        (Text::Array(xs), Text::Array(ys)) => {
            let (xv, yv) = (xs.views(), ys.views());
            BooleanBuffer::collect_bool(len, |i| {
                if !valid(i) {
                    return false;
                }
                // Two short strings are equal exactly when their (canonical) views are.
                if matches!(op, CmpOp::Eq | CmpOp::Ne) && view_len(xv[i]) <= MAX_INLINE && view_len(yv[i]) <= MAX_INLINE
                {
                    return (canonical_inline(xv[i]) == canonical_inline(yv[i])) == (op == CmpOp::Eq);
                }
                op.holds(xs.value(i).as_bytes().cmp(ys.value(i).as_bytes()))
            })
        }
    };
    Ok(Datum::Array(Column::Bool(BooleanArray::new(values, nulls))))
}

fn compare_with_scalar(
    xs: &StringViewArray,
    t: &str,
    len: usize,
    op: CmpOp,
    valid: &impl Fn(usize) -> bool,
) -> BooleanBuffer {
    let views = xs.views();
    if matches!(op, CmpOp::Eq | CmpOp::Ne) && t.len() <= MAX_INLINE {
        let target = inline_view(t.as_bytes());
        let eq = op == CmpOp::Eq;
        return BooleanBuffer::collect_bool(len, |i| {
            let v = views[i];
            let same = view_len(v) == t.len() && canonical_inline(v) == target;
            valid(i) && same == eq
        });
    }
    BooleanBuffer::collect_bool(len, |i| valid(i) && op.holds(xs.value(i).as_bytes().cmp(t.as_bytes())))
}

/// Compares two bool columns (false < true).
pub(crate) fn compare_bool(a: &BooleanArray, b: &BooleanArray, op: CmpOp) -> Datum {
    let nulls = NullBuffer::union(a.nulls(), b.nulls());
    let values = BooleanBuffer::collect_bool(a.len(), |i| op.apply(a.value(i), b.value(i)));
    Datum::Array(Column::Bool(BooleanArray::new(values, nulls)))
}
