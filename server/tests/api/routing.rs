//! Relating reports of the same problem, escalation, the nearby count and status coming
//! back from the pipeline.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

fn manhole_at(lat: f64, lon: f64, phone: Option<&str>) -> Value {
    let mut report = json!({
        "category": "manhole_cover", "kind": "complaint", "description": "井盖缺失",
        "location": { "lat": lat, "lon": lon, "accuracy_m": 10.0, "district": "nangang" },
    });
    if let Some(phone) = phone {
        report["contact"] = json!({ "phone": phone, "consent": true });
    }
    report
}

async fn file(app: &TestApp, key: &str, report: &Value) -> String {
    let response = app.post_report(Some(key), report, vec![]).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

fn line_of<'a>(lines: &'a [Value], id: &str) -> &'a Value {
    lines.iter().find(|line| line["id"] == id).unwrap()
}

#[tokio::test]
async fn the_third_report_of_one_problem_nearby_is_escalated_with_the_related_ids() {
    let app = spawn_app().await;
    let first = file(&app, "1", &manhole_at(45.7610, 126.6200, None)).await;
    let second = file(&app, "2", &manhole_at(45.7615, 126.6205, None)).await; // about 70 m away
    let third = file(&app, "3", &manhole_at(45.7605, 126.6195, None)).await; // about 70 m the other way
    let far = file(&app, "4", &manhole_at(45.7700, 126.6200, None)).await; // about 1 km

    let lines = app.wait_for_pipeline(4).await;

    assert_eq!(line_of(&lines, &first)["escalate"], false);
    assert_eq!(line_of(&lines, &second)["related"], json!([first]));
    assert_eq!(line_of(&lines, &second)["escalate"], false);
    let mut related = vec![first.clone(), second.clone()];
    related.sort();
    assert_eq!(line_of(&lines, &third)["related"], json!(related));
    assert_eq!(line_of(&lines, &third)["escalate"], true);
    assert_eq!(line_of(&lines, &far)["related"], json!([]));
}

#[tokio::test]
async fn reports_from_the_same_phone_are_related_wherever_they_are() {
    let app = spawn_app().await;
    let first = file(&app, "1", &manhole_at(45.70, 126.60, Some("13904512345"))).await;
    let second = file(&app, "2", &manhole_at(45.80, 126.70, Some("+86 139 0451 2345"))).await;
    let stranger = file(&app, "3", &manhole_at(45.90, 126.80, Some("13800000000"))).await;
    let lines = app.wait_for_pipeline(3).await;
    assert_eq!(line_of(&lines, &second)["related"], json!([first]));
    assert_eq!(line_of(&lines, &stranger)["related"], json!([]));
}

#[tokio::test]
async fn nearby_counts_open_reports_of_the_category_without_personal_data() {
    let app = spawn_app().await;
    file(&app, "1", &manhole_at(45.7610, 126.6200, Some("13904512345"))).await;
    let second = file(&app, "2", &manhole_at(45.7612, 126.6201, None)).await;
    file(&app, "3", &manhole_at(45.7800, 126.6200, None)).await;
    let nearby = |category: &'static str| app.client.get(app.url(&format!("/api/v1/reports/nearby?lat=45.7611&lon=126.6200&category={category}"))).send();

    let answer: Value = nearby("manhole_cover").await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({ "count": 2, "radius_m": 150, "days": 30 }));
    let other: Value = nearby("street_light").await.unwrap().json().await.unwrap();
    assert_eq!(other["count"], 0);
    assert_eq!(nearby("no_such_category").await.unwrap().status(), 422);

    app.state.store.record_status(&second, lianxin_contract::report::Status::Resolved, lianxin_server::ids::now_ms(), None).await.unwrap();
    let after: Value = nearby("manhole_cover").await.unwrap().json().await.unwrap();
    assert_eq!(after["count"], 1, "resolved reports no longer count");
}

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
    let response = app.post_report(Some("k"), &manhole_at(45.76, 126.62, None), vec![]).await;
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
