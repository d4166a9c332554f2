//! The real `lianxin` binary killed with SIGKILL after the pipeline took a report but before
//! the delivery was recorded: on restart the report is delivered again under the same id,
//! and the pipeline keeps one ticket.

use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{manhole_report, start_binary, wait_until_up};
use crate::receiver::{Behaviour, Receiver};

const SECRET: &str = "crash-test-secret";

async fn start_server(data_dir: &std::path::Path, port: u16, pipeline: &str) -> Child {
    start_binary(data_dir, port, "[forwarder]\npoll_ms = 50\nretry_base_ms = 100\ndelivery_timeout_ms = 3000\nlease_ms = 6000\n", pipeline, SECRET).await
}

#[tokio::test]
async fn a_server_killed_between_delivery_and_recording_delivers_again_and_the_pipeline_keeps_one() {
    let receiver = Receiver::start(SECRET, vec![Behaviour::AcceptThenHang]).await;
    let data_dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = start_server(data_dir.path(), port, &receiver.url).await;
    wait_until_up(&client, &base).await;

    let form = reqwest::multipart::Form::new().part("report", reqwest::multipart::Part::bytes(serde_json::to_vec(&manhole_report()).unwrap()));
    let response = client.post(format!("{base}/api/v1/reports")).header("Idempotency-Key", "crash").multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    receiver.wait_for_tickets(1, Duration::from_secs(10)).await;

    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    let mut restarted = start_server(data_dir.path(), port, &receiver.url).await;
    wait_until_up(&client, &base).await;

    let id = receipt["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status: Value = client.get(format!("{base}{}", receipt["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
        if status["status"] == "forwarded" {
            break;
        }
        assert!(Instant::now() < deadline, "never recorded as forwarded: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    restarted.kill().unwrap();
    restarted.wait().unwrap();

    let deliveries = receiver.attempts().iter().filter(|attempt| attempt.key == id).count();
    assert_eq!(deliveries, 2, "delivered again after the crash, with the same id");
    assert_eq!(receiver.accepted_per_key()[id], 1, "the pipeline kept one ticket");
    assert_eq!(receiver.tickets().len(), 1);
}
