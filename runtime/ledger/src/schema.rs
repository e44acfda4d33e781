//! The ledger's schema, versioned in the repository and brought up to date when a ledger opens.
//!
//! Each migration is a pair of SQL files, `migrations/sqlite/NNNN_name.sql` and
//! `migrations/postgres/NNNN_name.sql`, compiled into the binary. The table `ledger_schema` holds
//! one row per applied migration. Opening a ledger applies the migrations its database lacks, in
//! order and in one transaction (all or none); a database whose version is higher than the last migration
//! here was migrated by a newer etr, and opening it is refused ([`LedgerError::SchemaTooNew`])
//! rather than risking writes an older etr does not understand.
//!
//! Migrations never change once released: a change to the schema is a new migration.
//! Two processes opening a new ledger at once migrate it once: the migration transaction holds
//! SQLite's write lock, or, on PostgreSQL, an advisory lock, and reads the version under it.

use sqlx::{AnyPool, Row};

use crate::backend::Backend;
use crate::error::{LedgerError, Result};

/// One step of the schema, in both dialects.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Every migration, in order; `version` counts from 1 without gaps.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "runs",
    sqlite: include_str!("../migrations/sqlite/0001_runs.sql"),
    postgres: include_str!("../migrations/postgres/0001_runs.sql"),
}];

/// The schema version this code reads and writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Brings the database's schema to [`SCHEMA_VERSION`]; returns the version it found.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<i64> {
    let mut tx = backend.begin_write(pool).await?;
    backend.serialize_migration(&mut tx).await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS ledger_schema (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at_us BIGINT NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await?;
    let found: Option<i64> = sqlx::query("SELECT MAX(version) AS version FROM ledger_schema")
        .fetch_one(&mut *tx)
        .await?
        .try_get("version")?;
    let found = found.unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(LedgerError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    for migration in MIGRATIONS.iter().filter(|migration| migration.version > found) {
        let sql = match backend {
            Backend::Sqlite => migration.sqlite,
            Backend::Postgres => migration.postgres,
        };
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        let now = backend.now(&mut tx).await?;
        sqlx::query("INSERT INTO ledger_schema (version, name, applied_at_us) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables and columns a migration declares, in order: `table.column` for each line that
    /// starts a column (`    name TYPE ...`), read after each `CREATE TABLE name`.
    fn columns(sql: &str) -> Vec<String> {
        let mut table = "";
        let mut columns = Vec::new();
        for line in sql.lines() {
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                table = rest.split_whitespace().next().unwrap_or("");
            } else if line.starts_with("    ") && !line.trim_start().starts_with("--") {
                let mut words = line.split_whitespace();
                if let (Some(name), Some(kind)) = (words.next(), words.next())
                    && ["INTEGER", "BIGINT", "TEXT"].contains(&kind.trim_end_matches(','))
                {
                    columns.push(format!("{table}.{name}"));
                }
            }
        }
        columns
    }

    #[test]
    fn both_dialects_of_a_migration_declare_the_same_columns() {
        for migration in MIGRATIONS {
            let sqlite = columns(migration.sqlite);
            assert!(sqlite.len() > 10, "{}: {sqlite:?}", migration.name);
            assert_eq!(sqlite, columns(migration.postgres), "{}", migration.name);
        }
    }

    #[test]
    fn migrations_count_from_one_without_gaps_in_both_dialects() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1, "{}", migration.name);
            assert!(!migration.sqlite.trim().is_empty() && !migration.postgres.trim().is_empty());
        }
    }
}
