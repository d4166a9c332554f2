//! Forwarding into the real NATS JetStream on 127.0.0.1:4222: each report lands in the
//! stream under `<prefix>.<district>.<category>` once, and a repeated publish with the same
//! `Nats-Msg-Id` is discarded by the stream.

use std::time::Duration;

use lianxin_server::sink::nats::{NatsConnection, NatsUrl};
use serde_json::{Value, json};

use crate::helpers::{jpeg, manhole_report, spawn_app_with};

const NATS: &str = "nats://127.0.0.1:4222";

async fn api(connection: &mut NatsConnection, subject: &str, body: Value) -> Value {
    let reply = connection.request(subject, &[], body.to_string().as_bytes()).await.expect("the NATS server answers");
    serde_json::from_slice(&reply.payload).unwrap()
}

#[tokio::test]
async fn reports_are_published_once_to_jetstream_and_a_repeat_is_deduplicated() {
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).unwrap();
    let suffix: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    let prefix = format!("lianxintest{suffix}");
    let stream = format!("LIANXIN_TEST_{suffix}");
    let mut admin = NatsConnection::connect(&NatsUrl::parse(NATS).unwrap()).await.expect("nats-server with JetStream runs on 127.0.0.1:4222");
    let created = api(&mut admin, &format!("$JS.API.STREAM.CREATE.{stream}"), json!({
        "name": stream, "subjects": [format!("{prefix}.>")], "storage": "file", "duplicate_window": 120_000_000_000u64,
    }))
    .await;
    assert!(created.get("error").is_none(), "{created}");

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

    let repeat = admin
        .request(&format!("{prefix}.daoli.manhole_cover"), &[("Nats-Msg-Id", first["id"].as_str().unwrap())], b"{\"repeat\":true}")
        .await
        .unwrap();
    let ack: Value = serde_json::from_slice(&repeat.payload).unwrap();
    assert_eq!(ack["duplicate"], true, "{ack}");

    let info = api(&mut admin, &format!("$JS.API.STREAM.INFO.{stream}"), json!({})).await;
    assert_eq!(info["state"]["messages"], 2, "{info}");
    let message = api(&mut admin, &format!("$JS.API.STREAM.MSG.GET.{stream}"), json!({ "seq": 1 })).await;
    assert_eq!(message["message"]["subject"], format!("{prefix}.daoli.manhole_cover"));
    let second_message = api(&mut admin, &format!("$JS.API.STREAM.MSG.GET.{stream}"), json!({ "seq": 2 })).await;
    assert_eq!(second_message["message"]["subject"], format!("{prefix}.songbei.manhole_cover"));
    let status: Value = app.client.get(app.url(second["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "forwarded");

    let deleted = api(&mut admin, &format!("$JS.API.STREAM.DELETE.{stream}"), json!({})).await;
    assert_eq!(deleted["success"], true, "{deleted}");
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
    let mut waiting = Vec::new();
    for _ in 0..100 {
        waiting = app.state.store.outbox_entries("pending", 10).await.unwrap();
        if waiting.first().is_some_and(|entry| entry.attempts > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(waiting[0].last_error.as_deref().unwrap_or_default().contains("no JetStream stream"), "{waiting:?}");
}
