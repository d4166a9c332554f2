//! Forwarding into the real NATS JetStream on 127.0.0.1:4222: each report lands in the
//! stream under `<prefix>.<district>.<category>` once, and a repeated publish with the same
//! `Nats-Msg-Id` is discarded by the stream.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use serde_json::{Value, json};

use crate::helpers::{jpeg, manhole_report, spawn_app_with};

const NATS: &str = "nats://127.0.0.1:4222";

#[tokio::test]
async fn reports_are_published_once_to_jetstream_and_a_repeat_is_deduplicated() {
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).unwrap();
    let suffix: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    let prefix = format!("lianxintest{suffix}");
    let name = format!("LIANXIN_TEST_{suffix}");
    let admin = jetstream::new(async_nats::connect(NATS).await.expect("nats-server with JetStream runs on 127.0.0.1:4222"));
    let mut created = admin
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![format!("{prefix}.>")],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .unwrap();

    let app = spawn_app_with(|config| {
        config.pipeline = format!("{NATS}/{prefix}");
        config.forwarder.poll_ms = 50;
    })
    .await;
    let first: Value = app.post_report(Some("one"), &manhole_report(), vec![jpeg(64, 64)]).await.json().await.unwrap();
    let mut taxi = manhole_report();
    taxi["location"]["district"] = json!("songbei");
    let second: Value = app.post_report(Some("two"), &taxi, vec![]).await.json().await.unwrap();
    for _ in 0..200 {
        if app.state.store.outbox_stats().await.unwrap().pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(app.state.store.outbox_stats().await.unwrap().pending, 0, "both delivered");

    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", first["id"].as_str().unwrap());
    let repeat = admin.publish_with_headers(format!("{prefix}.daoli.manhole_cover"), headers, "{\"repeat\":true}".into()).await.unwrap().await.unwrap();
    assert!(repeat.duplicate, "a repeat of the same report id is discarded by the stream");

    assert_eq!(created.info().await.unwrap().state.messages, 2);
    let stored = created.get_raw_message(1).await.unwrap();
    assert_eq!(stored.subject.as_str(), format!("{prefix}.daoli.manhole_cover"));
    let line: Value = serde_json::from_slice(&stored.payload).unwrap();
    assert_eq!(line["id"], first["id"], "the message is the report as every sink gets it");
    assert_eq!(created.get_raw_message(2).await.unwrap().subject.as_str(), format!("{prefix}.songbei.manhole_cover"));
    let status: Value = app.client.get(app.url(second["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "forwarded");

    // The resident's answer reaches the stream as its own message, once, on `<prefix>.follow_up.rated`.
    app.state.store.record_status(second["id"].as_str().unwrap(), lianxin_contract::report::Status::Resolved, lianxin_server::ids::now_ms(), None).await.unwrap();
    let answer = json!({ "secret": second["follow_up_secret"], "answer_id": "n1", "solved": true, "rating": "satisfied" });
    let answered = app.client.post(app.url(&format!("/api/v1/reports/{}/answer", second["tracking_no"].as_str().unwrap()))).json(&answer).send().await.unwrap();
    assert_eq!(answered.status(), 200);
    for _ in 0..200 {
        if created.info().await.unwrap().state.messages == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let rated = created.get_raw_message(3).await.unwrap();
    assert_eq!(rated.subject.as_str(), format!("{prefix}.follow_up.rated"));
    let message: Value = serde_json::from_slice(&rated.payload).unwrap();
    assert_eq!((message["id"].as_str(), message["report_id"].as_str()), (Some(format!("{}.rated.1", second["id"].as_str().unwrap()).as_str()), second["id"].as_str()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(created.info().await.unwrap().state.messages, 3, "delivered once");

    assert!(admin.delete_stream(&name).await.unwrap().success);
}

/// The waiting reports once the first has been tried (or after five seconds).
async fn after_first_attempt(app: &crate::helpers::TestApp) -> Vec<lianxin_server::store::OutboxEntry> {
    let mut waiting = Vec::new();
    for _ in 0..200 {
        waiting = app.state.store.outbox_entries("pending", 10).await.unwrap();
        if waiting.first().is_some_and(|entry| entry.attempts > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    waiting
}

#[tokio::test]
async fn without_a_stream_for_the_subject_the_report_waits_and_retries() {
    let app = spawn_app_with(|config| {
        config.pipeline = format!("{NATS}/lianxinnostream");
        config.forwarder.poll_ms = 50;
        config.forwarder.retry_base_ms = 100;
    })
    .await;
    assert_eq!(app.post_report(Some("k"), &manhole_report(), vec![]).await.status(), 201);
    let waiting = after_first_attempt(&app).await;
    assert!(waiting[0].last_error.as_deref().unwrap_or_default().contains("no JetStream stream"), "{waiting:?}");
}

#[tokio::test]
async fn a_nats_server_that_is_down_keeps_the_report_waiting_until_it_answers() {
    // Nothing listens on this port: the delivery fails as a retry, the report waits.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(|config| {
        config.pipeline = format!("nats://127.0.0.1:{port}/lianxin");
        config.forwarder.poll_ms = 50;
        config.forwarder.retry_base_ms = 100;
    })
    .await;
    assert_eq!(app.post_report(Some("k"), &manhole_report(), vec![]).await.status(), 201);
    let waiting = after_first_attempt(&app).await;
    assert!(waiting[0].last_error.as_deref().unwrap_or_default().contains("cannot connect to NATS"), "{waiting:?}");
}
