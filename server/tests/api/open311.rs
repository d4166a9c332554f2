//! The Open311 sink against a small GeoReport v2 server that follows the spec: form-encoded
//! `requests.json`, `api_key`, the error array, the token flow and status by polling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, jpeg, spawn_app_with};

const API_KEY: &str = "open311-test-key";

#[derive(Default)]
struct Server {
    token_mode: bool,
    requests: Vec<(String, String, HashMap<String, Vec<String>>)>,
    closed: HashMap<String, String>,
    /// Tokens and service request ids this server refuses to answer for (500).
    broken: Vec<String>,
    /// Every GET's URL path and query, as it arrived.
    gets: Vec<String>,
}

type Shared = Arc<Mutex<Server>>;

fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("zz"), 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8(out).unwrap()
}

fn parse_form(body: &str) -> HashMap<String, Vec<String>> {
    let mut form: HashMap<String, Vec<String>> = HashMap::new();
    for pair in body.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        form.entry(decode(key)).or_default().push(decode(value));
    }
    form
}

fn errors(status: StatusCode, description: &str) -> Response {
    (status, axum::Json(json!([{ "code": status.as_u16(), "description": description }]))).into_response()
}

async fn create(State(server): State<Shared>, body: String) -> Response {
    let form = parse_form(&body);
    let one = |key: &str| form.get(key).and_then(|values| values.first()).cloned().unwrap_or_default();
    if one("api_key") != API_KEY {
        return errors(StatusCode::FORBIDDEN, "Invalid api_key");
    }
    if !one("service_code").starts_with("HRB-") {
        return errors(StatusCode::NOT_FOUND, &format!("Service code {} not found", one("service_code")));
    }
    if one("address_string").is_empty() && (one("lat").is_empty() || one("long").is_empty()) {
        return errors(StatusCode::BAD_REQUEST, "A location (lat/long or address_string) is required");
    }
    let mut server = server.lock().unwrap();
    let number = server.requests.len() + 1;
    let id = format!("SR-{number}");
    let token = format!("tok-{number}");
    server.requests.push((id.clone(), token.clone(), form));
    let answer = if server.token_mode { json!([{ "token": token, "service_notice": "queued" }]) } else { json!([{ "service_request_id": id, "service_notice": "thank you" }]) };
    axum::Json(answer).into_response()
}

async fn token(State(server): State<Shared>, Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    let token = file.trim_end_matches(".json");
    let mut server = server.lock().unwrap();
    server.gets.push(format!("/tokens/{file}?{}", query.unwrap_or_default()));
    if server.broken.iter().any(|broken| broken == token) {
        return errors(StatusCode::INTERNAL_SERVER_ERROR, "token store unavailable");
    }
    match server.requests.iter().find(|(_, each, _)| each == token) {
        Some((id, token, _)) => axum::Json(json!([{ "service_request_id": id, "token": token }])).into_response(),
        None => errors(StatusCode::NOT_FOUND, "no such token"),
    }
}

async fn requests(State(server): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let raw = query.unwrap_or_default();
    let query = parse_form(&raw);
    let ids: Vec<String> = query.get("service_request_id").and_then(|values| values.first()).map(|ids| ids.split(',').map(str::to_owned).collect()).unwrap_or_default();
    let mut server = server.lock().unwrap();
    server.gets.push(format!("/requests.json?{raw}"));
    if ids.iter().any(|id| server.broken.contains(id)) {
        return errors(StatusCode::BAD_REQUEST, "unknown service_request_id");
    }
    let answer: Vec<Value> = ids
        .iter()
        .filter(|id| server.requests.iter().any(|(each, _, _)| each == *id))
        .map(|id| match server.closed.get(id) {
            Some(notes) => json!({ "service_request_id": id, "status": "closed", "status_notes": notes, "updated_datetime": "2026-11-25T10:00:00+08:00" }),
            None => json!({ "service_request_id": id, "status": "open", "status_notes": null, "updated_datetime": "2026-11-25T09:00:00+08:00" }),
        })
        .collect();
    axum::Json(answer).into_response()
}

async fn start_server(token_mode: bool) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Server { token_mode, ..Server::default() }));
    let app = axum::Router::new().route("/v2/requests.json", axum::routing::post(create).get(requests)).route("/v2/tokens/{file}", axum::routing::get(token)).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("open311+http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, shared)
}

async fn app_for(url: &str, api_key: &str) -> TestApp {
    let (url, api_key) = (url.to_owned(), api_key.to_owned());
    spawn_app_with(move |config| {
        config.security.reports_per_minute = 1000;
        config.pipeline = url;
        config.pipeline_secret = api_key.as_str().into();
        config.forwarder.poll_ms = 50;
        config.forwarder.status_poll_secs = 1;
    })
    .await
}

async fn wait_for_status(app: &TestApp, status_url: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status: Value = app.client.get(app.url(status_url)).send().await.unwrap().json().await.unwrap();
        if status["status"] == wanted {
            return status;
        }
        assert!(Instant::now() < deadline, "never reached {wanted}: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn reports_become_service_requests_and_closing_them_resolves_the_report() {
    let (url, server) = start_server(false).await;
    let app = app_for(&url, API_KEY).await;
    let report = json!({
        "category": "restaurant_fumes", "kind": "complaint", "description": "烧烤店油烟直排居民楼",
        "fields": { "business_name": "老王烧烤", "time_of_day": ["evening", "night"] },
        "location": { "lat": 45.7612, "lon": 126.6203, "accuracy_m": 8.0, "district": "daoli" },
        "contact": { "name": "李", "phone": "13904512345", "consent": true },
    });
    let receipt: Value = app.post_report(Some("k"), &report, vec![jpeg(200, 150)]).await.json().await.unwrap();

    wait_for_status(&app, receipt["status_url"].as_str().unwrap(), "accepted").await;
    let form = server.lock().unwrap().requests[0].2.clone();
    let one = |key: &str| form[key][0].clone();
    assert_eq!(one("service_code"), "HRB-ENV-001");
    assert_eq!((one("lat"), one("long")), ("45.7612".to_owned(), "126.6203".to_owned()));
    assert_eq!(one("description"), "烧烤店油烟直排居民楼");
    assert_eq!(one("attribute[business_name]"), "老王烧烤");
    assert_eq!(form["attribute[time_of_day][]"], ["evening", "night"]);
    assert_eq!((one("first_name"), one("phone")), ("李".to_owned(), "13904512345".to_owned()));
    let media = app.client.get(one("media_url")).send().await.unwrap();
    assert_eq!(media.headers()["content-type"], "image/jpeg");

    server.lock().unwrap().closed.insert("SR-1".into(), "已责令整改，加装油烟净化器".into());
    let status = wait_for_status(&app, receipt["status_url"].as_str().unwrap(), "resolved").await;
    let last = status["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["message"], "已责令整改，加装油烟净化器");
}

#[tokio::test]
async fn a_token_is_resolved_to_its_request_and_a_report_without_position_sends_an_address() {
    let (url, server) = start_server(true).await;
    let app = app_for(&url, API_KEY).await;
    let report = json!({
        "category": "taxi_refusal", "kind": "complaint", "description": "司机拒载",
        "fields": { "plate": "黑A12345", "ride_time": "2026-11-24T22:10" },
        "contact": { "phone": "+7 914 123 45 67", "consent": true },
    });
    let receipt: Value = app.post_report(Some("k"), &report, vec![]).await.json().await.unwrap();

    wait_for_status(&app, receipt["status_url"].as_str().unwrap(), "accepted").await;
    let form = server.lock().unwrap().requests[0].2.clone();
    assert_eq!(form["address_string"][0], "哈尔滨市");
    assert_eq!(form["attribute[plate]"][0], "黑A·12345");
    let tickets = app.state.store.open_tickets("", 10).await.unwrap();
    assert_eq!(tickets[0].1, "SR-1", "the token was replaced by the service request id");
}

#[tokio::test]
async fn open311_errors_are_permanent_and_named_in_the_dead_letter() {
    let (url, _server) = start_server(false).await;
    let app = app_for(&url, "wrong-key").await;
    let report = json!({ "category": "manhole_cover", "kind": "complaint", "description": "井盖", "location": { "district": "daoli" } });
    app.post_report(Some("k"), &report, vec![]).await;
    let dead = app.wait_for_dead_letters().await;
    assert!(dead[0].last_error.as_deref().unwrap().contains("403 Invalid api_key"), "{:?}", dead[0].last_error);
}

#[tokio::test]
async fn one_ticket_the_server_refuses_does_not_stop_the_status_of_the_others_and_no_key_is_in_a_url() {
    let (url, server) = start_server(true).await;
    server.lock().unwrap().broken.push("tok-1".into());
    let app = app_for(&url, API_KEY).await;
    let report = |text: &str| json!({ "category": "manhole_cover", "kind": "complaint", "description": text, "location": { "district": "daoli" } });
    let mut receipts = Vec::new();
    for (key, text) in [("a", "井盖一"), ("b", "井盖二"), ("c", "井盖三")] {
        let response = app.post_report(Some(key), &report(text), vec![]).await;
        receipts.push(response.json::<Value>().await.unwrap());
    }
    // Requests are numbered in the order they reach the server; find which report is which.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.lock().unwrap().requests.len() < 3 {
        assert!(Instant::now() < deadline, "the three reports were not forwarded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let number_of = |text: &str| server.lock().unwrap().requests.iter().find(|(_, _, form)| form["description"][0] == text).map(|(id, _, _)| id.clone()).unwrap();
    let (first, second, third) = (number_of("井盖一"), number_of("井盖二"), number_of("井盖三"));
    let broken_token = format!("tok-{}", &first[3..]);
    {
        let mut server = server.lock().unwrap();
        server.broken = vec![broken_token, second.clone()];
        server.closed.insert(third.clone(), "已更换井盖".into());
    }

    let resolved = wait_for_status(&app, receipts[2]["status_url"].as_str().unwrap(), "resolved").await;

    assert_eq!(resolved["timeline"].as_array().unwrap().last().unwrap()["message"], "已更换井盖");
    let gets = server.lock().unwrap().gets.clone();
    assert!(!gets.is_empty());
    assert!(gets.iter().all(|get| !get.contains(API_KEY) && !get.contains("api_key")), "{gets:?}");
}

#[tokio::test]
async fn every_open_ticket_is_polled_not_only_the_oldest_page() {
    let (url, server) = start_server(false).await;
    let app = app_for(&url, API_KEY).await;
    let count = 230;
    let mut receipts = Vec::new();
    for index in 0..count {
        let report = json!({ "category": "manhole_cover", "kind": "complaint", "description": format!("井盖 {index}"), "location": { "district": "daoli" } });
        receipts.push(app.post_report(Some(&format!("k{index}")), &report, vec![]).await.json::<Value>().await.unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.lock().unwrap().requests.len() < count {
        assert!(Instant::now() < deadline, "not every report was forwarded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Close the request of the report whose id sorts last: it is on the last page.
    let last = receipts.iter().max_by_key(|receipt| receipt["id"].as_str().unwrap().to_owned()).unwrap();
    let text = last_description(&receipts, last);
    let request = server.lock().unwrap().requests.iter().find(|(_, _, form)| form["description"][0] == text).map(|(id, _, _)| id.clone()).unwrap();
    server.lock().unwrap().closed.insert(request, "已处理".into());

    wait_for_status(&app, last["status_url"].as_str().unwrap(), "resolved").await;
}

/// The description the report with `receipt` was filed with (its position in `receipts`).
fn last_description(receipts: &[Value], receipt: &Value) -> String {
    let index = receipts.iter().position(|each| each["id"] == receipt["id"]).unwrap();
    format!("井盖 {index}")
}
