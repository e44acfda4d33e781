//! A file's way through the platform, in process, on the embedded default (SQLite ledger, SQL
//! catalog on SQLite, local warehouse): received, run, published; the same content again a
//! duplicate; a corrected file of the month superseding the first in the ledger and the lake; a
//! fatal file refused; names and empty files refused before anything is recorded.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::TestCompiler;
use etr_ledger::{RunState, Source};
use etr_platform::{EngineSettings, IntakeError, Platform};

fn workspace(dir: &Path) -> etr_platform::Workspace {
    let spec = etr_tests::workspace_root().join("contributors/jcl.etr");
    let text = format!("contributors:\n  JCL:\n    spec: {}\n    files: \"JCL_{{YYYY}}{{MM}}*.psv\"\n", spec.display());
    std::fs::write(dir.join("etr.yaml"), text).unwrap();
    etr_platform::config::load(dir).unwrap()
}

fn sample() -> String {
    std::fs::read_to_string(etr_tests::workspace_root().join("tests/corpus/w1/jcl_1k/input.psv")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_received_run_published_and_superseded_once() {
    let dir = tempfile::tempdir().unwrap();
    let settings = EngineSettings { threads: 1, ..EngineSettings::default() };
    let platform = Platform::open(workspace(dir.path()), Arc::new(TestCompiler), settings).await.unwrap();
    let drop_zone = dir.path().join("incoming");
    std::fs::create_dir_all(&drop_zone).unwrap();
    let write = |name: &str, text: &str| {
        let path = drop_zone.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };

    // Refused at the door: nothing is recorded.
    let wrong = write("ACME_202506.psv", &sample());
    assert!(matches!(platform.receive_path("JCL", &wrong, Source::Cli).await, Err(IntakeError::BadName { .. })));
    assert!(matches!(
        platform.receive_path("NOPE", &wrong, Source::Cli).await,
        Err(IntakeError::UnknownContributor(_))
    ));
    let empty = write("JCL_202506_empty.psv", "");
    assert!(matches!(platform.receive_path("JCL", &empty, Source::Cli).await, Err(IntakeError::Empty)));
    assert!(platform.runs(None).await.unwrap().is_empty());

    // The first file of June: published, 980 records in the lake.
    let first = platform.receive_path("JCL", &write("JCL_202506.psv", &sample()), Source::Cli).await.unwrap();
    assert_eq!(first.state, RunState::Received);
    let done = platform.drain("test").await.unwrap();
    assert_eq!(done.len(), 1);
    let run = platform.ledger.get(first.id).await.unwrap();
    assert_eq!(run.state, RunState::Published, "{:?}", run.detail);
    assert_eq!(run.outcome.as_ref().map(|o| o.accepted), Some(980));
    assert_eq!(platform.lake.runs_in(etr_lake::TableName::Records).await.unwrap(), vec![first.id.to_string()]);
    assert!(wrong.exists(), "a received file is never removed by the platform");

    // The same bytes under another name: a duplicate, not loaded again.
    let again = platform.receive_path("JCL", &write("JCL_202506_resent.psv", &sample()), Source::Cli).await.unwrap();
    platform.drain("test").await.unwrap();
    let run = platform.ledger.get(again.id).await.unwrap();
    assert_eq!((run.state, run.duplicate_of), (RunState::Duplicate, Some(first.id)));

    // A corrected file of the month: published, the first superseded, the lake holds only it.
    let corrected_text = sample().replacen("SITI BINTI HASSAN", "SITI BINTI HASAN", 1);
    let corrected =
        platform.receive_path("JCL", &write("JCL_202506_v2.psv", &corrected_text), Source::Cli).await.unwrap();
    platform.drain("test").await.unwrap();
    assert_eq!(platform.ledger.get(corrected.id).await.unwrap().state, RunState::Published);
    let old = platform.ledger.get(first.id).await.unwrap();
    assert_eq!((old.state, old.superseded_by), (RunState::Superseded, Some(corrected.id)));
    assert_eq!(platform.lake.runs_in(etr_lake::TableName::Records).await.unwrap(), vec![corrected.id.to_string()]);

    // A file whose trailer does not count its lines is fatal: refused, the lake unchanged.
    let broken = sample().replace("T|1000|", "T|999|");
    let fatal = platform.receive_path("JCL", &write("JCL_202507.psv", &broken), Source::Cli).await.unwrap();
    platform.drain("test").await.unwrap();
    let run = platform.ledger.get(fatal.id).await.unwrap();
    assert_eq!(run.state, RunState::Refused);
    assert_eq!(
        run.detail.as_deref(),
        Some("F2: the trailer's record count differs from the data lines (observed 1000)"),
        "the rule's own words"
    );
    assert_eq!(platform.lake.runs_in(etr_lake::TableName::Records).await.unwrap(), vec![corrected.id.to_string()]);
}

/// The pipelined worker (the engine of one run while the lake publishes the one before) ends every
/// run as the one-at-a-time worker does: a month's newer file supersedes the older one whatever
/// the overlap, a duplicate waits for its first copy and is marked so, a fatal file is refused, and
/// the lake holds exactly the published runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipelined_worker_ends_every_run_as_the_serial_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let settings = EngineSettings { threads: 1, ..EngineSettings::default() };
    let platform = Platform::open(workspace(dir.path()), Arc::new(TestCompiler), settings).await.unwrap();
    let drop_zone = dir.path().join("incoming");
    std::fs::create_dir_all(&drop_zone).unwrap();
    let receive = |name: &str, text: String| {
        let path = drop_zone.join(name);
        std::fs::write(&path, text).unwrap();
        let platform = &platform;
        async move { platform.receive_path("JCL", &path, Source::Cli).await.unwrap().id }
    };
    let june = receive("JCL_202506.psv", sample()).await;
    let june_again = receive("JCL_202506_resent.psv", sample()).await;
    let june_corrected =
        receive("JCL_202506_v2.psv", sample().replacen("SITI BINTI HASSAN", "SITI BINTI HASAN", 1)).await;
    let july = receive("JCL_202507.psv", sample().replace("T|1000|", "T|999|")).await;
    let august = receive("JCL_202508.psv", sample().replacen("SITI BINTI HASSAN", "SITI BINTI HASANAH", 1)).await;

    let done = platform.drain_pipelined("test").await.unwrap();
    let mut ended: Vec<_> = done.iter().map(|p| p.run).collect();
    ended.sort();
    assert_eq!(ended, vec![june, june_again, june_corrected, july, august], "each run ended once: {done:?}");
    let state = |id| {
        let platform = &platform;
        async move { platform.ledger.get(id).await.unwrap() }
    };
    assert_eq!(state(june).await.state, RunState::Superseded);
    let resent = state(june_again).await;
    assert_eq!((resent.state, resent.duplicate_of), (RunState::Duplicate, Some(june)));
    assert_eq!(state(june_corrected).await.state, RunState::Published);
    assert_eq!(state(july).await.state, RunState::Refused);
    assert_eq!(state(august).await.state, RunState::Published);
    let mut in_lake = platform.lake.runs_in(etr_lake::TableName::Records).await.unwrap();
    in_lake.sort();
    let mut expected = vec![june_corrected.to_string(), august.to_string()];
    expected.sort();
    assert_eq!(in_lake, expected);
    assert!(platform.drain_pipelined("test").await.unwrap().is_empty(), "nothing left to do");

    // A copy that can be claimed only once its first copy has settled, and nothing else to do
    // meanwhile: the worker asks again after the publication instead of stopping.
    let september_text = sample().replacen("SITI BINTI HASSAN", "SITI BINTI HASSAN AL", 1);
    let september = receive("JCL_202509.psv", september_text.clone()).await;
    let september_again = receive("JCL_202509_resent.psv", september_text).await;
    let done = platform.drain_pipelined("test").await.unwrap();
    assert_eq!(done.iter().map(|p| p.run).collect::<Vec<_>>(), vec![september, september_again], "{done:?}");
    assert_eq!(state(september).await.state, RunState::Published);
    assert_eq!(state(september_again).await.state, RunState::Duplicate);
}
