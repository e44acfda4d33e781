//! Choosing between values per row: `select` (if/then/else, `??`, match arms, fallback values)
//! and `take` (gathering table values or match results by index).

use std::sync::Arc;

use arrow::array::{Array, BooleanArray, PrimitiveArray, StringViewArray};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer};
use etr_values::views::{MAX_INLINE, view_len};

use crate::error::InterpError;
use crate::kernels::{Prim, PrimLayout, nulls_from};
use crate::value::{Column, Datum, Phys};

/// Per row, `then` where `mask` is set, else `otherwise`; `phys` is the result's layout.
pub(crate) fn select(
    mask: &BooleanBuffer,
    then: Datum,
    otherwise: Datum,
    phys: Phys,
    len: usize,
) -> Result<Column, InterpError> {
    match phys {
        Phys::Int => select_prim::<i64>(mask, &then, &otherwise, len),
        Phys::Number => select_prim::<f64>(mask, &then, &otherwise, len),
        Phys::Date => select_prim::<i32>(mask, &then, &otherwise, len),
        Phys::Code => select_prim::<u32>(mask, &then, &otherwise, len),
        Phys::Bool => {
            let (Column::Bool(a), Column::Bool(b)) = (then.into_column(phys, len)?, otherwise.into_column(phys, len)?)
            else {
                return Err(InterpError::internal("select: bool operands expected"));
            };
            let values = &(mask & a.values()) | &(&!mask & b.values());
            let valid = pick_validity(mask, a.nulls(), b.nulls(), len);
            Ok(Column::Bool(BooleanArray::new(values, valid)))
        }
        Phys::Text => {
            let (Column::Text(a), Column::Text(b)) = (then.into_column(phys, len)?, otherwise.into_column(phys, len)?)
            else {
                return Err(InterpError::internal("select: text operands expected"));
            };
            Ok(Column::Text(select_text(mask, &a, &b)))
        }
    }
}

/// The validity of a per-row choice: `a`'s where `mask` is set, else `b`'s.
fn pick_validity(
    mask: &BooleanBuffer,
    a: Option<&NullBuffer>,
    b: Option<&NullBuffer>,
    len: usize,
) -> Option<NullBuffer> {
    if a.is_none() && b.is_none() {
        return None;
    }
    let av = a.map_or_else(|| BooleanBuffer::new_set(len), |n| n.inner().clone());
    let bv = b.map_or_else(|| BooleanBuffer::new_set(len), |n| n.inner().clone());
    nulls_from(&(mask & &av) | &(&!mask & &bv))
}

fn select_prim<T: PrimLayout>(mask: &BooleanBuffer, a: &Datum, b: &Datum, len: usize) -> Result<Column, InterpError> {
    let get = |p: Prim<'_, T>| -> (Vec<T>, Option<BooleanBuffer>) {
        match p {
            Prim::Array { values, nulls } => (values.to_vec(), nulls.map(|n| n.inner().clone())),
            Prim::Scalar(Some(v)) => (vec![v; len], None),
            Prim::Scalar(None) => (vec![T::default(); len], Some(BooleanBuffer::new_unset(len))),
        }
    };
    let (pa, pb) = (Prim::<T>::of(a)?, Prim::<T>::of(b)?);
    // Start from the `otherwise` values and overwrite the selected rows: one copy and one pass.
    let (mut values, b_valid) = get(pb);
    match pa {
        Prim::Array { values: xs, .. } => {
            for i in mask.set_indices() {
                values[i] = xs[i];
            }
        }
        Prim::Scalar(Some(v)) => {
            for i in mask.set_indices() {
                values[i] = v;
            }
        }
        Prim::Scalar(None) => {}
    }
    let a_valid = match pa {
        Prim::Array { nulls, .. } => nulls.map(|n| n.inner().clone()),
        Prim::Scalar(Some(_)) => None,
        Prim::Scalar(None) => Some(BooleanBuffer::new_unset(len)),
    };
    let valid = match (a_valid, b_valid) {
        (None, None) => None,
        (av, bv) => {
            let av = av.unwrap_or_else(|| BooleanBuffer::new_set(len));
            let bv = bv.unwrap_or_else(|| BooleanBuffer::new_set(len));
            nulls_from(&(mask & &av) | &(&!mask & &bv))
        }
    };
    Ok(T::into_column(PrimitiveArray::new(ScalarBuffer::from(values), valid)))
}

/// Chooses views; `b`'s buffers are appended after `a`'s, so its long views are re-pointed.
fn select_text(mask: &BooleanBuffer, a: &StringViewArray, b: &StringViewArray) -> StringViewArray {
    let shift = a.data_buffers().len() as u128;
    let (av, bv) = (a.views(), b.views());
    let views: Vec<u128> = (0..a.len())
        .map(|i| {
            if mask.value(i) {
                av[i]
            } else if view_len(bv[i]) <= MAX_INLINE {
                bv[i]
            } else {
                bv[i] + (shift << 64)
            }
        })
        .collect();
    let buffers: Vec<Buffer> = a.data_buffers().iter().chain(b.data_buffers()).cloned().collect();
    let nulls = pick_validity(mask, a.nulls(), b.nulls(), a.len());
    // SAFETY: each view is a view of `a` (valid against `a`'s buffers, which keep their indices)
    // or of `b` with its buffer index shifted by the number of `a`'s buffers, where `b`'s buffers
    // now are; inline views need no buffer. Null slots may hold any of these valid views.
    unsafe { StringViewArray::new_unchecked(ScalarBuffer::from(views), Arc::<[Buffer]>::from(buffers), nulls) }
}

/// Gathers `values[index[i]]` for every row; rows where `ok` is unset are null.
pub(crate) fn take(values: &Column, index: &[u32], ok: BooleanBuffer) -> Column {
    fn prim<T: PrimLayout>(src: &PrimitiveArray<T::Arrow>, index: &[u32], ok: BooleanBuffer) -> Column {
        let src = src.values();
        let out: Vec<T> = index.iter().map(|&k| src.get(k as usize).copied().unwrap_or_default()).collect();
        T::into_column(PrimitiveArray::new(ScalarBuffer::from(out), nulls_from(ok)))
    }
    // An index out of range (a bug in the caller) reads the layout's default, never out of bounds.
    match values {
        Column::Int(a) => prim::<i64>(a, index, ok),
        Column::Number(a) => prim::<f64>(a, index, ok),
        Column::Date(a) => prim::<i32>(a, index, ok),
        Column::Code(a) => prim::<u32>(a, index, ok),
        Column::Bool(a) => {
            let bits = BooleanBuffer::collect_bool(index.len(), |i| {
                let k = index[i] as usize;
                k < a.len() && a.value(k)
            });
            Column::Bool(BooleanArray::new(bits, nulls_from(ok)))
        }
        Column::Text(a) => {
            let src = a.views();
            let views: Vec<u128> = index
                .iter()
                .zip(ok.iter())
                .map(|(&k, ok)| if ok { src.get(k as usize).copied().unwrap_or(0) } else { 0 })
                .collect();
            let (_, buffers, _) = a.clone().into_parts();
            // SAFETY: every view is a view of `a` (or the empty inline view), valid against `a`'s
            // buffers, which the new array shares unchanged.
            Column::Text(unsafe { StringViewArray::new_unchecked(ScalarBuffer::from(views), buffers, nulls_from(ok)) })
        }
    }
}
