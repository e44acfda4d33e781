//! Code tables compiled to hash maps, and the lookup kernel (`table[key]`, fallible).
//!
//! Text keys of up to 12 bytes are found by their Arrow view alone (length and bytes in one
//! `u128`), so the common lookup of a short code never touches the data buffers; a table's short
//! keys get a collision-free slot table when one is found ([`ShortKeys`]), where a lookup is a
//! multiply, a shift and one comparison. Longer keys go through a map keyed by the text.

use arrow::array::{Array, StringViewArray};
use arrow::buffer::BooleanBuffer;
use etr_ir::{CodeTable, Literal};
use etr_values::views::{MAX_INLINE, canonical_inline, inline_view, view_len};
use hashbrown::HashMap;

use crate::error::InterpError;
use crate::kernels::select::take;
use crate::kernels::{Fallible, Prim, failed_rows};
use crate::value::{Column, Datum, Phys, Scalar, number_bits};

/// A code table ready for lookups.
#[derive(Debug, Clone)]
pub(crate) struct CompiledTable {
    keys: KeyIndex,
    /// The table's values, one row per entry, in the value type's layout.
    values: Column,
}

#[derive(Debug, Clone)]
enum KeyIndex {
    Text {
        short: ShortKeys,
        long: HashMap<Box<str>, u32>,
    },
    /// Int, money, date, code and bool keys, widened to `i64`; number keys as their bits
    /// ([`number_bits`], so `-0.0` finds `0.0`).
    Number(HashMap<i64, u32>),
}

fn number_key(literal: &Literal) -> Option<i64> {
    match literal {
        Literal::Int(v) | Literal::Money(v) => Some(*v),
        Literal::Date(d) => Some(*d as i64),
        Literal::Code(_, idx) => Some(*idx as i64),
        Literal::Bool(b) => Some(*b as i64),
        Literal::Number(v) => Some(number_bits(v.0) as i64),
        Literal::Null | Literal::Text(_) => None,
    }
}

impl CompiledTable {
    pub(crate) fn new(table: &CodeTable) -> Result<CompiledTable, InterpError> {
        let bad = |what: &str| InterpError::internal(format!("table {}: {what}", table.name));
        // A repeated key keeps its first entry, as a reader of the table would expect.
        let entries = table.entries.iter().enumerate().map(|(entry, (key, _))| (entry as u32, key));
        let keys = if matches!(table.key_type.kind, etr_ir::TypeKind::Text) {
            let (mut short, mut long) = (HashMap::new(), HashMap::new());
            for (entry, key) in entries {
                match key {
                    Literal::Text(s) if s.len() <= MAX_INLINE => {
                        short.entry(inline_view(s.as_bytes())).or_insert(entry);
                    }
                    Literal::Text(s) => {
                        long.entry(Box::from(s.as_str())).or_insert(entry);
                    }
                    _ => return Err(bad("a non-text key in a text table")),
                }
            }
            KeyIndex::Text { short: ShortKeys::new(short), long }
        } else {
            let mut map = HashMap::new();
            for (entry, key) in entries {
                map.entry(number_key(key).ok_or_else(|| bad("a key of another type"))?).or_insert(entry);
            }
            KeyIndex::Number(map)
        };
        let phys = Phys::of(table.value_type.kind);
        let scalars: Vec<Scalar> = table.entries.iter().map(|(_, v)| Scalar::from_literal(v)).collect();
        let values = column_of(&scalars, phys)?;
        Ok(CompiledTable { keys, values })
    }

    /// The value of one key (scalar lookups: file checks and header values).
    fn entry_of_text(&self, key: &str) -> Option<u32> {
        match &self.keys {
            KeyIndex::Text { short, long } => {
                if key.len() <= MAX_INLINE {
                    short.get(inline_view(key.as_bytes()))
                } else {
                    long.get(key).copied()
                }
            }
            KeyIndex::Number(_) => None,
        }
    }

    /// `table[key]` over a column: the values, and the rows whose non-null key is missing.
    pub(crate) fn lookup(&self, key: &Datum, len: usize) -> Result<Fallible, InterpError> {
        let mut index = vec![0u32; len];
        let (ok, failed) = match (&self.keys, key) {
            (KeyIndex::Text { short, long }, Datum::Array(Column::Text(keys))) => {
                let ok = lookup_text(keys, short, long, &mut index);
                let failed = failed_rows(keys.nulls(), &ok);
                (ok, failed)
            }
            (KeyIndex::Text { .. }, Datum::Scalar(Scalar::Text(s))) => match self.entry_of_text(s) {
                Some(e) => {
                    index.fill(e);
                    (BooleanBuffer::new_set(len), BooleanBuffer::new_unset(len))
                }
                None => (BooleanBuffer::new_unset(len), BooleanBuffer::new_set(len)),
            },
            (KeyIndex::Number(map), key) => {
                let prim = match key {
                    Datum::Array(Column::Date(_)) | Datum::Scalar(Scalar::Date(_)) => widen::<i32>(key, len)?,
                    Datum::Array(Column::Code(_)) | Datum::Scalar(Scalar::Code(_)) => widen::<u32>(key, len)?,
                    Datum::Array(Column::Number(_)) | Datum::Scalar(Scalar::Number(_)) => widen_number(key, len)?,
                    _ => widen::<i64>(key, len)?,
                };
                let ok = BooleanBuffer::collect_bool(len, |i| match prim[i].and_then(|k| map.get(&k)) {
                    Some(&e) => {
                        index[i] = e;
                        true
                    }
                    None => false,
                });
                let present = BooleanBuffer::collect_bool(len, |i| prim[i].is_some());
                (ok.clone(), &present & &!&ok)
            }
            (_, Datum::Scalar(Scalar::Null)) => (BooleanBuffer::new_unset(len), BooleanBuffer::new_unset(len)),
            (_, other) => return Err(InterpError::internal(format!("lookup: unexpected key {other:?}"))),
        };
        Ok(Fallible { values: take(&self.values, &index, ok), failed })
    }
}

/// The short text keys of a table (canonical views) and their entries.
#[derive(Debug, Clone)]
enum ShortKeys {
    /// Every key alone in its slot: `slots[slot(key)]` holds the key and its entry (or
    /// `u32::MAX` for no key), with `slot(key) = fold(key) * multiplier >> shift`.
    Slots { multiplier: u64, shift: u32, slots: Box<[(u128, u32)]> },
    /// The keys for which no such table was found (folds that collide, or very many keys).
    Map(HashMap<u128, u32>),
}

/// The most slots a table of short keys may take (a power of two; a slot is 32 bytes, so 32 KiB).
const MAX_SLOTS_LOG2: u32 = 10;

impl ShortKeys {
    fn new(keys: HashMap<u128, u32>) -> ShortKeys {
        let folds: Vec<(u64, u128, u32)> = keys.iter().map(|(&key, &entry)| (Self::fold(key), key, entry)).collect();
        let mut distinct: Vec<u64> = folds.iter().map(|f| f.0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() == folds.len() {
            // Slots for at least twice the keys; a few hundred multipliers per size (deterministic,
            // so a spec always compiles to the same table).
            let least = (2 * folds.len()).next_power_of_two().trailing_zeros().max(1);
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            for log2 in least..=MAX_SLOTS_LOG2 {
                for _ in 0..256 {
                    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let multiplier = (state ^ (state >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1;
                    let shift = 64 - log2;
                    let mut slots = vec![(0u128, u32::MAX); 1 << log2];
                    let placed = folds.iter().all(|&(fold, key, entry)| {
                        let slot = &mut slots[(fold.wrapping_mul(multiplier) >> shift) as usize];
                        let free = slot.1 == u32::MAX;
                        *slot = (key, entry);
                        free
                    });
                    if placed {
                        return ShortKeys::Slots { multiplier, shift, slots: slots.into_boxed_slice() };
                    }
                }
            }
        }
        ShortKeys::Map(keys)
    }

    /// A view's two halves in one word: a view holds a short text's length and bytes.
    #[inline(always)]
    fn fold(view: u128) -> u64 {
        (view as u64) ^ ((view >> 64) as u64).rotate_left(32)
    }

    /// The entry of a canonical view (see [`canonical_inline`]).
    #[inline(always)]
    fn get(&self, view: u128) -> Option<u32> {
        match self {
            ShortKeys::Slots { multiplier, shift, slots } => {
                let (key, entry) = slots[(Self::fold(view).wrapping_mul(*multiplier) >> shift) as usize];
                (key == view && entry != u32::MAX).then_some(entry)
            }
            ShortKeys::Map(map) => map.get(&view).copied(),
        }
    }
}

fn lookup_text(
    keys: &StringViewArray,
    short: &ShortKeys,
    long: &HashMap<Box<str>, u32>,
    index: &mut [u32],
) -> BooleanBuffer {
    let views = keys.views();
    let nulls = keys.nulls();
    BooleanBuffer::collect_bool(keys.len(), |i| {
        if nulls.is_some_and(|n| n.is_null(i)) {
            return false;
        }
        let view = views[i];
        let found = if view_len(view) <= MAX_INLINE {
            short.get(canonical_inline(view))
        } else {
            long.get(keys.value(i)).copied()
        };
        match found {
            Some(e) => {
                index[i] = e;
                true
            }
            None => false,
        }
    })
}

/// A numeric key column as optional `i64`s (one small allocation per lookup, not per row).
fn widen<T: crate::kernels::PrimLayout + Into<i64>>(key: &Datum, len: usize) -> Result<Vec<Option<i64>>, InterpError> {
    Ok(match Prim::<T>::of(key)? {
        Prim::Scalar(v) => vec![v.map(Into::into); len],
        Prim::Array { values, nulls } => {
            (0..len).map(|i| nulls.is_none_or(|n| n.is_valid(i)).then(|| values[i].into())).collect()
        }
    })
}

/// A number key column as the `i64` of its bits (see [`KeyIndex::Number`]).
fn widen_number(key: &Datum, len: usize) -> Result<Vec<Option<i64>>, InterpError> {
    let bits = |v: f64| number_bits(v) as i64;
    Ok(match Prim::<f64>::of(key)? {
        Prim::Scalar(v) => vec![v.map(bits); len],
        Prim::Array { values, nulls } => {
            (0..len).map(|i| nulls.is_none_or(|n| n.is_valid(i)).then(|| bits(values[i]))).collect()
        }
    })
}

/// A column holding `values` in layout `phys`.
pub(crate) fn column_of(values: &[Scalar], phys: Phys) -> Result<Column, InterpError> {
    use arrow::array::{BooleanArray, Date32Array, Float64Array, Int64Array, UInt32Array};
    let bad = || InterpError::internal(format!("a literal of another type in a {phys:?} column"));
    Ok(match phys {
        Phys::Int => Column::Int(Int64Array::from(
            values.iter().map(|v| i64::scalar_of(v).ok_or_else(bad)).collect::<Result<Vec<_>, _>>()?,
        )),
        Phys::Number => Column::Number(Float64Array::from(
            values.iter().map(|v| f64::scalar_of(v).ok_or_else(bad)).collect::<Result<Vec<_>, _>>()?,
        )),
        Phys::Date => Column::Date(Date32Array::from(
            values.iter().map(|v| i32::scalar_of(v).ok_or_else(bad)).collect::<Result<Vec<_>, _>>()?,
        )),
        Phys::Code => Column::Code(UInt32Array::from(
            values.iter().map(|v| u32::scalar_of(v).ok_or_else(bad)).collect::<Result<Vec<_>, _>>()?,
        )),
        Phys::Bool => Column::Bool(BooleanArray::from(
            values
                .iter()
                .map(|v| match v {
                    Scalar::Bool(b) => Ok(Some(*b)),
                    Scalar::Null => Ok(None),
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>, _>>()?,
        )),
        Phys::Text => Column::Text(StringViewArray::from(
            values
                .iter()
                .map(|v| match v {
                    Scalar::Text(s) => Ok(Some(s.as_ref())),
                    Scalar::Null => Ok(None),
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>, _>>()?,
        )),
    })
}

/// `PrimLayout::scalar` flattened for [`column_of`].
trait ScalarOf: Sized {
    fn scalar_of(value: &Scalar) -> Option<Option<Self>>;
}

impl<T: crate::kernels::PrimLayout> ScalarOf for T {
    fn scalar_of(value: &Scalar) -> Option<Option<T>> {
        T::scalar(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short keys find the entries a hash map finds, present or absent, with slots or without.
    #[test]
    fn short_keys_find_what_a_map_finds() {
        let mut next = crate::test_support::xorshift(0x2545_F491_4F6C_DD1Du64);
        let text = |next: &mut dyn FnMut() -> u64| -> String {
            let len = (next() % 13) as usize;
            (0..len).map(|_| char::from(b'A' + (next() % 4) as u8)).collect()
        };
        let (mut with_slots, mut with_map) = (0, 0);
        for keys in [0usize, 1, 2, 3, 5, 8, 16, 40, 100, 600] {
            let mut map = HashMap::new();
            for entry in 0..keys as u32 {
                map.entry(inline_view(text(&mut next).as_bytes())).or_insert(entry);
            }
            map.entry(inline_view(b"")).or_insert(u32::MAX - 1);
            let short = ShortKeys::new(map.clone());
            match short {
                ShortKeys::Slots { .. } => with_slots += 1,
                ShortKeys::Map(_) => with_map += 1,
            }
            for &key in map.keys() {
                assert_eq!(short.get(key), map.get(&key).copied());
            }
            for _ in 0..2000 {
                let probe = inline_view(text(&mut next).as_bytes());
                assert_eq!(short.get(probe), map.get(&probe).copied(), "{probe:x}");
            }
        }
        assert!(with_slots >= 8 && with_map >= 1, "slots {with_slots}, maps {with_map}");
    }
}
