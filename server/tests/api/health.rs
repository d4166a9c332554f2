//! Probes.

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_as_soon_as_the_server_is_up() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_reports_ready_once_the_forwarder_runs() {
    let app = spawn_app().await;
    let mut status = 0;
    for _ in 0..50 {
        status = app.client.get(app.url("/readyz")).send().await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}

#[tokio::test]
async fn metrics_count_reports_by_outcome_without_personal_data() {
    use crate::helpers::{jpeg, manhole_report};
    let app = spawn_app().await;
    let mut report = manhole_report();
    report["contact"] = serde_json::json!({ "phone": "13904512345", "consent": true });
    let receipt: serde_json::Value = app.post_report(Some("a"), &report, vec![jpeg(400, 300)]).await.json().await.unwrap();
    app.post_report(None, &manhole_report(), vec![]).await;
    app.client.get(app.url(receipt["status_url"].as_str().unwrap())).send().await.unwrap();
    app.wait_for_pipeline(1).await;

    // The pipeline line is written just before the delivery is recorded: wait for both.
    let mut text = String::new();
    for _ in 0..100 {
        text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        if text.contains("lianxin_outbox_pending 0") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    assert!(text.contains("lianxin_reports_accepted_total 1"), "{text}");
    assert!(text.contains("lianxin_reports_refused_total{reason=\"missing-idempotency-key\"} 1"), "{text}");
    assert!(text.contains("lianxin_http_requests_total{route=\"/api/v1/reports\",status=\"201\"} 1"), "{text}");
    assert!(text.contains("lianxin_http_requests_total{route=\"/api/v1/reports/{tracking_no}\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("lianxin_http_request_duration_seconds_count{route=\"/api/v1/reports\"} 2"), "{text}");
    assert!(text.contains("lianxin_outbox_pending 0"), "{text}");
    let photo_in: u64 = text.lines().find_map(|line| line.strip_prefix("lianxin_photo_bytes_in_total ")).unwrap().parse().unwrap();
    assert!(photo_in > 1000);
    assert!(!text.contains(receipt["tracking_no"].as_str().unwrap()) && !text.contains("13904512345"));
}
