//! The ABI between Rust and a compiled kernel, and the safe wrapper that runs one over a column.
//!
//! A kernel is `extern "C" fn(*const KernelArgs) -> i64`. It reads the column's views, validity
//! and data buffers, and writes one value and one validity bit per row, and the index of every
//! row whose non-null input did not parse. It returns how many rows failed, or -1 when a view
//! points outside the data buffers (the kernel stops there; nothing it wrote is used).
//!
//! Architecture Invariant: the native code reads only through the pointers in `KernelArgs`, within
//! the bounds they come with: `len` views, `(len + offset) / 8` validity bytes, and for each long
//! string the bytes its view names, after checking the buffer index against `buffer_count` and
//! `offset + length` against that buffer's length. Short strings are read inside their view.
//! Besides its arguments, a date kernel reads one table, `etr_values::calendar::MONTHS` (a
//! `static`), at an index below its length (year 1900-2099 and month 1-12 checked first).

use std::mem::offset_of;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Date32Array, Int64Array, StringViewArray, UInt32Array};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer};
use arrow::datatypes::ArrowNativeType;

use crate::plan::{KernelPlan, Output};

/// The arguments of a kernel, laid out for the generated code (which loads them by offset).
#[repr(C)]
pub(crate) struct KernelArgs {
    /// The column's views (`u128`: length in bits 0..32; inline bytes from bit 32 when the length
    /// is at most 12, else buffer index in bits 64..96 and offset in bits 96..128).
    pub(crate) views: *const u128,
    /// The number of rows.
    pub(crate) len: u64,
    /// The validity bitmap's bytes, or null when every row is valid.
    pub(crate) nulls: *const u8,
    /// The bit offset of row 0 in `nulls`.
    pub(crate) nulls_offset: u64,
    pub(crate) buffers: *const BufferRef,
    pub(crate) buffer_count: u64,
    /// `len` output values (`i64` or `i32`, per the kernel's output layout).
    pub(crate) values: *mut u8,
    /// `len.div_ceil(64)` little-endian words of output validity bits.
    pub(crate) validity: *mut u64,
    /// Room for `len` row indices: the failed rows, in row order.
    pub(crate) failed: *mut u32,
}

/// One data buffer of the column.
#[repr(C)]
pub(crate) struct BufferRef {
    pub(crate) ptr: *const u8,
    pub(crate) len: u64,
}

/// The byte offsets of `KernelArgs`' fields, for the code generator.
pub(crate) mod args {
    use super::*;
    pub(crate) const VIEWS: i32 = offset_of!(KernelArgs, views) as i32;
    pub(crate) const LEN: i32 = offset_of!(KernelArgs, len) as i32;
    pub(crate) const NULLS: i32 = offset_of!(KernelArgs, nulls) as i32;
    pub(crate) const NULLS_OFFSET: i32 = offset_of!(KernelArgs, nulls_offset) as i32;
    pub(crate) const BUFFERS: i32 = offset_of!(KernelArgs, buffers) as i32;
    pub(crate) const BUFFER_COUNT: i32 = offset_of!(KernelArgs, buffer_count) as i32;
    pub(crate) const VALUES: i32 = offset_of!(KernelArgs, values) as i32;
    pub(crate) const VALIDITY: i32 = offset_of!(KernelArgs, validity) as i32;
    pub(crate) const FAILED: i32 = offset_of!(KernelArgs, failed) as i32;
    pub(crate) const BUFFER_PTR: i32 = offset_of!(BufferRef, ptr) as i32;
    pub(crate) const BUFFER_LEN: i32 = offset_of!(BufferRef, len) as i32;
    pub(crate) const BUFFER_SIZE: i64 = size_of::<BufferRef>() as i64;
}

/// A finalised kernel's entry point.
pub(crate) type KernelFn = unsafe extern "C" fn(*const KernelArgs) -> i64;

/// A compiled binding's code (its plan is kept beside it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kernel {
    pub(crate) entry: KernelFn,
}

/// What a kernel produced over one column, before the runtime's line selection is applied.
pub(crate) struct RawOutput {
    pub(crate) values: ArrayRef,
    pub(crate) failed: Vec<u32>,
}

/// A kernel's output in the layout `T`, before it becomes an array.
struct Typed<T: ArrowNativeType> {
    values: ScalarBuffer<T>,
    nulls: Option<NullBuffer>,
    failed: Vec<u32>,
}

/// Why a kernel run produced nothing.
pub(crate) struct BadView;

impl Kernel {
    /// Runs the kernel over `input`. `keep_failed(row)` says whether a failed row counts (a
    /// well-formed line); a failed row that does not count is null and left out of `failed`.
    pub(crate) fn run(
        &self,
        plan: &KernelPlan,
        input: &StringViewArray,
        keep_failed: impl Fn(usize) -> bool,
    ) -> Result<RawOutput, BadView> {
        Ok(match plan.parser.output() {
            Output::Int64 => {
                let Typed { values, nulls, failed } = self.run_typed::<i64>(plan, input, keep_failed)?;
                RawOutput { values: Arc::new(Int64Array::new(values, nulls)), failed }
            }
            Output::Date32 => {
                let Typed { values, nulls, failed } = self.run_typed::<i32>(plan, input, keep_failed)?;
                RawOutput { values: Arc::new(Date32Array::new(values, nulls)), failed }
            }
            Output::UInt32 => {
                let Typed { values, nulls, failed } = self.run_typed::<u32>(plan, input, keep_failed)?;
                RawOutput { values: Arc::new(UInt32Array::new(values, nulls)), failed }
            }
        })
    }

    /// The kernel's values (of the output layout `T`), validity and failed rows.
    fn run_typed<T: ArrowNativeType>(
        &self,
        plan: &KernelPlan,
        input: &StringViewArray,
        keep_failed: impl Fn(usize) -> bool,
    ) -> Result<Typed<T>, BadView> {
        let len = input.len();
        let buffers: Vec<BufferRef> =
            input.data_buffers().iter().map(|b| BufferRef { ptr: b.as_ptr(), len: b.len() as u64 }).collect();
        let (nulls, nulls_offset) = match input.nulls() {
            Some(n) => (n.inner().values().as_ptr(), n.offset() as u64),
            None => (std::ptr::null(), 0),
        };
        // Zeroed: a null slot's value is 0, as the interpreter leaves it.
        let mut values = vec![T::default(); len];
        let mut validity = vec![0u64; len.div_ceil(64)];
        let mut failed: Vec<u32> = Vec::with_capacity(len);
        let args = KernelArgs {
            views: input.views().as_ptr(),
            len: len as u64,
            nulls,
            nulls_offset,
            buffers: buffers.as_ptr(),
            buffer_count: buffers.len() as u64,
            values: values.as_mut_ptr().cast::<u8>(),
            validity: validity.as_mut_ptr(),
            failed: failed.as_mut_ptr(),
        };
        // SAFETY: the benefit is the point of the crate: one native loop over the column, no
        // call per row. Soundness: `entry` was finalised by the `JITModule` that the owning
        // `JitProgram` keeps alive, with this signature, for this plan's output layout (`T` is
        // `i64` for `Output::Int64`, `i32` for `Output::Date32`, `u32` for `Output::UInt32`).
        // Every pointer in `args` is valid for what the kernel reads or writes (module docs):
        // `views` has `len` entries; `nulls`
        // holds the bitmap's bytes for bits `nulls_offset..nulls_offset + len`; the buffer list
        // outlives the call; `values`, `validity` and `failed` were sized above for `len` rows.
        // Long views are checked against `buffers` in the generated code before a byte is read.
        let rc = unsafe { (self.entry)(&args) };
        let count = usize::try_from(rc).map_err(|_| BadView)?;
        if count > len {
            return Err(BadView);
        }
        // SAFETY: the kernel wrote `count` (at most `len`, the capacity) row indices at the start
        // of `failed`'s allocation; `u32` has no invalid bit pattern.
        unsafe { failed.set_len(count) };

        // Failed rows on malformed lines do not count: the interpreter never selects them, so
        // they stay null (even under `else <literal>`) and raise nothing.
        if failed.iter().any(|&row| !keep_failed(row as usize)) {
            failed.retain(|&row| {
                let row = row as usize;
                let keep = keep_failed(row);
                if !keep && plan.fallback.is_some() {
                    validity[row / 64] &= !(1u64 << (row % 64));
                    values[row] = T::default();
                }
                keep
            });
        }

        let nulls = NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(validity), 0, len));
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        Ok(Typed { values: ScalarBuffer::from(values), nulls, failed })
    }
}
