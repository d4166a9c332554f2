//! Moving a running city from SQLite to PostgreSQL with `lianxin migrate-to-postgres`:
//! reports, timelines, sealed contacts, photos' records and outbox state arrive intact, a
//! second run copies nothing twice, and the server on PostgreSQL carries on where the
//! SQLite one stopped (same receipts for retried keys, nothing forwarded again).
//! Runs in the suite's PostgreSQL pass (`LIANXIN_TEST_DATABASE`).

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{database_url_for, jpeg, manhole_report, postgres_under_test, spawn_app_in, spawn_app_with};

fn migrate(data_dir: &std::path::Path, url: &str, photo_store: &str) -> String {
    let output =
        Command::new(env!("CARGO_BIN_EXE_lianxin")).args(["migrate-to-postgres", "--data-dir", data_dir.to_str().unwrap(), "--database-url", url, "--photo-store", photo_store]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn a_sqlite_city_moves_to_postgres_without_losing_or_repeating_anything() {
    if postgres_under_test().is_none() {
        eprintln!("skipped: the migration test runs in the PostgreSQL pass (set LIANXIN_TEST_DATABASE)");
        return;
    }
    let app = spawn_app_with(|config| config.storage.database_url = "".into()).await;
    assert_eq!(app.state.store.engine(), "sqlite");
    let mut with_contact = manhole_report();
    with_contact["contact"] = json!({ "name": "王秀英", "phone": "13904512345", "consent": true });
    let mut receipts = Vec::new();
    for (key, report, photos) in [("m-1", manhole_report(), vec![jpeg(400, 300)]), ("m-2", with_contact.clone(), vec![]), ("m-3", manhole_report(), vec![])] {
        let response = app.post_report(Some(key), &report, photos).await;
        assert_eq!(response.status(), 201);
        receipts.push(response.json::<Value>().await.unwrap());
    }
    app.wait_for_pipeline(3).await;
    let first_id = receipts[0]["id"].as_str().unwrap().to_owned();
    app.state.store.record_status(&first_id, lianxin_contract::report::Status::Accepted, lianxin_server::ids::now_ms(), Some("已受理".into())).await.unwrap();
    let status_before: Value = app.client.get(app.url(receipts[0]["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    let data_dir = app.shut_down().await;

    let schema_dir = tempfile::tempdir().unwrap();
    let url = database_url_for(schema_dir.path()).await.unwrap();
    // Photos move to object storage too when the S3 emulator runs (cargo xtask test).
    let photo_store = match std::env::var("LIANXIN_TEST_S3_ENDPOINT").ok().filter(|endpoint| !endpoint.is_empty()) {
        Some(endpoint) => {
            let bucket = format!("lianxin-{}", uuid::Uuid::new_v4().simple());
            assert!(reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap().status().is_success());
            format!("s3://{bucket}")
        }
        None => String::new(),
    };
    let first = migrate(data_dir.path(), &url, &photo_store);
    if !photo_store.is_empty() {
        assert!(first.contains("photos                 1 copied"), "{first}");
    }
    assert!(first.contains("reports") && first.contains("3 rows read,         3 newly written"), "{first}");
    let again = migrate(data_dir.path(), &url, &photo_store);
    assert!(again.lines().filter(|line| line.contains("rows read")).all(|line| line.ends_with(" 0 newly written")), "a second run writes nothing: {again}");

    if !photo_store.is_empty() {
        std::fs::remove_dir_all(data_dir.path().join("photos")).unwrap();
    }
    let moved = spawn_app_in(data_dir, |config| {
        config.storage.database_url = url.as_str().into();
        config.storage.photo_store = photo_store.clone();
    })
    .await;
    assert_eq!(moved.state.store.engine(), "postgresql");
    let status_after: Value = moved.client.get(moved.url(receipts[0]["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(status_after, status_before, "the timeline moved as it was");
    let retried = moved.post_report(Some("m-2"), &with_contact, vec![]).await;
    assert_eq!(retried.status(), 200, "a retry of an old key gets its old receipt");
    assert_eq!(retried.json::<Value>().await.unwrap()["id"], receipts[1]["id"]);
    let sealed = moved.state.store.outbox_report(receipts[1]["id"].as_str().unwrap()).await.unwrap().message;
    assert_eq!(sealed.report.contact.unwrap().phone.as_deref(), Some("13904512345"), "sealed contacts open with the same key");
    let photo = moved.state.store.outbox_report(&first_id).await.unwrap().message.photos[0].sha256.clone();
    assert!(moved.state.photos.store().exists(&photo).await.unwrap());
    assert_eq!(moved.state.store.outbox_stats().await.unwrap().pending, 0, "delivered stays delivered");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(moved.pipeline_lines().len(), 3, "nothing was forwarded again");
}
