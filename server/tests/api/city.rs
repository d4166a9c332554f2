//! The city's picture in public (`/city`, `/city.csv`, `/city.json`): the figures from real
//! reports in the real store, and k-anonymity on every figure — a cell with fewer reports
//! than the minimum is withheld on the page, in the CSV and in the JSON.

use serde_json::{Value, json};

use crate::helpers::{TestApp, manhole_report, spawn_app_with};

/// Six manhole reports in Daoli (five resolved and rated satisfied) and two street-light
/// reports in Nangang.
async fn seed(app: &TestApp) {
    // The manhole reports at one spot: a class of six.
    let mut manhole = manhole_report();
    manhole["location"]["lat"] = json!(45.7731);
    manhole["location"]["lon"] = json!(126.6176);
    for index in 0..6 {
        let receipt: Value = app.post_report(Some(&format!("m{index}")), &manhole, vec![]).await.json().await.unwrap();
        if index < 5 {
            let id = receipt["id"].as_str().unwrap();
            app.state.store.record_status(id, lianxin_contract::report::Status::Resolved, lianxin_server::ids::now_ms(), Some("已修复".into())).await.unwrap();
            let answer = json!({ "secret": receipt["follow_up_secret"], "answer_id": format!("a{index}"), "solved": true, "rating": "satisfied" });
            let url = app.url(&format!("/api/v1/reports/{}/answer", receipt["tracking_no"].as_str().unwrap()));
            assert_eq!(app.client.post(url).json(&answer).send().await.unwrap().status(), 200);
        }
    }
    let mut light = manhole_report();
    light["category"] = json!("street_light");
    light["location"]["district"] = json!("nangang");
    for index in 0..2 {
        assert_eq!(app.post_report(Some(&format!("l{index}")), &light, vec![]).await.status(), 201);
    }
}

#[tokio::test]
async fn the_figures_count_real_reports_and_withhold_every_small_cell() {
    let app = spawn_app_with(|_| {}).await;
    seed(&app).await;

    let data: Value = app.client.get(app.url("/city.json?lang=en")).send().await.unwrap().json().await.unwrap();
    assert_eq!((data["total"].as_u64(), data["min_count"].as_u64()), (Some(8), Some(5)));
    let category = |code: &str| data["categories"].as_array().unwrap().iter().find(|row| row["code"] == code).unwrap().clone();
    let manhole = category("manhole_cover");
    assert_eq!((manhole["reports"].as_u64(), manhole["satisfaction"].as_f64(), manhole["within_limit"].as_f64()), (Some(6), Some(1.0), Some(1.0)), "{manhole}");
    assert!(manhole["median_hours"].as_f64().unwrap() < 1.0);
    let light = category("street_light");
    assert_eq!(light["reports"], Value::Null, "two reports are withheld: {light}");
    let district = |code: &str| data["districts"].as_array().unwrap().iter().find(|row| row["code"] == code).unwrap()["reports"].clone();
    assert_eq!((district("daoli"), district("nangang")), (json!(6), Value::Null));
    assert_eq!(data["classes"], json!([{ "category": "manhole_cover", "kind": "place", "district": "daoli", "reports": 6, "resolved": 5 }]));

    // Every count the CSV shows is withheld or at least the minimum.
    let csv = app.client.get(app.url("/city.csv?lang=en")).send().await.unwrap().text().await.unwrap();
    for line in csv.lines().skip(1) {
        let reports = line.split(',').nth(3).unwrap();
        assert!(reports == "<5" || reports.parse::<u64>().unwrap() >= 5, "{line}");
    }
    assert!(csv.contains("category,street_light,Street light out or damaged,<5,,,"), "{csv}");
    // And the page: the withheld cells say so, and no count under five appears in a table.
    let page = app.client.get(app.url("/city?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("&lt; 5 (too few to show)") && page.contains("<title id=\"chart-categories\">By category</title>"), "{page}");
    for cell in page.split("<td class=\"number\">").skip(1) {
        let value = &cell[..cell.find("</td>").unwrap()];
        if let Ok(count) = value.parse::<u64>() {
            assert!(count >= 5, "a small count shows on the page: {value}");
        }
    }
    assert!(!page.contains("中央大街与西十二道街路口"), "no resident's words or address");
    // The largest class: six reports in Daoli, five resolved; its cell and words not shown.
    let classes = &page[page.find("<table id=\"classes\">").expect("the largest classes are listed")..];
    assert!(classes.contains("<td>Daoli District</td><td class=\"number\">6</td><td class=\"number\">5</td>"), "{classes}");
    assert!(!page.contains("45.77"), "no position finer than the district");

    let lower = spawn_app_with(|config| config.public.min_count = 2).await;
    seed(&lower).await;
    let data: Value = lower.client.get(lower.url("/city.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(data["categories"].as_array().unwrap().iter().find(|row| row["code"] == "street_light").unwrap()["reports"], 2, "the minimum is configurable");
}

#[tokio::test]
async fn unreadable_periods_are_refused_with_the_rule() {
    let app = spawn_app_with(|_| {}).await;
    for query in ["from=2026-13-01", "from=2026-11-30&to=2026-11-01", "from=2024-01-01&to=2026-11-01", "to=soon"] {
        let page = app.client.get(app.url(&format!("/city?lang=en&{query}"))).send().await.unwrap();
        assert_eq!(page.status(), 400, "{query}");
        assert!(page.text().await.unwrap().contains("Write dates as YYYY-MM-DD"));
        assert_eq!(app.client.get(app.url(&format!("/city.csv?{query}"))).send().await.unwrap().status(), 400);
    }
    let empty: Value = app.client.get(app.url("/city.json?from=2026-01-01&to=2026-01-31")).send().await.unwrap().json().await.unwrap();
    assert_eq!(empty["total"], Value::Null, "no reports is fewer than the minimum");
}
