//! Runs and events as the database stores them, read back into the model's types.
//!
//! Every statement that returns runs selects [`RUN_COLUMNS`] and reads them with [`run_from_row`],
//! so there is one mapping between columns and fields. A value the model refuses (an unknown
//! state, a negative count, a malformed month) is [`LedgerError::Corrupt`], never a panic: the
//! database may have been edited by hand.

use std::str::FromStr;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::backend::time_from_micros;
use crate::error::{LedgerError, Result};
use crate::model::{Outcome, Run, RunEvent, RunId};

/// The columns of `runs` that [`run_from_row`] reads, for `SELECT` and `RETURNING` lists.
pub(crate) const RUN_COLUMNS: &str = "id, contributor, file_name, content_hash, size_bytes, source, archive_key, \
     reporting_month, state, attempts, received_at_us, updated_at_us, lease_owner, lease_expires_at_us, \
     retry_at_us, finished_at_us, detail, duplicate_of, superseded_by, lines, accepted, rejected, warnings, \
     lake_snapshot";

/// The columns of `run_events` that [`event_from_row`] reads.
pub(crate) const EVENT_COLUMNS: &str = "run_id, from_state, to_state, at_us, worker, detail";

pub(crate) fn run_from_row(row: &AnyRow) -> Result<Run> {
    let id = run_id(row.try_get("id")?)?;
    let count = |column: &str| -> Result<Option<u64>> {
        row.try_get::<Option<i64>, _>(column)?.map(|value| non_negative(column, value)).transpose()
    };
    let time = |column: &str| -> Result<Option<_>> {
        row.try_get::<Option<i64>, _>(column)?.map(time_from_micros).transpose()
    };
    let reporting_month = parsed::<crate::Month>(row.try_get("reporting_month")?)?;
    let outcome = match count("lines")? {
        Some(lines) => Some(Outcome {
            lines,
            accepted: count("accepted")?.unwrap_or(0),
            rejected: count("rejected")?.unwrap_or(0),
            warnings: count("warnings")?.unwrap_or(0),
            lake_snapshot: row.try_get("lake_snapshot")?,
            reporting_month,
        }),
        None => None,
    };
    let attempts = count("attempts")?.unwrap_or(0);
    Ok(Run {
        id,
        contributor: row.try_get("contributor")?,
        file_name: row.try_get("file_name")?,
        content_hash: required(parsed(row.try_get("content_hash")?)?, "content_hash")?,
        size_bytes: count("size_bytes")?.unwrap_or(0),
        source: required(parsed(row.try_get("source")?)?, "source")?,
        archive_key: row.try_get("archive_key")?,
        reporting_month,
        state: required(parsed(row.try_get("state")?)?, "state")?,
        attempts: u32::try_from(attempts).map_err(|_| LedgerError::Corrupt(format!("{id}: {attempts} attempts")))?,
        received_at: required(time("received_at_us")?, "received_at_us")?,
        updated_at: required(time("updated_at_us")?, "updated_at_us")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: time("lease_expires_at_us")?,
        retry_at: time("retry_at_us")?,
        finished_at: time("finished_at_us")?,
        detail: row.try_get("detail")?,
        duplicate_of: row.try_get::<Option<i64>, _>("duplicate_of")?.map(run_id).transpose()?,
        superseded_by: row.try_get::<Option<i64>, _>("superseded_by")?.map(run_id).transpose()?,
        outcome,
    })
}

pub(crate) fn event_from_row(row: &AnyRow) -> Result<RunEvent> {
    Ok(RunEvent {
        run: run_id(row.try_get("run_id")?)?,
        from: parsed(row.try_get("from_state")?)?,
        to: required(parsed(row.try_get("to_state")?)?, "to_state")?,
        at: time_from_micros(row.try_get("at_us")?)?,
        worker: row.try_get("worker")?,
        detail: row.try_get("detail")?,
    })
}

pub(crate) fn run_id(number: i64) -> Result<RunId> {
    RunId::new(number).ok_or_else(|| LedgerError::Corrupt(format!("{number} is not a run id")))
}

fn non_negative(column: &str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| LedgerError::Corrupt(format!("{column} is {value}")))
}

/// A text column parsed into `T`, `None` when NULL.
fn parsed<T: FromStr<Err = crate::ParseError>>(text: Option<String>) -> Result<Option<T>> {
    text.map(|text| text.parse().map_err(|error: crate::ParseError| LedgerError::Corrupt(error.to_string())))
        .transpose()
}

fn required<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| LedgerError::Corrupt(format!("{column} is NULL")))
}
