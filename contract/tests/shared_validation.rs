//! The validation verdicts in `fixtures/validation_cases.json`, checked by the very code
//! both sides run. Natively this is the server's judgement; compiled to wasm32 and run in
//! headless Chromium (`cargo xtask test` does both) it is the widget's. The server's
//! integration tests post the same cases over HTTP and expect the same errors.

use lianxin_contract::validate::validate_report;
use lianxin_contract::{Catalog, ReportSubmission};
use serde_json::Value;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const CASES: &str = include_str!("fixtures/validation_cases.json");

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_case_gets_its_expected_verdict() {
    let fixture: Value = serde_json::from_str(CASES).expect("the fixture is JSON");
    let catalog: Catalog = serde_json::from_value(fixture["catalog"].clone()).expect("the fixture catalog parses");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let report: ReportSubmission = serde_json::from_value(case["report"].clone()).unwrap_or_else(|error| panic!("{name}: {error}"));
        let photos = case["photos"].as_u64().unwrap() as usize;
        let found = match validate_report(&catalog, &report, photos) {
            Ok(_) => Value::Array(Vec::new()),
            Err(errors) => serde_json::to_value(errors).unwrap(),
        };
        assert_eq!(found, case["expected"], "case {name:?}");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn valid_reports_come_back_normalised() {
    let fixture: Value = serde_json::from_str(CASES).unwrap();
    let catalog: Catalog = serde_json::from_value(fixture["catalog"].clone()).unwrap();
    let report: ReportSubmission = serde_json::from_value(fixture["cases"][0]["report"].clone()).unwrap();
    let valid = validate_report(&catalog, &report, 0).unwrap();
    assert_eq!(valid.category().code, report.category, "it carries the category it was checked against");
    let clean = serde_json::to_value(valid.report()).unwrap();
    assert_eq!(clean["fields"]["plate"], "黑A·12345");
    assert_eq!(clean["fields"]["fare"], "35.50");
    assert_eq!(clean["fields"]["ride_time"], "2026-11-20T21:30");
    assert_eq!(clean["contact"]["phone"], "+79141234567");
}
