//! The run ledger against real databases: SQLite on a temporary file, and PostgreSQL on a
//! throwaway server that `etr_testkit::postgres` starts (shared by the tests of this binary, a
//! database each). Every scenario runs on both backends (`on_both_backends!`); without a
//! PostgreSQL server installed, the PostgreSQL half is skipped on a developer's machine and fails
//! under CI.
//!
//! - `state_machine`: every transition, fencing, supersession, duplicates, back-off, queries,
//!   the audit trail, and the errors of bad input, bad URLs and newer schemas.
//! - `concurrency`: many workers (tasks, ledger instances, processes) on one queue; a worker that
//!   disappears mid-lease.

mod concurrency;
mod state_machine;
mod support;
