//! The store's own guarantees, on whichever engine the suite runs against (SQLite, or the
//! PostgreSQL named by `LIANXIN_TEST_DATABASE`): idempotency under concurrent inserts,
//! group commit, and forwarder leases that never hand one row to two forwarders at once.

use std::collections::HashSet;

use lianxin_contract::{ReportSubmission, RequestKind};
use lianxin_server::ids;
use lianxin_server::store::{Inserted, NewReport, Store};

use crate::helpers::{TestApp, spawn_app_with};

fn new_report(key: &str) -> NewReport {
    NewReport {
        id: ids::new_report_id(),
        idempotency_key: key.to_owned(),
        request_hash: "hash".into(),
        department: "urban_management".into(),
        district: None,
        report: ReportSubmission::new("manhole_cover", RequestKind::Complaint, "井盖"),
        photos: Vec::new(),
        sender: None,
        limit_ms: Some(24 * 3_600_000),
        source: None,
        classes: Vec::new(),
        class_rules: Default::default(),
    }
}

/// A server whose forwarder stays asleep (reports inserted straight into the store do not
/// wake it), so the test alone claims outbox rows.
async fn quiet_app() -> TestApp {
    spawn_app_with(|config| config.forwarder.poll_ms = 3_600_000).await
}

async fn insert_many(store: &Store, count: usize, prefix: &str) -> Vec<String> {
    let inserts: Vec<_> = (0..count)
        .map(|index| {
            let store = store.clone();
            let key = format!("{prefix}-{index}");
            tokio::spawn(async move { store.insert_report(new_report(&key)).await })
        })
        .collect();
    let mut ids = Vec::new();
    for insert in inserts {
        match insert.await.unwrap().unwrap() {
            Inserted::Created(receipt) => ids.push(receipt.id),
            other => panic!("expected a new report, got {other:?}"),
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reports_are_all_stored_with_their_outbox_rows_and_share_commits_on_sqlite() {
    let app = quiet_app().await;
    let store = &app.state.store;
    let before = store.commits();
    insert_many(store, 200, "many").await;
    assert_eq!(store.outbox_stats().await.unwrap().pending, 200, "every report has its outbox row");
    let commits = store.commits() - before;
    if store.engine() == "sqlite" {
        assert!(commits < 200, "200 reports took {commits} commits");
    } else {
        assert_eq!(commits, 200, "PostgreSQL commits each report (its own group commit is in the server)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_sent_many_times_at_once_is_stored_once() {
    let app = quiet_app().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = app.state.store.clone();
            tokio::spawn(async move { store.insert_report(new_report("same-key")).await.unwrap() })
        })
        .collect();
    let mut created = Vec::new();
    let mut existing = HashSet::new();
    for task in tasks {
        match task.await.unwrap() {
            Inserted::Created(receipt) => created.push(receipt.id),
            Inserted::Existing { receipt, same_request } => {
                assert!(same_request);
                existing.insert(receipt.id);
            }
        }
    }
    assert_eq!(created.len(), 1, "exactly one insert created the report");
    assert!(existing.iter().all(|id| *id == created[0]), "every other insert got the same receipt");
    assert_eq!(app.stored_reports().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leased_rows_go_to_one_forwarder_until_the_lease_runs_out() {
    let app = quiet_app().await;
    let store = &app.state.store;
    let ids: HashSet<String> = insert_many(store, 10, "lease").await.into_iter().collect();
    let now = ids::now_ms();
    let until = now + 60_000;

    let first: HashSet<String> = store.claim_due("a", now, until, 4).await.unwrap().into_iter().collect();
    let second: HashSet<String> = store.claim_due("b", now, until, 100).await.unwrap().into_iter().collect();
    assert_eq!(first.len(), 4);
    assert_eq!(second.len(), 6);
    assert!(first.is_disjoint(&second), "no row leased twice");
    assert_eq!(&first | &second, ids);
    assert!(store.claim_due("c", now, until, 100).await.unwrap().is_empty(), "everything is leased");

    // "a" delivers one and gives the rest back; "b" crashes and its leases run out.
    let delivered = first.iter().next().unwrap().clone();
    store.mark_delivered(vec![(delivered.clone(), None)]).await.unwrap();
    store.release_leases("a").await.unwrap();
    let after_release: HashSet<String> = store.claim_due("c", now, until, 100).await.unwrap().into_iter().collect();
    assert_eq!(after_release, &first - &HashSet::from([delivered.clone()]), "a's undelivered rows are free at once");
    let after_expiry: HashSet<String> = store.claim_due("d", until + 1, until + 60_000, 100).await.unwrap().into_iter().collect();
    assert_eq!(after_expiry, &ids - &HashSet::from([delivered]), "expired leases (b's and c's) are taken over; the delivered row is not");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarders_claiming_at_the_same_time_never_share_a_row() {
    let app = quiet_app().await;
    let ids: HashSet<String> = insert_many(&app.state.store, 60, "race").await.into_iter().collect();
    let now = ids::now_ms();
    let claims: Vec<_> = (0..6)
        .map(|owner| {
            let store = app.state.store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claimed = store.claim_due(&format!("owner-{owner}"), now, now + 60_000, 4).await.unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    mine.extend(claimed);
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    for claim in claims {
        seen.extend(claim.await.unwrap());
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), unique.len(), "a row was leased to two forwarders");
    assert_eq!(unique, ids);
}
