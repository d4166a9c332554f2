//! What protects the server on the open internet: CORS, security headers, rate limits,
//! slow clients, concurrent retries and shutdown in the middle of an upload.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{manhole_report, spawn_app, spawn_app_in, spawn_app_with};

const CITY: &str = "https://zfw.harbin.gov.cn";

#[tokio::test]
async fn cors_allows_the_configured_embedding_origin_and_no_other() {
    let app = spawn_app_with(|config| config.security.allowed_origins = vec![CITY.to_owned()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/reports"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "idempotency-key,content-type")
            .send()
    };

    let allowed = preflight(CITY).await.unwrap();
    let foreign = preflight("https://evil.example").await.unwrap();

    assert_eq!(allowed.headers()["access-control-allow-origin"], CITY);
    assert!(allowed.headers()["access-control-allow-headers"].to_str().unwrap().contains("idempotency-key"));
    assert!(foreign.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_strict_policy() {
    let app = spawn_app_with(|config| config.security.allowed_origins = vec![CITY.to_owned()]).await;
    for path in ["/", "/api/v1/catalog", "/healthz"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'self'") && policy.contains("object-src 'none'"), "{policy}");
        assert!(policy.contains(&format!("frame-ancestors 'self' {CITY}")), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }
}

#[tokio::test]
async fn too_many_reports_from_one_address_get_429_with_retry_after() {
    let app = spawn_app_with(|config| config.security.reports_per_minute = 2).await;
    for key in ["a", "b"] {
        assert_eq!(app.post_report(Some(key), &manhole_report(), vec![]).await.status(), 201);
    }

    let response = app.post_report(Some("c"), &manhole_report(), vec![]).await;

    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "urn:lianxin:problem:rate-limited");
    assert_eq!(app.client.get(app.url("/api/v1/catalog")).send().await.unwrap().status(), 200, "reading is not limited");
}

/// A server behind a trusted proxy, taking one report a minute per client.
async fn behind_a_proxy_one_report_a_minute() -> crate::helpers::TestApp {
    spawn_app_with(|config| {
        config.security.reports_per_minute = 1;
        config.security.trust_forwarded_for = true;
    })
    .await
}

#[tokio::test]
async fn behind_a_proxy_a_client_cannot_pick_its_own_address_to_escape_the_limit() {
    let app = behind_a_proxy_one_report_a_minute().await;
    // The proxy appends the address it saw in a header of its own; the client wrote the
    // first one, a new address each time.
    let through_proxy =
        |key: &'static str, spoofed: &'static str| app.report_request(Some(key), &manhole_report(), vec![]).header("X-Forwarded-For", spoofed).header("X-Forwarded-For", "203.0.113.50").send();

    assert_eq!(through_proxy("a", "192.0.2.1").await.unwrap().status(), 201);
    assert_eq!(through_proxy("b", "192.0.2.2").await.unwrap().status(), 429, "the proxy's address is the one counted");
}

#[tokio::test]
async fn an_ipv6_client_is_limited_by_its_whole_slash_64() {
    let app = behind_a_proxy_one_report_a_minute().await;
    let from = |key: &'static str, address: &'static str| app.report_request(Some(key), &manhole_report(), vec![]).header("X-Forwarded-For", address).send();

    assert_eq!(from("a", "2001:db8:5:6::1").await.unwrap().status(), 201);
    assert_eq!(from("b", "2001:db8:5:6:ffff::2").await.unwrap().status(), 429, "another address of the same /64");
    assert_eq!(from("c", "2001:db8:5:7::1").await.unwrap().status(), 201, "another /64 is another client");
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected() {
    let app = spawn_app_with(|config| config.security.header_timeout_secs = 1).await;
    let mut stream = TcpStream::connect(app.host()).await.unwrap();
    stream.write_all(b"POST /api/v1/reports HTTP/1.1\r\nHost: lianxin\r\n").await.unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    // The server closes the connection (EOF or reset) instead of waiting for ever.
    let _closed = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.expect("the server hangs up within seconds");
    assert!(started.elapsed() >= Duration::from_millis(900), "not before the header deadline");
}

/// Starts a multipart upload over a raw socket and stops half-way through the body.
async fn start_slow_upload(host: &str, key: &str) -> (TcpStream, Vec<u8>) {
    let report = serde_json::to_vec(&manhole_report()).unwrap();
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"report\"\r\nContent-Type: application/json\r\n\r\n".to_vec();
    body.extend_from_slice(&report);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: {host}\r\nIdempotency-Key: {key}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = TcpStream::connect(host).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let half = body.len() / 2;
    stream.write_all(&body[..half]).await.unwrap();
    (stream, body[half..].to_vec())
}

async fn finish_upload(mut stream: TcpStream, rest: &[u8]) -> String {
    stream.write_all(rest).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn a_retry_while_the_first_attempt_is_in_flight_gets_409() {
    let app = spawn_app().await;
    let (stream, rest) = start_slow_upload(&app.host(), "busy").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let retry = app.post_report(Some("busy"), &manhole_report(), vec![]).await;

    assert_eq!(retry.status(), 409);
    let first = finish_upload(stream, &rest).await;
    assert!(first.starts_with("HTTP/1.1 201"), "{first}");
    assert_eq!(app.post_report(Some("busy"), &manhole_report(), vec![]).await.status(), 200, "afterwards the retry gets the receipt");
}

#[tokio::test]
async fn a_client_holding_open_uploads_cannot_start_more_than_its_share() {
    let app = spawn_app_with(|config| config.security.uploads_per_client = 2).await;
    let (first, first_rest) = start_slow_upload(&app.host(), "slow-1").await;
    let (second, second_rest) = start_slow_upload(&app.host(), "slow-2").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let third = app.post_report(Some("third"), &manhole_report(), vec![]).await;

    assert_eq!(third.status(), 429, "a third upload at once is refused");
    assert!(third.headers().contains_key("retry-after"));
    assert!(finish_upload(first, &first_rest).await.starts_with("HTTP/1.1 201"));
    assert!(finish_upload(second, &second_rest).await.starts_with("HTTP/1.1 201"));
    assert_eq!(app.post_report(Some("third"), &manhole_report(), vec![]).await.status(), 201, "taken once the others finished");
}

#[tokio::test]
async fn shutdown_during_an_upload_finishes_it_and_loses_no_acknowledged_report() {
    let app = spawn_app().await;
    let (stream, rest) = start_slow_upload(&app.host(), "late").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let host = app.host();

    let shutdown = tokio::spawn(app.shut_down());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(TcpStream::connect(&host).await.is_err(), "no new connections are accepted while shutting down");
    let answer = finish_upload(stream, &rest).await;
    let data_dir = shutdown.await.unwrap();

    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let receipt: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let restarted = spawn_app_in(data_dir, |_| {}).await;
    let status = restarted.client.get(restarted.url(receipt["status_url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(status.status(), 200, "the acknowledged report survived the restart");
    let lines = restarted.wait_for_pipeline(1).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], receipt["id"]);
}

#[tokio::test]
async fn metrics_and_the_api_document_are_for_operators_only() {
    let open = spawn_app().await;
    let proxied = |path: &'static str| open.client.get(open.url(path)).header("X-Forwarded-For", "198.51.100.20").send();
    assert_eq!(open.client.get(open.url("/metrics")).send().await.unwrap().status(), 200, "on the machine itself, without a token");
    assert_eq!(proxied("/metrics").await.unwrap().status(), 403, "from outside through a proxy");
    assert_eq!(proxied("/api/v1/openapi.json").await.unwrap().status(), 403);
    assert_eq!(proxied("/healthz").await.unwrap().status(), 200, "probes stay public");

    let guarded = spawn_app_with(|config| config.admin_token = "operator-token-for-tests".into()).await;
    let metrics = |token: Option<&'static str>| {
        let request = guarded.client.get(guarded.url("/metrics"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    assert_eq!(metrics(None).await.unwrap().status(), 403, "with a token configured, even the machine itself must present it");
    assert_eq!(metrics(Some("wrong")).await.unwrap().status(), 403);
    let answer = metrics(Some("operator-token-for-tests")).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("lianxin_"));
}
