//! The sweeps a run makes over the input file, and what they build between them.

pub(crate) mod keys;
pub(crate) mod stream;
pub(crate) mod verdict;
pub(crate) mod write;
