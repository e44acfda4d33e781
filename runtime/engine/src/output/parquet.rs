//! The Parquet files of the output folder: how they are encoded ([`ParquetOptions`]) and the
//! writer of one file ([`ParquetSink`]).
//!
//! The writers are tuned after `shared/bench/FLOOR.md`, where encoding the output costs more than
//! everything else: zstd level 1, statistics per column chunk only (page statistics are expensive
//! and useless for whole-file loads) and none for free text the caller names, dictionary encoding
//! only for the columns the caller knows to be low-cardinality (code tables), delta encoding for
//! integers and dates, and row groups of a million rows. The accepted file's columns are encoded
//! on several threads (`output::encode`).

use std::fs::{self, File};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Schema, SchemaRef};
use etr_ir::{FieldIdx, Program, TypeKind};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::encode::LaneEncoder;
use super::folder::WriterLedger;
use crate::error::{Result, RuntimeError};

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
    /// Threads encoding the file's columns (see `output::encode`); below 2, and without
    /// `typed_encoders`, the thread that writes encodes. The file's content does not depend on it.
    pub encoder_threads: usize,
    /// Encode the columns of the types a spec's record has (codes, integers, dates, text) with
    /// etr's own column-chunk encoders (`output/column_chunk`) instead of `ArrowColumnWriter`: the
    /// same values, less work. The file's content does not depend on `encoder_threads` either way.
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

impl ParquetOptions {
    /// How a run encodes its Parquet files for `program`: codes dictionary-encoded (a handful of
    /// values, known from the spec), and free text outside every unique key (names, addresses)
    /// without statistics, whose minimum and maximum no reader prunes on; key fields keep theirs
    /// for lookups in the lake. The accepted file also gets one encoder thread per worker.
    pub fn for_program(program: &Program) -> ParquetOptions {
        let fields = &program.record.fields;
        let dictionary_columns =
            fields.iter().filter(|f| matches!(f.ty.kind, TypeKind::Code(_))).map(|f| f.name.clone()).collect();
        let in_a_key = |idx: FieldIdx| program.unique_checks.iter().any(|c| c.key.contains(&idx));
        let no_statistics_columns = fields
            .iter_enumerated()
            .filter(|(idx, f)| f.ty.kind == TypeKind::Text && !in_a_key(*idx))
            .map(|(_, f)| f.name.clone())
            .collect();
        ParquetOptions { dictionary_columns, no_statistics_columns, ..ParquetOptions::default() }
    }
}

/// An open Parquet file in an [`OutputDir`](super::OutputDir). Finish it (or discard it) before the commit.
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
    /// Creates `path` with `schema`, encoded as `options` say; `ledger` is its folder's account of
    /// the writers it handed out.
    pub(super) fn create(
        path: PathBuf,
        schema: SchemaRef,
        options: &ParquetOptions,
        ledger: Arc<WriterLedger>,
    ) -> Result<ParquetSink> {
        let props = writer_properties(&schema, options)?;
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
        ledger.open.fetch_add(1, Ordering::SeqCst);
        Ok(ParquetSink { writer: Some(encoder), path, rows: 0, ledger, pending: Vec::new(), pending_rows: 0 })
    }

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
/// is most of the file: comparing each with the bounds and compressing it plain costs the writing
/// thread time for nothing).
pub(super) fn violation_options(options: &ParquetOptions) -> ParquetOptions {
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
    // encoding and the file cheaper (docs/notes/0009).
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
