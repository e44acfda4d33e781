//! Every transition of the state machine, on both backends, through the public API; and the
//! errors: fencing, unknown runs, bad input, bad URLs, unreachable databases, newer schemas.

use std::time::Duration;

use chrono::Utc;
use etr_ledger::{
    Backend, Filter, Ledger, LedgerError, LedgerOptions, Outcome, RetryPolicy, RunEvent, RunId, RunState,
    SCHEMA_VERSION,
};
use sqlx::Row;

use crate::support::{LONG_LEASE, TestDb, file, hash_of, month_of, on_both_backends, outcome};

on_both_backends!(
    a_run_is_received_claimed_and_published_with_its_trail,
    refused_and_duplicate_runs_end_there,
    a_publication_supersedes_the_last_one_of_its_contributor_and_month,
    an_older_file_published_after_a_newer_one_is_superseded_on_arrival,
    the_database_refuses_two_published_runs_for_one_month,
    an_expired_lease_is_reclaimed_and_the_old_one_is_fenced_off,
    a_lease_past_its_expiry_still_finishes_when_nobody_took_the_run,
    a_renewed_lease_keeps_other_workers_out,
    failures_back_off_exponentially_and_the_last_one_is_final,
    a_run_whose_leases_keep_expiring_is_abandoned,
    a_copy_waits_for_its_first_and_an_old_file_sent_again_is_a_duplicate,
    lists_filter_by_contributor_month_and_state_newest_first,
    unknown_runs_and_bad_input_are_errors_that_change_nothing,
    a_schema_newer_than_the_code_is_refused_and_an_older_one_is_kept,
);

/// The (from, to, worker) of each event.
fn trail(events: &[RunEvent]) -> Vec<(Option<RunState>, RunState, Option<&str>)> {
    events.iter().map(|event| (event.from, event.to, event.worker.as_deref())).collect()
}

async fn a_run_is_received_claimed_and_published_with_its_trail(db: &TestDb) {
    let ledger = db.open().await;
    let before = Utc::now() - chrono::Duration::seconds(5);
    let received = ledger.receive(&file("ACME", "acme-2026-11.psv", Some("2026-11"))).await.unwrap();
    assert_eq!(received.state, RunState::Received);
    assert_eq!((received.attempts, received.lease_owner.as_deref(), received.outcome), (0, None, None));
    assert_eq!(received.reporting_month, Some(month_of("2026-11")));
    assert_eq!(received.content_hash, hash_of("acme-2026-11.psv"));
    assert!(received.received_at > before && received.received_at < Utc::now() + chrono::Duration::seconds(5));
    assert!(!received.is_settled());
    assert_eq!(ledger.get(received.id).await.unwrap(), received);
    assert_eq!(received.id.to_string().parse::<RunId>().unwrap(), received.id);

    let lease = ledger.claim("worker-a", LONG_LEASE).await.unwrap().expect("a claimable run");
    assert_eq!((lease.run_id(), lease.worker(), lease.attempt()), (received.id, "worker-a", 1));
    let running = ledger.get(received.id).await.unwrap();
    assert_eq!((running.state, running.attempts), (RunState::Running, 1));
    assert_eq!(running.lease_owner.as_deref(), Some("worker-a"));
    assert_eq!(running.lease_expires_at, Some(lease.expires_at()));
    let lease_length = lease.expires_at() - running.updated_at;
    assert_eq!(lease_length, chrono::Duration::from_std(LONG_LEASE).unwrap());
    assert!(ledger.claim("worker-b", LONG_LEASE).await.unwrap().is_none(), "the only run is leased");

    let superseded = ledger.publish(&lease, &outcome(100)).await.unwrap();
    assert!(superseded.is_empty());
    let published = ledger.get(received.id).await.unwrap();
    assert_eq!(published.state, RunState::Published);
    assert_eq!(published.outcome, Some(Outcome { reporting_month: Some(month_of("2026-11")), ..outcome(100) }));
    assert_eq!((published.lease_owner.as_deref(), published.lease_expires_at), (None, None));
    assert!(published.finished_at.is_some() && published.is_settled());
    assert_eq!(ledger.published_for("ACME", month_of("2026-11")).await.unwrap(), Some(published.clone()));
    assert!(ledger.claim("worker-b", LONG_LEASE).await.unwrap().is_none(), "a published run is not claimable");

    let events = ledger.events(received.id).await.unwrap();
    assert_eq!(
        trail(&events),
        [
            (None, RunState::Received, None),
            (Some(RunState::Received), RunState::Running, Some("worker-a")),
            (Some(RunState::Running), RunState::Published, Some("worker-a")),
        ]
    );
    assert!(events.windows(2).all(|pair| pair[0].at <= pair[1].at), "{events:?}");
    assert_eq!(events[2].at, published.finished_at.unwrap());
    let detail = events[2].detail.as_deref().unwrap();
    assert!(detail.contains("100 lines") && detail.contains("lake snapshot 42"), "{detail}");
}

async fn refused_and_duplicate_runs_end_there(db: &TestDb) {
    let ledger = db.open().await;
    let original = ledger.receive(&file("ACME", "a.psv", Some("2026-11"))).await.unwrap();
    let fatal = ledger.receive(&file("ACME", "fatal.psv", Some("2026-11"))).await.unwrap();
    let again = ledger.receive(&file("ACME", "a.psv", Some("2026-11"))).await.unwrap();
    let other = ledger.receive(&file("OTHER", "a.psv", Some("2026-11"))).await.unwrap();

    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), original.id, "the oldest first");
    assert_eq!(ledger.published_with_hash("ACME", &original.content_hash).await.unwrap(), None);
    ledger.publish(&lease, &outcome(10)).await.unwrap();

    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), fatal.id);
    ledger.refuse(&lease, "F2: the trailer's record count differs from the data lines").await.unwrap();
    let refused = ledger.get(fatal.id).await.unwrap();
    assert_eq!(refused.state, RunState::Refused);
    assert_eq!(refused.detail.as_deref(), Some("F2: the trailer's record count differs from the data lines"));
    assert!(refused.is_settled() && refused.outcome.is_none() && refused.lease_owner.is_none());

    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), again.id);
    let earlier = ledger.published_with_hash("ACME", &lease.run().content_hash).await.unwrap().expect("a.psv");
    assert_eq!(earlier.id, original.id);
    ledger.mark_duplicate(&lease, earlier.id).await.unwrap();
    let duplicate = ledger.get(again.id).await.unwrap();
    assert_eq!((duplicate.state, duplicate.duplicate_of), (RunState::Duplicate, Some(original.id)));
    assert!(duplicate.is_settled());

    // The same content from another contributor is not a duplicate.
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), other.id);
    assert_eq!(ledger.published_with_hash("OTHER", &other.content_hash).await.unwrap(), None);
    ledger.publish(&lease, &outcome(10)).await.unwrap();

    assert!(ledger.claim("w", LONG_LEASE).await.unwrap().is_none(), "settled runs are never claimed");
    for (run, last) in [(fatal.id, RunState::Refused), (again.id, RunState::Duplicate)] {
        let events = ledger.events(run).await.unwrap();
        assert_eq!(trail(&events)[2], (Some(RunState::Running), last, Some("w")), "{events:?}");
    }
}

async fn a_publication_supersedes_the_last_one_of_its_contributor_and_month(db: &TestDb) {
    let ledger = db.open().await;
    let first = ledger.receive(&file("ACME", "nov-1.psv", Some("2026-11"))).await.unwrap();
    let october = ledger.receive(&file("ACME", "oct.psv", Some("2026-10"))).await.unwrap();
    let other = ledger.receive(&file("OTHER", "nov.psv", Some("2026-11"))).await.unwrap();
    let second = ledger.receive(&file("ACME", "nov-2.psv", Some("2026-11"))).await.unwrap();
    // The month is known only once the file is read: the outcome gives it.
    let unnamed = ledger.receive(&file("ACME", "upload.psv", None)).await.unwrap();

    let mut supersessions = Vec::new();
    for _ in 0..5 {
        let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
        let month = (lease.run_id() == unnamed.id).then(|| month_of("2026-10"));
        let superseded = ledger.publish(&lease, &Outcome { reporting_month: month, ..outcome(5) }).await.unwrap();
        supersessions.push((lease.run_id(), superseded));
        for (contributor, month) in [("ACME", "2026-11"), ("ACME", "2026-10"), ("OTHER", "2026-11")] {
            let published = Filter {
                contributor: Some(contributor.into()),
                month: Some(month_of(month)),
                state: Some(RunState::Published),
                limit: None,
            };
            assert!(ledger.list(&published).await.unwrap().len() <= 1, "{contributor} {month}");
        }
    }
    assert_eq!(
        supersessions,
        [
            (first.id, vec![]),
            (october.id, vec![]),
            (other.id, vec![]),
            (second.id, vec![first.id]),
            (unnamed.id, vec![october.id]),
        ]
    );
    let old = ledger.get(first.id).await.unwrap();
    assert_eq!((old.state, old.superseded_by), (RunState::Superseded, Some(second.id)));
    assert!(old.is_settled() && old.outcome.is_some(), "a superseded run keeps its outcome");
    let events = ledger.events(first.id).await.unwrap();
    assert_eq!(trail(&events).last(), Some(&(Some(RunState::Published), RunState::Superseded, Some("w"))));
    assert_eq!(ledger.published_for("ACME", month_of("2026-11")).await.unwrap().map(|run| run.id), Some(second.id));
    let renamed = ledger.get(unnamed.id).await.unwrap();
    assert_eq!((renamed.state, renamed.reporting_month), (RunState::Published, Some(month_of("2026-10"))));
    assert_eq!(ledger.get(october.id).await.unwrap().superseded_by, Some(unnamed.id));
    assert_eq!(ledger.get(other.id).await.unwrap().state, RunState::Published, "another contributor's month");
}

/// The lake found a newer run of the month already live: the older run ends superseded, the
/// published one stays, and the older run never counted as published.
async fn an_older_file_published_after_a_newer_one_is_superseded_on_arrival(db: &TestDb) {
    let ledger = db.open().await;
    let older = ledger.receive(&file("ACME", "nov-1.psv", Some("2026-11"))).await.unwrap();
    let newer = ledger.receive(&file("ACME", "nov-2.psv", Some("2026-11"))).await.unwrap();
    let older_lease = ledger.claim("slow", LONG_LEASE).await.unwrap().unwrap();
    let newer_lease = ledger.claim("fast", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!((older_lease.run_id(), newer_lease.run_id()), (older.id, newer.id));
    ledger.publish(&newer_lease, &outcome(5)).await.unwrap();
    ledger.mark_superseded(&older_lease, newer.id).await.unwrap();
    let run = ledger.get(older.id).await.unwrap();
    assert_eq!((run.state, run.superseded_by), (RunState::Superseded, Some(newer.id)));
    assert!(run.is_settled() && run.outcome.is_none(), "never published, so no outcome");
    assert_eq!(ledger.published_for("ACME", month_of("2026-11")).await.unwrap().map(|r| r.id), Some(newer.id));
    let events = ledger.events(older.id).await.unwrap();
    assert_eq!(trail(&events).last(), Some(&(Some(RunState::Running), RunState::Superseded, Some("slow"))));
    // Fenced like every other end, and never by itself or an unknown run.
    let again = ledger.receive(&file("ACME", "nov-3.psv", Some("2026-11"))).await.unwrap();
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), again.id);
    assert!(ledger.mark_superseded(&lease, again.id).await.is_err());
    assert!(matches!(ledger.mark_superseded(&lease, RunId::new(999).unwrap()).await, Err(LedgerError::UnknownRun(_))));
    assert_eq!(ledger.get(again.id).await.unwrap().state, RunState::Running, "nothing changed");
}

/// The unique index behind the one-published-run invariant holds even against a statement that
/// bypasses the ledger's code.
async fn the_database_refuses_two_published_runs_for_one_month(db: &TestDb) {
    let ledger = db.open().await;
    for name in ["one.psv", "two.psv"] {
        ledger.receive(&file("ACME", name, Some("2026-11"))).await.unwrap();
        let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
        ledger.publish(&lease, &outcome(3)).await.unwrap();
    }
    let pool = raw_pool(db).await;
    let forced = sqlx::query("UPDATE runs SET state = 'published' WHERE state = 'superseded'").execute(&pool).await;
    let error = forced.expect_err("two published runs for ACME 2026-11");
    assert!(error.to_string().to_lowercase().contains("unique"), "{error}");
}

async fn an_expired_lease_is_reclaimed_and_the_old_one_is_fenced_off(db: &TestDb) {
    let ledger = db.open().await;
    let run = ledger.receive(&file("ACME", "slow.psv", Some("2026-11"))).await.unwrap();
    let stale = ledger.claim("worker-a", Duration::from_millis(200)).await.unwrap().unwrap();
    assert!(ledger.claim("worker-b", LONG_LEASE).await.unwrap().is_none(), "the lease is live");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut current = ledger.claim("worker-b", LONG_LEASE).await.unwrap().expect("the expired lease's run");
    assert_eq!((current.run_id(), current.attempt()), (run.id, 2));
    let before = ledger.get(run.id).await.unwrap();
    let events_before = ledger.events(run.id).await.unwrap();
    let claimed = events_before.last().unwrap();
    assert_eq!((claimed.from, claimed.to), (Some(RunState::Running), RunState::Running));
    assert!(claimed.detail.as_deref().unwrap().contains("the lease of worker-a (attempt 1) expired"), "{claimed:?}");

    let lost = |result: Result<(), LedgerError>| match result {
        Err(LedgerError::LeaseLost { run: lost, worker, attempt }) => {
            assert_eq!((lost, worker.as_str(), attempt), (run.id, "worker-a", 1));
        }
        other => panic!("expected LeaseLost, got {other:?}"),
    };
    lost(ledger.publish(&stale, &outcome(7)).await.map(drop));
    lost(ledger.refuse(&stale, "late").await);
    lost(ledger.fail(&stale, "late", &RetryPolicy::default()).await);
    lost(ledger.mark_duplicate(&stale, RunId::new(999).unwrap()).await);
    lost(ledger.renew(&mut stale.clone(), LONG_LEASE).await);
    assert_eq!(ledger.get(run.id).await.unwrap(), before, "a fenced call changes nothing");
    assert_eq!(ledger.events(run.id).await.unwrap(), events_before);

    // The same worker name, restarted, claims a new attempt: its old lease is fenced off too.
    ledger.renew(&mut current, Duration::from_millis(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let restarted = ledger.claim("worker-b", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(restarted.attempt(), 3);
    assert!(matches!(ledger.publish(&current, &outcome(7)).await, Err(LedgerError::LeaseLost { attempt: 2, .. })));

    ledger.publish(&restarted, &outcome(7)).await.unwrap();
    assert!(
        matches!(ledger.refuse(&restarted, "twice").await, Err(LedgerError::LeaseLost { .. })),
        "a finished attempt's lease is spent"
    );
    assert_eq!(ledger.get(run.id).await.unwrap().state, RunState::Published);
}

async fn a_lease_past_its_expiry_still_finishes_when_nobody_took_the_run(db: &TestDb) {
    let ledger = db.open().await;
    let run = ledger.receive(&file("ACME", "late.psv", None)).await.unwrap();
    let lease = ledger.claim("w", Duration::from_millis(20)).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    ledger.publish(&lease, &outcome(1)).await.unwrap();
    assert_eq!(ledger.get(run.id).await.unwrap().state, RunState::Published);
}

async fn a_renewed_lease_keeps_other_workers_out(db: &TestDb) {
    let ledger = db.open().await;
    ledger.receive(&file("ACME", "long.psv", None)).await.unwrap();
    let mut lease = ledger.claim("w", Duration::from_millis(200)).await.unwrap().unwrap();
    let first_expiry = lease.expires_at();
    ledger.renew(&mut lease, LONG_LEASE).await.unwrap();
    assert!(lease.expires_at() > first_expiry + chrono::Duration::seconds(50));
    assert_eq!(ledger.get(lease.run_id()).await.unwrap().lease_expires_at, Some(lease.expires_at()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(ledger.claim("other", LONG_LEASE).await.unwrap().is_none(), "renewed past the first expiry");
    assert_eq!(ledger.events(lease.run_id()).await.unwrap().len(), 2, "a renewal is not a state change");
    ledger.publish(&lease, &outcome(1)).await.unwrap();
}

async fn failures_back_off_exponentially_and_the_last_one_is_final(db: &TestDb) {
    let ledger = db.open().await;
    let run = ledger.receive(&file("ACME", "flaky.psv", None)).await.unwrap();
    let policy =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(150), max_delay: Duration::from_millis(200) };
    // Attempt 1 waits the base delay; attempt 2 would wait twice that, capped; attempt 3 is the last.
    for (attempt, delay) in [(1, Some(150)), (2, Some(200)), (3, None)] {
        let lease = ledger.claim("w", LONG_LEASE).await.unwrap().expect("claimable");
        assert_eq!(lease.attempt(), attempt);
        ledger.fail(&lease, &format!("the lake is away ({attempt})"), &policy).await.unwrap();
        let failed = ledger.get(run.id).await.unwrap();
        assert_eq!(failed.state, RunState::Failed);
        assert_eq!(failed.detail, Some(format!("the lake is away ({attempt})")));
        let failed_at = failed.finished_at.unwrap();
        assert_eq!(failed.retry_at, delay.map(|ms| failed_at + chrono::Duration::milliseconds(ms)));
        assert_eq!(failed.is_settled(), delay.is_none());
        assert!(ledger.claim("w", LONG_LEASE).await.unwrap().is_none(), "not before the retry time");
        tokio::time::sleep(Duration::from_millis(delay.unwrap_or(250) as u64 + 50)).await;
    }
    assert!(ledger.claim("w", LONG_LEASE).await.unwrap().is_none(), "no attempts left");
    let events = ledger.events(run.id).await.unwrap();
    let tos: Vec<RunState> = events.iter().map(|event| event.to).collect();
    use RunState::{Failed, Received, Running};
    assert_eq!(tos, [Received, Running, Failed, Running, Failed, Running, Failed]);
    assert!(events[2].detail.as_deref().unwrap().contains("retry at"), "{:?}", events[2]);
    assert!(events[6].detail.as_deref().unwrap().contains("no attempts left"), "{:?}", events[6]);
}

async fn a_run_whose_leases_keep_expiring_is_abandoned(db: &TestDb) {
    let ledger = db.open_with(LedgerOptions { abandon_after_attempts: 2, ..LedgerOptions::default() }).await;
    let run = ledger.receive(&file("ACME", "poison.psv", None)).await.unwrap();
    let next = ledger.receive(&file("ACME", "fine.psv", None)).await.unwrap();
    for attempt in 1..=2 {
        let lease = ledger.claim("crashes", Duration::from_millis(30)).await.unwrap().unwrap();
        assert_eq!((lease.run_id(), lease.attempt()), (run.id, attempt));
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().expect("the next run");
    assert_eq!(lease.run_id(), next.id, "the poison file is skipped");
    let abandoned = ledger.get(run.id).await.unwrap();
    assert_eq!((abandoned.state, abandoned.retry_at, abandoned.lease_owner.as_deref()), (RunState::Failed, None, None));
    assert!(abandoned.detail.as_deref().unwrap().starts_with("abandoned:"), "{abandoned:?}");
    assert!(abandoned.is_settled());
}

async fn a_copy_waits_for_its_first_and_an_old_file_sent_again_is_a_duplicate(db: &TestDb) {
    let ledger = db.open().await;
    // The first copy's worker dies; the copy, received later, must not run before the first ends.
    let first = ledger.receive(&file("ACME", "a.psv", Some("2026-11"))).await.unwrap();
    // Long enough for the claims below to happen inside it on a loaded machine.
    let dead = ledger.claim("dies", Duration::from_secs(2)).await.unwrap().unwrap();
    assert_eq!(dead.run_id(), first.id);
    let copy = ledger.receive(&file("ACME", "a.psv", Some("2026-11"))).await.unwrap();
    let other = ledger.receive(&file("OTHER", "a.psv", Some("2026-11"))).await.unwrap();
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), other.id, "another contributor's copy does not wait");
    ledger.publish(&lease, &outcome(10)).await.unwrap();
    assert!(ledger.claim("w", LONG_LEASE).await.unwrap().is_none(), "the copy waits while the first runs");
    let expiry = (dead.expires_at() - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(expiry + Duration::from_millis(50)).await;
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), first.id, "the first, its lease expired, before its copy");
    ledger.publish(&lease, &outcome(10)).await.unwrap();
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), copy.id);
    assert_eq!(ledger.taken_with_hash("ACME", &copy.content_hash).await.unwrap().map(|r| r.id), Some(first.id));
    ledger.mark_duplicate(&lease, first.id).await.unwrap();

    // A correction supersedes the first; the old file sent again is still a duplicate of it.
    let correction = ledger.receive(&file("ACME", "a-corrected.psv", Some("2026-11"))).await.unwrap();
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), correction.id);
    ledger.publish(&lease, &outcome(10)).await.unwrap();
    assert_eq!(ledger.get(first.id).await.unwrap().state, RunState::Superseded);
    assert_eq!(ledger.published_with_hash("ACME", &copy.content_hash).await.unwrap(), None);
    let taken = ledger.taken_with_hash("ACME", &copy.content_hash).await.unwrap().expect("the superseded first");
    assert_eq!((taken.id, taken.state), (first.id, RunState::Superseded));

    // A refused file's copy runs on its own once the refusal is in (a fixed spec may take it).
    let fatal = ledger.receive(&file("ACME", "fatal.psv", Some("2026-12"))).await.unwrap();
    let fatal_copy = ledger.receive(&file("ACME", "fatal.psv", Some("2026-12"))).await.unwrap();
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), fatal.id);
    assert!(ledger.claim("w2", LONG_LEASE).await.unwrap().is_none(), "the copy waits for the refusal");
    ledger.refuse(&lease, "F2").await.unwrap();
    assert_eq!(ledger.taken_with_hash("ACME", &fatal.content_hash).await.unwrap(), None);
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    assert_eq!(lease.run_id(), fatal_copy.id);
}

async fn lists_filter_by_contributor_month_and_state_newest_first(db: &TestDb) {
    let ledger = db.open().await;
    let mut ids = Vec::new();
    for (contributor, name, month) in [
        ("ACME", "a1", Some("2026-10")),
        ("ACME", "a2", Some("2026-11")),
        ("OTHER", "o1", Some("2026-11")),
        ("ACME", "a3", None),
        ("ACME", "a4", Some("2026-11")),
    ] {
        ids.push(ledger.receive(&file(contributor, name, month)).await.unwrap().id);
    }
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    ledger.publish(&lease, &outcome(1)).await.unwrap();
    let listed = |filter: Filter| {
        let ledger = ledger.clone();
        async move { ledger.list(&filter).await.unwrap().into_iter().map(|run| run.id).collect::<Vec<_>>() }
    };
    let acme = || Some("ACME".to_string());
    assert_eq!(listed(Filter::default()).await, [ids[4], ids[3], ids[2], ids[1], ids[0]]);
    assert_eq!(listed(Filter { contributor: acme(), ..Filter::default() }).await, [ids[4], ids[3], ids[1], ids[0]]);
    let november = Some(month_of("2026-11"));
    assert_eq!(listed(Filter { month: november, ..Filter::default() }).await, [ids[4], ids[2], ids[1]]);
    assert_eq!(listed(Filter { contributor: acme(), month: november, ..Filter::default() }).await, [ids[4], ids[1]]);
    assert_eq!(listed(Filter { state: Some(RunState::Published), ..Filter::default() }).await, [ids[0]]);
    assert_eq!(
        listed(Filter { contributor: acme(), state: Some(RunState::Received), ..Filter::default() }).await,
        [ids[4], ids[3], ids[1]]
    );
    assert_eq!(listed(Filter { limit: Some(2), ..Filter::default() }).await, [ids[4], ids[3]]);
    assert_eq!(listed(Filter { contributor: Some("NOBODY".into()), ..Filter::default() }).await, []);
}

async fn unknown_runs_and_bad_input_are_errors_that_change_nothing(db: &TestDb) {
    let ledger = db.open().await;
    let nowhere = RunId::new(424_242).unwrap();
    assert!(matches!(ledger.get(nowhere).await, Err(LedgerError::UnknownRun(id)) if id == nowhere));
    assert!(matches!(ledger.events(nowhere).await, Err(LedgerError::UnknownRun(_))));

    let invalid = |result: Result<(), LedgerError>, what: &str| match result {
        Err(LedgerError::InvalidInput(message)) => assert!(message.contains(what), "{message}"),
        other => panic!("expected InvalidInput about {what}, got {other:?}"),
    };
    invalid(ledger.receive(&file(" ", "a.psv", None)).await.map(drop), "contributor");
    invalid(ledger.receive(&file("ACME", "", None)).await.map(drop), "file_name");
    let huge = etr_ledger::NewFile { size_bytes: u64::MAX, ..file("ACME", "huge.psv", None) };
    invalid(ledger.receive(&huge).await.map(drop), "size");
    invalid(ledger.claim("", LONG_LEASE).await.map(drop), "worker");
    assert!(ledger.list(&Filter::default()).await.unwrap().is_empty(), "nothing was received");

    let run = ledger.receive(&file("ACME", "a.psv", None)).await.unwrap();
    let lease = ledger.claim("w", LONG_LEASE).await.unwrap().unwrap();
    let before = ledger.get(run.id).await.unwrap();
    invalid(ledger.publish(&lease, &Outcome { lines: u64::MAX, ..outcome(1) }).await.map(drop), "lines");
    invalid(ledger.mark_duplicate(&lease, run.id).await, "itself");
    assert!(matches!(ledger.mark_duplicate(&lease, nowhere).await, Err(LedgerError::UnknownRun(id)) if id == nowhere));
    assert_eq!(ledger.get(run.id).await.unwrap(), before);
    assert_eq!(ledger.events(run.id).await.unwrap().len(), 2);
}

async fn a_schema_newer_than_the_code_is_refused_and_an_older_one_is_kept(db: &TestDb) {
    let ledger = db.open().await;
    let run = ledger.receive(&file("ACME", "kept.psv", None)).await.unwrap();
    ledger.close().await;
    // Opening again migrates nothing and keeps the runs.
    let ledger = db.open().await;
    assert_eq!(ledger.get(run.id).await.unwrap().file_name, "kept.psv");
    ledger.close().await;

    let pool = raw_pool(db).await;
    let versions: Vec<i64> = sqlx::query("SELECT version FROM ledger_schema ORDER BY version")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("version"))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    sqlx::query("INSERT INTO ledger_schema (version, name, applied_at_us) VALUES ($1, 'from the future', 0)")
        .bind(SCHEMA_VERSION + 1)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    match Ledger::open(&db.url).await {
        Err(error @ LedgerError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
            assert!(error.to_string().contains("newer than this etr knows"), "{error}");
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// A connection pool on the test's database that bypasses the ledger.
async fn raw_pool(db: &TestDb) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = match db.url.strip_prefix("sqlite:") {
        Some(path) => format!("sqlite://{path}"),
        None => db.url.clone(),
    };
    sqlx::AnyPool::connect(&url).await.unwrap()
}

#[tokio::test]
async fn bad_urls_are_refused_with_the_reason() {
    for (url, reason) in [
        ("mysql://root:hunter2@localhost/ledger", "expected `sqlite:PATH` or `postgres://"),
        ("/var/etr/ledger.db", "expected `sqlite:PATH`"),
        ("sqlite:", "no file after `sqlite:`"),
        ("sqlite::memory:", "in-memory"),
    ] {
        match Ledger::open(url).await {
            Err(error @ LedgerError::BadUrl { .. }) => {
                let message = error.to_string();
                assert!(message.contains(reason), "{url}: {message}");
                assert!(!message.contains("hunter2"), "the password shows: {message}");
            }
            other => panic!("{url}: expected BadUrl, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    // A loopback port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = LedgerOptions { connect_timeout: Duration::from_secs(2), ..LedgerOptions::default() };
    let url = format!("postgres://etr:hunter2@127.0.0.1:{port}/ledger");
    match Ledger::open_with(&url, options).await {
        Err(error @ LedgerError::Unreachable { .. }) => {
            let message = error.to_string();
            assert!(message.contains(&format!("postgres://etr:***@127.0.0.1:{port}/ledger")), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/folder/ledger.db");
    match Ledger::open_with(&format!("sqlite:{}", missing.display()), options).await {
        Err(error @ LedgerError::Unreachable { .. }) => {
            assert!(error.to_string().contains("no/such/folder/ledger.db"), "{error}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn the_backend_is_the_url_s() {
    let db = TestDb::sqlite();
    let ledger = db.open().await;
    assert_eq!(ledger.backend(), Backend::Sqlite);
    assert_eq!(ledger.url(), db.url);
}
