//! The text built-ins over `Utf8View` columns (the IR's `BuiltinFamily::Text`), and the maps over
//! a text column that the other families reading text (`nric`, `parse`) build their kernels with.
//!
//! Results that are a slice of the input (trim, substring, an `upper` of text that is already
//! upper case, `remove_chars` with nothing to remove) reuse the input's bytes through their views;
//! only changed values are copied. ASCII is the fast path everywhere; non-ASCII text takes the
//! general Unicode path.

use arrow::array::{Array, BooleanArray, PrimitiveArray, StringViewArray};
use arrow::buffer::{BooleanBuffer, ScalarBuffer};
use etr_ir::Builtin;
use etr_values::views::{self, MAX_INLINE, TextBuilder, inline_text, prefetch_ahead, view_bytes, view_len};
use regex::Regex;

use crate::error::InterpError;
use crate::kernels::{Call, Fallible, Prim, PrimLayout, failed_rows, nulls_from};
use crate::value::{Column, Datum};

/// The text functions.
pub(crate) fn call(call: &Call<'_>) -> Result<Datum, InterpError> {
    let column = match call.function {
        Builtin::Trim => Column::Text(trim(&call.text(0)?)),
        Builtin::Upper => Column::Text(upper(&call.text(0)?)),
        Builtin::Lower => Column::Text(lower(&call.text(0)?)),
        Builtin::RemoveChars(chars) => Column::Text(remove_chars(&call.text(0)?, &CharSet::new(chars))),
        Builtin::Replace(from, to) => Column::Text(replace(&call.text(0)?, from, to)),
        Builtin::NullIfEmpty => Column::Text(null_if_empty(&call.text(0)?)?),
        Builtin::Substring => {
            let (start, length) = match call.args {
                [_, start, length] => (Prim::<i64>::of(start)?, Prim::<i64>::of(length)?),
                _ => return Err(InterpError::internal("substring takes three arguments")),
            };
            Column::Text(substring(&call.text(0)?, start, length))
        }
        Builtin::Length => length(&call.text(0)?),
        Builtin::Matches(pattern) => Column::Bool(matches(&call.text(0)?, call.interp.regex(pattern)?)),
        Builtin::IsJson => Column::Bool(is_json(&call.text(0)?)),
        _ => return Err(call.not_in("text")),
    };
    Ok(call.finish(column))
}

/// Maps every valid row of `input` through `f`, which appends exactly one value to the builder.
fn map_text(input: &StringViewArray, mut f: impl FnMut(u128, &str, &mut TextBuilder)) -> StringViewArray {
    let mut out = TextBuilder::over(input, input.len());
    let views = input.views();
    let nulls = input.nulls();
    for (i, &view) in views.iter().enumerate() {
        prefetch_ahead(input, i);
        if nulls.is_some_and(|n| n.is_null(i)) {
            out.push_null();
        } else {
            f(view, input.value(i), &mut out);
        }
    }
    out.finish()
}

/// A predicate over every valid row (null in, null out).
pub(crate) fn map_bool(input: &StringViewArray, f: impl Fn(&str) -> bool) -> BooleanArray {
    let nulls = input.nulls();
    let values = BooleanBuffer::collect_bool(input.len(), |i| {
        prefetch_ahead(input, i);
        nulls.is_none_or(|n| n.is_valid(i)) && f(input.value(i))
    });
    BooleanArray::new(values, nulls.cloned())
}

/// `f` over every valid row into a primitive column; `None` makes the slot null. Also returns
/// where `f` gave `None` on a valid row (what a fallible function calls a failure).
pub(crate) fn map_prim<T: PrimLayout>(
    input: &StringViewArray,
    f: impl Fn(&str) -> Option<T>,
) -> (PrimitiveArray<T::Arrow>, BooleanBuffer) {
    map_prim_rows(input, |i| {
        prefetch_ahead(input, i);
        f(input.value(i))
    })
}

/// [`map_prim`] for a function whose common case is a text of at most 12 bytes: such a text is
/// inside its view, and `inline` gets its bytes from there (`inline_text`), with no call to build
/// the `&str`; a longer text goes to `general`. Both must give the result `general` gives.
pub(crate) fn map_prim_inline<T: PrimLayout>(
    input: &StringViewArray,
    inline: impl Fn(&[u8]) -> Option<T>,
    general: impl Fn(&str) -> Option<T>,
) -> (PrimitiveArray<T::Arrow>, BooleanBuffer) {
    let views = input.views();
    map_prim_rows(input, |i| {
        let view = views[i];
        if view_len(view) <= MAX_INLINE { inline(inline_text(&view_bytes(view))) } else { general(input.value(i)) }
    })
}

/// The column of `row(i)` for every valid row `i`, and the valid rows where it gave `None`.
#[inline(always)]
fn map_prim_rows<T: PrimLayout>(
    input: &StringViewArray,
    row: impl Fn(usize) -> Option<T>,
) -> (PrimitiveArray<T::Arrow>, BooleanBuffer) {
    let len = input.len();
    let nulls = input.nulls();
    let mut values = vec![T::default(); len];
    let ok = BooleanBuffer::collect_bool(len, |i| {
        if nulls.is_some_and(|n| n.is_null(i)) {
            return false;
        }
        match row(i) {
            Some(v) => {
                values[i] = v;
                true
            }
            None => false,
        }
    });
    let failed = failed_rows(nulls, &ok);
    (PrimitiveArray::new(ScalarBuffer::from(values), nulls_from(ok)), failed)
}

/// A fallible kernel's result from a [`map_prim`]: the values and the rows where it failed.
pub(crate) fn fallible<T: PrimLayout>((values, failed): (PrimitiveArray<T::Arrow>, BooleanBuffer)) -> Fallible {
    Fallible { values: T::into_column(values), failed }
}

#[inline]
fn is_ascii_space(b: u8) -> bool {
    // The ASCII members of Unicode White_Space (what `char::is_whitespace` says).
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// `trim`: Unicode whitespace off both ends.
pub(crate) fn trim(input: &StringViewArray) -> StringViewArray {
    map_text(input, |view, s, out| {
        let bytes = s.as_bytes();
        let clean_end = |b: Option<&u8>| b.is_none_or(|&b| b.is_ascii() && !is_ascii_space(b));
        if clean_end(bytes.first()) && clean_end(bytes.last()) {
            out.push_view(view);
        } else {
            let trimmed = s.trim();
            let start = trimmed.as_ptr() as usize - s.as_ptr() as usize;
            out.push_slice(view, s, start, start + trimmed.len());
        }
    })
}

/// `upper`.
pub(crate) fn upper(input: &StringViewArray) -> StringViewArray {
    let mut scratch = String::new();
    map_text(input, |view, s, out| {
        if s.is_ascii() {
            if !s.bytes().any(|b| b.is_ascii_lowercase()) {
                out.push_view(view);
            } else {
                scratch.clear();
                scratch.push_str(s);
                scratch.make_ascii_uppercase();
                out.push_str(&scratch);
            }
        } else {
            out.push_str(&s.to_uppercase());
        }
    })
}

/// `lower`.
pub(crate) fn lower(input: &StringViewArray) -> StringViewArray {
    let mut scratch = String::new();
    map_text(input, |view, s, out| {
        if s.is_ascii() {
            if !s.bytes().any(|b| b.is_ascii_uppercase()) {
                out.push_view(view);
            } else {
                scratch.clear();
                scratch.push_str(s);
                scratch.make_ascii_lowercase();
                out.push_str(&scratch);
            }
        } else {
            // `str::to_lowercase` knows the context rules (a final sigma), char-wise mapping does not.
            out.push_str(&s.to_lowercase());
        }
    })
}

/// The set of chars `remove_chars` drops, with a byte table for its ASCII members.
#[derive(Debug, Clone)]
pub(crate) struct CharSet {
    ascii: [bool; 128],
    other: Vec<char>,
}

impl CharSet {
    pub(crate) fn new(chars: &str) -> CharSet {
        let mut ascii = [false; 128];
        let mut other = Vec::new();
        for c in chars.chars() {
            if c.is_ascii() {
                ascii[c as usize] = true;
            } else {
                other.push(c);
            }
        }
        CharSet { ascii, other }
    }

    #[inline]
    fn contains(&self, c: char) -> bool {
        if c.is_ascii() { self.ascii[c as usize] } else { self.other.contains(&c) }
    }
}

/// `remove_chars`: drops every char of the set.
pub(crate) fn remove_chars(input: &StringViewArray, set: &CharSet) -> StringViewArray {
    let mut scratch = String::new();
    map_text(input, |view, s, out| {
        let hit = if set.other.is_empty() {
            s.bytes().any(|b| b.is_ascii() && set.ascii[b as usize])
        } else {
            s.chars().any(|c| set.contains(c))
        };
        if !hit {
            out.push_view(view);
        } else {
            scratch.clear();
            scratch.extend(s.chars().filter(|&c| !set.contains(c)));
            out.push_str(&scratch);
        }
    })
}

/// `replace`: every occurrence of `from` (an empty `from` changes nothing).
pub(crate) fn replace(input: &StringViewArray, from: &str, to: &str) -> StringViewArray {
    map_text(input, |view, s, out| {
        if from.is_empty() || !s.contains(from) {
            out.push_view(view);
        } else {
            out.push_str(&s.replace(from, to));
        }
    })
}

/// `null_if_empty`: only the validity changes.
pub(crate) fn null_if_empty(input: &StringViewArray) -> Result<StringViewArray, InterpError> {
    let views = input.views();
    let non_empty = BooleanBuffer::collect_bool(input.len(), |i| view_len(views[i]) != 0);
    let valid = match input.nulls() {
        Some(n) => n.inner() & &non_empty,
        None => non_empty,
    };
    views::with_nulls(input.clone(), nulls_from(valid))
        .ok_or_else(|| InterpError::internal("a validity of another length than its text column"))
}

/// The byte offset of char `n` of `s` (the length of `s` past its end).
#[inline]
fn char_offset(s: &str, n: usize) -> usize {
    if s.is_ascii() { n.min(s.len()) } else { s.char_indices().nth(n).map_or(s.len(), |(at, _)| at) }
}

/// `substring(value, start, length)`: by chars, clamped to the text; null if any argument is.
pub(crate) fn substring(input: &StringViewArray, start: Prim<'_, i64>, length: Prim<'_, i64>) -> StringViewArray {
    let arg = |p: &Prim<'_, i64>, i: usize| -> Option<i64> {
        match *p {
            Prim::Scalar(v) => v,
            Prim::Array { values, nulls } => nulls.is_none_or(|n| n.is_valid(i)).then(|| values[i]),
        }
    };
    let mut out = TextBuilder::over(input, input.len());
    for (i, &view) in input.views().iter().enumerate() {
        prefetch_ahead(input, i);
        let (Some(from), Some(count)) = (arg(&start, i), arg(&length, i)) else {
            out.push_null();
            continue;
        };
        if input.is_null(i) {
            out.push_null();
            continue;
        }
        let s = input.value(i);
        let from = from.max(0) as usize;
        let count = count.max(0) as usize;
        let begin = char_offset(s, from);
        let end = begin + char_offset(&s[begin..], count);
        out.push_slice(view, s, begin, end);
    }
    out.finish()
}

/// `length`: in chars.
pub(crate) fn length(input: &StringViewArray) -> Column {
    Column::Int(map_prim::<i64>(input, |s| Some(if s.is_ascii() { s.len() } else { s.chars().count() } as i64)).0)
}

/// `matches`: a regex search.
pub(crate) fn matches(input: &StringViewArray, regex: &Regex) -> BooleanArray {
    // A clone shares the compiled regex but has its own pool of search caches, owned by the first
    // thread that uses it: the worker evaluating this batch then takes its cache directly on
    // every row, instead of through the shared pool that every other worker also uses.
    let regex = regex.clone();
    map_bool(input, |s| regex.is_match(s))
}

/// `is_json`: the text is exactly one JSON value (surrounding whitespace allowed).
pub(crate) fn is_json(input: &StringViewArray) -> BooleanArray {
    map_bool(input, |s| serde_json::from_str::<serde_json::Value>(s).is_ok())
}
