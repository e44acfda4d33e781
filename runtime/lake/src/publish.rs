//! Publishing a run: its data files written beside the tables, then one commit per table, each
//! idempotent and checked against the catalog after it is made.
//!
//! Per table (records, then rejects, then runs; the runs row last, so that a run in `runs` is a run
//! wholly in the lake):
//! 1. load the table as the catalog has it now, and list the live files of the run's
//!    contributor-month (`manifests.rs`: only the manifests whose partition bounds can hold it);
//! 2. if a file of this run is there, the table is done (a retry after a crash);
//! 3. if a file of a run received later is there, this run is superseded: nothing is committed,
//!    anywhere, from here on;
//! 4. write this run's file once, kept across retries of the commit (`splice.rs`: the engine's
//!    column chunks under the lake's footer);
//! 5. commit: an append when the month has no files yet, else an overwrite that removes the previous
//!    run's files of the month and adds this run's in one snapshot;
//! 6. load the table again and look for the snapshot the commit made in the current snapshot's
//!    history: the SQL catalog's compare-and-swap does not report a lost race, so a commit is only
//!    taken as made when it is seen; otherwise back to 1.
//!
//! Data files are named `<run seq, 20 digits>-<run id>-<uuid>.parquet` under
//! `data/month=<YYYY-MM-01>/contributor=<name>/` (runs: `data/`), so which run a file belongs to,
//! and in which order runs were received, is read from its path.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{Schema as ArrowSchema, SchemaRef};
use iceberg_rust::catalog::Catalog;
use iceberg_rust::catalog::commit::{CommitTable, TableRequirement, TableUpdate};
use iceberg_rust::catalog::create::CreateTableBuilder;
use iceberg_rust::catalog::identifier::Identifier;
use iceberg_rust::catalog::namespace::Namespace;
use iceberg_rust::catalog::tabular::Tabular;
use iceberg_rust::file_format::parquet::parquet_to_datafile;
use iceberg_rust::spec::manifest::DataFile;
use iceberg_rust::spec::schema::Schema;
use iceberg_rust::spec::util::strip_prefix;
use iceberg_rust::table::Table;
use object_store::ObjectStoreExt;
use parquet::arrow::AsyncArrowWriter;
use parquet::arrow::async_writer::ParquetObjectWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::catalog::{LakeConfig, Warehouse, open_catalog};
use crate::convert::{RunColumns, open_output, output_error, runs_row, to_lake_batch};
use crate::error::LakeError;
use crate::manifests::{LiveFile, ManifestCache, Partition, live_files};
use crate::splice;
use crate::tables::{
    RecordField, TableName, evolved_records_schema, partition_spec, records_schema, rejects_schema, runs_schema,
};

/// What iceberg-sql-catalog answers a commit whose condition (the branch at the snapshot the
/// commit started from) no longer holds.
const LOST_RACE: &str = "Table requirements not valid";

/// How many times a commit lost to other writers is tried again before giving up.
const COMMIT_ATTEMPTS: u32 = 8;

/// A reporting month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    /// `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let month: u32 = month.parse().ok()?;
        (1..=12).contains(&month).then_some(Month { year, month })
    }

    /// Days from 1970-01-01 to the month's first day (the proleptic Gregorian calendar).
    pub fn first_day(self) -> i32 {
        // A month `parse` accepted (a four-digit year, 1 to 12) always has a first day.
        etr_values::calendar::days_from_civil(i64::from(self.year), self.month, 1).unwrap_or(i32::MIN)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// What the runs table records of a run, besides its id, contributor and month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub file_name: String,
    pub content_hash: String,
    pub size_bytes: i64,
    pub lines_read: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub spec_hash: String,
    /// Microseconds since 1970-01-01 UTC.
    pub published_at_micros: i64,
}

/// A run to publish.
#[derive(Debug, Clone)]
pub struct PublishRequest<'a> {
    /// The ledger's name of the run.
    pub run_id: &'a str,
    /// The order in which the ledger received runs: of two runs of one contributor-month, the one
    /// with the higher sequence is the newer file and the one the lake keeps.
    pub run_seq: i64,
    /// As the workspace names it: letters, digits, `_` and `-` (it is a path segment).
    pub contributor: &'a str,
    pub month: Month,
    /// The engine's output folder of the run (`accepted.parquet`, `rejects.parquet`).
    pub output: &'a Path,
    pub run: RunRow,
}

/// What a publication did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Published {
    /// The tables this call committed to; empty when the run was already in the lake.
    pub committed: Vec<TableName>,
    /// The runs whose files of the month this run's replaced.
    pub replaced_runs: Vec<String>,
    /// A run of the same contributor-month received later is in the lake: this one was not published.
    pub superseded_by: Option<String>,
    /// The records table's snapshot after the publication.
    pub records_snapshot: Option<i64>,
}

/// The lake: a catalog and the three tables in its namespace.
pub struct Lake {
    catalog: Arc<dyn Catalog>,
    namespace: Vec<String>,
    root: String,
    warehouse: Warehouse,
    /// The record [`Lake::ensure_tables`] last made the tables fit: asked again for the same
    /// record (every run of a worker), it has nothing to do. Tables are never dropped, and a field
    /// another process adds stays, so what was ensured holds.
    ensured: std::sync::Mutex<Option<Vec<RecordField>>>,
    /// Held while [`Lake::ensure_tables`] works, so that two workers of this process do not both
    /// create a table.
    ensuring: tokio::sync::Mutex<()>,
    /// One per table, held from loading a table to seeing a commit to it: this process's commits
    /// to a table one at a time (see `publish_to`).
    committing: [tokio::sync::Mutex<()>; 3],
    /// The manifests read so far (immutable files, each read once).
    manifests: ManifestCache,
}

/// A data file in a table's current snapshot, as [`Lake::files_in`] lists it: which run wrote it
/// (`None` for a file this lake did not write) and how many rows the manifest says it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeFile {
    pub run_id: Option<String>,
    pub path: String,
    pub rows: i64,
}

impl Lake {
    /// Opens the catalog and the warehouse of `config`. The tables are created by
    /// [`Lake::ensure_tables`].
    pub async fn open(config: &LakeConfig) -> Result<Lake, LakeError> {
        let root = config.warehouse.root()?;
        let catalog = open_catalog(config).await?;
        let namespace = vec![config.namespace.clone()];
        Ok(Lake {
            catalog,
            namespace,
            root,
            warehouse: config.warehouse.clone(),
            ensured: std::sync::Mutex::new(None),
            ensuring: tokio::sync::Mutex::new(()),
            committing: Default::default(),
            manifests: ManifestCache::default(),
        })
    }

    fn identifier(&self, table: TableName) -> Identifier {
        Identifier::new(&self.namespace, table.as_str())
    }

    /// Where a table's files live: `<warehouse>/<namespace>/<table>`.
    pub fn table_location(&self, table: TableName) -> String {
        format!("{}/{}/{}", self.root, self.namespace.join("/"), table.as_str())
    }

    /// Creates the namespace and any table missing, and adds to `records` the fields `record` has
    /// and the table lacks (schema evolution: the canonical record gained a field).
    pub async fn ensure_tables(&self, record: &[RecordField]) -> Result<(), LakeError> {
        if self.ensured.lock().is_ok_and(|ensured| ensured.as_deref() == Some(record)) {
            return Ok(());
        }
        let _one_at_a_time = self.ensuring.lock().await;
        let namespace = Namespace::try_new(&self.namespace).map_err(LakeError::catalog)?;
        // `list_namespaces`, not `namespace_exists`: the SQL catalog leaves the latter unimplemented
        // (a panic), see docs/notes/0025.
        let namespaces = self.catalog.list_namespaces(None).await.map_err(LakeError::catalog)?;
        if !namespaces.iter().any(|n| n.to_string() == namespace.to_string()) {
            // Another process may create it first: then its creation is as good as ours.
            if let Err(error) = self.catalog.create_namespace(&namespace, None).await {
                let namespaces = self.catalog.list_namespaces(None).await.map_err(LakeError::catalog)?;
                if !namespaces.iter().any(|n| n.to_string() == namespace.to_string()) {
                    return Err(LakeError::catalog(error));
                }
            }
        }
        for table in TableName::ALL {
            let identifier = self.identifier(table);
            if self.catalog.tabular_exists(&identifier).await.map_err(LakeError::catalog)? {
                if table == TableName::Records {
                    self.evolve_records(record).await?;
                }
                continue;
            }
            let schema = match table {
                TableName::Records => records_schema(record)?,
                TableName::Rejects => rejects_schema()?,
                TableName::Runs => runs_schema()?,
            };
            let mut builder = CreateTableBuilder::default();
            builder
                .with_name(table.as_str())
                .with_location(self.table_location(table))
                .with_schema(schema)
                .with_partition_spec(partition_spec(table)?)
                .with_property(("write.format.default".to_owned(), "parquet".to_owned()));
            if let Err(error) = builder.build(&self.namespace, self.catalog.clone()).await {
                // Two workers meeting a new lake both create its tables: one wins, and the other
                // finds the table there (it is the same table: the schema comes from the record).
                if !self.catalog.tabular_exists(&identifier).await.map_err(LakeError::catalog)? {
                    return Err(LakeError::catalog(error));
                }
            }
        }
        if let Ok(mut ensured) = self.ensured.lock() {
            *ensured = Some(record.to_vec());
        }
        Ok(())
    }

    async fn evolve_records(&self, record: &[RecordField]) -> Result<(), LakeError> {
        let table = self.load(TableName::Records).await?;
        let current = table.current_schema(None).map_err(LakeError::catalog)?;
        let Some(evolved) = evolved_records_schema(current, record)? else { return Ok(()) };
        let last_column_id = evolved.fields().iter().map(|f| f.id).max();
        let commit = CommitTable {
            identifier: self.identifier(TableName::Records),
            requirements: vec![TableRequirement::AssertCurrentSchemaId { current_schema_id: *current.schema_id() }],
            updates: vec![
                TableUpdate::AddSchema { schema: evolved, last_column_id },
                TableUpdate::SetCurrentSchema { schema_id: -1 },
            ],
        };
        self.catalog.clone().update_table(commit).await.map_err(LakeError::catalog)?;
        Ok(())
    }

    async fn load(&self, table: TableName) -> Result<Table, LakeError> {
        match self.catalog.clone().load_tabular(&self.identifier(table)).await.map_err(LakeError::catalog)? {
            Tabular::Table(table) => Ok(table),
            _ => Err(LakeError::Catalog(format!("`{}` is a view, not a table", table.as_str()))),
        }
    }

    /// The ids of the runs with files in a table's current snapshot.
    pub async fn runs_in(&self, table: TableName) -> Result<Vec<String>, LakeError> {
        let table = self.load(table).await?;
        let mut runs: Vec<String> = live_files(&table, None, &self.manifests)
            .await?
            .iter()
            .filter_map(|f| f.run().map(|(_, id)| id.to_owned()))
            .collect();
        runs.sort();
        runs.dedup();
        Ok(runs)
    }

    /// The data files of a table's current snapshot with their runs and row counts: what a check
    /// of the lake against the ledger compares (every file a published run's, each run's rows its
    /// accepted count).
    pub async fn files_in(&self, table: TableName) -> Result<Vec<LakeFile>, LakeError> {
        let table = self.load(table).await?;
        let files = live_files(&table, None, &self.manifests).await?;
        Ok(files
            .iter()
            .map(|f| LakeFile { run_id: f.run().map(|(_, id)| id.to_owned()), path: f.path.clone(), rows: f.rows })
            .collect())
    }

    /// Publishes a run; see the module's documentation for the steps and what holds.
    pub async fn publish(&self, request: &PublishRequest<'_>) -> Result<Published, LakeError> {
        if !request.contributor.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || request.contributor.is_empty()
        {
            return Err(LakeError::Config(format!(
                "the contributor name `{}` cannot name a folder",
                request.contributor
            )));
        }
        let mut published = Published::default();
        for table in TableName::ALL {
            match self.publish_to(table, request, &mut published).await? {
                TableOutcome::Done(snapshot) => {
                    if table == TableName::Records {
                        published.records_snapshot = snapshot;
                    }
                }
                TableOutcome::Superseded(by) => {
                    published.superseded_by = Some(by);
                    return Ok(published);
                }
            }
        }
        Ok(published)
    }

    async fn publish_to(
        &self,
        name: TableName,
        request: &PublishRequest<'_>,
        published: &mut Published,
    ) -> Result<TableOutcome, LakeError> {
        let month_folder = format!("month={}-01/contributor={}/", request.month, request.contributor);
        let partition = name
            .replaces_month()
            .then(|| Partition { month_day: request.month.first_day(), contributor: request.contributor });
        let mut written: Option<Vec<DataFile>> = None;
        let mut attempts = 0;
        while attempts < COMMIT_ATTEMPTS {
            // The SQL catalog applies a commit to the metadata this process last saw of the table,
            // whoever in the process saw it, and checks the commit's condition against that;
            // iceberg-rust sets no condition on the first commit to an empty table. Two workers of
            // one process committing at once could then both be applied, the second dropping the
            // first's files, and both would see their snapshot in the history. One at a time, each
            // commit starts from what the catalog has; between processes, the catalog's
            // compare-and-swap on the metadata location refuses the stale one, which is seen and
            // retried. The data file is written before the lock is taken.
            let _one_at_a_time = match written {
                Some(_) => Some(self.committing[name as usize].lock().await),
                None => None,
            };
            let mut table = self.load(name).await?;
            // A run's files are in its own partition: that partition's files answer both questions.
            let live = live_files(&table, partition, &self.manifests).await?;
            let ours: Vec<String> = live
                .iter()
                .filter(|f| f.run().is_some_and(|(_, id)| id == request.run_id))
                .map(|f| f.path.clone())
                .collect();
            if !ours.is_empty() {
                self.remove_leftovers(&table, name, request, &month_folder, &ours).await?;
                return Ok(TableOutcome::Done(current_snapshot(&table)?));
            }
            let month_files: Vec<&LiveFile> = if name.replaces_month() { live.iter().collect() } else { Vec::new() };
            if let Some((_, newer)) = month_files.iter().filter_map(|f| f.run()).find(|(seq, _)| *seq > request.run_seq)
            {
                self.remove_leftovers(&table, name, request, &month_folder, &[]).await?;
                return Ok(TableOutcome::Superseded(newer.to_owned()));
            }
            let Some(files) = written.clone() else {
                let replaced = published.replaced_runs.first().map(String::as_str);
                written = Some(self.write_files(name, &table, request, &month_folder, replaced).await?);
                // Again from the start, holding the lock: the table may have moved meanwhile.
                continue;
            };
            if files.is_empty() && month_files.is_empty() {
                return Ok(TableOutcome::Done(current_snapshot(&table)?));
            }
            attempts += 1;
            let replaced: Vec<String> =
                month_files.iter().filter_map(|f| f.run().map(|(_, id)| id.to_owned())).collect();
            let transaction = table.new_transaction(None);
            let transaction = if month_files.is_empty() {
                transaction.append_data(files.clone())
            } else {
                let mut by_manifest: HashMap<String, Vec<String>> = HashMap::new();
                for f in &month_files {
                    by_manifest.entry(f.manifest.clone()).or_default().push(f.path.clone());
                }
                transaction.overwrite(files.clone(), by_manifest)
            };
            match transaction.commit().await {
                Ok(()) => {}
                // Another worker of this process committed since this attempt loaded the table
                // (the catalog checks the commit's condition against what it last saw): a lost
                // race, seen before the commit was made. Start again from the table as it is now.
                Err(error) if error.to_string().contains(LOST_RACE) => continue,
                Err(error) => return Err(LakeError::catalog(error)),
            }

            // Taken only when seen: the snapshot this commit made is the catalog's current one or
            // an ancestor of it (a commit that lost the race was never applied, and its snapshot is
            // nowhere in the chain). That snapshot holds the run's files and not the replaced ones.
            let made = current_snapshot(&table)?;
            let seen = self.load(name).await?;
            if made.is_some_and(|made| in_history(&seen, made)) {
                let keep: Vec<String> = files.iter().map(|f| f.file_path().clone()).collect();
                self.remove_leftovers(&seen, name, request, &month_folder, &keep).await?;
                published.committed.push(name);
                for run in replaced {
                    if !published.replaced_runs.contains(&run) {
                        published.replaced_runs.push(run);
                    }
                }
                return Ok(TableOutcome::Done(made));
            }
        }
        Err(LakeError::CommitContention {
            table: name.as_str().into(),
            run_id: request.run_id.into(),
            attempts: COMMIT_ATTEMPTS,
        })
    }

    /// Removes the files of this run in its folder of `table` other than `keep`: what earlier
    /// attempts left (a worker killed after writing its file and before committing it, or while
    /// splicing one). Called once the run's fate in the table is settled (committed, found there,
    /// or superseded), so no attempt of this run can still commit such a file: one that loaded the
    /// table before that moment loses the catalog's compare-and-swap, one that loads it after finds
    /// the run there or a newer one.
    async fn remove_leftovers(
        &self,
        table: &Table,
        name: TableName,
        request: &PublishRequest<'_>,
        month_folder: &str,
        keep: &[String],
    ) -> Result<(), LakeError> {
        let folder = data_folder(name, month_folder);
        let prefix = format!("{}/{folder}", table.metadata().location);
        let run_prefix = format!("{:020}-{}-", request.run_seq, request.run_id);
        let store = table.object_store();
        let listing = object_store::path::Path::from(strip_prefix(&prefix).as_str());
        let mut objects = store.list(Some(&listing));
        let mut leftovers = Vec::new();
        while let Some(object) = futures::StreamExt::next(&mut objects).await {
            let object = match object {
                Ok(object) => object,
                // A folder not made yet has nothing to remove.
                Err(object_store::Error::NotFound { .. }) => break,
                Err(error) => return Err(LakeError::storage(error)),
            };
            let Some(file) = object.location.filename() else { continue };
            if !file.starts_with(&run_prefix) {
                continue;
            }
            let kept = keep.iter().any(|k| object_store::path::Path::from(strip_prefix(k).as_str()) == object.location);
            if !kept {
                leftovers.push(object.location.clone());
            }
        }
        drop(objects);
        for leftover in leftovers {
            match store.delete(&leftover).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(LakeError::storage(error)),
            }
        }
        Ok(())
    }

    /// Writes the run's data file of a table (none when the run has no rows for it): for records
    /// and rejects, the engine's file spliced under the lake's footer (`splice.rs`), or converted
    /// batch by batch when it cannot be; for runs, the row the request describes.
    async fn write_files(
        &self,
        name: TableName,
        table: &Table,
        request: &PublishRequest<'_>,
        month_folder: &str,
        replaced: Option<&str>,
    ) -> Result<Vec<DataFile>, LakeError> {
        let schema = table.current_schema(None).map_err(LakeError::catalog)?;
        let arrow_schema: ArrowSchema = schema.fields().try_into().map_err(LakeError::catalog)?;
        let arrow_schema: SchemaRef = Arc::new(arrow_schema);
        let folder = data_folder(name, month_folder);
        let location = format!(
            "{}/{folder}{:020}-{}-{}.parquet",
            table.metadata().location,
            request.run_seq,
            request.run_id,
            uuid::Uuid::new_v4()
        );
        let store = table.object_store();
        let path = object_store::path::Path::from(strip_prefix(&location).as_str());
        let run = RunColumns {
            run_id: request.run_id.to_owned(),
            contributor: request.contributor.to_owned(),
            month_day: request.month.first_day(),
        };
        let metadata = match name {
            TableName::Records | TableName::Rejects => {
                let file = if name == TableName::Records { "accepted.parquet" } else { "rejects.parquet" };
                let source = request.output.join(file);
                if !source.is_file() {
                    return Ok(Vec::new());
                }
                match self.splice_into(&source, &arrow_schema, &run, &store, &location).await? {
                    Spliced::Written(metadata) => metadata,
                    Spliced::Empty => return Ok(Vec::new()),
                    Spliced::Unsuitable => {
                        let Some(metadata) = convert_into(&source, &arrow_schema, &run, &store, &path, name).await?
                        else {
                            return Ok(Vec::new());
                        };
                        metadata
                    }
                }
            }
            TableName::Runs => {
                let row = runs_row(&arrow_schema, run_values(request, replaced))?;
                let mut writer = parquet_writer(&store, &path, &arrow_schema)?;
                writer.write(&row).await.map_err(LakeError::storage)?;
                writer.close().await.map_err(LakeError::storage)?
            }
        };
        let size = store.head(&path).await.map_err(LakeError::storage)?.size;
        let partition_fields = table.metadata().current_partition_fields(None).map_err(LakeError::catalog)?;
        let file = parquet_to_datafile(&location, size, &metadata, schema, &partition_fields, None)
            .map_err(LakeError::catalog)?;
        Ok(vec![without_untrusted_bounds(file, schema, &run)?])
    }

    /// Splices the engine's file `source` into the lake's file at `path`: written in place for a
    /// local warehouse (under a temporary name, renamed when whole), staged beside the source and
    /// uploaded for a bucket.
    async fn splice_into(
        &self,
        source: &Path,
        target: &SchemaRef,
        run: &RunColumns,
        store: &Arc<dyn object_store::ObjectStore>,
        location: &str,
    ) -> Result<Spliced, LakeError> {
        let path = object_store::path::Path::from(strip_prefix(location).as_str());
        // A local warehouse's locations are absolute paths (`Warehouse::root`).
        let local = match &self.warehouse {
            Warehouse::Local(_) => Some(std::path::PathBuf::from(location)),
            Warehouse::S3(_) => None,
        };
        let staged = match &local {
            Some(final_path) => {
                let parent = final_path.parent().ok_or_else(|| LakeError::Storage(format!("no folder for {path}")))?;
                std::fs::create_dir_all(parent)
                    .map_err(|e| LakeError::Storage(format!("create {}: {e}", parent.display())))?;
                final_path.with_extension("parquet.partial")
            }
            None => source.with_extension("lake.partial"),
        };
        let (source_owned, target_owned, run_owned, staged_owned) =
            (source.to_owned(), target.clone(), run.clone(), staged.clone());
        let spliced = tokio::task::spawn_blocking(move || {
            splice::splice(&source_owned, &target_owned, &run_owned, &staged_owned)
        })
        .await
        .map_err(|e| LakeError::Storage(format!("the splicing thread: {e}")))?;
        let metadata = match spliced {
            Ok(Some(metadata)) => metadata,
            Ok(None) => {
                let _ = std::fs::remove_file(&staged);
                return Ok(Spliced::Unsuitable);
            }
            Err(error) => {
                let _ = std::fs::remove_file(&staged);
                return Err(error);
            }
        };
        if metadata.file_metadata().num_rows() == 0 {
            let _ = std::fs::remove_file(&staged);
            return Ok(Spliced::Empty);
        }
        match local {
            Some(final_path) => std::fs::rename(&staged, &final_path).map_err(|e| {
                LakeError::Storage(format!("rename {} to {}: {e}", staged.display(), final_path.display()))
            })?,
            None => {
                let uploaded = upload(store, &path, &staged).await;
                let _ = std::fs::remove_file(&staged);
                uploaded?;
            }
        }
        Ok(Spliced::Written(metadata))
    }
}

/// What splicing made of an engine file.
enum Spliced {
    Written(parquet::file::metadata::ParquetMetaData),
    /// The engine's file has no rows: the table gets no file.
    Empty,
    /// The engine's file cannot be copied as it is (see `splice.rs`): convert it.
    Unsuitable,
}

/// The parts of an upload: large enough for S3's minimum part (5 MiB), small enough to keep memory flat.
const UPLOAD_PART_BYTES: usize = 8 * 1024 * 1024;

/// Uploads a local file to `path` in parts, reading it a part at a time.
async fn upload(
    store: &Arc<dyn object_store::ObjectStore>,
    path: &object_store::path::Path,
    file: &Path,
) -> Result<(), LakeError> {
    use tokio::io::AsyncReadExt;
    let mut reader =
        tokio::fs::File::open(file).await.map_err(|e| LakeError::Storage(format!("open {}: {e}", file.display())))?;
    let upload = store.put_multipart(path).await.map_err(LakeError::storage)?;
    let mut parts = object_store::WriteMultipart::new_with_chunk_size(upload, UPLOAD_PART_BYTES);
    let mut buffer = vec![0u8; UPLOAD_PART_BYTES];
    loop {
        let read =
            reader.read(&mut buffer).await.map_err(|e| LakeError::Storage(format!("read {}: {e}", file.display())))?;
        if read == 0 {
            break;
        }
        parts.wait_for_capacity(4).await.map_err(LakeError::storage)?;
        parts.write(&buffer[..read]);
    }
    parts.finish().await.map_err(LakeError::storage)?;
    Ok(())
}

/// A Parquet writer of the lake's files written by conversion (zstd level 1, like the engine's).
fn parquet_writer(
    store: &Arc<dyn object_store::ObjectStore>,
    path: &object_store::path::Path,
    schema: &SchemaRef,
) -> Result<AsyncArrowWriter<ParquetObjectWriter>, LakeError> {
    let writer = ParquetObjectWriter::new(store.clone(), path.clone());
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).map_err(LakeError::storage)?))
        .build();
    AsyncArrowWriter::try_new(writer, schema.clone(), Some(properties)).map_err(LakeError::storage)
}

/// Converts the engine's file `source` batch by batch into the lake's file at `path` (the path for
/// files splicing cannot copy); `None` when it has no rows.
async fn convert_into(
    source: &Path,
    target: &SchemaRef,
    run: &RunColumns,
    store: &Arc<dyn object_store::ObjectStore>,
    path: &object_store::path::Path,
    name: TableName,
) -> Result<Option<parquet::file::metadata::ParquetMetaData>, LakeError> {
    let dir = source.parent().unwrap_or(Path::new("."));
    let file = source.file_name().and_then(|f| f.to_str()).unwrap_or_default();
    let Some(reader) = open_output(dir, file)? else { return Ok(None) };
    let mut writer: Option<AsyncArrowWriter<ParquetObjectWriter>> = None;
    for batch in reader {
        let batch = batch.map_err(|e| output_error(source, e))?;
        if batch.num_rows() == 0 {
            continue;
        }
        let converted = to_lake_batch(&batch, target, run).map_err(|e| with_table(e, name))?;
        if writer.is_none() {
            writer = Some(parquet_writer(store, path, target)?);
        }
        if let Some(writer) = writer.as_mut() {
            writer.write(&converted).await.map_err(LakeError::storage)?;
        }
    }
    match writer {
        Some(writer) => Ok(Some(writer.close().await.map_err(LakeError::storage)?)),
        None => Ok(None),
    }
}

enum TableOutcome {
    /// The run is in the table, as of this snapshot of it.
    Done(Option<i64>),
    Superseded(String),
}

/// A data file's description without the column bounds iceberg-rust 0.10's `parquet_to_datafile`
/// gets wrong, which readers (pyiceberg, Spark, Trino, DataFusion) would trust to skip the file or
/// to answer `min` and `max`: a decimal's, read from Parquet's little-endian `INT64` as big-endian
/// bytes, and a string's, taken from the first row group only (docs/notes/0027). Without a bound a
/// reader reads the file: slower, never wrong. Row, value and null counts stay.
fn without_untrusted_bounds(file: DataFile, schema: &Schema, run: &RunColumns) -> Result<DataFile, LakeError> {
    use iceberg_rust::spec::types::{PrimitiveType, Type};
    use iceberg_rust::spec::values::Value;
    // The run's own text columns hold one value per file: their bounds are that value, exactly,
    // which is what lets readers skip other contributors' files (`tables::partition_spec`).
    let exact: Vec<(i32, Value)> = schema
        .fields()
        .iter()
        .filter_map(|f| match f.name.as_str() {
            "run_id" => Some((f.id, Value::String(run.run_id.clone()))),
            "contributor" => Some((f.id, Value::String(run.contributor.clone()))),
            _ => None,
        })
        .collect();
    let untrusted: std::collections::HashSet<i32> = schema
        .fields()
        .iter()
        .filter(|f| matches!(f.field_type, Type::Primitive(PrimitiveType::String | PrimitiveType::Decimal { .. })))
        .map(|f| f.id)
        .collect();
    let trusted = |bounds: &Option<HashMap<i32, Value>>| {
        let mut kept: HashMap<i32, Value> = bounds
            .iter()
            .flatten()
            .filter(|(id, _)| !untrusted.contains(id))
            .map(|(id, value)| (*id, value.clone()))
            .collect();
        kept.extend(exact.iter().cloned());
        Some(kept)
    };
    DataFile::builder()
        .with_content(file.content().clone())
        .with_file_path(file.file_path().clone())
        .with_file_format(file.file_format().clone())
        .with_partition(file.partition().clone())
        .with_record_count(*file.record_count())
        .with_file_size_in_bytes(*file.file_size_in_bytes())
        .with_column_sizes(file.column_sizes().clone())
        .with_value_counts(file.value_counts().clone())
        .with_null_value_counts(file.null_value_counts().clone())
        .with_nan_value_counts(file.nan_value_counts().clone())
        .with_lower_bounds(trusted(file.lower_bounds()))
        .with_upper_bounds(trusted(file.upper_bounds()))
        .with_key_metadata(file.key_metadata().clone())
        .with_split_offsets(file.split_offsets().clone())
        .with_equality_ids(file.equality_ids().clone())
        .with_sort_order_id(*file.sort_order_id())
        .build()
        .map_err(LakeError::catalog)
}

/// Where a table's data files of a run go, under its location: the contributor-month's folder for
/// `records` and `rejects`, `data/` for `runs`.
fn data_folder(name: TableName, month_folder: &str) -> String {
    if name.replaces_month() { format!("data/{month_folder}") } else { "data/".to_owned() }
}

/// The id of a table's current snapshot (`None` for a table without one).
fn current_snapshot(table: &Table) -> Result<Option<i64>, LakeError> {
    Ok(table.metadata().current_snapshot(None).map_err(LakeError::catalog)?.map(|s| *s.snapshot_id()))
}

/// Whether `snapshot` is `table`'s current snapshot or one of its ancestors.
fn in_history(table: &Table, snapshot: i64) -> bool {
    let metadata = table.metadata();
    let mut at = metadata.current_snapshot(None).ok().flatten().map(|s| *s.snapshot_id());
    // Bounded by the number of snapshots, against a malformed chain that loops.
    for _ in 0..=metadata.snapshots.len() {
        match at {
            Some(id) if id == snapshot => return true,
            Some(id) => at = metadata.snapshots.get(&id).and_then(|s| *s.parent_snapshot_id()),
            None => return false,
        }
    }
    false
}

fn with_table(error: LakeError, table: TableName) -> LakeError {
    match error {
        LakeError::Schema { message, .. } => LakeError::Schema { table: table.as_str().into(), message },
        other => other,
    }
}

/// The runs table's row of a request, in the table's column order. `replaced`: the run whose
/// records this publication replaced, when this call did the replacing (a retry after a crash between
/// the records commit and this one no longer knows it, and leaves it null).
fn run_values(request: &PublishRequest<'_>, replaced: Option<&str>) -> Vec<ArrayRef> {
    let r = &request.run;
    let text = |s: &str| Arc::new(StringArray::from(vec![s.to_owned()])) as ArrayRef;
    let long = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
    vec![
        text(request.run_id),
        text(request.contributor),
        Arc::new(Date32Array::from(vec![request.month.first_day()])),
        text(&r.file_name),
        text(&r.content_hash),
        long(r.size_bytes),
        long(r.lines_read),
        long(r.accepted),
        long(r.rejected),
        long(r.warnings),
        text(&r.spec_hash),
        Arc::new(TimestampMicrosecondArray::from(vec![r.published_at_micros]).with_timezone("UTC")),
        Arc::new(StringArray::from(vec![replaced.map(str::to_owned)])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_count_days_from_the_epoch() {
        assert_eq!(Month::parse("2025-06"), Some(Month { year: 2025, month: 6 }));
        assert_eq!(Month::parse("2025-13"), None);
        assert_eq!(Month::parse("2025-6"), None);
        assert_eq!(Month { year: 1970, month: 1 }.first_day(), 0);
        assert_eq!(Month { year: 2000, month: 3 }.first_day(), 11_017);
        assert_eq!(Month { year: 1969, month: 12 }.first_day(), -31);
    }
}
