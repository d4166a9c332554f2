//! Classes of cases against the real store: reports at one place, or naming one subject
//! however it is typed, form a class at the threshold; the pipeline gets `class` once,
//! `class_grew` per new member and `hotspot` once a subject's complaints concentrate —
//! exactly once also with two servers taking reports into one PostgreSQL database.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, database_url_for, manhole_report, spawn_app_with};

fn at(lat: f64, lon: f64) -> Value {
    let mut report = manhole_report();
    report["location"]["lat"] = json!(lat);
    report["location"]["lon"] = json!(lon);
    report
}

fn messages(app: &TestApp, kind: &str) -> Vec<Value> {
    app.pipeline_lines().into_iter().filter(|line| line["message"] == kind).collect()
}

async fn wait_until(app: &TestApp, kind: &str, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        if messages(app, kind).len() >= count {
            return messages(app, kind);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never {count} {kind} messages: {:?}", app.pipeline_lines());
}

#[tokio::test]
async fn reports_at_one_place_form_a_class_once_and_it_grows() {
    let app = spawn_app_with(|_| {}).await;
    let mut receipts = Vec::new();
    for index in 0..4 {
        // Within a few metres of each other: one grid cell.
        let receipt: Value = app.post_report(Some(&format!("place-{index}")), &at(45.77310 + index as f64 * 0.00001, 126.61760), vec![]).await.json().await.unwrap();
        receipts.push(receipt);
    }
    let class = wait_until(&app, "class", 1).await;
    let grew = wait_until(&app, "class_grew", 1).await;
    assert_eq!(class.len(), 1, "the class message goes once");
    assert_eq!((class[0]["class"]["count"].as_u64(), class[0]["class"]["kind"].as_str()), (Some(3), Some("place")));
    assert_eq!(class[0]["report_id"], receipts[2]["id"], "sent with the report that completed it");
    assert_eq!(class[0]["class"]["members"].as_array().unwrap().len(), 3);
    assert_eq!(grew[0]["class"]["count"], 4);
    let status: Value = app.client.get(app.url(receipts[0]["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["class_size"], 4);
    let tracking = receipts[0]["tracking_no"].as_str().unwrap();
    let page = app.client.get(app.url(&format!("/r/{tracking}?lang=en"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Handled together with 3 similar reports"), "{page}");
    // Far away: another place, no class.
    app.post_report(Some("far"), &at(45.80, 126.70), vec![]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(messages(&app, "class").len(), 1);
}

#[tokio::test]
async fn one_subject_typed_many_ways_is_one_class_and_becomes_a_hotspot() {
    let app = spawn_app_with(|_| {}).await;
    let spellings = ["老厨家 Lao Chu Jia", "老厨家lao chu jia", "老厨家ＬＡＯ ＣＨＵ ＪＩＡ", "老 厨 家 LAO-CHU-JIA", "老厨家·laochujia"];
    for (index, name) in spellings.iter().enumerate() {
        // Places far apart, so only the subject brings them together.
        let report = json!({
            "category": "restaurant_fumes",
            "kind": "complaint",
            "description": "油烟直排进居民楼",
            "fields": { "business_name": name },
            "location": { "lat": 45.70 + index as f64 * 0.05, "lon": 126.60, "district": "daoli" },
            "lang": "zh-CN"
        });
        let response = app.post_report(Some(&format!("subject-{index}")), &report, vec![]).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }
    let class = wait_until(&app, "class", 1).await;
    assert_eq!((class[0]["class"]["kind"].as_str(), class[0]["class"]["label"].as_str()), (Some("subject"), Some("老厨家LAOCHUJIA")));
    let hotspot = wait_until(&app, "hotspot", 1).await;
    assert_eq!(hotspot[0]["class"]["count"], 5);
    // The messages a report made are due one after another, so they may go in separate rounds.
    wait_until(&app, "class_grew", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages(&app, "class_grew").len(), 2);
    let classes = app.state.store.classes(10).await.unwrap();
    assert_eq!(classes.iter().filter(|class| class.kind == "subject").map(|class| class.members).collect::<Vec<_>>(), [5]);
}

#[tokio::test]
async fn two_servers_taking_reports_into_one_database_send_each_class_message_once() {
    let first = spawn_app_with(|_| {}).await;
    let Some(url) = database_url_for(first.data_dir.path()).await else {
        eprintln!("skipped: two servers share a database only on PostgreSQL (LIANXIN_TEST_DATABASE)");
        return;
    };
    let second = spawn_app_with(|config| config.storage.database_url = url.as_str().into()).await;
    // Sent at once, half to each server.
    let posts: Vec<_> = (0..8)
        .map(|index| {
            let app = if index % 2 == 0 { &first } else { &second };
            tokio::spawn(app.report_request(Some(&format!("both-{index}")), &at(45.7731, 126.6176), vec![]).send())
        })
        .collect();
    for post in posts {
        assert_eq!(post.await.unwrap().unwrap().status(), 201);
    }
    let all = |kind: &str| messages(&first, kind).into_iter().chain(messages(&second, kind)).collect::<Vec<_>>();
    for _ in 0..200 {
        if all("class_grew").len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(all("class").len(), 1, "one class message across both servers");
    let mut grew: Vec<u64> = all("class_grew").iter().map(|message| message["class"]["count"].as_u64().unwrap()).collect();
    grew.sort_unstable();
    assert_eq!(grew, [4, 5, 6, 7, 8], "each member once");
}

#[tokio::test]
async fn a_category_sets_its_own_threshold_and_an_unknown_one_is_named_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let harbin = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/harbin.toml")).unwrap();
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(&catalog, format!("{harbin}\n[classes.categories.manhole_cover]\nthreshold = 2\n")).unwrap();
    let app = spawn_app_with(|config| config.catalog = Some(catalog.clone())).await;
    for index in 0..2 {
        app.post_report(Some(&format!("two-{index}")), &at(45.7731, 126.6176), vec![]).await;
    }
    let class = wait_until(&app, "class", 1).await;
    assert_eq!(class[0]["class"]["count"], 2, "manhole covers form a class at two");

    let wrong = dir.path().join("wrong.toml");
    std::fs::write(&wrong, format!("{harbin}\n[classes.categories.no_such_category]\nthreshold = 2\n")).unwrap();
    let mut config = lianxin_server::Config { addr: "127.0.0.1:0".parse().unwrap(), data_dir: dir.path().to_owned(), catalog: Some(wrong), ..Default::default() };
    config.widget_dir = dir.path().join("no-widget");
    let refused = lianxin_server::Application::build(config).await.expect_err("the server refuses the catalog");
    assert!(format!("{refused:#}").contains("category \"no_such_category\" is not in the catalog"), "{refused:#}");
}
