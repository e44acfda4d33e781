//! SQL over the lake, for analysts (`etr sql`): the lake's tables `records`, `rejects` and `runs`
//! in a DataFusion session, queried by their bare names (`records`) or under the lake's namespace
//! (`etr.records`).
//!
//! Why DataFusion, and why through `datafusion_iceberg`:
//! - DataFusion is a SQL engine in Rust on the workspace's own arrow and parquet (one arrow in the
//!   build), with operators that spill to disk under a memory limit, so a `GROUP BY` over a year of
//!   records runs in bounded memory inside the one `etr` binary, with no server to install.
//! - `datafusion_iceberg` is the table provider of the same iceberg-rust the lake is written with
//!   (docs/notes/0025). It reads what the catalog names as a table's current snapshot (its manifest
//!   list, then the manifests' live data files), never by listing the warehouse's folders, which
//!   hold files of replaced runs and of commits that were lost: reading the Parquet files from a
//!   listing would show replaced months twice. It also handles delete files, which another
//!   engine writing the tables could add.
//!   Its pruning by the manifests' bounds is not used: some of those bounds are wrong
//!   (`table.rs` says which), and the Parquet reader skips row groups by the files' own statistics.
//!
//! The session reads; it never writes: DDL, DML (`INSERT`, `COPY`) and `SET` statements are refused
//! before they run (the table provider itself could append to a table), and the catalog is opened
//! read-only ([`etr_lake::open_catalog_for_reading`]). Each table is loaded once, when the session
//! opens, so every query of a session sees the same snapshots.
//!
//! A result streams out as batches ([`QueryStream`]), and is written as a table, CSV or JSON lines
//! with money and dates exact ([`OutputFormat`]).

mod error;
mod output;
mod query;
mod session;
mod table;

pub use error::SqlError;
pub use output::{OutputFormat, Written};
pub use query::QueryStream;
pub use session::{LakeSql, SqlSettings};
