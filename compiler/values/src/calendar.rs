//! Calendar arithmetic on day counts (proleptic Gregorian, days since 1970-01-01, Arrow's
//! `Date32`) and the month table of the years a credit file's dates fall in.
//!
//! The interpreter's date kernels and the runtime (`--as-of`) compute with these functions; the
//! JIT's date parses read [`MONTHS`] from the code they generate. One table and one set of
//! conversions, so that the engines cannot disagree on a date.
//!
//! The conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`: exact for every
//! `i32` day count, with no table and no floating point.

pub const fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The days of `month` (1-12) of `year`; 0 for a month outside 1-12.
pub const fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// True when `year-month-day` exists and its year is 1 or later. Year 0 exists in the proleptic
/// calendar, but not for the readers of our Parquet files: Python's dates (and so pyarrow's
/// `to_pandas()`) start at year 1, so a column holding year 0 cannot be read there.
pub fn is_valid_date(year: i64, month: u32, day: u32) -> bool {
    year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// Days since 1970-01-01 of a valid date; `None` when it does not fit `Date32`.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i32> {
    i32::try_from(day_number(year, month, day)).ok()
}

/// [`days_from_civil`] in 64 bits, for any year (and in const contexts: the month table).
const fn day_number(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The `(year, month, day)` of a day count.
pub fn civil_from_days(days: i32) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// The first day of the month of a day count (`month_of`): `None` when it is before `Date32`'s
/// range, which only the first month of that range can be.
pub fn first_of_month(days: i32) -> Option<i32> {
    let (_, _, day) = civil_from_days(days);
    days.checked_sub(day as i32 - 1)
}

/// The first day and the length of a month of the years 1900-2099 ([`MONTHS`]); `None` for
/// another year, or a month outside 1-12.
#[inline]
pub fn month_entry(year: u32, month: u32) -> Option<(i32, u32)> {
    ((TABLE_FIRST_YEAR..TABLE_FIRST_YEAR + TABLE_YEARS as u32).contains(&year) && (1..=12).contains(&month)).then(
        || {
            let entry = MONTHS[((year - TABLE_FIRST_YEAR) * 12 + month - 1) as usize];
            (entry.first_day, entry.length)
        },
    )
}

/// The first year of [`MONTHS`].
pub const TABLE_FIRST_YEAR: u32 = 1900;
/// How many years [`MONTHS`] covers.
pub const TABLE_YEARS: usize = 200;

/// One month of [`MONTHS`]. `repr(C)` because native code reads it too: the JIT's date parses
/// index the same table (8 bytes an entry, the first day at offset 0, the length at 4).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthStart {
    /// Days since 1970-01-01 of the month's first day.
    pub first_day: i32,
    /// The month's length in days.
    pub length: u32,
}

/// For each month of the years 1900-2099 (index `(year - 1900) * 12 + month - 1`): its first day
/// and its length.
pub static MONTHS: [MonthStart; TABLE_YEARS * 12] = {
    let mut months = [MonthStart { first_day: 0, length: 0 }; TABLE_YEARS * 12];
    let mut i = 0;
    while i < TABLE_YEARS * 12 {
        let year = TABLE_FIRST_YEAR as i64 + (i / 12) as i64;
        let month = (i % 12) as u32 + 1;
        // Within Date32's range for these years.
        months[i] = MonthStart { first_day: day_number(year, month, 1) as i32, length: days_in_month(year, month) };
        i += 1;
    }
    months
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_of_month_goes_back_to_day_one() {
        let day = |y, m, d| days_from_civil(y, m, d).expect("in range");
        assert_eq!(first_of_month(day(2024, 2, 29)), Some(day(2024, 2, 1)));
        assert_eq!(first_of_month(day(2025, 6, 1)), Some(day(2025, 6, 1)));
        assert_eq!(first_of_month(day(1969, 12, 31)), Some(day(1969, 12, 1)));
        assert_eq!(first_of_month(day(1, 1, 31)), Some(day(1, 1, 1)));
        // Every day of a month maps to the same first day, the next day to the next month's.
        let march = day(2023, 3, 1);
        assert!((0..31).all(|k| first_of_month(march + k) == Some(march)));
        assert_eq!(first_of_month(march + 31), Some(day(2023, 4, 1)));
        // The range's first day is a month's first day only if it is day 1; otherwise no month fits.
        let (_, _, first_day) = civil_from_days(i32::MIN);
        assert_eq!(first_of_month(i32::MIN), (first_day == 1).then_some(i32::MIN));
    }

    #[test]
    fn civil_round_trips() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            // The conversions cover every year; only years from 1 on are dates a file may hold.
            assert_eq!(is_valid_date(y, m, d), y >= 1, "{y}-{m}-{d}");
            assert_eq!(days_from_civil(y, m, d), Some(days));
        }
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    /// The table is the arithmetic, precomputed: a parse that reads it gives what one that
    /// computes gives.
    #[test]
    fn the_month_table_is_the_arithmetic() {
        for year in TABLE_FIRST_YEAR..TABLE_FIRST_YEAR + TABLE_YEARS as u32 {
            for month in 1..=12 {
                let want = (days_from_civil(i64::from(year), month, 1), days_in_month(i64::from(year), month));
                let (first, length) = month_entry(year, month).expect("in the table");
                assert_eq!((Some(first), length), want, "{year}-{month}");
            }
        }
        assert_eq!(month_entry(TABLE_FIRST_YEAR - 1, 12), None);
        assert_eq!(month_entry(TABLE_FIRST_YEAR + TABLE_YEARS as u32, 1), None);
        assert_eq!(month_entry(2000, 0), None);
        assert_eq!(month_entry(2000, 13), None);
    }
}
