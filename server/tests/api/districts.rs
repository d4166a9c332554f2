//! `GET /api/v1/districts/locate` and routing a report by its position.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

fn test_city() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/test_city.toml"))
}

async fn locate(app: &crate::helpers::TestApp, lat: f64, lon: f64) -> Value {
    app.client.get(app.url(&format!("/api/v1/districts/locate?lat={lat}&lon={lon}"))).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn points_are_placed_in_the_district_whose_boundary_holds_them() {
    let app = spawn_app_with(|config| config.catalog = Some(test_city())).await;
    for (lat, lon, expected) in [
        (45.05, 126.05, json!("west")),
        (45.25, 126.15, json!("notch")),
        (45.25, 126.25, json!("west")),
        (45.05, 126.45, json!("east")),
        (45.15, 126.45, Value::Null),
        (45.05, 127.05, json!("east")),
        (46.0, 126.0, Value::Null),
    ] {
        let answer = locate(&app, lat, lon).await;
        assert_eq!(answer["district"], expected, "({lat}, {lon})");
        assert_eq!(answer["boundaries_known"], true);
    }
}

#[tokio::test]
async fn without_boundaries_the_district_is_unknown() {
    let app = spawn_app().await;
    let answer = locate(&app, 45.76, 126.62).await;
    assert_eq!(answer, json!({ "district": null, "boundaries_known": false }));
}

#[tokio::test]
async fn coordinates_outside_the_globe_are_refused() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/v1/districts/locate?lat=91&lon=0")).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let response = app.client.get(app.url("/api/v1/districts/locate?lat=north")).send().await.unwrap();
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn a_reported_position_routes_the_report_to_its_district_over_the_residents_choice() {
    let app = spawn_app_with(|config| config.catalog = Some(test_city())).await;
    let report = json!({
        "category": "pothole", "kind": "complaint", "description": "a deep hole",
        "location": { "lat": 45.25, "lon": 126.15, "accuracy_m": 12.0, "district": "west" },
    });
    assert_eq!(app.post_report(Some("k"), &report, vec![]).await.status(), 201);
    let lines = app.wait_for_pipeline(1).await;
    assert_eq!(lines[0]["district"], "notch");
}

#[tokio::test]
async fn server_refuses_to_start_on_an_invalid_catalog_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.toml");
    let text = std::fs::read_to_string(test_city()).unwrap().replace("department = \"roads\"", "department = \"parks\"");
    std::fs::write(&file, text).unwrap();
    let config = lianxin_server::Config { addr: "127.0.0.1:0".parse().unwrap(), data_dir: dir.path().join("data"), catalog: Some(file), ..Default::default() };
    let error = lianxin_server::Application::build(config).await.unwrap_err();
    assert_eq!(format!("{error:#}"), "catalog entry category \"pothole\": department \"parks\" is not in the catalog");
}
