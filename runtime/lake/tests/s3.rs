//! The lake with its warehouse in an S3 bucket, against a real S3 API server: moto's, started on
//! a loopback port for the test (the catalog stays SQLite). JCL's sample month is published,
//! replaced by a newer file of the month, and read back by the lake (`runs_in`, `files_in`) and
//! by pyiceberg through the same catalog and the bucket.
//!
//! moto and pyiceberg come from the Python that `.ci/run` installs (`target/test-python`, or
//! `ETR_TEST_PYTHON`); without it the test is skipped with the reason, except under CI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

mod support;

use etr_lake::{CatalogConfig, Lake, LakeConfig, RecordField, S3Config, TableName, Warehouse};
use etr_runtime::pipeline::{RunConfig, run};
use etr_testkit::s3::{ACCESS_KEY_ID, S3Server, SECRET_ACCESS_KEY};
use support::request;

const BUCKET: &str = "etr-lake";
const KEY: &str = ACCESS_KEY_ID;
const SECRET: &str = SECRET_ACCESS_KEY;

/// Runs JCL's spec over the committed sample (with its header's creation time changed for a
/// second file of the month) into `dir/name`.
fn engine_output(dir: &Path, name: &str, created: &str) -> (PathBuf, etr_runtime::output::Summary) {
    let sample = etr_tests::workspace_root().join("tests/corpus/w1/jcl_1k/input.psv");
    let text = std::fs::read_to_string(sample).unwrap().replacen("2025-06-28T02:00:00", created, 1);
    let input = dir.join(format!("{name}.psv"));
    std::fs::write(&input, text).unwrap();
    let out = dir.join(name);
    let config = RunConfig { threads: 1, as_of: Some(20_000), ..RunConfig::default() };
    let summary = run(Arc::new(etr_tests::jcl_program()), &input, &out, &config).unwrap();
    (out, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_published_to_an_s3_bucket_is_read_back_by_the_lake_and_pyiceberg() {
    let Some(python) = etr_testkit::ci::require(etr_testkit::python::with_modules("pyiceberg, moto.server, boto3"))
    else {
        return;
    };
    let moto = S3Server::start(&python);
    moto.create_bucket(BUCKET);

    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.db");
    let config = LakeConfig {
        catalog: CatalogConfig::Sql { url: format!("sqlite:{}?mode=rwc", catalog.display()) },
        warehouse: Warehouse::S3(S3Config {
            bucket: BUCKET.into(),
            prefix: "lake".into(),
            region: "us-east-1".into(),
            endpoint: Some(moto.endpoint.clone()),
            access_key_id: KEY.into(),
            secret_access_key: SECRET.into(),
            allow_http: true,
        }),
        catalog_name: "etr".into(),
        namespace: "etr".into(),
    };
    let lake = Lake::open(&config).await.unwrap();
    lake.ensure_tables(&RecordField::of_record(&etr_tests::jcl_program().record)).await.unwrap();

    let (first_out, first) = engine_output(dir.path(), "first", "2025-06-28T02:00:00");
    let published = lake.publish(&request("run-1", 1, &first_out, &first)).await.unwrap();
    assert_eq!(published.committed, vec![TableName::Records, TableName::Rejects, TableName::Runs]);
    assert_eq!(lake.runs_in(TableName::Records).await.unwrap(), vec!["run-1"]);
    let again = lake.publish(&request("run-1", 1, &first_out, &first)).await.unwrap();
    assert!(again.committed.is_empty(), "published twice: {again:?}");

    // A newer file of the month replaces it in one overwrite, in the bucket as on a disk.
    let (second_out, second) = engine_output(dir.path(), "second", "2025-06-29T09:30:00");
    let replaced = lake.publish(&request("run-2", 2, &second_out, &second)).await.unwrap();
    assert_eq!(replaced.replaced_runs, vec!["run-1"]);
    assert_eq!(lake.runs_in(TableName::Records).await.unwrap(), vec!["run-2"]);
    let files = lake.files_in(TableName::Records).await.unwrap();
    assert_eq!(files.iter().map(|f| f.rows).sum::<i64>(), second.accepted as i64);
    assert!(files.iter().all(|f| f.path.starts_with(&format!("s3://{BUCKET}/lake/etr/records/data/"))), "{files:?}");

    // pyiceberg reads the same tables: the catalog's SQLite file, the bucket through moto.
    let script = r#"
import sys, json
from pyiceberg.catalog.sql import SqlCatalog
catalog_db, endpoint, key, secret = sys.argv[1:5]
catalog = SqlCatalog("etr", **{
    "uri": f"sqlite:///{catalog_db}",
    "s3.endpoint": endpoint, "s3.access-key-id": key, "s3.secret-access-key": secret, "s3.region": "us-east-1",
})
records = catalog.load_table("etr.records").scan().to_arrow()
runs = catalog.load_table("etr.runs").scan().to_arrow()
print(json.dumps({
    "records": records.num_rows,
    "record_runs": sorted(set(records.column("run_id").to_pylist())),
    "runs": sorted(runs.column("run_id").to_pylist()),
}))
"#;
    let read = Command::new(&python)
        .args(["-c", script])
        .arg(&catalog)
        .args([moto.endpoint.as_str(), KEY, SECRET])
        .output()
        .unwrap();
    assert!(read.status.success(), "pyiceberg failed: {}", String::from_utf8_lossy(&read.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(seen["records"], second.accepted, "{seen}");
    assert_eq!(seen["record_runs"], serde_json::json!(["run-2"]), "{seen}");
    assert_eq!(seen["runs"], serde_json::json!(["run-1", "run-2"]), "{seen}");
    drop(moto);
}
