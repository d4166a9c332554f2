//! Personal data: contact details are sealed at rest, reach the department only with
//! consent, and are purged with the photos once a report has been resolved for longer than
//! the retention period.

use lianxin_contract::report::Status;
use serde_json::{Value, json};

use crate::helpers::{jpeg, manhole_report, spawn_app, spawn_app_with};

#[tokio::test]
async fn contact_details_are_sealed_in_the_database_but_reach_the_department() {
    let app = spawn_app().await;
    let mut report = manhole_report();
    report["contact"] = json!({ "name": "王秀英", "phone": "+86 139 0451 2345", "consent": true });

    assert_eq!(app.post_report(Some("k"), &report, vec![]).await.status(), 201);

    let line = &app.wait_for_pipeline(1).await[0];
    assert_eq!(line["report"]["contact"], json!({ "name": "王秀英", "phone": "13904512345", "consent": true }));
    let stored = app.database_bytes().await;
    assert!(!stored.windows(11).any(|window| window == b"13904512345"), "the phone number is not in the database in clear");
    assert!(!stored.windows("王秀英".len()).any(|window| window == "王秀英".as_bytes()), "the name is not in the database in clear");
}

#[tokio::test]
async fn contact_details_without_consent_are_refused() {
    let app = spawn_app().await;
    let mut report = manhole_report();
    report["contact"] = json!({ "phone": "13904512345", "consent": false });
    let response = app.post_report(Some("k"), &report, vec![]).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "contact.consent");
}

#[tokio::test]
async fn resolved_reports_lose_contact_and_photos_after_the_retention_period() {
    let app = spawn_app_with(|config| config.privacy.retention_days = 30).await;
    let mut old = manhole_report();
    old["contact"] = json!({ "phone": "13904512345", "consent": true });
    let old_receipt: Value = app.post_report(Some("old"), &old, vec![jpeg(300, 200)]).await.json().await.unwrap();
    let recent_receipt: Value = app.post_report(Some("recent"), &old, vec![jpeg(200, 300)]).await.json().await.unwrap();
    let lines = app.wait_for_pipeline(2).await;
    let photo_of = |id: &Value| lines.iter().find(|line| &line["id"] == id).unwrap()["photos"][0]["sha256"].as_str().unwrap().to_owned();
    let (old_photo, recent_photo) = (photo_of(&old_receipt["id"]), photo_of(&recent_receipt["id"]));
    let store = &app.state.store;
    let day = 86_400_000;
    let now = lianxin_server::ids::now_ms();
    store.record_status(old_receipt["id"].as_str().unwrap(), Status::Resolved, now - 31 * day, None).await.unwrap();
    store.record_status(recent_receipt["id"].as_str().unwrap(), Status::Resolved, now - 29 * day, None).await.unwrap();

    let purged = lianxin_server::retention::purge_once(store, &app.state.photos, &app.state.config.privacy).await.unwrap();

    assert_eq!(purged.reports, 1);
    assert!(!app.state.photos.store().exists(&old_photo).await.unwrap(), "the old photo is gone");
    assert!(app.state.photos.store().exists(&recent_photo).await.unwrap(), "the recent one stays");
    let old_report = store.outbox_report(old_receipt["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(old_report.report.contact, None);
    let recent_report = store.outbox_report(recent_receipt["id"].as_str().unwrap()).await.unwrap();
    assert!(recent_report.report.contact.is_some());
    let status: Value = app.client.get(app.url(old_receipt["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "resolved", "the report itself stays");
    let again = lianxin_server::retention::purge_once(store, &app.state.photos, &app.state.config.privacy).await.unwrap();
    assert_eq!(again.reports, 0, "a purge is done once");
}
