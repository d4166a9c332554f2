//! `POST /api/v1/reports` and `GET /api/v1/reports/{tracking_no}`.

use serde_json::{Value, json};

use crate::helpers::{count_rows, jpeg, manhole_report, spawn_app, spawn_app_in, spawn_app_with};

#[tokio::test]
async fn report_with_photo_is_stored_and_forwarded_once() {
    let app = spawn_app().await;

    let response = app.post_report(Some("key-1"), &manhole_report(), vec![jpeg(640, 480)]).await;

    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    let tracking_no = receipt["tracking_no"].as_str().unwrap();
    assert_eq!(receipt["status_url"], format!("/api/v1/reports/{tracking_no}"));
    let lines = app.wait_for_pipeline(1).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], receipt["id"]);
    assert_eq!(lines[0]["tracking_no"], tracking_no);
    assert_eq!(lines[0]["department"], "urban_management");
    assert_eq!(lines[0]["district"], "daoli");
    let sha256 = lines[0]["photos"][0]["sha256"].as_str().unwrap();
    assert!(app.state.photos.store().exists(sha256).await.unwrap(), "photo {sha256} is stored");
}

#[tokio::test]
async fn retry_with_same_key_and_body_returns_the_original_receipt() {
    let app = spawn_app().await;
    let photo = jpeg(100, 100);
    let first: Value = app.post_report(Some("same"), &manhole_report(), vec![photo.clone()]).await.json().await.unwrap();

    let retry = app.post_report(Some("same"), &manhole_report(), vec![photo]).await;

    assert_eq!(retry.status(), 200);
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.wait_for_pipeline(1).await.len(), 1, "forwarded once");
}

#[tokio::test]
async fn same_key_with_a_different_report_is_refused() {
    let app = spawn_app().await;
    assert_eq!(app.post_report(Some("k"), &manhole_report(), vec![]).await.status(), 201);
    let mut other = manhole_report();
    other["description"] = json!("另一处井盖");

    let response = app.post_report(Some("k"), &other, vec![]).await;

    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "urn:lianxin:problem:idempotency-key-reused");
}

#[tokio::test]
async fn report_without_idempotency_key_is_refused() {
    let app = spawn_app().await;
    let response = app.post_report(None, &manhole_report(), vec![]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn report_with_unknown_category_is_rejected_naming_the_field_in_the_residents_language() {
    let app = spawn_app().await;
    let mut report = manhole_report();
    report["category"] = json!("no_such_thing");
    report["lang"] = json!("en");

    let response = app.post_report(Some("k"), &report, vec![]).await;

    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "category");
    assert_eq!(problem["errors"][0]["rule"], "unknown_category");
    assert_eq!(problem["errors"][0]["message"], "Please choose a category from the list");
    assert!(app.pipeline_lines().is_empty());
}

#[tokio::test]
async fn file_that_is_not_a_photo_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let response = app.post_report(Some("k"), &manhole_report(), vec![b"PK\x03\x04 this is a zip".to_vec()]).await;
    assert_eq!(response.status(), 415);
    let status = app.post_report(Some("k"), &manhole_report(), vec![]).await.status();
    assert_eq!(status, 201, "the key was not used up by the refused request");
}

#[tokio::test]
async fn status_shows_the_timeline_without_personal_data() {
    let app = spawn_app().await;
    let mut report = manhole_report();
    report["contact"] = json!({ "name": "王女士", "phone": "13812345678", "consent": true });
    let receipt: Value = app.post_report(Some("k"), &report, vec![]).await.json().await.unwrap();
    app.wait_for_pipeline(1).await;

    let url = app.url(receipt["status_url"].as_str().unwrap());
    let body = app.client.get(url).send().await.unwrap().text().await.unwrap();

    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["status"], "forwarded");
    assert_eq!(status["timeline"][0]["status"], "received");
    assert!(!body.contains("13812345678") && !body.contains("王女士"), "{body}");
    assert_eq!(app.pipeline_lines()[0]["report"]["contact"]["phone"], "13812345678", "consented contact reaches the department");
}

#[tokio::test]
async fn unknown_tracking_number_is_404() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/v1/reports/ABCD-EFGH")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_backlog_larger_than_a_round_goes_in_rounds_of_the_configured_size() {
    // Rounds of 4; after a small round the forwarder waits long enough for nine reports to
    // queue up behind it.
    let app = spawn_app_with(|config| {
        config.forwarder.round_size = 4;
        config.forwarder.gather_ms = 2000;
    })
    .await;
    assert_eq!(app.post_report(Some("first"), &manhole_report(), vec![]).await.status(), 201);
    app.wait_for_pipeline(1).await;
    for index in 0..9 {
        assert_eq!(app.post_report(Some(&format!("queued-{index}")), &manhole_report(), vec![]).await.status(), 201);
    }
    let lines = app.wait_for_pipeline(10).await;

    assert_eq!(lines.len(), 10, "each report once");
    // A round records its deliveries at one time: the nine took rounds of 4, 4 and 1 (two
    // back-to-back rounds may share a millisecond, never all three).
    let rounds = count_rows(app.data_dir.path(), "(SELECT DISTINCT delivered_ms FROM outbox) AS rounds").await;
    assert!(rounds >= 3, "{rounds} rounds: the first report, then the nine in more than one");
    let whole = count_rows(app.data_dir.path(), "(SELECT delivered_ms FROM outbox GROUP BY delivered_ms HAVING count(*) >= 9) AS whole").await;
    assert_eq!(whole, 0, "the nine were not taken in one round");
}

#[tokio::test]
async fn reports_filed_while_the_forwarder_gathers_reach_the_pipeline_in_one_round() {
    // Long enough that filing four reports surely fits in it, even on a loaded machine.
    let app = spawn_app_with(|config| config.forwarder.gather_ms = 2000).await;
    assert_eq!(app.post_report(Some("first"), &manhole_report(), vec![]).await.status(), 201);
    app.wait_for_pipeline(1).await;

    // The first report's round carried it alone, so the forwarder now waits for more.
    for key in ["second", "third", "fourth", "fifth"] {
        assert_eq!(app.post_report(Some(key), &manhole_report(), vec![]).await.status(), 201);
    }
    let lines = app.wait_for_pipeline(5).await;

    assert_eq!(lines.len(), 5, "each report once");
    // A round records its deliveries together, at one time.
    let rounds = count_rows(app.data_dir.path(), "(SELECT DISTINCT delivered_ms FROM outbox) AS rounds").await;
    assert_eq!(rounds, 2, "the first report, then the four filed while the forwarder gathered");
}

/// A city that upgraded keeps its residents' numbers: a report whose number was drawn at
/// random before the numbers came from a sequence (as every report stored before migration
/// 12) is found by it, typed as a person types it, beside the reports numbered since; and
/// a number no report has is not found.
#[tokio::test]
async fn numbers_drawn_before_the_sequence_are_found_beside_the_new_ones() {
    let app = spawn_app_with(|config| config.storage.database_url = "".into()).await;
    let first: Value = app.post_report(Some("drawn-1"), &manhole_report(), vec![]).await.json().await.unwrap();
    let data_dir = app.shut_down().await;
    {
        // What migration 12 leaves of a report stored before it: its drawn number as text,
        // no sequence number.
        let connection = rusqlite::Connection::open(data_dir.path().join("lianxin.sqlite3")).unwrap();
        let changed = connection.execute("UPDATE reports SET tracking_no = '7KQM-4XHD', tracking_seq = NULL WHERE id = ?1", [first["id"].as_str().unwrap()]).unwrap();
        assert_eq!(changed, 1);
    }
    let app = spawn_app_in(data_dir, |config| config.storage.database_url = "".into()).await;
    let second: Value = app.post_report(Some("drawn-2"), &manhole_report(), vec![]).await.json().await.unwrap();
    let second_number = second["tracking_no"].as_str().unwrap();
    assert_ne!(second_number, "7KQM-4XHD");

    for (typed, found) in [("7kqm 4xhd", Some("7KQM-4XHD")), (second_number, Some(second_number)), ("2222-2222", None)] {
        let response = app.client.get(app.url(&format!("/api/v1/reports/{typed}"))).send().await.unwrap();
        match found {
            Some(number) => {
                assert_eq!(response.status(), 200, "{typed}");
                assert_eq!(response.json::<Value>().await.unwrap()["tracking_no"], number);
            }
            None => assert_eq!(response.status(), 404, "{typed}"),
        }
    }
}
