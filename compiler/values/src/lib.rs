//! The value-level helpers that the interpreter, the JIT and the runtime share: how an Arrow
//! string view is laid out, read, built and prefetched ([`views`]), and the calendar on day counts
//! with its month table ([`calendar`]).
//!
//! They are facts about values, not about evaluating a spec, so they live apart from the
//! interpreter: the runtime's encoders and the JIT's generated code use them without reaching into
//! `etr-interp`, and each engine reads a view or a date the same way as the others.
//!
//! Architecture Invariant: no IO, no clock, no environment; this crate depends on no crate of the
//! workspace.

#![deny(clippy::disallowed_methods)]

pub mod calendar;
pub mod views;
