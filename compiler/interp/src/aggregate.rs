//! Partial aggregate states: computed per batch, merged in any order, read at the end of a file.
//!
//! Every state merges associatively and commutatively, and reads the same value however the file
//! was cut into batches and in whatever order the workers finished them: a file must not pass a
//! check on one run and fail it on the next.
//!
//! Sums are kept as `i128` so that adding any number of `i64` values never overflows (it would
//! take 2^64 of them); the final value is null when the exact sum does not fit `i64`.
//!
//! Sums of numbers are exact too ([`NumberSum`]): an `f64` sum rounded after every addition would
//! depend on the batches. The exact sum is rounded once, when read, and is null when that is not
//! finite. The mean and the standard deviation are built on such sums (of the values and of their
//! exact squares); the standard deviation sums the squared deviations from the mean exactly, so
//! it does not cancel away when the mean is large against the spread.
//!
//! The median and the quantiles keep every non-null value ([`ValueList`], 8 bytes each, 4 for
//! dates) and select the order statistics when read; the distinct count keeps the distinct values.
//! These follow Great Expectations' pandas semantics (see `AggregateFunction`'s docs).

use std::cmp::Ordering;
use std::sync::Arc;

use etr_ir::{Aggregate, AggregateFunction, F64, Program, TypeKind};
use hashbrown::HashSet;

use crate::error::InterpError;
use crate::value::{Column, Scalar};

/// The partial state of one aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a file has a handful of aggregates; boxing the exact sums would allocate for no gain"
)]
pub enum AggregateState {
    /// The number of data lines seen (`count`, `lines_broken`), or of lines where the argument
    /// was true (`count_where`).
    Count(u64),
    /// The exact sum of the non-null values seen; `overflow` once it left `i128` (never in practice).
    Sum { sum: i128, overflow: bool },
    /// The exact sum of the non-null `number` values seen.
    NumberSum(NumberSum),
    /// The smallest non-null value seen; null before any.
    Min(Scalar),
    /// The largest non-null value seen; null before any.
    Max(Scalar),
    /// The distinct non-null values seen.
    Distinct(HashSet<Scalar>),
    /// The number and the exact sum of the non-null values seen (as numbers; `true` is 1).
    Mean { count: u64, sum: NumberSum },
    /// The number, the exact sum and the exact sum of squares of the non-null values seen.
    Stdev { count: u64, sum: NumberSum, squares: NumberSum },
    /// Every non-null value seen.
    Median(ValueList),
    /// Every non-null value seen, and the quantile to read.
    Quantile { q: F64, values: ValueList },
    /// How often each distinct non-null value was seen (read as the sorted list of the values;
    /// the counts are the check's value counts).
    DistinctList(hashbrown::HashMap<Scalar, u64>),
    /// How often each non-null value was seen (read as the sorted list of the most common).
    Modes(hashbrown::HashMap<Scalar, u64>),
}

impl AggregateState {
    fn empty(aggregate: &Aggregate) -> AggregateState {
        let kind = aggregate.argument.as_ref().map_or(TypeKind::Null, |a| a.ty.kind);
        match aggregate.function {
            AggregateFunction::Count | AggregateFunction::LinesBroken(_) | AggregateFunction::CountWhere => {
                AggregateState::Count(0)
            }
            AggregateFunction::Sum if kind == TypeKind::Number => AggregateState::NumberSum(NumberSum::new()),
            AggregateFunction::Sum => AggregateState::Sum { sum: 0, overflow: false },
            AggregateFunction::CountDistinct => AggregateState::Distinct(HashSet::new()),
            AggregateFunction::Min => AggregateState::Min(Scalar::Null),
            AggregateFunction::Max => AggregateState::Max(Scalar::Null),
            AggregateFunction::Mean => AggregateState::Mean { count: 0, sum: NumberSum::new() },
            AggregateFunction::Stdev => {
                AggregateState::Stdev { count: 0, sum: NumberSum::new(), squares: NumberSum::new() }
            }
            AggregateFunction::Median => AggregateState::Median(ValueList::new(kind)),
            AggregateFunction::Quantile(q) => AggregateState::Quantile { q, values: ValueList::new(kind) },
            AggregateFunction::DistinctValues => AggregateState::DistinctList(hashbrown::HashMap::new()),
            AggregateFunction::Modes => AggregateState::Modes(hashbrown::HashMap::new()),
        }
    }

    /// Adds one batch's values of the argument (one slot per line, nulls ignored) to the states
    /// of `count_where`, `count_distinct`, `min`, `max`, `mean`, `stdev`, `median` and `quantile`.
    pub(crate) fn add_column(&mut self, column: &Column) -> Result<(), InterpError> {
        if column.nulls().is_some_and(|n| n.null_count() == column.len()) {
            // Nothing to add; also the null literal's column, whose layout is arbitrary.
            return Ok(());
        }
        match (self, column) {
            (AggregateState::Count(n), Column::Bool(values)) => *n += values.true_count() as u64,
            (AggregateState::Distinct(set), column) => add_distinct(set, column),
            (AggregateState::DistinctList(counts), column) => {
                for_each_scalar(column, |value| *counts.entry(value).or_insert(0) += 1);
            }
            (AggregateState::Modes(counts), column) => {
                let mut values = HashSet::new();
                // One pass per batch: count this batch's values, then add them up.
                let mut batch: hashbrown::HashMap<Scalar, u64> = hashbrown::HashMap::new();
                for_each_scalar(column, |value| *batch.entry(value).or_insert(0) += 1);
                values.extend(batch.keys().cloned());
                for (value, n) in batch {
                    *counts.entry(value).or_insert(0) += n;
                }
            }
            (AggregateState::Min(value), column) => {
                if let Some(candidate) = extreme(column, Ordering::Less) {
                    keep_extreme(value, &candidate, Ordering::Less)?;
                }
            }
            (AggregateState::Max(value), column) => {
                if let Some(candidate) = extreme(column, Ordering::Greater) {
                    keep_extreme(value, &candidate, Ordering::Greater)?;
                }
            }
            (AggregateState::Mean { count, sum }, column) => for_each_number(column, |x| {
                *count += 1;
                sum.add(x);
            })?,
            (AggregateState::Stdev { count, sum, squares }, column) => for_each_number(column, |x| {
                *count += 1;
                sum.add(x);
                // `x * x` exactly, as the rounded product and its rounding error.
                let square = x * x;
                squares.add(square);
                squares.add(x.mul_add(x, -square));
            })?,
            (AggregateState::Median(values) | AggregateState::Quantile { values, .. }, column) => {
                values.extend(column)?;
            }
            (state, column) => {
                return Err(InterpError::internal(format!(
                    "a {:?} column added to the aggregate state {state:?}",
                    column.phys()
                )));
            }
        }
        Ok(())
    }

    fn merge(&mut self, other: &AggregateState) -> Result<(), InterpError> {
        match (self, other) {
            (AggregateState::Count(a), AggregateState::Count(b)) => *a += b,
            (AggregateState::Sum { sum, overflow }, AggregateState::Sum { sum: other, overflow: other_overflow }) => {
                match sum.checked_add(*other) {
                    Some(total) => *sum = total,
                    None => *overflow = true,
                }
                *overflow |= other_overflow;
            }
            (AggregateState::NumberSum(a), AggregateState::NumberSum(b)) => a.merge(b),
            (AggregateState::Min(a), AggregateState::Min(b)) => keep_extreme(a, b, Ordering::Less)?,
            (AggregateState::Max(a), AggregateState::Max(b)) => keep_extreme(a, b, Ordering::Greater)?,
            (AggregateState::Distinct(a), AggregateState::Distinct(b)) => a.extend(b.iter().cloned()),
            (AggregateState::DistinctList(a), AggregateState::DistinctList(b)) => {
                for (value, n) in b {
                    *a.entry(value.clone()).or_insert(0) += n;
                }
            }
            (AggregateState::Modes(a), AggregateState::Modes(b)) => {
                for (value, n) in b {
                    *a.entry(value.clone()).or_insert(0) += n;
                }
            }
            (AggregateState::Mean { count, sum }, AggregateState::Mean { count: other_count, sum: other_sum }) => {
                *count += other_count;
                sum.merge(other_sum);
            }
            (
                AggregateState::Stdev { count, sum, squares },
                AggregateState::Stdev { count: other_count, sum: other_sum, squares: other_squares },
            ) => {
                *count += other_count;
                sum.merge(other_sum);
                squares.merge(other_squares);
            }
            (AggregateState::Median(a), AggregateState::Median(b)) => a.merge(b)?,
            (AggregateState::Quantile { q, values }, AggregateState::Quantile { q: other_q, values: other })
                if q == other_q =>
            {
                values.merge(other)?;
            }
            _ => return Err(InterpError::internal("merging states of different aggregates")),
        }
        Ok(())
    }

    /// For `distinct_values`: each distinct value with how often it was seen, sorted by value.
    pub fn value_counts(&self) -> Option<Vec<(Scalar, u64)>> {
        let AggregateState::DistinctList(counts) = self else { return None };
        let mut pairs: Vec<(Scalar, u64)> = counts.iter().map(|(v, n)| (v.clone(), *n)).collect();
        pairs.sort_by(|a, b| crate::value::compare_scalars(&a.0, &b.0));
        Some(pairs)
    }

    /// The final value: the count, the sum when it fits `i64` (else null), the number sum rounded
    /// to the nearest `f64` when that is finite (else null), the extreme, the number of distinct
    /// values, the mean, the sample standard deviation, the median or the quantile (see
    /// `AggregateFunction` for when each is null).
    pub fn value(&self) -> Scalar {
        match self {
            AggregateState::NumberSum(sum) => sum.value().map_or(Scalar::Null, Scalar::Number),
            AggregateState::Count(n) => i64::try_from(*n).map_or(Scalar::Null, Scalar::Int),
            AggregateState::Sum { overflow: true, .. } => Scalar::Null,
            AggregateState::Sum { sum, .. } => i64::try_from(*sum).map_or(Scalar::Null, Scalar::Int),
            AggregateState::Min(value) | AggregateState::Max(value) => value.clone(),
            AggregateState::Distinct(set) => i64::try_from(set.len()).map_or(Scalar::Null, Scalar::Int),
            AggregateState::Mean { count, sum } => mean(*count, sum).map_or(Scalar::Null, Scalar::Number),
            AggregateState::Stdev { count, sum, squares } => {
                stdev(*count, sum, squares).map_or(Scalar::Null, Scalar::Number)
            }
            AggregateState::Median(values) => values.median().map_or(Scalar::Null, Scalar::Number),
            AggregateState::Quantile { q, values } => values.quantile(q.0),
            AggregateState::DistinctList(counts) => crate::value::sorted_list(counts.keys().cloned().collect()),
            AggregateState::Modes(counts) => {
                let top = counts.values().copied().max().unwrap_or(0);
                crate::value::sorted_list(counts.iter().filter(|(_, n)| **n == top).map(|(v, _)| v.clone()).collect())
            }
        }
    }
}

/// One state per aggregate of the program, in `Program::aggregates` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateStates {
    pub states: Vec<AggregateState>,
}

impl AggregateStates {
    /// The states before any line: counts and sums of zero, no values.
    pub fn new(program: &Program) -> AggregateStates {
        AggregateStates { states: program.aggregates.iter().map(AggregateState::empty).collect() }
    }

    /// Adds `other`'s lines to these states.
    pub fn merge(&mut self, other: &AggregateStates) -> Result<(), InterpError> {
        if self.states.len() != other.states.len() {
            return Err(InterpError::internal("merging aggregate states of different programs"));
        }
        for (a, b) in self.states.iter_mut().zip(&other.states) {
            a.merge(b)?;
        }
        Ok(())
    }

    /// The final values, in `Program::aggregates` order.
    pub fn values(&self) -> Vec<Scalar> {
        self.states.iter().map(AggregateState::value).collect()
    }
}

/// Every non-null value of a `median` or `quantile` argument, in its layout: ints and money
/// (sen) as `i64`, numbers as `f64`, dates and months as days. The order is the order of arrival,
/// which depends on the batches: equality compares the values as multisets, and reading selects
/// order statistics, so neither depends on it.
#[derive(Debug, Clone)]
pub enum ValueList {
    Int(Vec<i64>),
    Number(Vec<f64>),
    Date(Vec<i32>),
}

impl ValueList {
    /// The empty list for an argument of kind `kind` (a kind with no order statistics gets an int
    /// list, which then refuses its values as broken IR).
    pub fn new(kind: TypeKind) -> ValueList {
        match kind {
            TypeKind::Number => ValueList::Number(Vec::new()),
            TypeKind::Date | TypeKind::Month => ValueList::Date(Vec::new()),
            _ => ValueList::Int(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ValueList::Int(v) => v.len(),
            ValueList::Number(v) => v.len(),
            ValueList::Date(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the non-null values of `column`.
    fn extend(&mut self, column: &Column) -> Result<(), InterpError> {
        match (self, column) {
            (ValueList::Int(list), Column::Int(values)) => list.extend(values.iter().flatten()),
            (ValueList::Number(list), Column::Number(values)) => list.extend(values.iter().flatten()),
            (ValueList::Date(list), Column::Date(values)) => list.extend(values.iter().flatten()),
            (_, column) => {
                return Err(InterpError::internal(format!("order statistics of a {:?} column", column.phys())));
            }
        }
        Ok(())
    }

    fn merge(&mut self, other: &ValueList) -> Result<(), InterpError> {
        match (self, other) {
            (ValueList::Int(a), ValueList::Int(b)) => a.extend_from_slice(b),
            (ValueList::Number(a), ValueList::Number(b)) => a.extend_from_slice(b),
            (ValueList::Date(a), ValueList::Date(b)) => a.extend_from_slice(b),
            _ => return Err(InterpError::internal("merging value lists of different layouts")),
        }
        Ok(())
    }

    /// The median as a number: the middle value, or the mean of the two middle values for an even
    /// count (as `numpy.median` computes it, over the values converted to `f64`); `None` when empty.
    pub fn median(&self) -> Option<f64> {
        match self {
            ValueList::Int(v) => median_of(v, i64::cmp, |x| x as f64),
            ValueList::Number(v) => median_of(v, f64::total_cmp, |x| x),
            ValueList::Date(v) => median_of(v, i32::cmp, f64::from),
        }
    }

    /// The quantile `q` by nearest rank, as pandas' `Series.quantile(q, interpolation="nearest")`
    /// computes it: pandas hands numpy the percentile `q * 100`, which numpy divides by 100 again,
    /// then takes the value at position `(n - 1) * q` rounded half to even (`numpy.around`) of the
    /// sorted values. Null when empty.
    pub fn quantile(&self, q: f64) -> Scalar {
        let n = self.len();
        if n == 0 {
            return Scalar::Null;
        }
        let q = q * 100.0 / 100.0;
        // A float-to-int cast saturates: a (broken) negative or NaN quantile reads the smallest.
        let rank = (((n - 1) as f64 * q).round_ties_even() as usize).min(n - 1);
        match self {
            ValueList::Int(v) => Scalar::Int(nth(v, rank, i64::cmp)),
            ValueList::Number(v) => Scalar::Number(nth(v, rank, f64::total_cmp)),
            ValueList::Date(v) => Scalar::Date(nth(v, rank, i32::cmp)),
        }
    }

    /// The values in order (numbers by `total_cmp`), for comparing lists as multisets.
    fn sorted(&self) -> ValueList {
        let mut copy = self.clone();
        match &mut copy {
            ValueList::Int(v) => v.sort_unstable(),
            ValueList::Number(v) => v.sort_unstable_by(f64::total_cmp),
            ValueList::Date(v) => v.sort_unstable(),
        }
        copy
    }
}

/// Two lists are equal when they hold the same values the same number of times, whatever the
/// order they arrived in (numbers compared by their bits).
impl PartialEq for ValueList {
    fn eq(&self, other: &ValueList) -> bool {
        if self.len() != other.len() {
            return false;
        }
        match (self.sorted(), other.sorted()) {
            (ValueList::Int(a), ValueList::Int(b)) => a == b,
            (ValueList::Number(a), ValueList::Number(b)) => {
                a.iter().map(|x| x.to_bits()).eq(b.iter().map(|x| x.to_bits()))
            }
            (ValueList::Date(a), ValueList::Date(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for ValueList {}

/// The value of rank `rank` (from 0) among `values` in the order `cmp`; `rank < values.len()`.
/// Selects on a copy: reading a state leaves it as it was.
fn nth<T: Copy>(values: &[T], rank: usize, cmp: impl Fn(&T, &T) -> Ordering) -> T {
    let mut copy = values.to_vec();
    *copy.select_nth_unstable_by(rank, cmp).1
}

fn median_of<T: Copy>(values: &[T], cmp: impl Fn(&T, &T) -> Ordering, to_f64: impl Fn(T) -> f64) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mut copy = values.to_vec();
    let (below, upper, _) = copy.select_nth_unstable_by(n / 2, &cmp);
    let upper = to_f64(*upper);
    if n % 2 == 1 {
        return Some(upper);
    }
    // The lower middle value is the largest of those ranked below the upper one.
    let lower = below.iter().copied().max_by(&cmp).map_or(upper, &to_f64);
    let sum = lower + upper;
    // Halving is exact, so `lower / 2 + upper / 2` rounds like `sum / 2` unless `sum` overflows.
    Some(if sum.is_finite() { sum / 2.0 } else { lower / 2.0 + upper / 2.0 })
}

/// The order of two values of the same layout: numbers by `total_cmp` (so `-0.0 < 0.0` and the
/// extreme does not depend on which came first), text by code point (UTF-8 byte order is code
/// point order). `None` for values of different layouts.
fn compare(a: &Scalar, b: &Scalar) -> Option<Ordering> {
    Some(match (a, b) {
        (Scalar::Int(a), Scalar::Int(b)) => a.cmp(b),
        (Scalar::Number(a), Scalar::Number(b)) => a.total_cmp(b),
        (Scalar::Date(a), Scalar::Date(b)) => a.cmp(b),
        (Scalar::Text(a), Scalar::Text(b)) => a.cmp(b),
        (Scalar::Bool(a), Scalar::Bool(b)) => a.cmp(b),
        (Scalar::Code(a), Scalar::Code(b)) => a.cmp(b),
        _ => return None,
    })
}

/// Replaces `current` by `candidate` when `candidate` is non-null and `current` is null or
/// `candidate` is further in direction `keep` (`Less` for the minimum).
fn keep_extreme(current: &mut Scalar, candidate: &Scalar, keep: Ordering) -> Result<(), InterpError> {
    if candidate.is_null() {
        return Ok(());
    }
    if current.is_null() {
        *current = candidate.clone();
        return Ok(());
    }
    match compare(candidate, current) {
        Some(order) if order == keep => *current = candidate.clone(),
        Some(_) => {}
        None => return Err(InterpError::internal(format!("comparing {candidate:?} with {current:?}"))),
    }
    Ok(())
}

/// The smallest (`keep` = `Less`) or largest non-null value of `column`; `None` when all are null.
fn extreme(column: &Column, keep: Ordering) -> Option<Scalar> {
    fn pick<T>(values: impl Iterator<Item = T>, keep: Ordering, cmp: impl Fn(&T, &T) -> Ordering) -> Option<T> {
        values.reduce(|best, x| if cmp(&x, &best) == keep { x } else { best })
    }
    match column {
        Column::Int(a) => pick(a.iter().flatten(), keep, i64::cmp).map(Scalar::Int),
        Column::Number(a) => pick(a.iter().flatten(), keep, f64::total_cmp).map(Scalar::Number),
        Column::Date(a) => pick(a.iter().flatten(), keep, i32::cmp).map(Scalar::Date),
        Column::Text(a) => {
            pick(a.iter().flatten(), keep, |x: &&str, y: &&str| x.cmp(y)).map(|s| Scalar::Text(Arc::from(s)))
        }
        Column::Bool(a) => pick(a.iter().flatten(), keep, bool::cmp).map(Scalar::Bool),
        Column::Code(a) => pick(a.iter().flatten(), keep, u32::cmp).map(Scalar::Code),
    }
}

/// Adds the distinct non-null values of `column` to `set`. Text is deduplicated within the batch
/// first, so that a value repeated in the batch is copied once.
fn add_distinct(set: &mut HashSet<Scalar>, column: &Column) {
    match column {
        Column::Int(a) => set.extend(a.iter().flatten().map(Scalar::Int)),
        Column::Number(a) => set.extend(a.iter().flatten().map(Scalar::Number)),
        Column::Date(a) => set.extend(a.iter().flatten().map(Scalar::Date)),
        Column::Bool(a) => set.extend(a.iter().flatten().map(Scalar::Bool)),
        Column::Code(a) => set.extend(a.iter().flatten().map(Scalar::Code)),
        Column::Text(a) => {
            let batch: HashSet<&str> = a.iter().flatten().collect();
            set.extend(batch.into_iter().map(|s| Scalar::Text(Arc::from(s))));
        }
    }
}

/// Calls `f` with every non-null value of a column as a scalar.
fn for_each_scalar(column: &Column, mut f: impl FnMut(Scalar)) {
    match column {
        Column::Int(a) => a.iter().flatten().for_each(|v| f(Scalar::Int(v))),
        Column::Number(a) => a.iter().flatten().for_each(|v| f(Scalar::Number(v))),
        Column::Date(a) => a.iter().flatten().for_each(|v| f(Scalar::Date(v))),
        Column::Bool(a) => a.iter().flatten().for_each(|v| f(Scalar::Bool(v))),
        Column::Code(a) => a.iter().flatten().for_each(|v| f(Scalar::Code(v))),
        Column::Text(a) => a.iter().flatten().for_each(|v| f(Scalar::Text(Arc::from(v)))),
    }
}

/// Calls `f` with every non-null value of a numeric column as an `f64` (ints and money as is,
/// `true` as 1 and `false` as 0), as pandas converts them before a mean or a variance.
fn for_each_number(column: &Column, mut f: impl FnMut(f64)) -> Result<(), InterpError> {
    match column {
        Column::Int(a) => a.iter().flatten().for_each(|x| f(x as f64)),
        Column::Number(a) => a.iter().flatten().for_each(f),
        Column::Bool(a) => a.iter().flatten().for_each(|x| f(if x { 1.0 } else { 0.0 })),
        other => return Err(InterpError::internal(format!("a mean of a {:?} column", other.phys()))),
    }
    Ok(())
}

/// The mean `sum / count`: the exact sum divided in double-double, then rounded; `None` over no
/// value or when the sum is not finite.
fn mean(count: u64, sum: &NumberSum) -> Option<f64> {
    if count == 0 {
        return None;
    }
    let mean = dd::div(sum.split::<2>()?.into(), count as f64).0;
    mean.is_finite().then_some(mean)
}

/// The sample standard deviation `sqrt(Σ(x - m)² / (n - 1))` with `m` the mean. With `c` the
/// rounded mean, the sum of squared deviations is `Σx² - 2cΣx + nc² - (Σx - nc)²/n`, computed in
/// a [`NumberSum`] from the exact sums (`Σx` taken to about 159 bits, every product split exactly
/// into two `f64`): nothing cancels however large the mean is against the spread, and the sum is
/// rounded once. `None` with
/// fewer than two values or a sum that is not finite.
fn stdev(count: u64, sum: &NumberSum, squares: &NumberSum) -> Option<f64> {
    if count < 2 {
        return None;
    }
    let n = count as f64;
    squares.value()?;
    let c = mean(count, sum)?;
    let mut deviations = *squares;
    let mut add_product = |a: f64, b: f64| {
        let (p, e) = dd::two_prod(a, b);
        deviations.add(p);
        deviations.add(e);
    };
    for part in sum.split::<3>()? {
        add_product(-2.0 * c, part);
    }
    let (square, error) = dd::two_prod(c, c);
    add_product(n, square);
    add_product(n, error);
    // The rounded mean `c` misses the true mean `m` by `r / n`, which adds `r² / n` to the sum of
    // squared deviations from `c`: take it off. `r` itself is exact before it is rounded.
    let mut residual = *sum;
    let (p, e) = dd::two_prod(n, c);
    residual.add(-p);
    residual.add(-e);
    let r = residual.value()?;
    deviations.add(-(r * r / n));
    let variance = dd::div(deviations.split::<2>()?.into(), n - 1.0).0;
    // The exact sum of squares is never negative; the clamp only guards the last bits of `Σx`.
    let stdev = variance.max(0.0).sqrt();
    stdev.is_finite().then_some(stdev)
}

/// Double-double arithmetic: a value as an unevaluated sum `hi + lo` of two `f64` with
/// `|lo| <= ulp(hi) / 2`, about 106 bits (Dekker; Hida, Li and Bailey's QD library). Every step is
/// a fixed sequence of correctly rounded operations, so the results do not vary between machines.
mod dd {
    pub(super) type Dd = (f64, f64);

    /// `a + b` exactly as a sum of two `f64`, given `|a| >= |b|`.
    fn quick_two_sum(a: f64, b: f64) -> Dd {
        let s = a + b;
        (s, b - (s - a))
    }

    /// `a + b` exactly as a sum of two `f64`.
    fn two_sum(a: f64, b: f64) -> Dd {
        let s = a + b;
        let v = s - a;
        (s, (a - (s - v)) + (b - v))
    }

    /// `a * b` exactly as a sum of two `f64` (barring underflow).
    pub(super) fn two_prod(a: f64, b: f64) -> Dd {
        let p = a * b;
        (p, a.mul_add(b, -p))
    }

    pub(super) fn div(a: Dd, b: f64) -> Dd {
        let q1 = a.0 / b;
        // The remainder `a - q1 * b`, exactly up to `a.1`'s rounding.
        let (p, e) = two_prod(q1, b);
        let (s, f) = two_sum(a.0, -p);
        let q2 = (s + (f - e + a.1)) / b;
        quick_two_sum(q1, q2)
    }
}

/// The number of base-2^32 digits of a [`NumberSum`]. A finite `f64` is a multiple of 2^-1074 (the
/// smallest subnormal) below 2^1024, so 2098 bits hold any one value in those units, and 64 more
/// hold the sum of 2^64 of them: 68 digits hold 2176 bits.
const DIGITS: usize = 68;

/// Additions between two carry propagations. A normalised digit is below 2^32 and an addition adds
/// less than 2^32 to it, so a digit stays far below `i64::MAX` (2^63) over 2^30 additions.
const CARRY_EVERY: u32 = 1 << 30;

/// The exact sum of `f64` values: a signed fixed-point integer counting units of 2^-1074, so that
/// neither adding nor merging ever rounds. [`NumberSum::value`] rounds once, to nearest-even.
#[derive(Debug, Clone, Copy)]
pub struct NumberSum {
    /// Little-endian base-2^32 digits: the sum is `sum(digits[k] * 2^(32 k))` units. Each digit is an
    /// `i64` so that carries can wait ([`CARRY_EVERY`]); normalised, every digit but the last is in
    /// `0..2^32` and the last holds the sign.
    digits: [i64; DIGITS],
    /// Additions since the digits were last normalised.
    pending: u32,
    /// A value that is not finite was added (the evaluator never produces one; kept so that such a
    /// value makes the sum null rather than wrong).
    non_finite: bool,
}

impl NumberSum {
    /// The empty sum (zero).
    pub fn new() -> NumberSum {
        NumberSum { digits: [0; DIGITS], pending: 0, non_finite: false }
    }

    /// Adds one value, exactly.
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            self.non_finite = true;
            return;
        }
        let bits = value.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as usize;
        let fraction = bits & ((1 << 52) - 1);
        // A normal value is `(2^52 + fraction) * 2^(biased - 1075)`, that is `2^(biased - 1)` units;
        // a subnormal one is `fraction` units.
        let (mantissa, shift) = if biased == 0 { (fraction, 0) } else { (fraction | (1 << 52), biased - 1) };
        if mantissa == 0 {
            return;
        }
        let sign = if value < 0.0 { -1 } else { 1 };
        // At most 53 + 31 = 84 bits, over three digits; `shift / 32 + 2` is at most 65.
        let wide = (mantissa as u128) << (shift % 32);
        let k = shift / 32;
        for (j, digit) in self.digits[k..k + 3].iter_mut().enumerate() {
            *digit += sign * ((wide >> (32 * j)) as u64 & 0xffff_ffff) as i64;
        }
        self.pending += 1;
        if self.pending >= CARRY_EVERY {
            self.normalize();
        }
    }

    /// Adds `other`'s values, exactly.
    pub fn merge(&mut self, other: &NumberSum) {
        self.normalize();
        let other = other.normalized();
        for (a, b) in self.digits.iter_mut().zip(other.digits) {
            *a += b;
        }
        self.non_finite |= other.non_finite;
        self.normalize();
    }

    /// The sum rounded to the nearest `f64` (ties to even); `None` when that is not finite. An exact
    /// zero is `0.0`, never `-0.0`.
    pub fn value(&self) -> Option<f64> {
        if self.non_finite {
            return None;
        }
        let mut sum = self.normalized();
        let negative = sum.digits[DIGITS - 1] < 0;
        if negative {
            for digit in &mut sum.digits {
                *digit = -*digit;
            }
            sum.normalize();
        }
        let digits = &sum.digits;
        let Some(top) = digits.iter().rposition(|&d| d != 0) else { return Some(0.0) };
        // The (up to) 96 bits of the three highest digits, and whether any bit below them is set.
        let low = top.saturating_sub(2);
        let head = (low..=top).rev().fold(0u128, |acc, k| (acc << 32) | digits[k] as u128);
        let below = digits[..low].iter().any(|&d| d != 0);
        let zeros = head.leading_zeros();
        let aligned = head << zeros;
        // 64 bits with the highest set, and a sticky bit for everything under them: converting
        // that to `f64` rounds to 53 bits exactly as rounding the whole sum would. When the sum is
        // subnormal it has fewer than 53 bits, all in `head`, and nothing is rounded.
        let sticky = u64::from(below || aligned as u64 != 0);
        let rounded = (((aligned >> 64) as u64) | sticky) as f64;
        let exponent = 64 - zeros as i32 + 32 * low as i32 - 1074;
        let magnitude = scale_by_power_of_two(rounded, exponent);
        let value = if negative { -magnitude } else { magnitude };
        value.is_finite().then_some(value)
    }

    /// The sum as `N` non-overlapping `f64` parts, largest first: the first is
    /// [`NumberSum::value`], each next one the rest of the sum rounded, so that together they hold
    /// about `53 N` bits of it; `None` when the first is not finite.
    pub fn split<const N: usize>(&self) -> Option<[f64; N]> {
        let mut rest = *self;
        let mut parts = [0.0; N];
        for part in &mut parts {
            // Exact: every part is a multiple of the unit, and each rest is smaller than the last.
            *part = rest.value()?;
            rest.add(-*part);
        }
        Some(parts)
    }

    /// Propagates the carries: every digit but the last into `0..2^32`.
    fn normalize(&mut self) {
        for k in 0..DIGITS - 1 {
            let carry = self.digits[k] >> 32;
            self.digits[k] -= carry << 32;
            self.digits[k + 1] += carry;
        }
        self.pending = 0;
    }

    fn normalized(&self) -> NumberSum {
        let mut copy = *self;
        copy.normalize();
        copy
    }
}

impl Default for NumberSum {
    fn default() -> NumberSum {
        NumberSum::new()
    }
}

/// Two sums are equal when they hold the same value, however far their carries have gone.
impl PartialEq for NumberSum {
    fn eq(&self, other: &NumberSum) -> bool {
        let (a, b) = (self.normalized(), other.normalized());
        a.digits == b.digits && a.non_finite == b.non_finite
    }
}

impl Eq for NumberSum {}

/// `value * 2^exponent`, exact whenever the result is representable: the steps never leave the
/// normal range before the last one (the callers' `value` is at least 2^63).
fn scale_by_power_of_two(mut value: f64, mut exponent: i32) -> f64 {
    let power = |e: i32| f64::from_bits(((e + 1023) as u64) << 52);
    while exponent > 1000 {
        value *= power(1000);
        exponent -= 1000;
    }
    while exponent < -1000 {
        value *= power(-1000);
        exponent += 1000;
    }
    value * power(exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_of(values: &[f64]) -> Option<f64> {
        let mut sum = NumberSum::new();
        for &v in values {
            sum.add(v);
        }
        sum.value()
    }

    #[test]
    fn number_sums_are_exact_then_rounded_once() {
        let bits = |v: Option<f64>| v.map(f64::to_bits);
        let cases: &[(&[f64], Option<f64>)] = &[
            (&[], Some(0.0)),
            (&[1.5, 2.25], Some(3.75)),
            (&[0.1, 0.2], Some(0.30000000000000004)),
            // Rounded once: a naive left-to-right sum gives 0.0 here.
            (&[1e100, 1.0, -1e100], Some(1.0)),
            (&[0.1, 0.2, -0.3], Some(2.7755575615628914e-17)),
            (&[-1.5, -2.5], Some(-4.0)),
            (&[1.0, -1.0], Some(0.0)),
            (&[-0.0, -0.0], Some(0.0)),
            (&[f64::MAX, f64::MAX], None),
            (&[f64::MAX, f64::MAX, -f64::MAX], Some(f64::MAX)),
            (&[-f64::MAX, -f64::MAX], None),
            (&[f64::MIN_POSITIVE, -f64::MIN_POSITIVE / 2.0], Some(f64::MIN_POSITIVE / 2.0)),
            (&[5e-324, 5e-324, 5e-324], Some(1.5e-323)),
            (&[-5e-324], Some(-5e-324)),
            // Ties to even: 2^53 + 1 is halfway between 2^53 and 2^53 + 2.
            (&[9007199254740992.0, 1.0], Some(9007199254740992.0)),
            (&[9007199254740992.0, 1.0, 1e-300], Some(9007199254740994.0)),
            (&[9007199254740992.0, 3.0], Some(9007199254740996.0)),
            (&[f64::INFINITY], None),
        ];
        for (values, want) in cases {
            assert_eq!(bits(sum_of(values)), bits(*want), "{values:?} gave {:?}", sum_of(values));
        }
    }

    /// The stdev state over `values`, added one by one as `add_column` does.
    fn stdev_of(values: &[f64]) -> Option<f64> {
        let mut state = AggregateState::Stdev { count: 0, sum: NumberSum::new(), squares: NumberSum::new() };
        let column = Column::Number(arrow::array::Float64Array::from(values.to_vec()));
        state.add_column(&column).expect("a number column");
        match state.value() {
            Scalar::Number(v) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn stdev_is_exact_however_large_the_mean() {
        // The exact (rational) sample variance of these doubles, rounded, then its square root.
        let shifted = [1e8 + 0.1, 1e8 + 0.2, 1e8 + 0.3, 1e8 + 0.4];
        assert_eq!(stdev_of(&shifted), Some(0.1290994487210439));
        // A naive `(Σx² - (Σx)²/n) / (n - 1)` in `f64` returns 0 or garbage here.
        let far = [1e15 + 1.0, 1e15 + 1.0, 1e15 + 3.0];
        let want = (4.0f64 / 3.0).sqrt();
        assert!((stdev_of(&far).expect("finite") - want).abs() <= 1e-15 * want);
        assert_eq!(stdev_of(&[7.25; 5]), Some(0.0));
        assert_eq!(stdev_of(&[1.0]), None);
        // The squares overflow: null rather than infinite.
        assert_eq!(stdev_of(&[1e200, -1e200]), None);
    }

    #[test]
    fn number_sums_split_into_non_overlapping_parts() {
        let mut sum = NumberSum::new();
        [1.0, 1e-20, 1e-40].iter().for_each(|&v| sum.add(v));
        assert_eq!(sum.split::<3>(), Some([1.0, 1e-20, 1e-40]));
        assert_eq!(NumberSum::new().split::<2>(), Some([0.0, 0.0]));
    }

    #[test]
    fn value_lists_compare_as_multisets_and_read_order_statistics() {
        let a = ValueList::Number(vec![3.0, 1.0, 2.0, 1.0]);
        assert_eq!(a, ValueList::Number(vec![1.0, 1.0, 3.0, 2.0]));
        assert_ne!(a, ValueList::Number(vec![1.0, 2.0, 3.0, 3.0]));
        assert_eq!(a.median(), Some(1.5));
        // Position 1.5 rounds to 2.
        assert_eq!(a.quantile(0.5), Scalar::Number(2.0));
        assert_eq!(a.quantile(1.0), Scalar::Number(3.0));
        assert_eq!(ValueList::Int(vec![]).median(), None);
        assert_eq!(ValueList::Date(vec![]).quantile(0.5), Scalar::Null);
    }

    #[test]
    fn number_sums_merge_in_any_order() {
        let values = [0.1, 1e17, -3.5e-9, 7.25, -1e17, 2.0f64.powi(-60), 123456.789];
        let parts: Vec<NumberSum> = values
            .chunks(2)
            .map(|chunk| {
                let mut s = NumberSum::new();
                chunk.iter().for_each(|&v| s.add(v));
                s
            })
            .collect();
        let merged = |order: &[usize]| {
            let mut acc = NumberSum::new();
            for &k in order {
                acc.merge(&parts[k]);
            }
            acc
        };
        let forward = merged(&[0, 1, 2, 3]);
        assert_eq!(forward, merged(&[3, 1, 0, 2]));
        assert_eq!(forward.value(), sum_of(&values));
        // Every value but the two large ones, which cancel exactly.
        assert_eq!(forward.value(), sum_of(&[0.1, -3.5e-9, 7.25, 2.0f64.powi(-60), 123456.789]));
    }
}
