//! A worker's side of the ledger: claiming a run under a lease, keeping the lease alive, and
//! ending the attempt in one of the outcomes. See the crate's doc for the state machine.
//!
//! Leases and fencing: a claim gives the worker a [`Lease`] naming the run, the worker and the
//! attempt number (the run's `attempts` after the claim), valid until `expires_at`. Every call
//! made with it reads the run under a lock and changes it only if it is still `running` with that
//! owner and that attempt; otherwise it fails with [`LedgerError::LeaseLost`] and changes nothing.
//! The attempt number is what makes this a fence: a worker that restarts under the same name
//! and claims the run again holds a new attempt, and the old lease no longer matches it. A lease
//! past its expiry still works until another claim takes the run: nothing else can have
//! happened to the run in between, and a worker that finishes late should not lose its work.
//!
//! Expired leases are how a crashed worker's run comes back: a claim takes the oldest of the
//! runs that are `received`, `failed` with their retry time come, or `running` with their lease
//! expired, and not waiting for an earlier run of the same content (below). A file that kills every worker that reads it would come back forever, so a run whose
//! lease expired at attempt [`crate::LedgerOptions::abandon_after_attempts`] or later is marked `failed`
//! for good instead (by the claim that finds it).
//!
//! A run waits while an earlier run of the same contributor with the same content is still open
//! (`received`, `running`, or `failed` with a retry to come): the earlier one settles first, and
//! the later one is then a duplicate of it ([`Ledger::taken_with_hash`]) or, if the earlier one
//! was refused or failed for good, runs on its own. Without the wait, a file sent again while its
//! first copy's worker had died (an operator re-running an ingest after a crash) would run as a
//! newer file of its month, and an old file re-sent after its correction would replace the
//! correction in the lake.
//!
//! Renewing a lease changes no state and appends no event; every other call here appends one
//! event per run it changes, in the same transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use crate::backend::{duration_micros, time_from_micros};
use crate::error::{LedgerError, Result};
use crate::ledger::{Ledger, record_event, require_text};
use crate::model::{Month, Outcome, RetryPolicy, Run, RunId, RunState};
use crate::rows::{RUN_COLUMNS, run_from_row, run_id};

/// A worker's hold on a running run, from [`Ledger::claim`]: the proof every finishing call needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    run: Run,
    worker: String,
    attempt: u32,
    expires_at: DateTime<Utc>,
}

impl Lease {
    /// The run as it was claimed (or last renewed).
    pub fn run(&self) -> &Run {
        &self.run
    }

    pub fn run_id(&self) -> RunId {
        self.run.id
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Which attempt at the run this is (1 for the first claim).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// When another worker may take the run, unless the lease is renewed before.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

impl Ledger {
    /// Takes the oldest claimable run for `worker` (see the module doc) and leases it for
    /// `lease`: the run becomes `running`, its attempt count goes up by one. `None` when no run
    /// is claimable. Concurrent claimers, in this process or others, never take the same run.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Lease>> {
        require_text("worker", worker)?;
        let mut tx = self.backend.begin_write(&self.pool).await?;
        let now = self.backend.now(&mut tx).await?;
        let candidate = format!(
            "SELECT {RUN_COLUMNS} FROM runs \
             WHERE (state = 'received' OR (state = 'failed' AND retry_at_us <= $1) \
             OR (state = 'running' AND lease_expires_at_us <= $1)) \
             AND NOT EXISTS (SELECT 1 FROM runs AS earlier \
             WHERE earlier.contributor = runs.contributor AND earlier.content_hash = runs.content_hash \
             AND earlier.id < runs.id AND (earlier.state IN ('received', 'running') \
             OR (earlier.state = 'failed' AND earlier.retry_at_us IS NOT NULL))) \
             ORDER BY id LIMIT 1{}",
            self.backend.claim_lock_clause()
        );
        loop {
            let Some(row) = sqlx::query(&candidate).bind(now).fetch_optional(&mut *tx).await? else {
                tx.commit().await?;
                return Ok(None);
            };
            let run = run_from_row(&row)?;
            let expired_lease = match (&run.state, &run.lease_owner) {
                (RunState::Running, Some(owner)) => {
                    Some(format!("the lease of {owner} (attempt {}) expired", run.attempts))
                }
                _ => None,
            };
            if let Some(expired) = &expired_lease
                && run.attempts >= self.options.abandon_after_attempts
            {
                let detail = format!(
                    "abandoned: {expired} without an outcome, and {} attempts is the limit \
                     (a file that stops every worker that reads it?)",
                    self.options.abandon_after_attempts
                );
                finish(&mut tx, &run, now, Finish::new(RunState::Failed, Some(&detail))).await?;
                record_event(&mut tx, run.id, Some(run.state), RunState::Failed, now, Some(worker), Some(&detail))
                    .await?;
                continue;
            }
            let expires_at = now.saturating_add(duration_micros(lease));
            let row = sqlx::query(&format!(
                "UPDATE runs SET state = 'running', attempts = attempts + 1, lease_owner = $2, \
                 lease_expires_at_us = $3, retry_at_us = NULL, updated_at_us = $4 \
                 WHERE id = $1 RETURNING {RUN_COLUMNS}"
            ))
            .bind(run.id.number())
            .bind(worker)
            .bind(expires_at)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let claimed = run_from_row(&row)?;
            let detail = match expired_lease {
                Some(expired) => format!("attempt {}; {expired}", claimed.attempts),
                None => format!("attempt {}", claimed.attempts),
            };
            record_event(&mut tx, run.id, Some(run.state), RunState::Running, now, Some(worker), Some(&detail)).await?;
            tx.commit().await?;
            return Ok(Some(Lease {
                worker: worker.to_owned(),
                attempt: claimed.attempts,
                expires_at: time_from_micros(expires_at)?,
                run: claimed,
            }));
        }
    }

    /// Extends `lease` to `extend` from now. Fenced: [`LedgerError::LeaseLost`] when the run is
    /// no longer this lease's.
    pub async fn renew(&self, lease: &mut Lease, extend: Duration) -> Result<()> {
        let mut tx = self.backend.begin_write(&self.pool).await?;
        let now = self.backend.now(&mut tx).await?;
        self.fenced_run(&mut tx, lease).await?;
        let expires_at = now.saturating_add(duration_micros(extend));
        let row = sqlx::query(&format!(
            "UPDATE runs SET lease_expires_at_us = $2, updated_at_us = $3 WHERE id = $1 RETURNING {RUN_COLUMNS}"
        ))
        .bind(lease.run.id.number())
        .bind(expires_at)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let run = run_from_row(&row)?;
        tx.commit().await?;
        lease.expires_at = time_from_micros(expires_at)?;
        lease.run = run;
        Ok(())
    }

    /// Ends the attempt with the run published, and in the same transaction marks every other
    /// published run of the same contributor and month `superseded` by it; returns those (at most
    /// one, as at most one is published). `outcome.reporting_month`, when given, replaces the
    /// month the run was received with. Fenced.
    pub async fn publish(&self, lease: &Lease, outcome: &Outcome) -> Result<Vec<RunId>> {
        let counts = OutcomeColumns::of(outcome)?;
        let mut tx = self.backend.begin_write(&self.pool).await?;
        let now = self.backend.now(&mut tx).await?;
        let run = self.fenced_run(&mut tx, lease).await?;
        let month = outcome.reporting_month.or(run.reporting_month);
        let mut superseded = Vec::new();
        if let Some(month) = month {
            let month = month.to_string();
            self.backend.serialize_publication(&mut tx, &run.contributor, &month).await?;
            let rows = sqlx::query(
                "UPDATE runs SET state = 'superseded', superseded_by = $1, updated_at_us = $2 \
                 WHERE contributor = $3 AND reporting_month = $4 AND state = 'published' AND id <> $1 RETURNING id",
            )
            .bind(run.id.number())
            .bind(now)
            .bind(&run.contributor)
            .bind(&month)
            .fetch_all(&mut *tx)
            .await?;
            for row in rows {
                superseded.push(run_id(row.try_get("id")?)?);
            }
            superseded.sort();
            let detail = format!("replaced by {} for {month}", run.id);
            for old in &superseded {
                let (from, to) = (Some(RunState::Published), RunState::Superseded);
                record_event(&mut tx, *old, from, to, now, Some(&lease.worker), Some(&detail)).await?;
            }
        }
        let mut finished = Finish::new(RunState::Published, None);
        finished.month = month;
        finished.outcome = Some(counts);
        finish(&mut tx, &run, now, finished).await?;
        let mut detail = format!(
            "{} lines: {} accepted, {} rejected, {} warnings",
            outcome.lines, outcome.accepted, outcome.rejected, outcome.warnings
        );
        if let Some(snapshot) = outcome.lake_snapshot {
            detail.push_str(&format!("; lake snapshot {snapshot}"));
        }
        for old in &superseded {
            detail.push_str(&format!("; supersedes {old}"));
        }
        record_event(&mut tx, run.id, Some(run.state), RunState::Published, now, Some(&lease.worker), Some(&detail))
            .await?;
        tx.commit().await?;
        Ok(superseded)
    }

    /// Ends the attempt with the file refused as fatal, for `reason`; it is not retried. Fenced.
    pub async fn refuse(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.finish_attempt(lease, Finish::new(RunState::Refused, Some(reason))).await
    }

    /// Ends the attempt with the run a duplicate of run `of` (the published run with the same
    /// content). Fenced; [`LedgerError::UnknownRun`] when `of` does not exist.
    pub async fn mark_duplicate(&self, lease: &Lease, of: RunId) -> Result<()> {
        let detail = format!("the same content as {of}");
        self.finish_pointing_at(lease, RunState::Duplicate, of, &detail).await
    }

    /// Ends the attempt with the run superseded by run `by`: a newer file of the same
    /// contributor-month was published first, so this older one is not published at all (the lake
    /// decides it, from the months' live files). Fenced; [`LedgerError::UnknownRun`] when `by` does
    /// not exist.
    pub async fn mark_superseded(&self, lease: &Lease, by: RunId) -> Result<()> {
        let detail = format!("a newer file of the month, {by}, was published first");
        self.finish_pointing_at(lease, RunState::Superseded, by, &detail).await
    }

    /// The end of an attempt that names another run (`duplicate` of it, `superseded` by it),
    /// which must exist and not be the run itself.
    async fn finish_pointing_at(&self, lease: &Lease, state: RunState, other: RunId, detail: &str) -> Result<()> {
        let superseding = state == RunState::Superseded;
        if other == lease.run.id {
            let relation = if superseding { "superseded by" } else { "a duplicate of" };
            return Err(LedgerError::InvalidInput(format!("{other} cannot be {relation} itself")));
        }
        let mut end = Finish::new(state, Some(detail));
        if superseding {
            end.superseded_by = Some(other);
        } else {
            end.duplicate_of = Some(other);
        }
        self.finish_attempt(lease, end).await
    }

    /// Ends the attempt as failed with `error`: the run is claimable again after the policy's
    /// delay for this attempt, or, after its last attempt, failed for good. Fenced.
    pub async fn fail(&self, lease: &Lease, error: &str, policy: &RetryPolicy) -> Result<()> {
        let mut failed = Finish::new(RunState::Failed, Some(error));
        failed.retry_after = policy.delay_after(lease.attempt);
        self.finish_attempt(lease, failed).await
    }

    /// The end of an attempt other than publication: one run changes, one event.
    async fn finish_attempt(&self, lease: &Lease, end: Finish<'_>) -> Result<()> {
        let mut tx = self.backend.begin_write(&self.pool).await?;
        let now = self.backend.now(&mut tx).await?;
        let run = self.fenced_run(&mut tx, lease).await?;
        if let Some(of) = end.duplicate_of.or(end.superseded_by) {
            let exists =
                sqlx::query("SELECT id FROM runs WHERE id = $1").bind(of.number()).fetch_optional(&mut *tx).await?;
            if exists.is_none() {
                return Err(LedgerError::UnknownRun(of));
            }
        }
        let to = end.state;
        let finished = finish(&mut tx, &run, now, end).await?;
        let mut detail = format!("attempt {}", lease.attempt);
        if let Some(why) = &finished.detail {
            detail.push_str(&format!(": {why}"));
        }
        if to == RunState::Failed {
            match finished.retry_at {
                Some(at) => detail.push_str(&format!("; retry at {}", at.to_rfc3339())),
                None => detail.push_str("; no attempts left"),
            }
        }
        record_event(&mut tx, run.id, Some(run.state), to, now, Some(&lease.worker), Some(&detail)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The lease's run, locked until the transaction ends, if the lease still holds it.
    async fn fenced_run(&self, tx: &mut Transaction<'static, Any>, lease: &Lease) -> Result<Run> {
        let row =
            sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1{}", self.backend.row_lock_clause()))
                .bind(lease.run.id.number())
                .fetch_optional(&mut **tx)
                .await?;
        let run = row.as_ref().map(run_from_row).transpose()?.ok_or(LedgerError::UnknownRun(lease.run.id))?;
        let held = run.state == RunState::Running
            && run.lease_owner.as_deref() == Some(lease.worker.as_str())
            && run.attempts == lease.attempt;
        if !held {
            return Err(LedgerError::LeaseLost { run: run.id, worker: lease.worker.clone(), attempt: lease.attempt });
        }
        Ok(run)
    }
}

/// How an attempt ends: the run's new state and what goes with it.
struct Finish<'a> {
    state: RunState,
    detail: Option<&'a str>,
    retry_after: Option<Duration>,
    duplicate_of: Option<RunId>,
    superseded_by: Option<RunId>,
    month: Option<Month>,
    outcome: Option<OutcomeColumns>,
}

impl<'a> Finish<'a> {
    fn new(state: RunState, detail: Option<&'a str>) -> Finish<'a> {
        Finish { state, detail, retry_after: None, duplicate_of: None, superseded_by: None, month: None, outcome: None }
    }
}

/// An outcome's counts as the database stores them.
struct OutcomeColumns {
    lines: i64,
    accepted: i64,
    rejected: i64,
    warnings: i64,
    lake_snapshot: Option<i64>,
}

impl OutcomeColumns {
    fn of(outcome: &Outcome) -> Result<OutcomeColumns> {
        let column = |name: &str, value: u64| {
            i64::try_from(value).map_err(|_| LedgerError::InvalidInput(format!("{name} = {value} is too large")))
        };
        Ok(OutcomeColumns {
            lines: column("lines", outcome.lines)?,
            accepted: column("accepted", outcome.accepted)?,
            rejected: column("rejected", outcome.rejected)?,
            warnings: column("warnings", outcome.warnings)?,
            lake_snapshot: outcome.lake_snapshot,
        })
    }
}

/// Ends `run`'s attempt: the lease goes, the new state and its details come. The caller holds
/// the run (a fenced read, or the claim's lock) and records the event.
async fn finish(tx: &mut Transaction<'static, Any>, run: &Run, now: i64, end: Finish<'_>) -> Result<Run> {
    let retry_at = end.retry_after.map(|delay| now.saturating_add(duration_micros(delay)));
    let outcome = end.outcome.as_ref();
    let row = sqlx::query(&format!(
        "UPDATE runs SET state = $2, lease_owner = NULL, lease_expires_at_us = NULL, updated_at_us = $3, \
         finished_at_us = $3, detail = $4, retry_at_us = $5, duplicate_of = $6, \
         reporting_month = COALESCE($7, reporting_month), lines = $8, accepted = $9, rejected = $10, \
         warnings = $11, lake_snapshot = $12, superseded_by = COALESCE($13, superseded_by) \
         WHERE id = $1 RETURNING {RUN_COLUMNS}"
    ))
    .bind(run.id.number())
    .bind(end.state.as_str())
    .bind(now)
    .bind(end.detail)
    .bind(retry_at)
    .bind(end.duplicate_of.map(RunId::number))
    .bind(end.month.map(|month| month.to_string()))
    .bind(outcome.map(|o| o.lines))
    .bind(outcome.map(|o| o.accepted))
    .bind(outcome.map(|o| o.rejected))
    .bind(outcome.map(|o| o.warnings))
    .bind(outcome.and_then(|o| o.lake_snapshot))
    .bind(end.superseded_by.map(RunId::number))
    .fetch_one(&mut **tx)
    .await?;
    run_from_row(&row)
}
