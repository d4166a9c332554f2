//! What happens when things break, on loopback and bounded in time: the server killed
//! while residents are submitting, the pipeline down under load, the data disk full. In
//! each, every report a resident got a receipt for is stored once and forwarded once.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{count_reports, jpeg, manhole_report, noise, spawn_app_in, start_binary, wait_until_up};
use crate::receiver::Receiver;

const SECRET: &str = "fault-test-secret";

async fn start_server(data_dir: &std::path::Path, port: u16, pipeline: &str) -> Child {
    let config =
        "[forwarder]\npoll_ms = 50\nretry_base_ms = 100\nretry_max_ms = 400\ndelivery_timeout_ms = 2000\nlease_ms = 4000\n[security]\nreports_per_minute = 100000\nuploads_per_client = 100000\n";
    start_binary(data_dir, port, config, pipeline, SECRET).await
}

async fn submit(client: &reqwest::Client, base: &str, key: &str, photo: Vec<u8>) -> Result<Value, u16> {
    let form = reqwest::multipart::Form::new()
        .part("report", reqwest::multipart::Part::bytes(serde_json::to_vec(&manhole_report()).unwrap()))
        .part("photo", reqwest::multipart::Part::bytes(photo).file_name("p.jpg"));
    match client.post(format!("{base}/api/v1/reports")).header("Idempotency-Key", key).multipart(form).timeout(Duration::from_secs(10)).send().await {
        Ok(response) if response.status().is_success() => Ok(response.json().await.unwrap()),
        Ok(response) => Err(response.status().as_u16()),
        Err(_) => Err(0),
    }
}

/// Every photo a forwarded report names can be fetched whole through its signed link.
async fn photos_are_whole(client: &reqwest::Client, tickets: &HashMap<String, Value>) {
    for ticket in tickets.values() {
        for photo in ticket["photos"].as_array().unwrap() {
            let response = client.get(photo["url"].as_str().unwrap()).send().await.unwrap();
            assert_eq!(response.status(), 200, "photo {} of a stored report is there", photo["sha256"]);
            let bytes = response.bytes().await.unwrap();
            assert!(image::load_from_memory(&bytes).is_ok(), "photo {} is whole", photo["sha256"]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_residents_submit_loses_and_repeats_nothing_it_acknowledged() {
    let receiver = Receiver::start(SECRET, vec![]).await;
    let data_dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = start_server(data_dir.path(), port, &receiver.url).await;
    wait_until_up(&client, &base).await;

    let acknowledged = Arc::new(Mutex::new(HashMap::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let residents: Vec<_> = (0..4)
        .map(|_| {
            let (client, base, acknowledged, stop, next) = (client.clone(), base.clone(), acknowledged.clone(), stop.clone(), next.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if let Ok(receipt) = submit(&client, &base, &format!("kill-{index}"), jpeg(300 + index as u32 % 50, 200)).await {
                        acknowledged.lock().unwrap().insert(index, receipt["id"].as_str().unwrap().to_owned());
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline, "reports are not being acknowledged");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().expect("SIGKILL while residents are submitting");
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for resident in residents {
        resident.await.unwrap();
    }

    let mut restarted = start_server(data_dir.path(), port, &receiver.url).await;
    wait_until_up(&client, &base).await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    let stored = count_reports(data_dir.path()).await as usize;
    assert!(stored >= acknowledged.len(), "{stored} stored, {} acknowledged", acknowledged.len());
    let tickets = receiver.wait_for_tickets(stored, Duration::from_secs(30)).await;
    for (index, id) in &acknowledged {
        assert!(tickets.contains_key(id), "acknowledged report {index} reached the pipeline");
    }
    assert!(receiver.accepted_per_key().values().all(|count| *count == 1), "no report became two tickets");
    assert_eq!(tickets.len(), stored, "exactly the stored reports were forwarded");
    photos_are_whole(&client, &tickets).await;
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_taken_while_the_pipeline_is_down_are_all_delivered_once_it_is_back() {
    let mut receiver = Receiver::start(SECRET, vec![]).await;
    let app = crate::helpers::spawn_app_with(|config| {
        config.pipeline = receiver.url.clone();
        config.pipeline_secret = SECRET.into();
        config.forwarder.poll_ms = 50;
        config.forwarder.retry_base_ms = 100;
        config.forwarder.retry_max_ms = 500;
        config.forwarder.delivery_timeout_ms = 300;
        config.security.reports_per_minute = 100_000;
        config.security.uploads_per_client = 100_000;
    })
    .await;
    receiver.go_down();
    let residents: Vec<_> = (0..6)
        .map(|resident| {
            let (client, base) = (app.client.clone(), app.address.clone());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for index in 0..10 {
                    ids.push(submit(&client, &base, &format!("down-{resident}-{index}"), jpeg(200, 150)).await.expect("accepted while the pipeline is down")["id"].as_str().unwrap().to_owned());
                }
                ids
            })
        })
        .collect();
    let mut acknowledged = HashSet::new();
    for resident in residents {
        acknowledged.extend(resident.await.unwrap());
    }
    assert_eq!(acknowledged.len(), 60);
    assert!(app.state.store.outbox_stats().await.unwrap().pending > 0, "the backlog waits while the pipeline is down");
    tokio::time::sleep(Duration::from_secs(1)).await;

    receiver.come_back().await;
    let tickets = receiver.wait_for_tickets(60, Duration::from_secs(30)).await;
    assert_eq!(tickets.keys().cloned().collect::<HashSet<_>>(), acknowledged);
    assert!(receiver.accepted_per_key().values().all(|count| *count == 1));
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.store.outbox_stats().await.unwrap().pending > 0 {
        assert!(Instant::now() < deadline, "the backlog is recorded as drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.state.store.outbox_stats().await.unwrap().dead_letter, 0);
}

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let output =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs", dir.path().to_str().unwrap()]).output().map_err(|error| format!("cannot run mount: {error}"))?;
        if output.status.success() { Ok(SmallDisk { dir }) } else { Err(String::from_utf8_lossy(&output.stderr).trim().to_owned()) }
    }

    /// The disk for `test`, or `None` (the test says it is skipped) where no tmpfs can be
    /// mounted.
    fn for_test(megabytes: u32, test: &str) -> Option<SmallDisk> {
        SmallDisk::mount(megabytes).inspect_err(|reason| eprintln!("skipped: cannot mount a small tmpfs for the {test} test ({reason})")).ok()
    }

    /// Fills the disk with a file (returned) until about `left` bytes are free.
    fn fill_leaving(&self, left: u64) -> std::path::PathBuf {
        let output = Command::new("df").args(["--output=avail", "-B1"]).arg(self.dir.path()).output().unwrap();
        let free = String::from_utf8_lossy(&output.stdout).lines().nth(1).unwrap().trim().parse::<u64>().unwrap();
        let filler = self.dir.path().join("filler");
        std::fs::write(&filler, vec![0u8; free.saturating_sub(left) as usize]).unwrap();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").args(["-l", self.dir.path().to_str().unwrap()]).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_data_disk_refuses_new_reports_with_503_and_keeps_every_acknowledged_one() {
    let Some(disk) = SmallDisk::for_test(8, "disk-full") else { return };
    let receiver = Receiver::start(SECRET, vec![]).await;
    let data_dir = tempfile::tempdir_in(disk.dir.path()).unwrap();
    let app = spawn_app_in(data_dir, |config| {
        config.pipeline = receiver.url.clone();
        config.pipeline_secret = SECRET.into();
        config.forwarder.poll_ms = 50;
        config.security.reports_per_minute = 100_000;
        config.security.uploads_per_client = 100_000;
    })
    .await;
    // Leave about 1.5 MB free, then send photos until the disk is full.
    let filler = disk.fill_leaving(1_500_000);

    let mut acknowledged = Vec::new();
    let mut refusal = None;
    for index in 0..200 {
        // Noisy photos compress badly: each takes a few hundred kilobytes.
        let mut seed = index as u32 + 1;
        let noisy = image::RgbImage::from_fn(700, 500, |_, _| {
            let seed = noise(&mut seed);
            image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
        });
        let mut photo = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut photo, 95).encode_image(&noisy).unwrap();
        let response = app.post_report(Some(&format!("full-{index}")), &manhole_report(), vec![photo]).await;
        match response.status().as_u16() {
            201 => acknowledged.push(response.json::<Value>().await.unwrap()),
            503 => {
                refusal = Some(response.json::<Value>().await.unwrap());
                break;
            }
            other => panic!("report {index}: unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    let refusal = refusal.expect("the full disk was reported with 503");
    assert!(!acknowledged.is_empty(), "some reports fit before the disk filled");
    assert!(refusal.to_string().contains("unavailable"), "{refusal}");

    for receipt in &acknowledged {
        let status = app.client.get(app.url(receipt["status_url"].as_str().unwrap())).send().await.unwrap();
        assert_eq!(status.status(), 200, "acknowledged report {} is still there", receipt["tracking_no"]);
    }
    let tickets = receiver.wait_for_tickets(acknowledged.len(), Duration::from_secs(20)).await;
    let client = reqwest::Client::new();
    photos_are_whole(&client, &tickets).await;

    // Space again: the server takes reports again without a restart.
    std::fs::remove_file(&filler).unwrap();
    let after = app.post_report(Some("after-space"), &manhole_report(), vec![jpeg(200, 150)]).await;
    assert_eq!(after.status(), 201, "accepted again once there is space");
}

/// The file pipeline on a disk that fills up while reports are forwarded: the deliveries
/// fail and are retried, a group of lines written halfway is cut off again, and once there
/// is room the file holds every acknowledged report once, each line whole.
#[tokio::test]
async fn a_full_pipeline_disk_leaves_only_whole_lines_and_every_report_once_when_space_returns() {
    let Some(disk) = SmallDisk::for_test(2, "full pipeline disk") else { return };
    let path = disk.dir.path().join("pipeline.jsonl");
    let app = spawn_app_in(tempfile::tempdir().unwrap(), |config| {
        config.pipeline = format!("file://{}", path.display());
        config.forwarder.poll_ms = 50;
        config.forwarder.retry_base_ms = 100;
        config.forwarder.retry_max_ms = 400;
        config.security.reports_per_minute = 100_000;
    })
    .await;
    // About 24 KB left: four of these reports' lines (about 6 KB each) fit, a group of
    // several does not.
    let filler = disk.fill_leaving(24_000);

    let mut acknowledged = HashSet::new();
    for index in 0..40 {
        let mut report = manhole_report();
        report["description"] = Value::from(format!("第{index}个井盖缺失，{}", "夜里很危险".repeat(370)));
        let response = app.post_report(Some(&format!("pipeline-full-{index}")), &report, vec![]).await;
        assert_eq!(response.status(), 201, "reports are taken while the pipeline's disk is full");
        acknowledged.insert(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stalled = app.state.store.outbox_stats().await.unwrap().pending;
    assert!(stalled > 0, "the full disk held some reports back");

    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.state.store.outbox_stats().await.unwrap().pending > 0 {
        assert!(Instant::now() < deadline, "the backlog was not delivered once there was room");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap_or_else(|error| panic!("a torn line in the pipeline file ({error}): {:.80}", line))["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), acknowledged.len(), "each report once");
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), acknowledged);
}

/// A TCP proxy in front of the PostgreSQL under test, to take the database away and bring
/// it back while the server runs.
struct DatabaseLink {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl DatabaseLink {
    async fn open(port: u16) -> DatabaseLink {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the proxy port is free");
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        DatabaseLink { port, task: Some(task) }
    }

    /// Cuts every connection and refuses new ones (dropping the accept loop drops its
    /// connections with it).
    fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_unreachable_reports_get_503_and_service_resumes_when_it_is_back() {
    let Some(direct) = crate::helpers::postgres_under_test() else {
        eprintln!("skipped: runs in the PostgreSQL pass (set LIANXIN_TEST_DATABASE)");
        return;
    };
    assert!(direct.contains("127.0.0.1:5432"), "the proxy stands in front of 127.0.0.1:5432, not {direct}");
    let data_dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::database_url_for(data_dir.path()).await.unwrap();
    let mut link = DatabaseLink::open(0).await;
    let through_link = url.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", link.port));
    let app = spawn_app_in(data_dir, |config| config.storage.database_url = through_link.as_str().into()).await;

    let before = app.post_report(Some("db-1"), &manhole_report(), vec![]).await;
    assert_eq!(before.status(), 201);
    let receipt: Value = before.json().await.unwrap();

    link.cut();
    let during = app.post_report(Some("db-2"), &manhole_report(), vec![]).await;
    assert_eq!(during.status(), 503, "no database: try later");
    assert!(during.text().await.unwrap().contains("unavailable"));

    let port = link.port;
    let _back = DatabaseLink::open(port).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let after = loop {
        let response = app.post_report(Some("db-2"), &manhole_report(), vec![]).await;
        if response.status() != 503 || Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(after.status(), 201, "the same report is taken once the database is back");
    let status = app.client.get(app.url(receipt["status_url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(status.status(), 200, "the report acknowledged before the outage is there");
    assert_eq!(app.stored_reports().await, 2);
}
