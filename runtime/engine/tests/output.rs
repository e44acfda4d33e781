//! The output folder: staged, published atomically, never left half-written.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use etr_runtime::output::publish::MARKER_FILE;
use etr_runtime::output::{ACCEPTED_FILE, REJECTS_FILE, SUMMARY_FILE, WARNINGS_FILE};
use etr_runtime::{
    OutputDir, ParquetOptions, RuntimeError, Severity, Summary, ViolationRow, ViolationRowsBuilder, violation_schema,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn accepted_batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("line_no", DataType::UInt64, false),
        Field::new("state_code", DataType::Utf8, true),
        Field::new("balance", DataType::Int64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(vec![2, 3, 5])),
        Arc::new(StringArray::from(vec![Some("01"), None, Some("14")])),
        Arc::new(Int64Array::from(vec![Some(12_345), Some(0), None])),
    ];
    RecordBatch::try_new(schema, columns).expect("valid batch")
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).expect("parquet file");
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet footer")
        .build()
        .expect("reader")
        .collect::<Result<_, _>>()
        .expect("batches")
}

fn violation(line_no: u64, value: Option<&'static str>) -> ViolationRow<'static> {
    ViolationRow {
        line_no,
        rule: "R2",
        severity: Severity::Reject,
        field: "open_date",
        value,
        message: "not a calendar date",
        raw_line: "a|b|31/02/2025",
    }
}

#[test]
fn committed_output_has_every_file() {
    let root = tempfile::tempdir().expect("temp dir");
    let final_path = root.path().join("run");
    let out = OutputDir::create(&final_path).expect("staging");
    assert!(!final_path.exists(), "nothing is visible before the commit");
    assert!(out.staging_path().starts_with(root.path()));

    let batch = accepted_batch();
    let options = ParquetOptions { dictionary_columns: vec!["state_code".into()], ..ParquetOptions::default() };
    let mut accepted = out.accepted_writer(batch.schema(), &options).expect("accepted writer");
    accepted.write(&batch).expect("write");
    accepted.write(&batch).expect("write");
    assert_eq!(accepted.finish().expect("close"), 6);

    let mut rows = ViolationRowsBuilder::new();
    rows.append(violation(4, Some("31/02/2025")));
    rows.append(violation(6, None));
    assert_eq!(rows.len(), 2);
    let mut rejects = out.rejects_writer(&ParquetOptions::default()).expect("rejects writer");
    rejects.write(&rows.finish().expect("batch")).expect("write");
    assert!(rows.is_empty(), "finish empties the builder");
    rejects.finish().expect("close");
    let warnings = out.warnings_writer(&ParquetOptions::default()).expect("warnings writer");
    warnings.finish().expect("close");

    let summary = Summary {
        lines_read: 5,
        accepted: 3,
        rejected: 2,
        per_rule: [("R2".to_string(), 2)].into(),
        warnings: [("W1".to_string(), 0)].into(),
        ..Summary::default()
    };
    out.write_summary(&summary).expect("summary");
    let published = out.commit().expect("commit");
    assert_eq!(published.path, final_path);
    assert_eq!(published.notices, Vec::<String>::new());

    assert_eq!(entries(&final_path), [MARKER_FILE, ACCEPTED_FILE, REJECTS_FILE, SUMMARY_FILE, WARNINGS_FILE]);
    assert_eq!(entries(root.path()), ["run"], "no staging folder is left");

    let back = read_parquet(&final_path.join(ACCEPTED_FILE));
    let total: usize = back.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(total, 6);
    assert_eq!(back[0].schema(), batch.schema());

    let rejects = read_parquet(&final_path.join(REJECTS_FILE));
    assert_eq!(rejects[0].schema(), violation_schema());
    let values =
        rejects[0].column_by_name("value").expect("value column").as_any().downcast_ref::<StringArray>().expect("utf8");
    assert_eq!(values.value(0), "31/02/2025");
    assert!(values.is_null(1));
    let severity = rejects[0]
        .column_by_name("severity")
        .expect("severity column")
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("utf8");
    assert_eq!(severity.value(0), "REJECT");
    assert!(read_parquet(&final_path.join(WARNINGS_FILE)).is_empty());

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(final_path.join(SUMMARY_FILE)).expect("summary file")).expect("json");
    for key in [
        "lines_read",
        "accepted",
        "rejected",
        "fatal",
        "per_rule",
        "warnings",
        "spec_hash",
        "input_hash",
        "input_bytes",
        "ignored_trailing_lines",
        "engine",
        "timings_ms",
        "contributor",
        "layout",
    ] {
        assert!(json.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(json["per_rule"]["R2"], 2);
    assert_eq!(json["fatal"], serde_json::json!([]));
    let parsed: Summary = serde_json::from_value(json).expect("round trip");
    assert_eq!(parsed, summary);
}

#[test]
fn dropping_without_commit_leaves_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    let final_path = root.path().join("run");
    {
        let out = OutputDir::create(&final_path).expect("staging");
        let mut accepted = out.accepted_writer(accepted_batch().schema(), &ParquetOptions::default()).expect("writer");
        accepted.write(&accepted_batch()).expect("write");
        out.write_summary(&Summary::default()).expect("summary");
        assert_eq!(entries(root.path()).len(), 1, "only the staging folder");
        // A failed run: the writer and the folder are dropped.
    }
    assert!(entries(root.path()).is_empty());
    assert!(!final_path.exists());
}

#[test]
fn commit_replaces_a_previous_output() {
    let root = tempfile::tempdir().expect("temp dir");
    let final_path = root.path().join("run");
    let first = OutputDir::create(&final_path).expect("staging");
    first.write_summary(&Summary { lines_read: 3, ..Summary::default() }).expect("summary");
    first.commit().expect("first commit");

    let out = OutputDir::create(&final_path).expect("staging");
    out.write_summary(&Summary { lines_read: 7, ..Summary::default() }).expect("summary");
    // The old output stays in place until the commit.
    let read_lines = || {
        let summary: Summary =
            serde_json::from_slice(&std::fs::read(final_path.join(SUMMARY_FILE)).expect("read")).expect("json");
        summary.lines_read
    };
    assert_eq!(read_lines(), 3);
    out.commit().expect("commit");

    assert_eq!(entries(&final_path), [MARKER_FILE, SUMMARY_FILE]);
    assert_eq!(entries(root.path()), ["run"], "the old folder is gone");
    assert_eq!(read_lines(), 7);
}

#[test]
fn create_refuses_to_replace_a_file() {
    let root = tempfile::tempdir().expect("temp dir");
    let final_path = root.path().join("run");
    std::fs::write(&final_path, b"not a folder").expect("file");
    let err = OutputDir::create(&final_path).unwrap_err();
    assert!(matches!(err, RuntimeError::OutputRefused { .. }), "{err}");
    assert!(err.to_string().contains("is not a folder"), "{err}");
    assert_eq!(std::fs::read(&final_path).expect("file"), b"not a folder");
    assert_eq!(entries(root.path()), ["run"], "no staging folder is made");
}

#[test]
fn unfinished_writers_block_the_commit() {
    let root = tempfile::tempdir().expect("temp dir");
    let final_path = root.path().join("run");

    let out = OutputDir::create(&final_path).expect("staging");
    let writer = out.rejects_writer(&ParquetOptions::default()).expect("writer");
    let out = {
        let err = out.commit().unwrap_err();
        assert!(matches!(err, RuntimeError::Internal(_)), "{err}");
        drop(writer);
        OutputDir::create(&final_path).expect("staging")
    };
    // A writer dropped without finish leaves a file without footer: still refused.
    drop(out.rejects_writer(&ParquetOptions::default()).expect("writer"));
    assert!(matches!(out.commit(), Err(RuntimeError::Internal(_))));
    assert!(!final_path.exists());
    assert!(entries(root.path()).is_empty());
}

#[test]
fn discarded_accepted_output_is_absent() {
    // Written by the writing thread, then by encoder threads (which must stop, not hang).
    for encoder_threads in [1, 3] {
        let root = tempfile::tempdir().expect("temp dir");
        let final_path = root.path().join("run");
        let out = OutputDir::create(&final_path).expect("staging");
        let options = ParquetOptions { encoder_threads, max_row_group_rows: 4, ..ParquetOptions::default() };
        let mut accepted = out.accepted_writer(accepted_batch().schema(), &options).expect("writer");
        for _ in 0..5 {
            accepted.write(&accepted_batch()).expect("write");
        }
        // The trailer said the file is fatal: nothing is accepted.
        accepted.discard().expect("discard");
        out.write_summary(&Summary { fatal: vec!["F2 count".into()], ..Summary::default() }).expect("summary");
        out.commit().expect("commit");
        assert_eq!(entries(&final_path), [MARKER_FILE, SUMMARY_FILE]);
    }
}

#[test]
fn unknown_dictionary_column_is_a_configuration_error() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = OutputDir::create(root.path().join("run")).expect("staging");
    let options = ParquetOptions { dictionary_columns: vec!["no_such_column".into()], ..ParquetOptions::default() };
    let err = out.accepted_writer(accepted_batch().schema(), &options).unwrap_err();
    assert!(matches!(err, RuntimeError::Config(_)), "{err}");
    let options = ParquetOptions { zstd_level: 99, ..ParquetOptions::default() };
    assert!(out.accepted_writer(accepted_batch().schema(), &options).is_err());
}

#[test]
fn output_folders_in_the_current_directory_and_nested() {
    let root = tempfile::tempdir().expect("temp dir");
    let nested = root.path().join("a/b/run");
    let out = OutputDir::create(&nested).expect("parents are created");
    out.commit().expect("commit");
    assert!(nested.is_dir());
    assert!(OutputDir::create("").is_err(), "a path needs a name");
}

/// Chunk statistics everywhere except the columns named as free text, which have none.
#[test]
fn statistics_are_kept_except_for_the_named_text_columns() {
    let root = tempfile::tempdir().expect("temp dir");
    let final_path = root.path().join("run");
    let out = OutputDir::create(&final_path).expect("staging");
    let batch = accepted_batch();
    let options = ParquetOptions { no_statistics_columns: vec!["state_code".into()], ..ParquetOptions::default() };
    let mut accepted = out.accepted_writer(batch.schema(), &options).expect("accepted writer");
    accepted.write(&batch).expect("write");
    accepted.finish().expect("close");
    let wrong = ParquetOptions { no_statistics_columns: vec!["no_such_column".into()], ..ParquetOptions::default() };
    assert!(out.accepted_writer(batch.schema(), &wrong).is_err(), "an unknown column is a configuration error");
    out.commit().expect("commit");

    let file = std::fs::File::open(final_path.join(ACCEPTED_FILE)).expect("accepted file");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).expect("footer");
    let row_group = reader.metadata().row_group(0);
    let has_statistics: Vec<(String, bool)> =
        row_group.columns().iter().map(|c| (c.column_path().string(), c.statistics().is_some())).collect();
    assert_eq!(
        has_statistics,
        [("line_no".to_string(), true), ("state_code".to_string(), false), ("balance".to_string(), true)]
    );
}

/// A batch of `rows` rows in every column kind the accepted file has: line numbers, dictionary
/// codes, plain and statistics-free text, money and dates, with nulls.
fn mixed_batch(first_line: u64, rows: usize, seed: u64) -> RecordBatch {
    use arrow::array::{Date32Array, DictionaryArray, StringViewArray, UInt32Array};
    use arrow::datatypes::UInt32Type;
    let pick = |row: usize, salt: u64| (seed.wrapping_mul(6_364_136_223_846_793_005) ^ (row as u64 * 31 + salt)) % 97;
    let codes = StringArray::from(vec!["A", "C", "D", "X"]);
    let keys = UInt32Array::from_iter((0..rows).map(|r| (pick(r, 1) > 10).then_some((pick(r, 2) % 4) as u32)));
    let schema = Arc::new(Schema::new(vec![
        Field::new("line_no", DataType::UInt64, false),
        Field::new("action_code", DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)), true),
        Field::new("subject_name", DataType::Utf8View, true),
        Field::new("account_no", DataType::Utf8View, true),
        Field::new("balance", DataType::Int64, true),
        Field::new("open_date", DataType::Date32, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from_iter_values((0..rows as u64).map(|r| first_line + r))),
        Arc::new(DictionaryArray::<UInt32Type>::try_new(keys, Arc::new(codes)).expect("dictionary")),
        Arc::new(StringViewArray::from_iter(
            (0..rows).map(|r| (pick(r, 3) > 5).then(|| format!("NAME {} BIN {}", pick(r, 4), r))),
        )),
        Arc::new(StringViewArray::from_iter_values((0..rows).map(|r| format!("ACC{:08}", first_line + r as u64)))),
        Arc::new(Int64Array::from_iter((0..rows).map(|r| (pick(r, 5) > 3).then(|| pick(r, 6) as i64 * 1_234 - 5_000)))),
        Arc::new(Date32Array::from_iter((0..rows).map(|r| (pick(r, 7) > 20).then(|| 18_000 + pick(r, 8) as i32)))),
    ];
    RecordBatch::try_new(schema, columns).expect("valid batch")
}

/// Writes the batches, each with its keep mask, and returns the file's bytes and the line
/// numbers it holds.
fn written_bytes(batches: &[(RecordBatch, Vec<bool>)], options: &ParquetOptions) -> (Vec<u8>, Vec<u64>) {
    let root = tempfile::tempdir().expect("temp dir");
    let out = OutputDir::create(root.path().join("run")).expect("staging");
    let mut sink = out.accepted_writer(batches[0].0.schema(), options).expect("writer");
    for (batch, keep) in batches {
        sink.write_selected(batch, &arrow::array::BooleanArray::from(keep.clone())).expect("write");
    }
    let kept: usize = batches.iter().map(|(_, k)| k.iter().filter(|&&k| k).count()).sum();
    assert_eq!(sink.finish().expect("finish"), kept as u64);
    let path = out.commit().expect("commit").path.join(ACCEPTED_FILE);
    let lines = read_parquet(&path)
        .iter()
        .flat_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>().expect("line_no").values().to_vec())
        .collect();
    (std::fs::read(path).expect("accepted file"), lines)
}

/// Batches of the given sizes made by `make` (first line, rows, seed), each with a keep mask
/// that drops one row in `keep_one_in` (none when 1).
fn masked_batches(
    sizes: &[usize],
    seed: u64,
    keep_one_in: u64,
    make: fn(u64, usize, u64) -> RecordBatch,
) -> Vec<(RecordBatch, Vec<bool>)> {
    let mut first_line = 1;
    sizes
        .iter()
        .enumerate()
        .map(|(i, &rows)| {
            let batch = make(first_line, rows, seed + i as u64);
            first_line += rows as u64;
            let keep = (0..rows).map(|r| (r as u64 * 7 + seed) % keep_one_in != 1).collect();
            (batch, keep)
        })
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Encoding the columns on threads writes the very file the writing thread would: same row
    /// groups, same pages, same bytes, whatever the batch sizes, masks and row-group size.
    #[test]
    fn encoder_threads_write_the_same_bytes(
        sizes in proptest::collection::vec(1usize..700, 1..8),
        keep_one_in in 1u64..5,
        row_group in 1usize..1500,
        threads in 2usize..5,
        seed in 0u64..1000,
    ) {
        let batches = masked_batches(&sizes, seed, keep_one_in, mixed_batch);
        let options = ParquetOptions {
            dictionary_columns: vec!["action_code".into()],
            no_statistics_columns: vec!["subject_name".into()],
            max_row_group_rows: row_group,
            ..ParquetOptions::default()
        };
        let (inline, rows) = written_bytes(&batches, &options);
        let (lanes, _) = written_bytes(&batches, &ParquetOptions { encoder_threads: threads, ..options.clone() });
        proptest::prop_assert!(inline == lanes, "the files differ ({} and {} bytes)", inline.len(), lanes.len());
        // And the file holds the kept rows, in order.
        let expected: Vec<u64> = batches
            .iter()
            .flat_map(|(b, keep)| {
                let lines = b.column(0).as_any().downcast_ref::<UInt64Array>().expect("line_no").values().to_vec();
                lines.into_iter().zip(keep.clone()).filter(|(_, k)| *k).map(|(l, _)| l)
            })
            .collect();
        proptest::prop_assert_eq!(rows, expected);
    }
}

/// A batch for the typed encoders: every column kind they write, with what makes encoders go
/// wrong: extreme integers (deltas that wrap), all-null stretches, short texts with a few values
/// and texts that turn long part-way, long texts many or few (the text dictionary gives up at
/// its size limit, or keeps them all), codes over two
/// different dictionaries, and a required column.
fn typed_batch(first_line: u64, rows: usize, seed: u64) -> RecordBatch {
    use arrow::array::{Date32Array, DictionaryArray, Int32Array, StringViewArray, UInt32Array};
    use arrow::datatypes::UInt32Type;
    let pick = |row: usize, salt: u64| {
        let x = seed.wrapping_add(row as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (x ^ (x >> 29)).wrapping_mul(0x94D0_49BB_1331_11EB) >> 7
    };
    let extreme_i64 = |r: usize| match pick(r, 11) % 9 {
        0 => i64::MIN,
        1 => i64::MAX,
        2 => -1,
        _ => (pick(r, 12) % 2_000_000) as i64 - 1_000_000,
    };
    let extreme_i32 = |r: usize| match pick(r, 13) % 9 {
        0 => i32::MIN,
        1 => i32::MAX,
        _ => 18_000 + (pick(r, 14) % 400) as i32,
    };
    // Batches with an even seed use one dictionary, the others a reordered one with an extra member.
    let codes = if seed.is_multiple_of(2) {
        StringArray::from(vec!["ACTIVE", "CLOSED", "WRITTEN_OFF", "X"])
    } else {
        StringArray::from(vec!["X", "NPL", "ACTIVE", "CLOSED", "WRITTEN_OFF"])
    };
    let members = codes.len() as u64;
    let keys =
        UInt32Array::from_iter((0..rows).map(|r| (pick(r, 1) % 10 > 1).then_some((pick(r, 2) % members) as u32)));
    let null_run = |r: usize| (seed % 5 == 3) || pick(r, 15) % 7 == 0;
    let schema = Arc::new(Schema::new(vec![
        Field::new("line_no", DataType::UInt64, false),
        Field::new("account_status", DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)), true),
        Field::new("product_type", DataType::Utf8View, true),
        Field::new("postcode", DataType::Utf8View, true),
        Field::new("subject_name", DataType::Utf8View, true),
        Field::new("balance", DataType::Int64, true),
        Field::new("tenure", DataType::Int32, true),
        Field::new("open_date", DataType::Date32, true),
        Field::new("never", DataType::Int64, true),
        // A type the typed encoders leave to `ArrowColumnWriter`, in the same row groups.
        Field::new("ratio", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from_iter_values((0..rows as u64).map(|r| first_line + r))),
        Arc::new(DictionaryArray::<UInt32Type>::try_new(keys, Arc::new(codes)).expect("dictionary")),
        Arc::new(StringViewArray::from_iter((0..rows).map(|r| {
            (pick(r, 3) % 10 > 0)
                .then(|| ["POSTPAID", "BNPL", "HP", "", "LEASE"][(pick(r, 4) % 5) as usize].to_string())
        }))),
        // Short texts, a long one now and then in some batches: the dictionary gives up there.
        Arc::new(StringViewArray::from_iter((0..rows).map(|r| {
            (!null_run(r)).then(|| {
                if seed % 3 == 2 && pick(r, 5) % 50 == 0 {
                    format!("A LONG POSTCODE TEXT {r}")
                } else {
                    format!("{:05}", pick(r, 6) % 300)
                }
            })
        }))),
        // Long texts: many distinct ones, or (every other batch) a few repeated.
        Arc::new(StringViewArray::from_iter((0..rows).map(|r| {
            let distinct = if seed.is_multiple_of(2) { 100_000 } else { 40 };
            (pick(r, 7) % 9 > 0).then(|| format!("SUBJECT NAME NUMBER {}", pick(r, 8) % distinct))
        }))),
        Arc::new(Int64Array::from_iter((0..rows).map(|r| (pick(r, 9) % 6 > 0).then(|| extreme_i64(r))))),
        Arc::new(Int32Array::from_iter((0..rows).map(|r| (!null_run(r)).then(|| extreme_i32(r))))),
        Arc::new(Date32Array::from_iter((0..rows).map(|r| (pick(r, 10) % 4 > 0).then(|| 18_000 + (r as i32 % 300))))),
        Arc::new(Int64Array::from(vec![None::<i64>; rows])),
        Arc::new(arrow::array::Float64Array::from_iter(
            (0..rows).map(|r| (pick(r, 16) % 5 > 0).then(|| r as f64 / 7.0)),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("valid batch")
}

/// The file's rows as plain arrays (codes as text), whatever dictionaries the writer chose, with
/// each row group's statistics per column: (null count, min bytes, max bytes).
type Statistic = (Option<u64>, Option<Vec<u8>>, Option<Vec<u8>>);
fn decoded(bytes: &[u8]) -> (Vec<ArrayRef>, Vec<Vec<Statistic>>) {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes)).expect("footer");
    let statistics = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|group| {
            group
                .columns()
                .iter()
                .map(|c| match c.statistics() {
                    None => (None, None, None),
                    Some(s) => (
                        s.null_count_opt(),
                        s.min_bytes_opt().map(<[u8]>::to_vec),
                        s.max_bytes_opt().map(<[u8]>::to_vec),
                    ),
                })
                .collect()
        })
        .collect();
    let batches: Vec<RecordBatch> = reader.build().expect("reader").collect::<Result<_, _>>().expect("batches");
    (plain_columns(&batches), statistics)
}

/// The batches' columns, each concatenated, codes cast to text (two writers may number a
/// dictionary differently).
fn plain_columns(batches: &[RecordBatch]) -> Vec<ArrayRef> {
    let Some(first) = batches.first() else { return Vec::new() };
    (0..first.num_columns())
        .map(|c| {
            let parts: Vec<ArrayRef> = batches
                .iter()
                .map(|b| match b.column(c).data_type() {
                    DataType::Dictionary(_, _) => arrow::compute::cast(b.column(c), &DataType::Utf8).expect("cast"),
                    _ => Arc::clone(b.column(c)),
                })
                .collect();
            let parts: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
            arrow::compute::concat(&parts).expect("concat")
        })
        .collect()
}

/// The rows of the middle third of the file, read through its offset index (pages outside the
/// selection are skipped by their recorded locations), codes as text.
fn middle_third(bytes: &[u8]) -> Vec<ArrayRef> {
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, RowSelection, RowSelector};
    let options =
        ArrowReaderOptions::new().with_offset_index_policy(parquet::file::metadata::PageIndexPolicy::Required);
    let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(bytes::Bytes::copy_from_slice(bytes), options)
        .expect("footer");
    assert!(builder.metadata().offset_index().is_some(), "the file has an offset index");
    let rows = builder.metadata().file_metadata().num_rows() as usize;
    let selection = RowSelection::from(vec![
        RowSelector::skip(rows / 3),
        RowSelector::select(rows / 3),
        RowSelector::skip(rows - 2 * (rows / 3)),
    ]);
    let batches: Vec<RecordBatch> =
        builder.with_row_selection(selection).build().expect("reader").collect::<Result<_, _>>().expect("batches");
    plain_columns(&batches)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// etr's own column-chunk encoders write the values `ArrowWriter` writes, with the same
    /// chunk statistics, and the same bytes on any number of encoder threads.
    #[test]
    fn typed_encoders_write_what_arrow_writer_writes(
        sizes in proptest::collection::vec(1usize..3000, 1..7),
        keep_one_in in 1u64..6,
        row_group in 1usize..9000,
        threads in 1usize..4,
        seed in 0u64..1000,
        dictionary_page_bytes in proptest::prop_oneof![64usize..4096, proptest::strategy::Just(1 << 20)],
    ) {
        let batches = masked_batches(&sizes, seed, keep_one_in, typed_batch);
        proptest::prop_assume!(batches.iter().any(|(_, keep)| keep.contains(&true)));
        let options = ParquetOptions {
            no_statistics_columns: vec!["subject_name".into()],
            max_row_group_rows: row_group,
            dictionary_page_bytes,
            ..ParquetOptions::default()
        };
        let (arrow_file, _) = written_bytes(&batches, &options);
        let typed = ParquetOptions { typed_encoders: true, encoder_threads: threads, ..options.clone() };
        let (typed_file, _) = written_bytes(&batches, &typed);
        let (one_lane, _) = written_bytes(&batches, &ParquetOptions { encoder_threads: 1, ..typed.clone() });
        proptest::prop_assert!(typed_file == one_lane, "the typed file depends on the thread count");
        proptest::prop_assert!(typed_file != arrow_file, "the typed encoders were not used");
        let (expected, expected_statistics) = decoded(&arrow_file);
        let (actual, actual_statistics) = decoded(&typed_file);
        for (column, (e, a)) in expected.iter().zip(&actual).enumerate() {
            proptest::prop_assert_eq!(e.as_ref(), a.as_ref(), "column {}", column);
        }
        proptest::prop_assert_eq!(expected_statistics, actual_statistics);
        let (expected, actual) = (middle_third(&arrow_file), middle_third(&typed_file));
        proptest::prop_assert_eq!(expected.len(), actual.len());
        for (column, (e, a)) in expected.iter().zip(&actual).enumerate() {
            proptest::prop_assert_eq!(e.as_ref(), a.as_ref(), "column {} of the middle third", column);
        }
    }
}
