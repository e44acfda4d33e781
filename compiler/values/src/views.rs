//! Arrow string views (`Utf8View`): reading one as a machine word, comparing short ones, prefetching
//! long ones, and building arrays of them without per-row allocation, and without copying when a
//! result is a slice of its input.
//!
//! A view is 16 bytes: the length, then either the whole string (12 bytes or fewer, inline) or a
//! 4-byte prefix, a buffer index and an offset into that buffer. Text kernels whose result is a
//! slice of the input (trim, substring, an unchanged `upper`) emit a view into the input's buffers
//! instead of copying bytes; the rest copy into one buffer owned by the builder.
//!
//! The interpreter's text kernels, its key hashes and code lookups, and the runtime's column
//! encoders all read views this way, so a short text compares equal in each of them exactly when
//! its bytes do.

use arrow::array::{Array, BooleanBufferBuilder, StringViewArray};
use arrow::buffer::{Buffer, NullBuffer, ScalarBuffer};

/// The largest own buffer before the builder starts another one (offsets in views are `u32`).
const MAX_BLOCK: usize = i32::MAX as usize;

/// The longest string stored inline in its view.
pub const MAX_INLINE: usize = 12;

/// The same array with another validity, or `None` when `nulls` is not as long as the array. No
/// bytes are copied (this is why it exists: the safe constructor would validate every string's
/// UTF-8 again).
pub fn with_nulls(array: StringViewArray, nulls: Option<NullBuffer>) -> Option<StringViewArray> {
    if nulls.as_ref().is_some_and(|n| n.len() != array.len()) {
        return None;
    }
    let (views, buffers, _) = array.into_parts();
    // SAFETY: the views and buffers come unchanged from a valid array, so each view still points at
    // valid UTF-8 inside its buffer; only the null buffer changes, and its length was checked.
    Some(unsafe { StringViewArray::new_unchecked(views, buffers, nulls) })
}

/// The length stored in a view.
#[inline]
pub fn view_len(view: u128) -> usize {
    view as u32 as usize
}

/// A view with the bytes past the string zeroed, so that two inline views are equal exactly when
/// their strings are (writers are expected to zero the padding, but do not have to).
#[inline]
pub fn canonical_inline(view: u128) -> u128 {
    let len = view_len(view);
    debug_assert!(len <= MAX_INLINE);
    let bits = 32 + 8 * len as u32;
    if bits >= 128 { view } else { view & ((1u128 << bits) - 1) }
}

/// The inline view of a string of at most 12 bytes.
#[inline]
pub fn inline_view(bytes: &[u8]) -> u128 {
    debug_assert!(bytes.len() <= MAX_INLINE);
    let mut raw = [0u8; 16];
    raw[..4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    raw[4..4 + bytes.len()].copy_from_slice(bytes);
    u128::from_le_bytes(raw)
}

/// The view of a string of more than 12 bytes stored at `offset` in buffer `buffer`.
#[inline]
fn long_view(bytes: &[u8], buffer: u32, offset: u32) -> u128 {
    let mut prefix = [0u8; 4];
    prefix.copy_from_slice(&bytes[..4]);
    (bytes.len() as u128)
        | ((u32::from_le_bytes(prefix) as u128) << 32)
        | ((buffer as u128) << 64)
        | ((offset as u128) << 96)
}

/// The bytes of a view in memory order (the 4-byte length, then the text of a short text):
/// `inline_text(&view_bytes(view))` is a text inside its view (at most [`MAX_INLINE`] bytes).
#[inline(always)]
pub fn view_bytes(view: u128) -> [u8; 16] {
    view.to_le_bytes()
}

/// The text of an inline view's bytes ([`view_bytes`]).
#[inline(always)]
pub fn inline_text(bytes: &[u8; 16]) -> &[u8] {
    let len = (u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize).min(MAX_INLINE);
    &bytes[4..4 + len]
}

/// Asks for the cache line of a long text's first bytes (a short text is in its view). A loop
/// that reads the texts of one column a line apart, long after the split touched them, misses
/// the cache on every long one without this, a few rows ahead.
#[inline(always)]
fn prefetch_text(view: u128, buffers: &[arrow::buffer::Buffer]) {
    #[cfg(target_arch = "x86_64")]
    if view_len(view) > MAX_INLINE
        && let Some(byte) = buffers.get((view >> 64) as u32 as usize).and_then(|b| b.get((view >> 96) as u32 as usize))
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint with no effect on memory or on the program's state, and
        // the pointer is to a live byte anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(byte).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (view, buffers);
}

/// How many rows ahead a loop over a text column prefetches: enough to cover a miss's latency
/// with the work of a few rows, few enough that the line is still there when its row comes.
pub const PREFETCH_AHEAD: usize = 8;

/// [`prefetch_text`] for the row [`PREFETCH_AHEAD`] rows after `row`, if any.
#[inline(always)]
pub fn prefetch_ahead(input: &StringViewArray, row: usize) {
    if let Some(&view) = input.views().get(row + PREFETCH_AHEAD) {
        prefetch_text(view, input.data_buffers());
    }
}

/// Builds a `StringViewArray` row by row. Built over an input array ([`TextBuilder::over`]), it
/// can emit slices of the input's values without copying them.
///
/// The methods a kernel calls once per row are `#[inline]`: the kernels are in another crate,
/// and a call per row would cost more than the push itself.
pub struct TextBuilder {
    /// The input's buffers (shared, not copied), then the builder's finished own blocks.
    buffers: Vec<Buffer>,
    /// The block being written; it becomes buffer `own_index` at the end.
    data: Vec<u8>,
    own_index: u32,
    views: Vec<u128>,
    validity: BooleanBufferBuilder,
    null_count: usize,
}

impl TextBuilder {
    /// A builder for `capacity` rows with no input to share.
    pub fn new(capacity: usize) -> TextBuilder {
        TextBuilder {
            buffers: Vec::new(),
            data: Vec::new(),
            own_index: 0,
            views: Vec::with_capacity(capacity),
            validity: BooleanBufferBuilder::new(capacity),
            null_count: 0,
        }
    }

    /// A builder whose [`TextBuilder::push_slice`] may point into `input`'s buffers.
    pub fn over(input: &StringViewArray, capacity: usize) -> TextBuilder {
        let buffers = input.data_buffers().to_vec();
        let own_index = buffers.len() as u32;
        TextBuilder { buffers, own_index, ..TextBuilder::new(capacity) }
    }

    #[inline]
    pub fn push_null(&mut self) {
        self.views.push(0);
        self.validity.append(false);
        self.null_count += 1;
    }

    /// Appends a copy of `value`.
    #[inline]
    pub fn push_str(&mut self, value: &str) {
        let bytes = value.as_bytes();
        let view = if bytes.len() <= MAX_INLINE {
            inline_view(bytes)
        } else {
            if self.data.len() + bytes.len() > MAX_BLOCK {
                self.flush_block();
            }
            let offset = self.data.len() as u32;
            self.data.extend_from_slice(bytes);
            long_view(bytes, self.own_index, offset)
        };
        self.views.push(view);
        self.validity.append(true);
    }

    /// Appends `value[start..end]`, where `value` is the string of `view`, a view of the input
    /// this builder was made [`over`](TextBuilder::over). The range must lie on char boundaries
    /// (the callers slice at boundaries `str` methods gave them); otherwise the slice is copied
    /// lossily, which keeps the array valid UTF-8.
    #[inline]
    pub fn push_slice(&mut self, view: u128, value: &str, start: usize, end: usize) {
        let Some(slice) = value.get(start..end) else {
            self.push_str(&String::from_utf8_lossy(&value.as_bytes()[start.min(end)..end]));
            return;
        };
        let len = slice.len();
        let new_view = if len <= MAX_INLINE {
            inline_view(slice.as_bytes())
        } else if start == 0 && len == value.len() {
            view
        } else {
            // A slice longer than 12 bytes comes from a value longer than 12 bytes, which is stored
            // in a buffer: point into it at the slice's start.
            let buffer = (view >> 64) as u32;
            let offset = (view >> 96) as u32 + start as u32;
            long_view(slice.as_bytes(), buffer, offset)
        };
        self.views.push(new_view);
        self.validity.append(true);
    }

    /// Appends the input's value with view `view` unchanged.
    #[inline]
    pub fn push_view(&mut self, view: u128) {
        self.views.push(view);
        self.validity.append(true);
    }

    fn flush_block(&mut self) {
        let block = std::mem::take(&mut self.data);
        self.buffers.push(Buffer::from_vec(block));
        self.own_index += 1;
    }

    pub fn finish(mut self) -> StringViewArray {
        if !self.data.is_empty() {
            self.flush_block();
        }
        let nulls = if self.null_count == 0 { None } else { Some(NullBuffer::new(self.validity.finish())) };
        let views = ScalarBuffer::from(self.views);
        // SAFETY: every view was made by `push_str` from a `&str` copied into an own block at the
        // recorded offset, by `push_slice` from a char-boundary slice of a valid view of the input
        // (whose buffers are the first ones here, at the same indices), or is a valid input view
        // (`push_view`); inline views hold their (valid UTF-8) bytes. Null slots hold the empty view.
        unsafe { StringViewArray::new_unchecked(views, self.buffers, nulls) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_slices_and_copies() {
        let input = StringViewArray::from(vec![Some("  a long value with spaces  "), None, Some(" short ")]);
        let mut builder = TextBuilder::over(&input, 4);
        let long = input.value(0);
        let start = long.find('a').unwrap_or(0);
        builder.push_slice(input.views()[0], long, start, long.trim_end().len());
        builder.push_null();
        builder.push_slice(input.views()[2], input.value(2), 1, 6);
        builder.push_str("a string longer than twelve bytes");
        let out = builder.finish();
        let got: Vec<Option<&str>> = out.iter().collect();
        assert_eq!(
            got,
            vec![Some("a long value with spaces"), None, Some("short"), Some("a string longer than twelve bytes")]
        );
    }

    #[test]
    fn canonical_inline_ignores_padding() {
        let v = inline_view(b"ab");
        assert_eq!(canonical_inline(v | (0xffu128 << 120)), v);
        let full = inline_view(b"abcdefghijkl");
        assert_eq!(canonical_inline(full), full);
    }
}
