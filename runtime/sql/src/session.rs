//! Opening a session on the lake: the catalog read-only, the three tables loaded at their current
//! snapshots and registered under the lake's catalog and namespace, and DataFusion's memory bounded.
//!
//! The tables are registered in a DataFusion catalog named as the lake's (`etr`), whose one schema
//! is the lake's namespace (`etr`), and that pair is the session's default: `records`,
//! `etr.records` and `etr.etr.records` all name the same table, as they do in Spark or Trino
//! pointed at the same catalog. Only the lake's own three tables are registered, so a table some
//! other writer added to the namespace is not queried by accident, and an unknown name can be
//! answered with the list of the three.
//!
//! Memory: DataFusion's operators that hold rows (hash aggregates, sorts, joins) ask a memory pool
//! before they grow. The pool here is bounded ([`SqlSettings::memory_limit_bytes`]) and shared
//! fairly between the operators that can spill, which write sorted runs to temporary files
//! ([`SqlSettings::spill_dir`]) instead of failing; a `GROUP BY` over millions of records with
//! many groups spills instead of taking the machine's memory.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_iceberg::DataFusionTable;
use etr_lake::{LakeConfig, TableName};
use iceberg_rust::catalog::Catalog;
use iceberg_rust::catalog::identifier::Identifier;
use iceberg_rust::catalog::tabular::Tabular;
use iceberg_rust::table::Table;

use crate::error::SqlError;
use crate::table::SnapshotTable;

/// How a session may use the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlSettings {
    /// The most memory the operators of a query may hold together; past it, those that can spill
    /// to disk do, and a query whose operators cannot is stopped with an error.
    pub memory_limit_bytes: usize,
    /// Where spilled rows go (in a temporary folder made inside, removed when the session ends);
    /// `None`: the system's temporary folder (`TMPDIR`).
    pub spill_dir: Option<PathBuf>,
    /// How many partitions a query is split into, each run by a thread; `None`: one per core.
    pub target_partitions: Option<usize>,
}

impl Default for SqlSettings {
    /// 1 GiB of memory, spilling to the system's temporary folder, one partition per core.
    fn default() -> Self {
        SqlSettings { memory_limit_bytes: 1 << 30, spill_dir: None, target_partitions: None }
    }
}

/// A DataFusion session on the lake's tables.
pub struct LakeSql {
    pub(crate) context: SessionContext,
    /// The lake's tables the session has, by name, in `TableName::ALL`'s order.
    pub(crate) tables: Vec<String>,
}

impl LakeSql {
    /// Opens the lake of `config` for queries. [`SqlError::NoLake`] when no run has been published
    /// yet (the catalog or its tables do not exist); the lake is not created by looking at it.
    pub async fn open(config: &LakeConfig, settings: &SqlSettings) -> Result<LakeSql, SqlError> {
        let Some(catalog) = etr_lake::open_catalog_for_reading(config).await.map_err(lake_error)? else {
            return Err(SqlError::NoLake);
        };
        let schema = Arc::new(MemorySchemaProvider::new());
        let mut tables = Vec::new();
        for name in TableName::ALL {
            let Some(table) = load_table(&catalog, &config.namespace, name).await? else { continue };
            schema
                .register_table(name.as_str().to_owned(), Arc::new(SnapshotTable::new(DataFusionTable::from(table))))
                .map_err(SqlError::from_datafusion)?;
            tables.push(name.as_str().to_owned());
        }
        if tables.is_empty() {
            return Err(SqlError::NoLake);
        }

        let lake_catalog = Arc::new(MemoryCatalogProvider::new());
        lake_catalog.register_schema(&config.namespace, schema).map_err(SqlError::from_datafusion)?;
        let mut session = SessionConfig::new()
            .with_default_catalog_and_schema(&config.catalog_name, &config.namespace)
            .with_create_default_catalog_and_schema(false)
            // `SHOW TABLES` and `SHOW COLUMNS FROM records`, for an analyst finding their way.
            .with_information_schema(true);
        if let Some(partitions) = settings.target_partitions {
            session = session.with_target_partitions(partitions.max(1));
        }
        let context = SessionContext::new_with_config_rt(session, runtime(settings)?);
        context.register_catalog(&config.catalog_name, lake_catalog);
        Ok(LakeSql { context, tables })
    }

    /// The lake's tables this session can query, by their bare names.
    pub fn tables(&self) -> &[String] {
        &self.tables
    }
}

/// DataFusion's runtime: the bounded memory pool and the spill folder of `settings`.
fn runtime(settings: &SqlSettings) -> Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>, SqlError> {
    let spill = match &settings.spill_dir {
        Some(dir) => DiskManagerMode::Directories(vec![dir.clone()]),
        None => DiskManagerMode::OsTmpDirectory,
    };
    // The pool names the largest consumers when it refuses memory, so the error says which
    // operator of the query wanted it.
    let largest_consumers_named = NonZeroUsize::new(3).unwrap_or(NonZeroUsize::MIN);
    let pool = TrackConsumersPool::new(FairSpillPool::new(settings.memory_limit_bytes), largest_consumers_named);
    RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(spill))
        .build_arc()
        .map_err(SqlError::from_datafusion)
}

/// Loads one of the lake's tables as the catalog has it now; `None` when the catalog does not have it.
async fn load_table(catalog: &Arc<dyn Catalog>, namespace: &str, name: TableName) -> Result<Option<Table>, SqlError> {
    let identifier = Identifier::new(&[namespace.to_owned()], name.as_str());
    if !catalog.tabular_exists(&identifier).await.map_err(lake_error)? {
        return Ok(None);
    }
    let table = match catalog.clone().load_tabular(&identifier).await.map_err(lake_error)? {
        Tabular::Table(table) => table,
        _ => return Err(SqlError::Lake(format!("`{}` in the lake's catalog is a view, not a table", name.as_str()))),
    };
    // The table provider takes these for granted (it unwraps them); a table without them is
    // reported here instead.
    let schema = table.current_schema(None).map_err(|e| table_error(name, e))?;
    let _: arrow::datatypes::Schema = schema.fields().try_into().map_err(|e| table_error(name, e))?;
    table.metadata().current_partition_fields(None).map_err(|e| table_error(name, e))?;
    Ok(Some(table))
}

fn table_error(name: TableName, error: impl std::fmt::Display) -> SqlError {
    SqlError::Lake(format!("the lake's table `{}` cannot be read: {error}", name.as_str()))
}

fn lake_error(error: impl std::fmt::Display) -> SqlError {
    SqlError::Lake(error.to_string())
}
