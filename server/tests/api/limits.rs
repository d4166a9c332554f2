//! Every intake limit is enforced while the body streams in: over a limit the request gets
//! 413 (or 422 for text) naming the limit, and nothing is stored.

use serde_json::{Value, json};

use crate::helpers::{TestApp, jpeg, manhole_report, spawn_app, spawn_app_with};

fn photo_files(app: &TestApp) -> usize {
    crate::helpers::stored_photos(app)
}

async fn expect_limit(app: &TestApp, report: &Value, photos: Vec<Vec<u8>>, status: u16, limit: &str) {
    let response = app.post_report(Some(&format!("key-{limit}")), report, photos).await;
    assert_eq!(response.status().as_u16(), status, "{limit}");
    let problem: Value = response.json().await.unwrap();
    if status == 413 {
        assert_eq!(problem["limit"]["name"], limit, "the problem names {limit} for programs: {problem}");
        assert!(!problem["detail"].as_str().unwrap().contains(limit), "and words it for the resident: {problem}");
    } else {
        assert!(problem.to_string().contains(limit), "the problem names {limit}: {problem}");
    }
    assert_eq!(app.stored_reports().await, 0, "{limit}: nothing stored");
    assert_eq!(photo_files(app), 0, "{limit}: no photo file left");
}

#[tokio::test]
async fn body_over_the_limit_is_refused_with_413() {
    let app = spawn_app_with(|config| config.limits.body_bytes = 100 * 1024).await;
    let big = jpeg(1200, 1200);
    assert!(big.len() > 100 * 1024);
    expect_limit(&app, &manhole_report(), vec![big], 413, "body_bytes").await;
}

#[tokio::test]
async fn more_photos_than_allowed_is_refused_with_413() {
    let app = spawn_app_with(|config| config.limits.photos = 2).await;
    expect_limit(&app, &manhole_report(), vec![jpeg(32, 32), jpeg(32, 32), jpeg(32, 32)], 413, "photos").await;
}

#[tokio::test]
async fn photo_over_the_byte_limit_is_refused_with_413() {
    let app = spawn_app_with(|config| config.limits.photo_bytes = 20 * 1024).await;
    expect_limit(&app, &manhole_report(), vec![jpeg(32, 32), jpeg(800, 800)], 413, "photo_bytes").await;
}

#[tokio::test]
async fn photo_over_the_pixel_limit_is_refused_with_413() {
    let app = spawn_app_with(|config| config.limits.photo_pixels = 1_000_000).await;
    expect_limit(&app, &manhole_report(), vec![jpeg(64, 64), jpeg(1200, 1000)], 413, "photo_pixels").await;
}

#[tokio::test]
async fn report_json_over_the_limit_is_refused_with_413() {
    let app = spawn_app_with(|config| config.limits.json_bytes = 1024).await;
    let mut report = manhole_report();
    report["description"] = json!("井".repeat(600));
    expect_limit(&app, &report, vec![], 413, "json_bytes").await;
}

#[tokio::test]
async fn description_over_the_limit_is_refused_with_422() {
    let app = spawn_app_with(|config| config.limits.description_chars = 10).await;
    let mut report = manhole_report();
    report["description"] = json!("一二三四五六七八九十一");
    expect_limit(&app, &report, vec![], 422, "too_long").await;
}

#[tokio::test]
async fn field_over_its_length_is_refused_with_422_naming_the_field() {
    let app = spawn_app().await;
    let report = json!({
        "category": "restaurant_fumes", "kind": "complaint", "description": "油烟很大",
        "fields": { "business_name": "店".repeat(61) }, "location": { "district": "daoli" },
    });
    expect_limit(&app, &report, vec![], 422, "fields.business_name").await;
}

#[tokio::test]
async fn malformed_values_are_refused_with_422_naming_the_field() {
    let app = spawn_app().await;
    for (report, field) in [
        (json!({ "category": "manhole_cover", "kind": "complaint", "description": "x", "location": { "lat": "north" } }), "location.lat"),
        (json!({ "category": "manhole_cover", "kind": "moan", "description": "x" }), "kind"),
        (json!({ "category": "manhole_cover", "kind": "complaint", "description": 5 }), "description"),
        (json!({ "category": "manhole_cover", "kind": "complaint", "description": "x", "extra": 1 }), "extra"),
    ] {
        let response = app.post_report(Some(field), &report, vec![]).await;
        assert_eq!(response.status(), 422, "{field}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert_eq!(problem["errors"][0]["rule"], "malformed");
    }
    let response = app.client.post(app.url("/api/v1/reports")).header("Idempotency-Key", "broken").multipart(reqwest::multipart::Form::new().text("report", "{not json")).send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().await.unwrap()["errors"][0]["field"], "report");
    assert_eq!(app.stored_reports().await, 0);
}

#[tokio::test]
async fn missing_required_field_is_refused_with_422_naming_it() {
    let app = spawn_app().await;
    let report =
        json!({ "category": "heating_too_cold", "kind": "complaint", "description": "家里只有12度", "location": { "district": "daoli" }, "contact": { "phone": "13812345678", "consent": true } });
    expect_limit(&app, &report, vec![], 422, "fields.indoor_temperature").await;
}

#[tokio::test]
async fn markup_in_the_description_is_stored_verbatim_and_only_served_as_json() {
    let app = spawn_app().await;
    let mut report = manhole_report();
    let markup = "<script>alert('x')</script><img src=x onerror=alert(1)> 井盖";
    report["description"] = json!(markup);

    let receipt: Value = app.post_report(Some("k"), &report, vec![]).await.json().await.unwrap();

    let line = &app.wait_for_pipeline(1).await[0];
    assert_eq!(line["report"]["description"], markup);
    let status = app.client.get(app.url(receipt["status_url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(status.headers()["content-type"], "application/json");
    assert_eq!(status.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn non_multipart_body_is_refused_with_400() {
    let app = spawn_app().await;
    let response = app.client.post(app.url("/api/v1/reports")).header("Idempotency-Key", "k").json(&manhole_report()).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "urn:lianxin:problem:not-multipart", "what was wrong, for the app's developers");
    assert!(!problem["detail"].as_str().unwrap().contains("multipart"), "no jargon for the resident: {problem}");
}
