//! Relating reports of the same problem (bounded work, several senders for the
//! "neighbours keep reporting this" flag) and the nearby count with its coarsening.

use serde_json::{Value, json};

use crate::helpers::{TestApp, count_rows, spawn_app, spawn_app_with};

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

/// Files `report` as if it came through a trusted proxy from `client`.
async fn file_from(app: &TestApp, client: &str, key: &str, report: &Value) -> String {
    let response = app.report_request(Some(key), report, vec![]).header("X-Forwarded-For", client).send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_third_sender_of_one_problem_nearby_flags_it_with_the_related_ids() {
    let app = spawn_app_with(|config| config.security.trust_forwarded_for = true).await;
    let first = file_from(&app, "203.0.113.1", "1", &manhole_at(45.7610, 126.6200, None)).await;
    let second = file_from(&app, "203.0.113.2", "2", &manhole_at(45.7615, 126.6205, None)).await; // about 70 m away
    let third = file_from(&app, "2001:db8:3::1", "3", &manhole_at(45.7605, 126.6195, None)).await; // about 70 m the other way
    let far = file_from(&app, "203.0.113.4", "4", &manhole_at(45.7700, 126.6200, None)).await; // about 1 km

    let lines = app.wait_for_pipeline(4).await;

    assert_eq!(line_of(&lines, &first)["escalate"], false);
    assert_eq!(line_of(&lines, &second)["related"], json!([first]));
    assert_eq!(line_of(&lines, &second)["escalate"], false);
    assert_eq!(line_of(&lines, &third)["related"], json!([second, first]), "newest first");
    assert_eq!(line_of(&lines, &third)["related_count"], 2);
    assert_eq!(line_of(&lines, &third)["escalate"], true);
    assert_eq!(line_of(&lines, &far)["related"], json!([]));
}

#[tokio::test]
async fn one_sender_reporting_one_spot_again_and_again_makes_bounded_work_and_no_flag() {
    let app = spawn_app_with(|config| config.security.trust_forwarded_for = true).await;
    let mut ids = Vec::new();
    for index in 0..12 {
        // One IPv4 client, then one IPv6 client using a new address of its /64 each time.
        let client = if index < 6 { "198.51.100.7".to_owned() } else { format!("2001:db8:77:1::{:x}", index + 1) };
        ids.push(file_from(&app, &client, &format!("k{index}"), &manhole_at(45.7610, 126.6200, None)).await);
    }

    let lines = app.wait_for_pipeline(12).await;

    let last = line_of(&lines, ids.last().unwrap());
    let newest_five: Vec<&String> = ids[6..11].iter().rev().collect();
    assert_eq!(last["related"], json!(newest_five), "only the newest five ids travel");
    assert_eq!(last["related_count"], 11, "the count still says how many");
    // Two networks (the IPv4 address and the /64), so the IPv6 reports see one other sender.
    // (The pipeline also got class messages: twelve reports at one spot are a class.)
    assert!(lines.iter().filter(|line| line.get("message").is_none()).all(|line| line["escalate"] == false), "one or two senders never flag a problem");
    assert!(serde_json::to_vec(last).unwrap().len() < 4096);
    // 0 + 1 + … + 5, then 5 for each later report: never one row per earlier report.
    assert_eq!(count_rows(app.data_dir.path(), "relations").await, 15 + 6 * 5);
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
    assert_eq!(after["count"], 0, "resolved reports no longer count, and one open report is too few to show");
}

#[tokio::test]
async fn the_map_shows_open_reports_by_grid_cell_never_where_one_was_filed() {
    let app = spawn_app().await;
    // Two reports near Central Street, in one 100 m cell; one alone 500 m north; one 3 km away.
    let (lat, lon) = lianxin_server::geo::snap_to_grid(45.7610, 126.6200, 100.0);
    let filed = [(lat + 0.0001, lon - 0.0002), (lat - 0.0002, lon + 0.0003)];
    file(&app, "1", &manhole_at(filed[0].0, filed[0].1, Some("13904512345"))).await;
    file(&app, "2", &manhole_at(filed[1].0, filed[1].1, None)).await;
    file(&app, "3", &manhole_at(45.7655, 126.6200, None)).await;
    file(&app, "4", &manhole_at(45.7880, 126.6200, None)).await;
    let cells = |category: &'static str| app.client.get(app.url(&format!("/api/v1/reports/nearby/cells?lat=45.7630&lon=126.6210&category={category}"))).send();

    let answer: Value = cells("manhole_cover").await.unwrap().json().await.unwrap();
    assert_eq!((answer["cell_m"].as_u64(), answer["radius_m"].as_u64(), answer["days"].as_u64()), (Some(100), Some(1000), Some(30)));
    let shown = answer["cells"].as_array().unwrap();
    assert_eq!(shown.len(), 1, "the lone report and the far one are not shown: {answer}");
    assert_eq!(shown[0]["count"], 2);
    assert!((shown[0]["lat"].as_f64().unwrap() - lat).abs() < 1e-9 && (shown[0]["lon"].as_f64().unwrap() - lon).abs() < 1e-9, "the cell's centre, not a report's position: {answer}");
    for filed in filed {
        assert!(lianxin_server::geo::distance_m(filed.0, filed.1, lat, lon) > 1.0, "no report's own position is given");
    }
    let other: Value = cells("street_light").await.unwrap().json().await.unwrap();
    assert_eq!(other["cells"], json!([]));
    let unknown = cells("no_such_category").await.unwrap();
    assert_eq!(unknown.status(), 422);
    let off_earth = app.client.get(app.url("/api/v1/reports/nearby/cells?lat=95&lon=126.62&category=manhole_cover")).send().await.unwrap();
    assert_eq!(off_earth.status(), 422);
}

#[tokio::test]
async fn nearby_cannot_be_bisected_down_to_where_reports_were_filed() {
    let app = spawn_app_with(|config| config.security.reads_per_minute = 10_000).await;
    let (lat, lon) = (45.7610, 126.6200);
    file(&app, "1", &manhole_at(lat, lon, None)).await;
    file(&app, "2", &manhole_at(lat, lon, None)).await;
    // Walk north from 100 m to 220 m in 2 m steps: the 150 m circle's edge lies on the way.
    let mut answers: Vec<((i64, i64), u64)> = Vec::new();
    for step in 0..60 {
        let north = lat + (100.0 + 2.0 * f64::from(step)) / 111_320.0;
        let answer: Value = app.client.get(app.url(&format!("/api/v1/reports/nearby?lat={north}&lon={lon}&category=manhole_cover"))).send().await.unwrap().json().await.unwrap();
        let (cell_lat, cell_lon) = lianxin_server::geo::snap_to_grid(north, lon, 100.0);
        answers.push((((cell_lat * 1e7) as i64, (cell_lon * 1e7) as i64), answer["count"].as_u64().unwrap()));
    }

    // Within one grid cell every point gets the same answer: the edge of the circle can be
    // found no finer than a cell (about 100 m), never to the metre.
    for pair in answers.windows(2) {
        if pair[0].0 == pair[1].0 {
            assert_eq!(pair[0].1, pair[1].1, "two points of one cell answered differently: {answers:?}");
        }
    }
    assert!(answers.iter().any(|(_, count)| *count == 2) && answers.iter().any(|(_, count)| *count == 0), "the walk crosses the edge: {answers:?}");
}

#[tokio::test]
async fn status_and_nearby_reads_are_rate_limited_so_tracking_numbers_cannot_be_guessed_at_speed() {
    let app = spawn_app_with(|config| config.security.reads_per_minute = 3).await;
    let guess = |number: &'static str| app.client.get(app.url(&format!("/api/v1/reports/{number}"))).send();
    for number in ["AAAA2222", "AAAA2223", "AAAA2224"] {
        assert_eq!(guess(number).await.unwrap().status(), 404);
    }

    let fourth = guess("AAAA2225").await.unwrap();

    assert_eq!(fourth.status(), 429);
    assert!(fourth.headers().contains_key("retry-after"));
    let nearby = app.client.get(app.url("/api/v1/reports/nearby?lat=45.76&lon=126.62&category=manhole_cover")).send().await.unwrap();
    assert_eq!(nearby.status(), 429, "the nearby count shares the read limit");
    assert_eq!(app.client.get(app.url("/api/v1/catalog")).send().await.unwrap().status(), 200, "the catalog is not limited");
}

/// A new report relating to earlier ones takes a key-share lock on each of them (its
/// foreign keys), newest first. The forwarder recording deliveries of those same reports
/// must not wait for that lock: it used to take `FOR UPDATE`, in the opposite order, and a
/// round could deadlock with the insert (the pipeline then waited for the leases to expire).
/// PostgreSQL only (SQLite has one writer and no row locks).
#[tokio::test]
async fn recording_a_delivery_does_not_wait_for_a_new_report_relating_to_it() {
    let Some(_) = crate::helpers::postgres_under_test() else { return };
    let app = spawn_app().await;
    let first = file(&app, "1", &manhole_at(45.7610, 126.6200, None)).await;
    app.wait_for_pipeline(1).await;

    let url = crate::helpers::database_url_for(app.data_dir.path()).await.unwrap();
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let relating = client.transaction().await.unwrap();
    // What `INSERT INTO relations (report_id, related_id)` takes on the related report.
    relating.execute("SELECT 1 FROM reports WHERE id = $1 FOR KEY SHARE", &[&first]).await.unwrap();

    let recorded = tokio::time::timeout(std::time::Duration::from_secs(3), app.state.store.mark_delivered(vec![(first.clone(), None)])).await;
    relating.rollback().await.unwrap();
    assert!(matches!(recorded, Ok(Ok(()))), "the record waited for the relating insert: {recorded:?}");
}
