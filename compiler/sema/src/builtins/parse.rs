//! The parses of text into typed values (the interpreter's `kernels/parse.rs`, and the JIT's
//! compiled parses). All of them can fail on data, so a spec must say what happens then.
//!
//! Boundary: the entries are data for the checker, the editor and the docs; the hooks below reach
//! the checker through its `pub(crate)` methods only.

use etr_ir::{Builtin, TypeKind};

use super::{Family, Param, Signature, TEXT, row, value};
use crate::datefmt::DateFormatUse;

pub(super) const FAMILY: Family = Family {
    title: "Parsing",
    doc: "Reading typed values out of text. Every parse can fail on data, and a spec handles the failure with `else`.",
    functions: FUNCTIONS,
    ir_family: Some(etr_ir::BuiltinFamily::Parse),
};

const FUNCTIONS: &[Signature] = &[
    value(
        "parse_int",
        "parse_int(value: text) -> int",
        &[Param::Data(TEXT)],
        TypeKind::Int,
        "Reads a whole number, with an optional sign.",
        |_| Some(Builtin::ParseInt),
    )
    .fallible("a text that is not a whole number fails")
    .with_examples(&[
        row("parse_int(X) else null", &["-42|"], "-42"),
        row("parse_int(X) else null", &["4.2|"], "null"),
    ]),
    value(
        "parse_number",
        "parse_number(value: text) -> number",
        &[Param::Data(TEXT)],
        TypeKind::Number,
        "Reads a decimal number such as `-1.5` or `2e3` (a 64-bit float: not for money).",
        |_| Some(Builtin::ParseNumber),
    )
    .fallible("a text that is not a number fails")
    .with_examples(&[
        row("parse_number(X) else null", &["2e3|"], "2000.0"),
        row("parse_number(X) else null", &["nan|"], "null"),
    ]),
    value(
        "parse_money",
        "parse_money(value: text, ringgit | sen) -> money",
        &[Param::Data(TEXT), Param::MoneyUnit],
        TypeKind::Money,
        "Reads an amount exactly: `ringgit` for `1234.50` (up to two decimals), `sen` for `123450`.",
        |call| call.unit(0).map(Builtin::ParseMoney),
    )
    .fallible("a text that is not an amount fails")
    .with_examples(&[
        row("parse_money(X, ringgit) else null", &["-1234.5|"], "-RM1234.50"),
        row("parse_money(X, sen) else null", &["123450|"], "RM1234.50"),
        row("parse_money(X, ringgit) else null", &["12.345|"], "null"),
    ]),
    value(
        "parse_date",
        "parse_date(value: text, format: \"%d/%m/%Y\") -> date",
        &[Param::Data(TEXT), Param::ConstText("date format")],
        TypeKind::Date,
        "Reads a date in a fixed format (%Y four-digit year, %m month, %d day, two digits each).",
        |call| call.date_format(0, DateFormatUse::ParseDate).map(Builtin::ParseDate),
    )
    .fallible("a text that does not match the format, or is not a real calendar date of the years 0001-9999, fails")
    .with_examples(&[
        row("parse_date(X, \"%d/%m/%Y\") else null", &["29/02/2024|"], "2024-02-29"),
        row("parse_date(X, \"%d/%m/%Y\") else null", &["29/02/2025|"], "null"),
        row("parse_date(X, \"%d/%m/%Y\") else null", &["01/01/0000|"], "null"),
    ]),
    value(
        "parse_month",
        "parse_month(value: text, format: \"%Y%m\") -> month",
        &[Param::Data(TEXT), Param::ConstText("month format")],
        TypeKind::Month,
        "Reads a month such as `202506` in a fixed format.",
        |call| call.date_format(0, DateFormatUse::ParseMonth).map(Builtin::ParseMonth),
    )
    .fallible("a text that does not match the format, or a month of year 0000, fails")
    .with_examples(&[
        row("parse_month(X, \"%Y%m\") else null", &["202506|"], "2025-06-01"),
        row("parse_month(X, \"%Y%m\") else null", &["000012|"], "null"),
    ]),
];
