//! `etr serve` end to end: the real binary on a temporary workspace and a loopback port, a file
//! uploaded over HTTP and a corrected file of the same month dropped into the landing folder (the
//! way an SFTP client that renames does it); the runs read over HTTP until settled, then the ledger
//! and the lake read directly after a graceful stop, and by pyiceberg through the same catalog. Two
//! `etr serve` processes on one PostgreSQL ledger and catalog, sharing a queue of files uploaded to
//! both and dropped into the folder both watch: every file run once. And a workspace file with an
//! unknown key: no start, the line named.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use etr_testkit::http;
use serde_json::Value;

const TOKEN: &str = "e2e-token-of-jcl";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample() -> String {
    std::fs::read_to_string(repo().join("tests/corpus/w1/jcl_1k/input.psv")).unwrap()
}

/// A workspace of one contributor (JCL, its token from the environment), listening on a port of
/// the system's choosing, landing files complete after one unchanged second.
fn workspace(dir: &Path, extra: &str) {
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::copy(repo().join("contributors/jcl.etr"), dir.join("specs/jcl.etr")).unwrap();
    let text = format!(
        "contributors:\n  JCL:\n    spec: specs/jcl.etr\n    files: \"JCL_{{YYYY}}{{MM}}*.psv\"\n    \
         token: {{ env: ETR_E2E_TOKEN }}\nhttp:\n  listen: 127.0.0.1:0\nworker:\n  settle_seconds: 1\n{extra}"
    );
    std::fs::write(dir.join("etr.yaml"), text).unwrap();
}

/// A running `etr serve`, its stderr collected; killed if the test ends without stopping it.
struct Server {
    child: Child,
    address: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[])
    }

    /// Starts `etr serve` with `env` added to its environment (the ledger's URL, say).
    fn start_with(dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_etr"))
            .args(["--workspace", dir.to_str().unwrap(), "serve", "--workers", "2"])
            .env("ETR_E2E_TOKEN", TOKEN)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("etr serve starts");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (found, address) = mpsc::channel();
        let lines = log.clone();
        // Read stderr to its end, always: a full pipe would stop the server.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.strip_prefix("etr serve: listening on http://") {
                    let _ = found.send(at.parse::<SocketAddr>().unwrap());
                }
                lines.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let Ok(address) = address.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("etr serve did not start:\n{}", log.lock().unwrap());
        };
        Server { child, address, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, then its exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on the child's own pid, which this test started and has not reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn get(server: &Server, path: &str) -> Value {
    let answer =
        http::request(server.address, "GET", path, &[("Authorization", &format!("Bearer {TOKEN}"))], b"").unwrap();
    assert_eq!(answer.status, 200, "{path}: {}", answer.text());
    serde_json::from_slice(&answer.body).unwrap()
}

/// Polls `path` until `done` holds of its answer (two minutes at most: a cold engine on a busy
/// machine).
fn wait_for(server: &Server, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let answer = get(server, path);
        if done(&answer) {
            return answer;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{path} never got there: {answer}\n{}", server.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn files_uploaded_and_dropped_reach_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), "");
    let mut server = Server::start(dir.path());

    let upload = http::request(
        server.address,
        "PUT",
        "/v1/files/JCL/JCL_202506.psv",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        sample().as_bytes(),
    )
    .unwrap();
    assert_eq!(upload.status, 201, "{}", upload.text());
    let created: Value = serde_json::from_slice(&upload.body).unwrap();
    assert_eq!(created["run"], "run-000001");
    let first = wait_for(&server, "/v1/runs/run-000001", |run| run["settled"] == true);
    assert_eq!(first["state"], "published", "{first}\n{}", server.log());
    assert_eq!(first["outcome"]["accepted"], 980);

    // The corrected file of the month, the safe SFTP way: written as `.part`, then renamed.
    let landing = dir.path().join("landing/JCL");
    let corrected = sample().replacen("SITI BINTI HASSAN", "SITI BINTI HASAN", 1);
    std::fs::write(landing.join("JCL_202506_v2.psv.part"), &corrected).unwrap();
    std::fs::rename(landing.join("JCL_202506_v2.psv.part"), landing.join("JCL_202506_v2.psv")).unwrap();
    let listed = wait_for(&server, "/v1/runs?month=2025-06&state=published", |list| {
        list["runs"].as_array().is_some_and(|runs| runs.iter().any(|r| r["file"] == "JCL_202506_v2.psv"))
    });
    assert_eq!(listed["runs"][0]["run"], "run-000002", "{listed}");
    assert_eq!(listed["runs"][0]["source"], "folder");
    let old = get(&server, "/v1/runs/run-000001");
    assert_eq!((old["state"].as_str(), old["superseded_by"].as_str()), (Some("superseded"), Some("run-000002")));
    assert!(landing.join("received/run-000002-JCL_202506_v2.psv").is_file());
    assert!(!landing.join("JCL_202506_v2.psv").exists());

    let status = server.stop();
    let log = server.log();
    assert!(status.success(), "{status}\n{log}");
    for line in [
        "etr serve: received run-000001 JCL JCL_202506.psv",
        "etr serve: run-000001 published",
        "etr serve: received run-000002 JCL JCL_202506_v2.psv",
        "etr serve: run-000002 published",
        "etr serve: stopped",
    ] {
        assert!(log.contains(line), "no `{line}` in the log:\n{log}");
    }

    // After the stop, the ledger and the lake as any reader sees them.
    let text = std::fs::read_to_string(dir.path().join("etr.yaml")).unwrap();
    let env = |name: &str| (name == "ETR_E2E_TOKEN").then(|| TOKEN.to_owned());
    let workspace = etr_platform::config::parse(&text, "etr.yaml", dir.path(), &env).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let ledger = etr_ledger::Ledger::open(&workspace.ledger.url()).await.unwrap();
        let filter = etr_ledger::Filter { contributor: None, month: None, state: None, limit: None };
        let mut states: Vec<(String, String)> =
            ledger.list(&filter).await.unwrap().iter().map(|r| (r.id.to_string(), r.state.to_string())).collect();
        states.sort();
        assert_eq!(states, vec![("run-000001".into(), "superseded".into()), ("run-000002".into(), "published".into())]);
        let lake = etr_lake::Lake::open(&workspace.lake).await.unwrap();
        assert_eq!(lake.runs_in(etr_lake::TableName::Records).await.unwrap(), vec!["run-000002".to_owned()]);
    });
    independent_reader_agrees(dir.path());
}

/// pyiceberg, through the workspace's SQLite catalog, reads what `etr serve` published: the
/// corrected file's records only (the names of its engine output), each with its run and month, as
/// many as its summary accepted; its rejects as many as the engine's rejects file; a runs row for each published run, the second
/// naming the first as the run it replaced.
fn independent_reader_agrees(ws: &Path) {
    let Some(python) = etr_testkit::ci::require(etr_testkit::python::with_modules("pyiceberg")) else { return };
    let script = r#"
import sys, json
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
ws = sys.argv[1]
catalog = SqlCatalog("etr", uri=f"sqlite:///{ws}/state/catalog.db", warehouse=f"file://{ws}/warehouse")
records = catalog.load_table("etr.records").scan().to_arrow()
rejects = catalog.load_table("etr.rejects").scan().to_arrow()
runs = catalog.load_table("etr.runs").scan().to_arrow()
summary = json.load(open(f"{ws}/state/runs/run-000002/summary.json"))
engine = pq.read_table(f"{ws}/state/runs/run-000002/accepted.parquet")
names = records.column("subject_name").to_pylist()
print(json.dumps({
    "records": records.num_rows, "accepted": summary["accepted"],
    "record_runs": sorted(set(records.column("run_id").to_pylist())),
    "months": sorted({str(m) for m in records.column("month").to_pylist()}),
    "corrected": "SITI BINTI HASAN" in names,
    "same_names": sorted(n or "" for n in names) == sorted(n or "" for n in engine.column("subject_name").to_pylist()),
    "rejects": rejects.num_rows, "engine_rejects": pq.read_table(f"{ws}/state/runs/run-000002/rejects.parquet").num_rows,
    "runs": sorted((r["run_id"], r["replaced_run_id"]) for r in runs.select(["run_id", "replaced_run_id"]).to_pylist()),
}))
"#;
    let out = Command::new(&python).arg("-c").arg(script).arg(ws).output().unwrap();
    assert!(out.status.success(), "pyiceberg failed: {}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["records"], seen["accepted"], "{seen}");
    assert_eq!(seen["record_runs"], serde_json::json!(["run-000002"]), "{seen}");
    assert_eq!(seen["months"], serde_json::json!(["2025-06-01"]), "{seen}");
    assert_eq!((seen["corrected"].as_bool(), seen["same_names"].as_bool()), (Some(true), Some(true)), "{seen}");
    assert_eq!(seen["rejects"], seen["engine_rejects"], "{seen}");
    assert_eq!(seen["runs"], serde_json::json!([["run-000001", null], ["run-000002", "run-000001"]]), "{seen}");
}

/// Two `etr serve` processes, one PostgreSQL database for the ledger and the lake's catalog, one
/// warehouse and landing folder: twelve months of JCL, four uploaded to each server and four
/// dropped into the folder both watch. Every file ends published once: one run each, one
/// `published` event each, each run published by one server, and the lake holding each month once
/// with the run's accepted count.
#[test]
fn two_servers_on_one_postgresql_ledger_run_every_file_once() {
    let Some(cluster) = etr_testkit::postgres::Cluster::shared_or_skip() else { return };
    let ledger_url = cluster.fresh_database("serve_ledger").unwrap();
    let catalog_url = cluster.fresh_database("serve_catalog").unwrap();
    let dir = tempfile::tempdir().unwrap();
    workspace(
        dir.path(),
        "ledger: { postgres: { env: ETR_E2E_LEDGER } }\nlake:\n  catalog: { sql: { env: ETR_E2E_CATALOG } }\n",
    );
    let env = [("ETR_E2E_LEDGER", ledger_url.as_str()), ("ETR_E2E_CATALOG", catalog_url.as_str())];
    let servers = [Server::start_with(dir.path(), &env), Server::start_with(dir.path(), &env)];

    // Each month's file differs from the others (one name changed), so none is a duplicate.
    let file = |month: usize| sample().replacen("SITI BINTI HASSAN", &format!("SITI BINTI HASSAN {month}"), 1);
    for month in 1..=8 {
        let server = &servers[month % 2];
        let answer = http::request(
            server.address,
            "PUT",
            &format!("/v1/files/JCL/JCL_2025{month:02}.psv"),
            &[("Authorization", &format!("Bearer {TOKEN}"))],
            file(month).as_bytes(),
        )
        .unwrap();
        assert_eq!(answer.status, 201, "{}", answer.text());
    }
    let landing = dir.path().join("landing/JCL");
    for month in 9..=12 {
        let name = format!("JCL_2025{month:02}.psv");
        std::fs::write(landing.join(format!("{name}.part")), file(month)).unwrap();
        std::fs::rename(landing.join(format!("{name}.part")), landing.join(&name)).unwrap();
    }
    let listed = wait_for(&servers[0], "/v1/runs?state=published", |list| {
        list["runs"].as_array().is_some_and(|runs| runs.len() == 12)
    });
    let mut servers = servers;
    for server in &mut servers {
        let status = server.stop();
        assert!(status.success(), "{status}\n{}", server.log());
    }
    let all = get_all_runs(&listed);
    assert_eq!(all.len(), 12, "{listed}");

    // Each run published by exactly one of the servers.
    let logs: Vec<String> = servers.iter().map(Server::log).collect();
    for run in &all {
        let line = format!("etr serve: {run} published");
        let by: Vec<usize> = (0..2).filter(|&i| logs[i].contains(&line)).collect();
        assert_eq!(by.len(), 1, "{run} published by servers {by:?}:\n{}\n---\n{}", logs[0], logs[1]);
    }

    let text = std::fs::read_to_string(dir.path().join("etr.yaml")).unwrap();
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned());
    let lookup = |name: &str| if name == "ETR_E2E_TOKEN" { Some(TOKEN.to_owned()) } else { lookup(name) };
    let workspace = etr_platform::config::parse(&text, "etr.yaml", dir.path(), &lookup).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let ledger = etr_ledger::Ledger::open(&workspace.ledger.url()).await.unwrap();
        let filter = etr_ledger::Filter { contributor: None, month: None, state: None, limit: None };
        let runs = ledger.list(&filter).await.unwrap();
        assert_eq!(runs.len(), 12, "one run per file: {runs:?}");
        let lake = etr_lake::Lake::open(&workspace.lake).await.unwrap();
        let files = lake.files_in(etr_lake::TableName::Records).await.unwrap();
        assert_eq!(files.len(), 12, "one records file per month: {files:?}");
        for run in &runs {
            assert_eq!(run.state.to_string(), "published", "{run:?}");
            if run.attempts > 1 {
                // Allowed (a platform failure is retried), but worth seeing when it happens.
                let events = ledger.events(run.id).await.unwrap();
                eprintln!("{} took {} attempts: {events:?}", run.id, run.attempts);
            }
            let published =
                ledger.events(run.id).await.unwrap().iter().filter(|e| e.to == etr_ledger::RunState::Published).count();
            assert_eq!(published, 1, "{}: {published} `published` events", run.id);
            let accepted = run.outcome.as_ref().map(|o| o.accepted).unwrap();
            let rows: Vec<i64> =
                files.iter().filter(|f| f.run_id.as_deref() == Some(&run.id.to_string())).map(|f| f.rows).collect();
            assert_eq!(rows, vec![accepted as i64], "{}", run.id);
        }
    });
}

/// The run ids of a `GET /v1/runs` answer.
fn get_all_runs(list: &Value) -> Vec<String> {
    list["runs"].as_array().unwrap().iter().map(|r| r["run"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_workspace_with_an_unknown_key_is_not_served() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), "colour: blue\n");
    let output = Command::new(env!("CARGO_BIN_EXE_etr"))
        .args(["--workspace", dir.path().to_str().unwrap(), "serve"])
        .env("ETR_E2E_TOKEN", TOKEN)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("colour"), "{stderr}");
    // The unknown key is on line 10 of the file.
    assert!(stderr.contains("etr.yaml:10:"), "the line is named: {stderr}");
    assert!(stderr.contains("nothing was started"), "{stderr}");
}
