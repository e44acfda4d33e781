//! What a column chunk encoder holds between pages: the open page's values and the chunk's
//! statistics, by kind (integers, texts, codes), the dictionaries of texts and codes, and texts in
//! `DELTA_BYTE_ARRAY` form once a column goes without a dictionary.

use std::hash::{BuildHasher, Hash};

use arrow::array::ArrayData;
use arrow::buffer::NullBuffer;
use etr_values::views::{MAX_INLINE, canonical_inline, view_len};
use parquet::data_type::ByteArray;
use parquet::file::statistics::Statistics;

use super::encodings::{bit_width, delta_binary_packed, rle_hybrid};

/// The open page's values and the chunk's statistics, by kind.
pub(super) enum Values {
    Ints {
        values: Vec<i64>,
        /// 32-bit columns take their deltas in 32-bit arithmetic, as their readers do.
        int32: bool,
        /// Unsigned 64-bit values (stored as their bit patterns) order as unsigned.
        unsigned: bool,
        min: Option<i64>,
        max: Option<i64>,
    },
    Texts {
        /// The open page's values, `DELTA_BYTE_ARRAY`-encoded (once the dictionary has given up).
        deltas: DeltaTexts,
        /// Bounds of the values written without the dictionary.
        min: Option<Vec<u8>>,
        max: Option<Vec<u8>>,
        /// While the column's distinct values are few enough: where each member is.
        members: Option<TextDictionary>,
        dictionary: Dictionary,
    },
    Codes {
        dictionary: Dictionary,
        index_of: hashbrown::HashMap<Vec<u8>, u32>,
        used: Vec<bool>,
        /// The last batch's dictionary and, for each of its keys, the member index.
        last_dictionary: Option<ArrayData>,
        remap: Vec<u32>,
    },
}

/// Dictionary-encoded values: the chunk's members and the open page's indices.
#[derive(Default)]
pub(super) struct Dictionary {
    pub(super) members: Vec<Vec<u8>>,
    pub(super) indices: Vec<u32>,
}

/// The member index of each distinct text of a column. A short text (at most 12 bytes) is
/// inside its Arrow view, so the view, its unused bytes masked, is its key, found without reading
/// any text buffer; a longer one is keyed by its bytes, kept one after the other in `long_bytes`
/// (comparing with members scattered in their own allocations missed the cache on every row).
#[derive(Default)]
pub(super) struct TextDictionary {
    pub(super) short: hashbrown::HashMap<u128, u32>,
    /// Per long member: where its bytes start in `long_bytes`, their length, its member index.
    long: hashbrown::HashTable<(u32, u32, u32)>,
    long_bytes: Vec<u8>,
    hashing: hashbrown::DefaultHashBuilder,
    /// The dictionary page's size so far: each member's bytes and its 4-byte length.
    pub(super) bytes: usize,
}

impl TextDictionary {
    /// The member index of the long text `text`, which becomes a member of `members` if new.
    #[inline]
    pub(super) fn long_index(&mut self, members: &mut Vec<Vec<u8>>, text: &[u8]) -> u32 {
        let TextDictionary { long, long_bytes, hashing, .. } = self;
        let hash = hashing.hash_one(text);
        let span = |&(start, len, _): &(u32, u32, u32)| start as usize..(start + len) as usize;
        if let Some(&(_, _, index)) = long.find(hash, |entry| long_bytes[span(entry)] == *text) {
            return index;
        }
        let entry = (long_bytes.len() as u32, text.len() as u32, members.len() as u32);
        long.insert_unique(hash, entry, |entry| hashing.hash_one(&long_bytes[span(entry)]));
        long_bytes.extend_from_slice(text);
        members.push(text.to_vec());
        self.bytes += 4 + text.len();
        entry.2
    }
}

/// Members a text dictionary may reach before the column goes without one, whatever their size:
/// past that, its hash table no longer fits the caches and a lookup costs more than the bytes it
/// saves (W1's postcodes, tens of thousands of them, were slower with a dictionary than without).
pub(super) const MAX_TEXT_MEMBERS: usize = 8192;

/// The view of a short text with the bytes past its length cleared (Arrow does not promise
/// zeros there), or `None` for a text of more than 12 bytes.
#[inline]
pub(super) fn short_view_key(view: u128) -> Option<u128> {
    (view_len(view) <= MAX_INLINE).then(|| canonical_inline(view))
}

impl Dictionary {
    /// Appends the open page's indices (their bit width, then the RLE / bit-packed hybrid) and
    /// empties them.
    pub(super) fn encode_page(&mut self, body: &mut Vec<u8>) {
        let width = bit_width(self.members.len().saturating_sub(1) as u64);
        body.push(width);
        rle_hybrid(&self.indices, width, body);
        self.indices.clear();
    }
}

impl Values {
    /// The open page's encoded size, near enough to end pages at [`super::PAGE_BYTES`].
    pub(super) fn page_bytes(&self) -> usize {
        match self {
            Values::Ints { values, .. } => values.len() * 8,
            Values::Texts { deltas, dictionary, .. } => deltas.page_bytes() + dictionary.indices.len(),
            Values::Codes { dictionary, .. } => dictionary.indices.len(),
        }
    }

    pub(super) fn statistics(&self, nulls: u64, truncate: Option<usize>) -> Statistics {
        match self {
            Values::Ints { int32: true, min, max, .. } => {
                Statistics::int32(min.map(|v| v as i32), max.map(|v| v as i32), None, Some(nulls), false)
            }
            Values::Ints { min, max, .. } => Statistics::int64(*min, *max, None, Some(nulls), false),
            Values::Texts { min, max, dictionary, .. } => {
                // Every member of a text dictionary occurs in the chunk.
                let members = dictionary.members.iter().map(Vec::as_slice);
                let min = members.clone().chain(min.as_deref()).min();
                let max = members.chain(max.as_deref()).max();
                text_statistics(min, max, nulls, truncate)
            }
            Values::Codes { dictionary, used, .. } => {
                let present = dictionary.members.iter().zip(used).filter(|(_, u)| **u).map(|(m, _)| m.as_slice());
                let min = present.clone().min();
                let max = present.max();
                text_statistics(min, max, nulls, truncate)
            }
        }
    }
}

/// The index of the member `key` stands for in `members`, which gains `text()` if `key` is new.
#[inline]
pub(super) fn intern<K: Hash + Eq, S: BuildHasher>(
    members: &mut Vec<Vec<u8>>,
    index_of: &mut hashbrown::HashMap<K, u32, S>,
    key: K,
    text: impl FnOnce() -> Vec<u8>,
) -> u32 {
    *index_of.entry(key).or_insert_with(|| {
        members.push(text());
        members.len() as u32 - 1
    })
}

/// Byte-array statistics; bounds longer than the truncation length are left out (statistics are
/// optional, a wrong bound is not).
fn text_statistics(min: Option<&[u8]>, max: Option<&[u8]>, nulls: u64, truncate: Option<usize>) -> Statistics {
    let fits = |v: &&[u8]| truncate.is_none_or(|n| v.len() <= n);
    let (min, max) = match (min.filter(fits), max.filter(fits)) {
        (Some(min), Some(max)) => (Some(ByteArray::from(min.to_vec())), Some(ByteArray::from(max.to_vec()))),
        _ => (None, None),
    };
    Statistics::byte_array(min, max, None, Some(nulls), false)
}

/// Texts in `DELTA_BYTE_ARRAY` encoding: each value as the length of the prefix it shares with the
/// value before it in the page, then the rest of it (lengths `DELTA_BINARY_PACKED`, then the rest
/// of every value, one after the other). Account numbers share all but their last digits, and
/// the lengths pack into a few bits: zstd gets fewer bytes than `PLAIN` gave it, for the same
/// time.
#[derive(Default)]
pub(super) struct DeltaTexts {
    prefixes: Vec<i64>,
    suffix_lengths: Vec<i64>,
    suffixes: Vec<u8>,
    /// The page's last text, between batches (the next batch's first text shares a prefix with
    /// it; empty at the start of a page).
    pub(super) previous: Vec<u8>,
}

impl DeltaTexts {
    #[inline]
    pub(super) fn push(&mut self, previous: &[u8], text: &[u8]) {
        let shared = common_prefix(previous, text);
        self.prefixes.push(shared as i64);
        self.suffix_lengths.push((text.len() - shared) as i64);
        self.suffixes.extend_from_slice(&text[shared..]);
    }

    fn page_bytes(&self) -> usize {
        self.suffixes.len() + 2 * self.prefixes.len()
    }

    /// Appends the page's values and starts a new page.
    pub(super) fn encode_page(&mut self, body: &mut Vec<u8>) {
        delta_binary_packed(&self.prefixes, true, body);
        delta_binary_packed(&self.suffix_lengths, true, body);
        body.extend_from_slice(&self.suffixes);
        self.prefixes.clear();
        self.suffix_lengths.clear();
        self.suffixes.clear();
        self.previous.clear();
    }
}

/// The length of the longest common prefix of two byte strings, eight bytes at a time.
#[inline]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + 8 <= n {
        let word = |s: &[u8]| {
            u64::from_le_bytes([s[at], s[at + 1], s[at + 2], s[at + 3], s[at + 4], s[at + 5], s[at + 6], s[at + 7]])
        };
        let differ = word(a) ^ word(b);
        if differ != 0 {
            return at + differ.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    while at < n && a[at] == b[at] {
        at += 1;
    }
    at
}

/// Appends the present values of one batch of a column, widened to `i64`.
#[inline]
pub(super) fn push_ints<T: Copy>(
    source: &[T],
    nulls: Option<&NullBuffer>,
    values: &mut Vec<i64>,
    widen: impl Fn(T) -> i64,
) {
    match nulls {
        None => values.extend(source.iter().map(|&v| widen(v))),
        Some(nulls) => values.extend(nulls.valid_indices().map(|i| widen(source[i]))),
    }
}

#[inline]
pub(super) fn update_int_bounds(values: &[i64], unsigned: bool, min: &mut Option<i64>, max: &mut Option<i64>) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked to have AVX2, the only feature the function enables.
        return unsafe { update_int_bounds_avx2(values, unsigned, min, max) };
    }
    update_int_bounds_with(values, unsigned, min, max);
}

/// [`update_int_bounds`] where AVX2 may be used (see `delta_binary_packed_avx2`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn update_int_bounds_avx2(values: &[i64], unsigned: bool, min: &mut Option<i64>, max: &mut Option<i64>) {
    update_int_bounds_with(values, unsigned, min, max);
}

#[inline(always)]
fn update_int_bounds_with(values: &[i64], unsigned: bool, min: &mut Option<i64>, max: &mut Option<i64>) {
    if values.is_empty() {
        return;
    }
    // One pass for both bounds, four values at a time on independent accumulators (the baseline
    // x86-64 target has no 64-bit vector minimum; `Iterator::min` and `max` took two passes with
    // a comparison function per value).
    fn bounds<T: Ord + Copy>(values: &[i64], key: impl Fn(i64) -> T) -> (T, T) {
        let first = key(values[0]);
        let (mut lo, mut hi) = ([first; 4], [first; 4]);
        let chunks = values.chunks_exact(4);
        for &v in chunks.remainder() {
            lo[0] = lo[0].min(key(v));
            hi[0] = hi[0].max(key(v));
        }
        for chunk in chunks {
            for k in 0..4 {
                lo[k] = lo[k].min(key(chunk[k]));
                hi[k] = hi[k].max(key(chunk[k]));
            }
        }
        (lo.into_iter().fold(first, T::min), hi.into_iter().fold(first, T::max))
    }
    if unsigned {
        let (lo, hi) = bounds(values, |v| v as u64);
        *min = Some(min.map_or(lo, |m| (m as u64).min(lo)) as i64);
        *max = Some(max.map_or(hi, |m| (m as u64).max(hi)) as i64);
    } else {
        let (lo, hi) = bounds(values, |v| v);
        *min = Some(min.map_or(lo, |m| m.min(lo)));
        *max = Some(max.map_or(hi, |m| m.max(hi)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefixes_are_counted_bytewise() {
        let texts: [&[u8]; 8] =
            [b"", b"a", b"ab", b"abcdefgh", b"abcdefghi", b"abcdefghij", b"abcdefgx", b"JCL0000000001"];
        for a in texts {
            for b in texts {
                let expected = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                assert_eq!(common_prefix(a, b), expected, "{a:?} {b:?}");
            }
        }
    }
}
