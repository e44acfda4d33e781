//! The parses (the IR's `BuiltinFamily::Parse`): their column kernels, and the text parsers
//! behind `parse_int`, `parse_money` and `parse_number`, one value at a time (dates and months
//! are read by `date.rs`).
//!
//! The value-level parsers are the only definition of what these functions accept: the column
//! kernels, the header and trailer fields, and the JIT's reference tests all call them.

use arrow::array::StringViewArray;
use etr_ir::{Builtin, DateItem, MoneyUnit};

use crate::error::InterpError;
use crate::kernels::text::{fallible, map_prim, map_prim_inline};
use crate::kernels::{Call, Fallible, date};
use crate::value::Datum;

/// A parse outside a `Fallible` node: a failed row is simply null.
pub(crate) fn call(call: &Call<'_>) -> Result<Datum, InterpError> {
    Ok(call.finish(parse(call.function, &call.text(0)?)?.values))
}

/// A parse of a text column: its values (null where it failed) and the rows where it failed.
pub(crate) fn parse(function: &Builtin, input: &StringViewArray) -> Result<Fallible, InterpError> {
    Ok(match function {
        Builtin::ParseInt => fallible::<i64>(map_prim_inline(input, parse_int_short, parse_int)),
        Builtin::ParseNumber => fallible::<f64>(map_prim(input, parse_number)),
        Builtin::ParseMoney(unit) => money_column(input, *unit),
        Builtin::ParseDate(format) => date_column(input, &format.items),
        Builtin::ParseMonth(format) => month_column(input, &format.items),
        other => return Err(InterpError::internal(format!("{other:?} is not fallible"))),
    })
}

fn money_column(input: &StringViewArray, unit: MoneyUnit) -> Fallible {
    let general = |s: &str| parse_money(s, unit);
    fallible::<i64>(match unit {
        MoneyUnit::Ringgit => map_prim_inline(input, parse_ringgit_short, general),
        MoneyUnit::Sen => map_prim_inline(input, |text| parse_money_bytes(text, unit), general),
    })
}

fn date_column(input: &StringViewArray, items: &[DateItem]) -> Fallible {
    let general = |s: &str| date::parse_date(s.as_bytes(), items);
    match date::FixedDate::of(items) {
        Some(fixed) => fallible::<i32>(map_prim_inline(input, |text| fixed.parse(text), general)),
        None => fallible::<i32>(map_prim(input, general)),
    }
}

fn month_column(input: &StringViewArray, items: &[DateItem]) -> Fallible {
    let general = |s: &str| date::parse_month(s.as_bytes(), items);
    match date::FixedDate::of_month(items) {
        Some(fixed) => fallible::<i32>(map_prim_inline(input, |text| fixed.parse_month(text), general)),
        None => fallible::<i32>(map_prim(input, general)),
    }
}

/// Reads a run of ASCII digits (at least one) as a magnitude; `None` on any other byte or when the
/// magnitude exceeds `u64`.
#[inline]
fn magnitude(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut value = 0u64;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add((b - b'0') as u64)?;
    }
    Some(value)
}

/// Applies a sign to a magnitude, when the result fits `i64` (so `-9223372036854775808` does).
#[inline]
fn signed(negative: bool, magnitude: u64) -> Option<i64> {
    if negative {
        0i64.checked_sub_unsigned(magnitude).or_else(|| (magnitude == 1u64 << 63).then_some(i64::MIN))
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `parse_int`: an optional `+` or `-`, then ASCII digits; the value must fit `i64`.
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    parse_int_bytes(text.as_bytes())
}

/// [`parse_int`] of the bytes of a text.
#[inline]
pub(crate) fn parse_int_bytes(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    signed(negative, magnitude(digits)?)
}

/// `parse_money`: exact sen. Ringgit: `^-?[0-9]+(\.[0-9]{1,2})?$`; sen: `^-?[0-9]+$`. The amount
/// must fit `i64` sen.
pub(crate) fn parse_money(text: &str, unit: MoneyUnit) -> Option<i64> {
    parse_money_bytes(text.as_bytes(), unit)
}

/// [`parse_money`] of the bytes of a text.
#[inline]
pub(crate) fn parse_money_bytes(bytes: &[u8], unit: MoneyUnit) -> Option<i64> {
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    match unit {
        MoneyUnit::Sen => signed(negative, magnitude(rest)?),
        MoneyUnit::Ringgit => {
            // One pass: the whole ringgit, then nothing, or `.` and one or two digits.
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let whole = magnitude(&rest[..digits])?;
            let cents = match rest[digits..] {
                [] => 0,
                [b'.', d] if d.is_ascii_digit() => (d - b'0') as u64 * 10,
                [b'.', d1, d2] if d1.is_ascii_digit() && d2.is_ascii_digit() => {
                    (d1 - b'0') as u64 * 10 + (d2 - b'0') as u64
                }
                _ => return None,
            };
            signed(negative, whole.checked_mul(100)?.checked_add(cents)?)
        }
    }
}

/// `parse_int` of a text of at most 12 bytes: one pass, without the overflow checks 12 digits
/// cannot need (see [`parse_ringgit_short`]).
#[inline]
pub(crate) fn parse_int_short(text: &[u8]) -> Option<i64> {
    if text.len() > 12 {
        return parse_int_bytes(text);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value = 0i64;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + i64::from(digit);
    }
    Some(if negative { -value } else { value })
}

/// `parse_money(text, ringgit)` of a text of at most 12 bytes (every text inside an Arrow view):
/// one pass over the digits, without the overflow checks 12 digits cannot need, where the general
/// parse counts the digits before reading them (`cargo bench -p etr-jit --bench kernels --
/// parse_money` compares the two).
#[inline]
pub(crate) fn parse_ringgit_short(text: &[u8]) -> Option<i64> {
    if text.len() > 12 {
        return parse_money_bytes(text, MoneyUnit::Ringgit);
    }
    let (negative, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut whole = 0i64;
    let mut digits = 0;
    for &byte in rest {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        whole = whole * 10 + i64::from(digit);
        digits += 1;
    }
    if digits == 0 {
        return None;
    }
    let digit = |byte: u8| {
        let digit = byte.wrapping_sub(b'0');
        (digit <= 9).then_some(i64::from(digit))
    };
    let cents = match rest[digits..] {
        [] => 0,
        [b'.', tens] => digit(tens)? * 10,
        [b'.', tens, units] => digit(tens)? * 10 + digit(units)?,
        _ => return None,
    };
    let sen = whole * 100 + cents;
    Some(if negative { -sen } else { sen })
}

/// `parse_number`: `^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$` (so `.5` and `5.`, not
/// `nan`, `inf`, hex, `_` or whitespace), rounded to the nearest `f64`; a value too large to be
/// finite (`1e400`) fails, a value too small for one rounds to zero.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let digits_from =
        |at: usize| bytes.get(at..).map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count());
    let mut at = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let whole = digits_from(at);
    at += whole;
    let mut fraction = 0;
    if bytes.get(at) == Some(&b'.') {
        fraction = digits_from(at + 1);
        at += 1 + fraction;
    }
    if whole + fraction == 0 {
        return None;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits_from(at);
        if exponent == 0 {
            return None;
        }
        at += exponent;
    }
    if at != bytes.len() {
        return None;
    }
    // The syntax checked above is a subset of what `f64::from_str` accepts, so it decides only the
    // (correctly rounded) value.
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_cases() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("42", Some(42)),
            ("+42", Some(42)),
            ("-42", Some(-42)),
            ("007", Some(7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("-9223372036854775808", Some(i64::MIN)),
            ("-9223372036854775809", None),
            ("99999999999999999999999", None),
            ("", None),
            ("-", None),
            ("+", None),
            ("--1", None),
            ("+-1", None),
            (" 1", None),
            ("1 ", None),
            ("1.0", None),
            ("1e3", None),
            ("٣", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_int(text), *want, "{text:?}");
        }
    }

    #[test]
    fn parse_money_ringgit_cases() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("0.00", Some(0)),
            ("1", Some(100)),
            ("1.5", Some(150)),
            ("1.50", Some(150)),
            ("1.05", Some(105)),
            ("-0.05", Some(-5)),
            ("-0.50", Some(-50)),
            ("-0", Some(0)),
            ("123.45", Some(12_345)),
            ("11290.94", Some(1_129_094)),
            ("92233720368547758.07", Some(i64::MAX)),
            ("92233720368547758.08", None),
            ("-92233720368547758.08", Some(i64::MIN)),
            ("-92233720368547758.09", None),
            (".5", None),
            ("1.", None),
            ("1.234", None),
            ("--1", None),
            ("+1", None),
            ("", None),
            (" 1", None),
            ("1 ", None),
            ("1,000.00", None),
            ("1.2.3", None),
            ("-", None),
            ("-.5", None),
            ("1.-5", None),
            ("RM1", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_money(text, MoneyUnit::Ringgit), *want, "{text:?}");
        }
    }

    #[test]
    fn short_parses_agree_with_the_general_ones() {
        let mut next = crate::test_support::xorshift(0x2545_F491_4F6C_DD1Du64);
        // Mostly digits, with every byte that matters at the edges of the checks.
        let alphabet = b"0123456789012345678901234567890123456789..--+ /:aA\x00\x7f\x80\xff";
        let mut parsed = 0;
        for _ in 0..300_000 {
            let len = (next() % 15) as usize;
            let text: Vec<u8> = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let expected = parse_money_bytes(&text, MoneyUnit::Ringgit);
            assert_eq!(parse_ringgit_short(&text), expected, "{:?}", String::from_utf8_lossy(&text));
            parsed += usize::from(expected.is_some());
            let expected = parse_int_bytes(&text);
            assert_eq!(parse_int_short(&text), expected, "{:?}", String::from_utf8_lossy(&text));
            parsed += usize::from(expected.is_some());
        }
        assert!(parsed > 10_000, "too few valid amounts drawn: {parsed}");
    }

    #[test]
    fn parse_number_cases() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1", Some(1.0)),
            ("-1.5", Some(-1.5)),
            ("+2", Some(2.0)),
            (".5", Some(0.5)),
            ("-.5", Some(-0.5)),
            ("5.", Some(5.0)),
            ("1e3", Some(1000.0)),
            ("1E-2", Some(0.01)),
            ("2.5e+2", Some(250.0)),
            ("0.1", Some(0.1)),
            ("007", Some(7.0)),
            ("1e-400", Some(0.0)),
            ("1.7976931348623157e308", Some(f64::MAX)),
            ("1e400", None),
            ("-1e400", None),
            ("", None),
            ("-", None),
            ("+", None),
            (".", None),
            ("-.", None),
            ("1e", None),
            ("1e+", None),
            ("e3", None),
            (".e3", None),
            ("nan", None),
            ("NaN", None),
            ("inf", None),
            ("-inf", None),
            ("infinity", None),
            ("0x10", None),
            (" 1", None),
            ("1 ", None),
            ("1_000", None),
            ("1,5", None),
            ("1.2.3", None),
            ("--1", None),
            ("+-1", None),
            ("1e3.5", None),
            ("١", None),
        ];
        for (text, want) in cases {
            let got = parse_number(text);
            assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{text:?} gave {got:?}");
        }
        // The sign of zero is kept; equality and hashing treat it as zero.
        assert_eq!(parse_number("-0").map(f64::to_bits), Some((-0.0f64).to_bits()));
    }

    #[test]
    fn parse_money_sen_cases() {
        let cases: &[(&str, Option<i64>)] =
            &[("150", Some(150)), ("-5", Some(-5)), ("1.50", None), ("+1", None), ("", None), ("--1", None)];
        for (text, want) in cases {
            assert_eq!(parse_money(text, MoneyUnit::Sen), *want, "{text:?}");
        }
    }
}
