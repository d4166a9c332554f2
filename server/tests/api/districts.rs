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
    // The Harbin catalog with its boundaries taken out, as a city may run it.
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("no-boundaries.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/harbin.toml")).unwrap();
    std::fs::write(&catalog, text.lines().filter(|line| !line.starts_with("boundary = ")).collect::<Vec<_>>().join("\n")).unwrap();
    let app = spawn_app_with(|config| config.catalog = Some(catalog.clone())).await;
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

/// The built-in Harbin catalog carries real boundaries (from AMap-derived GeoJSON, GCJ-02
/// converted to WGS 84): well-known places are placed in their districts, a report's
/// position overrides the resident's choice, and a point outside every district keeps it.
#[tokio::test]
async fn harbins_boundaries_place_well_known_places_in_their_districts() {
    let app = spawn_app().await;
    // WGS 84 positions as Wikipedia gives them.
    let places = [
        ("Central Street", 45.7735, 126.6175, "daoli"),
        ("St. Sophia Cathedral", 45.76809, 126.62152, "daoli"),
        ("Harbin railway station (250 m from the Daoli border)", 45.75778, 126.62444, "nangang"),
        ("Sun Island, across the Songhua", 45.7900, 126.6000, "songbei"),
        ("Stalin Park, on the south bank", 45.7760, 126.6200, "daoli"),
    ];
    for (place, lat, lon, district) in places {
        let located: Value = app.client.get(app.url(&format!("/api/v1/districts/locate?lat={lat}&lon={lon}"))).send().await.unwrap().json().await.unwrap();
        assert_eq!(located["district"], district, "{place}");
    }
    let catalog: Value = app.client.get(app.url("/api/v1/catalog?lang=en")).send().await.unwrap().json().await.unwrap();
    let districts = catalog["districts"].as_array().unwrap();
    assert_eq!(districts.len(), 18, "9 districts and 9 counties and county-level cities");
    assert!(districts.iter().all(|district| district["admin_code"].as_str().is_some_and(|code| code.starts_with("2301") && code.len() == 6)));
    assert!(!catalog.to_string().contains("coordinates"), "boundaries stay on the server");

    // The position decides over the resident's choice; outside every district, the choice stays.
    let mut report = crate::helpers::manhole_report();
    report["location"] = json!({ "lat": 45.76809, "lon": 126.62152, "district": "nangang" });
    app.post_report(Some("sophia"), &report, vec![]).await;
    report["location"] = json!({ "lat": 39.9087, "lon": 116.3975, "district": "nangang" });
    app.post_report(Some("far-away"), &report, vec![]).await;
    let lines = app.wait_for_pipeline(2).await;
    let districts: Vec<&str> = lines.iter().map(|line| line["district"].as_str().unwrap()).collect();
    assert_eq!(districts, ["daoli", "nangang"]);
}
