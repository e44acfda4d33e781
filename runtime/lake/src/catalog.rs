//! Where the lake lives: the catalog that names each table's current metadata, and the warehouse
//! that holds the data and metadata files.
//!
//! The embedded default is an Iceberg SQL catalog in a SQLite file beside a local warehouse folder;
//! production is the same SQL catalog on PostgreSQL, or any catalog database, with an S3-compatible
//! bucket. The SQL catalog's tables (`iceberg_tables`, `iceberg_namespace_properties`) are the ones
//! Iceberg's JDBC catalog and pyiceberg's `SqlCatalog` use, so those read the same lake.

use std::path::PathBuf;
use std::sync::Arc;

use iceberg_rust::catalog::Catalog;
use iceberg_rust::object_store::ObjectStoreBuilder;
use iceberg_sql_catalog::SqlCatalog;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;

use crate::error::LakeError;

/// Everything needed to open the lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeConfig {
    pub catalog: CatalogConfig,
    pub warehouse: Warehouse,
    /// The catalog's name (the `catalog_name` column of the SQL catalog's tables).
    pub catalog_name: String,
    /// The namespace of the three tables.
    pub namespace: String,
}

impl LakeConfig {
    /// The embedded default: `catalog.db` (SQLite) and `warehouse/` in `dir`.
    pub fn embedded(dir: &std::path::Path) -> Self {
        LakeConfig {
            catalog: CatalogConfig::Sql { url: format!("sqlite:{}?mode=rwc", dir.join("catalog.db").display()) },
            warehouse: Warehouse::Local(dir.join("warehouse")),
            catalog_name: "etr".to_owned(),
            namespace: "etr".to_owned(),
        }
    }
}

/// The catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogConfig {
    /// Iceberg's SQL catalog: `sqlite:PATH?mode=rwc` or `postgres://...`.
    Sql { url: String },
}

/// Where data and metadata files are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warehouse {
    /// An absolute folder on this machine.
    Local(PathBuf),
    /// A bucket of an S3-compatible object store.
    S3(S3Config),
}

/// An S3-compatible bucket. Credentials come from the configuration's environment or files, never
/// from the YAML (the platform's config resolves them before they reach here).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// A key prefix inside the bucket, without leading or trailing `/` (may be empty).
    pub prefix: String,
    pub region: String,
    /// For S3-compatible servers other than AWS (MinIO, moto, Ceph): their URL.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Plain HTTP to the endpoint (a local test server).
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Config {
    // The secret stays out of logs and error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl S3Config {
    /// A client of the bucket, for the platform's own uses of it (the landing bucket). Conditional
    /// writes (If-None-Match, If-Match) are on: S3 and the servers compatible with it honour them.
    pub fn client(&self) -> Result<object_store::aws::AmazonS3, object_store::Error> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_region(&self.region)
            .with_access_key_id(&self.access_key_id)
            .with_secret_access_key(&self.secret_access_key)
            .with_allow_http(self.allow_http)
            .with_conditional_put(object_store::aws::S3ConditionalPut::ETagMatch);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
        }
        builder.build()
    }
}

impl Warehouse {
    /// The location of the warehouse's root as Iceberg metadata writes it: an absolute path for a
    /// local folder (the form the iceberg-rust object store maps onto the file system), `s3://`
    /// for a bucket.
    pub(crate) fn root(&self) -> Result<String, LakeError> {
        match self {
            Warehouse::Local(path) => {
                if !path.is_absolute() {
                    return Err(LakeError::Config(format!("the warehouse folder {} is not absolute", path.display())));
                }
                let text = path.to_str().ok_or_else(|| {
                    LakeError::Config(format!("the warehouse folder {} is not UTF-8", path.display()))
                })?;
                Ok(text.trim_end_matches('/').to_owned())
            }
            Warehouse::S3(s3) => {
                let prefix = s3.prefix.trim_matches('/');
                Ok(if prefix.is_empty() {
                    format!("s3://{}", s3.bucket)
                } else {
                    format!("s3://{}/{prefix}", s3.bucket)
                })
            }
        }
    }

    /// The object store of a writer: a local warehouse folder is created when missing.
    pub(crate) fn object_store_builder(&self) -> Result<ObjectStoreBuilder, LakeError> {
        if let Warehouse::Local(path) = self {
            std::fs::create_dir_all(path)
                .map_err(|e| LakeError::Storage(format!("cannot create the warehouse {}: {e}", path.display())))?;
        }
        Ok(self.object_store())
    }

    /// The object store, as it is: a reader creates nothing.
    fn object_store(&self) -> ObjectStoreBuilder {
        match self {
            Warehouse::Local(_) => ObjectStoreBuilder::Filesystem(Arc::new(LocalFileSystem::new())),
            Warehouse::S3(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    // Path-style requests: S3-compatible servers rarely serve virtual-host buckets.
                    builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
                }
                ObjectStoreBuilder::S3(Box::new(builder))
            }
        }
    }
}

/// Opens the catalog of `config`.
pub(crate) async fn open_catalog(config: &LakeConfig) -> Result<Arc<dyn Catalog>, LakeError> {
    let store = config.warehouse.object_store_builder()?;
    match &config.catalog {
        CatalogConfig::Sql { url } => {
            if url.starts_with("sqlite:") {
                write_ahead_log(url).await?;
            }
            let catalog = SqlCatalog::new(url, &config.catalog_name, store).await.map_err(LakeError::catalog)?;
            Ok(Arc::new(catalog))
        }
    }
}

/// Puts a SQLite catalog in write-ahead-log mode (it stays so: the mode is kept in the file).
/// In its default rollback-journal mode each commit of a table cost three to four fsyncs of the
/// journal, the database and their folder; with the log it costs one (docs/notes/0027). Readers
/// such as pyiceberg's `SqlCatalog` read a database in that mode as they read any other.
async fn write_ahead_log(url: &str) -> Result<(), LakeError> {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use std::str::FromStr;
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| LakeError::Config(format!("the catalog URL `{url}`: {e}")))?
        // Another process opening the catalog at the same moment holds it briefly: wait for it.
        .busy_timeout(std::time::Duration::from_secs(10))
        .journal_mode(SqliteJournalMode::Wal);
    let connection = options.connect().await.map_err(LakeError::catalog)?;
    drop(connection);
    Ok(())
}

/// Opens the catalog of `config` for a reader that must change nothing (`etr sql`, in `etr-sql`):
/// an embedded SQLite catalog is opened read-only and a local warehouse folder is not created, so
/// looking into a workspace whose lake was never written leaves it as it was.
///
/// `None` when the catalog is an SQLite file that does not exist yet: nothing was ever published.
/// This is the one place the lake hands out an iceberg-rust type, for the SQL engine's table
/// provider, which reads the tables itself; writers go through [`crate::Lake`].
pub async fn open_catalog_for_reading(config: &LakeConfig) -> Result<Option<Arc<dyn Catalog>>, LakeError> {
    match &config.catalog {
        CatalogConfig::Sql { url } => {
            let url = match read_only_sqlite(url) {
                Some((file, _)) if !file.is_file() => return Ok(None),
                Some((_, read_only_url)) => read_only_url,
                None => url.clone(),
            };
            let catalog = SqlCatalog::new(&url, &config.catalog_name, config.warehouse.object_store())
                .await
                .map_err(LakeError::catalog)?;
            Ok(Some(Arc::new(catalog)))
        }
    }
}

/// The file of an SQLite URL (`sqlite:PATH` or `sqlite://PATH`, options after `?`) and the same
/// URL opening it read-only (`mode=ro` in place of any `mode`); `None` for another database or an
/// in-memory SQLite.
fn read_only_sqlite(url: &str) -> Option<(PathBuf, String)> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let mut options: Vec<&str> =
        options.split('&').filter(|option| !option.is_empty() && !option.starts_with("mode=")).collect();
    options.push("mode=ro");
    Some((PathBuf::from(path), format!("sqlite:{path}?{}", options.join("&"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_opens_an_sqlite_catalog_read_only() {
        let (file, url) = read_only_sqlite("sqlite:/w/state/catalog.db?mode=rwc").unwrap();
        assert_eq!((file.to_str(), url.as_str()), (Some("/w/state/catalog.db"), "sqlite:/w/state/catalog.db?mode=ro"));
        let (file, url) = read_only_sqlite("sqlite:///w/c.db?cache=shared&mode=rw").unwrap();
        assert_eq!((file.to_str(), url.as_str()), (Some("/w/c.db"), "sqlite:/w/c.db?cache=shared&mode=ro"));
        assert_eq!(read_only_sqlite("sqlite:c.db").map(|(_, url)| url).as_deref(), Some("sqlite:c.db?mode=ro"));
        assert_eq!(read_only_sqlite("sqlite::memory:"), None);
        assert_eq!(read_only_sqlite("postgres://etr@db/lake"), None);
    }
}
