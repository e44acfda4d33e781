//! SQL over a lake these tests publish themselves: small runs of a three-field record written as
//! the engine's output folders, published through `etr-lake`, then queried through `etr-sql`.
//! The expected answers are computed from the values the tests wrote, never read back from the lake.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use etr_lake::{Lake, LakeConfig, LakeType, Month, PublishRequest, RecordField, RunRow};
use etr_sql::{LakeSql, OutputFormat, SqlError, SqlSettings};

/// One record of a test run: an account, its balance in sen, the day it was opened.
#[derive(Debug, Clone)]
struct Row {
    account: String,
    balance_sen: Option<i64>,
    opened_day: i32,
}

fn record_fields() -> Vec<RecordField> {
    vec![
        RecordField { name: "account".into(), ty: LakeType::Text, doc: None },
        RecordField { name: "balance".into(), ty: LakeType::Money, doc: None },
        RecordField { name: "opened".into(), ty: LakeType::Date, doc: None },
    ]
}

/// `count` rows of accounts, with balances spread from -RM 1,000.00 to about RM 10,000,000 by a
/// multiplicative hash of `seed` and the row (no two runs alike), and a null every so often.
fn rows(seed: u64, count: usize) -> Vec<Row> {
    (0..count as u64)
        .map(|i| {
            let draw = (seed * 1_000_003 + i).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16;
            Row {
                account: format!("A{seed}-{i:04}"),
                balance_sen: (!draw.is_multiple_of(17)).then(|| (draw % 1_000_100_000) as i64 - 100_000),
                opened_day: 18_000 + (draw % 3_000) as i32,
            }
        })
        .collect()
}

/// Sen as the decimal text of `decimal(_, 2)`.
fn decimal_text(sen: i128) -> String {
    let sign = if sen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", sen.abs() / 100, sen.abs() % 100)
}

/// Writes `rows` as the engine's `accepted.parquet` into `dir`.
fn write_output(dir: &Path, rows: &[Row]) {
    std::fs::create_dir_all(dir).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("line_no", DataType::UInt64, false),
        Field::new("account", DataType::Utf8, false),
        Field::new("balance", DataType::Int64, true),
        Field::new("opened", DataType::Date32, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(UInt64Array::from_iter_values((0..rows.len() as u64).map(|i| i + 2))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.account.as_str()))),
            Arc::new(Int64Array::from(rows.iter().map(|r| r.balance_sen).collect::<Vec<_>>())),
            Arc::new(Date32Array::from(rows.iter().map(|r| r.opened_day).collect::<Vec<_>>())),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(dir.join("accepted.parquet")).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

struct TestLake {
    dir: tempfile::TempDir,
    config: LakeConfig,
    lake: Lake,
}

impl TestLake {
    async fn new() -> TestLake {
        let dir = tempfile::tempdir().unwrap();
        let config = LakeConfig::embedded(&dir.path().join("state"));
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        let lake = Lake::open(&config).await.unwrap();
        lake.ensure_tables(&record_fields()).await.unwrap();
        TestLake { dir, config, lake }
    }

    /// Publishes `rows` as run `seq` of `contributor` for `month` (`YYYY-MM`).
    async fn publish(&self, seq: i64, contributor: &str, month: &str, rows: &[Row]) {
        let run_id = format!("run-{seq:06}");
        let output = self.dir.path().join("runs").join(&run_id);
        write_output(&output, rows);
        let request = PublishRequest {
            run_id: &run_id,
            run_seq: seq,
            contributor,
            month: Month::parse(month).unwrap(),
            output: &output,
            run: RunRow {
                file_name: format!("{contributor}_{}.psv", month.replace('-', "")),
                content_hash: format!("{seq:064x}"),
                size_bytes: 1000,
                lines_read: rows.len() as i64,
                accepted: rows.len() as i64,
                rejected: 0,
                warnings: 0,
                spec_hash: "spec".into(),
                published_at_micros: 1_750_000_000_000_000 + seq,
            },
        };
        let published = self.lake.publish(&request).await.unwrap();
        assert_eq!(published.superseded_by, None);
    }

    async fn sql(&self) -> LakeSql {
        LakeSql::open(&self.config, &SqlSettings::default()).await.unwrap()
    }
}

async fn query_text(sql: &LakeSql, text: &str, format: OutputFormat) -> Result<String, SqlError> {
    let mut out = Vec::new();
    sql.query(text, None).await?.write(format, None, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

/// The rows of a CSV result, header first.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|line| line.split(',').map(str::to_owned).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_without_a_lake_is_told_so_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let config = LakeConfig::embedded(&dir.path().join("state"));
    let opened = LakeSql::open(&config, &SqlSettings::default()).await;
    assert!(matches!(opened, Err(SqlError::NoLake)), "{:?}", opened.err());
    assert!(!dir.path().join("state").exists(), "looking at the lake created {:?}", std::fs::read_dir(dir.path()));

    // A catalog without the lake's tables (a workspace whose every file was refused) is no lake
    // either, and a reader adds nothing to it.
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    let lake = Lake::open(&config).await.unwrap();
    lake.runs_in(etr_lake::TableName::Runs).await.unwrap_err();
    let opened = LakeSql::open(&config, &SqlSettings::default()).await;
    assert!(matches!(opened, Err(SqlError::NoLake)), "{:?}", opened.err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_with_no_snapshot_yet_answer_no_rows() {
    let lake = TestLake::new().await;
    let sql = lake.sql().await;
    assert_eq!(sql.tables(), ["records", "rejects", "runs"]);
    let counts = query_text(
        &sql,
        "SELECT (SELECT count(*) FROM records) AS a, (SELECT count(*) FROM rejects) AS b, (SELECT count(*) FROM runs) AS c",
        OutputFormat::Csv,
    )
    .await
    .unwrap();
    assert_eq!(csv_rows(&counts)[1], ["0", "0", "0"], "{counts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_sums_are_exact_and_a_month_replaced_is_read_once() {
    let lake = TestLake::new().await;
    let june = rows(1, 300);
    let july = rows(2, 200);
    let other = rows(3, 50);
    lake.publish(1, "JCL", "2025-06", &june).await;
    lake.publish(2, "JCL", "2025-07", &july).await;
    lake.publish(3, "ABC", "2025-06", &other).await;
    let before = lake.sql().await;

    let sum = |rows: &[Row]| rows.iter().filter_map(|r| r.balance_sen).map(i128::from).sum::<i128>();
    let expected = |rows: &[&[Row]]| {
        let all: Vec<Row> = rows.iter().flat_map(|r| r.iter().cloned()).collect();
        (all.len().to_string(), decimal_text(sum(&all)))
    };
    let by_contributor = "SELECT contributor, count(*), sum(balance) FROM records GROUP BY contributor ORDER BY 1";
    let text = query_text(&before, by_contributor, OutputFormat::Csv).await.unwrap();
    let result = csv_rows(&text);
    let (jcl_count, jcl_sum) = expected(&[&june, &july]);
    let (abc_count, abc_sum) = expected(&[&other]);
    assert_eq!(result[1], ["ABC", abc_count.as_str(), abc_sum.as_str()], "{text}");
    assert_eq!(result[2], ["JCL", jcl_count.as_str(), jcl_sum.as_str()], "{text}");
    assert_eq!(result.len(), 3, "{text}");

    // A corrected June replaces the month: a session opened after reads only the new file's rows,
    // and the session opened before still reads the snapshot it opened on.
    let corrected = rows(4, 120);
    lake.publish(4, "JCL", "2025-06", &corrected).await;
    let after = lake.sql().await;
    let text = query_text(&after, by_contributor, OutputFormat::Csv).await.unwrap();
    let (jcl_count, jcl_sum) = expected(&[&corrected, &july]);
    assert_eq!(csv_rows(&text)[2], ["JCL", jcl_count.as_str(), jcl_sum.as_str()], "{text}");
    let text = query_text(&before, by_contributor, OutputFormat::Csv).await.unwrap();
    let (jcl_count, jcl_sum) = expected(&[&june, &july]);
    assert_eq!(csv_rows(&text)[2], ["JCL", jcl_count.as_str(), jcl_sum.as_str()], "{text}");

    // Answers that DataFusion could take from the manifests' bounds of money (which iceberg-rust
    // 0.10 decodes wrongly) come from the rows: the extremes, and a filter on money.
    let live: Vec<Row> = corrected.iter().chain(&july).chain(&other).cloned().collect();
    let balances = || live.iter().filter_map(|r| r.balance_sen);
    let (max, min) = (balances().max().unwrap(), balances().min().unwrap());
    let threshold = (max + min) / 2;
    let above = balances().filter(|&b| b > threshold).count();
    let text = query_text(
        &after,
        &format!(
            "SELECT max(balance), min(balance), (SELECT count(*) FROM records WHERE balance > {}) FROM records",
            decimal_text(threshold.into())
        ),
        OutputFormat::Csv,
    )
    .await
    .unwrap();
    let extremes = [decimal_text(max.into()), decimal_text(min.into()), above.to_string()];
    assert_eq!(csv_rows(&text)[1], extremes, "{text}");
    let text = query_text(&after, "SELECT max(account), count(*) FROM records", OutputFormat::Csv).await.unwrap();
    let last_account = live.iter().map(|r| r.account.clone()).max().unwrap();
    assert_eq!(csv_rows(&text)[1], [last_account, live.len().to_string()], "{text}");

    // The runs table has a row per publication, the replacement naming the run it replaced.
    let text = query_text(
        &after,
        "SELECT run_id, coalesce(replaced_run_id, '-') FROM runs ORDER BY run_id",
        OutputFormat::Csv,
    )
    .await
    .unwrap();
    let runs: Vec<Vec<String>> = csv_rows(&text).into_iter().skip(1).collect();
    assert_eq!(runs, [["run-000001", "-"], ["run-000002", "-"], ["run-000003", "-"], ["run-000004", "run-000001"]]);

    // A filter on the partition columns answers from every file of the month or contributor,
    // whatever the manifests' bounds say (the `contributor` summary of a manifest names only its
    // first contributor: pruning by it would find no ABC here).
    let text = query_text(
        &after,
        "SELECT contributor, count(*), sum(balance) FROM records WHERE contributor = 'ABC' GROUP BY 1",
        OutputFormat::Csv,
    )
    .await
    .unwrap();
    let (abc_count, abc_sum) = expected(&[&other]);
    assert_eq!(csv_rows(&text)[1..], [["ABC", abc_count.as_str(), abc_sum.as_str()]], "{text}");
    // The Parquet reader gets the filter, to skip the row groups of other partitions by the
    // files' own statistics.
    let text = query_text(&after, "EXPLAIN SELECT count(*) FROM records WHERE contributor = 'ABC'", OutputFormat::Csv)
        .await
        .unwrap();
    assert!(text.contains("pruning_predicate=") && text.contains("contributor_min"), "{text}");
    let text =
        query_text(&after, "SELECT sum(balance) FROM records WHERE month = DATE '2025-07-01'", OutputFormat::Csv)
            .await
            .unwrap();
    assert_eq!(csv_rows(&text)[1], [decimal_text(sum(&july))], "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_format_writes_money_and_dates_exactly() {
    let lake = TestLake::new().await;
    let written = vec![
        Row { account: "A-1".into(), balance_sen: Some(123_450), opened_day: 20_089 },
        Row { account: "A, \"2\"".into(), balance_sen: Some(-5), opened_day: 0 },
        Row { account: "A-3".into(), balance_sen: None, opened_day: 20_240 },
    ];
    lake.publish(1, "JCL", "2025-06", &written).await;
    let sql = lake.sql().await;
    let query = "SELECT account, balance, opened, month FROM etr.records ORDER BY line_no";

    let csv = query_text(&sql, query, OutputFormat::Csv).await.unwrap();
    assert_eq!(
        csv,
        "account,balance,opened,month\nA-1,1234.50,2025-01-01,2025-06-01\n\"A, \"\"2\"\"\",-0.05,1970-01-01,2025-06-01\nA-3,,2025-06-01,2025-06-01\n"
    );
    let json = query_text(&sql, query, OutputFormat::JsonLines).await.unwrap();
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines[0], r#"{"account":"A-1","balance":1234.50,"opened":"2025-01-01","month":"2025-06-01"}"#);
    assert_eq!(lines[2], r#"{"account":"A-3","balance":null,"opened":"2025-06-01","month":"2025-06-01"}"#);
    let table = query_text(&sql, query, OutputFormat::Table).await.unwrap();
    assert!(table.contains("| A-1     | 1234.50 | 2025-01-01 | 2025-06-01 |"), "{table}");
    assert!(table.contains("| A, \"2\"  | -0.05   | 1970-01-01 | 2025-06-01 |"), "{table}");
    assert!(table.contains("| A-3     |         | 2025-06-01 | 2025-06-01 |"), "{table}");

    // A column of money keeps its type through SQL: decimal(18,2), and its sum decimal too.
    let batches = sql.query("SELECT balance, sum(balance) OVER () AS total FROM records", None).await.unwrap();
    let schema = batches.schema();
    assert_eq!(schema.field(0).data_type(), &DataType::Decimal128(18, 2));
    assert!(matches!(schema.field(1).data_type(), DataType::Decimal128(_, 2)), "{schema:?}");

    // At most N rows: the query is asked one more, which tells that there were more.
    let mut out = Vec::new();
    let written = sql.query(query, Some(3)).await.unwrap().write(OutputFormat::Csv, Some(2), &mut out).await.unwrap();
    assert_eq!((written.rows, written.truncated), (2, true));
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 3);
    let mut out = Vec::new();
    let written = sql.query(query, Some(4)).await.unwrap().write(OutputFormat::Csv, Some(3), &mut out).await.unwrap();
    assert_eq!((written.rows, written.truncated), (3, false));

    // A result of no rows still has its header.
    let empty = query_text(&sql, "SELECT account FROM records WHERE false", OutputFormat::Csv).await.unwrap();
    assert_eq!(empty, "account\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_whose_they_are() {
    let lake = TestLake::new().await;
    lake.publish(1, "JCL", "2025-06", &rows(5, 10)).await;
    let sql = lake.sql().await;
    let error = |text: &'static str| {
        let sql = &sql;
        async move { sql.query(text, None).await.err().unwrap_or_else(|| panic!("`{text}` ran")) }
    };

    let syntax = error("SELEC count(*) FROM records").await;
    assert!(matches!(&syntax, SqlError::Syntax(m) if m.contains("SELEC")), "{syntax:?}");
    assert!(syntax.is_in_the_query());

    for (text, name) in [
        ("SELECT * FROM recordz", "recordz"),
        ("SELECT * FROM elsewhere.records", "elsewhere.records"),
        ("SELECT * FROM records JOIN nope USING (run_id)", "nope"),
    ] {
        let unknown = error(text).await;
        let SqlError::UnknownTable { name: told, available } = &unknown else { panic!("{text}: {unknown:?}") };
        assert_eq!(told, name, "{text}");
        assert_eq!(available, &["records", "rejects", "runs"], "{text}");
        assert!(unknown.to_string().ends_with("its tables are records, rejects, runs"), "{unknown}");
    }
    // A CTE's name is the query's own, not a table of the lake.
    let cte = sql.query("WITH june AS (SELECT * FROM records) SELECT count(*) FROM june", None).await;
    assert!(cte.is_ok(), "{:?}", cte.err());

    let column = error("SELECT balanse FROM records").await;
    assert!(matches!(&column, SqlError::Query(m) if m.contains("balanse")), "{column:?}");

    for text in [
        "CREATE TABLE copy AS SELECT * FROM records",
        "INSERT INTO runs SELECT * FROM runs",
        "COPY records TO '/tmp/records.csv'",
        "SET datafusion.execution.batch_size = 10",
        "DROP TABLE records",
    ] {
        let refused = error(text).await;
        assert!(matches!(refused, SqlError::NotReadOnly(_)), "{text}: {refused:?}");
    }
    let still = query_text(&sql, "SELECT count(*) FROM records", OutputFormat::Csv).await.unwrap();
    assert_eq!(csv_rows(&still)[1], ["10"]);

    let two = error("SELECT 1; SELECT 2").await;
    assert!(two.is_in_the_query(), "{two:?}");

    // A value that fails a cast is the query's too, found while the result streams.
    let stream = sql.query("SELECT CAST(account AS INT) FROM records", None).await;
    let failed = match stream {
        Err(error) => error,
        Ok(stream) => stream.collect().await.unwrap_err(),
    };
    assert!(failed.is_in_the_query(), "{failed:?}");

    let shown = query_text(&sql, "SHOW TABLES", OutputFormat::Csv).await.unwrap();
    for table in ["records", "rejects", "runs"] {
        assert!(shown.lines().any(|line| line.starts_with("etr,etr,") && line.contains(table)), "{shown}");
    }
    let Some(first) = written_first_column(&sql, "SELECT count(*) FROM etr.etr.records").await.first().cloned() else {
        panic!("no rows")
    };
    assert_eq!(first, "10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_by_larger_than_its_memory_spills_to_disk() {
    let lake = TestLake::new().await;
    let many = rows(6, 600_000);
    lake.publish(1, "JCL", "2025-06", &many).await;
    let query = "SELECT count(*) FROM (SELECT account, sum(balance) FROM records GROUP BY account ORDER BY account)";
    let tight = |spill_dir: std::path::PathBuf| SqlSettings {
        memory_limit_bytes: 32 << 20,
        spill_dir: Some(spill_dir),
        target_partitions: Some(2),
    };

    // 600,000 groups do not fit in 32 MiB: with a folder to spill to, the answer is whole.
    let spill = tempfile::tempdir().unwrap();
    let sql = LakeSql::open(&lake.config, &tight(spill.path().to_owned())).await.unwrap();
    let counted = query_text(&sql, query, OutputFormat::Csv).await.unwrap();
    assert_eq!(csv_rows(&counted)[1], [many.len().to_string()], "{counted}");

    // The control: where no spill file can be made (the session's spill folder removed after it
    // opened), the same query fails, so the pool did bound it; and the failure is not the query's.
    let gone = tempfile::tempdir().unwrap();
    let sql = LakeSql::open(&lake.config, &tight(gone.path().to_owned())).await.unwrap();
    for made in std::fs::read_dir(gone.path()).unwrap() {
        std::fs::remove_dir_all(made.unwrap().path()).unwrap();
    }
    let failed = match sql.query(query, None).await {
        Err(error) => error,
        Ok(stream) => stream.collect().await.unwrap_err(),
    };
    assert!(matches!(failed, SqlError::Lake(_)), "{failed:?}");
}

async fn written_first_column(sql: &LakeSql, text: &str) -> Vec<String> {
    let batches = sql.query(text, None).await.unwrap().collect().await.unwrap();
    let mut values = Vec::new();
    for batch in batches {
        let column = arrow::compute::cast(batch.column(0), &DataType::Utf8).unwrap();
        let column = column.as_string::<i32>();
        values.extend((0..column.len()).map(|i| column.value(i).to_owned()));
    }
    values
}
