//! The date and money text formats shared by the parse kernels, `format_date` and violation
//! rendering, and the kernels of the date functions (the IR's `BuiltinFamily::Date`, [`call`]).
//!
//! The calendar they compute with (day counts to dates and back, and the month table the JIT's
//! parses read too) is `etr_values::calendar`.

use arrow::array::{Array, Date32Array, Int64Array, StringViewArray};
use etr_ir::{Builtin, DateItem};
use etr_values::calendar::{civil_from_days, days_from_civil, first_of_month, is_valid_date, month_entry};
use etr_values::views::TextBuilder;

use crate::error::InterpError;
use crate::kernels::Call;
use crate::value::{Column, Datum, Scalar};

/// The date functions.
pub(crate) fn call(call: &Call<'_>) -> Result<Datum, InterpError> {
    let column = match call.function {
        // One value for the whole run, whatever the rows.
        Builtin::RunDate => return Ok(Datum::Scalar(call.interp.run_date().map_or(Scalar::Null, Scalar::Date))),
        Builtin::AddDays => Column::Date(add_days(&call.date(0)?, &call.int(1)?)),
        Builtin::FormatDate(format) => Column::Text(format_date_column(&call.date(0)?, &format.items)),
        Builtin::MonthOf => Column::Date(call.date(0)?.unary_opt(first_of_month)),
        _ => return Err(call.not_in("date")),
    };
    Ok(call.finish(column))
}

/// `add_days`: null when either side is, or when the result leaves `Date32`'s range.
fn add_days(dates: &Date32Array, days: &Int64Array) -> Date32Array {
    dates
        .iter()
        .zip(days.iter())
        .map(|(date, days)| match (date, days) {
            (Some(date), Some(days)) => (date as i64).checked_add(days).and_then(|v| i32::try_from(v).ok()),
            _ => None,
        })
        .collect()
}

/// `format_date` over a column: a text of at most 12 bytes is written straight into its view.
fn format_date_column(input: &Date32Array, items: &[DateItem]) -> StringViewArray {
    let mut out = TextBuilder::new(input.len());
    let mut scratch = Vec::new();
    let inline_len = inline_format_len(items);
    for i in 0..input.len() {
        if input.is_null(i) {
            out.push_null();
        } else if let Some(view) = inline_len.and_then(|len| format_date_view(input.value(i), items, len)) {
            out.push_view(view);
        } else {
            scratch.clear();
            format_date(input.value(i), items, &mut scratch);
            match std::str::from_utf8(&scratch) {
                Ok(text) => out.push_str(text),
                Err(_) => out.push_str(&String::from_utf8_lossy(&scratch)),
            }
        }
    }
    out.finish()
}

/// The fields a date format read, before validation.
struct DateParts {
    year: Option<i64>,
    month: Option<u32>,
    day: Option<u32>,
}

#[inline]
fn digits(text: &[u8], pos: usize, width: usize) -> Option<u32> {
    let field = text.get(pos..pos + width)?;
    let mut value = 0u32;
    for &b in field {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + (b - b'0') as u32;
    }
    Some(value)
}

/// Reads `text` with `items`: every item fixed width, the whole text consumed. A two-digit year
/// does not parse (it needs a pivot, which v1 does not have).
fn read_parts(text: &[u8], items: &[DateItem]) -> Option<DateParts> {
    let mut parts = DateParts { year: None, month: None, day: None };
    let mut pos = 0;
    for item in items {
        match *item {
            DateItem::Year4 => {
                parts.year = Some(digits(text, pos, 4)? as i64);
                pos += 4;
            }
            DateItem::Month2 => {
                parts.month = Some(digits(text, pos, 2)?);
                pos += 2;
            }
            DateItem::Day2 => {
                parts.day = Some(digits(text, pos, 2)?);
                pos += 2;
            }
            DateItem::Year2 => return None,
            // Time parts are checked and dropped: the value is a date.
            DateItem::Hour2 | DateItem::Minute2 | DateItem::Second2 => {
                let value = digits(text, pos, 2)?;
                let limit = match *item {
                    DateItem::Hour2 => 23,
                    DateItem::Minute2 => 59,
                    _ => 60,
                };
                if value > limit {
                    return None;
                }
                pos += 2;
            }
            DateItem::Literal(b) => {
                if text.get(pos) != Some(&b) {
                    return None;
                }
                pos += 1;
            }
        }
    }
    (pos == text.len()).then_some(parts)
}

/// `parse_date`: the day count of `text` read with `items`, when it is a real calendar date.
pub(crate) fn parse_date(text: &[u8], items: &[DateItem]) -> Option<i32> {
    let parts = read_parts(text, items)?;
    let (year, month, day) = (parts.year?, parts.month?, parts.day?);
    if !is_valid_date(year, month, day) {
        return None;
    }
    days_from_civil(year, month, day)
}

/// A date format of fixed-width fields only, `%Y`, `%m` and `%d` once each plus literal bytes,
/// at most 12 bytes long: `%d/%m/%Y`, `%Y-%m-%d`, `%Y%m%d`. Every text it reads fits inside an
/// Arrow view, and [`FixedDate::parse`] reads the fields at their known offsets where
/// [`parse_date`] walks the format's items for every value.
/// Both give the same result for every text (tested below).
pub(crate) struct FixedDate {
    len: usize,
    year: usize,
    month: usize,
    /// Absent only in a month format ([`FixedDate::of_month`]).
    day: Option<usize>,
    /// `(offset, byte)` of each literal, the first `literal_count` of them.
    literals: [(usize, u8); MAX_FIXED_LEN],
    literal_count: usize,
}

const MAX_FIXED_LEN: usize = 12;

impl FixedDate {
    /// The fixed layout of `items`, or `None` when the format has another item (a time, a
    /// two-digit year), lacks or repeats a field, or is longer than 12 bytes.
    pub(crate) fn of(items: &[DateItem]) -> Option<FixedDate> {
        Self::of_month(items).filter(|layout| layout.day.is_some())
    }

    /// [`FixedDate::of`] for `parse_month`, whose format may lack the day.
    pub(crate) fn of_month(items: &[DateItem]) -> Option<FixedDate> {
        let (mut year, mut month, mut day) = (None, None, None);
        let mut literals = [(0, 0); MAX_FIXED_LEN];
        let mut literal_count = 0;
        let mut pos = 0;
        for &item in items {
            let field = match item {
                DateItem::Year4 => Some(&mut year),
                DateItem::Month2 => Some(&mut month),
                DateItem::Day2 => Some(&mut day),
                DateItem::Literal(byte) => {
                    *literals.get_mut(literal_count)? = (pos, byte);
                    literal_count += 1;
                    None
                }
                DateItem::Year2 | DateItem::Hour2 | DateItem::Minute2 | DateItem::Second2 => return None,
            };
            if field.is_some_and(|field| field.replace(pos).is_some()) {
                return None;
            }
            pos += item.width();
        }
        (pos <= MAX_FIXED_LEN).then_some(FixedDate {
            len: pos,
            year: year?,
            month: month?,
            day,
            literals,
            literal_count,
        })
    }

    /// What [`parse_date`] gives for `text` with this format's items.
    #[inline(always)]
    pub(crate) fn parse(&self, text: &[u8]) -> Option<i32> {
        self.day?;
        let (year, month, day) = self.read(text)?;
        day_of(year, month, day, day)
    }

    /// What [`parse_month`] gives for `text` with this format's items.
    #[inline(always)]
    pub(crate) fn parse_month(&self, text: &[u8]) -> Option<i32> {
        let (year, month, day) = self.read(text)?;
        day_of(year, month, day, 1)
    }

    /// The year, month and day (1 without a day in the format) of a text with the format's
    /// length, literals and digits.
    #[inline(always)]
    fn read(&self, text: &[u8]) -> Option<(u32, u32, u32)> {
        if text.len() != self.len {
            return None;
        }
        let mut bad = false;
        for &(pos, byte) in &self.literals[..self.literal_count] {
            bad |= text[pos] != byte;
        }
        let mut number = |pos: usize, width: usize| {
            text[pos..pos + width].iter().fold(0u32, |value, &b| {
                let digit = b.wrapping_sub(b'0');
                bad |= digit > 9;
                value * 10 + u32::from(digit)
            })
        };
        let (year, month) = (number(self.year, 4), number(self.month, 2));
        let day = self.day.map_or(1, |at| number(at, 2));
        (!bad).then_some((year, month, day))
    }
}

/// The day `value_day` of the month, once `day` is checked to be a real day of it (the date a
/// format reads is `day`; a month format's value is the month's first day). The years a credit
/// file's dates fall in take the month from a table; the others the calendar's arithmetic.
#[inline(always)]
fn day_of(year: u32, month: u32, day: u32, value_day: u32) -> Option<i32> {
    if let Some((first, length)) = month_entry(year, month) {
        return (day >= 1 && day <= length).then(|| first + value_day as i32 - 1);
    }
    if !is_valid_date(i64::from(year), month, day) {
        return None;
    }
    days_from_civil(i64::from(year), month, value_day)
}

/// `parse_month`: the first day of the month `text` names. A day in the format must still be a
/// real day of that month.
pub(crate) fn parse_month(text: &[u8], items: &[DateItem]) -> Option<i32> {
    let parts = read_parts(text, items)?;
    let (year, month) = (parts.year?, parts.month?);
    if !is_valid_date(year, month, parts.day.unwrap_or(1)) {
        return None;
    }
    days_from_civil(year, month, 1)
}

/// Appends `days` formatted with `items` to `out`, as bytes: a literal of the pattern is one byte
/// of its UTF-8, so a pattern's non-ASCII char comes out whole once all its bytes are written.
pub(crate) fn format_date(days: i32, items: &[DateItem], out: &mut Vec<u8>) {
    let (year, month, day) = civil_from_days(days);
    let two = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&[b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]);
    for item in items {
        match *item {
            DateItem::Year4 if (0..=9999).contains(&year) => {
                two(out, (year / 100) as u32);
                two(out, (year % 100) as u32);
            }
            // Years outside 0..=9999 do not fit four digits: written in full (Date32 allows them).
            DateItem::Year4 => out.extend_from_slice(year.to_string().as_bytes()),
            DateItem::Year2 => two(out, year.rem_euclid(100) as u32),
            DateItem::Month2 => two(out, month),
            DateItem::Day2 => two(out, day),
            DateItem::Hour2 | DateItem::Minute2 | DateItem::Second2 => two(out, 0),
            DateItem::Literal(b) => out.push(b),
        }
    }
}

/// The length of every text `items` formats a date of the years 0-9999 into, when that is at
/// most 12 bytes (a text inside its Arrow view) and every literal is ASCII; `None` otherwise.
pub(crate) fn inline_format_len(items: &[DateItem]) -> Option<usize> {
    if items.iter().any(|item| matches!(item, DateItem::Literal(b) if !b.is_ascii())) {
        return None;
    }
    let len = items.iter().map(|item| item.width()).sum();
    (len <= 12).then_some(len)
}

/// The inline Arrow view of `days` formatted with `items`, whose texts are `len` bytes
/// ([`inline_format_len`]): written in place, where [`format_date`] appends to a buffer that is
/// then copied into a view. `None` for a year outside 0-9999 (not four digits).
#[inline]
pub(crate) fn format_date_view(days: i32, items: &[DateItem], len: usize) -> Option<u128> {
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let year = year as u32;
    let mut raw = [0u8; 16];
    raw[..4].copy_from_slice(&(len as u32).to_le_bytes());
    let mut at = 4;
    let two = |raw: &mut [u8; 16], at: &mut usize, v: u32| {
        raw[*at] = b'0' + (v / 10 % 10) as u8;
        raw[*at + 1] = b'0' + (v % 10) as u8;
        *at += 2;
    };
    for item in items {
        match *item {
            DateItem::Year4 => {
                two(&mut raw, &mut at, year / 100);
                two(&mut raw, &mut at, year % 100);
            }
            DateItem::Year2 => two(&mut raw, &mut at, year % 100),
            DateItem::Month2 => two(&mut raw, &mut at, month),
            DateItem::Day2 => two(&mut raw, &mut at, day),
            DateItem::Hour2 | DateItem::Minute2 | DateItem::Second2 => two(&mut raw, &mut at, 0),
            DateItem::Literal(b) => {
                raw[at] = b;
                at += 1;
            }
        }
    }
    Some(u128::from_le_bytes(raw))
}

/// Money in sen as ringgit text with two decimals: `123.45`, `-0.50`.
pub(crate) fn format_money(sen: i64) -> String {
    let sign = if sen < 0 { "-" } else { "" };
    let abs = sen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_parts_are_checked_and_dropped() {
        let items = [
            DateItem::Year4,
            DateItem::Literal(b'-'),
            DateItem::Month2,
            DateItem::Literal(b'-'),
            DateItem::Day2,
            DateItem::Literal(b'T'),
            DateItem::Hour2,
            DateItem::Literal(b':'),
            DateItem::Minute2,
            DateItem::Literal(b':'),
            DateItem::Second2,
        ];
        let day = parse_date(b"2001-01-01T12:00:01", &items);
        assert_eq!(day, parse_date(b"2001-01-01T00:00:00", &items));
        assert!(day.is_some());
        assert_eq!(parse_date(b"2001-01-01T24:00:00", &items), None);
        assert_eq!(parse_date(b"2001-01-01T23:60:00", &items), None);
        assert!(parse_date(b"2001-01-01T23:59:60", &items).is_some());
    }

    use super::*;

    const DMY: &[DateItem] =
        &[DateItem::Day2, DateItem::Literal(b'/'), DateItem::Month2, DateItem::Literal(b'/'), DateItem::Year4];

    #[test]
    fn fixed_dates_read_what_the_items_read() {
        let formats: [&[DateItem]; 4] = [
            DMY,
            &[DateItem::Year4, DateItem::Literal(b'-'), DateItem::Month2, DateItem::Literal(b'-'), DateItem::Day2],
            &[DateItem::Year4, DateItem::Month2, DateItem::Day2],
            &[DateItem::Month2, DateItem::Day2, DateItem::Literal(b'.'), DateItem::Year4, DateItem::Literal(b'!')],
        ];
        // Texts around every edge: real and unreal days, leap years, wrong literals, non-digits,
        // short and long texts, the year 0000.
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for (y, m, d) in [(2024, 2, 29), (2023, 2, 29), (1900, 2, 29), (2000, 2, 29), (0, 1, 1), (9999, 12, 31)] {
            for (m, d) in [(m, d), (m, 0), (13, d), (0, d), (4, 31), (12, 32)] {
                for format in formats {
                    let mut text = Vec::new();
                    for item in format {
                        match item {
                            DateItem::Year4 => text.extend(format!("{y:04}").bytes()),
                            DateItem::Month2 => text.extend(format!("{m:02}").bytes()),
                            DateItem::Day2 => text.extend(format!("{d:02}").bytes()),
                            DateItem::Literal(b) => text.push(*b),
                            _ => {}
                        }
                    }
                    for at in 0..text.len() {
                        for byte in [b'/', b'0', b'9', b'a', b' ', b':', 0xFF] {
                            let mut changed = text.clone();
                            changed[at] = byte;
                            texts.push(changed);
                        }
                    }
                    texts.push(text[1..].to_vec());
                    texts.push([text.as_slice(), b"1"].concat());
                    texts.push(text);
                }
            }
        }
        texts.push(Vec::new());
        // Every day around the table's years, each format's way.
        for days in -25_600..47_600 {
            let (y, m, d) = civil_from_days(days);
            texts.push(format!("{d:02}/{m:02}/{y:04}").into_bytes());
            texts.push(format!("{y:04}-{m:02}-{d:02}").into_bytes());
            texts.push(format!("{y:04}{m:02}{d:02}").into_bytes());
        }
        for format in formats {
            let fixed = FixedDate::of(format).expect("a fixed format");
            for text in &texts {
                assert_eq!(fixed.parse(text), parse_date(text, format), "{:?}", String::from_utf8_lossy(text));
                assert_eq!(fixed.parse_month(text), parse_month(text, format), "{:?}", String::from_utf8_lossy(text));
            }
        }
        // Month formats, without a day: every month around the table's years, and mangled ones.
        let month_formats: [&[DateItem]; 2] =
            [&[DateItem::Year4, DateItem::Month2], &[DateItem::Month2, DateItem::Literal(b'/'), DateItem::Year4]];
        for format in month_formats {
            let fixed = FixedDate::of_month(format).expect("a fixed month format");
            assert!(FixedDate::of(format).is_none(), "a date format needs a day");
            for year in [0, 1, 1899, 1900, 1999, 2000, 2024, 2099, 2100, 9999] {
                for month in 0..=13 {
                    let text = if format.len() == 2 {
                        format!("{year:04}{month:02}")
                    } else {
                        format!("{month:02}/{year:04}")
                    };
                    let mut variants = vec![text.clone().into_bytes()];
                    for at in 0..text.len() {
                        let mut changed = text.clone().into_bytes();
                        changed[at] = b'x';
                        variants.push(changed);
                    }
                    for text in variants {
                        assert_eq!(
                            fixed.parse_month(&text),
                            parse_month(&text, format),
                            "{:?}",
                            String::from_utf8_lossy(&text)
                        );
                    }
                }
            }
        }
        let not_fixed: [&[DateItem]; 4] = [
            &[DateItem::Year2, DateItem::Month2, DateItem::Day2],
            &[DateItem::Year4, DateItem::Month2, DateItem::Day2, DateItem::Hour2],
            &[DateItem::Year4, DateItem::Month2],
            &[DateItem::Year4, DateItem::Month2, DateItem::Day2, DateItem::Day2],
        ];
        for format in not_fixed {
            assert!(FixedDate::of(format).is_none(), "{format:?}");
        }
    }

    #[test]
    fn inline_formats_write_what_format_date_writes() {
        let formats: [&[DateItem]; 4] = [
            DMY,
            &[DateItem::Year2, DateItem::Month2, DateItem::Day2],
            &[DateItem::Year4, DateItem::Literal(b'-'), DateItem::Month2, DateItem::Hour2],
            &[DateItem::Day2, DateItem::Literal(b'.'), DateItem::Month2, DateItem::Literal(b'.'), DateItem::Year4],
        ];
        for format in formats {
            let len = inline_format_len(format).expect("an inline format");
            for days in (-800_000..3_000_000).step_by(13) {
                let mut text = Vec::new();
                format_date(days, format, &mut text);
                let view = format_date_view(days, format, len);
                let (year, _, _) = civil_from_days(days);
                if (0..=9999).contains(&year) {
                    let view = view.expect("a four-digit year");
                    assert_eq!(text.len(), len);
                    assert_eq!(view, etr_values::views::inline_view(&text), "{days}");
                } else {
                    assert_eq!(view, None, "{days}");
                }
            }
        }
        let long =
            [DateItem::Year4, DateItem::Literal(b'-'), DateItem::Month2, DateItem::Literal(b'-'), DateItem::Day2];
        assert_eq!(inline_format_len(&[&long[..], &[DateItem::Literal(b'T'), DateItem::Hour2]].concat()), None);
        assert_eq!(inline_format_len(&[DateItem::Literal(0xC3), DateItem::Literal(0xA9)]), None);
    }

    #[test]
    fn parse_date_cases() {
        type Ymd = (i64, u32, u32);
        let cases: &[(&str, Option<Ymd>)] = &[
            ("01/01/1970", Some((1970, 1, 1))),
            ("29/02/2000", Some((2000, 2, 29))),
            ("29/02/2024", Some((2024, 2, 29))),
            ("29/02/1900", None),
            ("29/02/2025", None),
            ("31/02/2025", None),
            ("31/04/2025", None),
            ("31/12/2025", Some((2025, 12, 31))),
            ("00/01/2025", None),
            ("01/13/2025", None),
            ("01/00/2025", None),
            ("1/01/2025", None),
            ("01/01/25", None),
            ("01/01/20250", None),
            ("01-01-2025", None),
            (" 01/01/2025", None),
            ("01/01/2025 ", None),
            ("", None),
            ("０1/01/2025", None),
            ("01/01/0000", None),
            ("29/02/0000", None),
            ("01/01/0001", Some((1, 1, 1))),
            ("31/12/9999", Some((9999, 12, 31))),
        ];
        for (text, want) in cases {
            let want = want.and_then(|(y, m, d)| days_from_civil(y, m, d));
            assert_eq!(parse_date(text.as_bytes(), DMY), want, "{text:?}");
        }
    }

    #[test]
    fn parse_month_is_first_day() {
        let ym = &[DateItem::Year4, DateItem::Month2];
        assert_eq!(parse_month(b"202506", ym), days_from_civil(2025, 6, 1));
        assert_eq!(parse_month(b"202513", ym), None);
        assert_eq!(parse_month(b"2025-6", ym), None);
        assert_eq!(parse_month(b"20250", ym), None);
        assert_eq!(parse_month(b"000001", ym), None, "year 0");
        assert_eq!(parse_month(b"000101", ym), days_from_civil(1, 1, 1));
    }

    /// The fixed-width readers agree with the item walkers on year 0: not a date, not a month.
    #[test]
    fn year_zero_is_neither_a_date_nor_a_month() {
        let fixed = FixedDate::of(DMY).expect("fixed");
        assert_eq!(fixed.parse(b"01/01/0000"), None);
        assert_eq!(fixed.parse_month(b"01/01/0000"), None);
        assert_eq!(fixed.parse(b"01/01/0001"), days_from_civil(1, 1, 1));
        let ym = &[DateItem::Year4, DateItem::Month2];
        assert_eq!(FixedDate::of_month(ym).expect("fixed").parse_month(b"000012"), None);
    }

    #[test]
    fn format_date_items() {
        let mut out = Vec::new();
        let days = days_from_civil(2003, 11, 10).unwrap_or_default();
        format_date(days, &[DateItem::Year2, DateItem::Month2, DateItem::Day2], &mut out);
        assert_eq!(out, b"031110");
        out.clear();
        format_date(days, DMY, &mut out);
        assert_eq!(out, b"10/11/2003");
        out.clear();
        format_date(days_from_civil(-5, 1, 2).unwrap_or_default(), DMY, &mut out);
        assert_eq!(out, b"02/01/-5");
    }

    #[test]
    fn money_text() {
        let cases = [(12345, "123.45"), (-50, "-0.50"), (0, "0.00"), (5, "0.05"), (-5, "-0.05"), (100, "1.00")];
        for (sen, want) in cases {
            assert_eq!(format_money(sen), want);
        }
        assert_eq!(format_money(i64::MIN), "-92233720368547758.08");
    }
}
