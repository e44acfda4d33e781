//! Reference interpreter for etr IR (work in progress).

pub mod batch;

pub use batch::{RawBatch, RawRecordLine};
