//! Personal data: contact details are sealed at rest, reach the department only with
//! consent, and are purged with the photos once a report has been resolved for longer than
//! the retention period.

use lianxin_contract::report::Status;
use serde_json::{Value, json};

use crate::helpers::{jpeg, manhole_report, spawn_app, spawn_app_in, spawn_app_with};

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
    // Gone from the disk too, not only from the index: no file under the photo directory
    // (the packs included) still holds its compressed data.
    let old_bytes = lianxin_server::photos::strip_jpeg_metadata(&jpeg(300, 200)).unwrap();
    let recent_bytes = lianxin_server::photos::strip_jpeg_metadata(&jpeg(200, 300)).unwrap();
    let on_disk = |needle: &[u8]| files_under(&app.data_dir.path().join("photos")).iter().any(|file| std::fs::read(file).unwrap().windows(needle.len()).any(|window| window == needle));
    assert!(!on_disk(&old_bytes[old_bytes.len() / 2..]), "the old photo's bytes are gone from the disk");
    assert!(on_disk(&recent_bytes[recent_bytes.len() / 2..]), "the recent photo's bytes are found the same way");
    let old_report = store.outbox_report(old_receipt["id"].as_str().unwrap()).await.unwrap().message;
    assert_eq!(old_report.report.contact, None);
    let recent_report = store.outbox_report(recent_receipt["id"].as_str().unwrap()).await.unwrap().message;
    assert!(recent_report.report.contact.is_some());
    let status: Value = app.client.get(app.url(old_receipt["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "resolved", "the report itself stays");
    let again = lianxin_server::retention::purge_once(store, &app.state.photos, &app.state.config.privacy).await.unwrap();
    assert_eq!(again.reports, 0, "a purge is done once");
}

#[tokio::test]
async fn uploads_a_crashed_server_left_behind_are_removed_at_start_and_fresh_ones_kept() {
    let data_dir = tempfile::tempdir().unwrap();
    let spool = data_dir.path().join("uploads");
    std::fs::create_dir_all(&spool).unwrap();
    let left_behind = spool.join("upload-crashed");
    let in_use = spool.join("upload-in-flight");
    for path in [&left_behind, &in_use] {
        std::fs::write(path, b"\xff\xd8 a photo with its original GPS").unwrap();
    }
    let yesterday = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    std::fs::File::options().write(true).open(&left_behind).unwrap().set_modified(yesterday).unwrap();

    let _app = spawn_app_in(data_dir, |_| {}).await;

    assert!(!left_behind.exists(), "a day-old upload is gone");
    assert!(in_use.exists(), "an upload as new as a running request is kept");
}

#[tokio::test]
async fn every_closed_or_long_open_report_loses_its_personal_data_and_the_rest_keeps_it() {
    let app = spawn_app_with(|config| config.privacy.retention_days = 30).await;
    let mut report = manhole_report();
    report["location"] = json!({ "lat": 45.7730, "lon": 126.6180, "accuracy_m": 8.0, "district": "daoli", "address": "中央大街 88 号张家门口" });
    report["contact"] = json!({ "name": "张", "phone": "13904512345", "consent": true });
    let rejected: Value = app.post_report(Some("rejected"), &report, vec![jpeg(300, 200)]).await.json().await.unwrap();
    let open: Value = app.post_report(Some("open"), &report, vec![jpeg(200, 300)]).await.json().await.unwrap();
    app.wait_for_pipeline(2).await;
    let store = &app.state.store;
    let now = lianxin_server::ids::now_ms();
    let rejected_id = rejected["id"].as_str().unwrap();
    let message = Some("已电话联系张先生 13904512345，不属本部门职责".to_owned());
    store.record_status(rejected_id, Status::Rejected, now - 31 * 86_400_000, message).await.unwrap();

    let purged = lianxin_server::retention::purge_once(store, &app.state.photos, &app.state.config.privacy).await.unwrap();

    assert_eq!(purged.reports, 1, "the rejected report, closed 31 days ago");
    let scrubbed = store.outbox_report(rejected_id).await.unwrap().message;
    assert_eq!(scrubbed.report.contact, None);
    assert_eq!(scrubbed.report.description, "");
    let location = scrubbed.report.location.unwrap();
    assert_eq!((location.lat, location.lon, location.address.as_deref(), location.district.as_deref()), (None, None, None, Some("daoli")), "only the district stays");
    let status: Value = app.client.get(app.url(rejected["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert!(!status.to_string().contains("13904512345"), "the department's message went too: {status}");
    let kept = store.outbox_report(open["id"].as_str().unwrap()).await.unwrap().message;
    assert!(kept.report.contact.is_some() && kept.report.description.contains("井盖"), "an open, recent report keeps everything");

    // A report never closed loses its personal data once it is older than the open-report
    // retention (zero days here: every report accepted before now).
    let settings = lianxin_server::config::PrivacySettings { open_retention_days: 0, ..app.state.config.privacy };
    let purged = lianxin_server::retention::purge_once(store, &app.state.photos, &settings).await.unwrap();
    assert_eq!(purged.reports, 1);
    let expired = store.outbox_report(open["id"].as_str().unwrap()).await.unwrap().message;
    assert_eq!(expired.report.contact, None);
    assert_eq!(expired.report.description, "");
    assert_eq!(purged.unused_photos.len(), 1);
    assert!(!app.state.photos.store().exists(&purged.unused_photos[0]).await.unwrap(), "its photo file is gone");
}

#[tokio::test]
async fn a_photo_reused_by_a_new_report_while_the_purge_deletes_it_is_never_lost() {
    let app = spawn_app_with(|config| {
        config.privacy.retention_days = 30;
        config.security.reports_per_minute = 1000;
    })
    .await;
    let store = &app.state.store;
    for round in 0..12u32 {
        // The same photo (same bytes, so the same stored file) in an old, closed report and
        // in a new one arriving while the purge runs.
        let photo = jpeg(240 + round, 180);
        let old: Value = app.post_report(Some(&format!("old-{round}")), &manhole_report(), vec![photo.clone()]).await.json().await.unwrap();
        store.record_status(old["id"].as_str().unwrap(), Status::Resolved, lianxin_server::ids::now_ms() - 31 * 86_400_000, None).await.unwrap();
        let (key, report) = (format!("new-{round}"), manhole_report());
        let new_report = app.post_report(Some(&key), &report, vec![photo]);
        let purge = async {
            tokio::time::sleep(std::time::Duration::from_millis(u64::from(round % 4) * 3)).await;
            lianxin_server::retention::purge_once(store, &app.state.photos, &app.state.config.privacy).await.unwrap()
        };
        let (response, _) = tokio::join!(new_report, purge);
        let receipt: Value = response.json().await.unwrap();

        let stored = store.outbox_report(receipt["id"].as_str().unwrap()).await.unwrap().message;
        let sha256 = &stored.photos[0].sha256;
        assert!(app.state.photos.store().exists(sha256).await.unwrap(), "round {round}: the new report's photo file is there");
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).into_iter().flatten().flatten().flat_map(|entry| if entry.path().is_dir() { files_under(&entry.path()) } else { vec![entry.path()] }).collect()
}
