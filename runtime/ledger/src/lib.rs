//! The run ledger: every file etr receives gets a run, and the ledger records where each run is,
//! who is working on it, how it ended and every change on the way (the audit trail).
//!
//! It is also the work queue: workers [`Ledger::claim`] runs under a lease and end each attempt
//! with one call. The same API runs on SQLite (one file, the embedded default: `sqlite:PATH`) and
//! on PostgreSQL (`postgres://...`), where workers on several machines share one queue.
//!
//! # The state machine
//!
//! ```text
//!                 claim                  publish
//!   received ───────────────► running ─────────────► published ──► superseded
//!                               ▲ │ │ refuse            (a newer publication for the same
//!        claim after the delay  │ │ └─────────► refused   contributor and month)
//!        or the lease's expiry  │ │ mark_duplicate
//!        (running ► running)    │ ├───────────► duplicate
//!                               │ │ fail
//!                               └─┴───────────► failed ── no attempts left: failed for good
//! ```
//!
//! - `received`: recorded by [`Ledger::receive`], waiting for a worker.
//! - `running`: a worker holds a [`Lease`] on it ([`Ledger::claim`]); it keeps it alive with
//!   [`Ledger::renew`]. A run whose lease expired is claimable again (its worker crashed or hung).
//! - `published` ([`Ledger::publish`]): its output is in the lake. In the same transaction every
//!   other published run of the same contributor and reporting month becomes `superseded`, with
//!   `superseded_by` naming the new one.
//! - `refused` ([`Ledger::refuse`]): the file is fatal; never retried.
//! - `duplicate` ([`Ledger::mark_duplicate`]): the same content as a run already published or
//!   superseded ([`Ledger::taken_with_hash`] finds it). A run is not claimed while an earlier run
//!   of the same contributor and content is still open, so a copy is judged once its first has
//!   settled (`lifecycle.rs`).
//! - `failed` ([`Ledger::fail`]): the attempt failed; the run is claimable again after a delay
//!   that doubles with each attempt ([`RetryPolicy`]), and after the policy's last attempt it
//!   stays failed. So does a run whose lease expired too often ([`LedgerOptions`]).
//!
//! # Invariants
//!
//! - One terminal state per run: an attempt ends in exactly one of published, refused, duplicate
//!   or failed, in one transaction that also clears the lease; a settled run ([`Run::is_settled`])
//!   is never claimed again, and the only change after it is published to superseded.
//! - At most one published run per contributor and reporting month at any moment: `publish`
//!   supersedes the previous one in the transaction that publishes, and a unique index on
//!   `(contributor, reporting_month) WHERE state = 'published'` makes the database refuse any
//!   other way to break it.
//! - A fenced finish never overwrites another worker's outcome: every call made with a lease
//!   checks, under a lock, that the run is still running under that worker and that attempt, and
//!   otherwise fails with [`LedgerError::LeaseLost`] having changed nothing (`lifecycle.rs`).
//! - Exactly one claimer gets a run, however many claim at once, on either backend (`backend.rs`
//!   says how each keeps writers apart).
//! - Every state change appends one row to `run_events` in the transaction that makes it.
//!
//! Run ids are `run-000123`: a sequence, so they order runs by arrival ([`RunId`]).
//! Times are UTC, to the microsecond; on PostgreSQL they come from the server's clock.

mod backend;
mod error;
mod ledger;
mod lifecycle;
mod model;
mod rows;
mod schema;

pub use backend::Backend;
pub use error::{LedgerError, Result};
pub use ledger::{Ledger, LedgerOptions};
pub use lifecycle::Lease;
pub use model::{
    ContentHash, Filter, Month, NewFile, Outcome, ParseError, RetryPolicy, Run, RunEvent, RunId, RunState, Source,
};
pub use schema::SCHEMA_VERSION;
