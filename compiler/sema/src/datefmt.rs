//! Date formats: the strftime-like patterns of `parse_date`, `parse_month` and `format_date`,
//! checked and turned into fixed-width items at compile time so back ends never interpret a
//! pattern string per row.

use etr_ir::{DateFormat, DateItem};

/// What the format will be used for: parsing accepts fewer directives than formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateFormatUse {
    ParseDate,
    ParseMonth,
    Format,
}

/// Reads a pattern, or explains in one line what is wrong with it.
pub(crate) fn parse_date_format(pattern: &str, usage: DateFormatUse) -> Result<DateFormat, String> {
    let mut items = Vec::new();
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let Some(&directive) = bytes.get(i + 1) else {
                return Err("the format ends with a lone `%`".into());
            };
            items.push(match directive {
                b'Y' => DateItem::Year4,
                b'y' if usage == DateFormatUse::Format => DateItem::Year2,
                b'y' => {
                    return Err("`%y` (two-digit year) cannot be parsed without a century pivot; use `%Y`".into());
                }
                b'm' => DateItem::Month2,
                b'd' => DateItem::Day2,
                b'H' => DateItem::Hour2,
                b'M' => DateItem::Minute2,
                b'S' => DateItem::Second2,
                b'%' => DateItem::Literal(b'%'),
                other => {
                    return Err(format!(
                        "`%{}` is not supported; the directives are %Y, %m, %d, %H, %M, %S (and %y for formatting)",
                        other as char
                    ));
                }
            });
            i += 2;
        } else if b.is_ascii() && !b.is_ascii_control() {
            items.push(DateItem::Literal(b));
            i += 1;
        } else {
            return Err("only ASCII characters may appear between the directives".into());
        }
    }
    let has = |item: DateItem| items.contains(&item);
    let year = has(DateItem::Year4) || has(DateItem::Year2);
    match usage {
        DateFormatUse::ParseDate if !(year && has(DateItem::Month2) && has(DateItem::Day2)) => {
            return Err("a date format needs a year (%Y), a month (%m) and a day (%d)".into());
        }
        DateFormatUse::ParseMonth if !(year && has(DateItem::Month2)) => {
            return Err("a month format needs a year (%Y) and a month (%m)".into());
        }
        DateFormatUse::ParseMonth if has(DateItem::Day2) => {
            return Err("a month format has no day (%d); use parse_date for dates".into());
        }
        _ => {}
    }
    for item in [
        DateItem::Year4,
        DateItem::Year2,
        DateItem::Month2,
        DateItem::Day2,
        DateItem::Hour2,
        DateItem::Minute2,
        DateItem::Second2,
    ] {
        if usage != DateFormatUse::Format && items.iter().filter(|i| **i == item).count() > 1 {
            return Err("a directive appears twice".into());
        }
    }
    Ok(DateFormat { pattern: pattern.to_string(), items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_formats() {
        let f = parse_date_format("%d/%m/%Y", DateFormatUse::ParseDate).unwrap();
        assert_eq!(
            f.items,
            vec![DateItem::Day2, DateItem::Literal(b'/'), DateItem::Month2, DateItem::Literal(b'/'), DateItem::Year4]
        );
        assert!(parse_date_format("%Y%m", DateFormatUse::ParseMonth).is_ok());
        assert!(parse_date_format("%y%m%d", DateFormatUse::Format).is_ok());
    }

    #[test]
    fn refuses_what_it_cannot_parse() {
        assert!(parse_date_format("%y%m%d", DateFormatUse::ParseDate).unwrap_err().contains("%y"));
        assert!(parse_date_format("%d/%m", DateFormatUse::ParseDate).is_err());
        assert!(parse_date_format("%Y%m%d", DateFormatUse::ParseMonth).is_err());
        assert!(parse_date_format("%Y-%m-%dT%H:%M:%S", DateFormatUse::ParseDate).is_ok());
        assert!(parse_date_format("%Q", DateFormatUse::Format).is_err());
        assert!(parse_date_format("%d%", DateFormatUse::Format).is_err());
    }
}
