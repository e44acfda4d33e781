//! `etr serve`'s ingestion, in process, over real TCP: every answer of the HTTP API (tokens, sizes,
//! names, empty and cut-off uploads, runs read by their owner only, the portal), the same file
//! uploaded twice at once, and the landing-folder watcher's completeness rule (a matching file
//! taken and moved, a stranger's file refused with its reason, hidden and `.part` files left alone,
//! a growing file not taken until it settles).

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::TestCompiler;
use etr_ledger::{RunState, Source};
use etr_platform::watch::{Taken, Watcher};
use etr_platform::{EngineSettings, Platform};
use etr_testkit::http::{self, Response};
use serde_json::Value;

const JCL_TOKEN: &str = "jcl-secret-token";
const ACME_TOKEN: &str = "acme-secret-token";

/// A platform of two contributors with tokens (JCL and ACME, both on the JCL spec), `settle`
/// seconds for the landing folder, uploads up to `max_upload_bytes`.
async fn platform(dir: &Path, settle: u64, max_upload_bytes: u64) -> Arc<Platform> {
    let spec = etr_tests::workspace_root().join("contributors/jcl.etr");
    let text = format!(
        "contributors:\n\
         \x20 JCL:\n    spec: {spec}\n    files: \"JCL_{{YYYY}}{{MM}}*.psv\"\n    token: {{ env: JCL_TOKEN }}\n\
         \x20 ACME:\n    spec: {spec}\n    files: \"ACME_{{YYYY}}{{MM}}.psv\"\n    token: {{ env: ACME_TOKEN }}\n\
         worker:\n  settle_seconds: {settle}\n",
        spec = spec.display()
    );
    let env = |name: &str| match name {
        "JCL_TOKEN" => Some(JCL_TOKEN.to_owned()),
        "ACME_TOKEN" => Some(ACME_TOKEN.to_owned()),
        _ => None,
    };
    let mut workspace = etr_platform::config::parse(&text, "etr.yaml", dir, &env).unwrap();
    workspace.http.max_upload_bytes = max_upload_bytes;
    let settings = EngineSettings { threads: 1, ..EngineSettings::default() };
    Arc::new(Platform::open(workspace, Arc::new(TestCompiler), settings).await.unwrap())
}

/// Serves the platform's routes on a loopback port of the system's choosing.
async fn listen(platform: Arc<Platform>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, etr_platform::http::router(platform)).await });
    address
}

fn sample() -> Vec<u8> {
    std::fs::read(etr_tests::workspace_root().join("tests/corpus/w1/jcl_1k/input.psv")).unwrap()
}

/// One request, off the async threads (the client blocks).
async fn call(address: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Response {
    let (method, path, body) = (method.to_owned(), path.to_owned(), body.to_vec());
    let authorization = token.map(|t| format!("Bearer {t}"));
    tokio::task::spawn_blocking(move || {
        let headers: Vec<(&str, &str)> = authorization.iter().map(|a| ("Authorization", a.as_str())).collect();
        http::request(address, &method, &path, &headers, &body).unwrap()
    })
    .await
    .unwrap()
}

fn json(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap_or_else(|e| panic!("{e}: {}", response.text()))
}

/// The status, and the error message of an error answer (which must be JSON).
fn error_of(response: &Response) -> (u16, String) {
    let body = json(response);
    let message = body["error"].as_str().unwrap_or_else(|| panic!("no error message: {body}")).to_owned();
    assert!(body.get("detail").is_some(), "an error has a detail (maybe null): {body}");
    (response.status, message)
}

fn temporary_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("archive/tmp")).map_or(0, |entries| entries.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_answered_and_refused_with_clear_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path(), 0, 1 << 30).await;
    let address = listen(platform.clone()).await;
    let file = sample();

    // Who may upload.
    let none = call(address, "PUT", "/v1/files/JCL/JCL_202506.psv", None, &file).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    assert!(error_of(&none).1.contains("Authorization"), "{}", none.text());
    let wrong = call(address, "PUT", "/v1/files/JCL/JCL_202506.psv", Some("not-a-token"), &file).await;
    assert_eq!(error_of(&wrong).0, 401);
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    let other = call(address, "PUT", "/v1/files/JCL/JCL_202506.psv", Some(ACME_TOKEN), &file).await;
    assert_eq!(error_of(&other), (403, "this token is ACME's; it cannot act for JCL".to_owned()));
    let unknown = call(address, "PUT", "/v1/files/NOPE/JCL_202506.psv", Some(JCL_TOKEN), &file).await;
    assert_eq!(error_of(&unknown).0, 404);

    // Which names and contents.
    for name in ["ACME_202506.psv", "..", ".JCL_202506.psv", "JCL_2025.psv", "..%2FJCL_202506.psv"] {
        let answer = call(address, "PUT", &format!("/v1/files/JCL/{name}"), Some(JCL_TOKEN), &file).await;
        assert_eq!(error_of(&answer).0, 422, "{name}: {}", answer.text());
    }
    let empty = call(address, "PUT", "/v1/files/JCL/JCL_202506.psv", Some(JCL_TOKEN), b"").await;
    assert_eq!(error_of(&empty), (422, "the file is empty; nothing was recorded".to_owned()));
    assert!(platform.runs(None).await.unwrap().is_empty(), "nothing refused is recorded");

    // Received: the answer, then the run as its owner reads it.
    let created = call(address, "PUT", "/v1/files/JCL/JCL_202506.psv", Some(JCL_TOKEN), &file).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let body = json(&created);
    assert_eq!(body["run"], "run-000001");
    assert_eq!(body["contributor"], "JCL");
    assert_eq!(body["file"], "JCL_202506.psv");
    assert_eq!(body["size"], file.len() as u64);
    assert_eq!(body["month"], "2025-06");
    assert_eq!(body["state"], "received");
    assert_eq!(body["links"]["run"], "/v1/runs/run-000001");
    let sha256 = body["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha256.len(), 64);
    assert_eq!(created.header("location"), Some("/v1/runs/run-000001"));
    let run = platform.ledger.get("run-000001".parse().unwrap()).await.unwrap();
    assert_eq!((run.source, run.content_hash.as_str()), (Source::Api, sha256.as_str()));

    platform.drain("test").await.unwrap();
    let read = call(address, "GET", "/v1/runs/run-000001", Some(JCL_TOKEN), b"").await;
    assert_eq!(read.status, 200, "{}", read.text());
    let run = json(&read);
    assert_eq!(run["state"], "published", "{run}");
    assert_eq!(run["outcome"]["accepted"], 980);
    assert_eq!(run["settled"], true);
    assert!(run["received_at"].as_str().unwrap().ends_with('Z'), "RFC 3339 in UTC: {run}");
    assert!(chrono::DateTime::parse_from_rfc3339(run["finished_at"].as_str().unwrap()).is_ok());

    // Runs are their contributor's to read.
    assert_eq!(error_of(&call(address, "GET", "/v1/runs/run-000001", Some(ACME_TOKEN), b"").await).0, 403);
    assert_eq!(error_of(&call(address, "GET", "/v1/runs/run-000001", None, b"").await).0, 401);
    assert_eq!(error_of(&call(address, "GET", "/v1/runs/run-000099", Some(JCL_TOKEN), b"").await).0, 404);
    assert_eq!(error_of(&call(address, "GET", "/v1/runs/42", Some(JCL_TOKEN), b"").await).0, 400);
    let listed = call(address, "GET", "/v1/runs?month=2025-06&state=published", Some(JCL_TOKEN), b"").await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(json(&listed)["runs"].as_array().unwrap().len(), 1);
    let acme = call(address, "GET", "/v1/runs", Some(ACME_TOKEN), b"").await;
    assert_eq!(json(&acme)["runs"].as_array().unwrap().len(), 0, "ACME sees only its own runs");
    let july = call(address, "GET", "/v1/runs?contributor=JCL&month=2025-07", Some(JCL_TOKEN), b"").await;
    assert_eq!(json(&july)["runs"].as_array().unwrap().len(), 0);
    for query in ["month=2025-13", "month=June", "state=done", "limit=0", "colour=blue"] {
        let answer = call(address, "GET", &format!("/v1/runs?{query}"), Some(JCL_TOKEN), b"").await;
        assert_eq!(error_of(&answer).0, 400, "{query}");
    }
    let theirs = call(address, "GET", "/v1/runs?contributor=JCL", Some(ACME_TOKEN), b"").await;
    assert_eq!(error_of(&theirs).0, 403);

    // The portal and the rest.
    let portal = call(address, "GET", "/portal", None, b"").await;
    assert_eq!(portal.status, 200);
    assert!(portal.text().contains("<option value=\"ACME\">ACME</option>") && portal.text().contains("type=file"));
    let page = call(address, "GET", &format!("/portal/runs/run-000001?sha256={sha256}"), None, b"").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<td>published</td>") && page.text().contains("<td>980</td>"), "{}", page.text());
    assert!(!page.text().contains("http-equiv=refresh"), "a settled run's page stays still");
    let guessed = call(address, "GET", "/portal/runs/run-000001?sha256=00", None, b"").await;
    assert_eq!(guessed.status, 404, "a run's page needs its file's hash");
    assert_eq!(json(&call(address, "GET", "/healthz", None, b"").await)["status"], "ok");
    assert_eq!(error_of(&call(address, "GET", "/v2/nothing", None, b"").await).0, 404);
    assert_eq!(error_of(&call(address, "POST", "/v1/runs", Some(JCL_TOKEN), b"").await).0, 405);
    assert_eq!(temporary_files(dir.path()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_page_escapes_what_it_shows_and_refreshes_until_settled() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path(), 0, 1 << 30).await;
    let address = listen(platform.clone()).await;
    // `*` in the pattern takes any text: a name with markup in it.
    let name = "JCL_202506<i>&\"'.psv";
    let created = call(address, "PUT", "/v1/files/JCL/JCL_202506%3Ci%3E%26%22%27.psv", Some(JCL_TOKEN), b"H|x\n").await;
    assert_eq!(created.status, 201, "{}", created.text());
    let body = json(&created);
    assert_eq!(body["file"], name);
    let path = format!("/portal/runs/{}?sha256={}", body["run"].as_str().unwrap(), body["sha256"].as_str().unwrap());
    let page = call(address, "GET", &path, None, b"").await.text();
    assert!(page.contains("JCL_202506&lt;i&gt;&amp;&quot;&#39;.psv") && !page.contains("<i>"), "{page}");
    assert!(page.contains("<meta http-equiv=refresh"), "an unsettled run's page refreshes: {page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large_and_cut_off_uploads_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path(), 0, 64).await;
    let address = listen(platform.clone()).await;
    let path = "/v1/files/JCL/JCL_202506.psv";
    let auth = format!("Bearer {JCL_TOKEN}");

    // Refused on its declared length, before a byte of the body is read.
    let declared = call(address, "PUT", path, Some(JCL_TOKEN), &[b'x'; 65]).await;
    assert_eq!(error_of(&declared).0, 413);
    // No length up front (chunked): refused while streaming, once past the limit.
    let streamed = tokio::task::spawn_blocking(move || {
        let body = http::chunked(&[[b'x'; 40].as_slice(), [b'x'; 40].as_slice()]);
        let headers = [("Authorization", auth.as_str()), ("Transfer-Encoding", "chunked")];
        http::request(address, "PUT", path, &headers, &body).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(error_of(&streamed).0, 413, "{}", streamed.text());

    // A body shorter than its Content-Length, the client then gone: nothing is recorded.
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {JCL_TOKEN}\r\nContent-Length: 60\r\n\r\nH|half a fi"
    );
    tokio::task::spawn_blocking(move || http::exchange(address, head.as_bytes(), true)).await.unwrap().unwrap();
    // The server notices the closed connection on its own time.
    for _ in 0..50 {
        if temporary_files(dir.path()) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(temporary_files(dir.path()), 0, "a cut-off upload's temporary file is removed");
    assert!(platform.runs(None).await.unwrap().is_empty());

    // Within the limit: taken.
    let small = call(address, "PUT", path, Some(JCL_TOKEN), b"H|small\n").await;
    assert_eq!(small.status, 201, "{}", small.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_file_uploaded_twice_at_once_is_loaded_once() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path(), 0, 1 << 30).await;
    let address = listen(platform.clone()).await;
    let file = sample();
    let (first, second) = tokio::join!(
        call(address, "PUT", "/v1/files/JCL/JCL_202506.psv", Some(JCL_TOKEN), &file),
        call(address, "PUT", "/v1/files/JCL/JCL_202506.psv", Some(JCL_TOKEN), &file),
    );
    assert_eq!((first.status, second.status), (201, 201), "{} {}", first.text(), second.text());
    let (first, second) = (json(&first), json(&second));
    assert_ne!(first["run"], second["run"], "two uploads, two runs");
    assert_eq!(first["sha256"], second["sha256"]);
    platform.drain("test").await.unwrap();
    let mut states: Vec<RunState> = platform.runs(Some("JCL")).await.unwrap().iter().map(|r| r.state).collect();
    states.sort_by_key(|s| s.as_str());
    assert_eq!(states, vec![RunState::Duplicate, RunState::Published]);
    assert_eq!(platform.lake.runs_in(etr_lake::TableName::Records).await.unwrap().len(), 1);
}

fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_landing_folder_takes_settled_files_and_moves_every_file_it_takes() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path(), 0, 1 << 30).await;
    let mut watcher = Watcher::new(platform.clone());
    assert!(watcher.poll().await.unwrap().is_empty());
    let jcl = dir.path().join("landing/JCL");
    assert!(jcl.is_dir() && dir.path().join("landing/ACME").is_dir(), "each contributor's folder is created");

    std::fs::write(jcl.join("JCL_202506.psv"), sample()).unwrap();
    std::fs::write(jcl.join("ACME_202506.psv"), b"H|wrong folder\n").unwrap();
    std::fs::write(jcl.join("JCL_202507_empty.psv"), b"").unwrap();
    std::fs::write(jcl.join(".JCL_202508.psv"), b"H|hidden\n").unwrap();
    std::fs::write(jcl.join("JCL_202509.psv.part"), b"H|half").unwrap();

    // First sight: nothing is taken (a file must look the same at two polls).
    assert!(watcher.poll().await.unwrap().is_empty());
    let mut taken = watcher.poll().await.unwrap();
    taken.sort_by_key(|t| format!("{t:?}"));
    assert_eq!(taken.len(), 3, "{taken:?}");
    let runs = platform.runs(Some("JCL")).await.unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!((run.file_name.as_str(), run.source), ("JCL_202506.psv", Source::Folder));
    assert!(taken.contains(&Taken::Received {
        contributor: "JCL".into(),
        run: run.id,
        to: jcl.join("received").join(format!("{}-JCL_202506.psv", run.id)),
    }));
    assert_eq!(names_in(&jcl.join("received")), vec![format!("{}-JCL_202506.psv", run.id)]);
    assert_eq!(
        names_in(&jcl.join("refused")),
        vec![
            "ACME_202506.psv",
            "ACME_202506.psv.reason.txt",
            "JCL_202507_empty.psv",
            "JCL_202507_empty.psv.reason.txt"
        ]
    );
    let reason = std::fs::read_to_string(jcl.join("refused/ACME_202506.psv.reason.txt")).unwrap();
    assert!(reason.contains("does not match the pattern `JCL_{YYYY}{MM}*.psv`"), "{reason}");
    assert!(std::fs::read_to_string(jcl.join("refused/JCL_202507_empty.psv.reason.txt")).unwrap().contains("empty"));
    assert_eq!(std::fs::read(jcl.join("refused/ACME_202506.psv")).unwrap(), b"H|wrong folder\n", "nothing is lost");
    // Hidden and temporary files are left alone, however long they stay; nothing is left aside.
    assert_eq!(names_in(&jcl), vec![".JCL_202508.psv", ".taking", "JCL_202509.psv.part", "received", "refused"]);
    assert!(names_in(&jcl.join(".taking")).is_empty(), "every file taken ended received or refused");

    // The safe client pattern: `.part`, then a rename, and the file is taken.
    std::fs::rename(jcl.join("JCL_202509.psv.part"), jcl.join("JCL_202509.psv")).unwrap();
    watcher.poll().await.unwrap();
    assert!(matches!(watcher.poll().await.unwrap().as_slice(), [Taken::Received { .. }]));
    // A second refused file of the same name does not replace the first.
    std::fs::write(jcl.join("ACME_202506.psv"), b"H|again\n").unwrap();
    watcher.poll().await.unwrap();
    watcher.poll().await.unwrap();
    assert_eq!(std::fs::read(jcl.join("refused/ACME_202506.psv.1")).unwrap(), b"H|again\n");
    assert!(jcl.join("refused/ACME_202506.psv.1.reason.txt").is_file());

    platform.drain("test").await.unwrap();
    let states: Vec<RunState> = platform.runs(Some("JCL")).await.unwrap().iter().map(|r| r.state).collect();
    assert!(states.contains(&RunState::Published), "{states:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landing_file_still_growing_is_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path(), 1, 1 << 30).await;
    let mut watcher = Watcher::new(platform.clone());
    watcher.poll().await.unwrap();
    let path = dir.path().join("landing/JCL/JCL_202506.psv");
    let file = sample();
    let (head, tail) = file.split_at(file.len() / 2);
    std::fs::write(&path, head).unwrap();
    assert!(watcher.poll().await.unwrap().is_empty());
    // Written in place and still growing: changed since the last poll, so not taken, however long
    // ago it was first seen.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(tail).unwrap();
    assert!(watcher.poll().await.unwrap().is_empty());
    assert!(path.exists());
    // Unchanged for a poll but not yet for `settle_seconds`: still not taken.
    assert!(watcher.poll().await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let taken = watcher.poll().await.unwrap();
    assert!(matches!(taken.as_slice(), [Taken::Received { .. }]), "{taken:?}");
    let run = &platform.runs(Some("JCL")).await.unwrap()[0];
    assert_eq!(run.size_bytes, file.len() as u64, "the whole file, not the half first seen");
}

/// A file a watcher set aside and never finished with (its process died) is taken over by another
/// watcher once it has lain in `.taking/` long enough, under the name it arrived with; before
/// that, it is left to its watcher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_left_aside_by_a_dead_watcher_is_taken_over_once_stale() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path(), 0, 1 << 30).await;
    let jcl = dir.path().join("landing/JCL");
    std::fs::create_dir_all(jcl.join(".taking")).unwrap();
    let aside = jcl.join(".taking/4242-1-0--JCL_202510.psv");
    std::fs::write(&aside, sample()).unwrap();

    let mut patient = Watcher::new(platform.clone());
    assert!(patient.poll().await.unwrap().is_empty(), "not stale yet: its watcher may still be at it");
    assert!(aside.is_file());

    let mut taking_over = Watcher::new(platform.clone()).taking_over_after(Duration::ZERO);
    let taken = taking_over.poll().await.unwrap();
    let [Taken::Received { run, to, .. }] = taken.as_slice() else { panic!("{taken:?}") };
    assert_eq!(to, &jcl.join(format!("received/{run}-JCL_202510.psv")));
    assert_eq!(std::fs::read(to).unwrap(), sample(), "the file as it arrived");
    assert!(names_in(&jcl.join(".taking")).is_empty());
    assert_eq!(platform.ledger.get(*run).await.unwrap().file_name, "JCL_202510.psv");
}
