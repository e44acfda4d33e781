//! The parse calls, specialised at compile time on their constant arguments.
//!
//! [`FunctionTranslator::translate_parse`] takes the view of a non-null field and leaves the
//! builder in a block where `(ok, value)` are known: `ok` an `I8` flag, `value` an `I64`
//! (meaningless when `ok` is 0). The accepted texts and the values are exactly those of the interpreter's
//! `kernels/parse.rs` and `kernels/date.rs`, which the differential tests hold them to:
//! - `parse_int`: `[+-]?[0-9]+`, fitting `i64`;
//! - `parse_money(sen)`: `-?[0-9]+`; `parse_money(ringgit)`: `-?[0-9]+(\.[0-9]{1,2})?`, in sen,
//!   fitting `i64`;
//! - `parse_date` / `parse_month`: the text has the format's fixed width, each field its digits
//!   and each literal its byte, the date is real (leap years included), time fields are in range.
//!
//! Numbers are read a byte at a time (with no overflow check at all up to 18 bytes); dates of at
//! most 12 bytes a word at a time from the view, longer ones a byte at a time from their buffer.
//! A date of the years 1900-2099 takes its month's first day and length from the month table the
//! interpreter reads too (`etr_values::calendar::MONTHS`, imported as the data symbol
//! `super::MONTHS_SYMBOL`: one load instead of the leap-year test and the day count); other years
//! take the arithmetic.
//!
//! Overflow without 128-bit arithmetic: while reading digits, an accumulator above
//! `BIG = (u64::MAX - 9) / 10` before a step means the number is at least `10 * (BIG + 1)`, above
//! every `i64` magnitude, so the parse fails whatever follows; below it, the step cannot wrap.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I8, I64};
use cranelift_codegen::ir::{Block, InstBuilder, Value};
use cranelift_frontend::FunctionBuilder;
use etr_ir::{DateItem, MoneyUnit};
use etr_values::calendar;
use etr_values::views::MAX_INLINE;

use super::{FunctionTranslator, input};
use crate::plan::{DateLayout, Parser};

/// Texts up to this long hold at most 18 digits, below `BIG`: no overflow check is needed.
const SHORT: i64 = 18;
/// Above this, one more digit may wrap a `u64` (and the number cannot fit `i64` any more).
const BIG: i64 = ((u64::MAX - 9) / 10) as i64;
/// Above this many whole ringgit the amount is more than 2^63 sen, so it fails whatever the sign;
/// at or below it, `whole * 100 + 99` does not wrap.
const MAX_RINGGIT: i64 = ((1u64 << 63) / 100) as i64;
/// Date formats up to this many bytes are read from the view (where Arrow inlines a text).
const INLINE: u32 = MAX_INLINE as u32;
/// The days from 0000-03-01 shifted by 400 years (see `translate_days_from_civil`) to 1970-01-01.
const EPOCH_SHIFT: i64 = 719_468 + 146_097;

/// How a number's sign may be written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sign {
    /// `-` or nothing (money).
    Minus,
    /// `+`, `-` or nothing (int).
    PlusOrMinus,
}

impl FunctionTranslator<'_> {
    /// `Call { parse, [Column(c)] }` on the non-null field whose view is at `view`.
    pub(super) fn translate_parse(&mut self, view: Value, bad_view: Block) -> (Value, Value) {
        let plan = self.plan;
        let integer = |this: &mut Self, sign, ringgit| {
            let len = this.b.ins().uload32(input(), view, 0);
            let ptr = this.translate_column(view, len, bad_view);
            this.translate_parse_integer(ptr, len, sign, ringgit)
        };
        match &plan.parser {
            Parser::Int => integer(self, Sign::PlusOrMinus, false),
            Parser::Money(MoneyUnit::Sen) => integer(self, Sign::Minus, false),
            Parser::Money(MoneyUnit::Ringgit) => integer(self, Sign::Minus, true),
            Parser::Date(layout) => self.translate_parse_date(view, bad_view, layout, false),
            Parser::Month(layout) => self.translate_parse_date(view, bad_view, layout, true),
            Parser::Lookup(lookup) => self.translate_lookup(view, bad_view, lookup),
        }
    }

    /// `parse_int`, `parse_money(sen)` and (with `ringgit`) `parse_money(ringgit)`.
    fn translate_parse_integer(&mut self, ptr: Value, len: Value, sign: Sign, ringgit: bool) -> (Value, Value) {
        let b = &mut self.b;
        let merge = b.create_block();
        let ok_out = b.append_block_param(merge, I8);
        let value_out = b.append_block_param(merge, I64);
        let nonempty = b.create_block();
        let short_digits = b.create_block();
        let short_pos = b.append_block_param(short_digits, I64);
        let short_acc = b.append_block_param(short_digits, I64);
        let short_check = b.create_block();
        let short_take = b.create_block();
        let digits = b.create_block();
        let pos = b.append_block_param(digits, I64);
        let acc = b.append_block_param(digits, I64);
        let big = b.append_block_param(digits, I8);
        let check = b.create_block();
        let take = b.create_block();
        let after = b.create_block();
        let end = b.append_block_param(after, I64);
        let whole = b.append_block_param(after, I64);
        let too_big = b.append_block_param(after, I8);
        let finish = b.create_block();
        let ok_fin = b.append_block_param(finish, I8);
        let magnitude = b.append_block_param(finish, I64);

        let zero8 = b.ins().iconst(I8, 0);
        let zero = b.ins().iconst(I64, 0);
        b.ins().brif(len, nonempty, &[], merge, &[zero8.into(), zero.into()]);

        // The sign.
        b.switch_to_block(nonempty);
        let first = b.ins().load(I8, input(), ptr, 0);
        let negative = b.ins().icmp_imm_u(IntCC::Equal, first, i64::from(b'-'));
        let signed = match sign {
            Sign::Minus => negative,
            Sign::PlusOrMinus => {
                let positive = b.ins().icmp_imm_u(IntCC::Equal, first, i64::from(b'+'));
                b.ins().bor(negative, positive)
            }
        };
        let start = b.ins().uextend(I64, signed);
        let zero8 = b.ins().iconst(I8, 0);
        let zero = b.ins().iconst(I64, 0);
        // Up to 18 digits cannot overflow: the common case reads them without the check.
        let short = b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, len, SHORT);
        b.ins().brif(
            short,
            short_digits,
            &[start.into(), zero.into()],
            digits,
            &[start.into(), zero.into(), zero8.into()],
        );

        b.switch_to_block(short_digits);
        let more = b.ins().icmp(IntCC::UnsignedLessThan, short_pos, len);
        let no_overflow = b.ins().iconst(I8, 0);
        b.ins().brif(more, short_check, &[], after, &[short_pos.into(), short_acc.into(), no_overflow.into()]);

        b.switch_to_block(short_check);
        let at = b.ins().iadd(ptr, short_pos);
        let (is_digit, digit) = self.digit_at(at, 0);
        let b = &mut self.b;
        b.ins().brif(is_digit, short_take, &[], after, &[short_pos.into(), short_acc.into(), no_overflow.into()]);

        b.switch_to_block(short_take);
        let tens = b.ins().imul_imm_u(short_acc, 10);
        let acc_next = b.ins().iadd(tens, digit);
        let pos_next = b.ins().iadd_imm_s(short_pos, 1);
        b.ins().jump(short_digits, &[pos_next.into(), acc_next.into()]);

        // The digits: `acc = acc * 10 + d` while the next byte is a digit.
        b.switch_to_block(digits);
        let more = b.ins().icmp(IntCC::UnsignedLessThan, pos, len);
        b.ins().brif(more, check, &[], after, &[pos.into(), acc.into(), big.into()]);

        b.switch_to_block(check);
        let at = b.ins().iadd(ptr, pos);
        let (is_digit, digit) = self.digit_at(at, 0);
        let b = &mut self.b;
        b.ins().brif(is_digit, take, &[], after, &[pos.into(), acc.into(), big.into()]);

        b.switch_to_block(take);
        let over = b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, acc, BIG);
        let big_next = b.ins().bor(big, over);
        let tens = b.ins().imul_imm_u(acc, 10);
        let acc_next = b.ins().iadd(tens, digit);
        let pos_next = b.ins().iadd_imm_s(pos, 1);
        b.ins().jump(digits, &[pos_next.into(), acc_next.into(), big_next.into()]);

        // At least one digit, no overflow.
        b.switch_to_block(after);
        let some_digits = b.ins().icmp(IntCC::NotEqual, end, start);
        let fits = b.ins().icmp_imm_u(IntCC::Equal, too_big, 0);
        let ok = b.ins().band(some_digits, fits);
        if ringgit {
            self.translate_sen_of_ringgit(ptr, len, end, whole, ok, finish, merge);
        } else {
            let b = &mut self.b;
            let consumed = b.ins().icmp(IntCC::Equal, end, len);
            let ok = b.ins().band(ok, consumed);
            b.ins().jump(finish, &[ok.into(), whole.into()]);
        }

        // The sign applied: a magnitude of 2^63 fits only negated.
        let b = &mut self.b;
        b.switch_to_block(finish);
        let max_positive = b.ins().iconst(I64, i64::MAX);
        let max_negative = b.ins().iconst(I64, i64::MIN);
        let limit = b.ins().select(negative, max_negative, max_positive);
        let in_range = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, magnitude, limit);
        let ok = b.ins().band(ok_fin, in_range);
        let negated = b.ins().ineg(magnitude);
        let value = b.ins().select(negative, negated, magnitude);
        b.ins().jump(merge, &[ok.into(), value.into()]);

        b.switch_to_block(merge);
        (ok_out, value_out)
    }

    /// The ringgit's tail after the whole part: nothing, or `.` and one or two digits; jumps to
    /// `finish(ok, sen)`, or to `merge(0, 0)` when the tail cannot match.
    #[expect(clippy::too_many_arguments, reason = "the blocks and values of the enclosing parse")]
    fn translate_sen_of_ringgit(
        &mut self,
        ptr: Value,
        len: Value,
        end: Value,
        whole: Value,
        ok: Value,
        finish: cranelift_codegen::ir::Block,
        merge: cranelift_codegen::ir::Block,
    ) {
        let b = &mut self.b;
        let fraction = b.create_block();
        let fraction_digits = b.create_block();
        let second_digit = b.create_block();

        let small = b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, whole, MAX_RINGGIT);
        let ok = b.ins().band(ok, small);
        let sen = b.ins().imul_imm_u(whole, 100);
        let rest = b.ins().isub(len, end);
        b.ins().brif(rest, fraction, &[], finish, &[ok.into(), sen.into()]);

        // `.d` or `.dd`: two or three bytes left.
        b.switch_to_block(fraction);
        let is_two = b.ins().icmp_imm_u(IntCC::Equal, rest, 2);
        let is_three = b.ins().icmp_imm_u(IntCC::Equal, rest, 3);
        let shaped = b.ins().bor(is_two, is_three);
        let zero8 = b.ins().iconst(I8, 0);
        let zero = b.ins().iconst(I64, 0);
        b.ins().brif(shaped, fraction_digits, &[], merge, &[zero8.into(), zero.into()]);

        b.switch_to_block(fraction_digits);
        let at = b.ins().iadd(ptr, end);
        let dot = b.ins().load(I8, input(), at, 0);
        let is_dot = b.ins().icmp_imm_u(IntCC::Equal, dot, i64::from(b'.'));
        let (is_digit, tenths) = self.digit_at(at, 1);
        let ok = self.and(ok, is_dot);
        let ok = self.and(ok, is_digit);
        let b = &mut self.b;
        let tenths = b.ins().imul_imm_u(tenths, 10);
        let sen = b.ins().iadd(sen, tenths);
        b.ins().brif(is_three, second_digit, &[], finish, &[ok.into(), sen.into()]);

        b.switch_to_block(second_digit);
        let (is_digit, hundredths) = self.digit_at(at, 2);
        let ok = self.and(ok, is_digit);
        let b = &mut self.b;
        let sen = b.ins().iadd(sen, hundredths);
        b.ins().jump(finish, &[ok.into(), sen.into()]);
    }

    /// `parse_date(format)` (or `parse_month` with `month`): once the length matched, straight-line
    /// code over the format's fixed layout, checking every digit and literal without branches.
    /// A format of at most 12 bytes is read from the view itself, a word at a time (SWAR, see
    /// [`FunctionTranslator::translate_date_words`]); a longer one byte by byte from its buffer.
    fn translate_parse_date(
        &mut self,
        view: Value,
        bad_view: Block,
        layout: &DateLayout,
        month: bool,
    ) -> (Value, Value) {
        if !layout.can_match {
            // A two-digit year, or a format that lacks a part: every non-null text fails.
            let ok = self.flag(false);
            let value = self.b.ins().iconst(I64, 0);
            return (ok, value);
        }
        let b = &mut self.b;
        let len = b.ins().uload32(input(), view, 0);
        let merge = b.create_block();
        let ok_out = b.append_block_param(merge, I8);
        let value_out = b.append_block_param(merge, I64);
        let body = b.create_block();
        let fits = b.ins().icmp_imm_u(IntCC::Equal, len, i64::from(layout.width));
        let zero8 = b.ins().iconst(I8, 0);
        let zero = b.ins().iconst(I64, 0);
        b.ins().brif(fits, body, &[], merge, &[zero8.into(), zero.into()]);

        self.b.switch_to_block(body);
        let fields = if layout.width <= INLINE {
            self.translate_date_words(view, layout)
        } else {
            let ptr = self.translate_column(view, len, bad_view);
            self.translate_date_bytes(ptr, layout)
        };
        let DateFields { ok, year, month: month_value, day } = fields;
        let (table, calendar) = (self.b.create_block(), self.b.create_block());
        let b = &mut self.b;
        // The years 1900-2099 take their month's first day and length from the month table; the
        // others (and a month out of 1-12) go through the calendar's arithmetic.
        let table_year = b.ins().iadd_imm_s(year, -i64::from(calendar::TABLE_FIRST_YEAR));
        let month_index = b.ins().iadd_imm_s(month_value, -1);
        let year_in = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, table_year, calendar::TABLE_YEARS as i64);
        let month_in = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, month_index, 12);
        let in_table = b.ins().band(year_in, month_in);
        b.ins().brif(in_table, table, &[], calendar, &[]);

        // The entry at `(year - 1900) * 12 + month - 1`: 8 bytes, the first day (`i32`) at 0 and
        // the length (`u32`) at 4 (`MonthStart` is `repr(C)`).
        b.switch_to_block(table);
        let months = self.months.expect("a date kernel declares the month table");
        let base = b.ins().symbol_value(I64, months);
        let index = b.ins().imul_imm_u(table_year, 12);
        let index = b.ins().iadd(index, month_index);
        let offset = b.ins().ishl_imm_u(index, 3);
        let entry = b.ins().iadd(base, offset);
        let first_day = b.ins().sload32(input(), entry, 0);
        let table_ok = match day {
            // A month's day, when the format has one, must still be a real day of that month.
            Some(day) => {
                let length = b.ins().uload32(input(), entry, 4);
                let day_index = b.ins().iadd_imm_s(day, -1);
                let day_ok = b.ins().icmp(IntCC::UnsignedLessThan, day_index, length);
                b.ins().band(ok, day_ok)
            }
            None => ok,
        };
        let table_value = match day {
            Some(day) if !month => {
                let day_index = b.ins().iadd_imm_s(day, -1);
                b.ins().iadd(first_day, day_index)
            }
            _ => first_day,
        };
        b.ins().jump(merge, &[table_ok.into(), table_value.into()]);

        // Without a day in the format only the month is checked (the first is always a real day).
        self.b.switch_to_block(calendar);
        let one = self.b.ins().iconst(I64, 1);
        let real = self.translate_is_valid_date(year, month_value, day);
        let calendar_ok = self.and(ok, real);
        let day_of_value = if month { one } else { day.unwrap_or(one) };
        let days = self.translate_days_from_civil(year, month_value, day_of_value);
        self.b.ins().jump(merge, &[calendar_ok.into(), days.into()]);

        self.b.switch_to_block(merge);
        (ok_out, value_out)
    }

    /// The fields of a date text of at most [`INLINE`] bytes, which Arrow keeps inside the view
    /// (bytes 4..16): two overlapping little-endian words, data bytes 0..8 and 4..12. Every
    /// field (at most 4 bytes) lies within one of them. Per word, with `0xF0`/`0x0F` masks on the
    /// digit bytes: a digit's high nibble is 3 and its low nibble plus 6 stays below 16 (no carry
    /// crosses a byte); a literal byte is itself. Then `t = v * 10 + (v >> 8)` holds in each byte
    /// the two-digit number starting there (at most 15 * 10 + 15: no carry either).
    fn translate_date_words(&mut self, view: Value, layout: &DateLayout) -> DateFields {
        let windows: &[u32] = if layout.width <= 8 { &[0] } else { &[0, 4] };
        let mut ok = self.flag(true);
        let mut pairs = Vec::with_capacity(windows.len());
        for &start in windows {
            let (mut high_mask, mut high_want, mut low_mask, mut low_add) = (0u64, 0u64, 0u64, 0u64);
            for &(offset, item) in &layout.items {
                let width = item.width() as u32;
                for k in offset..offset + width {
                    if k < start || k >= start + 8 {
                        continue;
                    }
                    let shift = 8 * (k - start);
                    match item {
                        DateItem::Literal(byte) => {
                            high_mask |= 0xFF << shift;
                            high_want |= u64::from(byte) << shift;
                        }
                        _ => {
                            high_mask |= 0xF0 << shift;
                            high_want |= 0x30 << shift;
                            low_mask |= 0x0F << shift;
                            low_add |= 0x06 << shift;
                        }
                    }
                }
            }
            let b = &mut self.b;
            let word = b.ins().load(I64, input(), view, 4 + start as i32);
            let high = b.ins().band_imm_u(word, high_mask as i64);
            let high_ok = b.ins().icmp_imm_u(IntCC::Equal, high, high_want as i64);
            let digits = b.ins().band_imm_u(word, low_mask as i64);
            let low = b.ins().iadd_imm_u(digits, low_add as i64);
            let low = b.ins().band_imm_u(low, (low_mask << 4) as i64);
            let low_ok = b.ins().icmp_imm_u(IntCC::Equal, low, 0);
            let word_ok = b.ins().band(high_ok, low_ok);
            let tens = b.ins().imul_imm_u(digits, 10);
            let next = b.ins().ushr_imm_u(digits, 8);
            let pair = b.ins().iadd(tens, next);
            ok = self.and(ok, word_ok);
            pairs.push((start, pair));
        }
        // The two-digit number at data byte `k` (`k + 1` in the same word).
        let pair_at = |this: &mut Self, k: u32, width: u32| {
            let &(start, word) = pairs
                .iter()
                .find(|(start, _)| *start <= k && k + width <= start + 8)
                .expect("every field of a format of at most 12 bytes fits one of the two words");
            let shifted = this.b.ins().ushr_imm_u(word, i64::from(8 * (k - start)));
            this.b.ins().band_imm_u(shifted, 0xFF)
        };
        let mut fields = DateFields { ok, year: None, month: None, day: None };
        for &(offset, item) in &layout.items {
            let value = match item {
                DateItem::Literal(_) | DateItem::Year2 => continue,
                DateItem::Year4 => {
                    let century = pair_at(self, offset, 4);
                    let rest = pair_at(self, offset + 2, 4 - 2);
                    let century = self.b.ins().imul_imm_u(century, 100);
                    self.b.ins().iadd(century, rest)
                }
                _ => pair_at(self, offset, 2),
            };
            self.set_date_field(&mut fields, item, value);
        }
        fields.finish()
    }

    /// The fields of a date text of more than [`INLINE`] bytes, from its buffer, byte by byte.
    fn translate_date_bytes(&mut self, ptr: Value, layout: &DateLayout) -> DateFields {
        let ok = self.flag(true);
        let mut fields = DateFields { ok, year: None, month: None, day: None };
        for &(offset, item) in &layout.items {
            let offset = offset as i32;
            if let DateItem::Literal(byte) = item {
                let b = &mut self.b;
                let found = b.ins().load(I8, input(), ptr, offset);
                let matches = b.ins().icmp_imm_u(IntCC::Equal, found, i64::from(byte));
                fields.ok = self.and(fields.ok, matches);
                continue;
            }
            let (all_digits, value) = self.translate_digits(ptr, offset, item.width() as i32);
            fields.ok = self.and(fields.ok, all_digits);
            self.set_date_field(&mut fields, item, value);
        }
        fields.finish()
    }

    /// Records a numeric item's value: the year, month or day, or a time field checked against
    /// its limit and dropped (the value is a date). A later item overrides an earlier one, as in
    /// the interpreter.
    fn set_date_field(&mut self, fields: &mut DateFields<Option<Value>>, item: DateItem, value: Value) {
        let limit = match item {
            DateItem::Year4 => {
                fields.year = Some(value);
                return;
            }
            DateItem::Month2 => {
                fields.month = Some(value);
                return;
            }
            DateItem::Day2 => {
                fields.day = Some(value);
                return;
            }
            DateItem::Hour2 => 23,
            DateItem::Minute2 => 59,
            DateItem::Second2 => 60,
            // `can_match` ruled out two-digit years; literals are not numbers.
            DateItem::Year2 | DateItem::Literal(_) => return,
        };
        let in_range = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, value, limit);
        fields.ok = self.and(fields.ok, in_range);
    }

    /// `width` digits at `ptr + offset`: (all digits, `I8`; their value, `I64`).
    fn translate_digits(&mut self, ptr: Value, offset: i32, width: i32) -> (Value, Value) {
        let (mut all, mut value) = self.digit_at(ptr, offset);
        for k in 1..width {
            let (is_digit, digit) = self.digit_at(ptr, offset + k);
            all = self.and(all, is_digit);
            let tens = self.b.ins().imul_imm_u(value, 10);
            value = self.b.ins().iadd(tens, digit);
        }
        (all, value)
    }

    /// `is_valid_date(year, month, day)`: a year from 1 (the interpreter's rule: Python's dates, and
    /// so the readers of our Parquet files, have no year 0), month 1-12, day 1 to the month's length
    /// (Gregorian leap years), or the month alone without a day. Branch-free, and safe on any input
    /// (no division).
    fn translate_is_valid_date(&mut self, year: Value, month: Value, day: Option<Value>) -> Value {
        let b = &mut self.b;
        // The year is four digits, never negative: year >= 1 is year != 0.
        let year_ok = b.ins().icmp_imm_u(IntCC::NotEqual, year, 0);
        let month_index = b.ins().iadd_imm_s(month, -1);
        let month_ok = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, month_index, 12);
        let month_ok = b.ins().band(year_ok, month_ok);
        let Some(day) = day else {
            return month_ok;
        };
        // Leap: divisible by 4 and not by 100, or by 400 (by 100, and the century by 4).
        let by4 = b.ins().band_imm_u(year, 3);
        let by4 = b.ins().icmp_imm_u(IntCC::Equal, by4, 0);
        let century = udiv100(b, year);
        let whole_centuries = b.ins().imul_imm_u(century, 100);
        let by100 = b.ins().icmp(IntCC::Equal, year, whole_centuries);
        let not_by100 = b.ins().icmp(IntCC::NotEqual, year, whole_centuries);
        let century_by4 = b.ins().band_imm_u(century, 3);
        let century_by4 = b.ins().icmp_imm_u(IntCC::Equal, century_by4, 0);
        let by400 = b.ins().band(by100, century_by4);
        let leap = b.ins().band(by4, not_by100);
        let leap = b.ins().bor(leap, by400);
        let leap = b.ins().uextend(I64, leap);
        // February: 28 + leap; otherwise 30 + ((m + m / 8) & 1) (31 for Jan, Mar, May, Jul, Aug,
        // Oct, Dec).
        let february_len = b.ins().iadd_imm_u(leap, 28);
        let eighth = b.ins().ushr_imm_u(month, 3);
        let odd = b.ins().iadd(month, eighth);
        let odd = b.ins().band_imm_u(odd, 1);
        let other_len = b.ins().iadd_imm_u(odd, 30);
        let is_february = b.ins().icmp_imm_u(IntCC::Equal, month, 2);
        let month_len = b.ins().select(is_february, february_len, other_len);
        let day_index = b.ins().iadd_imm_s(day, -1);
        let day_ok = b.ins().icmp(IntCC::UnsignedLessThan, day_index, month_len);
        b.ins().band(month_ok, day_ok)
    }

    /// Howard Hinnant's `days_from_civil` for years 0-9999, as the interpreter computes it. The
    /// year is shifted by 400 (one era, 146097 days) so that it stays positive in March-based
    /// years, and the divisions are multiply-shifts exact over the ranges they see.
    fn translate_days_from_civil(&mut self, year: Value, month: Value, day: Value) -> Value {
        let b = &mut self.b;
        let early = b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, month, 2);
        let early = b.ins().uextend(I64, early);
        let y = b.ins().isub(year, early);
        let y = b.ins().iadd_imm_u(y, 400);
        let centuries = udiv100(b, y);
        let era = b.ins().ushr_imm_u(centuries, 2);
        let era_years = b.ins().imul_imm_u(era, 400);
        let yoe = b.ins().isub(y, era_years);
        let late = b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, month, 2);
        let from_march = b.ins().iadd_imm_s(month, -3);
        let to_next_year = b.ins().iadd_imm_u(month, 9);
        let mp = b.ins().select(late, from_march, to_next_year);
        let doy = b.ins().imul_imm_u(mp, 153);
        let doy = b.ins().iadd_imm_u(doy, 2);
        let doy = udiv5(b, doy);
        let doy = b.ins().iadd(doy, day);
        let doy = b.ins().iadd_imm_s(doy, -1);
        let doe = b.ins().imul_imm_u(yoe, 365);
        let leap_days = b.ins().ushr_imm_u(yoe, 2);
        let doe = b.ins().iadd(doe, leap_days);
        let yoe_centuries = udiv100(b, yoe);
        let doe = b.ins().isub(doe, yoe_centuries);
        let doe = b.ins().iadd(doe, doy);
        let era_days = b.ins().imul_imm_u(era, 146_097);
        let days = b.ins().iadd(era_days, doe);
        b.ins().iadd_imm_s(days, -EPOCH_SHIFT)
    }
}

/// `x / 100` for `x < 43_699` (years with their era shift stay below 10_400).
fn udiv100(b: &mut FunctionBuilder, x: Value) -> Value {
    let scaled = b.ins().imul_imm_u(x, DIV100.0);
    b.ins().ushr_imm_u(scaled, DIV100.1)
}

/// `x / 5` for `x < 65_536` (day-of-year numerators stay below 1_700; on a bad text, below 27_000).
fn udiv5(b: &mut FunctionBuilder, x: Value) -> Value {
    let scaled = b.ins().imul_imm_u(x, DIV5.0);
    b.ins().ushr_imm_u(scaled, DIV5.1)
}

/// Multiply-shift pairs for the divisions by constants (checked exhaustively by the tests below).
const DIV100: (i64, i64) = (5243, 19);
const DIV5: (i64, i64) = (52_429, 18);

/// The fields a date format read, and whether every byte was as the format says.
struct DateFields<T = Value> {
    ok: Value,
    year: T,
    month: T,
    day: Option<Value>,
}

impl DateFields<Option<Value>> {
    fn finish(self) -> DateFields {
        let (Some(year), Some(month)) = (self.year, self.month) else {
            unreachable!("`can_match` implies a year and a month")
        };
        DateFields { ok: self.ok, year, month, day: self.day }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiply_shift_divisions_are_exact_over_their_ranges() {
        for x in 0..43_699i64 {
            assert_eq!((x * DIV100.0) >> DIV100.1, x / 100, "{x} / 100");
        }
        for x in 0..65_536i64 {
            assert_eq!((x * DIV5.0) >> DIV5.1, x / 5, "{x} / 5");
        }
    }
}
