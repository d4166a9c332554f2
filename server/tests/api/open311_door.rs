//! The Open311 GeoReport v2 door (`/open311/v2`) against the real server: the catalog as
//! services and definitions in JSON and XML (checked against the rules of the official
//! GeoReport v2 JSON schemas, for every category), filing through the one intake (form and
//! multipart with a photo), the error array for bad input with nothing stored, the public
//! listing's privacy, pipeline events in `status`, and a third-party client (`georeport` on
//! PyPI) reading it all back.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, count_reports, jpeg, spawn_app_with};

const KEY: &str = "open311-test-key";
const CONSENTING_KEY: &str = "open311-consenting-key";

async fn door() -> TestApp {
    spawn_app_with(|config| {
        config.open311.jurisdiction_id = "harbin.gov.cn".into();
        config.pipeline_token = "token".into();
        config.open311.apps = vec![
            lianxin_server::config::Open311App { name: "kiosk".into(), api_key: KEY.into(), ..Default::default() },
            lianxin_server::config::Open311App { name: "city-app".into(), api_key: CONSENTING_KEY.into(), contact_consent: true, ..Default::default() },
        ];
    })
    .await
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

async fn post_form(app: &TestApp, format: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url(&format!("/open311/v2/requests.{format}"))).form(form).send().await.unwrap()
}

/// The rules of the official GeoReport v2 schemas (open311/schema-validation,
/// `schema/georeport-v2/`, commit 47e06a4): required members and their types.
fn check_service(service: &Value) {
    for (member, kind) in [("service_code", "string"), ("service_name", "string"), ("description", "string"), ("metadata", "boolean"), ("type", "string"), ("keywords", "string"), ("group", "string")]
    {
        assert_eq!(kind_of(&service[member]), kind, "service {member}: {service}");
    }
    assert!(["realtime", "batch", "blackbox"].contains(&service["type"].as_str().unwrap()));
}

fn check_definition(definition: &Value, code: &str) {
    assert_eq!(definition["service_code"], code);
    for attribute in definition["attributes"].as_array().unwrap() {
        assert_eq!(kind_of(&attribute["variable"]), "boolean", "{attribute}");
        assert_eq!(kind_of(&attribute["code"]), "string");
        assert_eq!(kind_of(&attribute["required"]), "boolean");
        assert!(["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"].contains(&attribute["datatype"].as_str().unwrap()), "{attribute}");
        assert!(["string", "null"].contains(&kind_of(&attribute["datatype_description"])));
        assert!(attribute["order"].is_u64() && ["string", "null"].contains(&kind_of(&attribute["description"])));
        if attribute["datatype"].as_str().unwrap().ends_with("valuelist") {
            for value in attribute["values"].as_array().unwrap() {
                assert!(value["key"].is_string() && value["name"].is_string(), "{value}");
            }
        }
    }
}

fn check_request(request: &Value) {
    for member in ["service_request_id", "status", "service_code", "requested_datetime"] {
        assert!(request[member].is_string(), "request {member}: {request}");
    }
    assert!(["open", "closed"].contains(&request["status"].as_str().unwrap()));
    for member in ["status_notes", "service_name", "description", "agency_responsible", "service_notice", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "media_url"] {
        assert!(["string", "null"].contains(&kind_of(&request[member])), "request {member}: {request}");
    }
    for member in ["lat", "long"] {
        assert!(["number", "null"].contains(&kind_of(&request[member])), "request {member}: {request}");
    }
    assert!(request["description"].as_str().is_none_or(|text| text.chars().count() <= 4000));
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[tokio::test]
async fn every_category_is_a_service_with_a_definition_in_the_shape_of_the_standard() {
    let app = door().await;
    let discovery: Value = get(&app, "/open311/v2/discovery.json").await.json().await.unwrap();
    assert_eq!(discovery["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(discovery["endpoints"][0]["url"], format!("{}/open311/v2", app.address));
    assert!(get(&app, "/open311/v2/discovery.xml").await.text().await.unwrap().contains("<format>text/xml</format>"));

    let services: Vec<Value> = get(&app, "/open311/v2/services.json?locale=en").await.json().await.unwrap();
    let catalog = &app.state.catalog;
    assert_eq!(services.len(), catalog.categories.len());
    for service in &services {
        check_service(service);
        let code = service["service_code"].as_str().unwrap();
        let definition: Value = get(&app, &format!("/open311/v2/services/{code}.json?locale=en")).await.json().await.unwrap();
        check_definition(&definition, code);
        let category = catalog.categories.iter().find(|category| category.service_code == code).unwrap();
        assert_eq!(definition["attributes"].as_array().unwrap().len(), category.fields.len(), "{code}");
        assert_eq!(service["metadata"], !category.fields.is_empty());
        let xml = get(&app, &format!("/open311/v2/services/{code}.xml")).await.text().await.unwrap();
        assert!(xml.starts_with("<?xml") && xml.contains(&format!("<service_code>{code}</service_code>")), "{xml}");
    }
    let taxi: Value = get(&app, "/open311/v2/services/HRB-TAXI-001.json?locale=en").await.json().await.unwrap();
    let plate = taxi["attributes"].as_array().unwrap().iter().find(|attribute| attribute["code"] == "plate").unwrap();
    assert_eq!(plate["datatype"], "string");
    assert!(plate["datatype_description"].as_str().unwrap().contains("Chinese vehicle plate"), "{plate}");
    let zh: Vec<Value> = get(&app, "/open311/v2/services.json").await.json().await.unwrap();
    assert_eq!(zh.iter().find(|service| service["service_code"] == "HRB-STR-001").unwrap()["service_name"], "井盖缺失或破损");

    let unknown = get(&app, "/open311/v2/services/NOPE.json").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.json::<Value>().await.unwrap()[0]["code"], 404);
    assert_eq!(get(&app, "/open311/v2/services.json?jurisdiction_id=elsewhere").await.status(), 404);
    assert_eq!(get(&app, "/open311/v2/services.json?jurisdiction_id=harbin.gov.cn").await.status(), 200);
}

#[tokio::test]
async fn an_app_files_through_the_one_intake_and_the_pipeline_gets_it_once() {
    let app = door().await;
    let form = [
        ("api_key", KEY),
        ("service_code", "HRB-ENV-001"),
        ("lat", "45.7731"),
        ("long", "126.6176"),
        ("attribute[business_name]", "老厨家"),
        ("attribute[time_of_day][]", "evening"),
        ("attribute[time_of_day][]", "night"),
        ("description", "饭店油烟直排到居民楼"),
        ("first_name", "王"),
        ("phone", "13800138000"),
        ("email", "wang@example.com"),
        ("account_id", "acct-7"),
        ("media_url", "https://app.example/photos/1.jpg"),
    ];
    let response = post_form(&app, "json", &form).await;
    assert_eq!(response.status(), 201);
    let answer: Value = response.json().await.unwrap();
    let tracking = answer[0]["service_request_id"].as_str().unwrap().to_owned();
    assert_eq!(answer[0]["account_id"], "acct-7");
    let notice = answer[0]["service_notice"].as_str().unwrap();
    assert!(notice.contains("联系方式未保存") && notice.contains("不保存电子邮箱"), "{notice}");

    let lines = app.wait_for_pipeline(1).await;
    assert_eq!(lines.len(), 1);
    let report = &lines[0]["report"];
    assert_eq!((report["category"].as_str(), report["fields"]["time_of_day"].clone()), (Some("restaurant_fumes"), json!(["evening", "night"])));
    assert!(report["contact"].is_null(), "an app without consent passes no contact on");
    assert_eq!(report["media_url"], "https://app.example/photos/1.jpg");
    assert_eq!(lines[0]["tracking_no"], tracking.as_str());

    // A retry under the same Idempotency-Key is the same report.
    let keyed = |key: &'static str| app.client.post(app.url("/open311/v2/requests.xml")).header("Idempotency-Key", key).form(&form);
    let first = keyed("retry-1").send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first = first.text().await.unwrap();
    let again = keyed("retry-1").send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().await.unwrap(), first);
    assert!(first.contains("<service_requests><request>") && first.contains("<service_request_id>"), "{first}");
    assert_eq!(app.stored_reports().await, 2);
}

#[tokio::test]
async fn a_photo_goes_through_the_widgets_photo_path_and_consented_contact_is_sealed() {
    let app = door().await;
    let form = reqwest::multipart::Form::new()
        .text("api_key", CONSENTING_KEY)
        .text("service_code", "HRB-TAXI-001")
        .text("attribute[plate]", "黑A12345")
        .text("attribute[ride_time]", "2026-11-29T22:40:00+08:00")
        .text("attribute[pickup]", "哈尔滨站")
        .text("attribute[dropoff]", "中央大街")
        .text("attribute[fare_paid]", "86.5")
        .text("description", "打表到 30 元却收了 86.5 元")
        .text("first_name", "Ivan")
        .text("phone", "+79161234567")
        .part("media", reqwest::multipart::Part::bytes(jpeg(800, 600)).file_name("receipt.jpg").mime_str("image/jpeg").unwrap());
    let response = app.client.post(app.url("/open311/v2/requests.json")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let lines = app.wait_for_pipeline(1).await;
    let report = &lines[0]["report"];
    assert_eq!(report["fields"]["ride_time"], "2026-11-29T22:40", "in the city's time");
    assert_eq!(report["fields"]["plate"], "黑A·12345", "normalised as a widget plate is");
    assert_eq!(report["contact"]["phone"], "+79161234567", "a consenting app's contact reaches the department");
    assert_eq!(lines[0]["photos"].as_array().unwrap().len(), 1);
    assert!(!app.database_bytes().await.windows(12).any(|window| window == b"+79161234567"), "the phone is sealed at rest");

    let not_a_photo = reqwest::multipart::Form::new()
        .text("api_key", CONSENTING_KEY)
        .text("service_code", "HRB-STR-001")
        .text("lat", "45.77")
        .text("long", "126.61")
        .text("description", "井盖")
        .part("media", reqwest::multipart::Part::bytes(b"%PDF-1.4 not a photo".to_vec()).file_name("x.jpg"));
    let refused = app.client.post(app.url("/open311/v2/requests.json")).multipart(not_a_photo).send().await.unwrap();
    assert_eq!(refused.status(), 415);
    assert!(refused.json::<Value>().await.unwrap()[0]["description"].as_str().unwrap().contains("JPEG"));
    assert_eq!(app.stored_reports().await, 1);
}

#[tokio::test]
async fn bad_input_gets_the_error_array_naming_the_field_and_stores_nothing() {
    let app = door().await;
    let base = [("service_code", "HRB-ENV-003"), ("lat", "45.77"), ("long", "126.61"), ("description", "深夜噪音"), ("locale", "en")];
    let with = |extra: &[(&'static str, &'static str)]| base.iter().chain(extra).copied().collect::<Vec<_>>();
    // (form, status, what the description says)
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (with(&[]), 403, "api_key is missing"),
        (with(&[("api_key", "wrong")]), 403, "api_key is not valid"),
        (vec![("api_key", KEY), ("service_code", "NOPE"), ("locale", "en")], 400, "is not one of the city's services"),
        (with(&[("api_key", KEY), ("attribute[noise_source]", "karaoke")]), 400, "attribute[noise_time]"),
        (with(&[("api_key", KEY), ("attribute[noise_source]", "karaoke"), ("attribute[noise_time]", "2026-11-29 23:00")]), 400, "attribute[noise_time]: needs an ISO 8601 time"),
        (with(&[("api_key", KEY), ("attribute[volume]", "loud")]), 400, "attribute[volume]: this service has no such attribute"),
        (vec![("api_key", KEY), ("service_code", "HRB-STR-001"), ("description", "x"), ("locale", "en")], 400, "lat+long or address_string is required"),
        (vec![("api_key", KEY), ("service_code", "HRB-STR-001"), ("lat", "north"), ("long", "126.6"), ("description", "x"), ("locale", "en")], 400, "lat: is not a number"),
        (with(&[("api_key", KEY), ("jurisdiction_id", "elsewhere")]), 404, "jurisdiction_id"),
    ];
    for (form, status, says) in cases {
        for format in ["json", "xml"] {
            let response = post_form(&app, format, &form).await;
            assert_eq!(response.status(), status, "{form:?}");
            let body = response.text().await.unwrap();
            assert!(body.contains(says), "{format} {form:?}: {body}");
            if format == "xml" {
                assert!(body.contains("<errors><error>"), "{body}");
            } else {
                let errors: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(errors[0]["code"], status, "{body}");
            }
        }
    }
    assert_eq!(count_reports(app.data_dir.path()).await, 0, "nothing of a refused request is stored");
}

#[tokio::test]
async fn the_listing_shows_progress_and_keeps_residents_words_private_by_default() {
    let app = door().await;
    let form = [("api_key", KEY), ("service_code", "HRB-STR-001"), ("lat", "45.773123"), ("long", "126.617654"), ("address_string", "中央大街 12 号"), ("description", "井盖丢了，门口 12 号")];
    let tracking = post_form(&app, "json", &form).await.json::<Value>().await.unwrap()[0]["service_request_id"].as_str().unwrap().to_owned();
    let lines = app.wait_for_pipeline(1).await;
    let id = lines[0]["id"].as_str().unwrap();
    let event = json!({ "report_id": id, "status": "resolved", "message": "已更换井盖" });
    assert_eq!(app.client.post(app.url("/api/v1/pipeline/events")).bearer_auth("token").json(&event).send().await.unwrap().status(), 200);

    let one: Vec<Value> = get(&app, &format!("/open311/v2/requests/{tracking}.json?locale=en")).await.json().await.unwrap();
    check_request(&one[0]);
    assert_eq!((one[0]["status"].as_str(), one[0]["status_notes"].as_str()), (Some("closed"), Some("已更换井盖")));
    assert_eq!(one[0]["agency_responsible"], "District Urban Management Bureau");
    assert!(one[0]["description"].is_null() && one[0]["address"].is_null(), "private by default: {}", one[0]);
    assert_ne!(one[0]["lat"], json!(45.773123), "the position is rounded to a 100 m grid");
    assert!((one[0]["lat"].as_f64().unwrap() - 45.773123).abs() < 0.001);

    let listed: Vec<Value> = get(&app, "/open311/v2/requests.json?service_code=HRB-STR-001&status=closed").await.json().await.unwrap();
    assert_eq!(listed.len(), 1);
    listed.iter().for_each(check_request);
    let open: Vec<Value> = get(&app, "/open311/v2/requests.json?status=open").await.json().await.unwrap();
    assert!(open.is_empty());
    assert_eq!(get(&app, "/open311/v2/requests.json?start_date=yesterday").await.status(), 400);
    assert_eq!(get(&app, "/open311/v2/requests/NOPE-NOPE.json").await.status(), 404);
    assert!(!get(&app, "/open311/v2/requests.xml").await.text().await.unwrap().contains("13800"), "no contact in any answer");

    let public = spawn_app_with(|config| {
        config.open311.public_details = true;
        config.open311.apps = vec![lianxin_server::config::Open311App { name: "kiosk".into(), api_key: KEY.into(), ..Default::default() }];
    })
    .await;
    let tracking = post_form(&public, "json", &form).await.json::<Value>().await.unwrap()[0]["service_request_id"].as_str().unwrap().to_owned();
    let shown: Vec<Value> = get(&public, &format!("/open311/v2/requests/{tracking}.json")).await.json().await.unwrap();
    assert_eq!((shown[0]["description"].as_str(), shown[0]["lat"].as_f64()), (Some("井盖丢了，门口 12 号"), Some(45.773123)));
}

#[tokio::test]
async fn a_third_party_georeport_client_reads_services_definitions_and_requests_in_json_and_xml() {
    let Some(python) = std::env::var_os("LIANXIN_TEST_PYTHON") else {
        eprintln!("skipped: LIANXIN_TEST_PYTHON names the Python with `georeport` (cargo xtask test sets it)");
        return;
    };
    let app = door().await;
    // The client PyPI's `georeport` cannot file; the app's side of filing is a plain form POST.
    let script = r#"
import json, sys, requests
from georeport import GeoReport
base, key = sys.argv[1], sys.argv[2]
created = requests.post(base + "/requests.json", data={"api_key": key, "service_code": "HRB-STR-001", "lat": "45.7731", "long": "126.6176", "description": "manhole cover missing"},
                        files={"media": ("cover.jpg", sys.stdin.buffer.read(), "image/jpeg")})
created.raise_for_status()
tracking = created.json()[0]["service_request_id"]
def flat(value):
    if isinstance(value, bool): return "true" if value else "false"
    if value is None: return None
    if isinstance(value, (int, float)): return str(value)
    if isinstance(value, list): return [flat(item) for item in value]
    if isinstance(value, dict): return {k: flat(v) for k, v in value.items()}
    return value
def items(value):
    return value if isinstance(value, list) else [value]
out = {"tracking": tracking, "mismatches": []}
j, x = GeoReport(base, jurisdiction="harbin.gov.cn"), GeoReport(base, jurisdiction="harbin.gov.cn", output_format="xml")
services = j.get_service_list()
out["services"] = len(services)
if flat(services) != items(x.get_service_list()):
    out["mismatches"].append("services")
for service in services:
    code = service["service_code"]
    jd, xd = j.get_service_definition(code), x.get_service_definition(code)
    attributes = items((xd.get("attributes") or {}).get("attribute", [])) if xd.get("attributes") else []
    for attribute in attributes:
        if attribute.get("values"):
            attribute["values"] = items(attribute["values"]["value"])
    if flat(jd["attributes"]) != attributes or jd["service_code"] != xd["service_code"]:
        out["mismatches"].append(code)
out["request"] = j.get_service_request(tracking)
out["requests"] = j.get_service_requests(service_request_id=tracking)
out["xml_request"] = x.get_service_requests(service_request_id=tracking)
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script, &app.url("/open311/v2"), KEY])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the test Python runs");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &jpeg(640, 480)).unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["services"], app.state.catalog.categories.len());
    assert_eq!(result["mismatches"], json!([]), "the XML says what the JSON says");
    let tracking = result["tracking"].as_str().unwrap();
    let request = if result["request"].is_array() { result["request"][0].clone() } else { result["request"].clone() };
    assert_eq!(request["service_request_id"], tracking, "{result}");
    assert_eq!(result["requests"][0]["service_code"], "HRB-STR-001");
    assert_eq!(result["xml_request"]["service_request_id"], tracking, "{result}");
    let lines = app.wait_for_pipeline(1).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["photos"].as_array().unwrap().len(), 1, "the client's photo went the widget's photo path");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.pipeline_lines().len(), 1, "once");
}

#[tokio::test]
async fn each_app_has_its_own_rate_limit() {
    let app = spawn_app_with(|config| {
        config.open311.apps = vec![
            lianxin_server::config::Open311App { name: "busy".into(), api_key: "busy-key".into(), reports_per_minute: 2, ..Default::default() },
            lianxin_server::config::Open311App { name: "calm".into(), api_key: "calm-key".into(), ..Default::default() },
        ];
    })
    .await;
    let form = |key: &'static str| vec![("api_key", key), ("service_code", "HRB-STR-001"), ("lat", "45.77"), ("long", "126.61"), ("description", "井盖"), ("locale", "en")];
    for _ in 0..2 {
        assert_eq!(post_form(&app, "json", &form("busy-key")).await.status(), 201);
    }
    let refused = post_form(&app, "json", &form("busy-key")).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.text().await.unwrap().contains("too many requests from this app"));
    assert_eq!(post_form(&app, "json", &form("calm-key")).await.status(), 201, "another app is not held back");
    assert_eq!(app.stored_reports().await, 3);
}
