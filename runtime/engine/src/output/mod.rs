//! The output folder of one run: what it holds and how it is written and published.
//!
//! - [`folder`]: the staging folder, the writers it hands out, and its atomic commit, with
//!   [`publish`] deciding what an output folder may replace and exchanging it;
//! - [`parquet`]: how the Parquet files are encoded, and the writer of one file, whose columns
//!   encoder threads may share (`encode`) with etr's own encoders for the record's types
//!   (`column_chunk`);
//! - [`violations`]: the rows of `rejects.parquet` and `warnings.parquet`;
//! - [`feedback`]: the contributor's view of the same findings, `feedback.csv`;
//! - [`summary`]: what `summary.json` says.
//!
//! `accepted.parquet` has the schema the caller gives; `rejects.parquet` and `warnings.parquet`
//! share the fixed violation schema ([`violation_schema`]), filled with
//! [`ViolationRowsBuilder`]; `summary.json` is a [`Summary`].

pub(crate) mod column_chunk;
pub(crate) mod encode;
pub mod feedback;
pub mod folder;
pub mod parquet;
pub mod publish;
pub mod summary;
pub mod violations;

pub use folder::{OutputDir, Published};
pub use parquet::{ParquetOptions, ParquetSink};
pub use summary::{NativeFallbacks, RuleStats, Summary};
pub use violations::{Severity, ViolationRow, ViolationRowsBuilder, violation_schema};

/// The accepted records.
pub const ACCEPTED_FILE: &str = "accepted.parquet";
/// One row per broken REJECT rule.
pub const REJECTS_FILE: &str = "rejects.parquet";
/// One row per WARN rule that fired.
pub const WARNINGS_FILE: &str = "warnings.parquet";
/// The run summary.
pub const SUMMARY_FILE: &str = "summary.json";
