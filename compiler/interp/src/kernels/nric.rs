//! Malaysian identity numbers: the NRIC (MyKad) and SSM company-number checks (the IR's
//! `BuiltinFamily::Nric`).
//!
//! [`call`] maps the value-level definitions below it over text columns.

use arrow::array::StringViewArray;
use etr_ir::Builtin;
use etr_values::calendar::is_valid_date;

use crate::error::InterpError;
use crate::kernels::Call;
use crate::kernels::text::{map_bool, map_prim};
use crate::value::{Column, Datum};

/// The NRIC and SSM functions.
pub(crate) fn call(call: &Call<'_>) -> Result<Datum, InterpError> {
    let column = match call.function {
        Builtin::IsValidNric => Column::Bool(map_bool(&call.text(0)?, is_valid_nric)),
        Builtin::IsValidSsm => Column::Bool(map_bool(&call.text(0)?, is_valid_ssm)),
        Builtin::NricGender { male, female, .. } => Column::Code(nric_gender(&call.text(0)?, *male, *female)),
        _ => return Err(call.not_in("NRIC")),
    };
    Ok(call.finish(column))
}

/// `nric_gender`: the male or female member, null when the 12th char is not a digit.
fn nric_gender(input: &StringViewArray, male: u32, female: u32) -> arrow::array::UInt32Array {
    map_prim::<u32>(input, |s| nric_is_male(s).map(|m| if m { male } else { female })).0
}

/// Place-of-birth codes (chars 7-8) that no NRIC carries.
const INVALID_PLACE_OF_BIRTH: [u8; 14] = [0, 17, 18, 19, 20, 69, 70, 73, 80, 81, 94, 95, 96, 97];

#[inline]
fn two_digits(bytes: &[u8]) -> u32 {
    (bytes[0] - b'0') as u32 * 10 + (bytes[1] - b'0') as u32
}

/// `is_valid_nric`: exactly 12 ASCII digits, YYMMDD a real date in 19YY or 20YY, and a known
/// place-of-birth code.
pub(crate) fn is_valid_nric(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let yy = two_digits(&bytes[0..2]) as i64;
    let month = two_digits(&bytes[2..4]);
    let day = two_digits(&bytes[4..6]);
    let real_date = is_valid_date(1900 + yy, month, day) || is_valid_date(2000 + yy, month, day);
    let place = two_digits(&bytes[6..8]) as u8;
    real_date && !INVALID_PLACE_OF_BIRTH.contains(&place)
}

/// `is_valid_ssm`: `^(19|20)[0-9]{2}0[1-6][0-9]{6}$`.
pub(crate) fn is_valid_ssm(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 12
        && b.iter().all(u8::is_ascii_digit)
        && (b[..2] == *b"19" || b[..2] == *b"20")
        && b[4] == b'0'
        && (b'1'..=b'6').contains(&b[5])
}

/// `nric_gender`: `Some(true)` (male) when the 12th char is an odd digit, `Some(false)` when even,
/// `None` otherwise (shorter text, or not a digit).
pub(crate) fn nric_is_male(text: &str) -> Option<bool> {
    let b = *text.as_bytes().get(11)?;
    // ASCII '0' is even, so a digit's parity is its byte's (no subtraction that could underflow).
    b.is_ascii_digit().then_some(b % 2 == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nric_cases() {
        let cases: &[(&str, bool)] = &[
            ("031110129638", true),
            ("850818145867", true),
            ("000229011234", true),  // 29/02/2000 exists.
            ("010229011234", false), // 29/02 in 1901 and 2001: neither is a leap year.
            ("850230145867", false),
            ("851318145867", false),
            ("850818005867", false),
            ("850818175867", false),
            ("850818205867", false),
            ("850818695867", false),
            ("850818735867", false),
            ("850818975867", false),
            ("850818985867", true),
            ("850818-14-5867", false),
            ("85081814586", false),
            ("8508181458670", false),
            ("85081814586X", false),
            ("", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_valid_nric(text), *want, "{text:?}");
        }
    }

    #[test]
    fn ssm_cases() {
        let cases: &[(&str, bool)] = &[
            ("201901000123", true),
            ("199906123456", true),
            ("201907000123", false),
            ("201910000123", false),
            ("211901000123", false),
            ("20190100012", false),
            ("2019010001234", false),
            ("20190100012A", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_valid_ssm(text), *want, "{text:?}");
        }
    }

    #[test]
    fn gender_cases() {
        assert_eq!(nric_is_male("850818145867"), Some(true));
        assert_eq!(nric_is_male("850818145868"), Some(false));
        assert_eq!(nric_is_male("85081814586X"), None);
        assert_eq!(nric_is_male("8508"), None);
        // Bytes below `0` (found by the conservation property test: this once underflowed).
        assert_eq!(nric_is_male("85081814586-"), None);
        assert_eq!(nric_is_male("85081814586 "), None);
    }
}
