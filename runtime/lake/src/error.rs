//! The lake's errors: each says which table or file it concerns, so that a failed publication in
//! the ledger tells an operator where to look.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LakeError {
    /// The catalog could not be opened or answered with an error.
    #[error("the lake's catalog: {0}")]
    Catalog(String),
    /// Reading or writing a data or metadata file failed.
    #[error("the lake's storage: {0}")]
    Storage(String),
    /// A table exists with a shape this version cannot write (a field changed type, say).
    #[error("table `{table}`: {message}")]
    Schema { table: String, message: String },
    /// The run's output folder is not what the engine writes.
    #[error("the run's output {path}: {message}")]
    Output { path: String, message: String },
    /// A commit was lost to other writers too many times in a row.
    #[error("table `{table}`: the commit of run {run_id} was lost to concurrent commits {attempts} times")]
    CommitContention { table: String, run_id: String, attempts: u32 },
    /// The configuration cannot describe a lake (a relative warehouse path, a bad URL).
    #[error("the lake's configuration: {0}")]
    Config(String),
}

impl LakeError {
    pub(crate) fn catalog(error: impl std::fmt::Display) -> Self {
        LakeError::Catalog(error.to_string())
    }

    pub(crate) fn storage(error: impl std::fmt::Display) -> Self {
        LakeError::Storage(error.to_string())
    }
}
