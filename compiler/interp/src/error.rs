//! The interpreter's error type.
//!
//! Data problems are never errors here: a field that does not parse is a violation or a null, as
//! the spec says. What remains are a spec the interpreter cannot prepare (an invalid regex), a
//! batch that does not have the program's shape (a runtime bug), and violated IR invariants
//! (`Internal`: a bug in the front end or here).

/// Why the interpreter could not prepare a program or evaluate a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpError {
    /// A `matches` pattern is not a valid regular expression.
    #[error("invalid regular expression {pattern:?}: {message}")]
    InvalidRegex { pattern: String, message: String },
    /// The batch does not have the shape the program declares (wrong column count, lengths).
    #[error("the batch does not fit the program: {0}")]
    InvalidBatch(String),
    /// A violated invariant of the IR or of the interpreter: this is a bug, reported with context.
    #[error("internal error (this is a bug): {0}")]
    Internal(String),
}

impl InterpError {
    pub(crate) fn internal(message: impl Into<String>) -> InterpError {
        InterpError::Internal(message.into())
    }
}

impl From<arrow::error::ArrowError> for InterpError {
    fn from(err: arrow::error::ArrowError) -> InterpError {
        InterpError::Internal(format!("arrow: {err}"))
    }
}
