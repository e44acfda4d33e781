//! The output folder of one run: Parquet files and `summary.json`, published atomically.
//!
//! Downstream loaders pick up whatever folder they find, so a run must never leave a half-written
//! one behind. Everything is written into a hidden sibling staging folder
//! (`.<name>.tmp-<pid>-<n>`), with the marker file that says it is an etr output, and swapped with
//! the final folder only by [`OutputDir::commit`], so readers see either the old complete folder or
//! the new complete one. What may be replaced, the atomic exchange, fsync and the cleanup of killed
//! runs' leftovers are in [`crate::output::publish`]. Dropping an [`OutputDir`] without committing (an
//! error, a panic, a fatal file the caller chose not to publish) deletes the staging folder.
//!
//! The Parquet writers are tuned after `shared/bench/FLOOR.md`, where encoding the output costs
//! more than everything else: zstd level 1, statistics per column chunk only (page statistics
//! are expensive and useless for whole-file loads) and none for free text the caller names,
//! dictionary encoding only for the columns the
//! caller knows to be low-cardinality (code tables), delta encoding for integers and dates, and
//! row groups of a million rows. The accepted file's columns are encoded on several threads
//! ([`crate::output::encode`]).
//!
//! `accepted.parquet` has the schema the caller gives; `rejects.parquet` and `warnings.parquet`
//! share the fixed violation schema ([`violation_schema`]), filled with
//! [`ViolationRowsBuilder`]; `summary.json` is a [`Summary`].

pub(crate) mod column_chunk;
pub(crate) mod encode;
pub mod publish;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use arrow::array::{ArrayBuilder, ArrayRef, BooleanArray, RecordBatch, StringBuilder, UInt64Builder};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};

use crate::error::{Result, RuntimeError};
use crate::output::encode::LaneEncoder;

/// The accepted records.
pub const ACCEPTED_FILE: &str = "accepted.parquet";
/// One row per broken REJECT rule.
pub const REJECTS_FILE: &str = "rejects.parquet";
/// One row per WARN rule that fired.
pub const WARNINGS_FILE: &str = "warnings.parquet";
/// The run summary.
pub const SUMMARY_FILE: &str = "summary.json";

/// The run summary written as `summary.json`. The key names are a contract with the checkers
/// (`lines_read`, `accepted`, `rejected`, `fatal`, `per_rule` and `warnings` are compared).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The contributor code the spec was written for.
    pub contributor: String,
    /// The layout (spec) name and version.
    pub layout: String,
    /// Data lines read (header, trailer and ignored trailing lines excluded).
    pub lines_read: u64,
    /// Lines written to the accepted output (0 when the file is fatal).
    pub accepted: u64,
    /// Distinct line numbers with at least one REJECT.
    pub rejected: u64,
    /// Lines that broke no row rule but were not loaded because the file is fatal (0 otherwise):
    /// `lines_read = accepted + rejected + refused`.
    pub refused: u64,
    /// The FATAL file checks that failed, such as `"F2 count"`; empty when none did.
    pub fatal: Vec<String>,
    /// Reject rows per rule id.
    pub per_rule: BTreeMap<String, u64>,
    /// Warnings per rule id, counted over accepted lines.
    pub warnings: BTreeMap<String, u64>,
    /// Info findings per rule id, counted over accepted lines.
    pub info: BTreeMap<String, u64>,
    /// The `warn` file checks that failed, such as `"F6 malformed lines"` (the file is loaded).
    pub file_warnings: Vec<String>,
    /// The hash of the compiled spec.
    pub spec_hash: String,
    /// The blake3 hash of the raw input bytes, lowercase hex.
    pub input_hash: String,
    /// Raw input bytes read.
    pub input_bytes: u64,
    /// Blank and Ctrl-Z lines after the last non-empty line (not data, not counted as read).
    pub ignored_trailing_lines: u64,
    /// The date the run was as of (`run_date()`), `YYYY-MM-DD`.
    pub as_of: String,
    /// The engine that evaluated the rules (`"interp"`, `"jit"`) and its version.
    pub engine: String,
    /// Where native kernels did not run and the interpreter computed in their place; absent when
    /// they all ran (and for the interpreter alone).
    #[serde(default, skip_serializing_if = "NativeFallbacks::is_empty")]
    pub native_fallbacks: NativeFallbacks,
    /// Wall time per phase, in milliseconds.
    pub timings_ms: BTreeMap<String, f64>,
    /// What the run kept in memory beyond its bounded buffers, in bytes: today the key index of
    /// `unique` checks (`key_index`), the one structure that grows with the file.
    pub memory_bytes: BTreeMap<String, u64>,
    /// Per rule: how many rows it considered, how many broke it, and whether it succeeded over the
    /// file (its `mostly` threshold met, its file checks passed).
    pub rules: BTreeMap<String, RuleStats>,
}

/// Where a native back end fell back to the interpreter. The outputs are the same either way; this
/// tells a user who asked for `--engine jit` that some of the run did not get native code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NativeFallbacks {
    /// How many times: one for a spec the back end could not compile (nothing ran natively), and
    /// one per kernel and batch that failed.
    pub count: u64,
    /// Why, the first distinct messages, each after the back end's name.
    pub reasons: Vec<String>,
}

impl NativeFallbacks {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds `count` fallbacks of back end `backend`, for `reasons`.
    pub fn add(&mut self, backend: &str, count: u64, reasons: impl IntoIterator<Item = String>) {
        self.count += count;
        self.reasons.extend(reasons.into_iter().map(|reason| format!("{backend}: {reason}")));
    }
}

/// The quality statistics of one rule over the whole file, uncapped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleStats {
    /// `fatal`, `reject`, `warn` or `info`.
    pub severity: String,
    /// `row`, `file`, `dataset` (uniqueness) or `raised` (by handlers and the source's checks).
    pub scope: String,
    /// Rows (or file checks) the rule was evaluated on with a definite result.
    pub considered: u64,
    /// Rows (or file checks) that broke it.
    pub unexpected_count: u64,
    /// `unexpected_count / considered * 100` (0 when nothing was considered).
    pub unexpected_percent: f64,
    /// Rows where the rule could not be decided because an input was null.
    pub missing_count: u64,
    /// The rule's threshold (1.0 unless it says `mostly`).
    pub mostly: f64,
    /// Whether the rule held over the file: no file check broken, and the share of considered
    /// rows that passed at least `mostly` (vacuously true when nothing was considered).
    pub success: bool,
    /// For a file check reading one aggregate: the aggregate's value.
    pub observed_value: serde_json::Value,
    /// For a check of `distinct_values(x)`: each value with its count (the column's distribution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_counts: Option<Vec<serde_json::Value>>,
    /// For a rule with several file checks: each check's observed value, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_values: Vec<serde_json::Value>,
}

/// How the Parquet files are encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ParquetOptions {
    /// The zstd level. Level 1 is as small as 3 on this data and much faster (FLOOR.md).
    pub zstd_level: i32,
    /// Rows per row group. Small row groups cost size and time; readers load whole files anyway.
    pub max_row_group_rows: usize,
    /// Top-level columns to dictionary-encode: those with a handful of distinct values. All
    /// others are written plain, which is faster and, for high-cardinality data, no larger.
    pub dictionary_columns: Vec<String>,
    /// Top-level columns written without statistics: free text whose minimum and maximum no reader
    /// prunes on (names, addresses). Keeping them costs a string comparison per value, which was
    /// the Parquet writer's largest cost after zstd (docs/notes/0008).
    pub no_statistics_columns: Vec<String>,
    /// Threads encoding the file's columns (see [`crate::output::encode`]); below 2, and without
    /// `typed_encoders`, the thread that writes encodes. The file's content does not depend on it.
    pub encoder_threads: usize,
    /// Encode the columns of the types a spec's record has (codes, integers, dates, text) with
    /// etr's own column-chunk encoders (`output/column_chunk`) instead of `ArrowColumnWriter`: the same
    /// values, less work. The file's content does not depend on `encoder_threads` either way.
    pub typed_encoders: bool,
    /// The size a dictionary page may reach before the typed encoders write a text column plain
    /// (Parquet's `dictionary_page_size_limit`): past that, the column is not a list of a few
    /// values, and indices would not pay.
    pub dictionary_page_bytes: usize,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            zstd_level: 1,
            max_row_group_rows: 1 << 20,
            dictionary_columns: Vec::new(),
            no_statistics_columns: Vec::new(),
            encoder_threads: 1,
            typed_encoders: false,
            dictionary_page_bytes: 1 << 20,
        }
    }
}

/// How serious a violation is, as written in the `severity` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The whole file is refused.
    Fatal,
    /// The line is rejected.
    Reject,
    /// The line is loaded; the finding is kept.
    Warn,
}

impl Severity {
    /// The text stored in the `severity` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "FATAL",
            Severity::Reject => "REJECT",
            Severity::Warn => "WARN",
        }
    }
}

/// One row of `rejects.parquet` or `warnings.parquet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViolationRow<'a> {
    /// The physical line number.
    pub line_no: u64,
    /// The rule id (`"R2"`).
    pub rule: &'a str,
    /// How serious it is.
    pub severity: Severity,
    /// The canonical field concerned, or a pseudo-field such as `line` or `record_key`.
    pub field: &'a str,
    /// The raw text of the offending source field, when there is one.
    pub value: Option<&'a str>,
    /// A human-readable explanation.
    pub message: &'a str,
    /// The whole decoded line.
    pub raw_line: &'a str,
}

/// The schema of `rejects.parquet` and `warnings.parquet`.
pub fn violation_schema() -> SchemaRef {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        Field::new("line_no", DataType::UInt64, false),
        text("rule", false),
        text("severity", false),
        text("field", false),
        text("value", true),
        text("message", false),
        text("raw_line", false),
    ]))
}

/// Accumulates violation rows and turns them into record batches of [`violation_schema`].
#[derive(Debug)]
pub struct ViolationRowsBuilder {
    schema: SchemaRef,
    line_no: UInt64Builder,
    rule: StringBuilder,
    severity: StringBuilder,
    field: StringBuilder,
    value: StringBuilder,
    message: StringBuilder,
    raw_line: StringBuilder,
}

impl Default for ViolationRowsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ViolationRowsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        ViolationRowsBuilder {
            schema: violation_schema(),
            line_no: UInt64Builder::new(),
            rule: StringBuilder::new(),
            severity: StringBuilder::new(),
            field: StringBuilder::new(),
            value: StringBuilder::new(),
            message: StringBuilder::new(),
            raw_line: StringBuilder::new(),
        }
    }

    /// Adds one row.
    pub fn append(&mut self, row: ViolationRow<'_>) {
        self.line_no.append_value(row.line_no);
        self.rule.append_value(row.rule);
        self.severity.append_value(row.severity.as_str());
        self.field.append_value(row.field);
        self.value.append_option(row.value);
        self.message.append_value(row.message);
        self.raw_line.append_value(row.raw_line);
    }

    /// Rows added since the last [`Self::finish`].
    pub fn len(&self) -> usize {
        self.line_no.len()
    }

    /// True when no row was added since the last [`Self::finish`].
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the rows added so far as one batch and empties the builder.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.line_no.finish()),
            Arc::new(self.rule.finish()),
            Arc::new(self.severity.finish()),
            Arc::new(self.field.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.message.finish()),
            Arc::new(self.raw_line.finish()),
        ];
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

/// Distinguishes staging folders made by one process.
static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A run's output folder, staged until [`OutputDir::commit`]; see the module docs and
/// [`crate::output::publish`].
#[derive(Debug)]
pub struct OutputDir {
    final_path: PathBuf,
    staging: PathBuf,
    writers: Arc<WriterLedger>,
    committed: bool,
    notices: Vec<String>,
}

/// What [`OutputDir::commit`] must know about the writers it handed out.
#[derive(Debug, Default)]
struct WriterLedger {
    open: AtomicUsize,
    abandoned: AtomicUsize,
}

/// A published output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Where it is.
    pub path: PathBuf,
    /// What the publication did besides, for the user to know (leftovers of killed runs removed,
    /// a previous output that could not be removed): each a sentence.
    pub notices: Vec<String>,
}

impl OutputDir {
    /// Creates the staging folder for `final_path` (creating `final_path`'s parent if needed),
    /// after checking that `final_path` may be replaced ([`publish::inspect_target`]) and removing
    /// what killed runs into the same folder left behind ([`publish::clean_stale_siblings`]).
    /// Nothing at `final_path` is touched until [`OutputDir::commit`] (except that the previous
    /// output, moved aside by a commit that was killed halfway, is put back).
    pub fn create(final_path: impl Into<PathBuf>) -> Result<Self> {
        let final_path = final_path.into();
        let name = final_path
            .file_name()
            .ok_or_else(|| {
                RuntimeError::io(
                    "use as an output folder",
                    &final_path,
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path has no name"),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let parent = publish::parent_folder(&final_path);
        fs::create_dir_all(&parent).map_err(|e| RuntimeError::io("create folder", &parent, e))?;
        let mut notices = Vec::new();
        let cleanup = publish::clean_stale_siblings(&final_path)?;
        if let Some(restored) = &cleanup.restored {
            notices.push(format!(
                "put back the previous output of {}, moved aside as {} by a run that was killed while publishing",
                final_path.display(),
                restored.display()
            ));
        }
        if !cleanup.removed.is_empty() {
            notices.push(format!(
                "removed {} folder(s) left by killed runs: {}",
                cleanup.removed.len(),
                cleanup.removed.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
        for kept in &cleanup.kept {
            notices.push(format!(
                "left {} in place: a killed run's folder, but it holds files etr does not write",
                kept.display()
            ));
        }
        publish::inspect_target(&final_path)?;
        let staging = loop {
            let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
            let candidate = parent.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
            match fs::create_dir(&candidate) {
                Ok(()) => break candidate,
                // Left over by a crashed run that had our pid: take the next number.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(RuntimeError::io("create folder", &candidate, e)),
            }
        };
        publish::register_staging(&staging);
        let output = OutputDir { final_path, staging, writers: Arc::default(), committed: false, notices };
        let marker = output.staging.join(publish::MARKER_FILE);
        fs::write(&marker, publish::MARKER_TEXT).map_err(|e| RuntimeError::io("write", &marker, e))?;
        Ok(output)
    }

    /// Where the folder will be once committed.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// The staging folder everything is written to until the commit.
    pub fn staging_path(&self) -> &Path {
        &self.staging
    }

    /// A writer for `accepted.parquet` with the caller's schema.
    pub fn accepted_writer(&self, schema: SchemaRef, options: &ParquetOptions) -> Result<ParquetSink> {
        self.parquet_writer(ACCEPTED_FILE, schema, options)
    }

    /// A writer for `rejects.parquet`.
    pub fn rejects_writer(&self, options: &ParquetOptions) -> Result<ParquetSink> {
        self.parquet_writer(REJECTS_FILE, violation_schema(), &violation_options(options))
    }

    /// A writer for `warnings.parquet`.
    pub fn warnings_writer(&self, options: &ParquetOptions) -> Result<ParquetSink> {
        self.parquet_writer(WARNINGS_FILE, violation_schema(), &violation_options(options))
    }

    /// A Parquet writer for any file of the folder (`name` is a plain file name, one of
    /// [`publish::OUTPUT_FILES`]: a folder holding others could not be replaced by the next run).
    pub fn parquet_writer(&self, name: &str, schema: SchemaRef, options: &ParquetOptions) -> Result<ParquetSink> {
        if !publish::OUTPUT_FILES.contains(&name) {
            return Err(RuntimeError::Internal(format!("{name} is not one of the output folder's files")));
        }
        let props = writer_properties(&schema, options)?;
        let path = self.staging.join(name);
        let file = File::create(&path).map_err(|e| RuntimeError::io("create", &path, e))?;
        let writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))?;
        let encoder = match LaneEncoder::try_new(
            writer,
            schema,
            options.encoder_threads,
            options.max_row_group_rows,
            options.typed_encoders,
        )? {
            Ok(lanes) => Encoder::Lanes(Box::new(lanes)),
            Err(writer) => Encoder::Inline(Box::new(writer)),
        };
        self.writers.open.fetch_add(1, Ordering::SeqCst);
        Ok(ParquetSink {
            writer: Some(encoder),
            path,
            rows: 0,
            ledger: Arc::clone(&self.writers),
            pending: Vec::new(),
            pending_rows: 0,
        })
    }

    /// Writes `summary.json`.
    pub fn write_summary(&self, summary: &Summary) -> Result<()> {
        let path = self.staging.join(SUMMARY_FILE);
        let mut json = serde_json::to_vec_pretty(summary)
            .map_err(|e| RuntimeError::Internal(format!("cannot serialise the summary: {e}")))?;
        json.push(b'\n');
        fs::write(&path, json).map_err(|e| RuntimeError::io("write", &path, e))
    }

    /// Publishes the folder under its final name, replacing the folder already there (which must
    /// still be one that may be replaced), with its files on stable storage. Every writer must have
    /// been finished or discarded. Once the new folder is in place the commit has succeeded: a
    /// previous output that cannot be removed is reported in [`Published::notices`], not as an
    /// error (the next run removes it).
    pub fn commit(mut self) -> Result<Published> {
        let open = self.writers.open.load(Ordering::SeqCst);
        let abandoned = self.writers.abandoned.load(Ordering::SeqCst);
        if open > 0 || abandoned > 0 {
            return Err(RuntimeError::Internal(format!(
                "output {} committed with {open} unfinished and {abandoned} abandoned writers",
                self.final_path.display()
            )));
        }
        publish::sync_folder(&self.staging)?;
        let aside = self.sibling("old");
        let (_, old) = publish::swap_registered(&self.staging, &self.final_path, &aside)?;
        self.committed = true;
        let parent = publish::parent_folder(&self.final_path);
        let mut notices = std::mem::take(&mut self.notices);
        // Durability of the swap itself; the new folder is already visible, so a failure here is
        // reported, not fatal.
        if let Err(e) = publish::sync_dir(&parent) {
            notices.push(format!("the output is published, but {e}"));
        }
        if let Some(old) = old
            && let Err(e) = publish::remove_old_output(&old)
        {
            notices.push(format!(
                "the output is published, but the previous one, now at {}, could not be removed ({e}); the next run \
                 into {} removes it",
                old.display(),
                self.final_path.display()
            ));
        }
        Ok(Published { path: self.final_path.clone(), notices })
    }

    fn sibling(&self, tag: &str) -> PathBuf {
        let name = self.final_path.file_name().unwrap_or_default().to_string_lossy();
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.final_path.with_file_name(format!(".{name}.{tag}-{}-{n}", std::process::id()))
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a failed run must not leave a partial folder, but there is no one to
            // report a failure to from a destructor. The staging folder is this run's own.
            publish::unregister_staging(&self.staging);
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// An open Parquet file in an [`OutputDir`]. Finish it (or discard it) before the commit.
pub struct ParquetSink {
    writer: Option<Encoder>,
    path: PathBuf,
    rows: u64,
    ledger: Arc<WriterLedger>,
    /// Rows held back so that `ArrowWriter` receives them in whole runs of [`WRITE_BATCH_ROWS`]
    /// (see [`ParquetSink::write_aligned`]).
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

/// The rows `ArrowWriter` encodes between two checks of its page and dictionary limits (Parquet's
/// `write_batch_size`, set explicitly so that [`ParquetSink`] can align to it).
const WRITE_BATCH_ROWS: usize = 1024;

impl std::fmt::Debug for ParquetSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetSink")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .field("open", &self.writer.is_some())
            .finish()
    }
}

/// Who encodes a sink's columns.
enum Encoder {
    /// The writing thread, through `ArrowWriter`.
    Inline(Box<ArrowWriter<File>>),
    /// Encoder threads, one set of columns each.
    Lanes(Box<LaneEncoder>),
}

impl ParquetSink {
    /// Appends a batch (of the writer's schema).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.write_rows(batch, None)
    }

    /// Appends the rows of `batch` where `keep` is true (a mask without nulls, one value per row).
    /// With encoder threads, they filter the columns too.
    pub fn write_selected(&mut self, batch: &RecordBatch, keep: &BooleanArray) -> Result<()> {
        self.write_rows(batch, Some(keep))
    }

    fn write_rows(&mut self, batch: &RecordBatch, keep: Option<&BooleanArray>) -> Result<()> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| RuntimeError::Internal(format!("write to closed {}", self.path.display())))?;
        let rows = keep.map_or(batch.num_rows(), BooleanArray::true_count);
        match writer {
            Encoder::Inline(_) => {
                let batch = match keep {
                    Some(keep) => filter_record_batch(batch, keep)?,
                    None => batch.clone(),
                };
                self.write_aligned(Some(batch), false)?;
            }
            Encoder::Lanes(lanes) => lanes.write(batch, keep)?,
        }
        self.rows += rows as u64;
        Ok(())
    }

    /// Hands `ArrowWriter` the rows in runs of [`WRITE_BATCH_ROWS`] counted from the file's first
    /// row, holding back the rest until more come or `flush`. `ArrowWriter` checks its page and
    /// dictionary limits after every run of that many rows *within one call*, so batches cut where
    /// the input's chunks happened to end (a block size, a long line) would move the pages and
    /// change the file's bytes; aligned runs make them depend on the rows alone.
    fn write_aligned(&mut self, batch: Option<RecordBatch>, flush: bool) -> Result<()> {
        if let Some(batch) = batch
            && batch.num_rows() > 0
        {
            self.pending_rows += batch.num_rows();
            self.pending.push(batch);
        }
        let whole = if flush { self.pending_rows } else { self.pending_rows / WRITE_BATCH_ROWS * WRITE_BATCH_ROWS };
        if whole == 0 {
            return Ok(());
        }
        let Some(Encoder::Inline(writer)) = self.writer.as_mut() else {
            return Err(RuntimeError::Internal(format!("aligned write to {} without its writer", self.path.display())));
        };
        let schema = self.pending[0].schema();
        let all = arrow::compute::concat_batches(&schema, &self.pending)?;
        writer.write(&all.slice(0, whole))?;
        self.pending.clear();
        self.pending_rows -= whole;
        if self.pending_rows > 0 {
            self.pending.push(all.slice(whole, self.pending_rows));
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the footer and closes the file; returns the number of rows written.
    pub fn finish(mut self) -> Result<u64> {
        let flushed = self.write_aligned(None, true);
        let res = match (flushed, self.writer.take()) {
            (Err(e), _) => Err(e),
            (Ok(()), Some(Encoder::Inline(writer))) => writer.close().map(|_| ()).map_err(RuntimeError::from),
            (Ok(()), Some(Encoder::Lanes(lanes))) => lanes.finish(),
            (Ok(()), None) => Ok(()),
        };
        match res {
            Ok(()) => {
                self.ledger.open.fetch_sub(1, Ordering::SeqCst);
                Ok(self.rows)
            }
            Err(e) => {
                self.ledger.open.fetch_sub(1, Ordering::SeqCst);
                self.ledger.abandoned.fetch_add(1, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Closes and deletes the file: for an output that turned out not to be wanted (the accepted
    /// records of a file found fatal at its trailer, say).
    pub fn discard(mut self) -> Result<()> {
        drop(self.writer.take());
        self.ledger.open.fetch_sub(1, Ordering::SeqCst);
        fs::remove_file(&self.path).map_err(|e| RuntimeError::io("remove", &self.path, e))
    }
}

impl Drop for ParquetSink {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            // Dropped unfinished: the file has no footer, so the folder must not be published.
            self.ledger.open.fetch_sub(1, Ordering::SeqCst);
            self.ledger.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The violation files' settings: the columns of a few values (a rule's id, severity, target and
/// message) as dictionaries, and no statistics for the free text no reader prunes on (a raw line
/// is most of the file: comparing each with the bounds and compressing it plain cost W1's writing
/// thread 3% of its time).
fn violation_options(options: &ParquetOptions) -> ParquetOptions {
    ParquetOptions {
        dictionary_columns: ["rule", "severity", "field", "message"].map(String::from).to_vec(),
        no_statistics_columns: ["value", "raw_line"].map(String::from).to_vec(),
        ..options.clone()
    }
}

fn writer_properties(schema: &Schema, options: &ParquetOptions) -> Result<WriterProperties> {
    let level = ZstdLevel::try_new(options.zstd_level)?;
    if options.max_row_group_rows == 0 {
        return Err(RuntimeError::Config("max_row_group_rows must be at least 1".into()));
    }
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_dictionary_enabled(false)
        .set_dictionary_page_size_limit(options.dictionary_page_bytes)
        .set_write_batch_size(WRITE_BATCH_ROWS)
        .set_max_row_group_row_count(Some(options.max_row_group_rows));
    for name in &options.dictionary_columns {
        if schema.field_with_name(name).is_err() {
            return Err(RuntimeError::Config(format!("dictionary column {name:?} is not in the output schema")));
        }
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(name.as_str()), true);
    }
    for name in &options.no_statistics_columns {
        if schema.field_with_name(name).is_err() {
            return Err(RuntimeError::Config(format!("column {name:?} (no statistics) is not in the output schema")));
        }
        builder = builder.set_column_statistics_enabled(ColumnPath::from(name.as_str()), EnabledStatistics::None);
    }
    // Integers and dates (money in sen, counts, days, line numbers) are small or sorted numbers
    // in wide types: delta encoding hands zstd a fraction of the bytes, which makes both the
    // encoding and the file cheaper (W1: 5% smaller, 4% less CPU; docs/notes/0009).
    for field in schema.fields() {
        let integer = matches!(
            field.data_type(),
            DataType::Int32 | DataType::Int64 | DataType::UInt32 | DataType::UInt64 | DataType::Date32
        );
        if integer && !options.dictionary_columns.contains(field.name()) {
            builder =
                builder.set_column_encoding(ColumnPath::from(field.name().as_str()), Encoding::DELTA_BINARY_PACKED);
        }
    }
    Ok(builder.build())
}
