//! The live data files of a table's current snapshot, read from its manifests.
//!
//! A publication asks two questions of a table before it commits: is this run already there (a
//! retry after a crash), and which files does this contributor-month have now (to replace them, or
//! to find that a newer run has). Both are about one partition, so only the manifests whose
//! partition summaries can hold it are opened (the manifest list's bounds on month and
//! contributor), and of each entry only its status, path, row count and partition are read.
//!
//! The manifests are read here with apache-avro rather than through iceberg-rust's
//! `Table::datafiles`: that one turns every column bound of every entry into a typed value and,
//! for each, formats the whole table schema into an error message it then drops (an eager
//! `ok_or(format!(..))` in iceberg-rust-spec 0.10.0's `into_value_map`). With 45 columns and
//! manifests that grow with every file, that was half of the lake's time per published file
//! (docs/notes/0027). The fields read are the ones the Iceberg spec fixes for manifest entries
//! (`status`, `data_file.file_path`, `data_file.record_count`, `data_file.partition`).

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::types::Value as Avro;
use iceberg_rust::spec::manifest_list::ManifestListEntry;
use iceberg_rust::spec::util::strip_prefix;
use iceberg_rust::spec::values::Value;
use iceberg_rust::table::Table;
use object_store::ObjectStoreExt;

use crate::error::LakeError;

/// A live data file of a table: the manifest that lists it, its path and its rows.
#[derive(Debug, Clone)]
pub(crate) struct LiveFile {
    pub manifest: String,
    pub path: String,
    pub rows: i64,
}

impl LiveFile {
    fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The run sequence and run id a file's name carries (`None` for a file this lake did not write).
    pub fn run(&self) -> Option<(i64, &str)> {
        let name = self.name();
        let (seq, rest) = name.split_once('-')?;
        let seq: i64 = seq.parse().ok()?;
        // The uuid is the last five `-`-separated groups before `.parquet`.
        let stem = rest.strip_suffix(".parquet")?;
        let cut = stem.rmatch_indices('-').nth(4)?.0;
        Some((seq, &stem[..cut]))
    }
}

/// A contributor's month of `records` or `rejects` (the tables are partitioned by month; the
/// contributor's files lie in a folder of their own).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Partition<'a> {
    /// Days since 1970-01-01 of the month's first day.
    pub month_day: i32,
    pub contributor: &'a str,
}

/// What was read of the manifests this process has opened, by path. A manifest is written once,
/// under a name of its own, and never changed (the Iceberg spec; iceberg-rust names each one it
/// writes after its commit's uuid, a merged manifest included), so what was read of it stays true
/// and each is read once. Without it every publication read every manifest of the month again,
/// which grew with the files of the month (docs/notes/0027).
/// Manifest lists (one per snapshot, immutable as well) are kept the same way.
#[derive(Debug, Default)]
pub(crate) struct ManifestCache {
    read: std::sync::Mutex<HashMap<String, Arc<Vec<ManifestEntry>>>>,
    lists: std::sync::Mutex<HashMap<String, Arc<Vec<ManifestListEntry>>>>,
}

/// Manifests kept before the cache starts again from empty: far more than a month of publications
/// opens, and at a few hundred bytes per entry, a bound on the memory.
const CACHED_MANIFESTS: usize = 4096;

impl ManifestCache {
    fn get<T>(map: &std::sync::Mutex<HashMap<String, Arc<T>>>, path: &str) -> Option<Arc<T>> {
        map.lock().ok()?.get(path).cloned()
    }

    fn put<T>(map: &std::sync::Mutex<HashMap<String, Arc<T>>>, path: &str, value: Arc<T>) {
        if let Ok(mut map) = map.lock() {
            if map.len() >= CACHED_MANIFESTS {
                map.clear();
            }
            map.insert(path.to_owned(), value);
        }
    }
}

/// The live data files of `table`'s current snapshot, of one partition when `partition` is given
/// (the table must then be partitioned by month first), else all of them.
pub(crate) async fn live_files(
    table: &Table,
    partition: Option<Partition<'_>>,
    cache: &ManifestCache,
) -> Result<Vec<LiveFile>, LakeError> {
    let Some(snapshot) = table.metadata().current_snapshot(None).map_err(LakeError::catalog)? else {
        return Ok(Vec::new());
    };
    let list = snapshot.manifest_list();
    let manifests = match ManifestCache::get(&cache.lists, list) {
        Some(manifests) => manifests,
        None => {
            let manifests = Arc::new(table.manifests(None, None).await.map_err(LakeError::catalog)?);
            ManifestCache::put(&cache.lists, list, manifests.clone());
            manifests
        }
    };
    let mut live = Vec::new();
    for manifest in manifests.iter().filter(|m| partition.is_none_or(|p| may_hold(m, p))) {
        let entries = match ManifestCache::get(&cache.read, &manifest.manifest_path) {
            Some(entries) => entries,
            None => {
                let entries = Arc::new(read_manifest(table, &manifest.manifest_path).await?);
                ManifestCache::put(&cache.read, &manifest.manifest_path, entries.clone());
                entries
            }
        };
        for entry in entries.iter() {
            // Status 2 is DELETED: the file left the table in the snapshot that wrote this manifest.
            if entry.status == 2 || partition.is_some_and(|p| !entry.is_in(p)) {
                continue;
            }
            live.push(LiveFile {
                manifest: manifest.manifest_path.clone(),
                path: entry.path.clone(),
                rows: entry.rows,
            });
        }
    }
    Ok(live)
}

/// The entries of one manifest file.
async fn read_manifest(table: &Table, manifest_path: &str) -> Result<Vec<ManifestEntry>, LakeError> {
    let path = object_store::path::Path::from(strip_prefix(manifest_path).as_str());
    let store = table.object_store();
    let bytes = store.get(&path).await.map_err(LakeError::storage)?.bytes().await.map_err(LakeError::storage)?;
    let reader = apache_avro::Reader::new(&bytes[..])
        .map_err(|e| LakeError::Storage(format!("manifest {manifest_path}: {e}")))?;
    let mut entries = Vec::new();
    for entry in reader {
        let entry = entry.map_err(|e| LakeError::Storage(format!("manifest {manifest_path}: {e}")))?;
        entries.push(
            ManifestEntry::read(&entry)
                .ok_or_else(|| LakeError::Storage(format!("manifest {manifest_path}: an entry without its fields")))?,
        );
    }
    Ok(entries)
}

/// What a publication reads of a manifest entry.
#[derive(Debug)]
pub(crate) struct ManifestEntry {
    status: i32,
    path: String,
    rows: i64,
    month_day: Option<i32>,
    contributor: Option<String>,
}

impl ManifestEntry {
    fn read(value: &Avro) -> Option<ManifestEntry> {
        let status = match field(value, "status")? {
            Avro::Int(status) => *status,
            _ => return None,
        };
        let data_file = field(value, "data_file")?;
        let path = match field(data_file, "file_path")? {
            Avro::String(path) => path.clone(),
            _ => return None,
        };
        let rows = match field(data_file, "record_count")? {
            Avro::Long(rows) => *rows,
            _ => return None,
        };
        let partition = field(data_file, "partition");
        let month_day = partition.and_then(|p| field(p, "month")).and_then(|v| match unwrap_union(v) {
            Avro::Date(day) | Avro::Int(day) => Some(*day),
            _ => None,
        });
        let contributor = partition.and_then(|p| field(p, "contributor")).and_then(|v| match unwrap_union(v) {
            Avro::String(name) => Some(name.clone()),
            _ => None,
        });
        Some(ManifestEntry { status, path, rows, month_day, contributor })
    }

    /// Whether the entry's file is of `partition`: its month partition value, and its contributor's
    /// partition value (lakes made before the contributor left the partition spec) or folder.
    fn is_in(&self, partition: Partition<'_>) -> bool {
        let contributor = self.contributor.as_deref().or_else(|| {
            let folder = self.path.rsplit('/').nth(1)?;
            folder.strip_prefix("contributor=")
        });
        self.month_day == Some(partition.month_day) && contributor == Some(partition.contributor)
    }
}

fn field<'a>(record: &'a Avro, name: &str) -> Option<&'a Avro> {
    match unwrap_union(record) {
        Avro::Record(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
        _ => None,
    }
}

fn unwrap_union(value: &Avro) -> &Avro {
    match value {
        Avro::Union(_, inner) => inner,
        other => other,
    }
}

/// Whether a manifest's partition summaries allow it to hold files of `partition` (true when a
/// summary is missing: only a bound proves absence). Only the month's bounds are trusted: the
/// manifest lists iceberg-rust 0.10 writes keep a string partition's bounds at the first value
/// added to the manifest (`update_partitions` widens numbers and dates only), so the contributor's
/// bounds say nothing of the manifest's other files (docs/notes/0027).
fn may_hold(manifest: &ManifestListEntry, partition: Partition<'_>) -> bool {
    let Some(summaries) = &manifest.partitions else { return true };
    summaries.first().is_none_or(|s| match (&s.lower_bound, &s.upper_bound) {
        (Some(Value::Date(low)), Some(Value::Date(high))) => (*low..=*high).contains(&partition.month_day),
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_tells_its_run() {
        let file = LiveFile {
            manifest: String::new(),
            rows: 0,
            path: "/w/etr/records/data/month=2025-06-01/contributor=JCL/00000000000000000042-run-42-8f14e45f-ceea-467f-a8b9-1d2c3e4f5a6b.parquet"
                .into(),
        };
        assert_eq!(file.run(), Some((42, "run-42")));
        let foreign = LiveFile { manifest: String::new(), path: "/w/x/data/part-0.parquet".into(), rows: 0 };
        assert_eq!(foreign.run(), None);
    }

    #[test]
    fn an_entry_is_read_from_the_fields_the_spec_names() {
        let partition = Avro::Record(vec![
            ("month".into(), Avro::Union(1, Box::new(Avro::Date(20_000)))),
            ("contributor".into(), Avro::Union(1, Box::new(Avro::String("JCL".into())))),
        ]);
        let data_file = Avro::Record(vec![
            ("content".into(), Avro::Int(0)),
            ("file_path".into(), Avro::String("/w/f.parquet".into())),
            ("partition".into(), partition),
            ("record_count".into(), Avro::Long(7)),
        ]);
        let entry = Avro::Record(vec![("status".into(), Avro::Int(1)), ("data_file".into(), data_file)]);
        let read = ManifestEntry::read(&entry).unwrap();
        assert_eq!((read.status, read.path.as_str(), read.rows), (1, "/w/f.parquet", 7));
        assert!(read.is_in(Partition { month_day: 20_000, contributor: "JCL" }));
        assert!(!read.is_in(Partition { month_day: 20_000, contributor: "JC" }));
        assert!(!read.is_in(Partition { month_day: 20_031, contributor: "JCL" }));
        // Partitioned by month only: the contributor is the file's folder.
        let by_folder = ManifestEntry {
            contributor: None,
            path: "/w/etr/records/data/month=2024-10-01/contributor=JCL/f.parquet".into(),
            ..read
        };
        assert!(by_folder.is_in(Partition { month_day: 20_000, contributor: "JCL" }));
        assert!(!by_folder.is_in(Partition { month_day: 20_000, contributor: "ABC" }));
        assert!(ManifestEntry::read(&Avro::Record(vec![("status".into(), Avro::Int(1))])).is_none());
    }
}
