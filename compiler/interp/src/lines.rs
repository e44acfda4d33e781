//! Header and trailer values: each declared field parsed per its `LineFieldType`.
//!
//! A field that is missing (the line is absent or too short) or does not parse is null; the file
//! checks decide what a null means (a null breaks a file check).

use etr_ir::{LineFieldType, RecordLine};

use crate::batch::RawRecordLine;
use crate::kernels::{date, parse};
use crate::value::Scalar;

/// The typed values of the header and trailer fields, in declaration order (the prefix excluded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineValues {
    pub header: Vec<Scalar>,
    pub trailer: Vec<Scalar>,
}

/// Parses one field's text per its declared type.
pub(crate) fn parse_field(text: &str, ty: &LineFieldType) -> Scalar {
    let parsed = match ty {
        LineFieldType::Text => return Scalar::Text(text.into()),
        LineFieldType::Int => parse::parse_int(text).map(Scalar::Int),
        LineFieldType::Money(unit) => parse::parse_money(text, *unit).map(Scalar::Int),
        LineFieldType::Date(format) => date::parse_date(text.as_bytes(), &format.items).map(Scalar::Date),
        LineFieldType::Month(format) => date::parse_month(text.as_bytes(), &format.items).map(Scalar::Date),
    };
    parsed.unwrap_or(Scalar::Null)
}

/// The values of a declared record line read from `line` (all null when either is absent).
pub(crate) fn values(declared: Option<&RecordLine>, line: Option<&RawRecordLine>) -> Vec<Scalar> {
    let Some(declared) = declared else { return Vec::new() };
    declared
        .fields
        .iter()
        .enumerate()
        .map(|(k, field)| {
            // Field 0 of the line is its prefix.
            match line.and_then(|l| l.fields.get(k + 1)).and_then(Option::as_deref) {
                Some(text) => parse_field(text, &field.ty),
                None => Scalar::Null,
            }
        })
        .collect()
}
