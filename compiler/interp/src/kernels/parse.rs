//! The text parsers behind `parse_int` and `parse_money`, one value at a time.
//!
//! They are the only definition of what these functions accept: the column kernels, the header
//! and trailer fields, and (later) the JIT's reference tests all call these.

use etr_ir::MoneyUnit;

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
    let bytes = text.as_bytes();
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
    let bytes = text.as_bytes();
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
    fn parse_money_sen_cases() {
        let cases: &[(&str, Option<i64>)] =
            &[("150", Some(150)), ("-5", Some(-5)), ("1.50", None), ("+1", None), ("", None), ("--1", None)];
        for (text, want) in cases {
            assert_eq!(parse_money(text, MoneyUnit::Sen), *want, "{text:?}");
        }
    }
}
