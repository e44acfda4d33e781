//! The 128-bit hashes of unique-check keys.
//!
//! A key's parts are encoded one after the other, each as a presence byte (0 for null, 1 for a
//! value) followed, for a value, by its bytes: text as its length (8 bytes) then its UTF-8, int and
//! money as 8 bytes, date and month as 4, a code as its 4-byte member index, a bool as 1. Each part
//! has a fixed type, so the encoding is injective: `("ab", "c")` and `("a", "bc")` encode
//! differently, and only a 128-bit hash collision can merge two distinct keys. The runtime
//! compares the hashes to find duplicates.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Date32Type, Int64Type, UInt32Type};
use xxhash_rust::xxh3::xxh3_128;

use crate::error::InterpError;

/// Appends the encoding of row `row` of `column` to `out`.
fn encode(column: &ArrayRef, row: usize, out: &mut Vec<u8>) -> Result<(), InterpError> {
    if column.is_null(row) {
        out.push(0);
        return Ok(());
    }
    out.push(1);
    match column.data_type() {
        DataType::Utf8View => {
            let value = column.as_string_view().value(row).as_bytes();
            out.extend_from_slice(&(value.len() as u64).to_le_bytes());
            out.extend_from_slice(value);
        }
        DataType::Int64 => out.extend_from_slice(&column.as_primitive::<Int64Type>().value(row).to_le_bytes()),
        DataType::Date32 => out.extend_from_slice(&column.as_primitive::<Date32Type>().value(row).to_le_bytes()),
        DataType::UInt32 => out.extend_from_slice(&column.as_primitive::<UInt32Type>().value(row).to_le_bytes()),
        DataType::Boolean => out.push(column.as_boolean().value(row) as u8),
        other => return Err(InterpError::internal(format!("a key part of type {other}"))),
    }
    Ok(())
}

/// The hash of every row's key, over the key parts' columns (one buffer reused for all rows).
pub(crate) fn key_hashes(parts: &[&ArrayRef], len: usize) -> Result<Vec<u128>, InterpError> {
    let mut buffer = Vec::with_capacity(64);
    let mut hashes = Vec::with_capacity(len);
    for row in 0..len {
        buffer.clear();
        for part in parts {
            encode(part, row, &mut buffer)?;
        }
        hashes.push(xxh3_128(&buffer));
    }
    Ok(hashes)
}
