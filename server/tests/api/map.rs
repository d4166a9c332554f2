//! `GET /api/v1/map`, the catalog's `map` flag and the CSP's `img-src`: what the widget's
//! map loads with, present exactly when the city configured tiles.

use lianxin_server::config::{MapCoordinates, MapSettings};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

fn tianditu() -> MapSettings {
    MapSettings {
        tiles: "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec&TILEMATRIXSET=w&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=test".into(),
        labels: "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=cva&TILEMATRIXSET=w&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=test".into(),
        subdomains: vec!["0".into(), "1".into()],
        attribution: "天地图".into(),
        coordinates: MapCoordinates::Gcj02,
        center: Some([45.7567, 126.6424]),
        ..MapSettings::default()
    }
}

#[tokio::test]
async fn a_configured_map_is_announced_and_described_and_its_tiles_alone_are_allowed() {
    let app = spawn_app_with(|config| config.map = tianditu()).await;
    let catalog: Value = app.client.get(app.url("/api/v1/catalog")).send().await.unwrap().json().await.unwrap();
    assert_eq!(catalog["map"], true);

    let answer = app.client.get(app.url("/api/v1/map")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let map: Value = answer.json().await.unwrap();
    assert_eq!((map["coordinates"].as_str(), map["zoom"].as_u64(), map["min_zoom"].as_u64(), map["max_zoom"].as_u64()), (Some("gcj02"), Some(16), Some(3), Some(18)));
    assert_eq!(map["subdomains"], serde_json::json!(["0", "1"]));
    assert_eq!((map["center"]["lat"].as_f64(), map["center"]["lon"].as_f64()), (Some(45.7567), Some(126.6424)));
    assert!(map["tiles"].as_str().unwrap().contains("{z}") && map["labels"].as_str().unwrap().contains("cva_w"));

    // Opening on a district: the middle of its boundary, which the district lookup places in it.
    let daoli: Value = app.client.get(app.url("/api/v1/map?district=daoli")).send().await.unwrap().json().await.unwrap();
    let (lat, lon) = (daoli["center"]["lat"].as_f64().unwrap(), daoli["center"]["lon"].as_f64().unwrap());
    assert_ne!((lat, lon), (45.7567, 126.6424));
    let located: Value = app.client.get(app.url(&format!("/api/v1/districts/locate?lat={lat}&lon={lon}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(located["district"], "daoli");
    // An unknown district opens on the city centre.
    let unknown: Value = app.client.get(app.url("/api/v1/map?district=atlantis")).send().await.unwrap().json().await.unwrap();
    assert_eq!(unknown["center"]["lat"].as_f64(), Some(45.7567));

    let page = app.client.get(app.url("/")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("img-src 'self' blob: data: https://t0.tianditu.gov.cn https://t1.tianditu.gov.cn;"), "{policy}");
    assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval'") && policy.contains("connect-src 'self';"), "nothing else loosened: {policy}");
}

#[tokio::test]
async fn without_tiles_there_is_no_map_and_the_widget_is_told_so() {
    let app = spawn_app().await;
    let catalog: Value = app.client.get(app.url("/api/v1/catalog")).send().await.unwrap().json().await.unwrap();
    assert!(catalog.get("map").is_none(), "no map flag: {}", catalog["map"]);
    let answer = app.client.get(app.url("/api/v1/map")).header("accept-language", "en").send().await.unwrap();
    assert_eq!(answer.status(), 404);
    let problem: Value = answer.json().await.unwrap();
    assert!(problem["type"].as_str().unwrap().ends_with("no-map"), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("type the address"), "{problem}");
}
