//! The ordering checks (`increasing`, `decreasing`, `strictly ...`): each non-null value of a field,
//! on the lines that take part, against the previous such value in file order.
//!
//! The previous value is kept in the field's own layout and compared with the next one in place in
//! its Arrow array; a text value is copied into one buffer that is reused from line to line, so a
//! check costs no allocation per line. A value is rendered as text only when it breaks the check.

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray};
use arrow::datatypes::{Date32Type, Float64Type, Int64Type};
use etr_ir::{OrderCheck, Program, TypeKind};

use super::takes_part;
use crate::{BatchResult, CheckStats, InterpError, Scalar, render_scalar};

/// One ordering check's memory of the file so far: the last non-null value it compared.
#[derive(Debug)]
pub(super) struct OrderState {
    /// The field's type, which says how its values are laid out and shown.
    kind: TypeKind,
    previous: Previous,
}

/// The previous non-null value, in the field's layout (`None` before the first one).
#[derive(Debug)]
enum Previous {
    /// `int` and `money` (in sen).
    Int(Option<i64>),
    Number(Option<f64>),
    /// `date` and `month` (its first day), in days since 1970-01-01.
    Date(Option<i32>),
    /// The last text value, in a buffer reused for every line; meaningful once `seen`.
    Text {
        value: String,
        seen: bool,
    },
}

/// A line that broke an ordering check, with its offending value rendered.
#[derive(Debug)]
pub(super) struct OutOfOrder {
    pub(super) row: usize,
    /// Index into `Program::order_checks`.
    pub(super) check: usize,
    pub(super) value: String,
}

impl OrderState {
    /// The state of `check` before the first line. The front end admits ordering checks on
    /// ordered types only; any other is an internal error.
    pub(super) fn new(program: &Program, check: &OrderCheck) -> Result<OrderState, InterpError> {
        let kind = program.record.fields.get(check.field as usize).map(|field| field.ty.kind).ok_or_else(|| {
            InterpError::internal(format!("ordering check on field {} that does not exist", check.field))
        })?;
        let previous = match kind {
            TypeKind::Int | TypeKind::Money => Previous::Int(None),
            TypeKind::Number => Previous::Number(None),
            TypeKind::Date | TypeKind::Month => Previous::Date(None),
            TypeKind::Text => Previous::Text { value: String::new(), seen: false },
            other => return Err(InterpError::internal(format!("an ordering check on {other:?} values"))),
        };
        Ok(OrderState { kind, previous })
    }

    /// Compares the values of check number `index` on the lines of `result` that take part (not
    /// rejected by a row rule, the `when` holds), in order; counts them in `stats` and adds the
    /// lines that break the check to `out`.
    pub(super) fn judge(
        &mut self,
        program: &Program,
        index: usize,
        result: &BatchResult,
        stats: &mut CheckStats,
        out: &mut Vec<OutOfOrder>,
    ) -> Result<(), InterpError> {
        let check = program
            .order_checks
            .get(index)
            .ok_or_else(|| InterpError::internal(format!("ordering check {index} does not exist")))?;
        let array = result
            .fields
            .get(check.field as usize)
            .ok_or_else(|| InterpError::internal(format!("no values for field {}", check.field)))?;
        let rows = (0..array.len()).filter(|&row| !result.rejected[row] && takes_part(&result.order_when, index, row));
        let kind = self.kind;
        // Counts a compared value, and says whether it breaks the check.
        let mut breaks_check = |ordering: Option<Ordering>| {
            stats.considered += 1;
            let broken = ordering.is_some_and(|ordering| breaks(check, ordering));
            stats.unexpected += u64::from(broken);
            broken
        };
        let mut report = |row: usize, value: String| out.push(OutOfOrder { row, check: index, value });
        let show = |scalar: Scalar| render_scalar(program, kind, &scalar).unwrap_or_default();
        match &mut self.previous {
            Previous::Int(previous) => {
                let values = primitive::<Int64Type>(array, kind)?;
                in_order(values, rows, previous, i64::cmp, |row, ordering, v| {
                    if breaks_check(ordering) {
                        report(row, show(Scalar::Int(v)));
                    }
                });
            }
            Previous::Number(previous) => {
                let values = primitive::<Float64Type>(array, kind)?;
                // A number is never NaN; an unordered pair would count as equal.
                let cmp = |a: &f64, b: &f64| a.partial_cmp(b).unwrap_or(Ordering::Equal);
                in_order(values, rows, previous, cmp, |row, ordering, v| {
                    if breaks_check(ordering) {
                        report(row, show(Scalar::Number(v)));
                    }
                });
            }
            Previous::Date(previous) => {
                let values = primitive::<Date32Type>(array, kind)?;
                in_order(values, rows, previous, i32::cmp, |row, ordering, v| {
                    if breaks_check(ordering) {
                        report(row, show(Scalar::Date(v)));
                    }
                });
            }
            Previous::Text { value: previous, seen } => {
                let values = array
                    .as_string_view_opt()
                    .ok_or_else(|| InterpError::internal(format!("text values laid out as {}", array.data_type())))?;
                for row in rows {
                    if values.is_null(row) {
                        continue;
                    }
                    let value = values.value(row);
                    // Text compares by bytes, which for UTF-8 is by code point.
                    if breaks_check(seen.then(|| value.cmp(previous.as_str()))) {
                        report(row, value.to_owned());
                    }
                    previous.clear();
                    previous.push_str(value);
                    *seen = true;
                }
            }
        }
        Ok(())
    }
}

/// Whether a value that compares with the previous one as `ordering` breaks `check`.
fn breaks(check: &OrderCheck, ordering: Ordering) -> bool {
    match (check.descending, check.strict) {
        (false, false) => ordering == Ordering::Less,
        (false, true) => ordering != Ordering::Greater,
        (true, false) => ordering == Ordering::Greater,
        (true, true) => ordering != Ordering::Less,
    }
}

/// The values of `array` as the primitive layout of `kind`.
fn primitive<A: ArrowPrimitiveType>(array: &ArrayRef, kind: TypeKind) -> Result<&PrimitiveArray<A>, InterpError> {
    array
        .as_primitive_opt::<A>()
        .ok_or_else(|| InterpError::internal(format!("{kind:?} values laid out as {}", array.data_type())))
}

/// Calls `compared` with each non-null value of `rows`, in order, and how it compares with the
/// previous one (`None` for the first value of the file), and keeps it as the previous one.
fn in_order<A: ArrowPrimitiveType>(
    values: &PrimitiveArray<A>,
    rows: impl Iterator<Item = usize>,
    previous: &mut Option<A::Native>,
    cmp: impl Fn(&A::Native, &A::Native) -> Ordering,
    mut compared: impl FnMut(usize, Option<Ordering>, A::Native),
) {
    for row in rows {
        if values.is_null(row) {
            continue;
        }
        let value = values.value(row);
        compared(row, previous.as_ref().map(|previous| cmp(&value, previous)), value);
        *previous = Some(value);
    }
}
