//! The 128-bit hashes of keys: of `unique` checks, and of the groups of ordering checks (`per`).
//!
//! A key's parts are encoded one after the other, each as a presence byte (0 for null, 1 for a
//! value) followed, for a value, by its bytes: text of at most 12 bytes as its canonical Arrow
//! view (16 bytes: the length as 4 bytes, then the text, zero-padded), longer text as its length
//! (8 bytes) then its UTF-8; int and money as 8 bytes, a number as the 8 bytes of its bits (`-0.0` as `0.0`, so equal numbers hash
//! equally), date and month as 4, a code as its 4-byte member index, a bool as 1. Each part
//! has a fixed type, so the encoding is injective: `("ab", "c")` and `("a", "bc")` encode
//! differently (a text's first 4 bytes are its length either way, which says how many bytes
//! follow), and only a 128-bit hash collision can merge two distinct keys. The dataset checks'
//! `UniqueKeys` compare the hashes to find duplicates. Short texts (most codes, ids and account numbers) are copied as
//! one 16-byte word, with no call to copy their bytes.

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, StringViewArray, UInt32Array,
};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, UInt32Type};
use etr_values::views::{MAX_INLINE, canonical_inline, prefetch_ahead, view_len};
use xxhash_rust::xxh3::xxh3_128;

use crate::error::InterpError;
use crate::value::number_bits;

/// A key part, downcast once per batch.
enum Part<'a> {
    Text(&'a StringViewArray),
    Int(&'a Int64Array),
    Number(&'a Float64Array),
    Date(&'a Date32Array),
    Code(&'a UInt32Array),
    Bool(&'a BooleanArray),
}

impl<'a> Part<'a> {
    fn of(column: &'a ArrayRef) -> Result<Part<'a>, InterpError> {
        Ok(match column.data_type() {
            DataType::Utf8View => Part::Text(column.as_string_view()),
            DataType::Int64 => Part::Int(column.as_primitive::<Int64Type>()),
            DataType::Float64 => Part::Number(column.as_primitive::<Float64Type>()),
            DataType::Date32 => Part::Date(column.as_primitive::<Date32Type>()),
            DataType::UInt32 => Part::Code(column.as_primitive::<UInt32Type>()),
            DataType::Boolean => Part::Bool(column.as_boolean()),
            other => return Err(InterpError::internal(format!("a key part of type {other}"))),
        })
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            Part::Text(a) => a.is_null(row),
            Part::Int(a) => a.is_null(row),
            Part::Number(a) => a.is_null(row),
            Part::Date(a) => a.is_null(row),
            Part::Code(a) => a.is_null(row),
            Part::Bool(a) => a.is_null(row),
        }
    }

    /// Appends the encoding of row `row` to `out`.
    #[inline]
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        if self.is_null(row) {
            out.push(0);
            return;
        }
        out.push(1);
        match self {
            Part::Text(a) => {
                let view = a.views()[row];
                if view_len(view) <= MAX_INLINE {
                    out.extend_from_slice(&canonical_inline(view).to_le_bytes());
                } else {
                    let value = a.value(row).as_bytes();
                    out.extend_from_slice(&(value.len() as u64).to_le_bytes());
                    out.extend_from_slice(value);
                }
            }
            Part::Int(a) => out.extend_from_slice(&a.value(row).to_le_bytes()),
            Part::Number(a) => out.extend_from_slice(&number_bits(a.value(row)).to_le_bytes()),
            Part::Date(a) => out.extend_from_slice(&a.value(row).to_le_bytes()),
            Part::Code(a) => out.extend_from_slice(&a.value(row).to_le_bytes()),
            Part::Bool(a) => out.push(a.value(row) as u8),
        }
    }
}

/// The hash of every row's key, over the key parts' columns (one buffer reused for all rows).
pub(crate) fn key_hashes(parts: &[&ArrayRef], len: usize) -> Result<Vec<u128>, InterpError> {
    let parts = parts.iter().map(|p| Part::of(p)).collect::<Result<Vec<_>, _>>()?;
    let mut buffer = Vec::with_capacity(64);
    let mut hashes = Vec::with_capacity(len);
    for row in 0..len {
        // Long texts (account numbers) are read a line apart: see `prefetch_ahead`.
        for part in &parts {
            if let Part::Text(texts) = part {
                prefetch_ahead(texts, row);
            }
        }
        buffer.clear();
        for part in &parts {
            part.encode(row, &mut buffer);
        }
        hashes.push(xxh3_128(&buffer));
    }
    Ok(hashes)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn text(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringViewArray::from(values.to_vec()))
    }

    #[test]
    fn keys_that_share_their_bytes_hash_apart() {
        // Texts on both sides of the 12-byte inline limit, split differently between two parts.
        let a = text(&[Some("abcdefghijkl"), Some("abcdefghijklm"), Some(""), None, Some("ab")]);
        let b = text(&[Some("m"), Some(""), Some("abcdefghijklm"), Some(""), Some("c")]);
        let c = text(&[Some("a"), Some("bc"), Some("abc"), None, Some("")]);
        let hashes = key_hashes(&[&a, &b], 5).expect("hashes");
        let others = key_hashes(&[&c, &a], 5).expect("hashes");
        let mut all: Vec<u128> = hashes.iter().chain(&others).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 10, "every distinct key has its own hash");
    }
}
