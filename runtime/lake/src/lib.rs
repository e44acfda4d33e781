//! The lake: the Iceberg tables a published run lands in, for analysts and for Spark, Trino or
//! Athena reading the same tables.
//!
//! Three tables in one namespace:
//! - `records`: the accepted records, the canonical record's fields after four of the lake's own
//!   (`run_id`, `contributor`, `month`, `line_no`), partitioned by `month`, each contributor's
//!   files in a folder of their own with exact bounds on `contributor`;
//! - `rejects`: every rejected line with its rule, field, value and message, partitioned the same way;
//! - `runs`: one row per published run (which file, its hash, its counts, what it replaced).
//!
//! What must hold (`publish.rs` keeps it):
//! - one contributor-month is in `records` and `rejects` exactly once: a run of a month that the
//!   lake already has for that contributor replaces the previous run's files in one overwrite commit,
//!   so no reader ever sees both months or neither;
//! - publishing is idempotent: a run's data files carry its run id in their names, and a run found
//!   in a table is not committed to it again (a worker that died between the commit and the ledger's
//!   update publishes again and changes nothing);
//! - a commit that the catalog did not take is not reported as taken: after each commit the table is
//!   read back from the catalog and the commit's snapshot looked for in its history (the SQL
//!   catalog's compare-and-swap does not report a lost race; see docs/notes/0025-the-lake.md).
//!
//! A run's data files are the engine's files with the lake's footer (`splice.rs`): publishing
//! copies bytes, it does not decode and encode the records again (docs/notes/0027).
//!
//! Money is `decimal(18,2)` in the lake (the engine keeps sen as integers; the values are the same
//! integers with a scale), line numbers are `long` (Iceberg has no unsigned types), codes are strings.

mod catalog;
mod convert;
mod error;
mod manifests;
mod publish;
mod splice;
mod tables;

pub use catalog::{CatalogConfig, LakeConfig, S3Config, Warehouse, open_catalog_for_reading};
pub use error::LakeError;
pub use publish::{Lake, LakeFile, Month, PublishRequest, Published, RunRow};
pub use tables::{LakeType, RecordField, TableName};
