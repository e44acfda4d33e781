//! The list functions and `header_values()` (the IR's `BuiltinFamily::List`).
//!
//! Lists exist only in file checks, as scalars (constants, list aggregates, the header's
//! values), so these work on one value; a list is sorted and without duplicates
//! (`value::sorted_list`), so membership is a binary search.

use etr_ir::Builtin;

use crate::error::InterpError;
use crate::kernels::Call;
use crate::value::{Datum, Scalar, compare_scalars, sorted_list};

/// The list functions.
pub(crate) fn call(call: &Call<'_>) -> Result<Datum, InterpError> {
    let list = |k: usize| -> Result<&[Scalar], InterpError> {
        match call.args.get(k) {
            Some(Datum::Scalar(Scalar::List(items))) => Ok(items),
            other => Err(InterpError::internal(format!("a list argument expected, got {other:?}"))),
        }
    };
    let contains =
        |items: &[Scalar], value: &Scalar| items.binary_search_by(|probe| compare_scalars(probe, value)).is_ok();
    let value = match call.function {
        Builtin::ListSize => Scalar::Int(list(0)?.len() as i64),
        Builtin::ListIsSubset => {
            let (a, b) = (list(0)?, list(1)?);
            Scalar::Bool(a.iter().all(|x| contains(b, x)))
        }
        Builtin::ListSameSet => Scalar::Bool(list(0)? == list(1)?),
        Builtin::ListOverlaps => {
            let (a, b) = (list(0)?, list(1)?);
            Scalar::Bool(a.iter().any(|x| contains(b, x)))
        }
        Builtin::HeaderValues => {
            let Some(header) = call.header else {
                return Err(InterpError::internal("header_values() read per line"));
            };
            sorted_list(header.iter().filter(|v| matches!(v, Scalar::Text(_))).cloned().collect())
        }
        _ => return Err(call.not_in("list")),
    };
    Ok(Datum::Scalar(value))
}
