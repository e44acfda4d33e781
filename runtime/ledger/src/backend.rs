//! The two databases behind one ledger, and everything in which they differ: the URL, how a
//! connection is set up, how a writing transaction starts, whose clock says "now", and how
//! competing writers are kept apart.
//!
//! Both are reached through sqlx's `Any` driver, so the ledger's statements are written once
//! (`$1` placeholders work on both). Keeping writers apart is where they differ:
//!
//! - SQLite has one writer at a time per file. Every writing transaction starts with `BEGIN
//!   IMMEDIATE`, which takes the file's write lock at once (waiting up to [`SQLITE_BUSY_TIMEOUT`]
//!   for another connection or process to finish), so what a transaction read is still true when
//!   it writes. The file is in WAL mode: readers (the HTTP API's queries) do not wait for writers.
//! - PostgreSQL has many. A claim locks its candidate row with `FOR UPDATE SKIP LOCKED`, so
//!   concurrent claimers each take a different run without waiting for each other; a finishing
//!   call locks its run with `FOR UPDATE`; publications of one contributor-month are serialised by
//!   a transaction-scoped advisory lock, so that two of them cannot both see no published run and
//!   both publish.
//!
//! Times come from the database server's clock on PostgreSQL (`clock_timestamp()`): workers on
//! several machines compare lease expiries against one clock, so a worker whose clock runs fast
//! cannot take a lease that is still live. SQLite is on one machine; its clock is the system's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};

use crate::error::{LedgerError, Result};

/// How long a SQLite writer waits for another connection's write lock before giving up.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The advisory lock key that serialises migrations on PostgreSQL ("etr_ledg" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6574_725f_6c65_6467;

/// Which database a ledger is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, one machine: the embedded default.
    Sqlite,
    /// A server that workers on several machines share.
    Postgres,
}

/// A parsed ledger URL: which backend, the URL sqlx connects with, and the one shown to people.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub backend: Backend,
    pub connect_url: String,
    /// The URL with any password hidden, for messages and logs.
    pub shown_url: String,
}

impl Target {
    /// `sqlite:PATH` (also `sqlite://PATH`; the file is created when missing, its folder is not) or
    /// `postgres://...` / `postgresql://...` (libpq's URL form).
    pub fn parse(url: &str) -> Result<Target> {
        let bad = |reason: &str| LedgerError::BadUrl { url: redact_password(url), reason: reason.into() };
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(bad("no file after `sqlite:`"));
            }
            if path == ":memory:" || rest.contains("mode=memory") {
                return Err(bad("an in-memory ledger would lose every run when the process ends; name a file"));
            }
            let absolute = std::path::absolute(path).map_err(|error| bad(&format!("the path: {error}")))?;
            let absolute = absolute.to_str().ok_or_else(|| bad("the path is not UTF-8"))?;
            // `mode=rwc`: create the file when missing.
            let connect_url = format!("sqlite://{}?mode=rwc", percent_encode_path(absolute));
            return Ok(Target { backend: Backend::Sqlite, connect_url, shown_url: format!("sqlite:{absolute}") });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target {
                backend: Backend::Postgres,
                connect_url: url.to_owned(),
                shown_url: redact_password(url),
            });
        }
        Err(bad("expected `sqlite:PATH` or `postgres://USER@HOST:PORT/DATABASE`"))
    }

    /// A pool on the database, set up for the ledger; `connect_timeout` bounds the wait for an
    /// unreachable server.
    pub async fn connect(&self, max_connections: u32, connect_timeout: Duration) -> Result<AnyPool> {
        sqlx::any::install_default_drivers();
        let backend = self.backend;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(connect_timeout)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        let timeout = format!("PRAGMA busy_timeout = {}", SQLITE_BUSY_TIMEOUT.as_millis());
                        connection.execute(timeout.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect(&self.connect_url)
            .await
            .map_err(|source| LedgerError::Unreachable { url: self.shown_url.clone(), source })?;
        if backend == Backend::Sqlite {
            enable_wal(&pool)
                .await
                .map_err(|source| LedgerError::Unreachable { url: self.shown_url.clone(), source })?;
        }
        Ok(pool)
    }
}

impl Backend {
    /// Starts a transaction that will write: on SQLite it holds the file's write lock from the
    /// start (see the module doc).
    pub(crate) async fn begin_write(self, pool: &AnyPool) -> Result<Transaction<'static, Any>> {
        Ok(match self {
            Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => pool.begin().await?,
        })
    }

    /// The time now, by the clock the ledger keeps time by (see the module doc), in microseconds.
    pub(crate) async fn now(self, tx: &mut Transaction<'static, Any>) -> Result<i64> {
        match self {
            Backend::Sqlite => Ok(Utc::now().timestamp_micros()),
            Backend::Postgres => {
                let row: AnyRow =
                    sqlx::query("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT) AS now_us")
                        .fetch_one(&mut **tx)
                        .await?;
                Ok(row.try_get("now_us")?)
            }
        }
    }

    /// What follows the claim's candidate query: on PostgreSQL, lock the row, skipping rows
    /// another claimer holds.
    pub(crate) fn claim_lock_clause(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// What follows a finishing call's read of its run: on PostgreSQL, lock the row until commit.
    pub(crate) fn row_lock_clause(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Waits until no other transaction is publishing for the same contributor and month.
    pub(crate) async fn serialize_publication(
        self,
        tx: &mut Transaction<'static, Any>,
        contributor: &str,
        month: &str,
    ) -> Result<()> {
        if self == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("etr-ledger publish {contributor}\n{month}"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Waits until no other process is migrating the schema.
    pub(crate) async fn serialize_migration(self, tx: &mut Transaction<'static, Any>) -> Result<()> {
        if self == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK_KEY).execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// Puts the SQLite file in WAL mode, once per file (the mode is stored in the file).
///
/// Switching modes needs the file to itself and does not wait on the busy timeout, so two
/// processes opening a new ledger at once can see "database is locked": then try again.
async fn enable_wal(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let mut tries = 0;
    loop {
        let mode: String = sqlx::query("PRAGMA journal_mode").fetch_one(pool).await?.try_get(0)?;
        if mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        match sqlx::query("PRAGMA journal_mode = WAL").execute(pool).await {
            Ok(_) => {}
            Err(error) if tries < 50 && is_busy(&error) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Whether `error` is SQLite's "database is locked" (`SQLITE_BUSY`, code 5).
fn is_busy(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().is_some_and(|code| code == "5"))
}

/// Microseconds since 1970 as a time; out of range is a damaged value.
pub(crate) fn time_from_micros(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| LedgerError::Corrupt(format!("{micros} is not a time in microseconds since 1970")))
}

/// A duration in microseconds, saturating (a lease of a few hundred thousand years is forever).
pub(crate) fn duration_micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// `url` with the password of its user part, if any, replaced by `***`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else { return url.to_owned() };
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

/// A path as a URL path: bytes other than unreserved characters and `/` percent-encoded (sqlx
/// decodes them), so that `?`, `#`, `%` and spaces in a file name stay part of it.
fn percent_encode_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_backend_or_are_refused_with_a_reason() {
        let sqlite = Target::parse("sqlite:/var/etr/ledger.db").unwrap();
        assert_eq!(
            (sqlite.backend, sqlite.connect_url.as_str()),
            (Backend::Sqlite, "sqlite:///var/etr/ledger.db?mode=rwc")
        );
        assert_eq!(Target::parse("sqlite:///var/etr/ledger.db").unwrap().connect_url, sqlite.connect_url);
        let relative = Target::parse("sqlite:ledger.db").unwrap();
        assert!(relative.shown_url.starts_with("sqlite:/") && relative.shown_url.ends_with("/ledger.db"));
        let odd = Target::parse("sqlite:/tmp/a b?#%.db").unwrap();
        assert_eq!(odd.connect_url, "sqlite:///tmp/a%20b%3F%23%25.db?mode=rwc");

        let postgres = Target::parse("postgres://etr:s3cret@db.internal:5432/ledger").unwrap();
        assert_eq!(postgres.backend, Backend::Postgres);
        assert_eq!(postgres.shown_url, "postgres://etr:***@db.internal:5432/ledger");
        assert_eq!(Target::parse("postgresql://etr@db/ledger").unwrap().backend, Backend::Postgres);

        for (url, reason) in [
            ("mysql://db/ledger", "expected `sqlite:PATH`"),
            ("ledger.db", "expected `sqlite:PATH`"),
            ("sqlite:", "no file"),
            ("sqlite::memory:", "in-memory"),
            ("sqlite://?mode=memory", "in-memory"),
        ] {
            match Target::parse(url) {
                Err(LedgerError::BadUrl { reason: got, .. }) => assert!(got.contains(reason), "{url}: {got}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        match Target::parse("mysql://root:hunter2@db/ledger") {
            Err(error) => assert!(!error.to_string().contains("hunter2"), "{error}"),
            Ok(target) => panic!("{target:?}"),
        }
    }

    #[test]
    fn passwords_are_hidden_and_nothing_else_changes() {
        assert_eq!(redact_password("postgres://u:p@h/d?sslmode=require"), "postgres://u:***@h/d?sslmode=require");
        assert_eq!(redact_password("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact_password("postgres://h/d?x=a@b"), "postgres://h/d?x=a@b");
        assert_eq!(redact_password("postgres://u:p@ss@h/d"), "postgres://u:***@h/d");
    }
}
