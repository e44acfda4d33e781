//! The lake end to end on the embedded default (SQL catalog on SQLite, local warehouse): JCL's
//! committed 1,000-line sample run by the engine, published, published again, replaced by a newer
//! file of the month, and an older file arriving late; then the tables read back by an independent
//! reader, pyiceberg, through the same catalog.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

mod support;

use etr_lake::{Lake, LakeConfig, RecordField, TableName};
use etr_runtime::pipeline::{RunConfig, run};
use support::request;

/// Runs JCL's spec over the first `lines` lines of the committed sample into `out`.
fn engine_output(dir: &Path, name: &str, lines: usize) -> (PathBuf, etr_runtime::output::Summary) {
    let sample = etr_tests::workspace_root().join("tests/corpus/w1/jcl_1k/input.psv");
    let text = std::fs::read_to_string(&sample).unwrap();
    let mut kept: Vec<&str> = text.lines().collect();
    // The header, `lines` data lines, and a trailer that counts them stay a valid JCL file only for
    // the whole sample; a shorter file ends fatal on the trailer's count, which these tests do not
    // need: they take the whole sample, or the whole sample with lines dropped from the middle.
    if lines < kept.len() - 2 {
        kept.drain(1 + lines..kept.len() - 1);
    }
    let input = dir.join(format!("{name}.psv"));
    std::fs::write(&input, kept.join("\n") + "\n").unwrap();
    let out = dir.join(name);
    let program = Arc::new(etr_tests::jcl_program());
    let config = RunConfig { threads: 1, as_of: Some(20_000), ..RunConfig::default() };
    let summary = run(program, &input, &out, &config).unwrap();
    (out, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_is_in_the_lake_once_and_a_newer_file_replaces_it_in_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    std::fs::create_dir_all(&lake_dir).unwrap();
    let config = LakeConfig::embedded(&lake_dir);
    let lake = Lake::open(&config).await.unwrap();
    let record = RecordField::of_record(&etr_tests::jcl_program().record);
    lake.ensure_tables(&record).await.unwrap();
    // Twice: the second finds the tables and changes nothing.
    lake.ensure_tables(&record).await.unwrap();

    let (first_out, first) = engine_output(dir.path(), "first", usize::MAX);
    assert_eq!(first.accepted, 980);
    let published = lake.publish(&request("run-1", 1, &first_out, &first)).await.unwrap();
    assert_eq!(published.committed, vec![TableName::Records, TableName::Rejects, TableName::Runs]);
    assert!(published.replaced_runs.is_empty());
    assert_eq!(lake.runs_in(TableName::Records).await.unwrap(), vec!["run-1"]);

    // The same run again (a worker that died before the ledger heard of the commit): no commit.
    let again = lake.publish(&request("run-1", 1, &first_out, &first)).await.unwrap();
    assert!(again.committed.is_empty(), "{again:?}");
    assert_eq!(again.records_snapshot, published.records_snapshot);

    // A newer file of the same month replaces the first in records and rejects; runs keeps both.
    // An earlier attempt at it was killed after writing its records file and while splicing the
    // next: both are removed once the run is in; run-1's file is not touched.
    let folder = lake_dir.join("warehouse/etr/records/data/month=2025-06-01/contributor=JCL");
    let run_1_file = std::fs::read_dir(&folder).unwrap().next().unwrap().unwrap().path();
    let leftover = folder.join("00000000000000000002-run-2-8f14e45f-ceea-467f-a8b9-1d2c3e4f5a6b.parquet");
    let partial = folder.join("00000000000000000002-run-2-1d2c3e4f-ceea-467f-a8b9-8f14e45f5a6b.parquet.partial");
    std::fs::write(&leftover, b"PAR1 killed before its commit").unwrap();
    std::fs::write(&partial, b"PAR1 killed while spliced").unwrap();
    let (second_out, second) = engine_output(dir.path(), "second", usize::MAX);
    let replaced = lake.publish(&request("run-2", 2, &second_out, &second)).await.unwrap();
    assert_eq!(replaced.replaced_runs, vec!["run-1"]);
    assert!(!leftover.exists() && !partial.exists(), "the killed attempt's files are removed");
    assert!(run_1_file.is_file(), "a replaced run's file stays: older snapshots still read it");
    assert_eq!(lake.runs_in(TableName::Records).await.unwrap(), vec!["run-2"]);
    assert_eq!(lake.runs_in(TableName::Rejects).await.unwrap(), vec!["run-2"]);
    assert_eq!(lake.runs_in(TableName::Runs).await.unwrap(), vec!["run-1", "run-2"]);

    // A file received before run-2 but published after it is superseded: nothing changes.
    let late = lake.publish(&request("run-0", 0, &first_out, &first)).await.unwrap();
    assert_eq!(late.superseded_by.as_deref(), Some("run-2"));
    assert!(late.committed.is_empty());
    assert_eq!(lake.runs_in(TableName::Records).await.unwrap(), vec!["run-2"]);

    // Another contributor's month beside it, in the manifests iceberg-rust merges: readers that
    // filter on the contributor must find both (the lists' string bounds are not to be trusted).
    let mut abc = request("run-3", 3, &second_out, &second);
    abc.contributor = "ABC";
    lake.publish(&abc).await.unwrap();
    assert_eq!(lake.runs_in(TableName::Records).await.unwrap(), vec!["run-2", "run-3"]);

    independent_reader_agrees(&lake_dir, &second_out, second.accepted, second.rejected);
}

/// pyiceberg, through the same SQLite catalog, reads what the engine wrote: as many records and
/// rejects as the run's summary says, money as decimal(18,2) equal to the engine's sen / 100, and
/// the line numbers of the engine's accepted file.
fn independent_reader_agrees(lake_dir: &Path, output: &Path, accepted: u64, rejected: u64) {
    let Some(python) = etr_testkit::ci::require(etr_testkit::python::with_modules("pyiceberg")) else { return };
    let script = r#"
import sys, json
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
lake, output = sys.argv[1], sys.argv[2]
catalog = SqlCatalog("etr", uri=f"sqlite:///{lake}/catalog.db", warehouse=f"file://{lake}/warehouse")
records = catalog.load_table("etr.records").scan().to_arrow()
rejects = catalog.load_table("etr.rejects").scan().to_arrow()
runs = catalog.load_table("etr.runs").scan().to_arrow()
engine = pq.read_table(f"{output}/accepted.parquet")
by_line = {r["line_no"]: r for r in engine.select(["line_no", "outstanding_balance", "account_no"]).to_pylist()}
mismatches = 0
for r in records.select(["line_no", "outstanding_balance", "account_no"]).to_pylist():
    e = by_line.get(r["line_no"])
    sen = None if r["outstanding_balance"] is None else int(r["outstanding_balance"] * 100)
    if e is None or e["account_no"] != r["account_no"] or e["outstanding_balance"] != sen:
        mismatches += 1
print(json.dumps({
    "records": records.num_rows, "rejects": rejects.num_rows, "runs": runs.num_rows,
    "engine_rejects": pq.read_table(f"{output}/rejects.parquet").num_rows,
    "replaced": sorted((r["run_id"], r["replaced_run_id"]) for r in runs.select(["run_id", "replaced_run_id"]).to_pylist()),
    "money_type": str(records.schema.field("outstanding_balance").type),
    "line_type": str(records.schema.field("line_no").type),
    "line_nullable": records.schema.field("line_no").nullable,
    "months": sorted({str(m) for m in records.column("month").to_pylist()}),
    "mismatches": mismatches,
    "jcl": catalog.load_table("etr.records").scan(row_filter="contributor == 'JCL'").to_arrow().num_rows,
    "abc": catalog.load_table("etr.records").scan(row_filter="contributor == 'ABC'").to_arrow().num_rows,
    "rich": catalog.load_table("etr.records").scan(row_filter="outstanding_balance > 1000").to_arrow().num_rows,
    "rich_counted": sum(1 for v in records.column("outstanding_balance").to_pylist() if v is not None and v > 1000),
    # Each data file's bounds on money, as the manifests say them, against the values it holds.
    "money_bounds_wrong": sum(
        1 for m in catalog.load_table("etr.records").inspect.files().column("readable_metrics").to_pylist()
        if (b := m["outstanding_balance"]) is not None and b["upper_bound"] is not None
        and b["upper_bound"] != max(v for v in records.column("outstanding_balance").to_pylist() if v is not None)
    ),
}))
"#;
    let out = Command::new(&python).arg("-c").arg(script).arg(lake_dir).arg(output).output().unwrap();
    assert!(out.status.success(), "pyiceberg failed: {}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Two contributors' months of the same file.
    assert_eq!(seen["records"], 2 * accepted, "{seen}");
    assert_eq!((seen["jcl"].as_u64(), seen["abc"].as_u64()), (Some(accepted), Some(accepted)), "{seen}");
    assert_eq!(seen["rich"], seen["rich_counted"], "a filter on money skips no file it needs: {seen}");
    assert!(seen["rich"].as_u64().unwrap() > 0, "{seen}");
    assert_eq!(seen["money_bounds_wrong"], 0, "no file states a money bound it does not hold: {seen}");
    // A line rejected for several reasons has a row for each.
    assert_eq!(seen["rejects"], 2 * seen["engine_rejects"].as_u64().unwrap(), "{seen}");
    assert!(seen["rejects"].as_u64().unwrap() >= rejected, "{seen}");
    assert_eq!(seen["runs"], 3, "{seen}");
    assert_eq!(seen["replaced"], serde_json::json!([["run-1", null], ["run-2", "run-1"], ["run-3", null]]), "{seen}");
    assert_eq!(seen["money_type"], "decimal128(18, 2)", "{seen}");
    assert_eq!(seen["line_type"], "int64", "{seen}");
    assert_eq!(seen["line_nullable"], false, "{seen}");
    assert_eq!(seen["months"], serde_json::json!(["2025-06-01"]), "{seen}");
    assert_eq!(seen["mismatches"], 0, "{seen}");
}
