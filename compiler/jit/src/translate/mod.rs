//! Cranelift code generation: one native function per compiled binding, a whole loop over a batch.
//!
//! [`FunctionTranslator`] has one `translate_<node>` method per IR node a kernel covers:
//! [`FunctionTranslator::translate_fallible`] emits the row loop and the failure handling,
//! [`FunctionTranslator::translate_column`] reads a row's bytes through its string view, the
//! parse calls are in [`parse`], specialised on their constant arguments (the unit, the format),
//! and code-table lookups in [`lookup`], as comparisons with the table's keys.
//!
//! The generated code never calls back into Rust. Per row it writes a value (only when the parse
//! succeeded or a fallback applies: the output is zeroed by the caller), one validity bit (packed
//! in a 64-bit word per chunk of 64 rows, stored after the chunk) and, for a failed row, its index.

mod lookup;
mod parse;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I8, I64};
use cranelift_codegen::ir::{AbiParam, Block, Endianness, Function, GlobalValue, InstBuilder, MemFlagsData, Value};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_codegen::packed_option::ReservedValue;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use etr_values::views::MAX_INLINE;

use crate::kernel::args;
use crate::plan::{KernelPlan, Output};

/// The symbol under which the generated code finds `etr_values::calendar::MONTHS` (a data
/// import: its address is resolved when the module is finalised, so the CLIF text names the
/// symbol, not an address that changes from run to run).
pub(crate) const MONTHS_SYMBOL: &str = "etr_months";

/// Builds the kernel for `plan` into `func`, whose signature is `(ptr) -> i64` ([`signature`]).
/// `months` is the month table's global value in `func`, declared for the date and month parses.
pub(crate) fn translate_kernel(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    plan: &KernelPlan,
    months: Option<GlobalValue>,
    config: TargetFrontendConfig,
) {
    let builder = FunctionBuilder::new(func, fctx);
    let mut translator = FunctionTranslator { b: builder, plan, args: Value::reserved_value(), months };
    translator.translate_fallible();
    translator.b.seal_all_blocks();
    translator.b.finalize(config);
}

/// The kernel signature: a pointer to `KernelArgs`, returning the failed-row count (or -1).
pub(crate) fn signature(sig: &mut cranelift_codegen::ir::Signature) {
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I64));
}

/// The state of one kernel's translation.
pub(crate) struct FunctionTranslator<'a> {
    b: FunctionBuilder<'a>,
    plan: &'a KernelPlan,
    /// The kernel's one parameter, the `KernelArgs` pointer (set in the entry block).
    args: Value,
    /// The month table ([`MONTHS_SYMBOL`]), in a kernel that parses dates.
    months: Option<GlobalValue>,
}

/// Loads of the kernel's inputs: never trap (every address is in bounds by construction), never
/// written while the kernel runs, little-endian as Arrow lays them out.
fn input() -> MemFlagsData {
    MemFlagsData::new().with_notrap().with_readonly().with_endianness(Endianness::Little)
}

/// Stores to the kernel's outputs.
fn output() -> MemFlagsData {
    MemFlagsData::new().with_notrap().with_endianness(Endianness::Little)
}

impl FunctionTranslator<'_> {
    /// `Fallible { Call { parse, [Column(c)] }, handler }` over every row: the function body.
    fn translate_fallible(&mut self) {
        let b = &mut self.b;
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        self.args = b.block_params(entry)[0];
        // The arguments used on every row are loaded once; the others where they are needed, so
        // that they do not hold registers across the loop.
        let views = self.arg(args::VIEWS);
        let len = self.arg(args::LEN);
        let nulls = self.arg(args::NULLS);
        let values = self.arg(args::VALUES);
        let b = &mut self.b;

        let row = b.declare_var(I64);
        let failed_count = b.declare_var(I64);
        let word = b.declare_var(I64);
        let zero = b.ins().iconst(I64, 0);
        b.def_var(row, zero);
        b.def_var(failed_count, zero);
        b.def_var(word, zero);

        let chunk = b.create_block();
        let header = b.create_block();
        let check_bit = b.create_block();
        let present = b.create_block();
        let row_ok = b.create_block();
        let row_failed = b.create_block();
        let row_null = b.create_block();
        let row_end = b.create_block();
        let valid = b.append_block_param(row_end, I64);
        let flush = b.create_block();
        let done = b.create_block();
        let bad_view = b.create_block();

        b.ins().brif(len, chunk, &[], done, &[]);

        // Rows go by chunks of 64, one validity word each, so that the row loop does not test
        // for a full word.
        b.switch_to_block(chunk);
        let first = b.use_var(row);
        let chunk_end = b.ins().iadd_imm_u(first, 64);
        let chunk_end = b.ins().umin(chunk_end, len);
        let zero = b.ins().iconst(I64, 0);
        b.def_var(word, zero);
        b.ins().jump(header, &[]);

        // One row: is the input null?
        b.switch_to_block(header);
        let i = b.use_var(row);
        b.ins().brif(nulls, check_bit, &[], present, &[]);
        b.switch_to_block(check_bit);
        let nulls_offset = self.arg(args::NULLS_OFFSET);
        let b = &mut self.b;
        let bit = b.ins().iadd(i, nulls_offset);
        let byte_index = b.ins().ushr_imm_u(bit, 3);
        let byte_addr = b.ins().iadd(nulls, byte_index);
        let byte = b.ins().uload8(I64, input(), byte_addr, 0);
        let shift = b.ins().band_imm_u(bit, 7);
        let shifted = b.ins().ushr(byte, shift);
        let is_valid = b.ins().band_imm_u(shifted, 1);
        b.ins().brif(is_valid, present, &[], row_null, &[]);

        // A non-null input: its bytes, then the parse.
        b.switch_to_block(present);
        let view_offset = b.ins().ishl_imm_u(i, 4);
        let view = b.ins().iadd(views, view_offset);
        let (ok, value) = self.translate_parse(view, bad_view);
        let b = &mut self.b;
        b.ins().brif(ok, row_ok, &[], row_failed, &[]);

        let value_addr = |b: &mut FunctionBuilder| {
            let scaled = match self.plan.parser.output() {
                Output::Int64 => b.ins().ishl_imm_u(i, 3),
                Output::Date32 | Output::UInt32 => b.ins().ishl_imm_u(i, 2),
            };
            b.ins().iadd(values, scaled)
        };
        let store_value = |b: &mut FunctionBuilder, value: Value| {
            let addr = value_addr(b);
            match self.plan.parser.output() {
                Output::Int64 => b.ins().store(output(), value, addr, 0),
                Output::Date32 | Output::UInt32 => b.ins().istore32(output(), value, addr, 0),
            };
        };

        b.switch_to_block(row_ok);
        store_value(b, value);
        let one = b.ins().iconst(I64, 1);
        b.ins().jump(row_end, &[one.into()]);

        // A failed row: its index goes to `failed`; the value is null or the fallback.
        b.switch_to_block(row_failed);
        let failed = self.arg(args::FAILED);
        let b = &mut self.b;
        let count = b.use_var(failed_count);
        let slot = b.ins().ishl_imm_u(count, 2);
        let slot_addr = b.ins().iadd(failed, slot);
        b.ins().istore32(output(), i, slot_addr, 0);
        let count = b.ins().iadd_imm_s(count, 1);
        b.def_var(failed_count, count);
        let fallback_valid = match self.plan.fallback {
            Some(fallback) => {
                let fallback = b.ins().iconst(I64, fallback);
                store_value(b, fallback);
                1
            }
            None => 0,
        };
        let fallback_valid = b.ins().iconst(I64, fallback_valid);
        b.ins().jump(row_end, &[fallback_valid.into()]);

        b.switch_to_block(row_null);
        let zero = b.ins().iconst(I64, 0);
        b.ins().jump(row_end, &[zero.into()]);

        // The validity bit, and the next row.
        b.switch_to_block(row_end);
        let bit = b.ins().ishl(valid, i);
        let w = b.use_var(word);
        let w = b.ins().bor(w, bit);
        b.def_var(word, w);
        let next = b.ins().iadd_imm_s(i, 1);
        b.def_var(row, next);
        let in_chunk = b.ins().icmp(IntCC::UnsignedLessThan, next, chunk_end);
        b.ins().brif(in_chunk, header, &[], flush, &[]);

        b.switch_to_block(flush);
        let validity = self.arg(args::VALIDITY);
        let b = &mut self.b;
        let word_index = b.ins().ushr_imm_u(i, 6);
        let word_offset = b.ins().ishl_imm_u(word_index, 3);
        let word_addr = b.ins().iadd(validity, word_offset);
        b.ins().store(output(), w, word_addr, 0);
        let more = b.ins().icmp(IntCC::UnsignedLessThan, next, len);
        b.ins().brif(more, chunk, &[], done, &[]);

        b.switch_to_block(done);
        let count = b.use_var(failed_count);
        b.ins().return_(&[count]);

        b.switch_to_block(bad_view);
        let minus_one = b.ins().iconst(I64, -1);
        b.ins().return_(&[minus_one]);
    }

    /// `Column(c)` at the row whose view is at `view`: the length of its bytes, then their
    /// address. Short strings are inside the view; a long one's buffer index and range are checked
    /// against the buffer list first, and a view that does not fit goes to `bad_view`.
    fn translate_column(&mut self, view: Value, len: Value, bad_view: Block) -> Value {
        let b = &mut self.b;
        let inline = b.create_block();
        let outline = b.create_block();
        let in_range = b.create_block();
        let data_ready = b.create_block();
        let data = b.append_block_param(data_ready, I64);

        let is_inline = b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, len, MAX_INLINE as i64);
        b.ins().brif(is_inline, inline, &[], outline, &[]);

        b.switch_to_block(inline);
        let inline_data = b.ins().iadd_imm_s(view, 4);
        b.ins().jump(data_ready, &[inline_data.into()]);

        b.switch_to_block(outline);
        let buffer_count = self.arg(args::BUFFER_COUNT);
        let b = &mut self.b;
        let buffer_index = b.ins().uload32(input(), view, 8);
        let offset = b.ins().uload32(input(), view, 12);
        let known = b.ins().icmp(IntCC::UnsignedLessThan, buffer_index, buffer_count);
        b.ins().brif(known, in_range, &[], bad_view, &[]);

        b.switch_to_block(in_range);
        let buffers = self.arg(args::BUFFERS);
        let b = &mut self.b;
        let entry_offset = b.ins().imul_imm_u(buffer_index, args::BUFFER_SIZE);
        let entry = b.ins().iadd(buffers, entry_offset);
        let base = b.ins().load(I64, input(), entry, args::BUFFER_PTR);
        let buffer_len = b.ins().load(I64, input(), entry, args::BUFFER_LEN);
        // Both are below 2^32, so the sum does not wrap.
        let end = b.ins().iadd(offset, len);
        let fits = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, buffer_len);
        let outline_data = b.ins().iadd(base, offset);
        b.ins().brif(fits, data_ready, &[outline_data.into()], bad_view, &[]);

        b.switch_to_block(data_ready);
        data
    }

    /// A field of `KernelArgs`, loaded in the current block.
    fn arg(&mut self, offset: i32) -> Value {
        self.b.ins().load(I64, input(), self.args, offset)
    }
}

/// Helpers shared by the parse translators.
impl FunctionTranslator<'_> {
    /// The byte at `ptr + offset` as a digit: (is a digit, as `I8` 0/1; its value, as `I64`).
    fn digit_at(&mut self, ptr: Value, offset: i32) -> (Value, Value) {
        let b = &mut self.b;
        let byte = b.ins().load(I8, input(), ptr, offset);
        let digit = b.ins().iadd_imm_s(byte, -i64::from(b'0'));
        let is_digit = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, digit, 10);
        let value = b.ins().uextend(I64, digit);
        (is_digit, value)
    }

    /// `a & b` of two `I8` flags.
    fn and(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().band(a, b)
    }

    /// A constant `I8` flag.
    fn flag(&mut self, value: bool) -> Value {
        self.b.ins().iconst(I8, i64::from(value))
    }
}
