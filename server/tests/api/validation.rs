//! The server judges reports exactly as the widget does: the cases of the contract crate's
//! shared fixture (also run in headless Chromium by the contract's wasm tests) are posted
//! over HTTP, and the 422 problem lists the same fields and rules.

use lianxin_contract::Catalog;
use serde_json::Value;

use crate::helpers::{jpeg, spawn_app_with};

const CASES: &str = include_str!("../../../contract/tests/fixtures/validation_cases.json");

#[tokio::test]
async fn server_rejects_exactly_what_the_shared_validation_rejects() {
    let fixture: Value = serde_json::from_str(CASES).unwrap();
    let catalog: Catalog = serde_json::from_value(fixture["catalog"].clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let catalog_file = dir.path().join("catalog.toml");
    std::fs::write(&catalog_file, toml::to_string(&catalog).unwrap()).unwrap();
    let app = spawn_app_with(|config| {
        config.catalog = Some(catalog_file.clone());
        config.limits.description_chars = catalog.limits.description_max;
        config.limits.address_chars = catalog.limits.address_max;
        config.limits.name_chars = catalog.limits.name_max;
    })
    .await;

    for (index, case) in fixture["cases"].as_array().unwrap().iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let photos = (0..case["photos"].as_u64().unwrap()).map(|_| jpeg(64, 48)).collect();
        let response = app.post_report(Some(&format!("case-{index}")), &case["report"], photos).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        if case["expected"].as_array().unwrap().is_empty() {
            assert_eq!(status, 201, "case {name:?}: {body}");
            continue;
        }
        assert_eq!(status, 422, "case {name:?}: {body}");
        let mut errors = body["errors"].as_array().unwrap().clone();
        for error in &mut errors {
            assert!(error["message"].as_str().is_some_and(|message| !message.is_empty()), "case {name:?} has a message");
            error.as_object_mut().unwrap().remove("message");
        }
        assert_eq!(Value::Array(errors), case["expected"], "case {name:?}");
    }
}
