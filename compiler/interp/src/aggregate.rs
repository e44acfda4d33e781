//! Partial aggregate states: computed per batch, merged in any order, read at the end of a file.
//!
//! Sums are kept as `i128` so that adding any number of `i64` values never overflows (it would
//! take 2^64 of them); the final value is null when the exact sum does not fit `i64`. Because the
//! partial sums are exact, merging is associative and commutative: batches may finish in any order.

use etr_ir::{AggregateFunction, Program};

use crate::error::InterpError;
use crate::value::Scalar;

/// The partial state of one aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateState {
    /// The number of data lines seen.
    Count(u64),
    /// The exact sum of the non-null values seen; `overflow` once it left `i128` (never in practice).
    Sum { sum: i128, overflow: bool },
}

impl AggregateState {
    fn empty(function: AggregateFunction) -> AggregateState {
        match function {
            AggregateFunction::Count | AggregateFunction::LinesBroken(_) => AggregateState::Count(0),
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
            _ => return Err(InterpError::internal("merging states of different aggregates")),
        }
        Ok(())
    }

    /// The final value: the count, or the sum when it fits `i64` (else null).
    pub fn value(&self) -> Scalar {
        match *self {
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
        AggregateStates { states: program.aggregates.iter().map(|a| AggregateState::empty(a.function)).collect() }
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
