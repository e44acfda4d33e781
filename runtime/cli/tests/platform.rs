//! The platform's commands end to end, through the `etr` binary (issue 17, "Acceptance"):
//! `etr init --sample`, `etr ingest` with each of its exit codes, `etr runs`, `etr replay`; and
//! `etr ingest` killed with SIGKILL at random points of its run, then re-run as an operator would,
//! after which the ledger, the lake and the archive must agree (`docs/platform.md`, "Crash safety").
//!
//! The ledger and the lake are read directly (`etr-ledger`, `etr-lake`), not through `etr runs`, so
//! the checks do not depend on what the CLI chooses to print.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use etr_lake::{Lake, LakeConfig, TableName, Warehouse};
use etr_ledger::{Filter, Ledger, Run, RunState};

#[path = "support/platform_cli.rs"]
mod platform_cli;
use platform_cli::{etr, shown, text};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample() -> String {
    std::fs::read_to_string(root().join("tests/corpus/w1/jcl_1k/input.psv")).expect("the committed sample")
}

fn ingest(workspace: &Path, files: &[PathBuf]) -> Output {
    etr(workspace).args(["ingest", "--contributor", "JCL"]).args(files).output().expect("etr runs")
}

#[test]
fn init_ingest_runs_and_replay_tell_each_outcome_by_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");

    let init = etr(&ws).arg("init").arg(&ws).arg("--sample").output().unwrap();
    assert_eq!(init.status.code(), Some(0), "{}", shown(&init));
    let stdout = text(&init.stdout);
    assert!(stdout.contains("the lake's tables:") && stdout.contains("state/catalog.db"), "{stdout}");
    assert!(stdout.contains(&format!("their files: {}", ws.join("warehouse").display())), "{stdout}");
    assert!(stdout.contains("run-000001 published: 1000 lines, 980 accepted, 20 rejected"), "{stdout}");

    // The same file again: received (the ledger keeps every arrival), and a duplicate.
    let again = ingest(&ws, &[ws.join("samples/JCL_202506.psv")]);
    assert_eq!(again.status.code(), Some(0), "{}", shown(&again));
    assert!(text(&again.stdout).contains("run-000002 duplicate: the same content as run-000001"), "{}", shown(&again));

    // A broken trailer: the spec's fatal rule F2 refuses the file, which is exit 4.
    let broken = dir.path().join("JCL_202507.psv");
    let sample = sample();
    assert!(sample.contains("\nT|1000|"));
    std::fs::write(&broken, sample.replace("\nT|1000|", "\nT|999|")).unwrap();
    let fatal = ingest(&ws, std::slice::from_ref(&broken));
    assert_eq!(fatal.status.code(), Some(4), "{}", shown(&fatal));
    assert!(text(&fatal.stdout).contains("run-000003 refused: F2: the trailer's record count"), "{}", shown(&fatal));

    // A name the contributor does not send: refused at the door, nothing recorded, exit 3.
    let misnamed = dir.path().join("jcl-june.psv");
    std::fs::write(&misnamed, &sample).unwrap();
    let door = ingest(&ws, &[misnamed]);
    assert_eq!(door.status.code(), Some(3), "{}", shown(&door));
    assert!(text(&door.stderr).contains("does not match the pattern `JCL_{YYYY}{MM}*.psv`"), "{}", shown(&door));

    // A missing file is refused at the door too.
    let missing = ingest(&ws, &[dir.path().join("JCL_202508.psv")]);
    assert_eq!(missing.status.code(), Some(3), "{}", shown(&missing));

    // A typo in etr.yaml: exit 2, and the error names the key and its line.
    let typo = dir.path().join("typo");
    std::fs::create_dir_all(&typo).unwrap();
    let yaml = std::fs::read_to_string(ws.join("etr.yaml")).unwrap();
    let line = yaml.lines().count() + 1;
    std::fs::write(typo.join("etr.yaml"), format!("{yaml}colour: blue\n")).unwrap();
    let config = ingest(&typo, &[ws.join("samples/JCL_202506.psv")]);
    assert_eq!(config.status.code(), Some(2), "{}", shown(&config));
    let stderr = text(&config.stderr);
    assert!(stderr.contains("colour"), "{stderr}");
    assert!(stderr.contains(&format!(":{line}:")) || stderr.contains(&format!("line {line}")), "line {line}: {stderr}");

    // A replay runs the archived file again as a new run, never a duplicate, and supersedes.
    let replay = etr(&ws).args(["replay", "run-000001"]).output().unwrap();
    assert_eq!(replay.status.code(), Some(0), "{}", shown(&replay));
    assert!(text(&replay.stderr).contains("run-000001: replayed as run-000004"), "{}", shown(&replay));
    let runs = etr(&ws).arg("runs").output().unwrap();
    assert_eq!(runs.status.code(), Some(0), "{}", shown(&runs));
    let listed = text(&runs.stdout);
    let state_of = |id: &str| {
        listed.lines().find(|l| l.starts_with(id)).and_then(|l| l.split_whitespace().nth(1)).map(str::to_owned)
    };
    assert_eq!(state_of("run-000004").as_deref(), Some("published"), "{listed}");
    assert_eq!(state_of("run-000001").as_deref(), Some("superseded"), "{listed}");
    assert_eq!(state_of("run-000002").as_deref(), Some("duplicate"), "{listed}");
    assert_eq!(state_of("run-000003").as_deref(), Some("refused"), "{listed}");
    assert_eq!(listed.lines().count(), 4, "{listed}");

    // Unknown runs and bad ids.
    let unknown = etr(&ws).args(["replay", "run-000099"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(3), "{}", shown(&unknown));
    let bad = etr(&ws).args(["replay", "yesterday"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", shown(&bad));
}

/// The files of the crash test, in the order one `etr ingest` gets them: June, July, a corrected
/// June (the same lines, another creation time in the header: another file), and July again.
struct Workload {
    files: Vec<PathBuf>,
    /// The file each month must end with in the lake: the newest of the month.
    newest: BTreeMap<String, PathBuf>,
}

fn workload(dir: &Path) -> Workload {
    std::fs::create_dir_all(dir).unwrap();
    let june = sample();
    let july = june.replacen("H|JCL|202506|", "H|JCL|202507|", 1);
    let corrected = june.replacen("2025-06-28T02:00:00", "2025-06-29T09:30:00", 1);
    assert!(july != june && corrected != june);
    let write = |name: &str, content: &str| {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    let june = write("JCL_202506.psv", &june);
    let july = write("JCL_202507.psv", &july);
    let corrected = write("JCL_202506_v2.psv", &corrected);
    Workload {
        files: vec![june, july.clone(), corrected.clone(), july.clone()],
        newest: BTreeMap::from([("2025-06".to_owned(), corrected), ("2025-07".to_owned(), july)]),
    }
}

/// A workspace for JCL whose leases last a second, so a killed worker's runs come back quickly.
fn lease_workspace(dir: &Path) {
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::copy(root().join("contributors/jcl.etr"), dir.join("specs/jcl.etr")).unwrap();
    std::fs::write(
        dir.join("etr.yaml"),
        "contributors:\n  JCL:\n    spec: specs/jcl.etr\n    files: \"JCL_{YYYY}{MM}*.psv\"\nworker: { lease_seconds: 1 }\n",
    )
    .unwrap();
}

/// SHA-256 of a file, as the archive and the ledger name it (`sha256sum`, which every CI image has).
fn sha256(path: &Path) -> String {
    let output = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    text(&output.stdout).split_whitespace().next().expect("a digest").to_owned()
}

/// SplitMix64: a seeded, replayable sequence of delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Checks what must hold once every run has ended: returns a description of each violation.
async fn violations(ws: &Path, work: &Workload) -> Vec<String> {
    let mut wrong = Vec::new();
    let ledger = Ledger::open(&format!("sqlite:{}", ws.join("state/ledger.db").display())).await.unwrap();
    let runs: Vec<Run> = ledger.list(&Filter::default()).await.unwrap();
    let hashes: BTreeSet<String> = work.files.iter().map(|f| sha256(f)).collect();

    // Every run in exactly one terminal state; none failed (nothing in this workload fails).
    for run in &runs {
        if !run.is_settled() || run.state == RunState::Failed {
            wrong.push(format!("{} ended {} ({:?})", run.id, run.state.as_str(), run.detail));
        }
        if !hashes.contains(run.content_hash.as_str()) {
            wrong.push(format!("{} has content {} of no file sent", run.id, run.content_hash));
        }
    }
    // Every file sent has a run; the month's published run is its newest file.
    for file in &work.files {
        let hash = sha256(file);
        if !runs.iter().any(|r| r.content_hash.as_str() == hash) {
            wrong.push(format!("{} has no run", file.display()));
        }
    }
    let lake_dir = ws.join("state");
    let lake = Lake::open(&LakeConfig {
        warehouse: Warehouse::Local(ws.join("warehouse")),
        ..LakeConfig::embedded(&lake_dir)
    })
    .await
    .unwrap();
    let records = lake.files_in(TableName::Records).await.unwrap();
    let rejects = lake.files_in(TableName::Rejects).await.unwrap();
    let mut published = BTreeSet::new();
    for (month, newest) in &work.newest {
        let of_month: Vec<&Run> = runs
            .iter()
            .filter(|r| {
                r.state == RunState::Published && r.reporting_month.map(|m| m.to_string()) == Some(month.clone())
            })
            .collect();
        let [run] = of_month.as_slice() else {
            wrong.push(format!("{month}: {} published runs", of_month.len()));
            continue;
        };
        published.insert(run.id.to_string());
        if run.content_hash.as_str() != sha256(newest) {
            wrong.push(format!("{month}: {} published, not the newest file {}", run.id, newest.display()));
        }
        let id = run.id.to_string();
        let rows: i64 = records.iter().filter(|f| f.run_id.as_deref() == Some(id.as_str())).map(|f| f.rows).sum();
        let accepted = run.outcome.map(|o| o.accepted as i64);
        if Some(rows) != accepted {
            wrong.push(format!("{month}: {rows} rows of {} in records, accepted {accepted:?}", run.id));
        }
        // The engine's output of the run agrees with the lake and the ledger.
        let summary = std::fs::read_to_string(ws.join("state/runs").join(run.id.to_string()).join("summary.json"));
        match summary.ok().and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok()) {
            Some(summary) if summary["accepted"].as_i64() == Some(rows) => {}
            other => wrong.push(format!("{month}: the engine's summary of {} says {other:?}", run.id)),
        }
    }
    // The lake holds the published runs' files and nothing else: each month exactly once.
    for (table, files) in [("records", &records), ("rejects", &rejects)] {
        let live: BTreeSet<String> = files.iter().filter_map(|f| f.run_id.clone()).collect();
        if live != published || files.iter().any(|f| f.run_id.is_none()) {
            wrong.push(format!("{table} holds {live:?}, the ledger published {published:?}"));
        }
        if files.len() != published.len() {
            wrong.push(format!("{table} has {} files for {} runs", files.len(), published.len()));
        }
    }
    // The archive holds every file once, under its hash, and no half-received copy.
    let mut archived = BTreeSet::new();
    for shard in std::fs::read_dir(ws.join("archive/sha256")).unwrap() {
        for file in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if sha256(&path) != name {
                wrong.push(format!("the archive's {name} holds other bytes"));
            }
            archived.insert(name);
        }
    }
    if archived != hashes {
        wrong.push(format!("the archive holds {archived:?}, the files sent are {hashes:?}"));
    }
    let temporary = std::fs::read_dir(ws.join("archive/tmp")).map(|d| d.count()).unwrap_or(0);
    if temporary != 0 {
        wrong.push(format!("{temporary} temporary files in the archive"));
    }
    ledger.close().await;
    wrong
}

/// Issue 17's crash test: `etr ingest` of the workload, SIGKILLed after a random delay spread
/// over an uninterrupted ingest's duration, then re-run the way an operator would (the same
/// command, or `--resume` and the files not yet received), 20 times with a seeded generator
/// (`ETR_CRASH_SEED` replays a failure; `ETR_CRASH_TRIALS` runs more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_killed_at_random_points_and_run_again_ends_every_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let work = workload(&dir.path().join("files"));
    let seed: u64 = std::env::var("ETR_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(17);
    let trials: u64 = std::env::var("ETR_CRASH_TRIALS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let mut rng = Rng(seed);

    // An uninterrupted ingest: how long the kills may be spread over, and the end they must reach.
    let calm = dir.path().join("calm");
    lease_workspace(&calm);
    let started = Instant::now();
    let output = ingest(&calm, &work.files);
    let whole = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", shown(&output));
    let wrong = violations(&calm, &work).await;
    assert!(wrong.is_empty(), "uninterrupted: {wrong:#?}\n{}", shown(&output));

    let mut report = Vec::new();
    for trial in 0..trials {
        let ws = dir.path().join(format!("trial-{trial}"));
        lease_workspace(&ws);
        let delay = Duration::from_micros(rng.next() % (whole.as_micros() as u64).max(1));
        let by_resume = rng.next() % 2 == 1;
        let mut child = etr(&ws)
            .args(["ingest", "--contributor", "JCL"])
            .args(&work.files)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // SIGKILL: no handler runs, as when the machine loses power or the OOM killer strikes.
        let _ = child.kill();
        let killed = child.wait().unwrap();
        let finished = killed.code() == Some(0);

        // What an operator does next: the same command again; or, having looked at the ledger,
        // `--resume` then the files it does not have yet.
        let again = if by_resume {
            let resume = etr(&ws).args(["ingest", "--resume"]).output().unwrap();
            assert!(resume.status.success(), "trial {trial} (seed {seed}), --resume:\n{}", shown(&resume));
            let ledger = Ledger::open(&format!("sqlite:{}", ws.join("state/ledger.db").display())).await;
            let mut received: Vec<String> = match &ledger {
                Ok(ledger) => {
                    ledger.list(&Filter::default()).await.unwrap().iter().map(|r| r.content_hash.to_string()).collect()
                }
                Err(_) => Vec::new(),
            };
            if let Ok(ledger) = ledger {
                ledger.close().await;
            }
            // The files in command order, each copy matched against a run once.
            let mut missing = Vec::new();
            for file in &work.files {
                let hash = sha256(file);
                match received.iter().position(|h| *h == hash) {
                    Some(at) => {
                        received.remove(at);
                    }
                    None => missing.push(file.clone()),
                }
            }
            if missing.is_empty() { None } else { Some(ingest(&ws, &missing)) }
        } else {
            Some(ingest(&ws, &work.files))
        };
        if let Some(again) = &again {
            assert_eq!(again.status.code(), Some(0), "trial {trial} (seed {seed}), after the kill:\n{}", shown(again));
        }
        let wrong = violations(&ws, &work).await;
        assert!(
            wrong.is_empty(),
            "trial {trial} (seed {seed}), killed after {delay:?} of {whole:?}{}, then {}: {wrong:#?}",
            if finished { " (it had finished)" } else { "" },
            if by_resume { "--resume" } else { "the same ingest" }
        );
        report.push(format!(
            "{:.0}%{}",
            delay.as_secs_f64() * 100.0 / whole.as_secs_f64(),
            if finished { "*" } else { "" }
        ));
        std::fs::remove_dir_all(&ws).unwrap();
    }
    eprintln!("crash trials (seed {seed}; an uninterrupted ingest takes {whole:?}; kill points): {}", report.join(" "));
}
