//! Partial aggregate states: computed per batch, merged in any order, read at the end of a file.
//!
//! Sums are kept as `i128` so that adding any number of `i64` values never overflows (it would
//! take 2^64 of them); the final value is null when the exact sum does not fit `i64`. Because the
//! partial sums are exact, merging is associative and commutative: batches may finish in any order.
//!
//! Sums of numbers are exact too ([`NumberSum`]): an `f64` sum rounded after every addition would
//! depend on how the file was cut into batches and on the order the workers finished them, so the
//! same file could pass a control total on one run and fail it on the next. The exact sum is
//! rounded once, when read, and is null when that is not finite.

use etr_ir::{Aggregate, AggregateFunction, Program, TypeKind};

use crate::error::InterpError;
use crate::value::Scalar;

/// The partial state of one aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a file has a handful of aggregates; a boxed exact sum would allocate for no gain and lose `Copy`"
)]
pub enum AggregateState {
    /// The number of data lines seen.
    Count(u64),
    /// The exact sum of the non-null values seen; `overflow` once it left `i128` (never in practice).
    Sum { sum: i128, overflow: bool },
    /// The exact sum of the non-null `number` values seen.
    NumberSum(NumberSum),
}

impl AggregateState {
    fn empty(aggregate: &Aggregate) -> AggregateState {
        match aggregate.function {
            AggregateFunction::Count | AggregateFunction::LinesBroken(_) => AggregateState::Count(0),
            AggregateFunction::Sum if aggregate.argument.as_ref().is_some_and(|a| a.ty.kind == TypeKind::Number) => {
                AggregateState::NumberSum(NumberSum::new())
            }
            AggregateFunction::Sum => AggregateState::Sum { sum: 0, overflow: false },
        }
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
            _ => return Err(InterpError::internal("merging states of different aggregates")),
        }
        Ok(())
    }

    /// The final value: the count, the sum when it fits `i64` (else null), or the number sum
    /// rounded to the nearest `f64` when that is finite (else null).
    pub fn value(&self) -> Scalar {
        match *self {
            AggregateState::NumberSum(sum) => sum.value().map_or(Scalar::Null, Scalar::Number),
            AggregateState::Count(n) => i64::try_from(n).map_or(Scalar::Null, Scalar::Int),
            AggregateState::Sum { overflow: true, .. } => Scalar::Null,
            AggregateState::Sum { sum, .. } => i64::try_from(sum).map_or(Scalar::Null, Scalar::Int),
        }
    }
}

/// One state per aggregate of the program, in `Program::aggregates` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateStates {
    pub states: Vec<AggregateState>,
}

impl AggregateStates {
    /// The states before any line: counts and sums of zero.
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
