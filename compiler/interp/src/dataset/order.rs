//! The checks in file order: each non-null value of a field, on the lines that take part, against
//! a value remembered from the lines before it: the previous value for an ordering (`increasing`,
//! `decreasing`, `strictly ...`), the first value for consistency (`consistent`); with `per KEY`,
//! the previous or first value of the lines with the same key.
//!
//! The remembered value is kept in the field's own layout and compared with the next one in place
//! in its Arrow array; a text value is copied into a buffer that is reused from line to line, so a
//! check costs no allocation per line. A value is rendered as text only when it breaks the check.
//! With a key, a check keeps one value per group (by the key's 128-bit hash, as `unique` tells keys
//! apart): memory grows with the number of groups, not of lines.

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray};
use arrow::datatypes::{Date32Type, Float64Type, Int64Type, UInt32Type};
use etr_ir::{OrderCheck, Program, Sequence, TypeKind};
use hashbrown::HashMap;

use super::takes_part;
use crate::{BatchResult, CheckStats, InterpError, Scalar, keyhash, render_scalar};

/// One check's memory of the file so far: the last (for consistency, the first) non-null value
/// it compared, of the whole file or of each group.
#[derive(Debug)]
pub(super) struct OrderState {
    /// The field's type, which says how its values are laid out and shown.
    kind: TypeKind,
    remember: Remember,
    previous: Previous,
}

/// Which value of the earlier lines a value is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remember {
    /// The previous one, which the value then replaces: an ordering.
    Previous,
    /// The first one, which stays: consistency.
    First,
}

/// The remembered values, in the field's layout.
#[derive(Debug)]
enum Previous {
    /// `int` and `money` (in sen).
    Int(Memory<i64>),
    Number(Memory<f64>),
    /// `date` and `month` (its first day), in days since 1970-01-01.
    Date(Memory<i32>),
    Text(TextMemory),
    /// `bool` and a code (its member's index) have no order; consistency compares them.
    Bool(Memory<bool>),
    Code(Memory<u32>),
}

/// The remembered value of the whole file (a check without `per`), or of each group (by the hash
/// of its key); absent before the first value.
#[derive(Debug)]
enum Memory<T> {
    File(Option<T>),
    Groups(HashMap<u128, T>),
}

impl<T: Copy> Memory<T> {
    fn new(grouped: bool) -> Memory<T> {
        if grouped { Memory::Groups(HashMap::new()) } else { Memory::File(None) }
    }

    /// The value of `group` (ignored without groups) that `value` is compared with, `None` for the
    /// group's first value. `value` replaces it, or with [`Remember::First`] only becomes the
    /// group's value when it has none.
    fn remember(&mut self, group: u128, value: T, remember: Remember) -> Option<T> {
        match (self, remember) {
            (Memory::File(previous), Remember::Previous) => previous.replace(value),
            (Memory::Groups(previous), Remember::Previous) => previous.insert(group, value),
            (Memory::File(first), Remember::First) => {
                let seen = *first;
                first.get_or_insert(value);
                seen
            }
            (Memory::Groups(firsts), Remember::First) => {
                let seen = firsts.get(&group).copied();
                if seen.is_none() {
                    firsts.insert(group, value);
                }
                seen
            }
        }
    }
}

/// The remembered text values, as bytes (text compares by bytes, which for UTF-8 is by code
/// point).
#[derive(Debug)]
enum TextMemory {
    /// The file's remembered value, in a buffer reused for every line; meaningful once `seen`.
    File { value: Vec<u8>, seen: bool },
    /// Each group's remembered value, in a slot of one buffer. A value longer than its slot moves the
    /// group to a slot at least twice as large at the end of the buffer, so the buffer grows with
    /// the groups and their longest values, not with the lines.
    Groups { bytes: Vec<u8>, slots: HashMap<u128, TextSlot> },
}

/// Where a group's remembered text value is in [`TextMemory::Groups`]'s buffer.
#[derive(Debug, Clone, Copy)]
struct TextSlot {
    start: usize,
    len: usize,
    capacity: usize,
}

impl TextMemory {
    fn new(grouped: bool) -> TextMemory {
        if grouped {
            TextMemory::Groups { bytes: Vec::new(), slots: HashMap::new() }
        } else {
            TextMemory::File { value: Vec::new(), seen: false }
        }
    }

    /// How `value` compares with the remembered value of `group` (`None` for its first value),
    /// which it then replaces unless `remember` keeps the first.
    fn compare_and_remember(&mut self, group: u128, value: &[u8], remember: Remember) -> Option<Ordering> {
        match self {
            TextMemory::File { value: previous, seen } => {
                let ordering = seen.then(|| value.cmp(previous.as_slice()));
                if ordering.is_none() || remember == Remember::Previous {
                    previous.clear();
                    previous.extend_from_slice(value);
                }
                *seen = true;
                ordering
            }
            TextMemory::Groups { bytes, slots } => {
                let Some(slot) = slots.get_mut(&group) else {
                    let start = bytes.len();
                    bytes.extend_from_slice(value);
                    slots.insert(group, TextSlot { start, len: value.len(), capacity: value.len() });
                    return None;
                };
                let ordering = value.cmp(&bytes[slot.start..slot.start + slot.len]);
                if remember == Remember::First {
                    return Some(ordering);
                }
                if value.len() > slot.capacity {
                    slot.capacity = value.len().max(slot.capacity * 2);
                    slot.start = bytes.len();
                    bytes.resize(slot.start + slot.capacity, 0);
                }
                bytes[slot.start..slot.start + value.len()].copy_from_slice(value);
                slot.len = value.len();
                Some(ordering)
            }
        }
    }
}

/// A line that broke a check in file order, with its offending value rendered.
#[derive(Debug)]
pub(super) struct OutOfOrder {
    pub(super) row: usize,
    /// Index into `Program::order_checks`.
    pub(super) check: usize,
    pub(super) value: String,
}

impl OrderState {
    /// The state of `check` before the first line. The front end admits ordering checks on
    /// ordered types only, and consistency checks on any field; any other is an internal error.
    pub(super) fn new(program: &Program, check: &OrderCheck) -> Result<OrderState, InterpError> {
        let kind = program.record.fields.get(check.field).map(|field| field.ty.kind).ok_or_else(|| {
            InterpError::internal(format!("a check in file order on field {} that does not exist", check.field.raw()))
        })?;
        let grouped = !check.per.is_empty();
        let remember = match check.sequence {
            Sequence::Consistent => Remember::First,
            Sequence::Increasing { .. } | Sequence::Decreasing { .. } => Remember::Previous,
        };
        let previous = match kind {
            TypeKind::Int | TypeKind::Money => Previous::Int(Memory::new(grouped)),
            TypeKind::Number => Previous::Number(Memory::new(grouped)),
            TypeKind::Date | TypeKind::Month => Previous::Date(Memory::new(grouped)),
            TypeKind::Text => Previous::Text(TextMemory::new(grouped)),
            TypeKind::Bool if remember == Remember::First => Previous::Bool(Memory::new(grouped)),
            TypeKind::Code(_) if remember == Remember::First => Previous::Code(Memory::new(grouped)),
            other => {
                let sequence = check.sequence.as_str();
                return Err(InterpError::internal(format!("a `{sequence}` check on {other:?} values")));
            }
        };
        Ok(OrderState { kind, remember, previous })
    }

    /// Compares the values of check number `index` on the lines of `result` that take part (not
    /// rejected by a row rule, the `when` holds, some part of the `per` key is not null), in order;
    /// counts them in `stats` and adds the lines that break the check to `out`.
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
            .ok_or_else(|| InterpError::internal(format!("check in file order {index} does not exist")))?;
        let array = result
            .fields
            .get(check.field.index())
            .ok_or_else(|| InterpError::internal(format!("no values for field {}", check.field.raw())))?;
        let groups = Groups::of(check, result, array.len())?;
        let rows = (0..array.len())
            .filter(|&row| !result.rejected[row] && takes_part(&result.order_when, index, row))
            .filter_map(|row| groups.of_row(row).map(|group| (row, group)));
        let (kind, remember) = (self.kind, self.remember);
        // Counts a compared value, and says whether it breaks the check.
        let mut breaks_check = |ordering: Option<Ordering>| {
            stats.considered += 1;
            let broken = ordering.is_some_and(|ordering| breaks(check, ordering));
            stats.unexpected += u64::from(broken);
            broken
        };
        let mut report = |row: usize, value: String| out.push(OutOfOrder { row, check: index, value });
        // Counts a compared value of a layout with a scalar form, and reports it if it breaks the
        // check (rendered then only).
        let mut compared = |row: usize, ordering: Option<Ordering>, value: Scalar| {
            if breaks_check(ordering) {
                report(row, render_scalar(program, kind, &value).unwrap_or_default());
            }
        };
        match &mut self.previous {
            Previous::Int(previous) => {
                let values = primitive::<Int64Type>(array, kind)?;
                in_order(non_null(values), rows, previous, remember, i64::cmp, |row, ordering, v| {
                    compared(row, ordering, Scalar::Int(v));
                });
            }
            Previous::Number(previous) => {
                let values = primitive::<Float64Type>(array, kind)?;
                // A number is never NaN; an unordered pair would count as equal.
                let cmp = |a: &f64, b: &f64| a.partial_cmp(b).unwrap_or(Ordering::Equal);
                in_order(non_null(values), rows, previous, remember, cmp, |row, ordering, v| {
                    compared(row, ordering, Scalar::Number(v));
                });
            }
            Previous::Date(previous) => {
                let values = primitive::<Date32Type>(array, kind)?;
                in_order(non_null(values), rows, previous, remember, i32::cmp, |row, ordering, v| {
                    compared(row, ordering, Scalar::Date(v));
                });
            }
            Previous::Bool(previous) => {
                let values = array
                    .as_boolean_opt()
                    .ok_or_else(|| InterpError::internal(format!("bool values laid out as {}", array.data_type())))?;
                let value_at = |row| values.is_valid(row).then(|| values.value(row));
                in_order(value_at, rows, previous, remember, bool::cmp, |row, ordering, v| {
                    compared(row, ordering, Scalar::Bool(v));
                });
            }
            Previous::Code(previous) => {
                let values = primitive::<UInt32Type>(array, kind)?;
                in_order(non_null(values), rows, previous, remember, u32::cmp, |row, ordering, v| {
                    compared(row, ordering, Scalar::Code(v));
                });
            }
            // Text is compared as the bytes in its Arrow array, without a scalar per line.
            Previous::Text(previous) => {
                let values = array
                    .as_string_view_opt()
                    .ok_or_else(|| InterpError::internal(format!("text values laid out as {}", array.data_type())))?;
                for (row, group) in rows {
                    if values.is_null(row) {
                        continue;
                    }
                    let value = values.value(row);
                    if breaks_check(previous.compare_and_remember(group, value.as_bytes(), remember)) {
                        report(row, value.to_owned());
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether a value that compares with the previous one as `ordering` breaks `check`.
fn breaks(check: &OrderCheck, ordering: Ordering) -> bool {
    match check.sequence {
        Sequence::Increasing { strict: false } => ordering == Ordering::Less,
        Sequence::Increasing { strict: true } => ordering != Ordering::Greater,
        Sequence::Decreasing { strict: false } => ordering == Ordering::Greater,
        Sequence::Decreasing { strict: true } => ordering != Ordering::Less,
        Sequence::Consistent => ordering != Ordering::Equal,
    }
}

/// The values of `array` as the primitive layout of `kind`.
fn primitive<A: ArrowPrimitiveType>(array: &ArrayRef, kind: TypeKind) -> Result<&PrimitiveArray<A>, InterpError> {
    array
        .as_primitive_opt::<A>()
        .ok_or_else(|| InterpError::internal(format!("{kind:?} values laid out as {}", array.data_type())))
}

/// The value of each row of `values`, `None` where it is null.
fn non_null<A: ArrowPrimitiveType>(values: &PrimitiveArray<A>) -> impl Fn(usize) -> Option<A::Native> + '_ {
    |row| values.is_valid(row).then(|| values.value(row))
}

/// Calls `compared` with each non-null value of `rows` (each with its group; `value_at` gives a
/// row's value), in order, and how it compares with the remembered value of its group (`None` for
/// the group's first value), which it replaces as `remember` says.
fn in_order<T: Copy>(
    value_at: impl Fn(usize) -> Option<T>,
    rows: impl Iterator<Item = (usize, u128)>,
    memory: &mut Memory<T>,
    remember: Remember,
    cmp: impl Fn(&T, &T) -> Ordering,
    mut compared: impl FnMut(usize, Option<Ordering>, T),
) {
    for (row, group) in rows {
        let Some(value) = value_at(row) else { continue };
        let ordering = memory.remember(group, value, remember).map(|other| cmp(&value, &other));
        compared(row, ordering, value);
    }
}

/// The groups of one batch's lines under a check's `per` key.
enum Groups<'r> {
    /// No key: every line is in the file's one group.
    File,
    /// Each line's key hash; its parts, to tell a key that is all null (no group).
    Keyed { hashes: Vec<u128>, parts: Vec<&'r ArrayRef> },
}

impl<'r> Groups<'r> {
    fn of(check: &OrderCheck, result: &'r BatchResult, len: usize) -> Result<Groups<'r>, InterpError> {
        if check.per.is_empty() {
            return Ok(Groups::File);
        }
        let parts = check
            .per
            .iter()
            .map(|&field| {
                result
                    .fields
                    .get(field.index())
                    .ok_or_else(|| InterpError::internal(format!("no values for key field {}", field.raw())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Groups::Keyed { hashes: keyhash::key_hashes(&parts, len)?, parts })
    }

    /// The group of row `row`: `None` when its key is all null (it takes no part).
    fn of_row(&self, row: usize) -> Option<u128> {
        match self {
            Groups::File => Some(0),
            Groups::Keyed { hashes, parts } => parts.iter().any(|part| part.is_valid(row)).then(|| hashes[row]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each group keeps its own previous text, through values that grow past their slot and
    /// shrink back, and the buffer grows with the groups' longest values, not with the lines.
    #[test]
    fn each_group_compares_with_its_own_previous_text() {
        let mut memory = TextMemory::new(true);
        let mut seen = Vec::new();
        for _ in 0..1_000 {
            for (group, value) in [(1, "b"), (2, "a"), (1, "bbbbbbbbbbbbbbbbbbbbbbbb"), (2, "a"), (1, "c")] {
                seen.push(memory.compare_and_remember(group, value.as_bytes(), Remember::Previous));
            }
        }
        let first_round = [None, None, Some(Ordering::Greater), Some(Ordering::Equal), Some(Ordering::Greater)];
        assert_eq!(seen[..5], first_round);
        // From the second round on, group 1 comes back from `c` to `b`.
        let next_rounds = [Some(Ordering::Less), Some(Ordering::Equal)];
        assert_eq!(seen[5..7], next_rounds);
        let TextMemory::Groups { bytes, slots } = &memory else { panic!("grouped memory") };
        assert_eq!(slots.len(), 2);
        assert!(bytes.len() <= 1 + 1 + 2 * 24, "the buffer holds {} bytes", bytes.len());
        // A shorter value in a slot is read at its own length, not the slot's.
        let shrinking: Vec<_> = ["abc", "ab", "abc"]
            .iter()
            .map(|v| memory.compare_and_remember(3, v.as_bytes(), Remember::Previous))
            .collect();
        assert_eq!(shrinking, [None, Some(Ordering::Less), Some(Ordering::Greater)]);
    }

    #[test]
    fn without_groups_every_value_is_compared_with_the_file_previous_one() {
        let mut text = TextMemory::new(false);
        assert_eq!(text.compare_and_remember(1, b"b", Remember::Previous), None);
        assert_eq!(text.compare_and_remember(2, b"a", Remember::Previous), Some(Ordering::Less));
        let mut ints = Memory::new(false);
        assert_eq!(ints.remember(1, 5, Remember::Previous), None);
        assert_eq!(ints.remember(2, 7, Remember::Previous), Some(5));
        let mut grouped = Memory::new(true);
        assert_eq!(grouped.remember(1, 5, Remember::Previous), None);
        assert_eq!(grouped.remember(2, 7, Remember::Previous), None);
        assert_eq!(grouped.remember(1, 3, Remember::Previous), Some(5));
    }

    /// Consistency compares every value with the first of its group (or of the file), which a
    /// value that differs does not replace, in every memory.
    #[test]
    fn the_first_value_stays_for_consistency() {
        for grouped in [false, true] {
            let mut text = TextMemory::new(grouped);
            let seen: Vec<_> = ["b", "a", "bb", "b"]
                .iter()
                .map(|v| text.compare_and_remember(1, v.as_bytes(), Remember::First))
                .collect();
            assert_eq!(seen, [None, Some(Ordering::Less), Some(Ordering::Greater), Some(Ordering::Equal)]);
            let mut ints = Memory::new(grouped);
            let seen: Vec<_> = [5, 7, 5, 3].iter().map(|v| ints.remember(1, *v, Remember::First)).collect();
            assert_eq!(seen, [None, Some(5), Some(5), Some(5)]);
        }
        let mut grouped = TextMemory::new(true);
        assert_eq!(grouped.compare_and_remember(1, b"x", Remember::First), None);
        assert_eq!(grouped.compare_and_remember(2, b"y", Remember::First), None);
        assert_eq!(grouped.compare_and_remember(2, b"x", Remember::First), Some(Ordering::Less));
        assert_eq!(grouped.compare_and_remember(1, b"x", Remember::First), Some(Ordering::Equal));
    }
}
