//! The lake's data file of a run made from the engine's output file without decoding it.
//!
//! The engine's `accepted.parquet` and `rejects.parquet` already hold the lake's values in the
//! lake's physical types: money is sen in `INT64` (the lake's `decimal(18,2)` is `INT64` with a
//! decimal annotation over the same integers), line numbers are `INT64` (annotated unsigned),
//! codes and text are `BYTE_ARRAY` strings, dates `INT32`. What differs is only in the footer (the
//! annotations, Iceberg's field ids) and three columns the engine does not write (`run_id`,
//! `contributor`, `month`, one value per run). So the lake's file is the engine's column chunks
//! copied byte for byte under a new footer, with the three constant columns encoded beside them
//! (one dictionary entry and a run of zeros each): a copy, where decoding and encoding 41 columns
//! again cost more than the engine's whole run (docs/notes/0027).
//!
//! Every column is checked before anything is written: the same physical type, the same
//! repetition and definition levels, and annotations that read the same values (a decimal over an
//! unannotated `INT64`, a signed over an unsigned `INT64` whose chunk maximum fits). A file that
//! does not pass (a table whose schema gained a field the spec lacks, an engine from another
//! version) is not spliced, and the caller converts it batch by batch instead.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::Schema as ArrowSchema;
use parquet::arrow::{ArrowSchemaConverter, add_encoded_arrow_schema_to_metadata};
use parquet::basic::{Compression, LogicalType, Type as PhysicalType, ZstdLevel};
use parquet::column::writer::{ColumnCloseResult, ColumnWriter};
use parquet::data_type::ByteArray;
use parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::statistics::Statistics;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnDescriptor, SchemaDescriptor};

use crate::convert::RunColumns;
use crate::error::LakeError;

/// Where each column of the lake's file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnSource {
    /// The engine file's column at this index, copied.
    Copied(usize),
    /// The run's id, the same in every row.
    RunId,
    /// The contributor, the same in every row.
    Contributor,
    /// The month's first day, the same in every row.
    Month,
}

/// The rows handed to a constant column's writer at a time.
const CONSTANT_CHUNK_ROWS: usize = 64 * 1024;

/// Writes at `dest` the lake's file of `target` (the table's Arrow schema, field ids included) from
/// the engine's file at `source`, and returns its footer; `Ok(None)` when the source cannot be
/// spliced (the reason is not an error: the caller converts instead). `dest` is created, written
/// and synced; on error it may be left partial, and the caller removes it.
pub(crate) fn splice(
    source: &Path,
    target: &ArrowSchema,
    run: &RunColumns,
    dest: &Path,
) -> Result<Option<ParquetMetaData>, LakeError> {
    let output_error =
        |e: &dyn std::fmt::Display| LakeError::Output { path: source.display().to_string(), message: e.to_string() };
    let file = File::open(source).map_err(|e| output_error(&e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| output_error(&e))?;
    let metadata = reader.metadata();
    let source_schema = metadata.file_metadata().schema_descr();
    let target_schema = ArrowSchemaConverter::new()
        .convert(target)
        .map_err(|e| LakeError::Schema { table: String::new(), message: e.to_string() })?;
    let Some(plan) = plan_columns(source_schema, &target_schema, metadata) else { return Ok(None) };

    let mut properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).map_err(LakeError::storage)?))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_dictionary_enabled(true)
        // The copied chunks come without their offset index (page locations, which whole-file
        // readers do not use); a file has one for every chunk or for none.
        .set_offset_index_disabled(true)
        .build();
    // Arrow readers get the lake's types (decimal, signed line numbers) from the footer's schema.
    add_encoded_arrow_schema_to_metadata(target, &mut properties);
    let out = File::create(dest).map_err(|e| LakeError::Storage(format!("create {}: {e}", dest.display())))?;
    let mut writer = SerializedFileWriter::new(out, target_schema.root_schema_ptr(), Arc::new(properties))
        .map_err(LakeError::storage)?;
    let source_file = File::open(source).map_err(|e| output_error(&e))?;
    for group in metadata.row_groups() {
        let rows = usize::try_from(group.num_rows()).map_err(|e| output_error(&e))?;
        let mut row_group = writer.next_row_group().map_err(LakeError::storage)?;
        for (index, column) in plan.iter().enumerate() {
            match *column {
                ColumnSource::Copied(from) => {
                    let chunk = retarget(group.column(from), target_schema.column(index))?;
                    let close = ColumnCloseResult {
                        bytes_written: chunk.compressed_size() as u64,
                        rows_written: rows as u64,
                        metadata: chunk,
                        bloom_filter: None,
                        column_index: None,
                        offset_index: None,
                    };
                    row_group.append_column(&source_file, close).map_err(LakeError::storage)?;
                }
                constant => {
                    let mut column = row_group.next_column().map_err(LakeError::storage)?.ok_or_else(|| {
                        LakeError::Storage("the lake's file has fewer columns than its schema".into())
                    })?;
                    write_constant(column.untyped(), constant, run, rows)?;
                    column.close().map_err(LakeError::storage)?;
                }
            }
        }
        row_group.close().map_err(LakeError::storage)?;
    }
    let footer = writer.close().map_err(LakeError::storage)?;
    // The commit that follows names this file: it must be on disk before the catalog says so.
    File::open(dest)
        .and_then(|f| f.sync_all())
        .map_err(|e| LakeError::Storage(format!("sync {}: {e}", dest.display())))?;
    Ok(Some(footer))
}

/// Each target column's source, or `None` when a column cannot be copied as it is.
fn plan_columns(
    source: &SchemaDescriptor,
    target: &SchemaDescriptor,
    metadata: &ParquetMetaData,
) -> Option<Vec<ColumnSource>> {
    let mut plan = Vec::with_capacity(target.num_columns());
    for target_column in target.columns() {
        let name = target_column.path().string();
        let column = match name.as_str() {
            "run_id" => ColumnSource::RunId,
            "contributor" => ColumnSource::Contributor,
            "month" => ColumnSource::Month,
            _ => {
                let from = source.columns().iter().position(|c| c.path().string() == name)?;
                let source_column = source.column(from);
                let fits = metadata.row_groups().iter().all(|g| fits_signed(g.column(from).statistics()));
                if !same_values(&source_column, target_column, fits) {
                    return None;
                }
                ColumnSource::Copied(from)
            }
        };
        plan.push(column);
    }
    // A column of the engine's file the table does not have would be dropped: not a copy then.
    let copied = plan.iter().filter(|c| matches!(c, ColumnSource::Copied(_))).count();
    (copied == source.num_columns()).then_some(plan)
}

/// Whether a chunk's values, read as signed, are the values the engine wrote as unsigned: true when
/// its maximum is below 2^63 (and known).
fn fits_signed(statistics: Option<&Statistics>) -> bool {
    match statistics {
        Some(Statistics::Int64(stats)) => stats.max_opt().is_some_and(|max| *max >= 0),
        _ => false,
    }
}

/// Whether the bytes of a `source` column chunk read as the same values under `target`'s
/// description. `unsigned_fits`: every chunk of the column holds values below 2^63.
fn same_values(source: &ColumnDescriptor, target: &ColumnDescriptor, unsigned_fits: bool) -> bool {
    if source.physical_type() != target.physical_type()
        || source.max_def_level() != target.max_def_level()
        || source.max_rep_level() != 0
        || target.max_rep_level() != 0
        || source.type_length() != target.type_length()
    {
        return false;
    }
    match (source.logical_type_ref(), target.logical_type_ref()) {
        (a, b) if a == b => true,
        // Money: sen in a plain INT64 are the unscaled value of the lake's decimal(18,2).
        (None, Some(LogicalType::Decimal { precision, .. })) => {
            source.physical_type() == PhysicalType::INT64 && *precision <= 18
        }
        // Line numbers: unsigned in the engine, signed in the lake (Iceberg has no unsigned types).
        (Some(LogicalType::Integer { bit_width: 64, is_signed: false }), None) => unsigned_fits,
        _ => false,
    }
}

/// The source chunk's description under the target column: the same bytes, offsets, sizes and
/// statistics, the target's name, annotations and field id.
fn retarget(chunk: &ColumnChunkMetaData, target: Arc<ColumnDescriptor>) -> Result<ColumnChunkMetaData, LakeError> {
    let mut builder = ColumnChunkMetaData::builder(target)
        .set_compression(chunk.compression())
        .set_encodings_mask(*chunk.encodings_mask())
        .set_total_compressed_size(chunk.compressed_size())
        .set_total_uncompressed_size(chunk.uncompressed_size())
        .set_num_values(chunk.num_values())
        .set_data_page_offset(chunk.data_page_offset())
        .set_dictionary_page_offset(chunk.dictionary_page_offset())
        .set_unencoded_byte_array_data_bytes(chunk.unencoded_byte_array_data_bytes())
        .set_repetition_level_histogram(chunk.repetition_level_histogram().cloned())
        .set_definition_level_histogram(chunk.definition_level_histogram().cloned());
    if let Some(statistics) = chunk.statistics() {
        builder = builder.set_statistics(statistics.clone());
    }
    if let Some(stats) = chunk.page_encoding_stats() {
        builder = builder.set_page_encoding_stats(stats.clone());
    }
    builder.build().map_err(LakeError::storage)
}

/// Writes `rows` copies of a run's constant into a required column.
fn write_constant(
    writer: &mut ColumnWriter<'_>,
    constant: ColumnSource,
    run: &RunColumns,
    rows: usize,
) -> Result<(), LakeError> {
    let chunks = (0..rows).step_by(CONSTANT_CHUNK_ROWS).map(|start| (rows - start).min(CONSTANT_CHUNK_ROWS));
    match (writer, constant) {
        (ColumnWriter::ByteArrayColumnWriter(w), ColumnSource::RunId | ColumnSource::Contributor) => {
            let text = if constant == ColumnSource::RunId { &run.run_id } else { &run.contributor };
            let values = vec![ByteArray::from(text.as_bytes().to_vec()); rows.min(CONSTANT_CHUNK_ROWS)];
            for n in chunks {
                w.write_batch(&values[..n], None, None).map_err(LakeError::storage)?;
            }
        }
        (ColumnWriter::Int32ColumnWriter(w), ColumnSource::Month) => {
            let values = vec![run.month_day; rows.min(CONSTANT_CHUNK_ROWS)];
            for n in chunks {
                w.write_batch(&values[..n], None, None).map_err(LakeError::storage)?;
            }
        }
        _ => {
            return Err(LakeError::Schema {
                table: String::new(),
                message: format!("the lake's column for {constant:?} has an unexpected type"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, UInt64Array};
    use arrow::datatypes::{DataType, Date32Type, Decimal128Type, Field, Int64Type, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    /// An engine-like file: money as plain int64 sen, a code, unsigned line numbers, in row groups of 2.
    fn engine_file(dir: &Path, lines: &[u64]) -> std::path::PathBuf {
        let schema = Arc::new(Schema::new(vec![
            Field::new("balance", DataType::Int64, true),
            Field::new("status", DataType::Utf8, true),
            Field::new("line_no", DataType::UInt64, false),
        ]));
        let n = lines.len();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter((0..n).map(|i| (i % 3 != 1).then_some(i as i64 * 1_001 - 5)))),
            Arc::new(StringArray::from_iter((0..n).map(|i| Some(["C", "W"][i % 2])))),
            Arc::new(UInt64Array::from(lines.to_vec())),
        ];
        let path = dir.join("accepted.parquet");
        let properties = WriterProperties::builder().set_max_row_group_row_count(Some(2)).build();
        let mut writer = ArrowWriter::try_new(File::create(&path).unwrap(), schema.clone(), Some(properties)).unwrap();
        writer.write(&RecordBatch::try_new(schema, columns).unwrap()).unwrap();
        writer.close().unwrap();
        path
    }

    fn with_id(field: Field, id: i32) -> Field {
        field.with_metadata(HashMap::from([("PARQUET:field_id".to_owned(), id.to_string())]))
    }

    fn lake_schema(extra: bool) -> ArrowSchema {
        let mut fields = vec![
            with_id(Field::new("run_id", DataType::Utf8, false), 1),
            with_id(Field::new("contributor", DataType::Utf8, false), 2),
            with_id(Field::new("month", DataType::Date32, false), 3),
            with_id(Field::new("line_no", DataType::Int64, false), 4),
            with_id(Field::new("balance", DataType::Decimal128(18, 2), true), 5),
            with_id(Field::new("status", DataType::Utf8, true), 6),
        ];
        if extra {
            fields.push(with_id(Field::new("added_later", DataType::Utf8, true), 7));
        }
        ArrowSchema::new(fields)
    }

    fn run() -> RunColumns {
        RunColumns { run_id: "run-000042".into(), contributor: "JCL".into(), month_day: 20_240 }
    }

    #[test]
    fn the_engines_chunks_read_back_as_the_lakes_types_with_the_run_columns() {
        let dir = tempfile::tempdir().unwrap();
        let source = engine_file(dir.path(), &[3, 4, 7, 9, 12]);
        let dest = dir.path().join("lake.parquet");
        let footer = splice(&source, &lake_schema(false), &run(), &dest).unwrap().expect("spliceable");
        assert_eq!(footer.file_metadata().num_rows(), 5);
        assert_eq!(footer.num_row_groups(), 3, "the engine's row groups are kept");
        let ids: Vec<i32> = footer
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.self_type().get_basic_info().id())
            .collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6]);

        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&dest).unwrap()).unwrap().build().unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        assert_eq!(batch.column(0).as_string::<i32>().iter().flatten().collect::<Vec<_>>(), ["run-000042"; 5]);
        assert_eq!(batch.column(1).as_string::<i32>().value(4), "JCL");
        assert_eq!(batch.column(2).as_primitive::<Date32Type>().values(), &[20_240; 5]);
        assert_eq!(batch.column(3).as_primitive::<Int64Type>().values(), &[3, 4, 7, 9, 12]);
        let money = batch.column(4).as_primitive::<Decimal128Type>();
        assert_eq!(money.data_type(), &DataType::Decimal128(18, 2));
        assert_eq!(money.value_as_string(0), "-0.05");
        assert!(money.is_null(1));
        assert_eq!(money.value_as_string(3), "29.98", "3 × 1001 − 5 sen");
        assert_eq!(batch.column(5).as_string::<i32>().value(1), "W");
    }

    #[test]
    fn a_file_that_does_not_fit_the_table_is_left_to_conversion() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("lake.parquet");
        // The table gained a field the engine's file lacks.
        let source = engine_file(dir.path(), &[1, 2]);
        assert!(splice(&source, &lake_schema(true), &run(), &dest).unwrap().is_none());
        // A line number past i64::MAX would change sign.
        let source = engine_file(dir.path(), &[1, u64::MAX]);
        assert!(splice(&source, &lake_schema(false), &run(), &dest).unwrap().is_none());
    }
}
