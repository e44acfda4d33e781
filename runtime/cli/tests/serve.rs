//! `etr serve` end to end: the real binary on a temporary workspace and a loopback port, a file
//! uploaded over HTTP and a corrected file of the same month dropped into the landing folder (the
//! way an SFTP client that renames does it); the runs read over HTTP until settled, then the ledger
//! and the lake read directly after a graceful stop. And a workspace file with an unknown key: no
//! start, the line named.

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
        let mut child = Command::new(env!("CARGO_BIN_EXE_etr"))
            .args(["--workspace", dir.to_str().unwrap(), "serve", "--workers", "2"])
            .env("ETR_E2E_TOKEN", TOKEN)
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
