//! The landing bucket against a real S3 API server (moto's, started by the test): objects that a
//! contributor puts are received once by one of two watchers polling at the same moment, refused
//! with a reason beside them when their name or content is not a file, passed over while hidden,
//! temporary or nested; a version overwritten is received again, a dead watcher's claim is taken
//! over once stale and not before, and no object of the contributor's is ever deleted.
//!
//! moto comes from the Python that `.ci/run` installs (`target/test-python`, or `ETR_TEST_PYTHON`);
//! without it the test is skipped with the reason, except under CI.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::TestCompiler;
use etr_ledger::{RunState, Source};
use etr_platform::bucket::{BucketTaken, BucketWatcher};
use etr_platform::{EngineSettings, Platform};
use etr_testkit::s3::{ACCESS_KEY_ID, REGION, S3Server, SECRET_ACCESS_KEY};
use futures::TryStreamExt as _;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};

const BUCKET: &str = "etr-landing";

/// A workspace whose `bucket_key` (`landing_bucket` or `archive_bucket`) is BUCKET under `prefix`.
fn workspace(dir: &Path, endpoint: &str, bucket_key: &str, prefix: &str) -> etr_platform::Workspace {
    let spec = etr_tests::workspace_root().join("contributors/jcl.etr");
    let text = format!(
        "contributors:\n  JCL:\n    spec: {}\n    files: \"JCL_{{YYYY}}{{MM}}*.psv\"\n\
         {bucket_key}:\n  bucket: {BUCKET}\n  prefix: {prefix}\n  region: {REGION}\n  endpoint: {endpoint}\n  \
         allow_http: true\n  access_key_id: {{ env: TEST_KEY }}\n  secret_access_key: {{ env: TEST_SECRET }}\n",
        spec.display()
    );
    let env = |name: &str| match name {
        "TEST_KEY" => Some(ACCESS_KEY_ID.to_owned()),
        "TEST_SECRET" => Some(SECRET_ACCESS_KEY.to_owned()),
        _ => None,
    };
    etr_platform::config::parse(&text, "etr.yaml", dir, &env).unwrap()
}

fn sample() -> String {
    std::fs::read_to_string(etr_tests::workspace_root().join("tests/corpus/w1/jcl_1k/input.psv")).unwrap()
}

/// The names of the objects received (`true`) or refused (`false`), sorted.
fn names(taken: &[BucketTaken], received: bool) -> Vec<&str> {
    let mut names: Vec<&str> = taken
        .iter()
        .filter_map(|t| match t {
            BucketTaken::Received { name, .. } if received => Some(name.as_str()),
            BucketTaken::Refused { name, .. } if !received => Some(name.as_str()),
            _ => None,
        })
        .collect();
    names.sort();
    names
}

fn received(taken: &[BucketTaken]) -> Vec<&str> {
    names(taken, true)
}

fn refused(taken: &[BucketTaken]) -> Vec<&str> {
    names(taken, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_put_in_the_landing_bucket_are_received_once_and_never_deleted() {
    let Some(python) = etr_testkit::ci::require(etr_testkit::python::with_modules("moto.server, boto3")) else {
        return;
    };
    let server = S3Server::start(&python);
    server.create_bucket(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let workspace = workspace(dir.path(), &server.endpoint, "landing_bucket", "landing");
    let bucket = workspace.landing_bucket.clone().expect("the workspace names a landing bucket");
    let store = bucket.client().unwrap();
    let put = |name: &str, text: String| {
        let store = &store;
        let key = Key::from(format!("landing/JCL/{name}"));
        async move { store.put(&key, PutPayload::from(text)).await.unwrap() }
    };

    let settings = EngineSettings { threads: 1, ..EngineSettings::default() };
    let platform = Arc::new(Platform::open(workspace, Arc::new(TestCompiler), settings).await.unwrap());
    let one = BucketWatcher::new(platform.clone(), &bucket).unwrap();
    let other = BucketWatcher::new(platform.clone(), &bucket).unwrap();

    put("JCL_202506.psv", sample()).await;
    put("ACME_202506.psv", sample()).await;
    put("JCL_202507.psv", String::new()).await;
    put("JCL_202508.psv.part", sample()).await;
    put(".JCL_202508.psv", sample()).await;
    put("sub/JCL_202509.psv", sample()).await;

    // Two watchers at once: each version taken by exactly one of them.
    let (a, b) = tokio::join!(one.poll(), other.poll());
    let taken: Vec<BucketTaken> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(received(&taken), vec!["JCL_202506.psv"], "{taken:?}");
    assert_eq!(refused(&taken), vec!["ACME_202506.psv", "JCL_202507.psv"], "{taken:?}");
    let reason = taken
        .iter()
        .find_map(|t| match t {
            BucketTaken::Refused { name, reason, .. } if name == "ACME_202506.psv" => Some(reason.clone()),
            _ => None,
        })
        .unwrap();
    assert!(reason.contains("does not match the pattern"), "{reason}");

    // Taken versions are not taken again.
    assert!(one.poll().await.unwrap().is_empty());
    assert!(other.poll().await.unwrap().is_empty());

    let runs = platform.runs(None).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let first = &runs[0];
    assert_eq!((first.source, first.file_name.as_str()), (Source::Bucket, "JCL_202506.psv"));
    assert_eq!(first.size_bytes, sample().len() as u64);
    platform.drain("test").await.unwrap();
    let run = platform.ledger.get(first.id).await.unwrap();
    assert_eq!(run.state, RunState::Published, "{:?}", run.detail);
    assert_eq!(run.outcome.as_ref().map(|o| o.accepted), Some(980));

    // The sender overwrites the key with a corrected file: a new version, received, published,
    // and the first superseded.
    put("JCL_202506.psv", sample().replacen("SITI BINTI HASSAN", "SITI BINTI HASAN", 1)).await;
    let taken = one.poll().await.unwrap();
    assert_eq!(received(&taken), vec!["JCL_202506.psv"], "{taken:?}");
    platform.drain("test").await.unwrap();
    let runs = platform.runs(None).await.unwrap();
    let states: Vec<RunState> = runs.iter().map(|r| r.state).collect();
    assert_eq!(runs.len(), 2);
    assert!(states.contains(&RunState::Published) && states.contains(&RunState::Superseded), "{states:?}");

    // A claim left by a watcher that died: not taken while fresh, taken over once stale.
    let written = put("JCL_202510.psv", sample().replace("|202506|", "|202510|")).await;
    let tag = written.e_tag.unwrap().trim_matches('"').to_owned();
    let claim = Key::from(format!("landing/.etr/taking/JCL/JCL_202510.psv/{tag}"));
    store.put(&claim, PutPayload::from("taking by a watcher that died\n")).await.unwrap();
    assert!(one.poll().await.unwrap().is_empty(), "a fresh claim is another watcher's");
    let impatient = BucketWatcher::new(platform.clone(), &bucket).unwrap().taking_over_after(Duration::ZERO);
    let taken = impatient.poll().await.unwrap();
    assert_eq!(received(&taken), vec!["JCL_202510.psv"], "{taken:?}");
    assert!(impatient.poll().await.unwrap().is_empty(), "taken over once");
    assert_eq!(platform.runs(None).await.unwrap().len(), 3);

    // Nothing of the contributor's was deleted; the reasons lie beside its files.
    let mut left: Vec<String> = store
        .list(Some(&Key::from("landing/JCL")))
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap();
    left.sort();
    let reasons: Vec<&String> = left.iter().filter(|k| k.contains("/refused/")).collect();
    assert_eq!(reasons.len(), 2, "{left:?}");
    assert!(reasons.iter().all(|k| k.ends_with(".reason.txt")), "{reasons:?}");
    for name in ["JCL_202506.psv", "ACME_202506.psv", "JCL_202507.psv", "JCL_202508.psv.part", ".JCL_202508.psv"] {
        assert!(left.contains(&format!("landing/JCL/{name}")), "{name} is gone: {left:?}");
    }
    let runs = platform.runs(None).await.unwrap();
    assert!(runs.iter().all(|r| r.file_name != "JCL_202509.psv" && r.file_name != "JCL_202508.psv.part"), "{runs:?}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_is_copied_to_its_bucket_and_a_worker_without_the_file_fetches_and_checks_it() {
    let Some(python) = etr_testkit::ci::require(etr_testkit::python::with_modules("moto.server, boto3")) else {
        return;
    };
    let server = S3Server::start(&python);
    server.create_bucket(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let workspace = workspace(dir.path(), &server.endpoint, "archive_bucket", "archive");
    let store = workspace.archive_bucket.clone().expect("the workspace names an archive bucket").client().unwrap();
    let settings = EngineSettings { threads: 1, ..EngineSettings::default() };
    let platform = Platform::open(workspace, Arc::new(TestCompiler), settings).await.unwrap();
    let incoming = dir.path().join("incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    let receive = |name: &str, text: String| {
        let path = incoming.join(name);
        std::fs::write(&path, text).unwrap();
        let platform = &platform;
        async move { platform.receive_path("JCL", &path, Source::Cli).await.unwrap() }
    };

    // Received: in the bucket, under the archive's key, before anything runs.
    let june = receive("JCL_202506.psv", sample()).await;
    let copy = store.get(&Key::from(format!("archive/{}", june.archive_key))).await.unwrap().bytes().await.unwrap();
    assert_eq!(&copy[..], sample().as_bytes());

    // The worker's machine has no copy of its own (another server received the file): it fetches
    // the file from the bucket and runs it.
    std::fs::remove_file(platform.archive.path_of(&june.archive_key)).unwrap();
    platform.drain("test").await.unwrap();
    let run = platform.ledger.get(june.id).await.unwrap();
    assert_eq!(run.state, RunState::Published, "{:?}", run.detail);
    assert!(platform.archive.path_of(&june.archive_key).is_file(), "fetched into the archive folder");

    // Bytes in the bucket that are not what their name hashes to are never run.
    let july = receive("JCL_202507.psv", sample().replacen("SITI BINTI HASSAN", "SITI BINTI HASAN", 1)).await;
    store.put(&Key::from(format!("archive/{}", july.archive_key)), PutPayload::from(sample())).await.unwrap();
    std::fs::remove_file(platform.archive.path_of(&july.archive_key)).unwrap();
    platform.drain("test").await.unwrap();
    let run = platform.ledger.get(july.id).await.unwrap();
    assert_eq!(run.state, RunState::Failed, "{run:?}");
    let detail = run.detail.unwrap_or_default();
    assert!(detail.contains("holds other bytes than its name says"), "{detail}");
    assert_eq!(platform.lake.runs_in(etr_lake::TableName::Records).await.unwrap(), vec![june.id.to_string()]);
    drop(server);
}
