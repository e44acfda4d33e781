//! What can go wrong with the ledger, by what the caller does about it: fix the configuration
//! (`BadUrl`), wait for the database (`Unreachable`), upgrade etr (`SchemaTooNew`), stop working
//! on a run it no longer owns (`LeaseLost`), fix its input (`UnknownRun`, `InvalidInput`), or
//! report a bug or a damaged database (`Corrupt`, `Database`).

use crate::RunId;

/// A ledger operation's failure. None leaves a change half made: each operation is one
/// transaction.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The URL names no ledger this crate can open.
    #[error("bad ledger URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// The database could not be reached or opened. `url` has its password hidden.
    #[error("cannot open the ledger database {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// The database was migrated by a newer etr; this one does not know its schema.
    #[error(
        "the ledger database has schema version {found}, newer than this etr knows (up to {supported}); \
         use an etr at least as new as the one that migrated it"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// The lease is no longer this worker's: it expired and another worker claimed the run, or
    /// the run was finished. Nothing was changed.
    #[error("{run}: the lease of attempt {attempt} by {worker:?} is no longer held; nothing was changed")]
    LeaseLost { run: RunId, worker: String, attempt: u32 },
    #[error("no run {0} in the ledger")]
    UnknownRun(RunId),
    /// An argument the ledger cannot store (an empty name, a size past `i64::MAX`, ...).
    #[error("invalid input to the ledger: {0}")]
    InvalidInput(String),
    /// The database holds a value this etr cannot read (edited by hand, or a bug).
    #[error("the ledger database holds a value this etr cannot read: {0}")]
    Corrupt(String),
    /// Any other database failure (a lost connection, a timeout, a violated constraint).
    #[error("ledger database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;
