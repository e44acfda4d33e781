//! Code-table lookups as native comparisons: `table[column]` with the table's keys and values
//! baked into the code (see [`LookupPlan`]).
//!
//! A row's view is two little-endian words: `low` holds the length (bits 0..32) and the first 4
//! bytes, `high` the next 8 bytes of a short text (at most 12 bytes) or the buffer index and
//! offset of a long one. Arrow does not promise zeroed padding after a short text, so the row's
//! words are masked to its length first; then a short key matches when both words are equal,
//! with no load from the data buffers. A long key (13 to 16 bytes) must match `low` (length and
//! prefix), then the words at bytes 4..12 and at the last 8 bytes of the row's text, read from its
//! buffer after the same bounds checks as every other long text (`translate_column`).
//!
//! The keys are compared one after the other, in the table's order: tables are small (the plan
//! takes at most 64 entries), and most rows match one of the first keys a contributor lists.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I8, I64};
use cranelift_codegen::ir::{Block, InstBuilder, Value};

use super::{FunctionTranslator, input};
use crate::plan::LookupPlan;

impl FunctionTranslator<'_> {
    /// `table[Column(c)]` on the non-null field whose view is at `view`: `(found, value)`.
    pub(super) fn translate_lookup(&mut self, view: Value, bad_view: Block, lookup: &LookupPlan) -> (Value, Value) {
        let b = &mut self.b;
        let merge = b.create_block();
        let found_out = b.append_block_param(merge, I8);
        let value_out = b.append_block_param(merge, I64);
        let not_found = b.create_block();
        let short = b.create_block();
        let long = b.create_block();

        let low = b.ins().load(I64, input(), view, 0);
        let high = b.ins().load(I64, input(), view, 8);
        let len = b.ins().band_imm_u(low, 0xffff_ffff);
        let is_short = b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, len, 12);
        b.ins().brif(is_short, short, &[], long, &[]);

        // Short texts: the canonical view (padding zeroed), compared whole.
        b.switch_to_block(short);
        let (short_low, short_high) = self.canonical_short_view(low, high, len);
        for &(key_low, key_high, value) in &lookup.short {
            let b = &mut self.b;
            let next = b.create_block();
            let low_eq = b.ins().icmp_imm_u(IntCC::Equal, short_low, key_low as i64);
            let high_eq = b.ins().icmp_imm_u(IntCC::Equal, short_high, key_high as i64);
            let eq = b.ins().band(low_eq, high_eq);
            self.found_if(eq, value, merge, next);
        }
        self.b.ins().jump(not_found, &[]);

        // Long texts: length and prefix from the view, the rest from the buffer.
        self.b.switch_to_block(long);
        if lookup.long.is_empty() {
            self.b.ins().jump(not_found, &[]);
        } else {
            let ptr = self.translate_column(view, len, bad_view);
            for &(key_low, key_middle, key_tail, value) in &lookup.long {
                let b = &mut self.b;
                let rest = b.create_block();
                let next = b.create_block();
                let head_eq = b.ins().icmp_imm_u(IntCC::Equal, low, key_low as i64);
                b.ins().brif(head_eq, rest, &[], next, &[]);
                // The length is the key's (13 to 16), checked against the buffer: both words lie
                // inside the text.
                b.switch_to_block(rest);
                let middle = b.ins().load(I64, input(), ptr, 4);
                let tail_at = b.ins().iadd(ptr, len);
                let tail = b.ins().load(I64, input(), tail_at, -8);
                let middle_eq = b.ins().icmp_imm_u(IntCC::Equal, middle, key_middle as i64);
                let tail_eq = b.ins().icmp_imm_u(IntCC::Equal, tail, key_tail as i64);
                let eq = b.ins().band(middle_eq, tail_eq);
                self.found_if(eq, value, merge, next);
            }
            self.b.ins().jump(not_found, &[]);
        }

        let b = &mut self.b;
        b.switch_to_block(not_found);
        let zero8 = b.ins().iconst(I8, 0);
        let zero = b.ins().iconst(I64, 0);
        b.ins().jump(merge, &[zero8.into(), zero.into()]);

        b.switch_to_block(merge);
        (found_out, value_out)
    }

    /// Jumps to `merge(1, value)` when `eq`, else to `next`, which becomes the current block.
    fn found_if(&mut self, eq: Value, value: i64, merge: Block, next: Block) {
        let b = &mut self.b;
        let one = b.ins().iconst(I8, 1);
        let value = b.ins().iconst(I64, value);
        b.ins().brif(eq, merge, &[one.into(), value.into()], next, &[]);
        b.switch_to_block(next);
    }

    /// The words of a short text's view with the bytes past its length zeroed: `low` keeps its
    /// `32 + 8 * len` low bits (all of them from 4 bytes on), `high` its `8 * (len - 4)` low bits
    /// (none up to 4 bytes, all at 12). Shift amounts stay below 64 where they are used.
    fn canonical_short_view(&mut self, low: Value, high: Value, len: Value) -> (Value, Value) {
        let b = &mut self.b;
        let one = b.ins().iconst(I64, 1);
        let all = b.ins().iconst(I64, -1);
        let none = b.ins().iconst(I64, 0);

        let low_bits = b.ins().imul_imm_u(len, 8);
        let low_bits = b.ins().iadd_imm_u(low_bits, 32);
        let low_partial = b.ins().ishl(one, low_bits);
        let low_partial = b.ins().isub(low_partial, one);
        let low_whole = b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, len, 4);
        let low_mask = b.ins().select(low_whole, all, low_partial);

        let high_len = b.ins().iadd_imm_s(len, -4);
        let high_bits = b.ins().imul_imm_u(high_len, 8);
        let high_partial = b.ins().ishl(one, high_bits);
        let high_partial = b.ins().isub(high_partial, one);
        let high_whole = b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, len, 12);
        let high_mask = b.ins().select(high_whole, all, high_partial);
        let high_empty = b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, len, 4);
        let high_mask = b.ins().select(high_empty, none, high_mask);

        let low = b.ins().band(low, low_mask);
        let high = b.ins().band(high, high_mask);
        (low, high)
    }
}
