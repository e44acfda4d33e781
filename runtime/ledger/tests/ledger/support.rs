//! What the scenarios share: a fresh database on either backend, files to receive, and a macro
//! that runs a scenario on both backends.

use std::time::Duration;

use etr_ledger::{ContentHash, Ledger, LedgerOptions, Month, NewFile, Outcome, Source};
use etr_testkit::postgres::Cluster;
use tempfile::TempDir;

/// A lease long enough that it never expires during a test that does not wait for it.
pub const LONG_LEASE: Duration = Duration::from_secs(60);

/// A fresh, empty ledger database that scenarios open as often as they need.
pub struct TestDb {
    pub url: String,
    /// Holds the SQLite file; `None` for PostgreSQL.
    _dir: Option<TempDir>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite:{}", dir.path().join("ledger.db").display());
        TestDb { url, _dir: Some(dir) }
    }

    /// A database of its own on the binary's shared PostgreSQL server; `None` (a skip, or a
    /// failure under CI) when PostgreSQL is not installed.
    pub fn postgres() -> Option<TestDb> {
        let cluster = Cluster::shared_or_skip()?;
        let url = cluster.fresh_database("ledger").unwrap_or_else(|error| panic!("{error}"));
        Some(TestDb { url, _dir: None })
    }

    /// A new ledger instance on the database, with its own connection pool.
    pub async fn open(&self) -> Ledger {
        self.open_with(LedgerOptions::default()).await
    }

    pub async fn open_with(&self, options: LedgerOptions) -> Ledger {
        Ledger::open_with(&self.url, options).await.unwrap_or_else(|error| panic!("open {}: {error}", self.url))
    }
}

/// A file of `contributor` named `name`, its content hash derived from the name (so files with
/// one name have one content).
pub fn file(contributor: &str, name: &str, month: Option<&str>) -> NewFile {
    NewFile {
        contributor: contributor.into(),
        file_name: name.into(),
        content_hash: hash_of(name),
        size_bytes: 1_000 + name.len() as u64,
        source: Source::Folder,
        archive_key: format!("archive/{}", hash_of(name)),
        reporting_month: month.map(month_of),
    }
}

pub fn hash_of(content: &str) -> ContentHash {
    // FNV-1a, four times with different seeds: distinct names give distinct digests here.
    let mut digest = [0u8; 32];
    for (seed, chunk) in digest.chunks_mut(8).enumerate() {
        let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed as u64;
        for byte in content.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        chunk.copy_from_slice(&hash.to_be_bytes());
    }
    ContentHash::from_digest(digest)
}

pub fn month_of(text: &str) -> Month {
    text.parse().expect("a month")
}

pub fn outcome(lines: u64) -> Outcome {
    Outcome { lines, accepted: lines - 1, rejected: 1, warnings: 2, lake_snapshot: Some(42), reporting_month: None }
}

/// Defines, for each named scenario `async fn name(db: &TestDb)` of the enclosing module, a test
/// `sqlite::name` on a temporary file and a test `postgres::name` on a database of its own.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(&crate::support::TestDb::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(db) = crate::support::TestDb::postgres() else { return };
                    super::$scenario(&db).await;
                }
            )*
        }
    };
}

pub(crate) use on_both_backends;
