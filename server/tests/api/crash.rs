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

/// A report's due time passes while its server is dead (SIGKILL): on restart the overdue
/// report goes to supervision, and the pipeline gets `escalated` exactly once — also with
/// two servers scanning one PostgreSQL database side by side.
#[tokio::test]
async fn an_overdue_report_is_escalated_once_after_a_sigkill_and_with_two_servers() {
    let data_dir = tempfile::tempdir().unwrap();
    let pipeline = format!("file://{}", data_dir.path().join("pipeline.jsonl").display());
    // One hour of a time limit lasts 100 ms: the manhole category's 24 hours pass in 2.4 s.
    // A dead server's leases on PostgreSQL run out after lease_ms: kept short here.
    let config = "[forwarder]\npoll_ms = 50\ndelivery_timeout_ms = 1000\nlease_ms = 2000\n[follow_up]\nhour_ms = 100\nscan_secs = 1\n";
    let ports: Vec<u16> = (0..2).map(|_| TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()).collect();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", ports[0]);
    let mut server = start_binary(data_dir.path(), ports[0], config, &pipeline, SECRET).await;
    wait_until_up(&client, &base).await;
    let form = reqwest::multipart::Form::new().part("report", reqwest::multipart::Part::bytes(serde_json::to_vec(&manhole_report()).unwrap()));
    let response = client.post(format!("{base}/api/v1/reports")).header("Idempotency-Key", "late").multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(2600)).await;

    // Restarted after the due time; on PostgreSQL a second server scans the same database.
    let mut servers = vec![start_binary(data_dir.path(), ports[0], config, &pipeline, SECRET).await];
    if crate::helpers::postgres_under_test().is_some() {
        servers.push(start_binary(data_dir.path(), ports[1], config, &pipeline, SECRET).await);
        wait_until_up(&client, &format!("http://127.0.0.1:{}", ports[1])).await;
    }
    wait_until_up(&client, &base).await;
    let escalated = || std::fs::read_to_string(data_dir.path().join("pipeline.jsonl")).unwrap_or_default().lines().filter(|line| line.contains("\"message\":\"escalated\"")).count();
    let deadline = Instant::now() + Duration::from_secs(20);
    while escalated() == 0 {
        assert!(Instant::now() < deadline, "never escalated");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Several scans of every server later, still once.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status: Value = client.get(format!("{base}{}", receipt["status_url"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    for mut server in servers {
        server.kill().unwrap();
        server.wait().unwrap();
    }
    assert_eq!(escalated(), 1, "escalated exactly once");
    assert_eq!(status["supervision"]["reason"], "overdue", "{status}");
    let steps = status["timeline"].as_array().unwrap().iter().filter(|step| step["step"] == "supervised").count();
    assert_eq!(steps, 1);
}

/// A class forms across a SIGKILL: two reports at one spot, the server killed, two more
/// after the restart — the pipeline gets `class` once and `class_grew` once.
#[tokio::test]
async fn a_class_forms_once_across_a_sigkill() {
    let data_dir = tempfile::tempdir().unwrap();
    let pipeline = format!("file://{}", data_dir.path().join("pipeline.jsonl").display());
    let config = "[forwarder]\npoll_ms = 50\ndelivery_timeout_ms = 1000\nlease_ms = 2000\n";
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut report = manhole_report();
    report["location"]["lat"] = serde_json::json!(45.7731);
    report["location"]["lon"] = serde_json::json!(126.6176);
    let file = |key: String| {
        let form = reqwest::multipart::Form::new().part("report", reqwest::multipart::Part::bytes(serde_json::to_vec(&report).unwrap()));
        client.post(format!("{base}/api/v1/reports")).header("Idempotency-Key", key).multipart(form).send()
    };
    let mut server = start_binary(data_dir.path(), port, config, &pipeline, SECRET).await;
    wait_until_up(&client, &base).await;
    for index in 0..2 {
        assert_eq!(file(format!("before-{index}")).await.unwrap().status(), 201);
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    let mut restarted = start_binary(data_dir.path(), port, config, &pipeline, SECRET).await;
    wait_until_up(&client, &base).await;
    for index in 0..2 {
        assert_eq!(file(format!("after-{index}")).await.unwrap().status(), 201);
    }
    let count = |kind: &str| std::fs::read_to_string(data_dir.path().join("pipeline.jsonl")).unwrap_or_default().lines().filter(|line| line.contains(&format!("\"message\":\"{kind}\""))).count();
    let deadline = Instant::now() + Duration::from_secs(20);
    while count("class_grew") == 0 {
        assert!(Instant::now() < deadline, "the class never grew");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    assert_eq!((count("class"), count("class_grew")), (1, 1));
}

/// The real binary killed (SIGKILL) while photo reports stream in: after a restart every
/// acknowledged report's photo is stored whole (a pack's unacknowledged tail is cut off),
/// and photos sent after the restart are stored and read back too.
#[tokio::test]
async fn a_server_killed_while_photos_stream_in_keeps_every_acknowledged_photo_whole() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let pipeline = format!("file://{}", data_dir.path().join("pipeline.jsonl").display());
    let config = "[security]\nreports_per_minute = 100000\nuploads_per_client = 1000\n";
    let mut server = start_binary(data_dir.path(), port, config, &pipeline, SECRET).await;
    wait_until_up(&client, &base).await;

    // Eight residents sending photos of their own, one after another, until the crash.
    let send = |client: reqwest::Client, base: String, index: u32| async move {
        // Each of its own size, so each is a photo of its own (and within `max_edge`, so it is
        // stored as sent, minus its metadata).
        let photo = crate::helpers::jpeg(64 + index % 1024, 48 + index / 1024);
        let form = reqwest::multipart::Form::new()
            .part("report", reqwest::multipart::Part::bytes(serde_json::to_vec(&manhole_report()).unwrap()))
            .part("photo", reqwest::multipart::Part::bytes(photo.clone()).file_name("p.jpg"));
        let response = client.post(format!("{base}/api/v1/reports")).header("Idempotency-Key", format!("photo-{index}")).multipart(form).send().await;
        response.ok().filter(|response| response.status() == 201).map(|_| photo)
    };
    let senders: Vec<_> = (0..8u32)
        .map(|lane| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for round in 0.. {
                    match send(client.clone(), base.clone(), lane + 8 * round).await {
                        Some(photo) => acknowledged.push(photo),
                        None if round > 0 => break,
                        None => {}
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    let mut acknowledged = Vec::new();
    for sender in senders {
        acknowledged.extend(sender.await.unwrap());
    }
    assert!(acknowledged.len() >= 8, "photos were acknowledged before the crash: {}", acknowledged.len());

    // After a restart the server takes photos again.
    let mut restarted = start_binary(data_dir.path(), port, config, &pipeline, SECRET).await;
    wait_until_up(&client, &base).await;
    let after = send(client.clone(), base.clone(), 100_000).await.expect("a photo report after the restart");
    acknowledged.push(after);
    restarted.kill().unwrap();
    restarted.wait().unwrap();

    let store = lianxin_server::photo_store::PhotoStore::local(data_dir.path().join("photos")).unwrap();
    for photo in &acknowledged {
        let kept = lianxin_server::photos::strip_jpeg_metadata(photo).unwrap();
        let sha256 = lianxin_server::ids::hex(&<sha2::Sha256 as sha2::Digest>::digest(&kept));
        let stored = store.get(&sha256, lianxin_server::photo_store::Variant::Full).await.unwrap();
        assert_eq!(stored.as_deref(), Some(&kept[..]), "acknowledged photo {sha256} is stored whole");
    }
}
