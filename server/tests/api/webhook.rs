//! Forwarding into a real HTTP pipeline that fails in every way a real one does.

use std::time::Duration;

use lianxin_server::Config;
use serde_json::Value;

use crate::helpers::{TestApp, jpeg, manhole_report, spawn_app_with};
use crate::receiver::{Behaviour, Receiver};

const SECRET: &str = "pipeline-secret-for-tests";

fn fast_retries(config: &mut Config, pipeline: &str) {
    config.pipeline = pipeline.to_owned();
    config.pipeline_secret = SECRET.into();
    config.forwarder.poll_ms = 50;
    config.forwarder.retry_base_ms = 100;
    config.forwarder.retry_max_ms = 400;
    config.forwarder.delivery_timeout_ms = 300;
}

async fn submit(app: &TestApp, key: &str) -> Value {
    let response = app.post_report(Some(key), &manhole_report(), vec![jpeg(320, 240)]).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_report_reaches_a_flaky_pipeline_once_with_a_valid_signature() {
    let mut receiver = Receiver::start(SECRET, vec![Behaviour::Status(500), Behaviour::Status(502), Behaviour::Hang, Behaviour::RetryAfter(1)]).await;
    let app = spawn_app_with(|config| fast_retries(config, &receiver.url)).await;
    let receipts = [submit(&app, "one").await, submit(&app, "two").await];
    tokio::time::sleep(Duration::from_millis(1500)).await;
    receiver.go_down();
    let third = submit(&app, "three").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    receiver.come_back().await;

    let tickets = receiver.wait_for_tickets(3, Duration::from_secs(20)).await;

    for receipt in receipts.iter().chain([&third]) {
        let id = receipt["id"].as_str().unwrap();
        let body = &tickets[id];
        assert_eq!(body["tracking_no"], receipt["tracking_no"]);
        assert_eq!(body["department"], "urban_management");
        assert_eq!(body["district"], "daoli");
        let photo_url = body["photos"][0]["url"].as_str().unwrap();
        let photo = app.client.get(photo_url).send().await.unwrap();
        assert_eq!(photo.headers()["content-type"], "image/jpeg", "the signed photo link works");
    }
    assert!(receiver.accepted_per_key().values().all(|count| *count == 1), "each key accepted once: {:?}", receiver.accepted_per_key());
    let attempts = receiver.attempts();
    assert!(attempts.iter().all(|attempt| attempt.signature_ok), "every delivery is signed");
    assert!(attempts.len() >= 3 + 4, "every scripted failure was met and retried: {attempts:?}");
    // Per report, each retry waits at least the lower edge of its backoff (half the
    // doubling delay, by the jitter rule), or the Retry-After the pipeline asked for.
    for receipt in receipts.iter().chain([&third]) {
        let key = receipt["id"].as_str().unwrap();
        let of_report: Vec<_> = attempts.iter().filter(|attempt| attempt.key == key).collect();
        for (failures, pair) in of_report.windows(2).enumerate() {
            let gap = pair[1].at - pair[0].at;
            let minimum = match pair[0].answer {
                // Honoured up to the retry cap (400 ms here).
                Some(Behaviour::RetryAfter(seconds)) => Duration::from_secs(seconds).min(Duration::from_millis(400)),
                _ => Duration::from_millis((100u64 << failures).min(400) / 2),
            };
            assert!(gap >= minimum, "retry {} of {key} after {gap:?}, before {minimum:?}", failures + 1);
            assert!(gap < Duration::from_secs(5), "retry {} of {key} waited {gap:?}", failures + 1);
        }
    }
    let mut lines = 0;
    for _ in 0..100 {
        lines = app.state.store.outbox_stats().await.unwrap().pending;
        if lines == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(lines, 0, "every delivery recorded");
}

#[tokio::test]
async fn a_permanent_refusal_goes_to_dead_letter_with_the_reason_and_requeue_delivers_it() {
    let receiver = Receiver::start(SECRET, vec![Behaviour::Status(400)]).await;
    let app = spawn_app_with(|config| fast_retries(config, &receiver.url)).await;
    let receipt = submit(&app, "refused").await;

    let dead = app.wait_for_dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].tracking_no, receipt["tracking_no"].as_str().unwrap());
    assert!(dead[0].last_error.as_deref().unwrap().contains("400"), "{:?}", dead[0].last_error);
    assert_eq!(receiver.attempts().len(), 1, "a permanent failure is not retried");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["outbox", "requeue", receipt["tracking_no"].as_str().unwrap()])
        .args(["--data-dir", app.data_dir.path().to_str().unwrap(), "--pipeline", &receiver.url, "--pipeline-secret", SECRET])
        .args(crate::helpers::database_flags(app.data_dir.path()).await)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let tickets = receiver.wait_for_tickets(1, Duration::from_secs(10)).await;
    assert!(tickets.contains_key(receipt["id"].as_str().unwrap()));
}

#[tokio::test]
async fn photo_links_without_a_valid_signature_are_refused() {
    let receiver = Receiver::start(SECRET, vec![]).await;
    let app = spawn_app_with(|config| fast_retries(config, &receiver.url)).await;
    let receipt = submit(&app, "photo").await;
    let tickets = receiver.wait_for_tickets(1, Duration::from_secs(10)).await;
    let url = tickets[receipt["id"].as_str().unwrap()]["photos"][0]["url"].as_str().unwrap().to_owned();

    let forged = url.replace("sig=", "sig=0");
    let later = url.replace("expires=", "expires=9");
    for bad in [forged, later, url.split('?').next().unwrap().to_owned()] {
        assert_eq!(app.client.get(&bad).send().await.unwrap().status(), 403, "{bad}");
    }
    assert_eq!(app.client.get(format!("{url}&size=thumb")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn an_absurd_retry_after_neither_wraps_into_a_retry_storm_nor_parks_the_report_for_years() {
    let ten_years = 10 * 365 * 86_400;
    let receiver = Receiver::start(SECRET, vec![Behaviour::RetryAfter(u64::MAX), Behaviour::RetryAfter(ten_years)]).await;
    let app = spawn_app_with(|config| fast_retries(config, &receiver.url)).await;
    let receipt = submit(&app, "patient").await;

    let tickets = receiver.wait_for_tickets(1, Duration::from_secs(10)).await;

    assert!(tickets.contains_key(receipt["id"].as_str().unwrap()), "delivered within seconds, not years");
    let attempts = receiver.attempts();
    assert_eq!(attempts.len(), 3);
    for pair in attempts.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(350), "waited the retry cap, not nothing: {gap:?}");
    }
}

#[tokio::test]
async fn a_report_failing_past_the_age_limit_goes_to_dead_letter() {
    let receiver = Receiver::start(SECRET, vec![Behaviour::Status(503); 50]).await;
    let app = spawn_app_with(|config| {
        fast_retries(config, &receiver.url);
        config.forwarder.max_age_hours = 0;
    })
    .await;
    submit(&app, "old").await;
    let dead = app.wait_for_dead_letters().await;
    assert_eq!(dead.len(), 1, "dead-lettered for its age");
    assert!(dead[0].last_error.as_deref().unwrap().contains("503"));
}

/// Verifies one delivery with PyPI's `standardwebhooks` — the library a city's Python
/// receiver would use — in the interpreter `LIANXIN_TEST_PYTHON` names (`cargo xtask test`
/// installs it). Returns whether the library accepted it, and its words.
fn verify_with_the_reference_library(python: &str, secret: &str, headers: &[(String, String)], body: &[u8]) -> (bool, String) {
    let script = r#"
import json, sys
from standardwebhooks import Webhook
secret, headers = sys.argv[1], json.loads(sys.argv[2])
try:
    Webhook(secret).verify(sys.stdin.buffer.read(), headers)
    print("verified")
except Exception as error:
    print(f"refused: {error}")
    sys.exit(1)
"#;
    let headers: serde_json::Map<String, Value> = headers.iter().map(|(name, value)| (name.clone(), Value::String(value.clone()))).collect();
    let mut child = std::process::Command::new(python)
        .args(["-c", script, secret, &Value::Object(headers).to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the test Python runs");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), body).unwrap();
    let output = child.wait_with_output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[tokio::test]
async fn deliveries_verify_with_the_standard_webhooks_reference_library_and_tampering_does_not() {
    let Ok(python) = std::env::var("LIANXIN_TEST_PYTHON") else {
        eprintln!("skipped: set LIANXIN_TEST_PYTHON to a Python with standardwebhooks (cargo xtask test does)");
        return;
    };
    for secret in ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SECRET] {
        let receiver = Receiver::start(secret, vec![]).await;
        let app = spawn_app_with(|config| {
            fast_retries(config, &receiver.url);
            config.pipeline_secret = secret.into();
            config.forwarder.legacy_signature = false;
        })
        .await;
        submit(&app, "signed").await;
        receiver.wait_for_tickets(1, Duration::from_secs(10)).await;
        let delivery = receiver.attempts().into_iter().next().unwrap();
        assert!(!delivery.webhook_headers.iter().any(|(name, _)| name == "lianxin-signature"), "no legacy header once it is switched off");
        // A receiver configures a non-whsec secret as whsec_ + its base64.
        let library_secret = if secret.starts_with("whsec_") { secret.to_owned() } else { format!("whsec_{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, secret.as_bytes())) };

        let (accepted, words) = verify_with_the_reference_library(&python, &library_secret, &delivery.webhook_headers, &delivery.body);
        assert!(accepted, "{secret}: {words}");

        let tampered = String::from_utf8(delivery.body.clone()).unwrap().replace("daoli", "nangang").into_bytes();
        assert_ne!(tampered, delivery.body);
        let (accepted, words) = verify_with_the_reference_library(&python, &library_secret, &delivery.webhook_headers, &tampered);
        assert!(!accepted && words.contains("No matching signature"), "a changed body is refused: {words}");

        let mut old = delivery.webhook_headers.clone();
        for (name, value) in &mut old {
            if name == "webhook-timestamp" {
                *value = (value.parse::<u64>().unwrap() - 3600).to_string();
            }
        }
        let (accepted, words) = verify_with_the_reference_library(&python, &library_secret, &old, &delivery.body);
        assert!(!accepted && words.contains("too old"), "an hour-old timestamp is refused: {words}");
    }
}
