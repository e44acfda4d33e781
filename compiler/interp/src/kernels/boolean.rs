//! Three-valued (Kleene) logic over bool columns, and `is null`.
//!
//! Values and validity are computed with whole-buffer bit operations. The value bits under a null
//! slot are unspecified, and every formula here is correct whatever they hold:
//! `a and b` is valid where both are, or where either is a valid false; its value is `a & b`.
//! `a or b` is valid where both are, or where either is a valid true; its value is `a | b`.

use arrow::array::{Array, BooleanArray};
use arrow::buffer::{BooleanBuffer, NullBuffer};

use crate::kernels::nulls_from;

fn validity(a: &BooleanArray) -> BooleanBuffer {
    match a.nulls() {
        Some(n) => n.inner().clone(),
        None => BooleanBuffer::new_set(a.len()),
    }
}

/// Kleene `and`.
pub(crate) fn and(a: &BooleanArray, b: &BooleanArray) -> BooleanArray {
    let values = a.values() & b.values();
    if a.null_count() == 0 && b.null_count() == 0 {
        return BooleanArray::new(values, None);
    }
    let (av, bv) = (validity(a), validity(b));
    let a_false = &av & &!a.values();
    let b_false = &bv & &!b.values();
    let valid = &(&(&av & &bv) | &a_false) | &b_false;
    BooleanArray::new(values, nulls_from(valid))
}

/// Kleene `or`.
pub(crate) fn or(a: &BooleanArray, b: &BooleanArray) -> BooleanArray {
    let values = a.values() | b.values();
    if a.null_count() == 0 && b.null_count() == 0 {
        return BooleanArray::new(values, None);
    }
    let (av, bv) = (validity(a), validity(b));
    let a_true = &av & a.values();
    let b_true = &bv & b.values();
    let valid = &(&(&av & &bv) | &a_true) | &b_true;
    BooleanArray::new(values, nulls_from(valid))
}

/// Kleene `not` (not null is null).
pub(crate) fn not(a: &BooleanArray) -> BooleanArray {
    BooleanArray::new(!a.values(), a.nulls().cloned())
}

/// `is null` (or `is not null`): never null.
pub(crate) fn is_null(nulls: Option<&NullBuffer>, len: usize, negated: bool) -> BooleanArray {
    let valid = match nulls {
        Some(n) => n.inner().clone(),
        None => BooleanBuffer::new_set(len),
    };
    BooleanArray::new(if negated { valid } else { !&valid }, None)
}

/// The rows where a condition holds: true and not null.
pub(crate) fn true_rows(a: &BooleanArray) -> BooleanBuffer {
    match a.nulls() {
        Some(n) => a.values() & n.inner(),
        None => a.values().clone(),
    }
}

/// The rows where a condition is false and not null.
pub(crate) fn false_rows(a: &BooleanArray) -> BooleanBuffer {
    match a.nulls() {
        Some(n) => &!a.values() & n.inner(),
        None => !a.values(),
    }
}
