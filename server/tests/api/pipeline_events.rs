//! Status coming back from the pipeline (`POST /api/v1/pipeline/events`): the bearer token,
//! the resident's timeline, repeats and refusals.

use serde_json::{Value, json};

use crate::helpers::{TestApp, manhole_report, spawn_app, spawn_app_with};

const TOKEN: &str = "pipeline-token-for-tests";

async fn post_event(app: &TestApp, token: Option<&str>, event: Value) -> reqwest::Response {
    let mut request = app.client.post(app.url("/api/v1/pipeline/events")).json(&event);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn status_events_from_the_pipeline_appear_in_the_residents_timeline() {
    let app = spawn_app_with(|config| config.pipeline_token = TOKEN.into()).await;
    let response = app.post_report(Some("k"), &manhole_report(), vec![]).await;
    let receipt: Value = response.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap();
    app.wait_for_pipeline(1).await;

    assert_eq!(post_event(&app, None, json!({ "report_id": id, "status": "accepted" })).await.status(), 403);
    assert_eq!(post_event(&app, Some("wrong"), json!({ "report_id": id, "status": "accepted" })).await.status(), 403);
    let accepted = post_event(&app, Some(TOKEN), json!({ "ticket_id": id, "status": "accepted", "at": "2026-11-25T08:00:00Z" })).await;
    assert_eq!(accepted.status(), 200);
    assert_eq!(accepted.json::<Value>().await.unwrap()["recorded"], true);
    let again = post_event(&app, Some(TOKEN), json!({ "report_id": id, "status": "accepted" })).await;
    assert_eq!(again.json::<Value>().await.unwrap()["recorded"], false, "a repeated status is ignored");
    let resolved = json!({ "report_id": id, "status": "resolved", "message": "井盖已更换 / The cover has been replaced" });
    assert_eq!(post_event(&app, Some(TOKEN), resolved).await.status(), 200);
    assert_eq!(post_event(&app, Some(TOKEN), json!({ "report_id": "nope", "status": "resolved" })).await.status(), 404);
    assert_eq!(post_event(&app, Some(TOKEN), json!({ "report_id": id, "status": "received" })).await.status(), 422);

    let status: Value = app.client.get(app.url(receipt["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "resolved");
    let steps: Vec<&str> = status["timeline"].as_array().unwrap().iter().map(|event| event["status"].as_str().unwrap()).collect();
    assert_eq!(steps.len(), 4);
    assert!(steps.contains(&"received") && steps.contains(&"forwarded") && steps.contains(&"accepted"));
    assert_eq!(steps.last(), Some(&"resolved"));
    assert_eq!(status["timeline"][3]["message"], "井盖已更换 / The cover has been replaced");
}

#[tokio::test]
async fn without_a_configured_token_every_status_event_is_refused() {
    let app = spawn_app().await;
    assert_eq!(post_event(&app, Some(""), json!({ "report_id": "x", "status": "accepted" })).await.status(), 403);
}
