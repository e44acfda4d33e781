//! [`Ledger`]: opening a ledger, recording arrivals, and the queries. The state changes a worker
//! makes under a lease are in `lifecycle.rs`.
//!
//! Every change is one transaction that updates `runs` and appends to `run_events` together, so
//! the audit trail has exactly the changes that happened. Queries read committed data only and
//! take no locks.

use std::time::Duration;

use sqlx::{Any, AnyPool, Transaction};

use crate::backend::{Backend, Target};
use crate::error::{LedgerError, Result};
use crate::model::{ContentHash, Filter, Month, NewFile, Run, RunEvent, RunId, RunState};
use crate::rows::{EVENT_COLUMNS, RUN_COLUMNS, event_from_row, run_from_row};
use crate::schema;

/// How a ledger is opened; [`LedgerOptions::default`] suits a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerOptions {
    /// How long opening waits for an unreachable database before [`LedgerError::Unreachable`].
    pub connect_timeout: Duration,
    /// Connections in the pool: the concurrent operations of this process.
    pub max_connections: u32,
    /// A run whose lease expired (its worker died or hung) at this attempt or a later one is not
    /// claimed again: the claim that finds it marks it `failed` for good. A file that crashes
    /// every worker that reads it would otherwise come back forever.
    pub abandon_after_attempts: u32,
}

impl Default for LedgerOptions {
    fn default() -> LedgerOptions {
        LedgerOptions { connect_timeout: Duration::from_secs(10), max_connections: 8, abandon_after_attempts: 5 }
    }
}

/// The run ledger on one database. Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) options: LedgerOptions,
    shown_url: String,
}

impl Ledger {
    /// Opens the ledger at `url` (`sqlite:PATH` or `postgres://...`) with default options, and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<Ledger> {
        Ledger::open_with(url, LedgerOptions::default()).await
    }

    /// [`Ledger::open`] with `options`.
    pub async fn open_with(url: &str, options: LedgerOptions) -> Result<Ledger> {
        if options.max_connections == 0 || options.abandon_after_attempts == 0 {
            return Err(LedgerError::InvalidInput(
                "max_connections and abandon_after_attempts must be at least 1".into(),
            ));
        }
        let target = Target::parse(url)?;
        let pool = target.connect(options.max_connections, options.connect_timeout).await?;
        schema::migrate(&pool, target.backend).await?;
        Ok(Ledger { pool, backend: target.backend, options, shown_url: target.shown_url })
    }

    /// Which database it is on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Its URL, with any password hidden.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// Closes the connection pool, which its clones share, waiting for the operations in flight;
    /// the clones' later calls fail.
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Records a file that has arrived: a new run, `received`, waiting for a worker.
    pub async fn receive(&self, file: &NewFile) -> Result<Run> {
        require_text("contributor", &file.contributor)?;
        require_text("file_name", &file.file_name)?;
        require_text("archive_key", &file.archive_key)?;
        let size = i64::try_from(file.size_bytes)
            .map_err(|_| LedgerError::InvalidInput(format!("a size of {} bytes", file.size_bytes)))?;
        let mut tx = self.backend.begin_write(&self.pool).await?;
        let now = self.backend.now(&mut tx).await?;
        let row = sqlx::query(&format!(
            "INSERT INTO runs (contributor, file_name, content_hash, size_bytes, source, archive_key, \
             reporting_month, state, attempts, received_at_us, updated_at_us) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', 0, $8, $8) RETURNING {RUN_COLUMNS}"
        ))
        .bind(&file.contributor)
        .bind(&file.file_name)
        .bind(file.content_hash.as_str())
        .bind(size)
        .bind(file.source.as_str())
        .bind(&file.archive_key)
        .bind(file.reporting_month.map(|month| month.to_string()))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let run = run_from_row(&row)?;
        let detail = format!("{} bytes by {}", file.size_bytes, file.source);
        record_event(&mut tx, run.id, None, RunState::Received, now, None, Some(&detail)).await?;
        tx.commit().await?;
        Ok(run)
    }

    /// The run `id`.
    pub async fn get(&self, id: RunId) -> Result<Run> {
        let row = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"))
            .bind(id.number())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(run_from_row).transpose()?.ok_or(LedgerError::UnknownRun(id))
    }

    /// The runs that pass `filter`, newest first.
    pub async fn list(&self, filter: &Filter) -> Result<Vec<Run>> {
        let limit = filter.limit.map_or(i64::MAX, i64::from);
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs \
             WHERE ($1 IS NULL OR contributor = $1) AND ($2 IS NULL OR reporting_month = $2) \
             AND ($3 IS NULL OR state = $3) \
             ORDER BY id DESC LIMIT $4"
        ))
        .bind(filter.contributor.as_deref())
        .bind(filter.month.map(|month| month.to_string()))
        .bind(filter.state.map(RunState::as_str))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// The published run of `contributor` with this content, if any: a file received again is a
    /// duplicate of it.
    pub async fn published_with_hash(&self, contributor: &str, hash: &ContentHash) -> Result<Option<Run>> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE contributor = $1 AND content_hash = $2 AND state = 'published' \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(contributor)
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// The run of `contributor` whose content a file received again with `hash` duplicates: the
    /// published run with it, else the newest superseded one. A superseded file sent again is a
    /// duplicate too, not a newer file of its month: re-sending (or re-ingesting after a crash) an
    /// old file must not undo its correction; `etr replay` is how an old file is put back on purpose.
    pub async fn taken_with_hash(&self, contributor: &str, hash: &ContentHash) -> Result<Option<Run>> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE contributor = $1 AND content_hash = $2 \
             AND state IN ('published', 'superseded') \
             ORDER BY CASE WHEN state = 'published' THEN 0 ELSE 1 END, id DESC LIMIT 1"
        ))
        .bind(contributor)
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// The published run of `contributor` for `month`, if any (there is at most one).
    pub async fn published_for(&self, contributor: &str, month: Month) -> Result<Option<Run>> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE contributor = $1 AND reporting_month = $2 AND state = 'published'"
        ))
        .bind(contributor)
        .bind(month.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// The audit trail of run `id`, oldest first.
    pub async fn events(&self, id: RunId) -> Result<Vec<RunEvent>> {
        let rows = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM run_events WHERE run_id = $1 ORDER BY id"))
            .bind(id.number())
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            // Every run has its arrival event: no events means no run.
            return Err(LedgerError::UnknownRun(id));
        }
        rows.iter().map(event_from_row).collect()
    }
}

/// Appends one state change to the audit trail, in the transaction that makes it.
pub(crate) async fn record_event(
    tx: &mut Transaction<'static, Any>,
    run: RunId,
    from: Option<RunState>,
    to: RunState,
    at: i64,
    worker: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO run_events (run_id, from_state, to_state, at_us, worker, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(run.number())
    .bind(from.map(RunState::as_str))
    .bind(to.as_str())
    .bind(at)
    .bind(worker)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Refuses an empty (or blank) name: it would identify nothing.
pub(crate) fn require_text(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(LedgerError::InvalidInput(format!("{what} is empty")));
    }
    Ok(())
}
