//! Many workers, one queue: every run is claimed exactly once, whether the workers share a
//! ledger instance (and its pool), have instances of their own (as processes on other machines
//! would), or are processes on one SQLite file; and a worker that vanishes mid-lease loses its
//! run to another once the lease expires.
//!
//! "Exactly once" is checked three ways: the workers' own records of what they claimed, every
//! run's attempt count, and the audit trail (one `received -> running` event per run).

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use etr_ledger::{Filter, Ledger, RunId, RunState};

use crate::support::{LONG_LEASE, TestDb, file, on_both_backends, outcome};

on_both_backends!(workers_on_shared_and_separate_ledgers_claim_every_run_once, a_vanished_worker_s_run_is_reclaimed);

/// How many runs the queue holds for the concurrency tests.
const RUNS: usize = 200;

/// Receives `count` runs, each its own contributor-month (no run supersedes another, so the
/// publications do not wait for each other).
async fn fill_queue(ledger: &Ledger, count: usize) -> BTreeSet<RunId> {
    let mut ids = BTreeSet::new();
    for n in 0..count {
        let contributor = format!("C{:02}", n % 50);
        let month = format!("20{:02}-{:02}", 10 + n / 600, 1 + (n / 50) % 12);
        ids.insert(ledger.receive(&file(&contributor, &format!("file-{n}.psv"), Some(&month))).await.unwrap().id);
    }
    ids
}

/// Claims and publishes until every run of the ledger is published; returns the runs it claimed.
async fn work(ledger: Ledger, worker: String, total: usize) -> Vec<RunId> {
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut claimed = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "{worker}: the queue did not drain in time");
        match ledger.claim(&worker, LONG_LEASE).await.unwrap() {
            Some(lease) => {
                claimed.push(lease.run_id());
                ledger.publish(&lease, &outcome(10)).await.unwrap();
            }
            // Nothing claimable now; other workers may still hold runs (or, on PostgreSQL, locks
            // this claim skipped), so stop only once everything is published.
            None if published(&ledger).await == total => return claimed,
            None => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

async fn published(ledger: &Ledger) -> usize {
    ledger.list(&Filter { state: Some(RunState::Published), ..Filter::default() }).await.unwrap().len()
}

/// Checks that the claims recorded by the workers, and the ledger, say each run was claimed once.
async fn assert_claimed_once(ledger: &Ledger, expected: &BTreeSet<RunId>, by_worker: &[Vec<RunId>]) {
    let all: Vec<RunId> = by_worker.iter().flatten().copied().collect();
    let distinct: BTreeSet<RunId> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a run was claimed twice");
    assert_eq!(&distinct, expected, "every run was claimed");
    for id in expected {
        let run = ledger.get(*id).await.unwrap();
        assert_eq!((run.state, run.attempts), (RunState::Published, 1), "{id}");
        let claims = ledger.events(*id).await.unwrap().iter().filter(|event| event.to == RunState::Running).count();
        assert_eq!(claims, 1, "{id}: claims in the audit trail");
    }
}

/// Four workers: two share one ledger instance (one pool, separate connections), the other
/// two have an instance each, as separate processes would.
async fn workers_on_shared_and_separate_ledgers_claim_every_run_once(db: &TestDb) {
    let shared = db.open().await;
    let expected = fill_queue(&shared, RUNS).await;
    let instances = [shared.clone(), shared, db.open().await, db.open().await];
    let started = Instant::now();
    let workers: Vec<_> = instances
        .into_iter()
        .enumerate()
        .map(|(n, ledger)| tokio::spawn(work(ledger, format!("worker-{n}"), RUNS)))
        .collect();
    let mut by_worker = Vec::new();
    for worker in workers {
        by_worker.push(worker.await.expect("a worker panicked"));
    }
    let shares: Vec<usize> = by_worker.iter().map(Vec::len).collect();
    eprintln!("{RUNS} runs claimed and published in {:?}, by worker: {shares:?}", started.elapsed());
    assert_claimed_once(&db.open().await, &expected, &by_worker).await;
}

/// A worker claims a run and disappears (its task aborted, its ledger dropped, as a killed
/// process's would be): the run waits out the lease, then another worker takes and finishes it.
async fn a_vanished_worker_s_run_is_reclaimed(db: &TestDb) {
    let ledger = db.open().await;
    let run = ledger.receive(&file("ACME", "orphan.psv", Some("2026-11"))).await.unwrap();
    let (claimed_tx, claimed_rx) = tokio::sync::oneshot::channel();
    let vanishing = {
        let ledger = db.open().await;
        tokio::spawn(async move {
            let lease = ledger.claim("vanishing", Duration::from_millis(300)).await.unwrap().unwrap();
            claimed_tx.send(lease.run_id()).unwrap();
            // Holds the lease and never finishes: it is aborted here.
            std::future::pending::<()>().await;
        })
    };
    assert_eq!(claimed_rx.await.unwrap(), run.id);
    vanishing.abort();
    assert!(vanishing.await.unwrap_err().is_cancelled());

    assert!(ledger.claim("survivor", LONG_LEASE).await.unwrap().is_none(), "the lease is still live");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let lease = ledger.claim("survivor", LONG_LEASE).await.unwrap().expect("the orphaned run");
    assert_eq!((lease.run_id(), lease.attempt()), (run.id, 2));
    ledger.publish(&lease, &outcome(3)).await.unwrap();
    let events = ledger.events(run.id).await.unwrap();
    let workers: Vec<Option<&str>> = events.iter().map(|event| event.worker.as_deref()).collect();
    assert_eq!(workers, [None, Some("vanishing"), Some("survivor"), Some("survivor")]);
}

/// The variable that makes [`worker_process`] a worker, naming the ledger's URL.
const WORKER_LEDGER: &str = "ETR_LEDGER_TEST_WORKER_LEDGER";
/// Its worker name.
const WORKER_NAME: &str = "ETR_LEDGER_TEST_WORKER_NAME";
/// How many runs it waits to see published.
const WORKER_TOTAL: &str = "ETR_LEDGER_TEST_WORKER_TOTAL";

/// Two processes on one SQLite file: this test binary, run again twice as workers, each
/// printing the ids it claimed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_on_one_sqlite_file_claim_every_run_once() {
    const RUNS: usize = 100;
    let db = TestDb::sqlite();
    let ledger = db.open().await;
    let expected = fill_queue(&ledger, RUNS).await;
    let test_binary = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|n| {
            Command::new(&test_binary)
                .args(["--exact", "concurrency::worker_process", "--nocapture", "--test-threads=1"])
                .env(WORKER_LEDGER, &db.url)
                .env(WORKER_NAME, format!("process-{n}"))
                .env(WORKER_TOTAL, RUNS.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the test binary runs again")
        })
        .collect();
    let mut by_worker = Vec::new();
    for child in children {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "a worker process failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // The harness may have written the test's name on the line before the first of ours.
        let claimed: Vec<RunId> =
            stdout.lines().filter_map(|line| line.split_once("claimed ").map(|(_, id)| id.parse().unwrap())).collect();
        by_worker.push(claimed);
    }
    let shares: Vec<usize> = by_worker.iter().map(Vec::len).collect();
    eprintln!("{RUNS} runs, by process: {shares:?}");
    assert_claimed_once(&ledger, &expected, &by_worker).await;
}

/// Not a test of its own: the entry point of the worker processes that
/// [`processes_on_one_sqlite_file_claim_every_run_once`] starts. Run by the harness without the
/// variables, it returns at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_process() {
    let Ok(url) = std::env::var(WORKER_LEDGER) else { return };
    let worker = std::env::var(WORKER_NAME).expect("a worker name");
    let total: usize = std::env::var(WORKER_TOTAL).expect("a total").parse().expect("a number");
    let ledger = Ledger::open(&url).await.unwrap();
    for id in work(ledger, worker, total).await {
        println!("claimed {id}");
    }
}
