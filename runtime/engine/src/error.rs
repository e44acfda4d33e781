//! The runtime's error type.
//!
//! Bad input data is not an error here: malformed lines, bad encodings and missing trailers are
//! reported as data (flags on the batch, counters, rule violations) so that one broken line never
//! stops a file. `RuntimeError` is kept for failures of the environment (the file system, the
//! Parquet and Arrow writers), for a dialect that cannot work, for an output folder that may not be
//! replaced or an input that cannot be read as the spec needs, and for broken invariants, which are
//! bugs and say so.
//!
//! Each message is whole: it names its cause itself, so no variant also returns that cause as its
//! `source()` (a reporter printing the chain, as `anyhow`'s `{:#}` does, would print it twice).

use std::path::PathBuf;

use crate::input::dialect::DialectError;

/// Everything that can make the runtime give up on a file.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A file-system operation failed; `path` is the file or folder it was acting on.
    #[error("cannot {action} {}: {cause}", path.display())]
    Io {
        /// What the runtime was doing, as a verb phrase ("read", "create folder", ...).
        action: &'static str,
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// The output folder given is not one a run may replace (see [`crate::output::publish`]).
    #[error("refusing to write the output to {}: {reason}", path.display())]
    OutputRefused {
        /// The output folder asked for.
        path: PathBuf,
        /// Why it may not be replaced.
        reason: String,
    },
    /// The input cannot be read the way the spec needs (a pipe for a spec that reads it twice).
    #[error("cannot read {}: {reason}", path.display())]
    InputRefused {
        /// The input file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The Parquet writer failed.
    #[error("parquet: {0}")]
    Parquet(parquet::errors::ParquetError),
    /// Building or checking Arrow data failed.
    #[error("arrow: {0}")]
    Arrow(arrow::error::ArrowError),
    /// The source dialect is not usable (see [`DialectError`]).
    #[error("invalid source dialect: {0}")]
    Dialect(DialectError),
    /// The reader configuration is not usable.
    #[error("invalid reader configuration: {0}")]
    Config(String),
    /// A broken invariant: this is a bug in the runtime, not a problem with the input.
    #[error("internal error (this is a bug in etr): {0}")]
    Internal(String),
}

impl RuntimeError {
    /// Wraps an I/O error with the action and the path it concerns.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RuntimeError::Io { action, path: path.into(), cause: source }
    }
}

impl From<parquet::errors::ParquetError> for RuntimeError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        RuntimeError::Parquet(e)
    }
}

impl From<arrow::error::ArrowError> for RuntimeError {
    fn from(e: arrow::error::ArrowError) -> Self {
        RuntimeError::Arrow(e)
    }
}

impl From<DialectError> for RuntimeError {
    fn from(e: DialectError) -> Self {
        RuntimeError::Dialect(e)
    }
}

/// The runtime's result type.
pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
